#include "server/host.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpc/grpc_security.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/audit_admin.h"
#include "server/flags.h"
#include "server/maintenance_admin.h"
#include "server/metrics_interceptor.h"
#include "server/rate_limit.h"
#include "store/principal_scope.h"

namespace aftersales::server {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace
}  // namespace aftersales::server

// gRPC 1.51's C++ API has no minimum-TLS-version option (it arrived in 1.55),
// but its core SSL server credentials do: this is the exported member
// grpc_ssl_server_credentials::set_min_tls_version of libgrpc.so, declared
// here by its mangled name's class so the linker finds it.
class grpc_ssl_server_credentials {
 public:
  void set_min_tls_version(grpc_tls_version min_tls_version);
};

namespace aftersales::server {
namespace {

// SSL server credentials that refuse anything below TLS 1.3 (SPEC §8). Built
// on the C core object, bound to ports through the public C API.
class Tls13ServerCredentials final : public grpc::ServerCredentials {
 public:
  Tls13ServerCredentials(const std::string& key, const std::string& cert,
                         const std::string& client_ca) {
    // The base class has initialised gRPC; the core object may be made now.
    grpc_ssl_pem_key_cert_pair pair = {key.c_str(), cert.c_str()};
    creds_ = grpc_ssl_server_credentials_create_ex(
        client_ca.empty() ? nullptr : client_ca.c_str(), &pair, 1,
        client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
        nullptr);
    if (creds_ != nullptr) {
      // grpc_ssl_server_credentials derives only from grpc_server_credentials.
      reinterpret_cast<grpc_ssl_server_credentials*>(creds_)->set_min_tls_version(TLS1_3);
    }
  }
  ~Tls13ServerCredentials() override {
    if (creds_ != nullptr) grpc_server_credentials_release(creds_);
  }
  bool ok() const { return creds_ != nullptr; }
  void SetAuthMetadataProcessor(
      const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), creds_);
  }
  grpc_server_credentials* creds_ = nullptr;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Create(
    const ServiceSpec& spec, int argc, char** argv) {
  // Block the shutdown signals before any library starts a thread, so every
  // thread inherits the mask and Run() alone receives them via sigwait.
  sigset_t signals = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian builds Abseil without NDEBUG, which leaves Mutex deadlock
  // detection on: a global lock and a graph update on every Mutex::Lock
  // (docs/benchmarks.md). Lock order is covered by the tests, not at run time.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::SetProgramUsageMessage(
      absl::StrCat("The ", spec.name, " service of the after-sales suite."));
  if (!ApplyEnvironmentToFlags()) {
    return absl::InvalidArgumentError("bad AFTERSALES_* environment value");
  }
  absl::ParseCommandLine(argc, argv);

  std::unique_ptr<ServiceHost> host(new ServiceHost(spec));

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("data_dir ", data_dir, ": ", ec.message()));
  }
  store::Store::Options store_options;
  store_options.path = data_dir;
  store_options.column_families = spec.column_families;
  auto store = store::Store::Open(store_options);
  if (!store.ok()) return store.status();
  host->store_ = *std::move(store);

  absl::Time start = absl::Now();
  if (const std::string s = absl::GetFlag(FLAGS_clock_start); !s.empty()) {
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, s, &start, &err)) {
      return absl::InvalidArgumentError(absl::StrCat("--clock_start: ", err));
    }
  }
  auto clock = MakeClock(absl::GetFlag(FLAGS_clock), start);
  if (!clock.ok()) return clock.status();
  host->clock_ = *std::move(clock);

  const std::string tokens_file = absl::GetFlag(FLAGS_tokens_file);
  if (tokens_file.empty()) {
    return absl::InvalidArgumentError("--tokens_file is required");
  }
  auto tokens = auth::TokenRegistry::LoadFile(tokens_file);
  if (!tokens.ok()) return tokens.status();
  host->tokens_ = *std::move(tokens);

  if (const std::string f = absl::GetFlag(FLAGS_service_token_file); !f.empty()) {
    auto token = ReadFile(f);
    if (!token.ok()) return token.status();
    host->service_token_ = std::string(absl::StripAsciiWhitespace(*token));
  }

  host->registry_ = std::make_shared<prometheus::Registry>();
  auto endpoint = metrics::Endpoint::Start(absl::GetFlag(FLAGS_listen_host),
                                           absl::GetFlag(FLAGS_metrics_port),
                                           host->registry_);
  if (!endpoint.ok()) return endpoint.status();
  host->metrics_endpoint_ = *std::move(endpoint);

  host->event_stream_ = std::make_unique<events::EventStreamService>(
      host->store_.get(), &host->tokens_, &host->stop_);
  if (host->store_->audit() != nullptr) {  // tamper evidence (docs/audit.md)
    host->services_.push_back(std::make_unique<AuditLogService>(
        spec.name, host->store_.get(), &host->tokens_, host->registry_.get()));
  }
  host->event_stream_->ExportMetrics(host->registry_.get());
  host->services_.push_back(std::make_unique<MaintenanceService>(
      spec.name, host->store_.get(), &host->tokens_, host->clock_.get(),
      MaintenanceService::BackupRootFlag()));
  if (host->clock_->manual()) {
    host->clock_admin_ = std::make_unique<ClockAdminService>(
        static_cast<ManualClock*>(host->clock_.get()), &host->tokens_);
  }
  return host;
}

