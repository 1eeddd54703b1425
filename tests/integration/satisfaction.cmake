# The satisfaction service as a real process (manual clock), fed by scripted
# intake/complaint event logs; the aggregate check over 1,000 surveys; the
# journey through the real intake service.
aftersales_test(satisfaction_test satisfaction_test.cc)
add_dependencies(satisfaction_test satisfaction)

aftersales_test(satisfaction_aggregate_test satisfaction_aggregate_test.cc)
add_dependencies(satisfaction_aggregate_test satisfaction)

# Real intake and complaint processes around satisfaction.
aftersales_test(satisfaction_journey_test satisfaction_journey_test.cc)
add_dependencies(satisfaction_journey_test satisfaction intake complaint)
