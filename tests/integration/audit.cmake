# Audit log of a real service process (issue 11, docs/audit.md).
aftersales_test(audit_service_test audit_service_test.cc)
target_link_libraries(audit_service_test PRIVATE aftersales_store)
add_dependencies(audit_service_test intake aftersalesctl)
target_compile_definitions(audit_service_test PRIVATE
  AFTERSALESCTL_BINARY="$<TARGET_FILE:aftersalesctl>")
# Who caused each record: the RPC's principal, consumer:<producer> (docs/audit.md).
aftersales_test(audit_principal_test audit_principal_test.cc)
add_dependencies(audit_principal_test intake dispatch)
