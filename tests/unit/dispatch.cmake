# Dispatch: eligibility, ranking, shifts, coverage and the policy (SPEC §3).
aftersales_test(dispatch_ranking_test dispatch_ranking_test.cc)
target_link_libraries(dispatch_ranking_test PRIVATE dispatch_lib)
