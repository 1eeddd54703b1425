# Intake rules: policy document, priority, compensation (SPEC §2.2, §2.4, §2.6).
aftersales_test(intake_policy_test intake_policy_test.cc)
target_link_libraries(intake_policy_test PRIVATE intake_lib)
target_compile_definitions(intake_policy_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

aftersales_test(intake_priority_test intake_priority_test.cc)
target_link_libraries(intake_priority_test PRIVATE intake_lib)
target_compile_definitions(intake_priority_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

aftersales_test(intake_compensation_test intake_compensation_test.cc)
target_link_libraries(intake_compensation_test PRIVATE intake_lib)
