#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_METRICS_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_METRICS_H_

#include <vector>

#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/intake.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace aftersales::intake {

// Intake's SLA and KPI metrics (SPEC §2.5, §7.1), fed from the events of each
// committed change, so what is counted is what happened. Labels are bounded:
// clock, priority, city tier, region (policy data), outcome, cause, state.
class IntakeMetrics {
 public:
  explicit IntakeMetrics(prometheus::Registry& registry);

  // After a change committed: `before` is null for a new order.
  void Observe(const v1::WorkOrder* before, const v1::WorkOrder& after,
               const std::vector<v1::Event>& events);
  // Open-orders gauge at start-up, from the stored orders by state.
  void SetOrdersByState(v1::OrderState state, double count);

 private:
  prometheus::Family<prometheus::Histogram>& clock_seconds_;
  prometheus::Family<prometheus::Counter>& breaches_;
  prometheus::Family<prometheus::Counter>& at_risk_;
  prometheus::Family<prometheus::Gauge>& orders_by_state_;
  prometheus::Family<prometheus::Counter>& created_;
  prometheus::Family<prometheus::Counter>& repairs_;
  prometheus::Family<prometheus::Counter>& compensations_;
  prometheus::Family<prometheus::Counter>& transitions_;
};

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_METRICS_H_
