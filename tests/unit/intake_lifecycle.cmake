# Intake lifecycle: state machine, SLA clocks, sweeps, events (SPEC §2.3, §2.4, §2.6).
aftersales_test(intake_lifecycle_test intake_lifecycle_test.cc)
target_link_libraries(intake_lifecycle_test PRIVATE intake_lib)
