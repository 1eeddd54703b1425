# Reliability (issue 11): the admission control of every RPC (rate limits,
# in-flight bound), driven by a manual clock.
aftersales_test(rate_limit_test rate_limit_test.cc)
target_link_libraries(rate_limit_test PRIVATE aftersales_server)

# Deferred sync of event consumers (issue 10, docs/reliability.md): the store's
# CommitDeferred/SyncDeferred, a consumer over 2,000 events, and a consumer
# child process killed with SIGKILL mid-stream.
add_executable(consumer_crash_child ${CMAKE_CURRENT_SOURCE_DIR}/consumer_crash_child.cc)
target_link_libraries(consumer_crash_child PRIVATE aftersales_events)
aftersales_test(consumer_deferred_test consumer_deferred_test.cc)
target_link_libraries(consumer_deferred_test PRIVATE aftersales_events)
add_dependencies(consumer_deferred_test consumer_crash_child)
target_compile_definitions(consumer_deferred_test PRIVATE
  CONSUMER_CRASH_CHILD="$<TARGET_FILE:consumer_crash_child>")
