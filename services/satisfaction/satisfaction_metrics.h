#ifndef AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_METRICS_H_
#define AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_METRICS_H_

#include <string>

#include "aftersales/v1/satisfaction.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace aftersales::satisfaction {

// Satisfaction's Prometheus metrics (SPEC §7.1): CSAT/NPS/index and
// follow-up coverage gauges per region and window, surveys by outcome,
// deep follow-ups opened, detractor recoveries, churn flags and rating
// publications. Labels are bounded: region codes, windows, enum names.
class SatisfactionMetrics {
 public:
  explicit SatisfactionMetrics(prometheus::Registry& registry);

  // outcome: scheduled | sent | answered | expired.
  void Survey(const std::string& outcome);
  // nps_class of an answer: promoter | passive | detractor.
  void Answer(int nps);
  void DeepFollowUpOpened();
  // stage: opened (detractor answer -> complaint + win-back task) | contacted
  // (the win-back contact of a detractor's churn risk was made).
  void DetractorRecovery(const std::string& stage);
  void ChurnFlagged(v1::ChurnReason reason);
  void RatingPublished();
  void ProblemNotSolved();
  void FiveStar();
  // The region's scorecard in `window` (rolling_7d, rolling_30d, rolling_90d,
  // calendar_week).
  void SetRegion(const std::string& region, const std::string& window, const v1::Scorecard& card);

 private:
  prometheus::Family<prometheus::Counter>& surveys_;
  prometheus::Family<prometheus::Counter>& answers_;
  prometheus::Counter& deep_follow_ups_;
  prometheus::Family<prometheus::Counter>& recoveries_;
  prometheus::Family<prometheus::Counter>& churn_;
  prometheus::Counter& ratings_;
  prometheus::Counter& not_solved_;
  prometheus::Counter& five_star_;
  prometheus::Family<prometheus::Gauge>& csat_;
  prometheus::Family<prometheus::Gauge>& nps_;
  prometheus::Family<prometheus::Gauge>& index_;
  prometheus::Family<prometheus::Gauge>& coverage_;
  prometheus::Family<prometheus::Gauge>& response_rate_;
  prometheus::Family<prometheus::Gauge>& responses_;
};

}  // namespace aftersales::satisfaction

#endif  // AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_METRICS_H_
