#include "satisfaction/satisfaction_repository.h"

#include <algorithm>
#include <set>

#include "rpc/rpc.h"
#include "satisfaction/domain/aggregate.h"
#include "store/keys.h"

namespace aftersales::satisfaction {
namespace {

constexpr char kSurveys[] = "surveys";
constexpr char kSurveyIndex[] = "survey_index";
constexpr char kSurveyTimers[] = "survey_timers";
constexpr char kSurveyTimerAt[] = "survey_timer_at";  // survey id -> its timer row
constexpr char kIdempotency[] = "idempotency";
constexpr char kBuckets[] = "buckets";
constexpr char kScorecardKeys[] = "scorecard_keys";
constexpr char kRatings[] = "ratings";
constexpr char kTasks[] = "tasks";
constexpr char kTaskIndex[] = "task_index";
constexpr char kRisks[] = "churn_risks";
constexpr char kRiskIndex[] = "churn_index";
constexpr char kCustomers[] = "customers";
constexpr char kSqi[] = "sqi_months";
constexpr char kSealedPii[] = "sealed_pii";

// Day numbers are shifted so days before 1970 still encode as unsigned.
constexpr int64_t kDayOffset = 1'000'000;

uint64_t Micros(absl::Time t) {
  return static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixMicros(t), 0));
}

std::string NewestFirst(const google::protobuf::Timestamp& t) {
  return store::EncodeU64(UINT64_MAX - Micros(rpc::FromProto(t)));
}

std::string Ascending(const google::protobuf::Timestamp& t) {
  return store::EncodeU64(Micros(rpc::FromProto(t)));
}

std::string Prefix(absl::string_view dim, absl::string_view value) {
  std::string p = store::CompositeKey({dim, value});
  p.push_back('\0');
  return p;
}

std::set<std::string> SurveyRows(const v1::Survey& s) {
  const std::string tail = NewestFirst(s.scheduled_at()) + s.survey_id();
  std::set<std::string> rows = {
      Prefix("all", "") + tail,
      Prefix("order", s.order_id()) + tail,
      Prefix("customer", s.customer_id()) + tail,
      Prefix("state", v1::SurveyState_Name(s.state())) + tail,
  };
  if (!s.engineer_id().empty()) rows.insert(Prefix("engineer", s.engineer_id()) + tail);
  if (!s.partner_id().empty()) rows.insert(Prefix("partner", s.partner_id()) + tail);
  if (!s.region_code().empty()) rows.insert(Prefix("region", s.region_code()) + tail);
  return rows;
}

std::set<std::string> TaskRows(const v1::FollowUpTask& t) {
  const std::string tail = Ascending(t.due_at()) + t.task_id();
  std::set<std::string> rows = {
      Prefix("all", "") + tail,
      Prefix("state", v1::FollowUpTaskState_Name(t.state())) + tail,
      Prefix("kind", v1::FollowUpTaskKind_Name(t.kind())) + tail,
      Prefix("customer", t.customer_id()) + tail,
  };
  if (!t.order_id().empty()) rows.insert(Prefix("order", t.order_id()) + tail);
  return rows;
}

std::set<std::string> RiskRows(const v1::ChurnRisk& r) {
  const std::string tail = Ascending(r.win_back_due_at()) + r.customer_id();
  return {Prefix("all", "") + tail, Prefix("state", v1::ChurnRiskState_Name(r.state())) + tail};
}

void ReplaceRows(store::Batch& batch, rocksdb::ColumnFamilyHandle* cf,
                 const std::set<std::string>& old_rows, const std::set<std::string>& new_rows) {
  for (const auto& r : old_rows) {
    if (!new_rows.count(r)) batch.Delete(cf, r);
  }
  for (const auto& r : new_rows) {
    if (!old_rows.count(r)) batch.Put(cf, r, "");
  }
}

