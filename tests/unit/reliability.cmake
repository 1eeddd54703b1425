# Reliability (issue 11): the admission control of every RPC (rate limits,
# in-flight bound), driven by a manual clock.
aftersales_test(rate_limit_test rate_limit_test.cc)
target_link_libraries(rate_limit_test PRIVATE aftersales_server)
