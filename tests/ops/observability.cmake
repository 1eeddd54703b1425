# Observability (issue 9): Prometheus rules checked and unit-tested with
# promtool (synthetic series), and a live test that scrapes the five real
# services during a demo day and evaluates every rule and dashboard query.
find_program(PROMTOOL promtool)
find_program(PROMETHEUS prometheus)
set(_obs_rules
  ${PROJECT_SOURCE_DIR}/deploy/prometheus/rules/aftersales-recording.rules.yml
  ${PROJECT_SOURCE_DIR}/deploy/prometheus/rules/aftersales-alerts.rules.yml)
if(PROMTOOL)
  add_test(NAME prometheus_rules_check
           COMMAND ${PROMTOOL} check rules ${_obs_rules})
  add_test(NAME prometheus_config_check
           COMMAND ${PROMTOOL} check config ${PROJECT_SOURCE_DIR}/deploy/prometheus/prometheus.yml)
  add_test(NAME prometheus_rules_unit_test
           COMMAND ${PROMTOOL} test rules
                   ${PROJECT_SOURCE_DIR}/deploy/prometheus/tests/recording_rules.test.yml
                   ${PROJECT_SOURCE_DIR}/deploy/prometheus/tests/alerts.test.yml)
  set_tests_properties(prometheus_rules_check prometheus_config_check prometheus_rules_unit_test
                       PROPERTIES TIMEOUT 120)
elseif(DEFINED ENV{CI})
  message(FATAL_ERROR "promtool not found (Debian package prometheus, deploy/local/packages.txt)")
else()
  message(WARNING "promtool not found: Prometheus rule tests not registered")
endif()
