aftersales_test(journey_test journey_test.cc)
add_dependencies(journey_test intake dispatch parts complaint satisfaction)
