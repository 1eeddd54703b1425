# Simulated city day through the real services (issue 10). Full run:
#   bench/citysim/run.sh            (see docs/citysim.md)
# The driver: seeds the city, plays the day on manual clocks, writes JSON.
add_executable(citysim
  ${CMAKE_CURRENT_SOURCE_DIR}/citysim/citysim.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/citysim/city.cc)
target_include_directories(citysim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                                           ${PROJECT_SOURCE_DIR}/libs)
target_link_libraries(citysim PRIVATE aftersales_suite_client
  aftersales_proto aftersales_rpc aftersales_geo gRPC::grpc++ protobuf::libprotobuf
  absl::flags absl::flags_parse absl::flags_usage absl::strings absl::str_format absl::time)

# Smoke test: a tiny city (50 engineers, ~100 orders) through all five real
# services, once with the suite's dispatch policy and once with the
# nearest-engineer baseline, then checks the reports (behaviour, never speed).
add_test(NAME citysim_smoke_test
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/citysim/run.sh --no-build --smoke
                 --build-dir ${CMAKE_BINARY_DIR}
                 --out ${CMAKE_CURRENT_BINARY_DIR}/citysim_smoke)
set_tests_properties(citysim_smoke_test PROPERTIES TIMEOUT 120)
add_custom_target(citysim_smoke_test_deps
  DEPENDS citysim intake dispatch parts complaint satisfaction)