bool SurveyMatches(const v1::Survey& s, const v1::ListSurveysRequest& f,
                   const std::string& partner_id) {
  if (!f.order_id().empty() && s.order_id() != f.order_id()) return false;
  if (!f.engineer_id().empty() && s.engineer_id() != f.engineer_id()) return false;
  if (!f.customer_id().empty() && s.customer_id() != f.customer_id()) return false;
  if (!f.region_code().empty() && s.region_code() != f.region_code()) return false;
  if (f.state() != v1::SURVEY_STATE_UNSPECIFIED && s.state() != f.state()) return false;
  if (!partner_id.empty() && s.partner_id() != partner_id) return false;
  if (f.has_scheduled()) {
    const absl::Time t = rpc::FromProto(s.scheduled_at());
    if (f.scheduled().has_start() && t < rpc::FromProto(f.scheduled().start())) return false;
    if (f.scheduled().has_end() && t >= rpc::FromProto(f.scheduled().end())) return false;
  }
  return true;
}

bool TaskMatches(const v1::FollowUpTask& t, const v1::ListFollowUpTasksRequest& f) {
  if (f.state() != v1::FOLLOW_UP_TASK_STATE_UNSPECIFIED && t.state() != f.state()) return false;
  if (f.kind() != v1::FOLLOW_UP_TASK_KIND_UNSPECIFIED && t.kind() != f.kind()) return false;
  if (!f.order_id().empty() && t.order_id() != f.order_id()) return false;
  if (!f.customer_id().empty() && t.customer_id() != f.customer_id()) return false;
  return true;
}

absl::Status CheckToken(const std::string& after_key, const std::string& prefix) {
  if (!after_key.empty() && after_key.compare(0, prefix.size(), prefix) != 0) {
    return absl::InvalidArgumentError("page.page_token: belongs to a different filter");
  }
  return absl::OkStatus();
}

std::string StartAfter(const std::string& prefix, const std::string& after_key) {
  return after_key.empty() ? prefix : after_key + std::string(1, '\0');
}

}  // namespace

std::string DimensionName(v1::ScorecardDimension d) {
  switch (d) {
    case v1::SCORECARD_DIMENSION_ENGINEER: return "engineer";
    case v1::SCORECARD_DIMENSION_PARTNER: return "partner";
    case v1::SCORECARD_DIMENSION_REGION: return "region";
    case v1::SCORECARD_DIMENSION_CATEGORY: return "category";
    default: return "unspecified";
  }
}

SatisfactionRepository::SatisfactionRepository(store::Store* store,
                                               privacy::CustomerKeys* keys)
    : store_(store),
      keys_(keys),
      sealed_(store, kSealedPii, "survey", keys, {"response.comment"}),
      surveys_(store, kSurveys),
      idempotency_(store, kIdempotency),
      buckets_(store, kBuckets),
      ratings_(store, kRatings),
      tasks_(store, kTasks),
      risks_(store, kRisks),
      customers_(store, kCustomers),
      sqi_(store, kSqi),
      survey_index_(store->Family(kSurveyIndex)),
      survey_timers_(store, kSurveyTimers),
      survey_timer_at_(store->Family(kSurveyTimerAt)),
      scorecard_keys_(store->Family(kScorecardKeys)),
      task_index_(store->Family(kTaskIndex)),
      risk_index_(store->Family(kRiskIndex)) {}

std::vector<std::string> SatisfactionRepository::ColumnFamilies() {
  return {kSurveys, kSurveyIndex, kSurveyTimers, kSurveyTimerAt, kIdempotency,
          kBuckets, kScorecardKeys, kRatings,    kTasks,         kTaskIndex,
          kRisks,   kRiskIndex,     kCustomers,  kSqi,
          kSealedPii, privacy::kCustomerKeysFamily};
}

absl::StatusOr<std::optional<v1::Survey>> SatisfactionRepository::GetSurvey(
    const std::string& survey_id) const {
  auto survey = surveys_.Get(survey_id);
  if (!survey.ok() || !survey->has_value()) return survey;
  if (absl::Status s = sealed_.Open(survey_id, **survey); !s.ok()) return s;
  return survey;
}

