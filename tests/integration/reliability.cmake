# Reliability (issue 11): crash loop, one-minute outages of each service,
# overload. Real service processes; the binaries must be built first.
aftersales_test(crash_loop_test crash_loop_test.cc)
add_dependencies(crash_loop_test intake dispatch)

aftersales_test(overload_test overload_test.cc)
add_dependencies(overload_test intake)

# One ctest test per service (each TEST_CASE), so `ctest -j2` runs two
# outages at once. AFTERSALES_OUTAGE_SECONDS shortens them for local runs.
aftersales_test(outage_test outage_test.cc)
add_dependencies(outage_test intake dispatch parts complaint satisfaction)
