#include "satisfaction/domain/survey.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth/auth.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::satisfaction::domain {
namespace {

constexpr v1::SurveyDimension kDimensionOrder[kDimensions] = {
    v1::SURVEY_DIMENSION_BOOKING_CONVENIENCE, v1::SURVEY_DIMENSION_TIMELINESS,
    v1::SURVEY_DIMENSION_ENGINEER_ATTITUDE,   v1::SURVEY_DIMENSION_PROFESSIONALISM,
    v1::SURVEY_DIMENSION_FEE_TRANSPARENCY,    v1::SURVEY_DIMENSION_SITE_ETIQUETTE};

constexpr const char* kDimensionFields[kDimensions] = {
    "booking_convenience", "timeliness",       "engineer_attitude",
    "professionalism",     "fee_transparency", "site_etiquette"};

}  // namespace

std::string SurveyIdFor(const std::string& order_id, absl::Time confirmed_at) {
  const std::string hash =
      auth::Sha256Hex(absl::StrCat(order_id, "/", absl::ToUnixMicros(confirmed_at)));
  return absl::StrCat("SV", hash.substr(0, 16));
}

absl::StatusOr<v1::Survey> ScheduleSurvey(const v1::OrderConfirmedRepaired& r,
                                          absl::Time event_time,
                                          const v1::SatisfactionPolicy& policy) {
  absl::Status s = rpc::Validator()
                       .Id("order_confirmed_repaired.order_id", r.order_id(), 64)
                       .Id("order_confirmed_repaired.customer_id", r.customer_id(), 64)
                       .status();
  if (!s.ok()) return s;
  const absl::Time scheduled = r.has_confirmed_at() ? rpc::FromProto(r.confirmed_at()) : event_time;
  absl::Time due;
  if (r.has_follow_up_deadline()) {
    due = rpc::FromProto(r.follow_up_deadline());
  } else {
    const absl::Time repaired = r.has_repaired_at() ? rpc::FromProto(r.repaired_at()) : scheduled;
    const google::protobuf::Duration& budget =
        (r.parts_replaced() || r.warranty()) ? policy.follow_up_budget_parts_or_warranty()
        : r.complaint_linked()               ? policy.follow_up_budget_complaint()
                                             : policy.follow_up_budget();
    due = repaired + rpc::FromProto(budget);
  }
  v1::Survey survey;
  survey.set_survey_id(SurveyIdFor(r.order_id(), scheduled));
  survey.set_order_id(r.order_id());
  survey.set_customer_id(r.customer_id());
  survey.set_engineer_id(r.engineer_id());
  survey.set_partner_id(r.partner_id());
  survey.set_region_code(r.region_code());
  survey.set_appliance_category(r.appliance_category());
  *survey.mutable_scheduled_at() = rpc::ToProto(scheduled);
  *survey.mutable_due_at() = rpc::ToProto(due);
  *survey.mutable_expires_at() = rpc::ToProto(scheduled + rpc::FromProto(policy.survey_expiry()));
  survey.set_state(v1::SURVEY_STATE_SCHEDULED);
  *survey.mutable_policy() = policy.ref();
  survey.set_parts_replaced(r.parts_replaced());
  survey.set_warranty(r.warranty());
  survey.set_complaint_linked(r.complaint_linked());
  survey.set_is_rework(r.is_rework());
  return survey;
}

std::vector<v1::SurveyState> AdvanceSurvey(v1::Survey& survey, absl::Time now) {
  std::vector<v1::SurveyState> entered;
  const absl::Time due = rpc::FromProto(survey.due_at());
  const absl::Time expires = rpc::FromProto(survey.expires_at());
  if (survey.state() == v1::SURVEY_STATE_SCHEDULED && now >= due && due < expires) {
    survey.set_state(v1::SURVEY_STATE_DUE);
    entered.push_back(v1::SURVEY_STATE_DUE);
  }
  if ((survey.state() == v1::SURVEY_STATE_SCHEDULED || survey.state() == v1::SURVEY_STATE_DUE) &&
      now >= expires) {
    survey.set_state(v1::SURVEY_STATE_EXPIRED);
    entered.push_back(v1::SURVEY_STATE_EXPIRED);
  }
  return entered;
}

absl::Time NextTimer(const v1::Survey& survey) {
  const absl::Time due = rpc::FromProto(survey.due_at());
  const absl::Time expires = rpc::FromProto(survey.expires_at());
  switch (survey.state()) {
    case v1::SURVEY_STATE_SCHEDULED:
      return std::min(due, expires);
    case v1::SURVEY_STATE_DUE:
      return expires;
    default:
      return absl::InfiniteFuture();
  }
}

std::vector<int> DimensionValues(const v1::DimensionScores& d) {
  return {d.booking_convenience(), d.timeliness(),       d.engineer_attitude(),
          d.professionalism(),     d.fee_transparency(), d.site_etiquette()};
}

absl::Status ValidateResponse(const v1::SurveyResponse& r, absl::string_view field) {
  auto f = [&](absl::string_view name) { return absl::StrCat(field, ".", name); };
  rpc::Validator v;
  v.Range(f("csat"), r.csat(), 1, 5).Range(f("nps"), r.nps(), 0, 10);
  v.Check(f("dimensions"), r.has_dimensions(), "required: all six scores");
  if (!v.status().ok()) return v.status();
  const std::vector<int> values = DimensionValues(r.dimensions());
  for (int i = 0; i < kDimensions; ++i) {
    v.Range(f(absl::StrCat("dimensions.", kDimensionFields[i])), values[i], 1, 5);
  }
  v.Check(f("problem_solved"), r.has_problem_solved(), "required")
      .Text(f("comment"), r.comment(), 4000, false);
  return v.status();
}

