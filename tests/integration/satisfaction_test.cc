// The satisfaction service as a real process on a manual clock, fed by
// scripted intake and complaint event logs (real EventStreams over real
// stores): surveys scheduled, due and expired on the service clock; every
// answer rule once, idempotent retries; churn risk and the monthly SQI
// ranking from peers' events; a restart keeps everything; bad input on
// every RPC.
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "support/event_producer.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;
using Code = grpc::StatusCode;

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    absl::LoadTimeZone("Asia/Shanghai", z);
    return z;
  }();
  return *zone;
}

// Monday 2026-11-23 10:00 in Shanghai.
const absl::Time kStart = absl::FromCivil(absl::CivilMinute(2026, 11, 23, 10, 0), Shanghai());
const char kShanghai[] = "CN-310000";
const char kBeijing[] = "CN-110000";

struct SatisfactionSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer intake{dir.Sub("scripted-intake"), &registry};
  testing::EventProducer complaint{dir.Sub("scripted-complaint"), &registry};
  std::unique_ptr<testing::ServiceProcess> sat;
  std::unique_ptr<v1::SatisfactionService::Stub> stub;

  SatisfactionSuite() {
    intake.Up();
    complaint.Up();
    testing::ServiceProcess::Options o;
    o.name = "satisfaction";
    o.data_dir = dir.Sub("satisfaction");
    o.tokens = &tokens;
    o.manual_clock = true;
    o.peers["intake"] = intake.address();
    o.peers["complaint"] = complaint.address();
    // A restart comes back at the same instant.
    o.extra_flags = {"--clock_start=" + absl::FormatTime(absl::RFC3339_full, kStart,
                                                          absl::UTCTimeZone())};
    sat = std::make_unique<testing::ServiceProcess>(o);
    stub = v1::SatisfactionService::NewStub(sat->channel());
    v1::SetTimeRequest set;
    *set.mutable_now() = rpc::ToProto(kStart);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(sat->channel())
                ->SetTime(Context(token("admin")).get(), set, &now)
                .ok());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void Advance(absl::Duration d) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(d);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(sat->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  std::vector<v1::Survey> SurveysOf(const std::string& order_id) {
    v1::ListSurveysRequest req;
    req.set_order_id(order_id);
    v1::ListSurveysResponse resp;
    grpc::Status s = stub->ListSurveys(Context(token("agent")).get(), req, &resp);
    if (!s.ok()) return {};
    return {resp.surveys().begin(), resp.surveys().end()};
  }

  // The one survey of `order_id`, once satisfaction consumed the repair.
  v1::Survey WaitForSurvey(const std::string& order_id) {
    REQUIRE(Eventually([&] { return SurveysOf(order_id).size() == 1; }));
    return SurveysOf(order_id)[0];
  }

  v1::Survey Get(const std::string& survey_id, const std::string& who = "agent") {
    v1::GetSurveyRequest req;
    req.set_survey_id(survey_id);
    v1::Survey s;
    REQUIRE(stub->GetSurvey(Context(token(who)).get(), req, &s).ok());
    return s;
  }

  grpc::Status Submit(const std::string& survey_id, const std::string& request_id,
                      const v1::SurveyResponse& r, v1::SubmitSurveyResponse* out,
                      const std::string& who = "app") {
    v1::SubmitSurveyRequest req;
    req.set_survey_id(survey_id);
    req.set_request_id(request_id);
    *req.mutable_response() = r;
    return stub->SubmitSurvey(Context(token(who)).get(), req, out);
  }

  v1::Scorecard Card(v1::ScorecardDimension d, const std::string& key, v1::AggregationWindow w) {
    v1::GetScorecardRequest req;
    req.set_dimension(d);
    req.set_key(key);
    req.set_window(w);
    v1::Scorecard card;
    grpc::Status s = stub->GetScorecard(Context(token("agent")).get(), req, &card);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return card;
  }

  // Every event of satisfaction's log so far (read with the service token).
  std::vector<v1::Event> Events() {
    return testing::AllEvents(sat->channel(), token("service"));
  }
  uint64_t Head() {
    auto e = Events();
    return e.empty() ? 0 : e.back().seq();
  }
};

v1::Event Envelope(const std::string& producer, const std::string& subject, absl::Time at) {
  v1::Event e;
  e.set_producer(producer);
  e.set_subject_id(subject);
  *e.mutable_occurred_at() = rpc::ToProto(at);
  return e;
}

struct Repair {
  std::string order, customer = "C1", engineer = "E1", partner = "PA", region = kShanghai,
                     category = "FRIDGE";
  absl::Time confirmed = kStart;
  absl::Duration follow_up = absl::Hours(24);
  bool ftf = true, diag = true;
};

v1::Event RepairedEvent(const Repair& r) {
  v1::Event e = Envelope("intake", r.order, r.confirmed);
  auto* c = e.mutable_order_confirmed_repaired();
  c->set_order_id(r.order);
  c->set_customer_id(r.customer);
  c->set_engineer_id(r.engineer);
  c->set_partner_id(r.partner);
  c->set_region_code(r.region);
  c->set_city_tier(1);
  c->set_appliance_category(r.category);
  c->set_first_visit_fix(r.ftf);
  c->set_diagnosis_matched(r.diag);
  *c->mutable_repaired_at() = rpc::ToProto(r.confirmed - absl::Hours(1));
  *c->mutable_confirmed_at() = rpc::ToProto(r.confirmed);
  *c->mutable_follow_up_deadline() = rpc::ToProto(r.confirmed - absl::Hours(1) + r.follow_up);
  return e;
}

