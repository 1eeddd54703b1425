# libs/geo: distances, travel time, the grid index against a brute-force scan.
aftersales_test(geo_test geo_test.cc)
target_link_libraries(geo_test PRIVATE aftersales_geo)
