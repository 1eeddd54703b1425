# Parts inventory (SPEC §4): domain rules, and the core over a real store.
aftersales_test(parts_domain_test parts_domain_test.cc)
target_link_libraries(parts_domain_test PRIVATE parts_lib)
target_compile_definitions(parts_domain_test PRIVATE
  AFTERSALES_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

aftersales_test(parts_core_test parts_core_test.cc)
target_link_libraries(parts_core_test PRIVATE parts_lib)
