#include "intake/intake_metrics.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "metrics/metrics.h"
#include "rpc/rpc.h"

namespace aftersales::intake {
namespace {

std::string Short(const std::string& enum_name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(enum_name, prefix));
}
std::string PriorityLabel(v1::Priority p) {
  return Short(v1::Priority_Name(p), "PRIORITY_");
}
std::string ClockLabel(v1::SlaClockKind k) {
  return Short(v1::SlaClockKind_Name(k), "SLA_CLOCK_KIND_");
}
std::string StateLabel(v1::OrderState s) {
  return Short(v1::OrderState_Name(s), "ORDER_STATE_");
}

}  // namespace

IntakeMetrics::IntakeMetrics(prometheus::Registry& registry)
    : clock_seconds_(prometheus::BuildHistogram()
                         .Name("aftersales_sla_clock_duration_seconds")
                         .Help("Calendar time an SLA clock ran until it stopped "
                               "(pauses excluded), by outcome")
                         .Register(registry)),
      breaches_(prometheus::BuildCounter()
                    .Name("aftersales_sla_breaches_total")
                    .Help("SLA clocks that passed their deadline, by attributed cause")
                    .Register(registry)),
      at_risk_(prometheus::BuildCounter()
                   .Name("aftersales_sla_at_risk_total")
                   .Help("SLA clocks that used 75% of their budget while running")
                   .Register(registry)),
      orders_by_state_(prometheus::BuildGauge()
                           .Name("aftersales_orders")
                           .Help("Work orders by current state")
                           .Register(registry)),
      created_(prometheus::BuildCounter()
                   .Name("aftersales_orders_created_total")
                   .Help("Work orders created, by channel, priority and rework")
                   .Register(registry)),
      repairs_(prometheus::BuildCounter()
                   .Name("aftersales_repairs_total")
                   .Help("Completed repairs, with first-time-fix, diagnosis "
                         "accuracy and rework flags (SPEC §2.5)")
                   .Register(registry)),
      compensations_(prometheus::BuildCounter()
                         .Name("aftersales_compensation_entries_total")
                         .Help("Compensation ledger entries granted, by reason")
                         .Register(registry)),
      transitions_(prometheus::BuildCounter()
                       .Name("aftersales_order_transitions_total")
                       .Help("Order state transitions, by target state")
                       .Register(registry)),
      service_seconds_(prometheus::BuildHistogram()
                           .Name("aftersales_onsite_service_duration_seconds")
                           .Help("Engineer service time of a repair: arrival (on site or "
                                 "remote session) to REPAIRED, by region")
                           .Register(registry)),
      slow_engineers_(prometheus::BuildGauge()
                          .Name("aftersales_engineers_above_duration_baseline")
                          .Help("Engineers whose last-24h mean service duration is >= 1.5x "
                                "their own 30-day baseline (SPEC 7.2 level 2), by region "
                                "of their last job")
                          .Register(registry)),
      security_incidents_(prometheus::BuildCounter()
                              .Name("aftersales_security_incidents_total")
                              .Help("Data-security incidents by kind (SPEC 7.2: alert at > 3 "
                                    "per month)")
                              .Register(registry)) {
  for (const char* kind : {"scope_violation", "audit_chain_broken", "pii_decryption_failed"}) {
    security_incidents_.Add({{"kind", kind}});
  }
  for (int r = v1::CompensationReason_MIN + 1; r <= v1::CompensationReason_MAX; ++r) {
    if (!v1::CompensationReason_IsValid(r)) continue;
    compensations_.Add({{"reason", Short(v1::CompensationReason_Name(
                                             static_cast<v1::CompensationReason>(r)),
                                         "COMPENSATION_REASON_")}});
  }
}

void IntakeMetrics::SetRegions(std::function<bool(const std::string&)> known,
                               const std::vector<std::string>& initial) {
  {
    absl::MutexLock lock(&mu_);
    known_region_ = std::move(known);
  }
  std::vector<std::string> labels = initial;
  labels.push_back("other");
  for (const std::string& r : labels) {
    slow_engineers_.Add({{"region", Region(r)}});
  }
}

std::string IntakeMetrics::Region(const std::string& code) const {
  absl::MutexLock lock(&mu_);
  if (known_region_ && !known_region_(code)) return "other";
  return code;
}

void IntakeMetrics::SecurityIncident(const std::string& kind) {
  security_incidents_.Add({{"kind", kind}}).Increment();
}

