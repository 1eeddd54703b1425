#ifndef AFTERSALES_LIBS_SERVER_FLAGS_H_
#define AFTERSALES_LIBS_SERVER_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"

// Settings every service takes. Each flag can also come from the environment
// as AFTERSALES_<FLAG NAME IN UPPER CASE> (e.g. AFTERSALES_GRPC_PORT=7001);
// the command line wins over the environment, the environment over defaults.
ABSL_DECLARE_FLAG(std::string, listen_host);
ABSL_DECLARE_FLAG(int, grpc_port);
ABSL_DECLARE_FLAG(int, metrics_port);
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::string, tokens_file);
ABSL_DECLARE_FLAG(std::string, service_token_file);
ABSL_DECLARE_FLAG(std::string, clock);
ABSL_DECLARE_FLAG(std::string, clock_start);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);
ABSL_DECLARE_FLAG(std::string, peer_tls_ca);
ABSL_DECLARE_FLAG(int, max_message_bytes);
ABSL_DECLARE_FLAG(std::string, port_file);
ABSL_DECLARE_FLAG(std::string, rate_limit_file);
ABSL_DECLARE_FLAG(int, max_inflight_calls);
ABSL_DECLARE_FLAG(int, max_server_threads);
ABSL_DECLARE_FLAG(int, health_port);
ABSL_DECLARE_FLAG(int, grpc_max_pollers);
ABSL_DECLARE_FLAG(std::string, intake_addr);
ABSL_DECLARE_FLAG(std::string, dispatch_addr);
ABSL_DECLARE_FLAG(std::string, parts_addr);
ABSL_DECLARE_FLAG(std::string, complaint_addr);
ABSL_DECLARE_FLAG(std::string, satisfaction_addr);

namespace aftersales::server {

// Sets every registered flag that has an AFTERSALES_<NAME> environment
// variable. Call before absl::ParseCommandLine so the command line wins.
// Returns false (and prints why) if a value does not parse.
bool ApplyEnvironmentToFlags();

// The configured address of a peer service ("intake", ...), or "".
std::string PeerAddressFlag(const std::string& service);

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_FLAGS_H_
