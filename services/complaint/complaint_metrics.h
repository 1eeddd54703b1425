#ifndef AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_METRICS_H_
#define AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_METRICS_H_

#include <vector>

#include "aftersales/v1/complaint.pb.h"
#include "complaint/domain/lifecycle.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace aftersales::complaint {

// Complaint KPIs as Prometheus metrics (SPEC §5, §7.1), fed from each
// committed change. Labels are bounded: grade, category, region (policy
// data), channel, state, clock, reason, owner level, rule id (policy data).
//   aftersales_complaints_filed_total{grade,category,region,channel}
//   aftersales_complaint_rules_fired_total{rule}
//   aftersales_complaint_acknowledge_duration_seconds{grade}  (histogram)
//   aftersales_complaint_resolution_duration_seconds{grade}   (histogram)
//   aftersales_complaint_escalations_total{reason,to_level,grade}
//   aftersales_complaint_deadline_misses_total{clock,grade}
//   aftersales_complaint_at_risk_total{clock,grade}
//   aftersales_complaints_resolved_total{grade}, _reopened_total{grade}
//     (reopen rate = reopened / resolved)
//   aftersales_complaint_regrades_total{from,to}
//   aftersales_complaints{state}  (gauge)
//   aftersales_complaint_clocks_stopped_total{clock,grade,outcome}
//     (outcome MET|BREACHED: compliance = MET / (MET + BREACHED))
//   aftersales_appliance_model_clusters_total  (complaints that completed a
//     same-model cluster; SPEC 7.2 level 1 product-quality signal)
class ComplaintMetrics {
 public:
  explicit ComplaintMetrics(prometheus::Registry& registry);

  // After a change committed; `before` is null for a new complaint.
  void Observe(const v1::Complaint* before, const domain::Change& change);
  void SetByState(v1::ComplaintState state, double count);

 private:
  prometheus::Family<prometheus::Counter>& filed_;
  prometheus::Family<prometheus::Counter>& rules_;
  prometheus::Family<prometheus::Histogram>& acknowledge_;
  prometheus::Family<prometheus::Histogram>& resolution_;
  prometheus::Family<prometheus::Counter>& escalations_;
  prometheus::Family<prometheus::Counter>& misses_;
  prometheus::Family<prometheus::Counter>& at_risk_;
  prometheus::Family<prometheus::Counter>& resolved_;
  prometheus::Family<prometheus::Counter>& reopened_;
  prometheus::Family<prometheus::Counter>& regrades_;
  prometheus::Family<prometheus::Gauge>& by_state_;
  prometheus::Family<prometheus::Counter>& stopped_;
  prometheus::Counter& model_clusters_;
};

}  // namespace aftersales::complaint

#endif  // AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_METRICS_H_