ServiceHost::~ServiceHost() {
  stop_.Stop();
  if (clock_) clock_->Shutdown();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // Then members die in reverse order: services and owned objects before the
  // store, which closes RocksDB (every acknowledged write was already synced).
}

void ServiceHost::AddService(std::unique_ptr<grpc::Service> service) {
  services_.push_back(std::move(service));
}

absl::Status ServiceHost::AddConsumer(const std::string& producer,
                                      events::ApplyFn apply) {
  const std::string target = PeerAddressFlag(producer);
  if (target.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--", producer, "_addr is required: ", spec_.name,
                     " consumes ", producer, "'s events"));
  }
  if (service_token_.empty()) {
    return absl::FailedPreconditionError(
        "--service_token_file is required to read peer event streams");
  }
  events::ConsumerOptions options;
  options.name = absl::StrCat(spec_.name, "<-", producer);
  options.target = target;
  options.credentials = PeerCredentials();
  options.token = service_token_;
  consumers_.push_back(std::make_unique<events::EventConsumer>(
      store_.get(), std::move(options), std::move(apply), registry_.get()));
  return absl::OkStatus();
}

bool ServiceHost::HasPeer(const std::string& service) const {
  return !PeerAddressFlag(service).empty();
}

void ServiceHost::AddBackgroundLoop(std::function<void()> loop) {
  loops_.push_back(std::move(loop));
}

