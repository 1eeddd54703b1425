# Field encryption at rest and crypto-shredding (libs/privacy, issue 11).
aftersales_test(privacy_test privacy_test.cc)
target_link_libraries(privacy_test PRIVATE aftersales_privacy)
