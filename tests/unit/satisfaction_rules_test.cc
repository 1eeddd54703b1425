// Satisfaction rules (SPEC §6): survey scheduling and its timers, answer
// validation and the rules an answer triggers, the Bayesian engineer rating,
// churn risk and the policy document.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "satisfaction/domain/followup.h"
#include "satisfaction/domain/policy.h"
#include "satisfaction/domain/rating.h"
#include "satisfaction/domain/survey.h"

namespace aftersales::satisfaction::domain {
namespace {

std::string ShippedText() {
  std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) + "/deploy/policies/satisfaction.textproto");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const v1::SatisfactionPolicy& Shipped() {
  static const v1::SatisfactionPolicy policy = [] {
    auto p = ParseSatisfactionPolicy(ShippedText());
    if (!p.ok()) FAIL("shipped policy: " << p.status());
    return *p;
  }();
  return policy;
}

const absl::Time kT0 = absl::FromUnixSeconds(1795000000);  // 2026-11-18

v1::OrderConfirmedRepaired Repaired() {
  v1::OrderConfirmedRepaired r;
  r.set_order_id("WO1");
  r.set_customer_id("C1");
  r.set_engineer_id("E1");
  r.set_partner_id("PA");
  r.set_region_code("CN-310000");
  r.set_appliance_category("FRIDGE");
  *r.mutable_repaired_at() = rpc::ToProto(kT0 - absl::Hours(2));
  *r.mutable_confirmed_at() = rpc::ToProto(kT0);
  return r;
}

v1::SurveyResponse Response(int csat, int nps, std::vector<int> d, bool solved = true,
                            const std::string& comment = "") {
  v1::SurveyResponse r;
  r.set_csat(csat);
  r.set_nps(nps);
  auto* s = r.mutable_dimensions();
  s->set_booking_convenience(d[0]);
  s->set_timeliness(d[1]);
  s->set_engineer_attitude(d[2]);
  s->set_professionalism(d[3]);
  s->set_fee_transparency(d[4]);
  s->set_site_etiquette(d[5]);
  r.set_problem_solved(solved);
  r.set_comment(comment);
  return r;
}

v1::Survey Scheduled(const v1::OrderConfirmedRepaired& r = Repaired()) {
  auto s = ScheduleSurvey(r, kT0, Shipped());
  REQUIRE(s.ok());
  return *s;
}

TEST_CASE("the shipped policy loads with the SPEC defaults") {
  const v1::SatisfactionPolicy& p = Shipped();
  CHECK(p.ref().name() == "satisfaction");
  CHECK(rpc::FromProto(p.survey_expiry()) == absl::Hours(24 * 7));
  CHECK(p.rating_prior_mean() == 4.0);
  CHECK(p.rating_prior_weight() == 10);
  CHECK(p.deep_follow_up_below() == 4);
  CHECK(p.detractor_csat_max() == 2);
  CHECK(p.detractor_nps_max() == 6);
  CHECK(p.sqi_weight_timeliness() == Approx(0.30));
  CHECK(p.sqi_weight_technical() == Approx(0.25));
  CHECK(p.sqi_weight_experience() == Approx(0.35));
  CHECK(p.sqi_weight_data_security() == Approx(0.10));
  CHECK(p.churn_complaints_threshold() == 2);
  CHECK(rpc::FromProto(p.churn_complaints_window()) == absl::Hours(24 * 90));
  CHECK(rpc::FromProto(p.win_back_within()) == absl::Hours(24));
  CHECK(p.dimension_weights_size() == 6);
  CHECK(RegionZoneName(p, "DE-BE") == "Europe/Berlin");
  CHECK(RegionZoneName(p, "XX-unknown") == "Asia/Shanghai");
  CHECK(ZoneNameFor(p, v1::SCORECARD_DIMENSION_ENGINEER, "DE-BE") == "Asia/Shanghai");
}

TEST_CASE("a policy that does not validate names the field") {
  struct Bad {
    const char* field;
    const char* find;
    const char* replace;
  };
  const std::vector<Bad> cases = {
      {"policy: line", "rating_prior_mean: 4.0", "rating_prior_mean: four"},
      {"rating_prior_mean:", "rating_prior_mean: 4.0", "rating_prior_mean: 6"},
      {"sqi_weight_timeliness:", "sqi_weight_timeliness: 0.30", "sqi_weight_timeliness: 0.40"},
      {"time_zone:", "time_zone: \"Asia/Shanghai\"", "time_zone: \"Mars/Base\""},
      {"region_time_zones[\"DE-BE\"]:", "value: \"Europe/Berlin\"", "value: \"Europe/Atlantis\""},
      {"dimension_weights:", "dimension_weights: [1, 1, 1, 1, 1, 1]", "dimension_weights: [1, 1]"},
      {"survey_expiry:", "survey_expiry { seconds: 604800 }", "survey_expiry { seconds: 1 }"},
      {"detractor_nps_max:", "detractor_nps_max: 6", "detractor_nps_max: 11"},
      {"churn_complaints_threshold:", "churn_complaints_threshold: 2", "churn_complaints_threshold: 0"},
      {"sqi_complaint_rate_at_zero:", "sqi_complaint_rate_at_zero: 0.05", "sqi_complaint_rate_at_zero: 0"},
      {"win_back_within:", "win_back_within { seconds: 86400 }", ""},
  };
  for (const auto& c : cases) {
    std::string text = ShippedText();
    const size_t at = text.find(c.find);
    REQUIRE(at != std::string::npos);
    text.replace(at, std::string(c.find).size(), c.replace);
    auto p = ParseSatisfactionPolicy(text);
    INFO(c.field << " -> " << p.status());
    CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(p.status().message(), c.field));
  }
}

