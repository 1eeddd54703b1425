#ifndef AFTERSALES_LIBS_SERVER_HOST_H_
#define AFTERSALES_LIBS_SERVER_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/auth.h"
#include "clock/clock.h"
#include "clock/stop_signal.h"
#include "events/consumer.h"
#include "events/event_stream.h"
#include "grpcpp/grpcpp.h"
#include "metrics/metrics.h"
#include "prometheus/registry.h"
#include "server/clock_admin.h"
#include "store/store.h"

namespace aftersales::server {

// What a service tells the bootstrap about itself.
struct ServiceSpec {
  std::string name;  // "intake", "dispatch", ...: metrics, logs, cursors
  std::vector<std::string> column_families;  // its RocksDB tables and indexes
};

// The one bootstrap every service's main() uses. Create() reads the flags
// (command line over AFTERSALES_* environment over defaults), opens the store,
// the clock, the token registry and the /metrics endpoint. The service then
// adds its gRPC services, event consumers and background loops, and Run()
// serves them with health, reflection, metrics, auth-ready context, its event
// stream and (manual clock only) ClockAdmin, until SIGTERM/SIGINT.
class ServiceHost {
 public:
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Create(
      const ServiceSpec& spec, int argc, char** argv);
  ~ServiceHost();

  const std::string& name() const { return spec_.name; }
  store::Store& store() { return *store_; }
  Clock& clock() { return *clock_; }
  prometheus::Registry& registry() { return *registry_; }
  const auth::TokenRegistry& tokens() const { return tokens_; }
  StopSignal& stop() { return stop_; }

  // Serves `service` from Run() on; the host keeps it alive.
  void AddService(std::unique_ptr<grpc::Service> service);

  // Keeps `object` (a domain helper the services or consumers share) alive
  // as long as the host, and destroys it before the store closes.
  template <typename T>
  T* Own(std::unique_ptr<T> object) {
    T* raw = object.get();
    owned_.push_back(std::shared_ptr<T>(std::move(object)));
    return raw;
  }

  // Follows the event log of the peer service `producer` ("intake", ...),
  // whose address comes from --<producer>_addr, applying each event once.
  // FAILED_PRECONDITION if the address or this service's token is missing.
  absl::Status AddConsumer(const std::string& producer, events::ApplyFn apply);

  // Runs `hook` when the process gets SIGHUP (e.g. reload the policy file).
  void OnReload(std::function<void()> hook) { reload_hooks_.push_back(std::move(hook)); }

  // True if --<service>_addr names the peer.
  bool HasPeer(const std::string& service) const;

  // Runs `loop` on its own thread while serving; it must return soon after
  // stop() fires (wait on clock().WaitUntil or stop().WaitFor, not sleep).
  void AddBackgroundLoop(std::function<void()> loop);

  // Serves until SIGTERM/SIGINT (SIGHUP runs the reload hooks), then: health NOT_SERVING, stop accepting,
  // drain calls (5 s), stop loops and consumers, close the store. Returns the
  // process exit code (0 on a clean shutdown).
  int Run();

  // Client credentials for calls to peer services (TLS if --peer_tls_ca).
  std::shared_ptr<grpc::ChannelCredentials> PeerCredentials() const;
  const std::string& service_token() const { return service_token_; }

 private:
  explicit ServiceHost(ServiceSpec spec) : spec_(std::move(spec)) {}
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials() const;
  absl::Status WritePortFile(int grpc_port) const;

  ServiceSpec spec_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Clock> clock_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<metrics::Endpoint> metrics_endpoint_;
  auth::TokenRegistry tokens_;
  std::string service_token_;
  StopSignal stop_;

  std::unique_ptr<events::EventStreamService> event_stream_;
  std::unique_ptr<ClockAdminService> clock_admin_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::vector<std::shared_ptr<void>> owned_;  // declared after store_: dies first
  std::vector<std::unique_ptr<events::EventConsumer>> consumers_;
  std::vector<std::function<void()>> loops_;
  std::vector<std::function<void()>> reload_hooks_;
  std::vector<std::thread> threads_;
};

// main() of a service: Create the host, let `setup` register the service's
// parts, Run. Prints the reason and returns 1 if start-up fails.
int RunService(const ServiceSpec& spec, int argc, char** argv,
               const std::function<absl::Status(ServiceHost&)>& setup);

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_HOST_H_
