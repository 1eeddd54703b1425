#ifndef AFTERSALES_TESTS_SUPPORT_TEST_SUPPORT_H_
#define AFTERSALES_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "grpcpp/grpcpp.h"

namespace aftersales::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Principals every test token file holds; each maps to its plain token.
struct TestTokens {
  // Writes <dir>/tokens.txt (hashes only) and <dir>/service.token.
  explicit TestTokens(const std::string& dir);
  std::string file;                // the tokens file services load
  std::string service_token_file;  // plain token of the "service" principal
  std::map<std::string, std::string> token;  // "admin", "agent", "partner-a", ...
};

// A child process, killed (SIGKILL) if still running when destroyed.
class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; stdout and stderr go to `log_file`.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_file);
  ~ChildProcess();
  pid_t pid() const { return pid_; }
  bool running();
  void Kill(int signal);
  // Waits for exit; returns the exit code, or 128+signal if killed.
  int Wait();

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// One of the suite's services as a real process on a loopback port.
class ServiceProcess {
 public:
  struct Options {
    std::string name;         // "intake", "dispatch", ...
    std::string data_dir;
    const TestTokens* tokens = nullptr;
    std::map<std::string, std::string> peers;  // "intake" -> "127.0.0.1:port"
    int grpc_port = 0;        // 0 = any free port
    bool manual_clock = false;
    std::vector<std::string> extra_flags;
    // When the service serves TLS: the CA the test's client trusts, and the
    // client's own certificate for mutual TLS.
    std::string client_tls_ca, client_tls_cert, client_tls_key;
  };

  // Starts the process and waits until it serves (health SERVING).
  explicit ServiceProcess(Options options);
  ~ServiceProcess();

  // SIGTERM and wait; returns the exit code.
  int Stop();
  void Kill();  // SIGKILL, no clean-up: a crash
  // Starts again on the same port with the same data.
  void Restart();
  // Points the service at a peer from its next (re)start on.
  void SetPeer(const std::string& service, const std::string& address) {
    options_.peers[service] = address;
  }

  const std::string& address() const { return address_; }
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  std::shared_ptr<grpc::Channel> channel() const;
  const std::string& log_file() const { return log_file_; }
  // GET /metrics as text.
  std::string ScrapeMetrics() const;

 private:
  void Start();
  Options options_;
  std::unique_ptr<ChildProcess> process_;
  std::string address_, log_file_, port_file_;
  int grpc_port_ = 0, metrics_port_ = 0;
  int starts_ = 0;
};

// The built binary of a service.
std::string ServiceBinary(const std::string& name);
// A file of the repository, e.g. "deploy/policies/intake.textproto".
std::string SourcePath(const std::string& relative);

// Reads a whole file ("" if it cannot).
std::string ReadFileOrEmpty(const std::string& path);

// A client context carrying `token` as a bearer token, with a deadline.
std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                             absl::Duration deadline = absl::Seconds(10));

// Every event of a service's log so far, read from its EventStream with
// `service_token` up to the head it reports.
std::vector<v1::Event> AllEvents(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& service_token);

// Polls `condition` until true or `timeout`; returns its last value.
bool Eventually(const std::function<bool()>& condition,
                absl::Duration timeout = absl::Seconds(20));

// Plain HTTP GET of 127.0.0.1:port/path; "" on failure.
std::string HttpGet(int port, const std::string& path);

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_SUPPORT_TEST_SUPPORT_H_
