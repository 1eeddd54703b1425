# The parts service as a real process (with a real intake for the backorder
# journey), and the 32-thread concurrency run through its gRPC API.
aftersales_test(parts_test parts_test.cc)
add_dependencies(parts_test parts intake)

aftersales_test(parts_concurrency_test parts_concurrency_test.cc)
add_dependencies(parts_concurrency_test parts)