v1::SurveyResponse Answer(int csat, int nps, int dims, bool solved = true,
                          const std::string& comment = "") {
  v1::SurveyResponse r;
  r.set_csat(csat);
  r.set_nps(nps);
  auto* d = r.mutable_dimensions();
  d->set_booking_convenience(dims);
  d->set_timeliness(dims);
  d->set_engineer_attitude(dims);
  d->set_professionalism(dims);
  d->set_fee_transparency(dims);
  d->set_site_etiquette(dims);
  r.set_problem_solved(solved);
  r.set_comment(comment);
  return r;
}

int Count(const std::vector<v1::Event>& events, v1::Event::BodyCase body,
          const std::string& subject = "") {
  int n = 0;
  for (const auto& e : events) {
    if (e.body_case() == body && (subject.empty() || e.subject_id() == subject)) ++n;
  }
  return n;
}

double MetricValue(const std::string& metrics, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
    }
  }
  return -1;
}

TEST_CASE("a confirmed repair schedules a survey that becomes due and expires on the service clock") {
  SatisfactionSuite s;
  Repair r{.order = "WO-1"};
  r.follow_up = absl::Hours(72);  // parts replaced: 72 h follow-up
  s.intake.Emit(RepairedEvent(r));
  v1::Survey survey = s.WaitForSurvey("WO-1");
  CHECK(survey.state() == v1::SURVEY_STATE_SCHEDULED);
  CHECK(rpc::FromProto(survey.scheduled_at()) == kStart);
  CHECK(rpc::FromProto(survey.due_at()) == kStart + absl::Hours(71));
  CHECK(rpc::FromProto(survey.expires_at()) == kStart + absl::Hours(24 * 7));
  CHECK(survey.engineer_id() == "E1");
  CHECK(survey.policy().name() == "satisfaction");

  // The same event delivered again (a scripted duplicate) makes no second survey.
  s.intake.Emit(RepairedEvent(r));
  s.intake.Emit(RepairedEvent(Repair{.order = "WO-2", .customer = "C2"}));
  s.WaitForSurvey("WO-2");
  CHECK(s.SurveysOf("WO-1").size() == 1);
  auto events = s.Events();
  CHECK(Count(events, v1::Event::kSurveyScheduled) == 2);

  s.Advance(absl::Hours(71) - absl::Seconds(1));
  absl::SleepFor(absl::Milliseconds(500));
  CHECK(s.Get(survey.survey_id()).state() == v1::SURVEY_STATE_SCHEDULED);
  s.Advance(absl::Seconds(1));
  REQUIRE(Eventually([&] { return s.Get(survey.survey_id()).state() == v1::SURVEY_STATE_DUE; }));
  s.Advance(absl::Hours(24 * 7 - 71));
  REQUIRE(Eventually(
      [&] { return s.Get(survey.survey_id()).state() == v1::SURVEY_STATE_EXPIRED; }));
  v1::SubmitSurveyResponse resp;
  grpc::Status late = s.Submit(survey.survey_id(), "late-1", Answer(5, 10, 5), &resp);
  CHECK(late.error_code() == Code::FAILED_PRECONDITION);
  CHECK(absl::StrContains(late.error_message(), "EXPIRED"));

  // Both surveys were scheduled on Monday 2026-11-23 (Shanghai): eligible 2,
  // sent 2 (both became due), both expired unanswered.
  v1::GetScorecardRequest week;
  week.set_dimension(v1::SCORECARD_DIMENSION_REGION);
  week.set_key(kShanghai);
  week.set_window(v1::AGGREGATION_WINDOW_CALENDAR_WEEK);
  week.mutable_week_start()->set_year(2026);
  week.mutable_week_start()->set_month(11);
  week.mutable_week_start()->set_day(23);
  v1::Scorecard card;
  REQUIRE(s.stub->GetScorecard(Context(s.token("agent")).get(), week, &card).ok());
  CHECK(card.eligible_orders() == 2);
  CHECK(card.surveys_sent() == 2);
  CHECK(card.responses() == 0);
  CHECK(card.expired() == 2);
  CHECK(card.follow_up_coverage() == 0);
  CHECK(card.time_zone() == "Asia/Shanghai");
  CHECK(rpc::FromProto(card.window_start()) ==
        absl::FromCivil(absl::CivilDay(2026, 11, 23), Shanghai()));
  const std::string metrics = s.sat->ScrapeMetrics();
  CHECK(MetricValue(metrics, "aftersales_surveys_total{outcome=\"scheduled\"}") == 2);
  CHECK(MetricValue(metrics, "aftersales_surveys_total{outcome=\"expired\"}") == 2);
}