TEST_CASE("a survey is due at intake's follow-up deadline and expires 7 days after scheduling") {
  v1::OrderConfirmedRepaired r = Repaired();
  *r.mutable_follow_up_deadline() = rpc::ToProto(kT0 + absl::Hours(30));
  v1::Survey s = Scheduled(r);
  CHECK(s.state() == v1::SURVEY_STATE_SCHEDULED);
  CHECK(absl::StartsWith(s.survey_id(), "SV"));
  CHECK(s.survey_id().size() == 18);
  CHECK(s.survey_id() == SurveyIdFor("WO1", kT0));
  CHECK(s.survey_id() != SurveyIdFor("WO1", kT0 + absl::Seconds(1)));  // a second confirmation
  CHECK(rpc::FromProto(s.scheduled_at()) == kT0);
  CHECK(rpc::FromProto(s.due_at()) == kT0 + absl::Hours(30));
  CHECK(rpc::FromProto(s.expires_at()) == kT0 + absl::Hours(24 * 7));
  CHECK(s.engineer_id() == "E1");
  CHECK(s.policy().name() == "satisfaction");

  CHECK(NextTimer(s) == kT0 + absl::Hours(30));
  CHECK(AdvanceSurvey(s, kT0 + absl::Hours(30) - absl::Seconds(1)).empty());
  CHECK(AdvanceSurvey(s, kT0 + absl::Hours(30)) ==
        std::vector<v1::SurveyState>{v1::SURVEY_STATE_DUE});
  CHECK(NextTimer(s) == kT0 + absl::Hours(24 * 7));
  CHECK(AdvanceSurvey(s, kT0 + absl::Hours(24 * 7)) ==
        std::vector<v1::SurveyState>{v1::SURVEY_STATE_EXPIRED});
  CHECK(NextTimer(s) == absl::InfiniteFuture());

  // A consumer that catches up late moves through both at once.
  v1::Survey late = Scheduled(r);
  CHECK(AdvanceSurvey(late, kT0 + absl::Hours(24 * 8)) ==
        std::vector<v1::SurveyState>{v1::SURVEY_STATE_DUE, v1::SURVEY_STATE_EXPIRED});
}

