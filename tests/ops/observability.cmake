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

# Live: prometheus scrapes the five real services during a demo day (free
# ports, own data and storage dirs), then every dashboard panel query and
# every rule expression must return series. RUN_SERIAL like demo_test: the
# demo plays a day on manual clocks and is timing-sensitive on 2 cores.
# obs_demo_extras files complaints and answers surveys after the demo day.
add_executable(obs_demo_extras ${CMAKE_CURRENT_SOURCE_DIR}/ops/obs_demo_extras.cc)
target_link_libraries(obs_demo_extras PRIVATE aftersales_proto gRPC::grpc++)
if(PROMETHEUS AND EXISTS /usr/bin/python3)
  add_test(NAME obs_live_query_test
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ops/obs_live_query_test.py
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/obs_live
                   $<TARGET_FILE:obs_demo_extras>)
  set_tests_properties(obs_live_query_test PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
elseif(DEFINED ENV{CI})
  message(FATAL_ERROR "prometheus not found (Debian package prometheus, deploy/local/packages.txt)")
endif()

# Intake's SPEC 7.2 metrics (Level 2 baseline, bounded regions, incidents).
aftersales_test(obs_intake_metrics_test ops/obs_intake_metrics_test.cc)
target_link_libraries(obs_intake_metrics_test PRIVATE intake_lib)
