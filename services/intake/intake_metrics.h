#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_METRICS_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_METRICS_H_

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

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
  // Region labels: a code `known` accepts (the policy's regions) is its own
  // label, any other code is "other", so clients cannot grow the series.
  // `initial` are created at start (zero) so alerts and dashboards see them.
  void SetRegions(std::function<bool(const std::string&)> known,
                  const std::vector<std::string>& initial);
  // A data-security incident (SPEC §7.2 alert at > 3 per month), by kind:
  // scope_violation | audit_chain_broken | pii_decryption_failed.
  void SecurityIncident(const std::string& kind);

  // Level 2 (SPEC §7.2): an engineer is "slow" when the mean on-site service
  // duration of their jobs in the last kRecentWindow is >= kSlowRatio x the
  // mean of their other jobs of the last kBaselineWindow (at least
  // kMinBaselineJobs of them). Re-judged at each of their repairs.
  static constexpr double kSlowRatio = 1.5;
  static constexpr absl::Duration kRecentWindow = absl::Hours(24);
  static constexpr absl::Duration kBaselineWindow = absl::Hours(30 * 24);
  static constexpr int kMinBaselineJobs = 3;

 private:
  std::string Region(const std::string& code) const;
  void ObserveServiceDuration(const v1::WorkOrder& after, const v1::Event& repaired);

  prometheus::Family<prometheus::Histogram>& clock_seconds_;
  prometheus::Family<prometheus::Counter>& breaches_;
  prometheus::Family<prometheus::Counter>& at_risk_;
  prometheus::Family<prometheus::Gauge>& orders_by_state_;
  prometheus::Family<prometheus::Counter>& created_;
  prometheus::Family<prometheus::Counter>& repairs_;
  prometheus::Family<prometheus::Counter>& compensations_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Histogram>& service_seconds_;
  prometheus::Family<prometheus::Gauge>& slow_engineers_;
  prometheus::Family<prometheus::Counter>& security_incidents_;

  mutable absl::Mutex mu_;
  std::function<bool(const std::string&)> known_region_ ABSL_GUARDED_BY(mu_);
  struct Job {
    absl::Time at;
    double seconds;
  };
  struct EngineerJobs {
    std::deque<Job> jobs;  // within kBaselineWindow, oldest first
    std::string region;    // label of the last job
    bool slow = false;
  };
  std::map<std::string, EngineerJobs> engineers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_METRICS_H_