TEST_CASE("without a deadline from intake: 24 h, 72 h with parts or warranty, 48 h with a complaint") {
  v1::OrderConfirmedRepaired r = Repaired();
  const absl::Time repaired = kT0 - absl::Hours(2);
  CHECK(rpc::FromProto(Scheduled(r).due_at()) == repaired + absl::Hours(24));
  r.set_complaint_linked(true);
  CHECK(rpc::FromProto(Scheduled(r).due_at()) == repaired + absl::Hours(48));
  r.set_warranty(true);  // parts/warranty wins over the complaint
  CHECK(rpc::FromProto(Scheduled(r).due_at()) == repaired + absl::Hours(72));
  r.set_warranty(false);
  r.set_complaint_linked(false);
  r.set_parts_replaced(true);
  CHECK(rpc::FromProto(Scheduled(r).due_at()) == repaired + absl::Hours(72));
  r.clear_order_id();
  CHECK(ScheduleSurvey(r, kT0, Shipped()).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a response is validated field by field") {
  struct Bad {
    const char* field;
    v1::SurveyResponse response;
  };
  std::vector<Bad> bad = {
      {"response.csat:", Response(0, 5, {4, 4, 4, 4, 4, 4})},
      {"response.csat:", Response(6, 5, {4, 4, 4, 4, 4, 4})},
      {"response.nps:", Response(4, 11, {4, 4, 4, 4, 4, 4})},
      {"response.nps:", Response(4, -1, {4, 4, 4, 4, 4, 4})},
      {"response.dimensions.timeliness:", Response(4, 5, {4, 0, 4, 4, 4, 4})},
      {"response.dimensions.site_etiquette:", Response(4, 5, {4, 4, 4, 4, 4, 6})},
      {"response.comment:", Response(4, 5, {4, 4, 4, 4, 4, 4}, true, std::string(4001, 'x'))},
  };
  v1::SurveyResponse no_dims = Response(4, 5, {4, 4, 4, 4, 4, 4});
  no_dims.clear_dimensions();
  bad.push_back({"response.dimensions:", no_dims});
  v1::SurveyResponse no_solved = Response(4, 5, {4, 4, 4, 4, 4, 4});
  no_solved.clear_problem_solved();
  bad.push_back({"response.problem_solved:", no_solved});
  for (const auto& b : bad) {
    absl::Status s = ValidateResponse(b.response);
    INFO(b.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), b.field));
  }
  CHECK(ValidateResponse(Response(1, 0, {1, 1, 1, 1, 1, 1}, false, "很差")).ok());
  CHECK(ValidateResponse(Response(5, 10, {5, 5, 5, 5, 5, 5}, true, std::string(4000, 'x'))).ok());
}