TEST_CASE("an answer applies every rule exactly once and a retry changes nothing") {
  SatisfactionSuite s;
  s.intake.Emit(RepairedEvent(Repair{.order = "WO-1"}));
  const v1::Survey survey = s.WaitForSurvey("WO-1");
  s.Advance(absl::Hours(24));
  REQUIRE(Eventually([&] { return s.Get(survey.survey_id()).state() == v1::SURVEY_STATE_DUE; }));

  // CSAT 1, low dimensions, not solved, an angry comment.
  const v1::SurveyResponse angry = Answer(1, 2, 2, false, "师傅态度差, terrible service");
  v1::SubmitSurveyResponse first;
  REQUIRE(s.Submit(survey.survey_id(), "answer-1", angry, &first).ok());
  CHECK(first.created());
  CHECK(first.detractor());
  CHECK(first.problem_not_solved());
  CHECK_FALSE(first.five_star());
  CHECK(first.survey().state() == v1::SURVEY_STATE_ANSWERED);
  CHECK(first.survey().response().negative_comment());
  CHECK(first.survey().auto_complaint_request_id() == "survey:" + survey.survey_id());
  REQUIRE(first.follow_up_task_ids_size() == 2);  // deep follow-up + win-back
  CHECK(first.follow_up_task_ids(0) == "DF-" + survey.survey_id());
  const uint64_t head = s.Head();

  // The same request again: the original answer, nothing new.
  v1::SubmitSurveyResponse retry;
  REQUIRE(s.Submit(survey.survey_id(), "answer-1", angry, &retry).ok());
  CHECK_FALSE(retry.created());
  CHECK(retry.detractor());
  CHECK(retry.problem_not_solved());
  CHECK(retry.survey().SerializeAsString() == first.survey().SerializeAsString());
  CHECK(retry.follow_up_task_ids_size() == 2);
  // The same id with another body, or another id: refused.
  v1::SubmitSurveyResponse refused;
  CHECK(s.Submit(survey.survey_id(), "answer-1", Answer(5, 10, 5), &refused).error_code() ==
        Code::ALREADY_EXISTS);
  CHECK(s.Submit(survey.survey_id(), "answer-2", Answer(5, 10, 5), &refused).error_code() ==
        Code::FAILED_PRECONDITION);
  CHECK(s.Head() == head);

  const auto events = s.Events();
  const std::string& id = survey.survey_id();
  CHECK(Count(events, v1::Event::kSurveyAnswered, id) == 1);
  CHECK(Count(events, v1::Event::kProblemNotSolved, id) == 1);
  CHECK(Count(events, v1::Event::kDetractorDetected, id) == 1);
  CHECK(Count(events, v1::Event::kFiveStarGranted) == 0);
  CHECK(Count(events, v1::Event::kEngineerRatingChanged, "E1") == 1);
  CHECK(Count(events, v1::Event::kChurnRiskFlagged, "C1") == 1);
  CHECK(Count(events, v1::Event::kFollowUpTaskOpened) == 2);
  for (const auto& e : events) {
    if (e.has_detractor_detected()) {
      CHECK(e.detractor_detected().complaint_request_id() == "survey:" + id);
      CHECK(e.detractor_detected().order_id() == "WO-1");
      CHECK(e.detractor_detected().csat() == 1);
    }
    if (e.has_engineer_rating_changed()) {
      CHECK(e.engineer_rating_changed().rating() == Approx(41.0 / 11.0));
      CHECK(e.engineer_rating_changed().previous_rating() == 0);
    }
    if (e.has_survey_answered()) CHECK(e.survey_answered().min_dimension() == 2);
    CHECK(e.producer() == "satisfaction");
  }
  // The answered event comes before the reopen, so intake follows up first.
  int answered_at = -1, not_solved_at = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].has_survey_answered()) answered_at = static_cast<int>(i);
    if (events[i].has_problem_not_solved()) not_solved_at = static_cast<int>(i);
  }
  CHECK(answered_at < not_solved_at);

  v1::GetEngineerRatingRequest rr;
  rr.set_engineer_id("E1");
  v1::EngineerRating rating;
  REQUIRE(s.stub->GetEngineerRating(Context(s.token("partner-a")).get(), rr, &rating).ok());
  CHECK(rating.rating() == Approx(41.0 / 11.0));
  CHECK(rating.response_count() == 1);
  CHECK(rating.raw_mean_csat() == Approx(1.0));
  rr.set_engineer_id("E-new");
  REQUIRE(s.stub->GetEngineerRating(Context(s.token("agent")).get(), rr, &rating).ok());
  CHECK(rating.rating() == Approx(4.0));  // no answers yet: the prior
  CHECK(rating.response_count() == 0);

  // Tasks and churn risk.
  v1::ListFollowUpTasksRequest tl;
  tl.set_kind(v1::FOLLOW_UP_TASK_KIND_DEEP_FOLLOW_UP);
  v1::ListFollowUpTasksResponse tasks;
  REQUIRE(s.stub->ListFollowUpTasks(Context(s.token("agent")).get(), tl, &tasks).ok());
  REQUIRE(tasks.tasks_size() == 1);
  CHECK(tasks.tasks(0).low_dimensions_size() == 6);
  CHECK(rpc::FromProto(tasks.tasks(0).due_at()) == kStart + absl::Hours(24 + 48));
  v1::ListChurnRisksRequest cl;
  cl.set_state(v1::CHURN_RISK_STATE_OPEN);
  v1::ListChurnRisksResponse risks;
  REQUIRE(s.stub->ListChurnRisks(Context(s.token("agent")).get(), cl, &risks).ok());
  REQUIRE(risks.risks_size() == 1);
  CHECK(risks.risks(0).customer_id() == "C1");
  CHECK(risks.risks(0).reasons(0) == v1::CHURN_REASON_DETRACTOR);
  CHECK(rpc::FromProto(risks.risks(0).win_back_due_at()) == kStart + absl::Hours(48));
  CHECK(risks.risks(0).win_back_task_id() == first.follow_up_task_ids(1));

  v1::CompleteFollowUpTaskRequest done;
  done.set_task_id(risks.risks(0).win_back_task_id());
  done.set_outcome_note("called, offered a free check-up");
  v1::FollowUpTask completed;
  REQUIRE(s.stub->CompleteFollowUpTask(Context(s.token("agent")).get(), done, &completed).ok());
  CHECK(completed.state() == v1::FOLLOW_UP_TASK_STATE_DONE);
  CHECK(completed.assignee_id() == "agent-1");  // the calling principal
  v1::FollowUpTask again;
  REQUIRE(s.stub->CompleteFollowUpTask(Context(s.token("admin")).get(), done, &again).ok());
  CHECK(again.assignee_id() == "agent-1");  // idempotent: the first completion stands
  cl.set_state(v1::CHURN_RISK_STATE_CONTACTED);
  REQUIRE(s.stub->ListChurnRisks(Context(s.token("agent")).get(), cl, &risks).ok());
  CHECK(risks.risks_size() == 1);

  // Five stars on another order: the priority-service right.
  s.intake.Emit(RepairedEvent(Repair{.order = "WO-2", .customer = "C2", .engineer = "E2"}));
  const v1::Survey happy = s.WaitForSurvey("WO-2");
  v1::SubmitSurveyResponse five;
  REQUIRE(s.Submit(happy.survey_id(), "answer-5", Answer(5, 10, 5, true, "great"), &five).ok());
  CHECK(five.five_star());
  CHECK_FALSE(five.detractor());
  CHECK(five.follow_up_task_ids_size() == 0);
  CHECK(Count(s.Events(), v1::Event::kFiveStarGranted, happy.survey_id()) == 1);

  // Partners and engineers see their own surveys, never the comment.
  CHECK(s.Get(id, "agent").response().comment() == angry.comment());
  CHECK(s.Get(id, "partner-a").response().comment().empty());
  CHECK(s.Get(id, "engineer").response().csat() == 1);
  v1::GetSurveyRequest other;
  other.set_survey_id(id);
  v1::Survey hidden;
  CHECK(s.stub->GetSurvey(Context(s.token("partner-b")).get(), other, &hidden).error_code() ==
        Code::NOT_FOUND);
  other.set_survey_id(happy.survey_id());  // E2's survey
  CHECK(s.stub->GetSurvey(Context(s.token("engineer")).get(), other, &hidden).error_code() ==
        Code::NOT_FOUND);

  const std::string metrics = s.sat->ScrapeMetrics();
  CHECK(MetricValue(metrics, "aftersales_deep_follow_ups_opened_total") == 1);
  CHECK(MetricValue(metrics, "aftersales_detractor_recoveries_total{stage=\"opened\"}") == 1);
  CHECK(MetricValue(metrics, "aftersales_detractor_recoveries_total{stage=\"contacted\"}") == 1);
  CHECK(MetricValue(metrics, "aftersales_surveys_total{outcome=\"answered\"}") == 2);
  CHECK(MetricValue(metrics, "aftersales_survey_answers_total{nps_class=\"detractor\"}") == 1);
  CHECK(MetricValue(metrics, "aftersales_survey_answers_total{nps_class=\"promoter\"}") == 1);
  // Region gauges: one detractor (CSAT 1) and one promoter (CSAT 5).
  CHECK(MetricValue(metrics,
                    "aftersales_csat_percent{region=\"CN-310000\",window=\"rolling_7d\"}") == 50);
  CHECK(MetricValue(metrics,
                    "aftersales_nps_score{region=\"CN-310000\",window=\"rolling_7d\"}") == 0);
  CHECK(MetricValue(metrics, "aftersales_satisfaction_index{region=\"CN-310000\","
                             "window=\"calendar_week\"}") == Approx(62.5));
  CHECK(MetricValue(metrics, "aftersales_follow_up_coverage_ratio{region=\"CN-310000\","
                             "window=\"rolling_30d\"}") == 1);
}

