#ifndef AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_SERVICE_H_
#define AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_SERVICE_H_

#include "aftersales/v1/complaint.grpc.pb.h"
#include "auth/auth.h"
#include "complaint/complaint_core.h"

namespace aftersales::complaint {

// Who may see a complaint (SPEC §8): a partner only those on its orders;
// internal roles all.
bool MaySee(const auth::Principal& principal, const v1::Complaint& complaint);
// The complaint as `principal` may see it: the text (PII) only for agents,
// the app, services and admins.
v1::Complaint ViewFor(const auth::Principal& principal, v1::Complaint complaint);

// The ComplaintService RPCs. Each is thin: authorize, validate, then one
// domain call and one synced batch (state + events) through ComplaintCore.
class ComplaintServiceImpl final : public v1::ComplaintService::Service {
 public:
  explicit ComplaintServiceImpl(ComplaintCore* core);

  grpc::Status FileComplaint(grpc::ServerContext* context,
                             const v1::FileComplaintRequest* request,
                             v1::FileComplaintResponse* response) override;
  grpc::Status GetComplaint(grpc::ServerContext* context, const v1::GetComplaintRequest* request,
                            v1::Complaint* response) override;
  grpc::Status ListComplaints(grpc::ServerContext* context,
                              const v1::ListComplaintsRequest* request,
                              v1::ListComplaintsResponse* response) override;
  grpc::Status Acknowledge(grpc::ServerContext* context,
                           const v1::AcknowledgeComplaintRequest* request,
                           v1::Complaint* response) override;
  grpc::Status StartInvestigation(grpc::ServerContext* context,
                                  const v1::StartInvestigationRequest* request,
                                  v1::Complaint* response) override;
  grpc::Status Resolve(grpc::ServerContext* context, const v1::ResolveComplaintRequest* request,
                       v1::Complaint* response) override;
  grpc::Status Close(grpc::ServerContext* context, const v1::CloseComplaintRequest* request,
                     v1::Complaint* response) override;
  grpc::Status Reopen(grpc::ServerContext* context, const v1::ReopenComplaintRequest* request,
                      v1::Complaint* response) override;
  grpc::Status ExplainGrade(grpc::ServerContext* context, const v1::ExplainGradeRequest* request,
                            v1::GradingResult* response) override;
  grpc::Status GradeText(grpc::ServerContext* context, const v1::GradeTextRequest* request,
                         v1::GradingResult* response) override;
  grpc::Status GetComplaintStats(grpc::ServerContext* context,
                                 const v1::GetComplaintStatsRequest* request,
                                 v1::GetComplaintStatsResponse* response) override;
  grpc::Status GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                         v1::ComplaintPolicySnapshot* response) override;
  grpc::Status ReloadPolicy(grpc::ServerContext* context, const v1::ReloadPolicyRequest* request,
                            v1::ReloadPolicyResponse* response) override;

 private:
  absl::StatusOr<auth::Principal> Authorize(const grpc::ServerContext& context,
                                            std::initializer_list<auth::Role> roles) const;
  // A lifecycle step by `principal` on a complaint it may see.
  grpc::Status Step(const auth::Principal& principal, const std::string& complaint_id,
                    const std::string& reason,
                    const std::function<absl::StatusOr<domain::Change>(
                        const v1::Complaint&, const domain::Context&)>& step,
                    v1::Complaint* response);

  ComplaintCore* core_;
};

}  // namespace aftersales::complaint

#endif  // AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_SERVICE_H_
