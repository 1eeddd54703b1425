# Security tests (issue 11): the authorization matrix over every RPC of every
# service and role, object-level access and PII masking, and raw bad bytes at
# every port. Real service processes on loopback ports.
aftersales_test(authz_matrix_test authz_matrix_test.cc security_support.cc)
add_dependencies(authz_matrix_test intake dispatch parts complaint satisfaction)

aftersales_test(raw_bytes_test raw_bytes_test.cc security_support.cc)
add_dependencies(raw_bytes_test intake dispatch parts complaint satisfaction)
