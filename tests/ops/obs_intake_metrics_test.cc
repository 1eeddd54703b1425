// Intake's SPEC 7.2 metrics: the Level-2 count of engineers whose recent mean
// service duration is >= 1.5x their own 30-day baseline, region labels
// bounded by the policy, and security incident kinds present from the start.
#include <string>

#include "catch2/catch.hpp"
#include "intake/intake_metrics.h"
#include "prometheus/registry.h"
#include "rpc/rpc.h"

namespace aftersales::intake {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'790'000'000);

// The value of `name` with label region=`region` (or kind=...), -1 if absent.
double Value(prometheus::Registry& r, const std::string& name, const std::string& label,
             const std::string& value) {
  for (const auto& family : r.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.name == label && l.value == value) {
          return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
        }
      }
    }
  }
  return -1;
}

// A repair by `engineer` in `region`: on site at `arrived`, REPAIRED after `took`.
void Repair(IntakeMetrics& metrics, const std::string& engineer, const std::string& region,
            absl::Time arrived, absl::Duration took) {
  v1::WorkOrder before;
  before.set_state(v1::ORDER_STATE_IN_REPAIR);
  v1::WorkOrder after = before;
  after.set_state(v1::ORDER_STATE_REPAIRED);
  after.mutable_service_area()->set_region_code(region);
  after.mutable_assignment()->set_engineer_id(engineer);
  v1::OrderTransition* t = after.add_transitions();
  t->set_to_state(v1::ORDER_STATE_ON_SITE);
  *t->mutable_actor()->mutable_server_time() = rpc::ToProto(arrived);
  v1::Event e;
  *e.mutable_occurred_at() = rpc::ToProto(arrived + took);
  e.mutable_order_state_changed()->set_to_state(v1::ORDER_STATE_REPAIRED);
  metrics.Observe(&before, after, {e});
}

TEST_CASE("an engineer 50 percent slower than their own 30-day baseline is counted in the region") {
  prometheus::Registry registry;
  IntakeMetrics metrics(registry);
  metrics.SetRegions([](const std::string& code) { return code == "CN-310000"; },
                     {"CN-310000"});
  const char* kSlow = "aftersales_engineers_above_duration_baseline";
  CHECK(Value(registry, kSlow, "region", "CN-310000") == 0);
  CHECK(Value(registry, kSlow, "region", "other") == 0);

  // Baseline: 4 jobs of 1 h over the past days, for E1 and E2.
  for (int day = 1; day <= 4; ++day) {
    const absl::Time at = kT0 + absl::Hours(24 * day);
    Repair(metrics, "E1", "CN-310000", at, absl::Hours(1));
    Repair(metrics, "E2", "CN-310000", at, absl::Hours(1));
  }
  CHECK(Value(registry, kSlow, "region", "CN-310000") == 0);
  // Day 6: E1 takes 1.4 h (below 1.5x), E2 takes 1.5 h (counted).
  const absl::Time day6 = kT0 + absl::Hours(24 * 6);
  Repair(metrics, "E1", "CN-310000", day6, absl::Minutes(84));
  CHECK(Value(registry, kSlow, "region", "CN-310000") == 0);
  Repair(metrics, "E2", "CN-310000", day6, absl::Minutes(90));
  CHECK(Value(registry, kSlow, "region", "CN-310000") == 1);
  // E2's next job, a day later, is back to normal: no longer counted.
  Repair(metrics, "E2", "CN-310000", day6 + absl::Hours(30), absl::Minutes(60));
  CHECK(Value(registry, kSlow, "region", "CN-310000") == 0);
}

TEST_CASE("too few baseline jobs never count, and unknown regions are labelled other") {
  prometheus::Registry registry;
  IntakeMetrics metrics(registry);
  metrics.SetRegions([](const std::string& code) { return code == "CN-310000"; },
                     {"CN-310000"});
  const char* kSlow = "aftersales_engineers_above_duration_baseline";
  // Two baseline jobs only (the minimum is 3), then a very slow one.
  Repair(metrics, "E3", "XX-NEW-1", kT0, absl::Hours(1));
  Repair(metrics, "E3", "XX-NEW-1", kT0 + absl::Hours(48), absl::Hours(1));
  Repair(metrics, "E3", "XX-NEW-1", kT0 + absl::Hours(96), absl::Hours(5));
  CHECK(Value(registry, kSlow, "region", "other") == 0);
  CHECK(Value(registry, kSlow, "region", "XX-NEW-1") == -1);
  // A third baseline job makes the next slow one count, under "other".
  Repair(metrics, "E3", "XX-NEW-2", kT0 + absl::Hours(24 * 5), absl::Hours(1));
  Repair(metrics, "E3", "XX-NEW-2", kT0 + absl::Hours(24 * 7), absl::Hours(5));
  CHECK(Value(registry, kSlow, "region", "other") == 1);
  CHECK(Value(registry, kSlow, "region", "XX-NEW-2") == -1);
}

TEST_CASE("security incident kinds exist at zero and count by kind") {
  prometheus::Registry registry;
  IntakeMetrics metrics(registry);
  const char* kIncidents = "aftersales_security_incidents_total";
  CHECK(Value(registry, kIncidents, "kind", "scope_violation") == 0);
  CHECK(Value(registry, kIncidents, "kind", "audit_chain_broken") == 0);
  CHECK(Value(registry, kIncidents, "kind", "pii_decryption_failed") == 0);
  metrics.SecurityIncident("scope_violation");
  metrics.SecurityIncident("scope_violation");
  CHECK(Value(registry, kIncidents, "kind", "scope_violation") == 2);
  CHECK(Value(registry, kIncidents, "kind", "audit_chain_broken") == 0);
}

}  // namespace
}  // namespace aftersales::intake
