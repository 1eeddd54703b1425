#include "support/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "auth/auth.h"
#include "support/grpc_probe.h"

namespace aftersales::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = absl::StrCat(base ? base : "/tmp", "/aftersales-test-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestTokens::TestTokens(const std::string& dir) {
  struct Entry {
    const char* name;
    const char* line;  // principal id, role and attributes
  };
  const Entry entries[] = {
      {"admin", "admin-1 admin"},
      {"agent", "agent-1 agent"},
      {"app", "app-1 app"},
      {"service", "svc-suite service"},
      {"auditor", "auditor-1 auditor"},
      {"partner-a", "partner-a partner partner=PA"},
      {"partner-b", "partner-b partner partner=PB"},
      {"engineer", "engineer-1 engineer partner=PA engineer=E1"},
  };
  file = dir + "/tokens.txt";
  service_token_file = dir + "/service.token";
  std::ofstream out(file);
  out << "# test principals\n";
  for (const Entry& e : entries) {
    std::string plain = absl::StrCat("test-token-", e.name, "-", getpid());
    token[e.name] = plain;
    out << "sha256:" << auth::Sha256Hex(plain) << " " << e.line << "\n";
  }
  std::ofstream(service_token_file) << token["service"] << "\n";
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::string& log_file) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test that crashes never runs its destructors: the service must not
    // outlive it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    // The test runner may block signals; the service must get its own.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    Kill(SIGKILL);
    Wait();
  }
}

bool ChildProcess::running() {
  if (reaped_ || pid_ <= 0) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

void ChildProcess::Kill(int signal) {
  if (!reaped_ && pid_ > 0) kill(pid_, signal);
}

int ChildProcess::Wait() {
  if (!reaped_) {
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

std::string ServiceBinary(const std::string& name) {
  const char* dir = getenv("AFTERSALES_BIN_DIR");
  return absl::StrCat(dir ? dir : AFTERSALES_DEFAULT_BIN_DIR, "/", name, "/", name);
}

std::string SourcePath(const std::string& relative) {
  const char* dir = getenv("AFTERSALES_SOURCE_DIR");
  return absl::StrCat(dir ? dir : AFTERSALES_DEFAULT_SOURCE_DIR, "/", relative);
}

ServiceProcess::ServiceProcess(Options options) : options_(std::move(options)) {
  grpc_port_ = options_.grpc_port;
  Start();
}

ServiceProcess::~ServiceProcess() {
  if (process_ && process_->running()) Stop();
}

void ServiceProcess::Start() {
  ++starts_;
  const std::string base =
      absl::StrCat(options_.data_dir, ".", options_.name);
  log_file_ = base + ".log";
  port_file_ = absl::StrCat(base, ".ports.", starts_);
  // A file left by an earlier process on the same data must not be read as ours.
  std::remove(port_file_.c_str());
  std::vector<std::string> argv = {
      ServiceBinary(options_.name),
      "--data_dir=" + options_.data_dir,
      "--tokens_file=" + options_.tokens->file,
      "--service_token_file=" + options_.tokens->service_token_file,
      absl::StrCat("--grpc_port=", grpc_port_),
      "--metrics_port=0",
      "--port_file=" + port_file_,
      std::string("--clock=") + (options_.manual_clock ? "manual" : "real"),
  };
  // Services with a versioned policy get the shipped one (run.sh does the same).
  const std::string policy = SourcePath("deploy/policies/" + options_.name + ".textproto");
  if (std::filesystem::exists(policy)) argv.push_back("--policy_file=" + policy);
  for (const auto& [peer, addr] : options_.peers) {
    argv.push_back(absl::StrCat("--", peer, "_addr=", addr));
  }
  for (const std::string& f : options_.extra_flags) argv.push_back(f);
  process_ = std::make_unique<ChildProcess>(argv, log_file_);

  const bool up = Eventually(
      [&] {
        std::ifstream in(port_file_);
        if (!in) return !process_->running();  // stop waiting if it died
        std::string line;
        while (std::getline(in, line)) {
          std::vector<std::string> kv = absl::StrSplit(line, '=');
          if (kv.size() != 2) continue;
          int v = 0;
          if (!absl::SimpleAtoi(kv[1], &v)) continue;
          if (kv[0] == "grpc_port") grpc_port_ = v;
          if (kv[0] == "metrics_port") metrics_port_ = v;
        }
        return true;
      },
      absl::Seconds(30));
  if (!up || !process_->running() || grpc_port_ == 0) {
    throw std::runtime_error(absl::StrCat(options_.name, " did not start; see ",
                                          log_file_));
  }
  address_ = absl::StrCat("127.0.0.1:", grpc_port_);
  if (!Eventually([&] { return HealthStatus(channel(), "") == 1; },
                  absl::Seconds(30))) {
    throw std::runtime_error(absl::StrCat(options_.name, " not SERVING"));
  }
}

int ServiceProcess::Stop() {
  process_->Kill(SIGTERM);
  return process_->Wait();
}

void ServiceProcess::Kill() {
  process_->Kill(SIGKILL);
  process_->Wait();
}

void ServiceProcess::Restart() {
  if (process_->running()) Stop();
  Start();
}

std::shared_ptr<grpc::Channel> ServiceProcess::channel() const {
  if (options_.client_tls_ca.empty()) {
    return grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFileOrEmpty(options_.client_tls_ca);
  tls.pem_cert_chain = ReadFileOrEmpty(options_.client_tls_cert);
  tls.pem_private_key = ReadFileOrEmpty(options_.client_tls_key);
  return grpc::CreateChannel(address_, grpc::SslCredentials(tls));
}

std::string ReadFileOrEmpty(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string ServiceProcess::ScrapeMetrics() const {
  return HttpGet(metrics_port_, "/metrics");
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                             absl::Duration deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  return ctx;
}

std::vector<v1::Event> AllEvents(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& service_token) {
  auto stub = v1::EventStream::NewStub(channel);
  auto ctx = Context(service_token, absl::Seconds(10));
  auto reader = stub->Subscribe(ctx.get(), v1::SubscribeRequest());
  std::vector<v1::Event> events;
  v1::SubscribeResponse resp;
  while (reader->Read(&resp)) {
    for (const auto& e : resp.events()) events.push_back(e);
    const uint64_t seen = events.empty() ? 0 : events.back().seq();
    if (seen >= resp.head_seq()) break;
  }
  ctx->TryCancel();
  reader->Finish();
  return events;
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  const std::string req = absl::StrCat("GET ", path,
                                       " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  close(fd);
  size_t body = out.find("\r\n\r\n");
  return body == std::string::npos ? "" : out.substr(body + 4);
}

}  // namespace aftersales::testing
