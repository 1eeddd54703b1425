# Capacity benchmark of dispatch, parts, complaint and satisfaction with 1M
# records (issue 10, docs/capacity.md). Included from bench/CMakeLists.txt.
#   build/bench/capacity_loader    fills a data dir through the services' own cores
#   build/bench/capacity_traffic   ~10 s of reads and writes against one service
#   bench/capacity/run.sh          load once, restart twice, measure SERVING time and RSS
set(_capacity_dir ${CMAKE_CURRENT_SOURCE_DIR}/capacity)

add_executable(capacity_loader ${_capacity_dir}/loader.cc)
target_include_directories(capacity_loader PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
# The services' allocator (jemalloc, libs/server/malloc_conf.cc): the loader runs their
# code, and with glibc's malloc ~16% of a complaint load was the allocator.
target_link_libraries(capacity_loader PRIVATE dispatch_lib parts_lib complaint_lib
  satisfaction_lib absl::flags absl::strings absl::str_format aftersales_malloc)

add_executable(capacity_traffic ${_capacity_dir}/traffic.cc)
target_link_libraries(capacity_traffic PRIVATE aftersales_proto gRPC::grpc++ absl::flags
  absl::flags_parse absl::strings absl::str_format Threads::Threads)

add_executable(capacity_inspect ${_capacity_dir}/inspect.cc)
target_link_libraries(capacity_inspect PRIVATE RocksDB::rocksdb-shared)

# Faithfulness check (compare.sh): the loader's recorded calls through a real
# service process; intake's events via the tests' real event stream.
add_executable(capacity_replay ${_capacity_dir}/replay.cc
  ${PROJECT_SOURCE_DIR}/tests/support/event_producer.cc)
target_include_directories(capacity_replay PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(capacity_replay PRIVATE aftersales_events aftersales_auth aftersales_rpc
  aftersales_proto gRPC::grpc++ absl::flags absl::flags_parse absl::strings absl::time)

# Smoke tests (behaviour, never speed): 2,000 records per service through the
# loader (data on tmpfs), then the real service restarted on them must reach
# SERVING and answer reads of the first and last loaded record.
foreach(_svc complaint parts satisfaction dispatch)
  add_test(NAME capacity_smoke_${_svc}
           COMMAND bash ${_capacity_dir}/run.sh --smoke --records 2000 --services ${_svc}
                   --build-dir ${CMAKE_BINARY_DIR} --data-root /dev/shm)
  set_tests_properties(capacity_smoke_${_svc} PROPERTIES TIMEOUT 60)
endforeach()
# Faithfulness: 300 records created by the loader and the same calls sent
# through the real service over gRPC give the same rows per record in every
# column family (dispatch is left to compare.sh by hand: its replay takes minutes).
add_test(NAME capacity_faithful_compare
         COMMAND bash ${_capacity_dir}/compare.sh --check --records 300
                 --services "complaint parts satisfaction" --build-dir ${CMAKE_BINARY_DIR})
set_tests_properties(capacity_faithful_compare PROPERTIES TIMEOUT 90)
