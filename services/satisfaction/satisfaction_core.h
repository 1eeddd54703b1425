#ifndef AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_CORE_H_
#define AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_CORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/satisfaction.pb.h"
#include "satisfaction/satisfaction_metrics.h"
#include "satisfaction/satisfaction_repository.h"
#include "server/host.h"
#include "server/policy_holder.h"

namespace aftersales::satisfaction {

using SatisfactionPolicyHolder = server::PolicyHolder<v1::SatisfactionPolicy>;

// What the satisfaction handlers, event consumers and the sweeper share:
// the repository, the active policy, metrics, and every state change —
// each taken under the key locks of everything it touches (survey, its four
// scorecard buckets, rating, customer, SQI counters; one Lock call, so no
// lock-order deadlock) and written as one synced batch with its events.
class SatisfactionCore {
 public:
  // `keys`: the customer data keys PII is sealed with (privacy::OpenServiceKeys).
  SatisfactionCore(server::ServiceHost& host, std::unique_ptr<SatisfactionPolicyHolder> policy,
                   privacy::CustomerKeys* keys);

  server::ServiceHost& host() { return host_; }
  SatisfactionRepository& repo() { return repo_; }
  SatisfactionPolicyHolder& policy() { return *policy_; }
  SatisfactionMetrics& metrics() { return metrics_; }

  // intake's stream: OrderConfirmedRepaired schedules a survey (and counts
  // FTF/diagnosis for SQI), OrderCreated counts orders and flags a rework's
  // churn risk, SlaClockStopped counts timeliness, CustomerErasureRequested
  // erases survey comments. Staged into the consumer's batch.
  absl::Status ApplyIntakeEvent(const v1::Event& event, store::Batch& batch);
  // complaint's stream: ComplaintFiled counts for SQI and churn (>= 2 in 90 days).
  absl::Status ApplyComplaintEvent(const v1::Event& event, store::Batch& batch);

  // SubmitSurvey, after request validation: idempotent per (survey, request id).
  absl::StatusOr<v1::SubmitSurveyResponse> Submit(const v1::SubmitSurveyRequest& request);

  // CompleteFollowUpTask; a WIN_BACK task moves its churn risk to CONTACTED.
  absl::StatusOr<v1::FollowUpTask> CompleteTask(const std::string& task_id,
                                                const std::string& assignee_id,
                                                const std::string& outcome_note);

  // A scorecard from at most 90 daily buckets (INVALID_ARGUMENT for a bad
  // window or week_start).
  absl::StatusOr<v1::Scorecard> Scorecard(v1::ScorecardDimension dimension,
                                          const std::string& key, v1::AggregationWindow window,
                                          const v1::CalendarDate* week_start);
  // Every key's scorecard of the dimension with >= min_responses answers,
  // by satisfaction index descending (ties: key ascending).
  absl::StatusOr<std::vector<v1::Scorecard>> Scorecards(v1::ScorecardDimension dimension,
                                                        v1::AggregationWindow window,
                                                        const v1::CalendarDate* week_start,
                                                        int64_t min_responses);
  // Regions ranked by SQI for a local month.
  absl::StatusOr<std::vector<v1::SqiScore>> SqiRanking(absl::CivilMonth month);
  // The month before the current one in the policy zone.
  absl::CivilMonth PreviousMonth();

  // One sweep: surveys whose due or expiry time passed change state (and
  // their buckets). Returns how many surveys it looked at.
  absl::StatusOr<int> SweepDueSurveys(size_t limit);
  // Recomputes the per-region gauges (all regions, or one).
  absl::Status RefreshGauges();
  absl::Status RefreshRegionGauges(const std::string& region);

 private:
  struct BucketRef {
    v1::ScorecardDimension dimension;
    std::string key;
    std::string bucket_key;
  };
  std::vector<BucketRef> BucketsOf(const v1::Survey& survey, const v1::SatisfactionPolicy& policy);
  absl::Status ScheduleSurvey(const v1::Event& event, store::Batch& batch);
  // Stages a churn flag (risk, WIN_BACK task, events) into `batch`; the
  // caller holds the customer's lock. Returns the new task id, if any.
  absl::StatusOr<std::string> StageChurn(store::Batch& batch, const std::string& customer_id,
                                         v1::ChurnReason reason, const std::string& evidence,
                                         const std::string& survey_id, const std::string& order_id,
                                         const v1::SatisfactionPolicy& policy, absl::Time now);
  absl::Status AdvanceSurvey(const std::string& survey_id);
  v1::SubmitSurveyResponse RetryResponse(const v1::Survey& survey,
                                         const v1::SatisfactionPolicy& policy);

  server::ServiceHost& host_;
  SatisfactionRepository repo_;
  std::unique_ptr<SatisfactionPolicyHolder> policy_;
  SatisfactionMetrics metrics_;
};

// The sweeper/gauge loop: sweeps due surveys, refreshes gauges once a
// minute of service time, and waits on the service clock until the next
// timer (a manual clock moved forward wakes it at once) or 250 ms.
void RunBackground(SatisfactionCore& core);

}  // namespace aftersales::satisfaction

#endif  // AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_CORE_H_