TEST_CASE("complaints and SLA clocks from peers feed churn risk and the monthly SQI ranking") {
  SatisfactionSuite s;
  const absl::Time before = kStart - absl::Hours(5);
  std::vector<v1::Event> intake;
  // Shanghai: 80 orders (one a rework), arrival 3 met / 1 breached,
  // first contact 2 met (+1 cancelled, no verdict), 2 repairs (1 FTF).
  for (int i = 0; i < 80; ++i) {
    v1::Event e = Envelope("intake", "O-SH-" + std::to_string(i), before);
    auto* o = e.mutable_order_created()->mutable_order();
    o->set_order_id(e.subject_id());
    o->set_customer_id(i == 0 ? "C8" : "CX" + std::to_string(i));
    o->mutable_service_area()->set_region_code(kShanghai);
    *o->mutable_created_at() = rpc::ToProto(before);
    o->set_is_rework(i == 0);
    intake.push_back(e);
  }
  for (int i = 0; i < 10; ++i) {
    v1::Event e = Envelope("intake", "O-BJ-" + std::to_string(i), before);
    auto* o = e.mutable_order_created()->mutable_order();
    o->set_order_id(e.subject_id());
    o->set_customer_id("CB" + std::to_string(i));
    o->mutable_service_area()->set_region_code(kBeijing);
    *o->mutable_created_at() = rpc::ToProto(before);
    intake.push_back(e);
  }
  auto stopped = [&](v1::SlaClockKind clock, v1::SlaOutcome outcome) {
    v1::Event e = Envelope("intake", "O-SH-1", before);
    auto* c = e.mutable_sla_clock_stopped();
    c->set_order_id("O-SH-1");
    c->set_clock(clock);
    c->set_outcome(outcome);
    c->set_region_code(kShanghai);
    intake.push_back(e);
  };
  for (int i = 0; i < 3; ++i) stopped(v1::SLA_CLOCK_KIND_ARRIVAL, v1::SLA_OUTCOME_MET);
  stopped(v1::SLA_CLOCK_KIND_ARRIVAL, v1::SLA_OUTCOME_BREACHED);
  stopped(v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_OUTCOME_MET);
  stopped(v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_OUTCOME_MET);
  stopped(v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_OUTCOME_CANCELLED);
  intake.push_back(RepairedEvent(Repair{.order = "O-SH-1", .customer = "C1", .ftf = true}));
  intake.push_back(RepairedEvent(Repair{.order = "O-SH-2", .customer = "C2", .ftf = false}));
  intake.push_back(RepairedEvent(
      Repair{.order = "O-BJ-1", .customer = "C3", .engineer = "E3", .region = kBeijing}));
  store::Batch batch;
  for (auto& e : intake) batch.AppendEvent(e);
  REQUIRE(s.intake.store().Commit(batch).ok());

  // Complaint: C7 complains twice in Shanghai (one delivered twice).
  auto filed = [&](const std::string& id) {
    v1::Event e = Envelope("complaint", id, before);
    auto* c = e.mutable_complaint_filed();
    c->set_complaint_id(id);
    c->set_customer_id("C7");
    c->set_region_code(kShanghai);
    c->set_category(v1::COMPLAINT_CATEGORY_RESPONSE_DELAY);
    return e;
  };
  s.complaint.Emit(filed("K1"));
  s.complaint.Emit(filed("K1"));
  s.complaint.Emit(filed("K2"));

  // Answers: Shanghai all-5 and all-3 (index 75), Beijing all-5 (index 100).
  v1::SubmitSurveyResponse out;
  REQUIRE(s.Submit(s.WaitForSurvey("O-SH-1").survey_id(), "a1", Answer(5, 10, 5), &out).ok());
  REQUIRE(s.Submit(s.WaitForSurvey("O-SH-2").survey_id(), "a2", Answer(3, 7, 3), &out).ok());
  REQUIRE(s.Submit(s.WaitForSurvey("O-BJ-1").survey_id(), "a3", Answer(5, 9, 5), &out).ok());

  // Churn: C7 for repeated complaints, C8 for the rework.
  v1::ListChurnRisksRequest cl;
  std::map<std::string, v1::ChurnRisk> by_customer;
  REQUIRE(Eventually([&] {
    v1::ListChurnRisksResponse risks;
    if (!s.stub->ListChurnRisks(Context(s.token("agent")).get(), cl, &risks).ok()) return false;
    by_customer.clear();
    for (const auto& r : risks.risks()) by_customer[r.customer_id()] = r;
    return by_customer.size() == 2;
  }));
  REQUIRE(by_customer.count("C7"));
  CHECK(by_customer["C7"].reasons(0) == v1::CHURN_REASON_REPEATED_COMPLAINTS);
  CHECK(by_customer["C7"].evidence_refs(0) == "complaint:K2");
  REQUIRE(by_customer.count("C8"));
  CHECK(by_customer["C8"].reasons(0) == v1::CHURN_REASON_REWORK);
  CHECK(by_customer["C8"].evidence_refs(0) == "order:O-SH-0");

  v1::GetSqiRankingRequest req;
  req.mutable_month()->set_year(2026);
  req.mutable_month()->set_month(11);
  v1::GetSqiRankingResponse ranking;
  // Wait until every peer event has been counted (the last ones are K2's).
  REQUIRE(Eventually([&] {
    if (!s.stub->GetSqiRanking(Context(s.token("agent")).get(), req, &ranking).ok()) return false;
    for (const auto& sc : ranking.scores()) {
      if (sc.region_code() != kShanghai) continue;
      for (const auto& c : sc.components()) {
        for (const auto& in : c.inputs()) {
          if (in.name() == "complaint_rate" && in.value() == Approx(2.0 / 80)) return true;
        }
      }
    }
    return false;
  }));
  REQUIRE(ranking.scores_size() == 2);
  const v1::SqiScore& bj = ranking.scores(0);
  const v1::SqiScore& sh = ranking.scores(1);
  CHECK(bj.region_code() == kBeijing);
  CHECK(bj.rank() == 1);
  CHECK(bj.ranked_regions() == 2);
  // Beijing: no clock stopped (timeliness left out); FTF/diagnosis 100,
  // index 100, no complaint in 10 orders, no incident -> 100.
  CHECK(bj.total() == Approx(100));
  CHECK(bj.components(0).no_data());
  CHECK(sh.region_code() == kShanghai);
  CHECK(sh.rank() == 2);
  // Shanghai: timeliness (75 + 100) / 2 = 87.5; technical (50 + 100) / 2 = 75;
  // experience (75 + 100 * (1 - 0.025 / 0.05)) / 2 = 62.5; security 100.
  REQUIRE(sh.components_size() == 4);
  CHECK(sh.components(0).kind() == v1::SQI_COMPONENT_KIND_TIMELINESS);
  CHECK(sh.components(0).score() == Approx(87.5));
  CHECK(sh.components(1).score() == Approx(75));
  CHECK(sh.components(2).score() == Approx(62.5));
  CHECK(sh.components(3).score() == Approx(100));
  CHECK(sh.total() == Approx(0.3 * 87.5 + 0.25 * 75 + 0.35 * 62.5 + 0.1 * 100));
  CHECK(sh.month().month() == 11);
  // No month given: the previous complete month (October) has no data.
  v1::GetSqiRankingResponse previous;
  REQUIRE(s.stub->GetSqiRanking(Context(s.token("agent")).get(), v1::GetSqiRankingRequest(),
                                &previous)
              .ok());
  CHECK(previous.scores_size() == 0);

  // Scorecards by every dimension, and a ranked list.
  CHECK(s.Card(v1::SCORECARD_DIMENSION_ENGINEER, "E1", v1::AGGREGATION_WINDOW_ROLLING_7D)
            .responses() == 2);
  CHECK(s.Card(v1::SCORECARD_DIMENSION_PARTNER, "PA", v1::AGGREGATION_WINDOW_ROLLING_30D)
            .responses() == 3);
  CHECK(s.Card(v1::SCORECARD_DIMENSION_CATEGORY, "FRIDGE", v1::AGGREGATION_WINDOW_ROLLING_90D)
            .satisfaction_index() == Approx((75.0 * 2 + 100) / 3));
  v1::ListScorecardsRequest list;
  list.set_dimension(v1::SCORECARD_DIMENSION_REGION);
  list.set_window(v1::AGGREGATION_WINDOW_ROLLING_7D);
  list.mutable_page()->set_page_size(1);
  v1::ListScorecardsResponse page1, page2;
  REQUIRE(s.stub->ListScorecards(Context(s.token("auditor")).get(), list, &page1).ok());
  REQUIRE(page1.scorecards_size() == 1);
  CHECK(page1.scorecards(0).key() == kBeijing);  // index 100 first
  REQUIRE_FALSE(page1.next_page_token().empty());
  list.mutable_page()->set_page_token(page1.next_page_token());
  REQUIRE(s.stub->ListScorecards(Context(s.token("auditor")).get(), list, &page2).ok());
  REQUIRE(page2.scorecards_size() == 1);
  CHECK(page2.scorecards(0).key() == kShanghai);
  CHECK(page2.next_page_token().empty());
  list.clear_page();
  list.set_min_responses(2);
  REQUIRE(s.stub->ListScorecards(Context(s.token("agent")).get(), list, &page1).ok());
  REQUIRE(page1.scorecards_size() == 1);
  CHECK(page1.scorecards(0).key() == kShanghai);
}

