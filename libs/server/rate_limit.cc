#include "server/rate_limit.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace aftersales::server {

RateLimit RateLimitPolicy::For(const auth::Principal& principal) const {
  if (auto it = by_principal.find(principal.id); it != by_principal.end()) {
    return it->second;
  }
  if (auto it = by_role.find(principal.role); it != by_role.end()) return it->second;
  return default_limit;
}

namespace {

absl::StatusOr<RateLimit> ParseLimit(const std::vector<absl::string_view>& words,
                                     size_t at, int line) {
  const auto bad = [line](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("rate limits line ", line, ": ", why));
  };
  if (words.size() > at && words[at] == "unlimited") {
    if (words.size() == at + 1) return RateLimit{};
    return bad("expected nothing after \"unlimited\"");
  }
  if (words.size() != at + 2) {
    return bad("expected <per_second> <burst> or \"unlimited\"");
  }
  RateLimit limit;
  if (!absl::SimpleAtod(words[at], &limit.per_second) || !(limit.per_second > 0) ||
      limit.per_second > 1e9) {
    return bad("per_second must be a number > 0 (or \"unlimited\")");
  }
  if (!absl::SimpleAtod(words[at + 1], &limit.burst) || !(limit.burst >= 1) ||
      limit.burst > 1e9) {
    return bad("burst must be a number >= 1");
  }
  return limit;
}

}  // namespace

absl::StatusOr<RateLimitPolicy> ParseRateLimitPolicy(absl::string_view text) {
  RateLimitPolicy policy;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    const auto bad = [line_no](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("rate limits line ", line_no, ": ", why));
    };
    if (words[0] == "default") {
      auto limit = ParseLimit(words, 1, line_no);
      if (!limit.ok()) return limit.status();
      policy.default_limit = *limit;
    } else if (words[0] == "role") {
      if (words.size() < 2) return bad("role: missing role name");
      auto role = auth::ParseRole(words[1]);
      if (!role) return bad(absl::StrCat("unknown role \"", words[1], "\""));
      auto limit = ParseLimit(words, 2, line_no);
      if (!limit.ok()) return limit.status();
      policy.by_role[*role] = *limit;
    } else if (words[0] == "principal") {
      if (words.size() < 2) return bad("principal: missing principal id");
      auto limit = ParseLimit(words, 2, line_no);
      if (!limit.ok()) return limit.status();
      policy.by_principal[std::string(words[1])] = *limit;
    } else {
      return bad(absl::StrCat("unknown rule \"", words[0],
                              "\" (default, role or principal)"));
    }
  }
  return policy;
}

absl::StatusOr<RateLimitPolicy> LoadRateLimitPolicy(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  auto policy = ParseRateLimitPolicy(buf.str());
  if (!policy.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", policy.status().message()));
  }
  return policy;
}

TokenBucket::TokenBucket(RateLimit limit, absl::Time now)
    : limit_(limit), tokens_(std::max(1.0, limit.burst)), last_(now) {}

double TokenBucket::tokens(absl::Time now) const {
  if (limit_.unlimited()) return limit_.burst;
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - last_));
  return std::min(std::max(1.0, limit_.burst), tokens_ + elapsed * limit_.per_second);
}

