# Hash-chained audit log of libs/store (issue 11, docs/audit.md).
aftersales_test(audit_test audit_test.cc)
target_link_libraries(audit_test PRIVATE aftersales_store)
add_dependencies(audit_test store_crash_writer)
target_compile_definitions(audit_test PRIVATE
  STORE_CRASH_WRITER="$<TARGET_FILE:store_crash_writer>")