TEST_CASE("answer rules: deep follow-up, not solved, detractor and five stars") {
  const absl::Time now = kT0 + absl::Hours(30);
  const v1::Survey s = Scheduled();

  auto happy = AnswerSurvey(s, Response(5, 10, {5, 5, 5, 5, 5, 5}), "r1", Shipped(), now);
  REQUIRE(happy.ok());
  CHECK(happy->survey.state() == v1::SURVEY_STATE_ANSWERED);
  CHECK(happy->survey.submit_request_id() == "r1");
  CHECK(rpc::FromProto(happy->survey.response().answered_at()) == now);
  CHECK(happy->five_star);
  CHECK_FALSE(happy->detractor);
  CHECK_FALSE(happy->not_solved);
  CHECK(happy->low_dimensions.empty());
  CHECK_FALSE(happy->sent_before);  // answered while still SCHEDULED
  auto events = AnswerEvents(*happy, now);
  REQUIRE(events.size() == 2);
  CHECK(events[0].has_survey_answered());
  CHECK(events[0].survey_answered().all_five());
  CHECK(events[1].has_five_star_granted());
  CHECK(events[1].five_star_granted().customer_id() == "C1");

  // All five but not solved: reopened, no priority right.
  auto unsolved = AnswerSurvey(s, Response(5, 10, {5, 5, 5, 5, 5, 5}, false), "r2", Shipped(), now);
  REQUIRE(unsolved.ok());
  CHECK_FALSE(unsolved->five_star);
  CHECK(unsolved->not_solved);
  events = AnswerEvents(*unsolved, now);
  REQUIRE(events.size() == 2);
  CHECK(events[1].has_problem_not_solved());
  CHECK(events[1].problem_not_solved().order_id() == "WO1");

  // One dimension below 4: a deep follow-up naming it.
  auto low = AnswerSurvey(s, Response(4, 8, {4, 3, 4, 4, 2, 4}), "r3", Shipped(), now);
  REQUIRE(low.ok());
  CHECK(low->low_dimensions == std::vector<v1::SurveyDimension>{
                                   v1::SURVEY_DIMENSION_TIMELINESS,
                                   v1::SURVEY_DIMENSION_FEE_TRANSPARENCY});
  CHECK_FALSE(low->detractor);
  CHECK(AnswerEvents(*low, now).size() == 1);

  // CSAT <= 2: a detractor, whatever the comment.
  auto angry = AnswerSurvey(s, Response(2, 9, {4, 4, 4, 4, 4, 4}), "r4", Shipped(), now);
  REQUIRE(angry.ok());
  CHECK(angry->detractor);
  CHECK(angry->survey.auto_complaint_request_id() == "survey:" + s.survey_id());
  events = AnswerEvents(*angry, now);
  REQUIRE(events.size() == 2);
  REQUIRE(events[1].has_detractor_detected());
  CHECK(events[1].detractor_detected().complaint_request_id() == "survey:" + s.survey_id());
  CHECK(events[1].detractor_detected().csat() == 2);

  // NPS <= 6 is a detractor only with a negative comment.
  auto meh = AnswerSurvey(s, Response(3, 6, {4, 4, 4, 4, 4, 4}, true, "ok I guess"), "r5",
                          Shipped(), now);
  REQUIRE(meh.ok());
  CHECK_FALSE(meh->detractor);
  CHECK_FALSE(meh->survey.response().negative_comment());
  auto rude = AnswerSurvey(s, Response(3, 6, {4, 4, 4, 4, 4, 4}, true, "The engineer was RUDE"),
                           "r6", Shipped(), now);
  REQUIRE(rude.ok());
  CHECK(rude->detractor);
  CHECK(rude->survey.response().negative_comment());
  auto zh = AnswerSurvey(s, Response(3, 5, {4, 4, 4, 4, 4, 4}, true, "师傅态度差，很失望"), "r7",
                         Shipped(), now);
  REQUIRE(zh.ok());
  CHECK(zh->detractor);
  auto passive = AnswerSurvey(s, Response(3, 7, {4, 4, 4, 4, 4, 4}, true, "rude"), "r8",
                              Shipped(), now);
  REQUIRE(passive.ok());
  CHECK_FALSE(passive->detractor);  // NPS 7 is not <= 6
}

TEST_CASE("a survey is answered once and never after it expired") {
  v1::Survey s = Scheduled();
  const absl::Time now = kT0 + absl::Hours(1);
  auto first = AnswerSurvey(s, Response(4, 8, {4, 4, 4, 4, 4, 4}), "r1", Shipped(), now);
  REQUIRE(first.ok());
  auto again = AnswerSurvey(first->survey, Response(4, 8, {4, 4, 4, 4, 4, 4}), "r2", Shipped(), now);
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(again.status().message(), "ANSWERED"));
  // Past expires_at the survey is expired even before the sweeper marked it.
  auto late = AnswerSurvey(s, Response(4, 8, {4, 4, 4, 4, 4, 4}), "r3", Shipped(),
                           kT0 + absl::Hours(24 * 7));
  CHECK(late.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(late.status().message(), "EXPIRED"));
  AdvanceSurvey(s, kT0 + absl::Hours(24 * 7));
  CHECK(AnswerSurvey(s, Response(4, 8, {4, 4, 4, 4, 4, 4}), "r4", Shipped(), now).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // A DUE survey is answerable and counts as sent before.
  v1::Survey due = Scheduled();
  AdvanceSurvey(due, kT0 + absl::Hours(23));
  REQUIRE(due.state() == v1::SURVEY_STATE_DUE);
  auto answered = AnswerSurvey(due, Response(4, 8, {4, 4, 4, 4, 4, 4}), "r5", Shipped(),
                               kT0 + absl::Hours(23));
  REQUIRE(answered.ok());
  CHECK(answered->sent_before);
}

