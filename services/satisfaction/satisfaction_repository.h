#ifndef AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_REPOSITORY_H_
#define AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_REPOSITORY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aftersales/v1/satisfaction.pb.h"
#include "privacy/customer_keys.h"
#include "privacy/sealed_fields.h"
#include "store/idempotency.h"
#include "store/queue_index.h"
#include "store/store.h"

namespace aftersales::satisfaction {

// Everything satisfaction keeps in its RocksDB: surveys with their list
// indexes and the due/expiry timer index the sweeper reads; daily scorecard
// buckets per (dimension, key, local day) and the registry of keys; engineer
// ratings; follow-up tasks and churn risks with their indexes; customers'
// complaint history; SQI counters per (month, region). Stage* methods put a
// record together with every derived row into the caller's batch.
class SatisfactionRepository {
 public:
  // Survey comments (the customer's words) are sealed with the customer's
  // data key (`keys`) in their own row (SPEC §8).
  SatisfactionRepository(store::Store* store, privacy::CustomerKeys* keys);
  static std::vector<std::string> ColumnFamilies();

  store::Store& store() { return *store_; }
  const store::IdempotencyKeys& idempotency() const { return idempotency_; }

  // --- surveys ---
  absl::StatusOr<std::optional<v1::Survey>> GetSurvey(const std::string& survey_id) const;
  // Whether a survey holds a sealed comment.
  // The customer data keys (erasure shreds one).
  privacy::CustomerKeys& keys() { return *keys_; }
  absl::StatusOr<bool> HasSealedPii(const std::string& survey_id) const {
    return sealed_.Has(survey_id);
  }
  // Writes `after` (new when `before` is null), its sealed comment, its index
  // rows and its timer row. Fails only when the customer's key cannot be read.
  absl::Status StageSurvey(store::Batch& batch, const v1::Survey* before, const v1::Survey& after,
                   absl::Time next_timer);
  // Survey ids whose timer is at or before `now`, earliest first.
  absl::StatusOr<std::vector<std::string>> DueSurveys(absl::Time now, size_t limit) const;
  // The earliest pending timer (InfiniteFuture when none).
  absl::StatusOr<absl::Time> NextTimer() const;
  struct SurveyPage {
    std::vector<v1::Survey> surveys;
    std::string last_key;  // set when more may follow
  };
  // Surveys matching `filter` (newest scheduled first) through the most
  // selective index; `partner_id` (non-empty) restricts to one partner.
  absl::StatusOr<SurveyPage> ListSurveys(const v1::ListSurveysRequest& filter,
                                         const std::string& partner_id,
                                         const std::string& after_key, size_t limit,
                                         size_t max_examined = 5000) const;

  // --- scorecard buckets ---
  // Bucket key of (dimension, key, local day number).
  static std::string BucketKey(v1::ScorecardDimension dimension, absl::string_view key,
                               int64_t day);
  absl::StatusOr<v1::SatisfactionBucket> GetBucket(const std::string& bucket_key) const;
  // Writes the bucket and registers (dimension, key) for ListScorecards.
  void PutBucket(store::Batch& batch, v1::ScorecardDimension dimension, absl::string_view key,
                 const std::string& bucket_key, const v1::SatisfactionBucket& bucket);
  // Sum of the buckets of days [first_day, end_day): one range read.
  absl::StatusOr<v1::SatisfactionBucket> SumBuckets(v1::ScorecardDimension dimension,
                                                    absl::string_view key, int64_t first_day,
                                                    int64_t end_day) const;
  // Keys with any bucket in `dimension`, in key order.
  absl::StatusOr<std::vector<std::string>> ScorecardKeys(v1::ScorecardDimension dimension) const;

  // --- ratings ---
  absl::StatusOr<std::optional<v1::EngineerRating>> GetRating(const std::string& engineer_id) const;
  void PutRating(store::Batch& batch, const v1::EngineerRating& rating);

  // --- follow-up tasks ---
  absl::StatusOr<std::optional<v1::FollowUpTask>> GetTask(const std::string& task_id) const;
  void StageTask(store::Batch& batch, const v1::FollowUpTask* before, const v1::FollowUpTask& after);
  struct TaskPage {
    std::vector<v1::FollowUpTask> tasks;
    std::string last_key;
  };
  // Tasks matching the filter, due_at ascending.
  absl::StatusOr<TaskPage> ListTasks(const v1::ListFollowUpTasksRequest& filter,
                                     const std::string& after_key, size_t limit,
                                     size_t max_examined = 5000) const;

  // --- churn risks and customer history ---
  absl::StatusOr<std::optional<v1::ChurnRisk>> GetRisk(const std::string& customer_id) const;
  void StageRisk(store::Batch& batch, const v1::ChurnRisk* before, const v1::ChurnRisk& after);
  struct RiskPage {
    std::vector<v1::ChurnRisk> risks;
    std::string last_key;
  };
  // Risks in `state` (UNSPECIFIED = any), win_back_due_at ascending.
  absl::StatusOr<RiskPage> ListRisks(v1::ChurnRiskState state, const std::string& after_key,
                                     size_t limit) const;
  absl::StatusOr<std::optional<v1::CustomerHistory>> GetHistory(const std::string& customer_id) const;
  void PutHistory(store::Batch& batch, const v1::CustomerHistory& history);

  // --- SQI counters ---
  absl::StatusOr<std::optional<v1::SqiMonthCounters>> GetSqi(absl::CivilMonth month,
                                                             const std::string& region) const;
  void PutSqi(store::Batch& batch, const v1::SqiMonthCounters& counters);
  // Every region's counters of `month`.
  absl::StatusOr<std::vector<v1::SqiMonthCounters>> SqiOfMonth(absl::CivilMonth month) const;
  static std::string SqiKey(absl::CivilMonth month, absl::string_view region);

 private:
  store::Store* store_;
  privacy::CustomerKeys* keys_;
  privacy::SealedFields sealed_;
  store::Table<v1::Survey> surveys_;
  store::IdempotencyKeys idempotency_;
  store::Table<v1::SatisfactionBucket> buckets_;
  store::Table<v1::EngineerRating> ratings_;
  store::Table<v1::FollowUpTask> tasks_;
  store::Table<v1::ChurnRisk> risks_;
  store::Table<v1::CustomerHistory> customers_;
  store::Table<v1::SqiMonthCounters> sqi_;
  rocksdb::ColumnFamilyHandle* survey_index_;
  store::QueueIndex survey_timers_;
  rocksdb::ColumnFamilyHandle* survey_timer_at_;
  rocksdb::ColumnFamilyHandle* scorecard_keys_;
  rocksdb::ColumnFamilyHandle* task_index_;
  rocksdb::ColumnFamilyHandle* risk_index_;
};

// Short name of a scorecard dimension ("engineer", ...) used in keys and labels.
std::string DimensionName(v1::ScorecardDimension dimension);

}  // namespace aftersales::satisfaction

#endif  // AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_REPOSITORY_H_
