# Satisfaction domain: scorecards and windows, survey rules, rating, churn,
# SQI, and the policy document (SPEC §6).
aftersales_test(satisfaction_domain_test satisfaction_domain_test.cc)
target_link_libraries(satisfaction_domain_test PRIVATE satisfaction_lib)
target_compile_definitions(satisfaction_domain_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

aftersales_test(satisfaction_rules_test satisfaction_rules_test.cc)
target_link_libraries(satisfaction_rules_test PRIVATE satisfaction_lib)
target_compile_definitions(satisfaction_rules_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
