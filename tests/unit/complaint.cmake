# Complaint grading, policy, lifecycle and statistics (SPEC §5).
aftersales_test(complaint_grading_test complaint_grading_test.cc)
target_link_libraries(complaint_grading_test PRIVATE complaint_lib)
target_compile_definitions(complaint_grading_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

aftersales_test(complaint_policy_test complaint_policy_test.cc)
target_link_libraries(complaint_policy_test PRIVATE complaint_lib)
target_compile_definitions(complaint_policy_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

aftersales_test(complaint_lifecycle_test complaint_lifecycle_test.cc)
target_link_libraries(complaint_lifecycle_test PRIVATE complaint_lib)
target_compile_definitions(complaint_lifecycle_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