bool TokenBucket::TryTake(absl::Time now) {
  if (limit_.unlimited()) return true;
  tokens_ = tokens(now);
  if (now > last_) last_ = now;  // a clock that steps back refills nothing
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void TokenBucket::Reconfigure(RateLimit limit, absl::Time now) {
  const double saved = tokens(now);
  const bool was_unlimited = limit_.unlimited();
  limit_ = limit;
  tokens_ = was_unlimited ? std::max(1.0, limit.burst)
                          : std::min(saved, std::max(1.0, limit.burst));
  if (now > last_) last_ = now;
}

// Tells the limiter when a call starts and ends (its call object is
// destroyed after the status went out, or when the client went away).
class AdmissionInterceptor final : public grpc::experimental::Interceptor {
 public:
  AdmissionInterceptor(grpc::experimental::ServerRpcInfo* info, RateLimiter* limiter)
      : limiter_(limiter), context_(info->server_context()) {
    limiter_->Track(context_, info->method(),
                    info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY);
  }
  ~AdmissionInterceptor() override { limiter_->Untrack(context_); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  RateLimiter* limiter_;
  const grpc::ServerContextBase* context_;
};

namespace {

class AdmissionInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AdmissionInterceptorFactory(RateLimiter* limiter) : limiter_(limiter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AdmissionInterceptor(info, limiter_);
  }

 private:
  RateLimiter* limiter_;
};

}  // namespace

RateLimiter::RateLimiter(Options options, const Clock* clock,
                         prometheus::Registry* registry)
    : service_(std::move(options.service)),
      max_inflight_(options.max_inflight),
      clock_(clock),
      policy_(std::move(options.policy)) {
  if (registry != nullptr) {
    rejected_ = &prometheus::BuildCounter()
                     .Name("aftersales_rpc_rejected_total")
                     .Help("RPCs refused with RESOURCE_EXHAUSTED before any work: "
                           "reason=rate_limit (the principal's token bucket was "
                           "empty) or overload (too many calls in flight)")
                     .Register(*registry);
    inflight_gauge_ = &prometheus::BuildGauge()
                           .Name("aftersales_rpc_inflight_calls")
                           .Help("Unary RPCs running now (bounded by --max_inflight_calls)")
                           .Register(*registry)
                           .Add({{"service", service_}});
  }
}

void RateLimiter::SetPolicy(RateLimitPolicy policy) {
  absl::MutexLock lock(&mu_);
  policy_ = std::move(policy);  // buckets pick up their new limit lazily
}

RateLimiter::Verdict RateLimiter::Decide(const auth::Principal& principal) {
  {
    const absl::Time now = clock_->Now();
    absl::MutexLock lock(&mu_);
    const RateLimit limit = policy_.For(principal);
    auto it = buckets_.find(principal.id);
    if (it == buckets_.end() && !limit.unlimited()) {
      // Principals come from the token registry, so this map stays bounded.
      it = buckets_.emplace(principal.id, TokenBucket(limit, now)).first;
    }
    if (it != buckets_.end()) {
      if (!(it->second.limit() == limit)) it->second.Reconfigure(limit, now);
      if (!it->second.TryTake(now)) return Verdict::kRateLimited;
    }
  }
  if (inflight_.fetch_add(1) + 1 > max_inflight_ && max_inflight_ > 0) {
    inflight_.fetch_sub(1);
    return Verdict::kOverloaded;
  }
  return Verdict::kAdmit;
}

absl::Status RateLimiter::Admit(const grpc::ServerContextBase& context,
                                const auth::Principal& principal) {
  const Verdict verdict = Decide(principal);
  std::string method = "unknown";
  {
    absl::MutexLock lock(&methods_mu_);
    auto it = calls_.find(&context);
    if (it != calls_.end()) method = ShortMethod(it->second.method);
    if (verdict == Verdict::kAdmit) {
      if (it != calls_.end() && it->second.unary && !it->second.admitted) {
        it->second.admitted = true;  // Untrack gives the slot back
      } else {
        CallFinished();  // streams (long-lived) and untracked calls hold none
      }
    }
  }
  if (inflight_gauge_ != nullptr) inflight_gauge_->Set(inflight_.load());
  if (verdict == Verdict::kAdmit) return absl::OkStatus();
  CountRejection(method, verdict);
  if (verdict == Verdict::kOverloaded) {
    return absl::ResourceExhaustedError(
        absl::StrCat(service_, " is overloaded (", max_inflight_,
                     " calls in flight); retry with backoff"));
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("rate limit exceeded for principal ", principal.id,
                   "; retry with backoff"));
}

void RateLimiter::CountRejection(const std::string& method, Verdict verdict) {
  if (rejected_ == nullptr) return;
  rejected_
      ->Add({{"service", service_},
             {"method", method},
             {"reason", verdict == Verdict::kOverloaded ? "overload" : "rate_limit"}})
      .Increment();
}

void RateLimiter::Track(const grpc::ServerContextBase* context, const char* method,
                        bool unary) {
  if (context == nullptr) return;
  absl::MutexLock lock(&methods_mu_);
  calls_[context] = CallInfo{method, unary, false};
}

void RateLimiter::Untrack(const grpc::ServerContextBase* context) {
  if (context == nullptr) return;
  absl::MutexLock lock(&methods_mu_);
  auto it = calls_.find(context);
  if (it == calls_.end()) return;
  if (it->second.admitted) CallFinished();
  calls_.erase(it);
}

std::string RateLimiter::ShortMethod(const char* full_name) {
  if (full_name == nullptr) return "unknown";
  // "/aftersales.v1.IntakeService/CreateOrder" -> "IntakeService/CreateOrder":
  // registered methods only, so the label stays bounded.
  absl::string_view full(full_name);
  if (size_t dot = full.rfind('.', full.rfind('/')); dot != absl::string_view::npos) {
    full.remove_prefix(dot + 1);
  }
  return std::string(full);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RateLimiter::InterceptorFactory() {
  return std::make_unique<AdmissionInterceptorFactory>(this);
}

}  // namespace aftersales::server