bool NegativeComment(absl::string_view comment, const v1::SatisfactionPolicy& policy) {
  if (comment.empty()) return false;
  const std::string lower = absl::AsciiStrToLower(comment);
  for (const std::string& k : policy.negative_comment_keywords()) {
    if (absl::StrContains(lower, absl::AsciiStrToLower(k))) return true;
  }
  return false;
}

absl::StatusOr<Answer> AnswerSurvey(const v1::Survey& survey, const v1::SurveyResponse& response,
                                    const std::string& request_id,
                                    const v1::SatisfactionPolicy& policy, absl::Time now) {
  const auto state_name = [&] { return v1::SurveyState_Name(survey.state()); };
  if (survey.state() == v1::SURVEY_STATE_ANSWERED) {
    return absl::FailedPreconditionError(
        absl::StrCat("survey_id: survey is ", state_name(), " (answered once, by request ",
                     survey.submit_request_id(), ")"));
  }
  if (survey.state() == v1::SURVEY_STATE_EXPIRED || now >= rpc::FromProto(survey.expires_at())) {
    return absl::FailedPreconditionError("survey_id: survey is SURVEY_STATE_EXPIRED");
  }
  if (survey.state() != v1::SURVEY_STATE_SCHEDULED && survey.state() != v1::SURVEY_STATE_DUE) {
    return absl::FailedPreconditionError(absl::StrCat("survey_id: survey is ", state_name()));
  }
  Answer a;
  a.sent_before = survey.state() == v1::SURVEY_STATE_DUE;
  a.survey = survey;
  v1::SurveyResponse* r = a.survey.mutable_response();
  *r = response;
  *r->mutable_answered_at() = rpc::ToProto(now);
  r->set_negative_comment(NegativeComment(response.comment(), policy));
  a.survey.set_state(v1::SURVEY_STATE_ANSWERED);
  a.survey.set_submit_request_id(request_id);
  *a.survey.mutable_policy() = policy.ref();

  const std::vector<int> dims = DimensionValues(response.dimensions());
  bool all_five = response.csat() == 5;
  for (int i = 0; i < kDimensions; ++i) {
    if (dims[i] < policy.deep_follow_up_below()) a.low_dimensions.push_back(kDimensionOrder[i]);
    all_five = all_five && dims[i] == 5;
  }
  a.not_solved = !response.problem_solved();
  a.detractor = response.csat() <= policy.detractor_csat_max() ||
                (response.nps() <= policy.detractor_nps_max() && r->negative_comment());
  a.five_star = all_five && (response.problem_solved() || !policy.five_star_requires_solved());
  if (a.detractor) {
    a.survey.set_auto_complaint_request_id(absl::StrCat("survey:", survey.survey_id()));
  }
  return a;
}

v1::Event NewEvent(const std::string& subject_id, absl::Time now) {
  v1::Event e;
  e.set_producer("satisfaction");
  *e.mutable_occurred_at() = rpc::ToProto(now);
  e.set_subject_id(subject_id);
  return e;
}

v1::Event ScheduledEvent(const v1::Survey& s, absl::Time now) {
  v1::Event e = NewEvent(s.survey_id(), now);
  auto* b = e.mutable_survey_scheduled();
  b->set_survey_id(s.survey_id());
  b->set_order_id(s.order_id());
  *b->mutable_due_at() = s.due_at();
  *b->mutable_expires_at() = s.expires_at();
  return e;
}

std::vector<v1::Event> AnswerEvents(const Answer& a, absl::Time now) {
  const v1::Survey& s = a.survey;
  const v1::SurveyResponse& r = s.response();
  std::vector<v1::Event> events;
  {
    v1::Event e = NewEvent(s.survey_id(), now);
    auto* b = e.mutable_survey_answered();
    b->set_survey_id(s.survey_id());
    b->set_order_id(s.order_id());
    b->set_customer_id(s.customer_id());
    b->set_engineer_id(s.engineer_id());
    b->set_partner_id(s.partner_id());
    b->set_region_code(s.region_code());
    b->set_appliance_category(s.appliance_category());
    b->set_csat(r.csat());
    b->set_nps(r.nps());
    b->set_problem_solved(r.problem_solved());
    const std::vector<int> dims = DimensionValues(r.dimensions());
    b->set_min_dimension(*std::min_element(dims.begin(), dims.end()));
    b->set_all_five(r.csat() == 5 && b->min_dimension() == 5);
    events.push_back(std::move(e));
  }
  if (a.not_solved) {
    v1::Event e = NewEvent(s.survey_id(), now);
    auto* b = e.mutable_problem_not_solved();
    b->set_survey_id(s.survey_id());
    b->set_order_id(s.order_id());
    b->set_customer_id(s.customer_id());
    b->set_engineer_id(s.engineer_id());
    events.push_back(std::move(e));
  }
  if (a.detractor) {
    v1::Event e = NewEvent(s.survey_id(), now);
    auto* b = e.mutable_detractor_detected();
    b->set_survey_id(s.survey_id());
    b->set_order_id(s.order_id());
    b->set_customer_id(s.customer_id());
    b->set_csat(r.csat());
    b->set_nps(r.nps());
    b->set_negative_comment(r.negative_comment());
    b->set_complaint_request_id(s.auto_complaint_request_id());
    events.push_back(std::move(e));
  }
  if (a.five_star) {
    v1::Event e = NewEvent(s.survey_id(), now);
    auto* b = e.mutable_five_star_granted();
    b->set_survey_id(s.survey_id());
    b->set_order_id(s.order_id());
    b->set_customer_id(s.customer_id());
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace aftersales::satisfaction::domain
