#include "complaint/complaint_metrics.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "metrics/metrics.h"
#include "rpc/rpc.h"

namespace aftersales::complaint {
namespace {

std::string Short(const std::string& name, absl::string_view prefix) {
  return std::string(absl::StripPrefix(name, prefix));
}
std::string GradeLabel(v1::ComplaintGrade g) {
  return Short(v1::ComplaintGrade_Name(g), "COMPLAINT_GRADE_");
}
std::string StateLabel(v1::ComplaintState s) {
  return Short(v1::ComplaintState_Name(s), "COMPLAINT_STATE_");
}
std::string ClockLabel(v1::SlaClockKind k) {
  return Short(v1::SlaClockKind_Name(k), "SLA_CLOCK_KIND_COMPLAINT_");
}

// Wall time a clock ran, if it stopped.
std::optional<double> Ran(const v1::SlaClock* clock) {
  if (clock == nullptr || !clock->has_stopped_at()) return std::nullopt;
  return absl::ToDoubleSeconds(rpc::FromProto(clock->stopped_at()) -
                               rpc::FromProto(clock->started_at()));
}

}  // namespace

ComplaintMetrics::ComplaintMetrics(prometheus::Registry& registry)
    : filed_(prometheus::BuildCounter()
                 .Name("aftersales_complaints_filed_total")
                 .Help("Complaints filed, by grade at filing, category, region and channel")
                 .Register(registry)),
      rules_(prometheus::BuildCounter()
                 .Name("aftersales_complaint_rules_fired_total")
                 .Help("Grading rules that fired at filing, by rule id")
                 .Register(registry)),
      acknowledge_(prometheus::BuildHistogram()
                       .Name("aftersales_complaint_acknowledge_duration_seconds")
                       .Help("Wall time from filing to acknowledgement, by grade")
                       .Register(registry)),
      resolution_(prometheus::BuildHistogram()
                      .Name("aftersales_complaint_resolution_duration_seconds")
                      .Help("Wall time of a resolve clock (filing or reopening to "
                            "resolution), by grade")
                      .Register(registry)),
      escalations_(prometheus::BuildCounter()
                       .Name("aftersales_complaint_escalations_total")
                       .Help("Owner escalations, by reason, level escalated to and grade")
                       .Register(registry)),
      misses_(prometheus::BuildCounter()
                  .Name("aftersales_complaint_deadline_misses_total")
                  .Help("Acknowledge/resolve deadlines missed, by clock and grade")
                  .Register(registry)),
      at_risk_(prometheus::BuildCounter()
                   .Name("aftersales_complaint_at_risk_total")
                   .Help("Complaint clocks that used the at-risk share of their budget")
                   .Register(registry)),
      resolved_(prometheus::BuildCounter()
                    .Name("aftersales_complaints_resolved_total")
                    .Help("Complaint resolutions (a reopened complaint counts again), by grade")
                    .Register(registry)),
      reopened_(prometheus::BuildCounter()
                    .Name("aftersales_complaints_reopened_total")
                    .Help("Complaints reopened on appeal, by grade (reopen rate = "
                          "reopened / resolved)")
                    .Register(registry)),
      regrades_(prometheus::BuildCounter()
                    .Name("aftersales_complaint_regrades_total")
                    .Help("Grades raised after filing (mass impact), by from/to grade")
                    .Register(registry)),
      by_state_(prometheus::BuildGauge()
                    .Name("aftersales_complaints")
                    .Help("Complaints by current state")
                    .Register(registry)),
      stopped_(prometheus::BuildCounter()
                   .Name("aftersales_complaint_clocks_stopped_total")
                   .Help("Acknowledge/resolve clocks stopped, by clock, grade and outcome "
                         "(MET or BREACHED); compliance = MET / (MET + BREACHED)")
                   .Register(registry)),
      model_clusters_(prometheus::BuildCounter()
                          .Name("aftersales_appliance_model_clusters_total")
                          .Help("Complaints that completed a same-model cluster (policy "
                                "same_model_threshold within same_model_window): SPEC 7.2 "
                                "level 1 product-quality signal")
                          .Register(registry)
                          .Add({})) {
  // Every (clock, grade, outcome) exists from the start, so compliance
  // ratios and alerts have their series before the first complaint.
  for (auto k : {v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE}) {
    for (auto g : {v1::COMPLAINT_GRADE_G1_GENERAL, v1::COMPLAINT_GRADE_G2_SERIOUS,
                   v1::COMPLAINT_GRADE_G3_MAJOR, v1::COMPLAINT_GRADE_G4_CRITICAL}) {
      for (const char* o : {"MET", "BREACHED"}) {
        stopped_.Add({{"clock", ClockLabel(k)}, {"grade", GradeLabel(g)}, {"outcome", o}});
      }
    }
  }
}

namespace {
// MET or BREACHED for a stopped clock (BREACHED once its deadline passed).
const char* StopOutcome(const v1::SlaClock& clock) {
  if (clock.outcome() == v1::SLA_OUTCOME_BREACHED) return "BREACHED";
  if (clock.has_deadline() && clock.has_stopped_at() &&
      rpc::FromProto(clock.stopped_at()) > rpc::FromProto(clock.deadline())) {
    return "BREACHED";
  }
  return "MET";
}
}  // namespace

void ComplaintMetrics::SetByState(v1::ComplaintState state, double count) {
  by_state_.Add({{"state", StateLabel(state)}}).Set(count);
}

void ComplaintMetrics::Observe(const v1::Complaint* before, const domain::Change& change) {
  if (!change.changed) return;
  const v1::Complaint& c = change.complaint;
  const std::string grade = GradeLabel(c.grade());
  if (before == nullptr) {
    filed_
        .Add({{"grade", grade},
              {"category", Short(v1::ComplaintCategory_Name(c.category()), "COMPLAINT_CATEGORY_")},
              {"region", c.region_code()},
              {"channel", Short(v1::ComplaintChannel_Name(c.channel()), "COMPLAINT_CHANNEL_")}})
        .Increment();
    for (const auto& r : c.grading().rules()) {
      rules_.Add({{"rule", r.rule_id()}}).Increment();
      // The same-model rule's evidence starts with "model=<model>".
      if (r.evidence_size() > 0 && absl::StartsWith(r.evidence(0), "model=")) {
        model_clusters_.Increment();
      }
    }
    by_state_.Add({{"state", StateLabel(c.state())}}).Increment();
  } else if (before->state() != c.state()) {
    by_state_.Add({{"state", StateLabel(before->state())}}).Decrement();
    by_state_.Add({{"state", StateLabel(c.state())}}).Increment();
    if (c.state() == v1::COMPLAINT_STATE_ACKNOWLEDGED) {
      if (auto s = Ran(domain::LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE))) {
        acknowledge_.Add({{"grade", grade}}, metrics::SlaClockBuckets()).Observe(*s);
      }
      if (const v1::SlaClock* k = domain::LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE);
          k != nullptr && k->has_stopped_at()) {
        stopped_.Add({{"clock", "ACKNOWLEDGE"}, {"grade", grade}, {"outcome", StopOutcome(*k)}})
            .Increment();
      }
    } else if (c.state() == v1::COMPLAINT_STATE_RESOLVED) {
      resolved_.Add({{"grade", grade}}).Increment();
      if (auto s = Ran(domain::LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE))) {
        resolution_.Add({{"grade", grade}}, metrics::SlaClockBuckets()).Observe(*s);
      }
      if (const v1::SlaClock* k = domain::LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE);
          k != nullptr && k->has_stopped_at()) {
        stopped_.Add({{"clock", "RESOLVE"}, {"grade", grade}, {"outcome", StopOutcome(*k)}})
            .Increment();
      }
    } else if (c.state() == v1::COMPLAINT_STATE_REOPENED) {
      reopened_.Add({{"grade", grade}}).Increment();
    }
  }
  if (before != nullptr && before->grade() != c.grade()) {
    regrades_.Add({{"from", GradeLabel(before->grade())}, {"to", grade}}).Increment();
  }
  for (const auto& e : change.events) {
    if (!e.has_complaint_escalated()) continue;
    const auto& esc = e.complaint_escalated();
    escalations_
        .Add({{"reason", Short(v1::EscalationReason_Name(esc.reason()), "ESCALATION_REASON_")},
              {"to_level", Short(v1::OwnerLevel_Name(esc.to_level()), "OWNER_LEVEL_")},
              {"grade", grade}})
        .Increment();
  }
  for (auto k : change.became_breached) {
    misses_.Add({{"clock", ClockLabel(k)}, {"grade", grade}}).Increment();
  }
  for (auto k : change.became_at_risk) {
    at_risk_.Add({{"clock", ClockLabel(k)}, {"grade", grade}}).Increment();
  }
}

}  // namespace aftersales::complaint
