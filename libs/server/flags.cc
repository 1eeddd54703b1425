#include "server/flags.h"

#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Address to bind gRPC and metrics on (0.0.0.0 in containers)");
ABSL_FLAG(int, grpc_port, 0, "gRPC port; 0 picks a free port");
ABSL_FLAG(int, metrics_port, 0, "Prometheus /metrics port; 0 picks a free port");
ABSL_FLAG(std::string, data_dir, "", "RocksDB directory of this service (required)");
ABSL_FLAG(std::string, tokens_file, "",
          "Accepted bearer tokens as SHA-256 hashes (see libs/auth/auth.h)");
ABSL_FLAG(std::string, service_token_file, "",
          "File holding this service's own bearer token, used to call peers");
ABSL_FLAG(std::string, clock, "real",
          "\"real\", or \"manual\" for tests/simulations (enables ClockAdmin)");
ABSL_FLAG(std::string, clock_start, "",
          "Start time of a manual clock, RFC 3339; default: real time at start");
ABSL_FLAG(std::string, tls_cert, "", "PEM server certificate; empty = plaintext");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA; when set, clients must present a certificate it signed (mTLS)");
ABSL_FLAG(std::string, peer_tls_ca, "",
          "PEM CA to verify peer services; empty = plaintext to peers");
ABSL_FLAG(int, max_message_bytes, 1 << 20,
          "Largest request accepted; larger ones get RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, port_file, "",
          "If set, the bound ports are written here once serving (for tests)");
ABSL_FLAG(std::string, rate_limit_file, "",
          "Per-principal rate limits (libs/server/rate_limit.h; e.g. "
          "deploy/policies/rate_limits.txt); empty = no per-principal limit. "
          "Reloaded on SIGHUP");
ABSL_FLAG(int, max_inflight_calls, 256,
          "Admitted unary calls running at once; more get RESOURCE_EXHAUSTED "
          "at once (0 = no bound)");
ABSL_FLAG(int, max_server_threads, 0,
          "gRPC ResourceQuota thread cap of the server (0 = gRPC's default); "
          "calls beyond it get RESOURCE_EXHAUSTED from gRPC itself");
ABSL_FLAG(int, health_port, 0,
          "Plaintext port serving only grpc.health.v1.Health (Kubernetes gRPC "
          "probes cannot speak TLS); 0 = none");
ABSL_FLAG(int, grpc_max_pollers, 64,
          "Idle threads the gRPC sync server keeps polling for calls; above "
          "this a thread that finished a call exits (docs/benchmarks.md)");
ABSL_FLAG(std::string, intake_addr, "", "host:port of the intake service");
ABSL_FLAG(std::string, dispatch_addr, "", "host:port of the dispatch service");
ABSL_FLAG(std::string, parts_addr, "", "host:port of the parts service");
ABSL_FLAG(std::string, complaint_addr, "", "host:port of the complaint service");
ABSL_FLAG(std::string, satisfaction_addr, "",
          "host:port of the satisfaction service");

namespace aftersales::server {

bool ApplyEnvironmentToFlags() {
  bool ok = true;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string var =
        absl::StrCat("AFTERSALES_", absl::AsciiStrToUpper(name));
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::cerr << var << ": " << error << std::endl;
      ok = false;
    }
  }
  return ok;
}

std::string PeerAddressFlag(const std::string& service) {
  if (service == "intake") return absl::GetFlag(FLAGS_intake_addr);
  if (service == "dispatch") return absl::GetFlag(FLAGS_dispatch_addr);
  if (service == "parts") return absl::GetFlag(FLAGS_parts_addr);
  if (service == "complaint") return absl::GetFlag(FLAGS_complaint_addr);
  if (service == "satisfaction") return absl::GetFlag(FLAGS_satisfaction_addr);
  return "";
}

}  // namespace aftersales::server