absl::Status SatisfactionRepository::StageSurvey(store::Batch& batch, const v1::Survey* before,
                                                 const v1::Survey& after,
                                                 absl::Time next_timer) {
  v1::Survey stored = after;
  if (absl::Status s = sealed_.Seal(batch, after.survey_id(), after.customer_id(), stored,
                                    before, absl::Now());
      !s.ok()) {
    return s;
  }
  surveys_.Put(batch, after.survey_id(), stored);
  ReplaceRows(batch, survey_index_, before ? SurveyRows(*before) : std::set<std::string>(),
              SurveyRows(after));
  auto old_row = store_->Get(survey_timer_at_, after.survey_id());
  if (old_row.ok() && old_row->has_value()) survey_timers_.Delete(batch, **old_row);
  if (next_timer == absl::InfiniteFuture()) {
    batch.Delete(survey_timer_at_, after.survey_id());
  } else {
    const std::string row = store::EncodeU64(Micros(next_timer)) + after.survey_id();
    survey_timers_.Put(batch, row);
    batch.Put(survey_timer_at_, after.survey_id(), row);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SatisfactionRepository::DueSurveys(absl::Time now,
                                                                           size_t limit) const {
  const std::string end = store::EncodeU64(Micros(now) + 1);
  std::vector<std::string> ids;
  absl::Status s = survey_timers_.Scan(end, [&](absl::string_view row, absl::string_view) {
    ids.emplace_back(row.substr(8));
    return ids.size() < limit;
  });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<absl::Time> SatisfactionRepository::NextTimer() const {
  absl::Time next = absl::InfiniteFuture();
  absl::Status s = survey_timers_.Scan("", [&](absl::string_view row, absl::string_view) {
    if (auto micros = store::DecodeU64(row.substr(0, 8))) {
      next = absl::FromUnixMicros(static_cast<int64_t>(*micros));
    }
    return false;
  });
  if (!s.ok()) return s;
  return next;
}

absl::StatusOr<SatisfactionRepository::SurveyPage> SatisfactionRepository::ListSurveys(
    const v1::ListSurveysRequest& f, const std::string& partner_id, const std::string& after_key,
    size_t limit, size_t max_examined) const {
  std::string prefix;
  if (!f.order_id().empty()) {
    prefix = Prefix("order", f.order_id());
  } else if (!f.customer_id().empty()) {
    prefix = Prefix("customer", f.customer_id());
  } else if (!f.engineer_id().empty()) {
    prefix = Prefix("engineer", f.engineer_id());
  } else if (!partner_id.empty()) {
    prefix = Prefix("partner", partner_id);
  } else if (!f.region_code().empty()) {
    prefix = Prefix("region", f.region_code());
  } else if (f.state() != v1::SURVEY_STATE_UNSPECIFIED) {
    prefix = Prefix("state", v1::SurveyState_Name(f.state()));
  } else {
    prefix = Prefix("all", "");
  }
  if (absl::Status s = CheckToken(after_key, prefix); !s.ok()) return s;
  SurveyPage page;
  size_t examined = 0;
  std::string last_row;
  bool more = false;
  absl::Status read_status;
  absl::Status s = store_->Scan(
      survey_index_, StartAfter(prefix, after_key), store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (page.surveys.size() == limit || examined == max_examined) {
          more = true;
          return false;
        }
        ++examined;
        last_row = std::string(row);
        const std::string id(row.substr(prefix.size() + 8));
        auto survey = surveys_.Get(id);
        if (!survey.ok()) {
          read_status = survey.status();
          return false;
        }
        // Filters never look at the comment: open only what is returned.
        if (survey->has_value() && SurveyMatches(**survey, f, partner_id)) {
          if (absl::Status opened = sealed_.Open(id, **survey); !opened.ok()) {
            read_status = opened;
            return false;
          }
          page.surveys.push_back(**survey);
        }
        return true;
      });
  if (!s.ok()) return s;
  if (!read_status.ok()) return read_status;
  if (more) page.last_key = last_row;
  return page;
}

std::string SatisfactionRepository::BucketKey(v1::ScorecardDimension dimension,
                                              absl::string_view key, int64_t day) {
  return Prefix(DimensionName(dimension), key) +
         store::EncodeU64(static_cast<uint64_t>(day + kDayOffset));
}

absl::StatusOr<v1::SatisfactionBucket> SatisfactionRepository::GetBucket(
    const std::string& bucket_key) const {
  auto b = buckets_.Get(bucket_key);
  if (!b.ok()) return b.status();
  return b->has_value() ? **b : v1::SatisfactionBucket();
}

void SatisfactionRepository::PutBucket(store::Batch& batch, v1::ScorecardDimension dimension,
                                       absl::string_view key, const std::string& bucket_key,
                                       const v1::SatisfactionBucket& bucket) {
  buckets_.Put(batch, bucket_key, bucket);
  batch.Put(scorecard_keys_, store::CompositeKey({DimensionName(dimension), key}), "");
}

absl::StatusOr<v1::SatisfactionBucket> SatisfactionRepository::SumBuckets(
    v1::ScorecardDimension dimension, absl::string_view key, int64_t first_day,
    int64_t end_day) const {
  v1::SatisfactionBucket sum;
  absl::Status parse;
  absl::Status s = store_->Scan(
      buckets_.family(), BucketKey(dimension, key, first_day), BucketKey(dimension, key, end_day),
      [&](absl::string_view, absl::string_view value) {
        v1::SatisfactionBucket b;
        if (!b.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse = absl::DataLossError("unparseable scorecard bucket");
          return false;
        }
        domain::AddInto(sum, b);
        return true;
      });
  if (!s.ok()) return s;
  if (!parse.ok()) return parse;
  return sum;
}

absl::StatusOr<std::vector<std::string>> SatisfactionRepository::ScorecardKeys(
    v1::ScorecardDimension dimension) const {
  const std::string prefix = DimensionName(dimension) + std::string(1, '\0');
  std::vector<std::string> keys;
  absl::Status s = store_->Scan(scorecard_keys_, prefix, store::PrefixSuccessor(prefix),
                                [&](absl::string_view row, absl::string_view) {
                                  keys.emplace_back(row.substr(prefix.size()));
                                  return true;
                                });
  if (!s.ok()) return s;
  return keys;
}

absl::StatusOr<std::optional<v1::EngineerRating>> SatisfactionRepository::GetRating(
    const std::string& engineer_id) const {
  return ratings_.Get(engineer_id);
}

void SatisfactionRepository::PutRating(store::Batch& batch, const v1::EngineerRating& rating) {
  ratings_.Put(batch, rating.engineer_id(), rating);
}

absl::StatusOr<std::optional<v1::FollowUpTask>> SatisfactionRepository::GetTask(
    const std::string& task_id) const {
  return tasks_.Get(task_id);
}

void SatisfactionRepository::StageTask(store::Batch& batch, const v1::FollowUpTask* before,
                                       const v1::FollowUpTask& after) {
  tasks_.Put(batch, after.task_id(), after);
  ReplaceRows(batch, task_index_, before ? TaskRows(*before) : std::set<std::string>(),
              TaskRows(after));
}

absl::StatusOr<SatisfactionRepository::TaskPage> SatisfactionRepository::ListTasks(
    const v1::ListFollowUpTasksRequest& f, const std::string& after_key, size_t limit,
    size_t max_examined) const {
  std::string prefix;
  if (!f.order_id().empty()) {
    prefix = Prefix("order", f.order_id());
  } else if (!f.customer_id().empty()) {
    prefix = Prefix("customer", f.customer_id());
  } else if (f.state() != v1::FOLLOW_UP_TASK_STATE_UNSPECIFIED) {
    prefix = Prefix("state", v1::FollowUpTaskState_Name(f.state()));
  } else if (f.kind() != v1::FOLLOW_UP_TASK_KIND_UNSPECIFIED) {
    prefix = Prefix("kind", v1::FollowUpTaskKind_Name(f.kind()));
  } else {
    prefix = Prefix("all", "");
  }
  if (absl::Status s = CheckToken(after_key, prefix); !s.ok()) return s;
  TaskPage page;
  size_t examined = 0;
  std::string last_row;
  bool more = false;
  absl::Status read_status;
  absl::Status s = store_->Scan(
      task_index_, StartAfter(prefix, after_key), store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (page.tasks.size() == limit || examined == max_examined) {
          more = true;
          return false;
        }
        ++examined;
        last_row = std::string(row);
        auto task = tasks_.Get(row.substr(prefix.size() + 8));
        if (!task.ok()) {
          read_status = task.status();
          return false;
        }
        if (task->has_value() && TaskMatches(**task, f)) page.tasks.push_back(**task);
        return true;
      });
  if (!s.ok()) return s;
  if (!read_status.ok()) return read_status;
  if (more) page.last_key = last_row;
  return page;
}

absl::StatusOr<std::optional<v1::ChurnRisk>> SatisfactionRepository::GetRisk(
    const std::string& customer_id) const {
  return risks_.Get(customer_id);
}

void SatisfactionRepository::StageRisk(store::Batch& batch, const v1::ChurnRisk* before,
                                       const v1::ChurnRisk& after) {
  risks_.Put(batch, after.customer_id(), after);
  ReplaceRows(batch, risk_index_, before ? RiskRows(*before) : std::set<std::string>(),
              RiskRows(after));
}

absl::StatusOr<SatisfactionRepository::RiskPage> SatisfactionRepository::ListRisks(
    v1::ChurnRiskState state, const std::string& after_key, size_t limit) const {
  const std::string prefix = state == v1::CHURN_RISK_STATE_UNSPECIFIED
                                 ? Prefix("all", "")
                                 : Prefix("state", v1::ChurnRiskState_Name(state));
  if (absl::Status s = CheckToken(after_key, prefix); !s.ok()) return s;
  RiskPage page;
  std::string last_row;
  bool more = false;
  absl::Status read_status;
  absl::Status s = store_->Scan(
      risk_index_, StartAfter(prefix, after_key), store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (page.risks.size() == limit) {
          more = true;
          return false;
        }
        last_row = std::string(row);
        auto risk = risks_.Get(row.substr(prefix.size() + 8));
        if (!risk.ok()) {
          read_status = risk.status();
          return false;
        }
        if (risk->has_value()) page.risks.push_back(**risk);
        return true;
      });
  if (!s.ok()) return s;
  if (!read_status.ok()) return read_status;
  if (more) page.last_key = last_row;
  return page;
}