void IntakeMetrics::ObserveServiceDuration(const v1::WorkOrder& after,
                                           const v1::Event& repaired) {
  const std::string& engineer = after.assignment().engineer_id();
  if (engineer.empty()) return;
  // The last arrival before REPAIRED in the order's history.
  std::optional<absl::Time> arrived;
  for (const v1::OrderTransition& t : after.transitions()) {
    if (t.to_state() == v1::ORDER_STATE_ON_SITE ||
        t.to_state() == v1::ORDER_STATE_REMOTE_SESSION) {
      arrived = rpc::FromProto(t.actor().server_time());
    }
  }
  if (!arrived) return;
  const absl::Time at = rpc::FromProto(repaired.occurred_at());
  const double seconds = std::max(0.0, absl::ToDoubleSeconds(at - *arrived));
  const std::string region = Region(after.service_area().region_code());
  service_seconds_.Add({{"region", region}}, metrics::SlaClockBuckets()).Observe(seconds);

  absl::MutexLock lock(&mu_);
  EngineerJobs& e = engineers_[engineer];
  e.jobs.push_back({at, seconds});
  while (!e.jobs.empty() && (e.jobs.front().at < at - kBaselineWindow || e.jobs.size() > 500)) {
    e.jobs.pop_front();
  }
  double recent_sum = 0, base_sum = 0;
  int recent_n = 0, base_n = 0;
  for (const Job& j : e.jobs) {
    if (j.at > at - kRecentWindow) {
      recent_sum += j.seconds;
      ++recent_n;
    } else {
      base_sum += j.seconds;
      ++base_n;
    }
  }
  const bool slow = recent_n > 0 && base_n >= kMinBaselineJobs && base_sum > 0 &&
                    recent_sum / recent_n >= kSlowRatio * (base_sum / base_n);
  if (e.slow) slow_engineers_.Add({{"region", e.region}}).Decrement();
  if (slow) slow_engineers_.Add({{"region", region}}).Increment();
  e.slow = slow;
  e.region = region;
}

void IntakeMetrics::SetOrdersByState(v1::OrderState state, double count) {
  orders_by_state_.Add({{"state", StateLabel(state)}}).Set(count);
}

void IntakeMetrics::Observe(const v1::WorkOrder* before, const v1::WorkOrder& after,
                            const std::vector<v1::Event>& events) {
  const std::string priority = PriorityLabel(after.priority());
  const std::string region = Region(after.service_area().region_code());
  const std::string tier = absl::StrCat(after.service_area().city_tier());
  if (before == nullptr) {
    created_
        .Add({{"channel", Short(v1::Channel_Name(after.channel()), "CHANNEL_")},
              {"priority", priority},
              {"rework", after.is_rework() ? "true" : "false"}})
        .Increment();
    orders_by_state_.Add({{"state", StateLabel(after.state())}}).Increment();
  } else if (before->state() != after.state()) {
    orders_by_state_.Add({{"state", StateLabel(before->state())}}).Decrement();
    orders_by_state_.Add({{"state", StateLabel(after.state())}}).Increment();
  }
  for (const v1::Event& e : events) {
    if (e.has_order_state_changed()) {
      transitions_.Add({{"to", StateLabel(e.order_state_changed().to_state())}})
          .Increment();
      if (e.order_state_changed().to_state() == v1::ORDER_STATE_REPAIRED) {
        repairs_
            .Add({{"first_visit_fix", after.repair().first_visit_fix() ? "true" : "false"},
                  {"diagnosis_matched",
                   after.repair().diagnosis_matched() ? "true" : "false"},
                  {"rework", after.is_rework() ? "true" : "false"},
                  {"fault_kind", Short(v1::FaultKind_Name(after.fault().kind()),
                                       "FAULT_KIND_")}})
            .Increment();
        ObserveServiceDuration(after, e);
      }
    } else if (e.has_sla_clock_stopped()) {
      const auto& s = e.sla_clock_stopped();
      clock_seconds_
          .Add({{"clock", ClockLabel(s.clock())},
                {"priority", PriorityLabel(s.priority())},
                {"city_tier", absl::StrCat(s.city_tier())},
                {"region", Region(s.region_code())},
                {"outcome", Short(v1::SlaOutcome_Name(s.outcome()), "SLA_OUTCOME_")}},
               metrics::SlaClockBuckets())
          .Observe(absl::ToDoubleSeconds(rpc::FromProto(s.elapsed())));
    } else if (e.has_sla_breached()) {
      const auto& b = e.sla_breached();
      breaches_
          .Add({{"clock", ClockLabel(b.clock())},
                {"cause", Short(v1::BreachCause_Name(b.cause()), "BREACH_CAUSE_")},
                {"priority", PriorityLabel(b.priority())},
                {"city_tier", tier},
                {"region", region}})
          .Increment();
    } else if (e.has_sla_clock_at_risk()) {
      const auto& r = e.sla_clock_at_risk();
      at_risk_
          .Add({{"clock", ClockLabel(r.clock())},
                {"priority", PriorityLabel(r.priority())},
                {"region", region}})
          .Increment();
    } else if (e.has_compensation_granted()) {
      compensations_
          .Add({{"reason", Short(v1::CompensationReason_Name(
                                     e.compensation_granted().entry().reason()),
                                 "COMPENSATION_REASON_")}})
          .Increment();
    }
  }
}

}  // namespace aftersales::intake
