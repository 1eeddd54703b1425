# Load generator, bare echo baseline and capacity tools (issue 10).
# Included from bench/CMakeLists.txt; binaries land in build/bench/.
#   build/bench/loadgen         async gRPC load generator (CreateOrder)
#   build/bench/echo_server     the same bootstrap serving CreateOrder with no storage
#   bench/loadgen/run_benchmarks.sh   echo vs. the real services in one run
set(_loadgen_dir ${CMAKE_CURRENT_SOURCE_DIR}/loadgen)

# grpc_probe.cc: the hand-encoded grpc.health.v1 client the tests use.
add_executable(loadgen ${_loadgen_dir}/loadgen.cc ${PROJECT_SOURCE_DIR}/tests/support/grpc_probe.cc)
target_include_directories(loadgen PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(loadgen PRIVATE aftersales_proto gRPC::grpc++ absl::flags
  absl::flags_parse absl::strings absl::str_format Threads::Threads)

add_executable(echo_server ${_loadgen_dir}/echo_server.cc)
target_link_libraries(echo_server PRIVATE aftersales_server aftersales_malloc)  # the services' allocator too

# Smoke test only (no speed asserted): ~2 s of load against the echo server
# must report a nonzero throughput and ordered percentiles.
add_test(NAME loadgen_smoke
         COMMAND bash ${_loadgen_dir}/smoke_test.sh $<TARGET_FILE:loadgen>
                 $<TARGET_FILE:echo_server>)
set_tests_properties(loadgen_smoke PROPERTIES TIMEOUT 60)