std::shared_ptr<grpc::ChannelCredentials> ServiceHost::PeerCredentials() const {
  const std::string ca_file = absl::GetFlag(FLAGS_peer_tls_ca);
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  auto ca = ReadFile(ca_file);
  if (ca.ok()) options.pem_root_certs = *ca;
  if (!absl::GetFlag(FLAGS_tls_cert).empty()) {
    // Mutual TLS: present this service's own certificate to peers.
    auto cert = ReadFile(absl::GetFlag(FLAGS_tls_cert));
    auto key = ReadFile(absl::GetFlag(FLAGS_tls_key));
    if (cert.ok() && key.ok()) {
      options.pem_cert_chain = *cert;
      options.pem_private_key = *key;
    }
  }
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
ServiceHost::ServerCredentials() const {
  const std::string cert_file = absl::GetFlag(FLAGS_tls_cert);
  if (cert_file.empty()) return grpc::InsecureServerCredentials();
  auto cert = ReadFile(cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadFile(absl::GetFlag(FLAGS_tls_key));
  if (!key.ok()) return key.status();
  std::string client_ca;
  if (const std::string ca_file = absl::GetFlag(FLAGS_tls_client_ca);
      !ca_file.empty()) {
    auto ca = ReadFile(ca_file);
    if (!ca.ok()) return ca.status();
    client_ca = *ca;  // mutual TLS: clients must present a cert it signed
  }
  auto credentials = std::make_shared<Tls13ServerCredentials>(*key, *cert, client_ca);
  if (!credentials->ok()) {
    return absl::InvalidArgumentError("--tls_cert/--tls_key: unusable TLS credentials");
  }
  return credentials;
}

absl::Status ServiceHost::WritePortFile(int grpc_port) const {
  const std::string path = absl::GetFlag(FLAGS_port_file);
  if (path.empty()) return absl::OkStatus();
  // Written whole then renamed, so a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "grpc_port=" << grpc_port << "\n"
        << "metrics_port=" << metrics_endpoint_->port() << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename to ", path));
  }
  return absl::OkStatus();
}

int ServiceHost::Run() {
  auto credentials = ServerCredentials();
  if (!credentials.ok()) {
    std::cerr << spec_.name << ": " << credentials.status() << std::endl;
    return 1;
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int grpc_port = 0;
  const std::string address = absl::StrCat(absl::GetFlag(FLAGS_listen_host), ":",
                                           absl::GetFlag(FLAGS_grpc_port));
  builder.AddListeningPort(address, *credentials, &grpc_port);
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_message_bytes));
  // gRPC's default (at most 2 idle pollers) makes a thread exit after every
  // call that blocked on a synced commit and a new one start for the next:
  // one clone() per call under load. Idle pollers cost only a stack.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(1, absl::GetFlag(FLAGS_grpc_max_pollers)));
  if (const int threads = absl::GetFlag(FLAGS_max_server_threads); threads > 0) {
    grpc::ResourceQuota quota(absl::StrCat(spec_.name, "-quota"));
    builder.SetResourceQuota(quota.SetMaxThreads(threads));
  }
  // Admission control (rate_limit.h): per-principal token buckets from
  // --rate_limit_file and the --max_inflight_calls bound, asked by every
  // rpc::AuthorizeCall. Refills follow real time even under a manual clock.
  RateLimiter::Options limiter_options;
  limiter_options.service = spec_.name;
  limiter_options.max_inflight = absl::GetFlag(FLAGS_max_inflight_calls);
  const std::string rate_limit_file = absl::GetFlag(FLAGS_rate_limit_file);
  if (!rate_limit_file.empty()) {
    auto policy = LoadRateLimitPolicy(rate_limit_file);
    if (!policy.ok()) {
      std::cerr << spec_.name << ": " << policy.status() << std::endl;
      return 1;
    }
    limiter_options.policy = *std::move(policy);
  }
  RealClock limiter_clock;
  RateLimiter limiter(std::move(limiter_options), &limiter_clock, registry_.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<MetricsInterceptorFactory>(*registry_));
  interceptors.push_back(limiter.InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  std::vector<std::string> service_names = {"aftersales.v1.EventStream"};
  builder.RegisterService(event_stream_.get());
  if (clock_admin_) {
    builder.RegisterService(clock_admin_.get());
    service_names.push_back("aftersales.v1.ClockAdmin");
  }
  for (auto& s : services_) builder.RegisterService(s.get());

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || grpc_port == 0) {
    std::cerr << spec_.name << ": cannot listen on " << address << std::endl;
    return 1;
  }
  rpc::SetCallAdmission(&limiter);
  // The default health service answers "" (whole server) as SERVING; name
  // the shared services too so probes may ask for them.
  for (const std::string& n : service_names) {
    server->GetHealthCheckService()->SetServingStatus(n, true);
  }
  // Health alone on a plaintext port, for probes that cannot do TLS; it
  // mirrors the main server (SERVING now, NOT_SERVING from shutdown on).
  std::unique_ptr<grpc::Server> health_server;
  if (const int port = absl::GetFlag(FLAGS_health_port); port > 0) {
    grpc::ServerBuilder health_builder;
    health_builder.AddListeningPort(
        absl::StrCat(absl::GetFlag(FLAGS_listen_host), ":", port),
        grpc::InsecureServerCredentials());
    health_server = health_builder.BuildAndStart();
    if (!health_server) {
      std::cerr << spec_.name << ": cannot listen on health port " << port << std::endl;
      return 1;
    }
  }

  for (auto& consumer : consumers_) {
    events::EventConsumer* c = consumer.get();
    threads_.emplace_back([this, c] { c->Run(stop_); });
  }
  // A loop's commits are audited as "system:background" (one loop per service).
  for (auto& loop : loops_) {
    threads_.emplace_back([loop] {
      store::PrincipalScope principal("system:background");
      loop();
    });
  }
  // Consumers' lag as seen from this producer, also while they are down.
  threads_.emplace_back([this] {
    do {
      event_stream_->RefreshMetrics();
    } while (!stop_.WaitFor(absl::Seconds(1)));
  });

  if (absl::Status s = WritePortFile(grpc_port); !s.ok()) {
    std::cerr << spec_.name << ": " << s << std::endl;
  }
  std::cout << spec_.name << ": serving gRPC on " << absl::GetFlag(FLAGS_listen_host)
            << ":" << grpc_port << ", metrics on http://"
            << absl::GetFlag(FLAGS_listen_host) << ":" << metrics_endpoint_->port()
            << "/metrics, clock " << (clock_->manual() ? "manual" : "real")
            << std::endl;

  sigset_t signals = ShutdownSignals();
  int sig = 0;
  while (true) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    std::cout << spec_.name << ": SIGHUP, reloading" << std::endl;
    for (auto& hook : reload_hooks_) hook();
    if (!rate_limit_file.empty()) {
      auto policy = LoadRateLimitPolicy(rate_limit_file);
      if (policy.ok()) limiter.SetPolicy(*std::move(policy));
      std::cout << spec_.name << ": rate limits reload: "
                << (policy.ok() ? "ok" : policy.status().ToString()) << std::endl;
    }
  }
  std::cout << spec_.name << ": signal " << sig << ", shutting down" << std::endl;

  server->GetHealthCheckService()->Shutdown();  // probes now see NOT_SERVING
  if (health_server) health_server->GetHealthCheckService()->Shutdown();
  stop_.Stop();          // ends event streams and consumers
  clock_->Shutdown();    // wakes timers
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  rpc::SetCallAdmission(nullptr);
  if (health_server) health_server->Shutdown(std::chrono::system_clock::now());
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  std::cout << spec_.name << ": stopped" << std::endl;
  return 0;
}

int RunService(const ServiceSpec& spec, int argc, char** argv,
               const std::function<absl::Status(ServiceHost&)>& setup) {
  auto host = ServiceHost::Create(spec, argc, argv);
  if (!host.ok()) {
    std::cerr << spec.name << ": " << host.status() << std::endl;
    return 1;
  }
  if (absl::Status s = setup(**host); !s.ok()) {
    std::cerr << spec.name << ": " << s << std::endl;
    return 1;
  }
  return (*host)->Run();
}

}  // namespace aftersales::server
