#include "satisfaction/satisfaction_core.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "rpc/rpc.h"
#include "satisfaction/domain/aggregate.h"
#include "satisfaction/domain/followup.h"
#include "satisfaction/domain/policy.h"
#include "satisfaction/domain/rating.h"
#include "satisfaction/domain/sqi.h"
#include "satisfaction/domain/survey.h"
#include "store/idempotency.h"

namespace aftersales::satisfaction {
namespace {

constexpr v1::ScorecardDimension kDimensions[] = {
    v1::SCORECARD_DIMENSION_ENGINEER, v1::SCORECARD_DIMENSION_PARTNER,
    v1::SCORECARD_DIMENSION_REGION, v1::SCORECARD_DIMENSION_CATEGORY};

std::string SurveyLock(const std::string& id) { return "survey/" + id; }
std::string BucketLock(const std::string& key) { return "bucket/" + key; }
std::string CustomerLock(const std::string& id) { return "customer/" + id; }
std::string RatingLock(const std::string& id) { return "rating/" + id; }
std::string TaskLock(const std::string& id) { return "task/" + id; }
std::string SqiLock(absl::CivilMonth month, const std::string& region) {
  return "sqi/" + SatisfactionRepository::SqiKey(month, region);
}

const std::string& KeyOf(const v1::Survey& s, v1::ScorecardDimension d) {
  switch (d) {
    case v1::SCORECARD_DIMENSION_ENGINEER: return s.engineer_id();
    case v1::SCORECARD_DIMENSION_PARTNER: return s.partner_id();
    case v1::SCORECARD_DIMENSION_REGION: return s.region_code();
    default: return s.appliance_category();
  }
}

absl::Time EventTime(const v1::Event& e, absl::Time fallback) {
  return e.has_occurred_at() ? rpc::FromProto(e.occurred_at()) : fallback;
}

v1::SqiMonthCounters NewCounters(absl::CivilMonth month, const std::string& region) {
  v1::SqiMonthCounters c;
  c.set_region_code(region);
  c.mutable_month()->set_year(static_cast<int32_t>(month.year()));
  c.mutable_month()->set_month(month.month());
  c.mutable_month()->set_day(1);
  return c;
}

// Loads the region-month counters (new ones when absent).
absl::StatusOr<v1::SqiMonthCounters> LoadCounters(const SatisfactionRepository& repo,
                                                  absl::CivilMonth month,
                                                  const std::string& region) {
  auto c = repo.GetSqi(month, region);
  if (!c.ok()) return c.status();
  return c->has_value() ? **c : NewCounters(month, region);
}

const char* WindowLabel(v1::AggregationWindow w) {
  switch (w) {
    case v1::AGGREGATION_WINDOW_ROLLING_7D: return "rolling_7d";
    case v1::AGGREGATION_WINDOW_ROLLING_30D: return "rolling_30d";
    case v1::AGGREGATION_WINDOW_ROLLING_90D: return "rolling_90d";
    default: return "calendar_week";
  }
}

}  // namespace

SatisfactionCore::SatisfactionCore(server::ServiceHost& host,
                                   std::unique_ptr<SatisfactionPolicyHolder> policy,
                                   privacy::CustomerKeys* keys)
    : host_(host),
      repo_(&host.store(), keys),
      policy_(std::move(policy)),
      metrics_(host.registry()) {}

std::vector<SatisfactionCore::BucketRef> SatisfactionCore::BucketsOf(
    const v1::Survey& s, const v1::SatisfactionPolicy& policy) {
  std::vector<BucketRef> refs;
  const absl::Time scheduled = rpc::FromProto(s.scheduled_at());
  for (auto d : kDimensions) {
    const std::string& key = KeyOf(s, d);
    if (key.empty()) continue;
    const absl::TimeZone zone = domain::LoadZone(domain::ZoneNameFor(policy, d, key));
    const int64_t day = domain::DayNumber(domain::LocalDay(scheduled, zone));
    refs.push_back({d, key, SatisfactionRepository::BucketKey(d, key, day)});
  }
  return refs;
}

// ---- intake's events ---------------------------------------------------------

absl::Status SatisfactionCore::ScheduleSurvey(const v1::Event& e, store::Batch& batch) {
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  const v1::OrderConfirmedRepaired& r = e.order_confirmed_repaired();
  auto scheduled = domain::ScheduleSurvey(r, EventTime(e, now), *policy);
  if (!scheduled.ok()) return scheduled.status();  // INVALID_ARGUMENT: skipped
  v1::Survey survey = *std::move(scheduled);
  const std::vector<BucketRef> buckets = BucketsOf(survey, *policy);
  const absl::CivilMonth month = domain::LocalMonth(
      rpc::FromProto(survey.scheduled_at()),
      domain::LoadZone(domain::RegionZoneName(*policy, survey.region_code())));
  std::vector<std::string> keys = {SurveyLock(survey.survey_id())};
  for (const auto& b : buckets) keys.push_back(BucketLock(b.bucket_key));
  if (!survey.region_code().empty()) keys.push_back(SqiLock(month, survey.region_code()));
  batch.HoldUntilDone(host_.store().locks().Lock(keys));

  auto existing = repo_.GetSurvey(survey.survey_id());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();  // delivered before

  const std::vector<v1::SurveyState> entered = domain::AdvanceSurvey(survey, now);
  const bool sent = std::count(entered.begin(), entered.end(), v1::SURVEY_STATE_DUE) > 0;
  const bool expired = std::count(entered.begin(), entered.end(), v1::SURVEY_STATE_EXPIRED) > 0;
  for (const auto& ref : buckets) {
    auto bucket = repo_.GetBucket(ref.bucket_key);
    if (!bucket.ok()) return bucket.status();
    domain::CountScheduled(*bucket);
    if (sent) domain::CountSent(*bucket);
    if (expired) domain::CountExpired(*bucket);
    repo_.PutBucket(batch, ref.dimension, ref.key, ref.bucket_key, *bucket);
  }
  if (!survey.region_code().empty()) {
    auto counters = LoadCounters(repo_, month, survey.region_code());
    if (!counters.ok()) return counters.status();
    domain::CountRepair(*counters, r);
    repo_.PutSqi(batch, *counters);
  }
  if (absl::Status s =
          repo_.StageSurvey(batch, nullptr, survey, domain::NextTimer(survey));
      !s.ok()) {
    return s;
  }
  batch.AppendEvent(domain::ScheduledEvent(survey, now));
  metrics_.Survey("scheduled");
  if (sent) metrics_.Survey("sent");
  if (expired) metrics_.Survey("expired");
  return absl::OkStatus();
}

absl::Status SatisfactionCore::ApplyIntakeEvent(const v1::Event& e, store::Batch& batch) {
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  switch (e.body_case()) {
    case v1::Event::kOrderConfirmedRepaired:
      return ScheduleSurvey(e, batch);
    case v1::Event::kOrderCreated: {
      const v1::WorkOrder& o = e.order_created().order();
      const std::string& region = o.service_area().region_code();
      const absl::Time created = o.has_created_at() ? rpc::FromProto(o.created_at())
                                                    : EventTime(e, now);
      const absl::CivilMonth month = domain::LocalMonth(
          created, domain::LoadZone(domain::RegionZoneName(*policy, region)));
      const bool rework = o.is_rework() && !o.customer_id().empty();
      std::vector<std::string> keys;
      if (!region.empty()) keys.push_back(SqiLock(month, region));
      if (rework) keys.push_back(CustomerLock(o.customer_id()));
      if (keys.empty()) return absl::OkStatus();
      batch.HoldUntilDone(host_.store().locks().Lock(keys));
      if (!region.empty()) {
        auto counters = LoadCounters(repo_, month, region);
        if (!counters.ok()) return counters.status();
        domain::CountOrderCreated(*counters);
        repo_.PutSqi(batch, *counters);
      }
      if (rework) {
        auto flagged = StageChurn(batch, o.customer_id(), v1::CHURN_REASON_REWORK,
                                  absl::StrCat("order:", o.order_id()), "", o.order_id(),
                                  *policy, now);
        if (!flagged.ok()) return flagged.status();
      }
      return absl::OkStatus();
    }
    case v1::Event::kSlaClockStopped: {
      const v1::SlaClockStopped& s = e.sla_clock_stopped();
      if (s.region_code().empty()) return absl::OkStatus();
      const absl::CivilMonth month = domain::LocalMonth(
          EventTime(e, now), domain::LoadZone(domain::RegionZoneName(*policy, s.region_code())));
      batch.HoldUntilDone(host_.store().locks().Lock({SqiLock(month, s.region_code())}));
      auto counters = LoadCounters(repo_, month, s.region_code());
      if (!counters.ok()) return counters.status();
      if (domain::CountSlaStopped(*counters, s)) repo_.PutSqi(batch, *counters);
      return absl::OkStatus();
    }
    case v1::Event::kCustomerErasureRequested: {
      // Comments are the only PII satisfaction keeps, sealed with the
      // customer's key: shredding the key erases them all (they read as
      // "[erased]"); then report it as CustomerErased.
      const auto& request = e.customer_erasure_requested();
      const std::string& customer = request.customer_id();
      if (customer.empty()) return absl::InvalidArgumentError("event has no customer id");
      v1::ListSurveysRequest filter;
      filter.set_customer_id(customer);
      auto page = repo_.ListSurveys(filter, "", "", 5000, 5000);
      if (!page.ok()) return page.status();
      batch.HoldUntilDone(host_.store().locks().Lock({"erasure/" + customer}));
      int64_t sealed = 0;
      for (const auto& listed : page->surveys) {
        auto has = repo_.HasSealedPii(listed.survey_id());
        if (!has.ok()) return has.status();
        sealed += *has ? 1 : 0;
      }
      if (auto erased = repo_.keys().Erase(batch, customer, now); !erased.ok()) {
        return erased.status();
      }
      v1::Event done;
      done.set_producer("satisfaction");
      *done.mutable_occurred_at() = rpc::ToProto(now);
      done.set_subject_id(customer);
      auto* d = done.mutable_customer_erased();
      d->set_customer_id(customer);
      d->set_request_id(request.request_id());
      d->set_service("satisfaction");
      auto* item = d->add_items();
      item->set_service("satisfaction");
      item->set_record_kind("survey.comment");
      item->set_count(sealed);
      *d->mutable_erased_at() = rpc::ToProto(now);
      batch.AppendEvent(done);
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
}

absl::Status SatisfactionCore::ApplyComplaintEvent(const v1::Event& e, store::Batch& batch) {
  if (!e.has_complaint_filed()) return absl::OkStatus();
  const v1::ComplaintFiled& c = e.complaint_filed();
  if (c.complaint_id().empty()) return absl::InvalidArgumentError("complaint_id: required");
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  const absl::Time filed = EventTime(e, now);
  const absl::CivilMonth month = domain::LocalMonth(
      filed, domain::LoadZone(domain::RegionZoneName(*policy, c.region_code())));
  std::vector<std::string> keys;
  if (!c.region_code().empty()) keys.push_back(SqiLock(month, c.region_code()));
  if (!c.customer_id().empty()) keys.push_back(CustomerLock(c.customer_id()));
  if (keys.empty()) return absl::OkStatus();
  batch.HoldUntilDone(host_.store().locks().Lock(keys));

  if (!c.customer_id().empty()) {
    auto history = repo_.GetHistory(c.customer_id());
    if (!history.ok()) return history.status();
    if (history->has_value()) {
      for (const auto& known : (*history)->complaints()) {
        if (known.complaint_id() == c.complaint_id()) return absl::OkStatus();  // seen it
      }
    }
    domain::ComplaintTally tally =
        domain::AddComplaint(*history, c.customer_id(), c.complaint_id(), filed, *policy, now);
    repo_.PutHistory(batch, tally.history);
    if (tally.added && tally.in_window >= policy->churn_complaints_threshold()) {
      auto flagged = StageChurn(batch, c.customer_id(), v1::CHURN_REASON_REPEATED_COMPLAINTS,
                                absl::StrCat("complaint:", c.complaint_id()),
                                c.source_survey_id(), c.order_id(), *policy, now);
      if (!flagged.ok()) return flagged.status();
    }
  }
  if (!c.region_code().empty()) {
    auto counters = LoadCounters(repo_, month, c.region_code());
    if (!counters.ok()) return counters.status();
    domain::CountComplaint(*counters);
    repo_.PutSqi(batch, *counters);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SatisfactionCore::StageChurn(
    store::Batch& batch, const std::string& customer_id, v1::ChurnReason reason,
    const std::string& evidence, const std::string& survey_id, const std::string& order_id,
    const v1::SatisfactionPolicy& policy, absl::Time now) {
  auto before = repo_.GetRisk(customer_id);
  if (!before.ok()) return before.status();
  domain::ChurnUpdate u =
      domain::FlagChurn(*before, customer_id, reason, evidence, survey_id, order_id, policy, now);
  repo_.StageRisk(batch, before->has_value() ? &**before : nullptr, u.risk);
  std::string task_id;
  if (u.task) {
    repo_.StageTask(batch, nullptr, *u.task);
    task_id = u.task->task_id();
  }
  for (auto& ev : u.events) batch.AppendEvent(std::move(ev));
  if (u.changed) metrics_.ChurnFlagged(reason);
  return task_id;
}

// ---- answers -----------------------------------------------------------------

v1::SubmitSurveyResponse SatisfactionCore::RetryResponse(const v1::Survey& s,
                                                         const v1::SatisfactionPolicy& policy) {
  v1::SubmitSurveyResponse resp;
  *resp.mutable_survey() = s;
  resp.set_created(false);
  const v1::SurveyResponse& r = s.response();
  resp.set_detractor(!s.auto_complaint_request_id().empty());
  resp.set_problem_not_solved(!r.problem_solved());
  const std::vector<int> dims = domain::DimensionValues(r.dimensions());
  bool all_five = r.csat() == 5;
  bool low = false;
  for (int v : dims) {
    all_five = all_five && v == 5;
    low = low || v < policy.deep_follow_up_below();
  }
  resp.set_five_star(all_five && (r.problem_solved() || !policy.five_star_requires_solved()));
  const std::string deep = "DF-" + s.survey_id();
  if (auto task = repo_.GetTask(deep); task.ok() && task->has_value()) {
    resp.add_follow_up_task_ids(deep);
  }
  if (auto risk = repo_.GetRisk(s.customer_id()); risk.ok() && risk->has_value()) {
    auto task = repo_.GetTask((*risk)->win_back_task_id());
    if (task.ok() && task->has_value() && (*task)->survey_id() == s.survey_id()) {
      resp.add_follow_up_task_ids((*task)->task_id());
    }
  }
  return resp;
}

absl::StatusOr<v1::SubmitSurveyResponse> SatisfactionCore::Submit(
    const v1::SubmitSurveyRequest& request) {
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  auto loaded = repo_.GetSurvey(request.survey_id());
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::NotFoundError("survey_id: no such survey");

  v1::SubmitSurveyRequest body = request;
  body.clear_request_id();
  const std::string fingerprint = store::IdempotencyKeys::Fingerprint(body);
  const std::string idem_key =
      store::IdempotencyKeys::Key(request.survey_id(), request.request_id());

  // Attributes that pick the locks never change after scheduling.
  const std::vector<BucketRef> buckets = BucketsOf(**loaded, *policy);
  const std::string& engineer = (*loaded)->engineer_id();
  const std::string& customer = (*loaded)->customer_id();
  std::vector<std::string> keys = {SurveyLock(request.survey_id()), "idem/" + idem_key,
                                   CustomerLock(customer)};
  for (const auto& b : buckets) keys.push_back(BucketLock(b.bucket_key));
  if (!engineer.empty()) keys.push_back(RatingLock(engineer));
  auto guard = host_.store().locks().Lock(keys);

  auto earlier = repo_.idempotency().Check(idem_key, fingerprint);
  if (!earlier.ok()) return earlier.status();
  auto current = repo_.GetSurvey(request.survey_id());
  if (!current.ok()) return current.status();
  if (!current->has_value()) return absl::NotFoundError("survey_id: no such survey");
  const v1::Survey& before = **current;
  if (earlier->has_value()) return RetryResponse(before, *policy);

  auto answer = domain::AnswerSurvey(before, request.response(), request.request_id(), *policy,
                                     now);
  if (!answer.ok()) return answer.status();
  const v1::Survey& after = answer->survey;

  store::Batch batch;
  if (absl::Status s =
          repo_.StageSurvey(batch, &before, after, domain::NextTimer(after));
      !s.ok()) {
    return s;
  }
  for (const auto& ref : buckets) {
    auto bucket = repo_.GetBucket(ref.bucket_key);
    if (!bucket.ok()) return bucket.status();
    domain::CountAnswer(*bucket, after.response(), answer->sent_before, answer->detractor,
                        !answer->low_dimensions.empty(), answer->not_solved, answer->five_star);
    repo_.PutBucket(batch, ref.dimension, ref.key, ref.bucket_key, *bucket);
  }
  for (auto& e : domain::AnswerEvents(*answer, now)) batch.AppendEvent(std::move(e));

  bool rating_published = false;
  if (!engineer.empty()) {
    auto rating = repo_.GetRating(engineer);
    if (!rating.ok()) return rating.status();
    domain::RatingUpdate update =
        domain::AddToRating(*rating, engineer, after.response().csat(), *policy, now);
    repo_.PutRating(batch, update.rating);
    if (update.changed) {
      batch.AppendEvent(domain::RatingChangedEvent(update, now));
      rating_published = true;
    }
  }

  v1::SubmitSurveyResponse resp;
  if (!answer->low_dimensions.empty()) {
    v1::FollowUpTask task =
        domain::DeepFollowUpTask(after, answer->low_dimensions, *policy, now);
    repo_.StageTask(batch, nullptr, task);
    batch.AppendEvent(domain::TaskOpenedEvent(task, now));
    resp.add_follow_up_task_ids(task.task_id());
  }
  if (answer->detractor) {
    auto task_id = StageChurn(batch, customer, v1::CHURN_REASON_DETRACTOR,
                              absl::StrCat("survey:", after.survey_id()), after.survey_id(),
                              after.order_id(), *policy, now);
    if (!task_id.ok()) return task_id.status();
    if (!task_id->empty()) resp.add_follow_up_task_ids(*task_id);
  }
  repo_.idempotency().Remember(batch, idem_key, fingerprint, after.survey_id(), now);
  if (absl::Status s = host_.store().Commit(batch); !s.ok()) return s;

  if (!answer->sent_before) metrics_.Survey("sent");
  metrics_.Survey("answered");
  metrics_.Answer(after.response().nps());
  if (!answer->low_dimensions.empty()) metrics_.DeepFollowUpOpened();
  if (answer->detractor) metrics_.DetractorRecovery("opened");
  if (answer->not_solved) metrics_.ProblemNotSolved();
  if (answer->five_star) metrics_.FiveStar();
  if (rating_published) metrics_.RatingPublished();
  if (!after.region_code().empty()) {
    if (absl::Status s = RefreshRegionGauges(after.region_code()); !s.ok()) {
      std::cerr << "satisfaction: gauges: " << s << std::endl;
    }
  }

  *resp.mutable_survey() = after;
  resp.set_created(true);
  resp.set_detractor(answer->detractor);
  resp.set_problem_not_solved(answer->not_solved);
  resp.set_five_star(answer->five_star);
  return resp;
}

absl::StatusOr<v1::FollowUpTask> SatisfactionCore::CompleteTask(const std::string& task_id,
                                                                const std::string& assignee_id,
                                                                const std::string& note) {
  auto loaded = repo_.GetTask(task_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::NotFoundError("task_id: no such task");
  const std::string customer = (*loaded)->customer_id();
  auto guard = host_.store().locks().Lock({TaskLock(task_id), CustomerLock(customer)});
  auto current = repo_.GetTask(task_id);
  if (!current.ok()) return current.status();
  if (!current->has_value()) return absl::NotFoundError("task_id: no such task");
  const absl::Time now = host_.clock().Now();
  auto done = domain::CompleteTask(**current, assignee_id, note, now);
  if (!done.ok()) return done.status();
  if (!done->changed) return done->task;
  store::Batch batch;
  repo_.StageTask(batch, &**current, done->task);
  bool detractor_contacted = false;
  if (done->task.kind() == v1::FOLLOW_UP_TASK_KIND_WIN_BACK) {
    auto risk = repo_.GetRisk(customer);
    if (!risk.ok()) return risk.status();
    if (risk->has_value() && (*risk)->win_back_task_id() == task_id) {
      v1::ChurnRisk contacted = domain::RiskContacted(**risk);
      repo_.StageRisk(batch, &**risk, contacted);
      for (auto r : contacted.reasons()) {
        detractor_contacted = detractor_contacted || r == v1::CHURN_REASON_DETRACTOR;
      }
    }
  }
  if (absl::Status s = host_.store().Commit(batch); !s.ok()) return s;
  if (detractor_contacted) metrics_.DetractorRecovery("contacted");
  return done->task;
}

// ---- queries -----------------------------------------------------------------

absl::StatusOr<v1::Scorecard> SatisfactionCore::Scorecard(v1::ScorecardDimension dimension,
                                                          const std::string& key,
                                                          v1::AggregationWindow window,
                                                          const v1::CalendarDate* week_start) {
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  const std::string zone_name = domain::ZoneNameFor(*policy, dimension, key);
  auto w = domain::WindowFor(window, week_start, now, domain::LoadZone(zone_name));
  if (!w.ok()) return w.status();
  auto sum = repo_.SumBuckets(dimension, key, domain::DayNumber(w->first),
                              domain::DayNumber(w->end));
  if (!sum.ok()) return sum.status();
  v1::Scorecard card;
  card.set_dimension(dimension);
  card.set_key(key);
  card.set_window(window);
  if (window == v1::AGGREGATION_WINDOW_CALENDAR_WEEK) {
    card.mutable_week_start()->set_year(static_cast<int32_t>(w->first.year()));
    card.mutable_week_start()->set_month(w->first.month());
    card.mutable_week_start()->set_day(w->first.day());
  }
  *card.mutable_window_start() = rpc::ToProto(w->start);
  *card.mutable_window_end() = rpc::ToProto(w->stop);
  domain::FillScorecard(*sum, *policy, card);
  *card.mutable_computed_at() = rpc::ToProto(now);
  *card.mutable_policy() = policy->ref();
  card.set_time_zone(zone_name);
  return card;
}

absl::StatusOr<std::vector<v1::Scorecard>> SatisfactionCore::Scorecards(
    v1::ScorecardDimension dimension, v1::AggregationWindow window,
    const v1::CalendarDate* week_start, int64_t min_responses) {
  auto keys = repo_.ScorecardKeys(dimension);
  if (!keys.ok()) return keys.status();
  std::vector<v1::Scorecard> cards;
  for (const auto& key : *keys) {
    auto card = Scorecard(dimension, key, window, week_start);
    if (!card.ok()) return card.status();
    if (card->responses() >= min_responses) cards.push_back(*std::move(card));
  }
  std::stable_sort(cards.begin(), cards.end(), [](const v1::Scorecard& a, const v1::Scorecard& b) {
    if (a.satisfaction_index() != b.satisfaction_index()) {
      return a.satisfaction_index() > b.satisfaction_index();
    }
    return a.key() < b.key();
  });
  return cards;
}

absl::CivilMonth SatisfactionCore::PreviousMonth() {
  auto policy = policy_->Current();
  return domain::LocalMonth(host_.clock().Now(), domain::LoadZone(policy->time_zone())) - 1;
}

absl::StatusOr<std::vector<v1::SqiScore>> SatisfactionCore::SqiRanking(absl::CivilMonth month) {
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  auto counters = repo_.SqiOfMonth(month);
  if (!counters.ok()) return counters.status();
  std::vector<v1::SqiScore> scores;
  const absl::CivilDay first(month.year(), month.month(), 1);
  const absl::CivilDay end((month + 1).year(), (month + 1).month(), 1);
  for (const auto& c : *counters) {
    auto sat = repo_.SumBuckets(v1::SCORECARD_DIMENSION_REGION, c.region_code(),
                                domain::DayNumber(first), domain::DayNumber(end));
    if (!sat.ok()) return sat.status();
    scores.push_back(domain::ComputeSqi(c, *sat, *policy, now));
  }
  domain::RankSqi(scores);
  return scores;
}

// ---- timers and gauges ---------------------------------------------------------

absl::Status SatisfactionCore::AdvanceSurvey(const std::string& survey_id) {
  auto policy = policy_->Current();
  auto loaded = repo_.GetSurvey(survey_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::OkStatus();
  const std::vector<BucketRef> buckets = BucketsOf(**loaded, *policy);
  std::vector<std::string> keys = {SurveyLock(survey_id)};
  for (const auto& b : buckets) keys.push_back(BucketLock(b.bucket_key));
  auto guard = host_.store().locks().Lock(keys);
  auto current = repo_.GetSurvey(survey_id);
  if (!current.ok()) return current.status();
  if (!current->has_value()) return absl::OkStatus();
  v1::Survey after = **current;
  const std::vector<v1::SurveyState> entered =
      domain::AdvanceSurvey(after, host_.clock().Now());
  const bool sent = std::count(entered.begin(), entered.end(), v1::SURVEY_STATE_DUE) > 0;
  const bool expired = std::count(entered.begin(), entered.end(), v1::SURVEY_STATE_EXPIRED) > 0;
  store::Batch batch;
  if (absl::Status s =
          repo_.StageSurvey(batch, &**current, after, domain::NextTimer(after));
      !s.ok()) {
    return s;
  }
  if (sent || expired) {
    for (const auto& ref : buckets) {
      auto bucket = repo_.GetBucket(ref.bucket_key);
      if (!bucket.ok()) return bucket.status();
      if (sent) domain::CountSent(*bucket);
      if (expired) domain::CountExpired(*bucket);
      repo_.PutBucket(batch, ref.dimension, ref.key, ref.bucket_key, *bucket);
    }
  }
  if (absl::Status s = host_.store().Commit(batch); !s.ok()) return s;
  if (sent) metrics_.Survey("sent");
  if (expired) metrics_.Survey("expired");
  return absl::OkStatus();
}

absl::StatusOr<int> SatisfactionCore::SweepDueSurveys(size_t limit) {
  auto due = repo_.DueSurveys(host_.clock().Now(), limit);
  if (!due.ok()) return due.status();
  for (const auto& id : *due) {
    if (absl::Status s = AdvanceSurvey(id); !s.ok()) return s;
  }
  return static_cast<int>(due->size());
}

absl::Status SatisfactionCore::RefreshRegionGauges(const std::string& region) {
  for (auto w : {v1::AGGREGATION_WINDOW_ROLLING_7D, v1::AGGREGATION_WINDOW_ROLLING_30D,
                 v1::AGGREGATION_WINDOW_ROLLING_90D, v1::AGGREGATION_WINDOW_CALENDAR_WEEK}) {
    auto card = Scorecard(v1::SCORECARD_DIMENSION_REGION, region, w, nullptr);
    if (!card.ok()) return card.status();
    metrics_.SetRegion(region, WindowLabel(w), *card);
  }
  return absl::OkStatus();
}

absl::Status SatisfactionCore::RefreshGauges() {
  auto regions = repo_.ScorecardKeys(v1::SCORECARD_DIMENSION_REGION);
  if (!regions.ok()) return regions.status();
  for (const auto& r : *regions) {
    if (absl::Status s = RefreshRegionGauges(r); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void RunBackground(SatisfactionCore& core) {
  Clock& clock = core.host().clock();
  absl::Time next_refresh = absl::InfinitePast();
  while (!core.host().stop().stopped()) {
    auto swept = core.SweepDueSurveys(500);
    if (!swept.ok()) {
      std::cerr << "satisfaction: survey sweep failed: " << swept.status() << std::endl;
      // A due timer that keeps failing must not spin: retry after a pause.
      if (core.host().stop().WaitFor(absl::Seconds(1))) break;
      continue;
    }
    if (*swept == 500) continue;  // more are due right now
    const absl::Time now = clock.Now();
    if (now >= next_refresh) {
      if (absl::Status s = core.RefreshGauges(); !s.ok()) {
        std::cerr << "satisfaction: gauges: " << s << std::endl;
      }
      next_refresh = now + absl::Minutes(1);
    }
    absl::Time wake = next_refresh;
    if (auto next = core.repo().NextTimer(); next.ok()) wake = std::min(wake, *next);
    clock.WaitUntil(wake, absl::Milliseconds(250));
  }
}

}  // namespace aftersales::satisfaction
