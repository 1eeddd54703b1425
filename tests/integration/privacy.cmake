# Privacy (SPEC §8, issue 11): PII encrypted at rest (grep of every RocksDB
# file), crypto-shredding erasure across intake/complaint/satisfaction with
# its report, consents, KEK rotation — real processes on loopback.
aftersales_test(privacy_integration_test privacy_integration_test.cc)
add_dependencies(privacy_integration_test intake complaint satisfaction)
