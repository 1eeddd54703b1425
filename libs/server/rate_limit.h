#ifndef AFTERSALES_LIBS_SERVER_RATE_LIMIT_H_
#define AFTERSALES_LIBS_SERVER_RATE_LIMIT_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "auth/auth.h"
#include "clock/clock.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "rpc/admission.h"

// Admission control for every RPC of a service (SPEC §8: floods get
// RESOURCE_EXHAUSTED): a token bucket per principal, and a bound on the unary
// calls running at once. Both refuse at the top of the handler (inside
// rpc::AuthorizeCall), before any store work, so a refusal costs microseconds
// and an overloaded service keeps the latency of the calls it accepts.
namespace aftersales::server {

// A sustained rate and the burst a principal may spend at once.
struct RateLimit {
  double per_second = 0;  // <= 0: no limit
  double burst = 0;       // bucket size; at least 1 when limited
  bool unlimited() const { return per_second <= 0; }
  bool operator==(const RateLimit& o) const {
    return per_second == o.per_second && burst == o.burst;
  }
};

// Which limit applies to whom: a principal's own line wins over its role's,
// the role's over the default.
struct RateLimitPolicy {
  RateLimit default_limit;  // unlimited unless the file says otherwise
  std::map<auth::Role, RateLimit> by_role;
  std::map<std::string, RateLimit> by_principal;

  RateLimit For(const auth::Principal& principal) const;
};

// The policy file: one rule per line, '#' starts a comment.
//   default             <per_second> <burst>
//   role <role>         <per_second> <burst>
//   principal <id>      <per_second> <burst>
// <per_second> may be "unlimited" (then <burst> is omitted). INVALID_ARGUMENT
// names the line of a bad rule.
absl::StatusOr<RateLimitPolicy> ParseRateLimitPolicy(absl::string_view text);
absl::StatusOr<RateLimitPolicy> LoadRateLimitPolicy(const std::string& path);

// Classic token bucket: starts full (`burst` tokens), refills `per_second`
// continuously up to `burst`; each call takes one token. Not thread-safe.
class TokenBucket {
 public:
  TokenBucket(RateLimit limit, absl::Time now);
  // True (and one token spent) if a token is available at `now`.
  bool TryTake(absl::Time now);
  // New limit from `now` on; keeps the tokens saved so far (capped at burst).
  void Reconfigure(RateLimit limit, absl::Time now);
  const RateLimit& limit() const { return limit_; }
  double tokens(absl::Time now) const;

 private:
  RateLimit limit_;
  double tokens_;
  absl::Time last_;
};

class RateLimiter final : public rpc::CallAdmission {
 public:
  enum class Verdict { kAdmit, kRateLimited, kOverloaded };

  struct Options {
    std::string service;      // metrics label
    RateLimitPolicy policy;
    int max_inflight = 0;     // unary calls running at once; 0 = no bound
  };
  // `clock` measures refills: pass a RealClock in a service (a manual
  // service clock would never refill), a ManualClock in tests. `registry`
  // may be null.
  RateLimiter(Options options, const Clock* clock, prometheus::Registry* registry);

  // rpc::CallAdmission: RESOURCE_EXHAUSTED when Decide refuses.
  absl::Status Admit(const grpc::ServerContextBase& context,
                     const auth::Principal& principal) override;

  // The decision alone: the principal's bucket first (a flooder is refused
  // as rate_limit and never occupies a slot), then the in-flight bound. An
  // admitted call holds one in-flight slot until CallFinished().
  Verdict Decide(const auth::Principal& principal);

  void SetPolicy(RateLimitPolicy policy);

  // Releases the slot of an admitted call (the interceptor does this when
  // an admitted unary call ends).
  void CallFinished() { inflight_.fetch_sub(1); }
  int inflight() const { return inflight_.load(); }

  // Follows each call so an admitted unary call gives its in-flight slot
  // back when it ends (streams never hold one), and remembers each call's
  // method for the rejection metric. Add it to the server's interceptors.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

 private:
  friend class AdmissionInterceptor;
  struct CallInfo {
    const char* method = nullptr;
    bool unary = false;
    bool admitted = false;  // holds an in-flight slot
  };
  void Track(const grpc::ServerContextBase* context, const char* method, bool unary);
  void Untrack(const grpc::ServerContextBase* context);
  static std::string ShortMethod(const char* full);
  void CountRejection(const std::string& method, Verdict verdict);

  const std::string service_;
  const int max_inflight_;
  const Clock* clock_;
  std::atomic<int> inflight_{0};

  absl::Mutex mu_;
  RateLimitPolicy policy_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, TokenBucket> buckets_ ABSL_GUARDED_BY(mu_);

  absl::Mutex methods_mu_;
  absl::flat_hash_map<const grpc::ServerContextBase*, CallInfo> calls_
      ABSL_GUARDED_BY(methods_mu_);

  prometheus::Family<prometheus::Counter>* rejected_ = nullptr;
  prometheus::Gauge* inflight_gauge_ = nullptr;
};

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_RATE_LIMIT_H_
