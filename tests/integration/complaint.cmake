# The complaint service as a real process (SPEC §5): deadlines and escalation
# on a manual clock, the lifecycle over gRPC, bad input, statistics; and with
# the real intake process: SLA-breach context, detractor complaints, ledger.
aftersales_test(complaint_test complaint_test.cc)
add_dependencies(complaint_test complaint intake)

aftersales_test(complaint_flow_test complaint_flow_test.cc)
add_dependencies(complaint_flow_test complaint intake)
