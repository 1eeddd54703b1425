#include "satisfaction/satisfaction_service.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"
#include "satisfaction/domain/rating.h"
#include "satisfaction/domain/survey.h"

namespace aftersales::satisfaction {
namespace {

using auth::Role;

constexpr std::initializer_list<Role> kEveryRole = {Role::kPartner, Role::kEngineer, Role::kAgent,
                                                    Role::kApp,     Role::kService,  Role::kAdmin,
                                                    Role::kAuditor};
constexpr std::initializer_list<Role> kInternalRoles = {Role::kAgent, Role::kService, Role::kAdmin,
                                                        Role::kAuditor};

// An optional id filter: empty, or 1..max printable ASCII.
rpc::Validator& OptionalId(rpc::Validator& v, absl::string_view field, const std::string& value,
                           size_t max) {
  return value.empty() ? v : v.Id(field, value, max);
}

absl::Status ValidateTimeRange(absl::string_view field, const v1::TimeRange& r) {
  if (r.has_start() && r.has_end() && rpc::FromProto(r.end()) <= rpc::FromProto(r.start())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": end must be after start"));
  }
  return absl::OkStatus();
}

absl::Status ValidateWindow(v1::ScorecardDimension dimension, v1::AggregationWindow window,
                            bool has_week_start) {
  rpc::Validator v;
  v.Enum("dimension", dimension, v1::ScorecardDimension_IsValid(dimension))
      .Enum("window", window, v1::AggregationWindow_IsValid(window))
      .Check("week_start", !has_week_start || window == v1::AGGREGATION_WINDOW_CALENDAR_WEEK,
             "only for window CALENDAR_WEEK");
  return v.status();
}

}  // namespace

bool MaySee(const auth::Principal& p, const v1::Survey& s) {
  switch (p.role) {
    case Role::kPartner:
      return !p.partner_id.empty() && s.partner_id() == p.partner_id;
    case Role::kEngineer:
      return !p.engineer_id.empty() && s.engineer_id() == p.engineer_id;
    default:
      return true;
  }
}

v1::Survey ViewFor(const auth::Principal& p, v1::Survey s) {
  if (p.role == Role::kPartner || p.role == Role::kEngineer) {
    s.mutable_response()->clear_comment();
    if (s.response().ByteSizeLong() == 0) s.clear_response();
  }
  return s;
}

absl::StatusOr<auth::Principal> SatisfactionServiceImpl::Authorize(
    const grpc::ServerContext& context, std::initializer_list<Role> roles) const {
  return rpc::AuthorizeCall(context, core_->host().tokens(), roles);
}

