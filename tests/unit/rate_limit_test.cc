// libs/server/rate_limit: the policy file, the token bucket and the limiter's
// decisions (per principal, per role, overload), on a manual clock.
#include "server/rate_limit.h"

#include "catch2/catch.hpp"
#include "prometheus/registry.h"

namespace aftersales::server {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

auth::Principal Who(const std::string& id, auth::Role role) {
  auth::Principal p;
  p.id = id;
  p.role = role;
  return p;
}

// The value of aftersales_rpc_rejected_total for these labels (0 if absent).
double Rejected(prometheus::Registry& registry, const std::string& reason) {
  double total = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != "aftersales_rpc_rejected_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "reason" && label.value == reason) total += metric.counter.value;
      }
    }
  }
  return total;
}

TEST_CASE("Rate limit policy file: rules, precedence and errors") {
  auto policy = ParseRateLimitPolicy(R"(
# comment
default 10 20
role partner 50 100   # partners
role service unlimited
principal partner-big 500 1000
principal svc-batch 5 5
)");
  REQUIRE(policy.ok());
  CHECK(policy->For(Who("anyone", auth::Role::kApp)) == RateLimit{10, 20});
  CHECK(policy->For(Who("partner-a", auth::Role::kPartner)) == RateLimit{50, 100});
  CHECK(policy->For(Who("partner-big", auth::Role::kPartner)) == RateLimit{500, 1000});
  CHECK(policy->For(Who("svc", auth::Role::kService)).unlimited());
  // A principal's own line wins over its role, even an unlimited role.
  CHECK(policy->For(Who("svc-batch", auth::Role::kService)) == RateLimit{5, 5});

  auto empty = ParseRateLimitPolicy("  \n# nothing\n");
  REQUIRE(empty.ok());
  CHECK(empty->For(Who("x", auth::Role::kPartner)).unlimited());

  const std::pair<const char*, const char*> bad[] = {
      {"default 10", "line 1: expected"},
      {"\nrole wizard 1 1", "line 2: unknown role \"wizard\""},
      {"role partner -1 5", "per_second must be a number > 0"},
      {"role partner 0 5", "per_second must be a number > 0"},
      {"principal p 10 0.5", "burst must be a number >= 1"},
      {"principal p ten 10", "per_second"},
      {"principal", "missing principal id"},
      {"limit 1 2", "unknown rule \"limit\""},
      {"default unlimited 5", "expected nothing after"},
  };
  for (const auto& [text, why] : bad) {
    INFO(text);
    auto parsed = ParseRateLimitPolicy(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(parsed.status().message()), Catch::Contains(why));
  }
  CHECK(LoadRateLimitPolicy("/nonexistent/rate_limits.txt").status().code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("Token bucket: burst, steady refill, cap, no refill backwards") {
  TokenBucket bucket(RateLimit{10, 5}, kStart);
  for (int i = 0; i < 5; ++i) CHECK(bucket.TryTake(kStart));
  CHECK_FALSE(bucket.TryTake(kStart));
  // 10/s: one token per 100 ms, not before.
  CHECK_FALSE(bucket.TryTake(kStart + absl::Milliseconds(99)));
  CHECK(bucket.TryTake(kStart + absl::Milliseconds(100)));
  CHECK_FALSE(bucket.TryTake(kStart + absl::Milliseconds(150)));
  // Over a long run the bucket admits exactly the rate.
  int admitted = 0;
  absl::Time t = kStart + absl::Milliseconds(200);
  for (int ms = 0; ms < 10'000; ms += 10) {  // 10 s, a try every 10 ms
    if (bucket.TryTake(t + absl::Milliseconds(ms))) ++admitted;
  }
  CHECK(admitted >= 100);
  CHECK(admitted <= 101);
  // An idle hour saves at most `burst` tokens.
  const absl::Time later = t + absl::Hours(1);
  int burst = 0;
  while (bucket.TryTake(later)) ++burst;
  CHECK(burst == 5);
  // A clock stepping back refills nothing.
  CHECK_FALSE(bucket.TryTake(later - absl::Seconds(30)));
  CHECK_FALSE(bucket.TryTake(later));

  // Reconfigure keeps what was saved, capped at the new burst.
  TokenBucket b2(RateLimit{1, 10}, kStart);
  b2.Reconfigure(RateLimit{1, 3}, kStart);
  int left = 0;
  while (b2.TryTake(kStart)) ++left;
  CHECK(left == 3);
}

TEST_CASE("Rate limiter: each principal has its own bucket, unlimited roles pass") {
  ManualClock clock(kStart);
  prometheus::Registry registry;
  RateLimiter::Options options;
  options.service = "intake";
  options.policy = *ParseRateLimitPolicy(
      "role partner 2 4\nrole service unlimited\nprincipal partner-big 100 100\n");
  RateLimiter limiter(std::move(options), &clock, &registry);
  const auto a = Who("partner-a", auth::Role::kPartner);
  const auto b = Who("partner-b", auth::Role::kPartner);
  const auto big = Who("partner-big", auth::Role::kPartner);
  const auto svc = Who("service", auth::Role::kService);
  using V = RateLimiter::Verdict;

  for (int i = 0; i < 4; ++i) CHECK(limiter.Decide(a) == V::kAdmit);
  CHECK(limiter.Decide(a) == V::kRateLimited);
  CHECK(limiter.Decide(a) == V::kRateLimited);
  // partner-a's flood costs partner-b nothing.
  for (int i = 0; i < 4; ++i) CHECK(limiter.Decide(b) == V::kAdmit);
  for (int i = 0; i < 100; ++i) CHECK(limiter.Decide(big) == V::kAdmit);
  CHECK(limiter.Decide(big) == V::kRateLimited);
  for (int i = 0; i < 10'000; ++i) REQUIRE(limiter.Decide(svc) == V::kAdmit);
  // Half a second at 2/s refills one call.
  REQUIRE(clock.Advance(absl::Milliseconds(500)).ok());
  CHECK(limiter.Decide(a) == V::kAdmit);
  CHECK(limiter.Decide(a) == V::kRateLimited);

  // Admit maps a refusal to RESOURCE_EXHAUSTED and counts it.
  grpc::ServerContext context;
  absl::Status refused = limiter.Admit(context, a);
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(std::string(refused.message()), Catch::Contains("partner-a"));
  CHECK(Rejected(registry, "rate_limit") == 1);
  CHECK(limiter.Admit(context, svc).ok());

  // A reloaded policy applies to existing buckets.
  limiter.SetPolicy(*ParseRateLimitPolicy("role partner unlimited\n"));
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.Decide(a) == V::kAdmit);
  limiter.SetPolicy(*ParseRateLimitPolicy("role partner 1 1\n"));
  CHECK(limiter.Decide(a) == V::kAdmit);
  CHECK(limiter.Decide(a) == V::kRateLimited);
}

TEST_CASE("Rate limiter: more calls in flight than the bound are refused as overload") {
  ManualClock clock(kStart);
  prometheus::Registry registry;
  RateLimiter::Options options;
  options.service = "parts";
  options.max_inflight = 3;  // no per-principal limits at all
  RateLimiter limiter(std::move(options), &clock, &registry);
  const auto agent = Who("agent", auth::Role::kAgent);
  using V = RateLimiter::Verdict;

  // Each admitted call holds a slot until it finishes.
  for (int i = 0; i < 3; ++i) REQUIRE(limiter.Decide(agent) == V::kAdmit);
  CHECK(limiter.inflight() == 3);
  CHECK(limiter.Decide(agent) == V::kOverloaded);
  CHECK(limiter.inflight() == 3);  // a refused call holds none
  grpc::ServerContext context;
  absl::Status refused = limiter.Admit(context, agent);
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK_THAT(std::string(refused.message()), Catch::Contains("overloaded"));
  CHECK(Rejected(registry, "overload") == 1);
  CHECK(Rejected(registry, "rate_limit") == 0);
  limiter.CallFinished();
  CHECK(limiter.inflight() == 2);
  // A call the interceptor does not follow (here: no interceptor at all)
  // is admitted without keeping a slot it could never give back.
  CHECK(limiter.Admit(context, agent).ok());
  CHECK(limiter.inflight() == 2);
  CHECK(limiter.Decide(agent) == V::kAdmit);
  CHECK(limiter.Decide(agent) == V::kOverloaded);
  for (int i = 0; i < 3; ++i) limiter.CallFinished();
  CHECK(limiter.inflight() == 0);
}

TEST_CASE("Rate limiter: a rate-limited principal is refused before it can take a slot") {
  ManualClock clock(kStart);
  RateLimiter::Options options;
  options.service = "intake";
  options.max_inflight = 2;
  options.policy = *ParseRateLimitPolicy("role partner 1 1\n");
  RateLimiter limiter(std::move(options), &clock, nullptr);
  const auto a = Who("partner-a", auth::Role::kPartner);
  const auto agent = Who("agent", auth::Role::kAgent);
  using V = RateLimiter::Verdict;
  CHECK(limiter.Decide(a) == V::kAdmit);
  for (int i = 0; i < 50; ++i) REQUIRE(limiter.Decide(a) == V::kRateLimited);
  CHECK(limiter.inflight() == 1);
  CHECK(limiter.Decide(agent) == V::kAdmit);
  CHECK(limiter.Decide(agent) == V::kOverloaded);
}

}  // namespace
}  // namespace aftersales::server
