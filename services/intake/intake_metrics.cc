#include "intake/intake_metrics.h"

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
                       .Register(registry)) {}

void IntakeMetrics::SetOrdersByState(v1::OrderState state, double count) {
  orders_by_state_.Add({{"state", StateLabel(state)}}).Set(count);
}

void IntakeMetrics::Observe(const v1::WorkOrder* before, const v1::WorkOrder& after,
                            const std::vector<v1::Event>& events) {
  const std::string priority = PriorityLabel(after.priority());
  const std::string region = after.service_area().region_code();
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
      }
    } else if (e.has_sla_clock_stopped()) {
      const auto& s = e.sla_clock_stopped();
      clock_seconds_
          .Add({{"clock", ClockLabel(s.clock())},
                {"priority", PriorityLabel(s.priority())},
                {"city_tier", absl::StrCat(s.city_tier())},
                {"region", s.region_code()},
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