grpc::Status SatisfactionServiceImpl::GetSurvey(grpc::ServerContext* context,
                                                const v1::GetSurveyRequest* request,
                                                v1::Survey* response) {
  auto principal = Authorize(*context, kEveryRole);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("survey_id", request->survey_id(), 64).status());
  auto survey = core_->repo().GetSurvey(request->survey_id());
  RPC_RETURN_IF_ERROR(survey.status());
  // Someone else's survey answers like a missing one: no existence oracle.
  if (!survey->has_value() || !MaySee(*principal, **survey)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "survey_id: no such survey");
  }
  *response = ViewFor(*principal, **survey);
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::ListSurveys(grpc::ServerContext* context,
                                                  const v1::ListSurveysRequest* request,
                                                  v1::ListSurveysResponse* response) {
  auto principal = Authorize(*context, kEveryRole);
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  OptionalId(v, "order_id", request->order_id(), 64);
  OptionalId(v, "engineer_id", request->engineer_id(), 64);
  OptionalId(v, "customer_id", request->customer_id(), 64);
  OptionalId(v, "region_code", request->region_code(), 32);
  v.Check("state", v1::SurveyState_IsValid(request->state()), "unknown value");
  RPC_RETURN_IF_ERROR(v.status());
  RPC_RETURN_IF_ERROR(ValidateTimeRange("scheduled", request->scheduled()));
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  v1::ListSurveysRequest filter = *request;
  std::string partner;
  if (principal->role == Role::kPartner) {
    partner = principal->partner_id.empty() ? "-" : principal->partner_id;
  } else if (principal->role == Role::kEngineer) {
    if (!filter.engineer_id().empty() && filter.engineer_id() != principal->engineer_id) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "engineer_id: another engineer's surveys");
    }
    filter.set_engineer_id(principal->engineer_id.empty() ? "-" : principal->engineer_id);
  }
  auto result = core_->repo().ListSurveys(filter, partner, page->after_key, page->size);
  RPC_RETURN_IF_ERROR(result.status());
  for (auto& s : result->surveys) {
    if (MaySee(*principal, s)) *response->add_surveys() = ViewFor(*principal, std::move(s));
  }
  response->set_next_page_token(rpc::NextPageToken(result->last_key));
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::SubmitSurvey(grpc::ServerContext* context,
                                                   const v1::SubmitSurveyRequest* request,
                                                   v1::SubmitSurveyResponse* response) {
  auto principal =
      Authorize(*context, {Role::kApp, Role::kAgent, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("survey_id", request->survey_id(), 64)
                          .Id("request_id", request->request_id(), 128)
                          .Check("response", request->has_response(), "required")
                          .status());
  RPC_RETURN_IF_ERROR(domain::ValidateResponse(request->response()));
  auto result = core_->Submit(*request);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::GetScorecard(grpc::ServerContext* context,
                                                   const v1::GetScorecardRequest* request,
                                                   v1::Scorecard* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kService, Role::kAdmin,
                                        Role::kAuditor, Role::kPartner, Role::kEngineer});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      ValidateWindow(request->dimension(), request->window(), request->has_week_start()));
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("key", request->key(), 64).status());
  // Partners see their own partner scorecard; engineers their own.
  if (principal->role == Role::kPartner &&
      (request->dimension() != v1::SCORECARD_DIMENSION_PARTNER ||
       request->key() != principal->partner_id)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "key: partners may read only their own PARTNER scorecard");
  }
  if (principal->role == Role::kEngineer &&
      (request->dimension() != v1::SCORECARD_DIMENSION_ENGINEER ||
       request->key() != principal->engineer_id)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "key: engineers may read only their own ENGINEER scorecard");
  }
  auto card = core_->Scorecard(request->dimension(), request->key(), request->window(),
                               request->has_week_start() ? &request->week_start() : nullptr);
  RPC_RETURN_IF_ERROR(card.status());
  *response = *std::move(card);
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::ListScorecards(grpc::ServerContext* context,
                                                     const v1::ListScorecardsRequest* request,
                                                     v1::ListScorecardsResponse* response) {
  auto principal = Authorize(*context, kInternalRoles);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      ValidateWindow(request->dimension(), request->window(), request->has_week_start()));
  RPC_RETURN_IF_ERROR(
      rpc::Validator().Check("min_responses", request->min_responses() >= 0, "must be >= 0").status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  // The ranking is computed per call, so the token is an offset into it.
  uint64_t offset = 0;
  if (!page->after_key.empty() &&
      (!absl::StartsWith(page->after_key, "offset:") ||
       !absl::SimpleAtoi(absl::string_view(page->after_key).substr(7), &offset))) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "page.page_token: not a token from a previous page");
  }
  auto cards = core_->Scorecards(request->dimension(), request->window(),
                                 request->has_week_start() ? &request->week_start() : nullptr,
                                 request->min_responses());
  RPC_RETURN_IF_ERROR(cards.status());
  const size_t end = std::min(cards->size(), static_cast<size_t>(offset) + page->size);
  for (size_t i = offset; i < end; ++i) *response->add_scorecards() = (*cards)[i];
  if (end < cards->size()) {
    response->set_next_page_token(rpc::NextPageToken(absl::StrCat("offset:", end)));
  }
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::GetEngineerRating(
    grpc::ServerContext* context, const v1::GetEngineerRatingRequest* request,
    v1::EngineerRating* response) {
  auto principal = Authorize(*context, kEveryRole);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("engineer_id", request->engineer_id(), 64).status());
  auto rating = core_->repo().GetRating(request->engineer_id());
  RPC_RETURN_IF_ERROR(rating.status());
  // An engineer without answers is rated at the prior mean.
  *response = rating->has_value()
                  ? **rating
                  : domain::EmptyRating(request->engineer_id(), *core_->policy().Current());
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::GetSqiRanking(grpc::ServerContext* context,
                                                    const v1::GetSqiRankingRequest* request,
                                                    v1::GetSqiRankingResponse* response) {
  auto principal = Authorize(*context, kInternalRoles);
  RPC_RETURN_IF_ERROR(principal.status());
  absl::CivilMonth month;
  if (request->has_month()) {
    RPC_RETURN_IF_ERROR(
        rpc::Validator()
            .Check("month.year", request->month().year() >= 1900 && request->month().year() <= 9999,
                   "must be in [1900, 9999]")
            .Check("month.month", request->month().month() >= 1 && request->month().month() <= 12,
                   "must be in [1, 12]")
            .status());
    month = absl::CivilMonth(request->month().year(), request->month().month());
  } else {
    month = core_->PreviousMonth();
  }
  auto scores = core_->SqiRanking(month);
  RPC_RETURN_IF_ERROR(scores.status());
  for (auto& s : *scores) *response->add_scores() = std::move(s);
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::ListFollowUpTasks(
    grpc::ServerContext* context, const v1::ListFollowUpTasksRequest* request,
    v1::ListFollowUpTasksResponse* response) {
  auto principal = Authorize(*context, kInternalRoles);
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  v.Check("state", v1::FollowUpTaskState_IsValid(request->state()), "unknown value")
      .Check("kind", v1::FollowUpTaskKind_IsValid(request->kind()), "unknown value");
  OptionalId(v, "order_id", request->order_id(), 64);
  OptionalId(v, "customer_id", request->customer_id(), 64);
  RPC_RETURN_IF_ERROR(v.status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  auto tasks = core_->repo().ListTasks(*request, page->after_key, page->size);
  RPC_RETURN_IF_ERROR(tasks.status());
  for (auto& t : tasks->tasks) *response->add_tasks() = std::move(t);
  response->set_next_page_token(rpc::NextPageToken(tasks->last_key));
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::CompleteFollowUpTask(
    grpc::ServerContext* context, const v1::CompleteFollowUpTaskRequest* request,
    v1::FollowUpTask* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("task_id", request->task_id(), 64)
                          .Text("outcome_note", request->outcome_note(), 2000, false)
                          .status());
  auto task = core_->CompleteTask(request->task_id(), principal->id, request->outcome_note());
  RPC_RETURN_IF_ERROR(task.status());
  *response = *std::move(task);
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::ListChurnRisks(grpc::ServerContext* context,
                                                     const v1::ListChurnRisksRequest* request,
                                                     v1::ListChurnRisksResponse* response) {
  auto principal = Authorize(*context, kInternalRoles);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Check("state", v1::ChurnRiskState_IsValid(request->state()),
                                 "unknown value")
                          .status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  auto risks = core_->repo().ListRisks(request->state(), page->after_key, page->size);
  RPC_RETURN_IF_ERROR(risks.status());
  for (auto& r : risks->risks) *response->add_risks() = std::move(r);
  response->set_next_page_token(rpc::NextPageToken(risks->last_key));
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::GetPolicy(grpc::ServerContext* context,
                                                const v1::GetPolicyRequest* request,
                                                v1::SatisfactionPolicySnapshot* response) {
  auto principal = Authorize(*context, {Role::kAdmin, Role::kAuditor, Role::kService});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerGetPolicy(core_->policy(), *request, response));
  return grpc::Status::OK;
}

grpc::Status SatisfactionServiceImpl::ReloadPolicy(grpc::ServerContext* context,
                                                   const v1::ReloadPolicyRequest* request,
                                                   v1::ReloadPolicyResponse* response) {
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerReloadPolicy(core_->policy(), *request,
                                                 core_->host().clock().Now(), response));
  return grpc::Status::OK;
}

}  // namespace aftersales::satisfaction
