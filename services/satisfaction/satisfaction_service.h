#ifndef AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_SERVICE_H_
#define AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_SERVICE_H_

#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "auth/auth.h"
#include "satisfaction/satisfaction_core.h"

namespace aftersales::satisfaction {

// Who may see a survey: partners their engineers' surveys, engineers their
// own, internal roles all. Partners and engineers never see the comment
// (customer PII, SPEC §8).
bool MaySee(const auth::Principal& principal, const v1::Survey& survey);
v1::Survey ViewFor(const auth::Principal& principal, v1::Survey survey);

// The SatisfactionService RPCs: authorize, validate (INVALID_ARGUMENT naming
// the field), then one SatisfactionCore call.
class SatisfactionServiceImpl final : public v1::SatisfactionService::Service {
 public:
  explicit SatisfactionServiceImpl(SatisfactionCore* core) : core_(core) {}

  grpc::Status GetSurvey(grpc::ServerContext* context, const v1::GetSurveyRequest* request,
                         v1::Survey* response) override;
  grpc::Status ListSurveys(grpc::ServerContext* context, const v1::ListSurveysRequest* request,
                           v1::ListSurveysResponse* response) override;
  grpc::Status SubmitSurvey(grpc::ServerContext* context, const v1::SubmitSurveyRequest* request,
                            v1::SubmitSurveyResponse* response) override;
  grpc::Status GetScorecard(grpc::ServerContext* context, const v1::GetScorecardRequest* request,
                            v1::Scorecard* response) override;
  grpc::Status ListScorecards(grpc::ServerContext* context,
                              const v1::ListScorecardsRequest* request,
                              v1::ListScorecardsResponse* response) override;
  grpc::Status GetEngineerRating(grpc::ServerContext* context,
                                 const v1::GetEngineerRatingRequest* request,
                                 v1::EngineerRating* response) override;
  grpc::Status GetSqiRanking(grpc::ServerContext* context,
                             const v1::GetSqiRankingRequest* request,
                             v1::GetSqiRankingResponse* response) override;
  grpc::Status ListFollowUpTasks(grpc::ServerContext* context,
                                 const v1::ListFollowUpTasksRequest* request,
                                 v1::ListFollowUpTasksResponse* response) override;
  grpc::Status CompleteFollowUpTask(grpc::ServerContext* context,
                                    const v1::CompleteFollowUpTaskRequest* request,
                                    v1::FollowUpTask* response) override;
  grpc::Status ListChurnRisks(grpc::ServerContext* context,
                              const v1::ListChurnRisksRequest* request,
                              v1::ListChurnRisksResponse* response) override;
  grpc::Status GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                         v1::SatisfactionPolicySnapshot* response) override;
  grpc::Status ReloadPolicy(grpc::ServerContext* context, const v1::ReloadPolicyRequest* request,
                            v1::ReloadPolicyResponse* response) override;

 private:
  absl::StatusOr<auth::Principal> Authorize(const grpc::ServerContext& context,
                                            std::initializer_list<auth::Role> roles) const;
  SatisfactionCore* core_;
};

}  // namespace aftersales::satisfaction

#endif  // AFTERSALES_SERVICES_SATISFACTION_SATISFACTION_SERVICE_H_
