#include "satisfaction/domain/sqi.h"

#include <algorithm>

#include "rpc/rpc.h"
#include "satisfaction/domain/aggregate.h"

namespace aftersales::satisfaction::domain {
namespace {

double Rate(int64_t part, int64_t whole) {
  return static_cast<double>(part) / static_cast<double>(whole);
}

void AddInput(v1::SqiComponent& c, const char* name, double value, double score) {
  v1::SqiInput* in = c.add_inputs();
  in->set_name(name);
  in->set_value(value);
  in->set_score(std::clamp(score, 0.0, 100.0));
}

// Mean of the input scores; no_data without inputs.
void Finish(v1::SqiComponent& c) {
  if (c.inputs_size() == 0) {
    c.set_no_data(true);
    c.set_score(0);
    return;
  }
  double sum = 0;
  for (const auto& in : c.inputs()) sum += in.score();
  c.set_score(sum / c.inputs_size());
}

}  // namespace

bool CountSlaStopped(v1::SqiMonthCounters& c, const v1::SlaClockStopped& s) {
  const bool met = s.outcome() == v1::SLA_OUTCOME_MET;
  if (!met && s.outcome() != v1::SLA_OUTCOME_BREACHED) return false;  // cancelled: no verdict
  switch (s.clock()) {
    case v1::SLA_CLOCK_KIND_ARRIVAL:
      c.set_arrival_clocks(c.arrival_clocks() + 1);
      if (met) c.set_arrival_met(c.arrival_met() + 1);
      return true;
    case v1::SLA_CLOCK_KIND_FIRST_CONTACT:
      c.set_first_contact_clocks(c.first_contact_clocks() + 1);
      if (met) c.set_first_contact_met(c.first_contact_met() + 1);
      return true;
    default:
      return false;
  }
}

void CountRepair(v1::SqiMonthCounters& c, const v1::OrderConfirmedRepaired& r) {
  c.set_repairs_confirmed(c.repairs_confirmed() + 1);
  if (r.first_visit_fix()) c.set_first_visit_fixes(c.first_visit_fixes() + 1);
  if (r.diagnosis_matched()) c.set_diagnosis_matched(c.diagnosis_matched() + 1);
}

void CountOrderCreated(v1::SqiMonthCounters& c) { c.set_orders_created(c.orders_created() + 1); }
void CountComplaint(v1::SqiMonthCounters& c) { c.set_complaints_filed(c.complaints_filed() + 1); }

v1::SqiScore ComputeSqi(const v1::SqiMonthCounters& k, const v1::SatisfactionBucket& sat,
                        const v1::SatisfactionPolicy& p, absl::Time now) {
  v1::SqiScore score;
  score.set_region_code(k.region_code());
  *score.mutable_month() = k.month();
  *score.mutable_computed_at() = rpc::ToProto(now);
  *score.mutable_policy() = p.ref();

  v1::SqiComponent timeliness;
  timeliness.set_kind(v1::SQI_COMPONENT_KIND_TIMELINESS);
  timeliness.set_weight(p.sqi_weight_timeliness());
  if (k.arrival_clocks() > 0) {
    const double r = Rate(k.arrival_met(), k.arrival_clocks());
    AddInput(timeliness, "on_time_arrival_rate", r, 100 * r);
  }
  if (k.first_contact_clocks() > 0) {
    const double r = Rate(k.first_contact_met(), k.first_contact_clocks());
    AddInput(timeliness, "response_compliance_rate", r, 100 * r);
  }
  Finish(timeliness);

  v1::SqiComponent technical;
  technical.set_kind(v1::SQI_COMPONENT_KIND_TECHNICAL);
  technical.set_weight(p.sqi_weight_technical());
  if (k.repairs_confirmed() > 0) {
    const double ftf = Rate(k.first_visit_fixes(), k.repairs_confirmed());
    const double diag = Rate(k.diagnosis_matched(), k.repairs_confirmed());
    AddInput(technical, "first_time_fix_rate", ftf, 100 * ftf);
    AddInput(technical, "diagnosis_accuracy", diag, 100 * diag);
  }
  Finish(technical);

  v1::SqiComponent experience;
  experience.set_kind(v1::SQI_COMPONENT_KIND_EXPERIENCE);
  experience.set_weight(p.sqi_weight_experience());
  if (sat.responses() > 0) {
    const double index = SatisfactionIndex(sat, p);
    AddInput(experience, "satisfaction_index", index, index);
  }
  if (k.orders_created() > 0) {
    const double rate = Rate(k.complaints_filed(), k.orders_created());
    AddInput(experience, "complaint_rate", rate,
             100.0 * std::max(0.0, 1.0 - rate / p.sqi_complaint_rate_at_zero()));
  }
  Finish(experience);

  v1::SqiComponent security;
  security.set_kind(v1::SQI_COMPONENT_KIND_DATA_SECURITY);
  security.set_weight(p.sqi_weight_data_security());
  AddInput(security, "security_incidents", static_cast<double>(k.security_incidents()),
           100.0 - static_cast<double>(k.security_incidents()) * p.sqi_incident_penalty());
  Finish(security);

  double weighted = 0, weights = 0;
  for (v1::SqiComponent* c : {&timeliness, &technical, &experience, &security}) {
    if (!c->no_data()) {
      weighted += c->weight() * c->score();
      weights += c->weight();
    }
    *score.add_components() = *c;
  }
  score.set_total(weights > 0 ? weighted / weights : 0);
  return score;
}

void RankSqi(std::vector<v1::SqiScore>& scores) {
  std::sort(scores.begin(), scores.end(), [](const v1::SqiScore& a, const v1::SqiScore& b) {
    if (a.total() != b.total()) return a.total() > b.total();
    return a.region_code() < b.region_code();
  });
  for (size_t i = 0; i < scores.size(); ++i) {
    scores[i].set_rank(static_cast<int32_t>(i + 1));
    scores[i].set_ranked_regions(static_cast<int32_t>(scores.size()));
  }
}

absl::CivilMonth LocalMonth(absl::Time t, const absl::TimeZone& zone) {
  return absl::ToCivilMonth(t, zone);
}

}  // namespace aftersales::satisfaction::domain