TEST_CASE("engineer rating: Bayesian average with prior 4.0 and weight 10") {
  CHECK(BayesianRating(0, 0, 4.0, 10) == Approx(4.0));
  CHECK(BayesianRating(1, 1, 4.0, 10) == Approx(41.0 / 11.0));
  CHECK(BayesianRating(5, 25, 4.0, 10) == Approx(65.0 / 15.0));
  CHECK(BayesianRating(1000, 1000, 4.0, 10) == Approx(1040.0 / 1010.0));

  const absl::Time now = kT0;
  RatingUpdate first = AddToRating(std::nullopt, "E1", 1, Shipped(), now);
  CHECK(first.changed);
  CHECK(first.previous == 0);
  CHECK(first.rating.rating() == Approx(41.0 / 11.0));
  CHECK(first.rating.response_count() == 1);
  CHECK(first.rating.raw_mean_csat() == Approx(1.0));
  CHECK(first.rating.prior_mean() == 4.0);
  CHECK(first.rating.prior_weight() == 10);
  RatingUpdate second = AddToRating(first.rating, "E1", 5, Shipped(), now + absl::Hours(1));
  CHECK(second.changed);
  CHECK(second.previous == Approx(41.0 / 11.0));
  CHECK(second.rating.rating() == Approx(46.0 / 12.0));
  CHECK(second.rating.raw_mean_csat() == Approx(3.0));
  v1::Event e = RatingChangedEvent(second, now);
  CHECK(e.producer() == "satisfaction");
  CHECK(e.subject_id() == "E1");
  CHECK(e.engineer_rating_changed().rating() == Approx(46.0 / 12.0));
  CHECK(e.engineer_rating_changed().previous_rating() == Approx(41.0 / 11.0));
  CHECK(e.engineer_rating_changed().response_count() == 2);

  // A 4 on a rating of exactly 4.0 changes nothing: nothing is published.
  RatingUpdate at_prior = AddToRating(std::nullopt, "E2", 4, Shipped(), now);
  RatingUpdate same = AddToRating(at_prior.rating, "E2", 4, Shipped(), now + absl::Hours(1));
  CHECK_FALSE(same.changed);
  CHECK(same.rating.response_count() == 2);
  CHECK(rpc::FromProto(same.rating.updated_at()) == now);
}

TEST_CASE("churn risk: opened with a 24 h win-back task, merged, reopened after contact") {
  const v1::SatisfactionPolicy& p = Shipped();
  ChurnUpdate first = FlagChurn(std::nullopt, "C1", v1::CHURN_REASON_DETRACTOR, "survey:S1",
                                "S1", "WO1", p, kT0);
  CHECK(first.changed);
  CHECK(first.risk.state() == v1::CHURN_RISK_STATE_OPEN);
  CHECK(rpc::FromProto(first.risk.win_back_due_at()) == kT0 + absl::Hours(24));
  REQUIRE(first.task.has_value());
  CHECK(first.task->kind() == v1::FOLLOW_UP_TASK_KIND_WIN_BACK);
  CHECK(rpc::FromProto(first.task->due_at()) == kT0 + absl::Hours(24));
  CHECK(first.risk.win_back_task_id() == first.task->task_id());
  REQUIRE(first.events.size() == 2);
  CHECK(first.events[0].has_churn_risk_flagged());
  CHECK(first.events[1].has_follow_up_task_opened());

  ChurnUpdate same = FlagChurn(first.risk, "C1", v1::CHURN_REASON_DETRACTOR, "survey:S2", "S2",
                               "WO2", p, kT0 + absl::Hours(1));
  CHECK_FALSE(same.changed);
  CHECK(same.events.empty());
  CHECK_FALSE(same.task.has_value());
  CHECK(same.risk.evidence_refs_size() == 2);

  ChurnUpdate more = FlagChurn(same.risk, "C1", v1::CHURN_REASON_REWORK, "order:WO3", "", "WO3",
                               p, kT0 + absl::Hours(2));
  CHECK(more.changed);
  CHECK_FALSE(more.task.has_value());  // the open win-back task covers it
  CHECK(more.risk.reasons_size() == 2);
  REQUIRE(more.events.size() == 1);
  CHECK(more.events[0].churn_risk_flagged().reasons_size() == 2);

  v1::ChurnRisk contacted = RiskContacted(more.risk);
  CHECK(contacted.state() == v1::CHURN_RISK_STATE_CONTACTED);
  ChurnUpdate again = FlagChurn(contacted, "C1", v1::CHURN_REASON_DETRACTOR, "survey:S9", "S9",
                                "WO9", p, kT0 + absl::Hours(48));
  CHECK(again.changed);
  CHECK(again.risk.state() == v1::CHURN_RISK_STATE_OPEN);
  REQUIRE(again.task.has_value());
  CHECK(again.task->task_id() != first.task->task_id());
  CHECK(rpc::FromProto(again.risk.win_back_due_at()) == kT0 + absl::Hours(72));
}

