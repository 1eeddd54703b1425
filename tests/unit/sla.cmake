aftersales_test(sla_test sla_test.cc)
target_link_libraries(sla_test PRIVATE aftersales_sla)
