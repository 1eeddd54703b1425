#ifndef AFTERSALES_TESTS_INTEGRATION_SECURITY_SUPPORT_H_
#define AFTERSALES_TESTS_INTEGRATION_SECURITY_SUPPORT_H_

// Shared by the security tests (authz_matrix_test, raw_bytes_test): the five
// services as real processes with seeded data, and a generic gRPC probe that
// calls any method (unary or streaming) with raw request bytes.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
#include "support/test_support.h"

namespace aftersales::testing {

// PII canaries: the contact data every seeded order carries. No response may
// contain them except to the assigned engineer after acceptance (SPEC §8).
inline constexpr char kCanaryPhone[] = "13812345678";
inline constexpr char kCanaryMaskedPhone[] = "138****5678";
inline constexpr char kCanaryAddress[] = "世纪大道100号";

// The outcome of one call.
struct ProbeResult {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;         // status message
  bool got_response = false;   // at least one response message arrived (code is then OK)
  std::string response;        // the first response message (raw bytes)
};

// Calls `method` ("/pkg.Service/Method") with `request` bytes as one
// message; works for unary and server-streaming methods alike (a streaming
// call is cancelled after its first message). An empty token sends no
// authorization header.
ProbeResult Probe(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& request, const std::string& token,
                  absl::Duration deadline = absl::Seconds(3));

// The proto descriptor of a service the test links (nullptr if unknown).
const google::protobuf::ServiceDescriptor* FindService(const std::string& full_name);

// The principals of the matrix, in column order: "partner-a", "partner-b",
// "engineer", "agent", "app", "service", "admin", "auditor", "none",
// "bad-token".
const std::vector<std::string>& MatrixPrincipals();
// The bearer token a matrix principal sends ("" for none).
std::string TokenOf(const TestTokens& tokens, const std::string& principal);

// Five services on manual clocks (so ClockAdmin is served too), intake and
// dispatch following each other's streams.
struct Suite {
  Suite();
  TempDir dir;
  TestTokens tokens{dir.path()};
  std::map<std::string, std::unique_ptr<ServiceProcess>> services;  // by name
  const std::string& token(const std::string& who) const { return tokens.token.at(who); }
  ServiceProcess& operator[](const std::string& name) { return *services.at(name); }
};

// The suite's service names in start order.
const std::vector<std::string>& ServiceNames();

// Monday 2026-11-23 10:00 in Shanghai: inside service hours.
extern const absl::Time kSuiteStart;

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_INTEGRATION_SECURITY_SUPPORT_H_