TEST_CASE("a restart keeps surveys, aggregates, ratings and pending timers") {
  SatisfactionSuite s;
  s.intake.Emit(RepairedEvent(Repair{.order = "WO-1"}));
  s.intake.Emit(RepairedEvent(Repair{.order = "WO-2", .customer = "C2"}));
  const v1::Survey a = s.WaitForSurvey("WO-1");
  const v1::Survey b = s.WaitForSurvey("WO-2");
  v1::SubmitSurveyResponse out;
  REQUIRE(s.Submit(a.survey_id(), "r1", Answer(4, 9, 4), &out).ok());
  const v1::Scorecard before =
      s.Card(v1::SCORECARD_DIMENSION_ENGINEER, "E1", v1::AGGREGATION_WINDOW_ROLLING_30D);
  const uint64_t head = s.Head();
  s.sat->Kill();  // a crash: acknowledged writes must survive
  s.sat->Restart();
  // The manual clock restarts at its flag value; put it back.
  v1::SetTimeRequest set;
  *set.mutable_now() = rpc::ToProto(kStart);
  v1::ClockTime now;
  REQUIRE(v1::ClockAdmin::NewStub(s.sat->channel())
              ->SetTime(Context(s.token("admin")).get(), set, &now)
              .ok());
  s.stub = v1::SatisfactionService::NewStub(s.sat->channel());
  v1::Scorecard after =
      s.Card(v1::SCORECARD_DIMENSION_ENGINEER, "E1", v1::AGGREGATION_WINDOW_ROLLING_30D);
  after.clear_computed_at();
  v1::Scorecard expected = before;
  expected.clear_computed_at();
  CHECK(after.SerializeAsString() == expected.SerializeAsString());
  CHECK(s.Head() == head);  // the consumer resumed from its cursor: no re-scheduling
  CHECK(s.SurveysOf("WO-1").size() == 1);
  // The retry after the crash still returns the original answer.
  REQUIRE(s.Submit(a.survey_id(), "r1", Answer(4, 9, 4), &out).ok());
  CHECK_FALSE(out.created());
  // The unanswered survey's timer still fires.
  s.Advance(absl::Hours(24));
  REQUIRE(Eventually([&] { return s.Get(b.survey_id()).state() == v1::SURVEY_STATE_DUE; }));
}