TEST_CASE("two complaints within 90 days count and older ones drop out") {
  const v1::SatisfactionPolicy& p = Shipped();
  ComplaintTally one = AddComplaint(std::nullopt, "C1", "K1", kT0, p, kT0);
  CHECK(one.added);
  CHECK(one.in_window == 1);
  ComplaintTally dup = AddComplaint(one.history, "C1", "K1", kT0, p, kT0);
  CHECK_FALSE(dup.added);
  CHECK(dup.in_window == 1);
  ComplaintTally two = AddComplaint(one.history, "C1", "K2", kT0 + absl::Hours(24 * 89), p,
                                    kT0 + absl::Hours(24 * 89));
  CHECK(two.added);
  CHECK(two.in_window == 2);
  // 91 days after the first, it no longer counts.
  ComplaintTally later = AddComplaint(one.history, "C1", "K3", kT0 + absl::Hours(24 * 91), p,
                                      kT0 + absl::Hours(24 * 91));
  CHECK(later.added);
  CHECK(later.in_window == 1);
}

TEST_CASE("follow-up tasks: deep follow-up due in 48 h and completing is idempotent") {
  const v1::Survey s = Scheduled();
  v1::FollowUpTask t = DeepFollowUpTask(s, {v1::SURVEY_DIMENSION_TIMELINESS}, Shipped(), kT0);
  CHECK(t.task_id() == "DF-" + s.survey_id());
  CHECK(t.kind() == v1::FOLLOW_UP_TASK_KIND_DEEP_FOLLOW_UP);
  CHECK(rpc::FromProto(t.due_at()) == kT0 + absl::Hours(48));
  CHECK(t.low_dimensions_size() == 1);
  v1::Event opened = TaskOpenedEvent(t, kT0);
  CHECK(opened.follow_up_task_opened().low_dimensions(0) == v1::SURVEY_DIMENSION_TIMELINESS);
  auto done = CompleteTask(t, "agent", "called the customer", kT0 + absl::Hours(1));
  REQUIRE(done.ok());
  CHECK(done->changed);
  CHECK(done->task.state() == v1::FOLLOW_UP_TASK_STATE_DONE);
  CHECK(done->task.assignee_id() == "agent");
  auto again = CompleteTask(done->task, "other", "x", kT0 + absl::Hours(2));
  REQUIRE(again.ok());
  CHECK_FALSE(again->changed);
  CHECK(again->task.assignee_id() == "agent");
  v1::FollowUpTask cancelled = t;
  cancelled.set_state(v1::FOLLOW_UP_TASK_STATE_CANCELLED);
  CHECK(CompleteTask(cancelled, "agent", "", kT0).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace aftersales::satisfaction::domain