absl::StatusOr<std::optional<v1::CustomerHistory>> SatisfactionRepository::GetHistory(
    const std::string& customer_id) const {
  return customers_.Get(customer_id);
}

void SatisfactionRepository::PutHistory(store::Batch& batch, const v1::CustomerHistory& history) {
  customers_.Put(batch, history.customer_id(), history);
}

std::string SatisfactionRepository::SqiKey(absl::CivilMonth month, absl::string_view region) {
  return store::CompositeKey({absl::FormatCivilTime(month), region});
}

absl::StatusOr<std::optional<v1::SqiMonthCounters>> SatisfactionRepository::GetSqi(
    absl::CivilMonth month, const std::string& region) const {
  return sqi_.Get(SqiKey(month, region));
}

void SatisfactionRepository::PutSqi(store::Batch& batch, const v1::SqiMonthCounters& c) {
  const absl::CivilMonth month(c.month().year(), c.month().month());
  sqi_.Put(batch, SqiKey(month, c.region_code()), c);
}

absl::StatusOr<std::vector<v1::SqiMonthCounters>> SatisfactionRepository::SqiOfMonth(
    absl::CivilMonth month) const {
  std::string prefix = absl::FormatCivilTime(month);
  prefix.push_back('\0');
  std::vector<v1::SqiMonthCounters> out;
  absl::Status s = sqi_.Scan(prefix, "", [&](absl::string_view, const v1::SqiMonthCounters& c) {
    out.push_back(c);
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace aftersales::satisfaction