TEST_CASE("bad input on every RPC gets the right status and changes nothing") {
  SatisfactionSuite s;
  s.intake.Emit(RepairedEvent(Repair{.order = "WO-1"}));
  const v1::Survey survey = s.WaitForSurvey("WO-1");
  const uint64_t head = s.Head();
  auto& stub = *s.stub;
  auto ctx = [&](const std::string& who) { return Context(who.empty() ? "" : s.token(who)); };

  // GetSurvey / ListSurveys
  v1::GetSurveyRequest get;
  v1::Survey sv;
  CHECK(stub.GetSurvey(ctx("agent").get(), get, &sv).error_code() == Code::INVALID_ARGUMENT);
  get.set_survey_id("SV with space");
  CHECK(stub.GetSurvey(ctx("agent").get(), get, &sv).error_code() == Code::INVALID_ARGUMENT);
  get.set_survey_id("SV-none");
  CHECK(stub.GetSurvey(ctx("agent").get(), get, &sv).error_code() == Code::NOT_FOUND);
  get.set_survey_id(survey.survey_id());
  CHECK(stub.GetSurvey(ctx("").get(), get, &sv).error_code() == Code::UNAUTHENTICATED);
  CHECK(stub.GetSurvey(ctx("partner-b").get(), get, &sv).error_code() == Code::NOT_FOUND);
  v1::ListSurveysRequest ls;
  v1::ListSurveysResponse lr;
  ls.mutable_page()->set_page_size(501);
  CHECK(stub.ListSurveys(ctx("agent").get(), ls, &lr).error_code() == Code::INVALID_ARGUMENT);
  ls.clear_page();
  ls.set_state(static_cast<v1::SurveyState>(42));
  CHECK(stub.ListSurveys(ctx("agent").get(), ls, &lr).error_code() == Code::INVALID_ARGUMENT);
  ls.set_state(v1::SURVEY_STATE_UNSPECIFIED);
  *ls.mutable_scheduled()->mutable_start() = rpc::ToProto(kStart);
  *ls.mutable_scheduled()->mutable_end() = rpc::ToProto(kStart - absl::Hours(1));
  grpc::Status range = stub.ListSurveys(ctx("agent").get(), ls, &lr);
  CHECK(range.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(range.error_message(), "scheduled:"));
  ls.clear_scheduled();
  ls.mutable_page()->set_page_token("%%%");
  CHECK(stub.ListSurveys(ctx("agent").get(), ls, &lr).error_code() == Code::INVALID_ARGUMENT);
  ls.clear_page();
  ls.set_engineer_id("E9");
  CHECK(stub.ListSurveys(ctx("engineer").get(), ls, &lr).error_code() == Code::PERMISSION_DENIED);
  CHECK(stub.ListSurveys(ctx("").get(), ls, &lr).error_code() == Code::UNAUTHENTICATED);
  ls.clear_engineer_id();
  REQUIRE(stub.ListSurveys(ctx("partner-b").get(), ls, &lr).ok());
  CHECK(lr.surveys_size() == 0);  // partner B sees nothing of partner A's

  // SubmitSurvey
  v1::SubmitSurveyResponse sr;
  const v1::SurveyResponse good = Answer(4, 8, 4);
  CHECK(s.Submit(survey.survey_id(), "x1", good, &sr, "auditor").error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(s.Submit(survey.survey_id(), "x1", good, &sr, "partner-a").error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(s.Submit(survey.survey_id(), "x1", good, &sr, "engineer").error_code() ==
        Code::PERMISSION_DENIED);
  {
    v1::SubmitSurveyRequest req;
    req.set_survey_id(survey.survey_id());
    req.set_request_id("x1");
    *req.mutable_response() = good;
    CHECK(stub.SubmitSurvey(ctx("").get(), req, &sr).error_code() == Code::UNAUTHENTICATED);
    req.clear_response();
    grpc::Status st = stub.SubmitSurvey(ctx("app").get(), req, &sr);
    CHECK(st.error_code() == Code::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(st.error_message(), "response:"));
  }
  struct BadAnswer {
    const char* field;
    std::function<void(v1::SubmitSurveyRequest&)> spoil;
  };
  const std::vector<BadAnswer> bad = {
      {"survey_id", [](auto& r) { r.clear_survey_id(); }},
      {"request_id", [](auto& r) { r.clear_request_id(); }},
      {"request_id", [](auto& r) { r.set_request_id(std::string(129, 'r')); }},
      {"response.csat", [](auto& r) { r.mutable_response()->set_csat(0); }},
      {"response.nps", [](auto& r) { r.mutable_response()->set_nps(11); }},
      {"response.dimensions.professionalism",
       [](auto& r) { r.mutable_response()->mutable_dimensions()->set_professionalism(9); }},
      {"response.dimensions", [](auto& r) { r.mutable_response()->clear_dimensions(); }},
      {"response.problem_solved", [](auto& r) { r.mutable_response()->clear_problem_solved(); }},
      {"response.comment",
       [](auto& r) { r.mutable_response()->set_comment(std::string(4001, 'c')); }},
  };
  for (const auto& b : bad) {
    v1::SubmitSurveyRequest req;
    req.set_survey_id(survey.survey_id());
    req.set_request_id("x1");
    *req.mutable_response() = good;
    b.spoil(req);
    grpc::Status st = stub.SubmitSurvey(ctx("app").get(), req, &sr);
    INFO(b.field << " -> " << st.error_message());
    CHECK(st.error_code() == Code::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(st.error_message(), std::string(b.field) + ":"));
  }
  CHECK(s.Submit("SV-none", "x1", good, &sr).error_code() == Code::NOT_FOUND);
  {
    v1::SubmitSurveyRequest huge;
    huge.set_survey_id(survey.survey_id());
    huge.set_request_id("x1");
    *huge.mutable_response() = good;
    huge.mutable_response()->set_comment(std::string(2 << 20, 'x'));
    CHECK(stub.SubmitSurvey(ctx("app").get(), huge, &sr).error_code() == Code::RESOURCE_EXHAUSTED);
  }

  // Scorecards
  v1::GetScorecardRequest gs;
  v1::Scorecard card;
  CHECK(stub.GetScorecard(ctx("agent").get(), gs, &card).error_code() == Code::INVALID_ARGUMENT);
  gs.set_dimension(v1::SCORECARD_DIMENSION_REGION);
  gs.set_window(v1::AGGREGATION_WINDOW_ROLLING_7D);
  grpc::Status nokey = stub.GetScorecard(ctx("agent").get(), gs, &card);
  CHECK(nokey.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(nokey.error_message(), "key:"));
  gs.set_key(kShanghai);
  gs.mutable_week_start()->set_year(2026);
  gs.mutable_week_start()->set_month(11);
  gs.mutable_week_start()->set_day(23);
  grpc::Status misplaced = stub.GetScorecard(ctx("agent").get(), gs, &card);
  CHECK(misplaced.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(misplaced.error_message(), "week_start:"));
  gs.set_window(v1::AGGREGATION_WINDOW_CALENDAR_WEEK);
  gs.mutable_week_start()->set_day(24);  // a Tuesday
  grpc::Status tuesday = stub.GetScorecard(ctx("agent").get(), gs, &card);
  CHECK(tuesday.error_code() == Code::INVALID_ARGUMENT);
  CHECK(tuesday.error_message() == "week_start: must be a Monday");
  gs.set_window(static_cast<v1::AggregationWindow>(17));
  CHECK(stub.GetScorecard(ctx("agent").get(), gs, &card).error_code() == Code::INVALID_ARGUMENT);
  gs.set_window(v1::AGGREGATION_WINDOW_ROLLING_7D);
  gs.clear_week_start();
  CHECK(stub.GetScorecard(ctx("app").get(), gs, &card).error_code() == Code::PERMISSION_DENIED);
  CHECK(stub.GetScorecard(ctx("partner-a").get(), gs, &card).error_code() ==
        Code::PERMISSION_DENIED);
  gs.set_dimension(v1::SCORECARD_DIMENSION_PARTNER);
  gs.set_key("PA");
  CHECK(stub.GetScorecard(ctx("partner-a").get(), gs, &card).ok());
  CHECK(stub.GetScorecard(ctx("partner-b").get(), gs, &card).error_code() ==
        Code::PERMISSION_DENIED);
  v1::ListScorecardsRequest lsc;
  v1::ListScorecardsResponse lscr;
  lsc.set_window(v1::AGGREGATION_WINDOW_ROLLING_7D);
  CHECK(stub.ListScorecards(ctx("agent").get(), lsc, &lscr).error_code() ==
        Code::INVALID_ARGUMENT);
  lsc.set_dimension(v1::SCORECARD_DIMENSION_ENGINEER);
  lsc.set_min_responses(-1);
  CHECK(stub.ListScorecards(ctx("agent").get(), lsc, &lscr).error_code() ==
        Code::INVALID_ARGUMENT);
  lsc.set_min_responses(0);
  lsc.mutable_page()->set_page_token(rpc::NextPageToken("not-an-offset"));
  CHECK(stub.ListScorecards(ctx("agent").get(), lsc, &lscr).error_code() ==
        Code::INVALID_ARGUMENT);
  lsc.clear_page();
  CHECK(stub.ListScorecards(ctx("partner-a").get(), lsc, &lscr).error_code() ==
        Code::PERMISSION_DENIED);

  // Rating, SQI
  v1::GetEngineerRatingRequest gr;
  v1::EngineerRating rating;
  CHECK(stub.GetEngineerRating(ctx("agent").get(), gr, &rating).error_code() ==
        Code::INVALID_ARGUMENT);
  gr.set_engineer_id("E1");
  CHECK(stub.GetEngineerRating(ctx("").get(), gr, &rating).error_code() == Code::UNAUTHENTICATED);
  v1::GetSqiRankingRequest sq;
  v1::GetSqiRankingResponse sqr;
  sq.mutable_month()->set_year(2026);
  sq.mutable_month()->set_month(13);
  grpc::Status month = stub.GetSqiRanking(ctx("agent").get(), sq, &sqr);
  CHECK(month.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(month.error_message(), "month.month:"));
  sq.mutable_month()->set_month(11);
  CHECK(stub.GetSqiRanking(ctx("app").get(), sq, &sqr).error_code() == Code::PERMISSION_DENIED);

  // Tasks and churn
  v1::ListFollowUpTasksRequest lt;
  v1::ListFollowUpTasksResponse ltr;
  lt.set_kind(static_cast<v1::FollowUpTaskKind>(9));
  CHECK(stub.ListFollowUpTasks(ctx("agent").get(), lt, &ltr).error_code() ==
        Code::INVALID_ARGUMENT);
  lt.set_kind(v1::FOLLOW_UP_TASK_KIND_UNSPECIFIED);
  lt.mutable_page()->set_page_size(-2);
  CHECK(stub.ListFollowUpTasks(ctx("agent").get(), lt, &ltr).error_code() ==
        Code::INVALID_ARGUMENT);
  lt.clear_page();
  CHECK(stub.ListFollowUpTasks(ctx("engineer").get(), lt, &ltr).error_code() ==
        Code::PERMISSION_DENIED);
  v1::CompleteFollowUpTaskRequest ct;
  v1::FollowUpTask task;
  CHECK(stub.CompleteFollowUpTask(ctx("agent").get(), ct, &task).error_code() ==
        Code::INVALID_ARGUMENT);
  ct.set_task_id("DF-none");
  CHECK(stub.CompleteFollowUpTask(ctx("agent").get(), ct, &task).error_code() == Code::NOT_FOUND);
  ct.set_outcome_note(std::string(2001, 'n'));
  grpc::Status note = stub.CompleteFollowUpTask(ctx("agent").get(), ct, &task);
  CHECK(note.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(note.error_message(), "outcome_note:"));
  CHECK(stub.CompleteFollowUpTask(ctx("auditor").get(), ct, &task).error_code() ==
        Code::PERMISSION_DENIED);
  v1::ListChurnRisksRequest lc;
  v1::ListChurnRisksResponse lcr;
  lc.set_state(static_cast<v1::ChurnRiskState>(8));
  CHECK(stub.ListChurnRisks(ctx("agent").get(), lc, &lcr).error_code() == Code::INVALID_ARGUMENT);
  lc.set_state(v1::CHURN_RISK_STATE_UNSPECIFIED);
  CHECK(stub.ListChurnRisks(ctx("partner-a").get(), lc, &lcr).error_code() ==
        Code::PERMISSION_DENIED);

  // Policy
  v1::GetPolicyRequest gp;
  v1::SatisfactionPolicySnapshot snap;
  CHECK(stub.GetPolicy(ctx("agent").get(), gp, &snap).error_code() == Code::PERMISSION_DENIED);
  gp.set_version("no-such-version");
  CHECK(stub.GetPolicy(ctx("admin").get(), gp, &snap).error_code() == Code::NOT_FOUND);
  v1::ReloadPolicyRequest reload;
  v1::ReloadPolicyResponse reloaded;
  reload.set_inline_text("ref { name: \"satisfaction\" version: \"broken\" } rating_prior_mean: 9");
  CHECK(stub.ReloadPolicy(ctx("agent").get(), reload, &reloaded).error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(stub.ReloadPolicy(ctx("admin").get(), reload, &reloaded).error_code() ==
        Code::INVALID_ARGUMENT);
  gp.clear_version();
  REQUIRE(stub.GetPolicy(ctx("admin").get(), gp, &snap).ok());
  CHECK(snap.policy().ref().version() == survey.policy().version());
  CHECK(snap.policy().rating_prior_mean() == 4.0);
  reload.set_inline_text("");
  reload.set_dry_run(true);
  REQUIRE(stub.ReloadPolicy(ctx("admin").get(), reload, &reloaded).ok());
  CHECK_FALSE(reloaded.changed());

  // Nothing changed, and the service still serves.
  CHECK(s.Head() == head);
  const v1::Survey unchanged = s.Get(survey.survey_id());
  CHECK(unchanged.SerializeAsString() == survey.SerializeAsString());
  v1::SubmitSurveyResponse ok;
  REQUIRE(s.Submit(survey.survey_id(), "x1", good, &ok).ok());
  CHECK(ok.created());
}

}  // namespace
}  // namespace aftersales
