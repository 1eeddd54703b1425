# Dispatch: eligibility, ranking, shifts, coverage and the policy (SPEC §3).
aftersales_test(dispatch_ranking_test dispatch_ranking_test.cc)
target_link_libraries(dispatch_ranking_test PRIVATE dispatch_lib)
# Until services/dispatch/CMakeLists.txt lists domain/ranking.cc in
# dispatch_lib, compile it into the test directly.
get_target_property(_dispatch_lib_sources dispatch_lib SOURCES)
if(NOT "domain/ranking.cc" IN_LIST _dispatch_lib_sources)
  target_sources(dispatch_ranking_test PRIVATE
    ${PROJECT_SOURCE_DIR}/services/dispatch/domain/ranking.cc)
  target_link_libraries(dispatch_ranking_test PRIVATE aftersales_geo)
endif()
