#ifndef AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_CORE_H_
#define AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_CORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aftersales/v1/complaint.pb.h"
#include "complaint/complaint_metrics.h"
#include "complaint/complaint_repository.h"
#include "complaint/domain/lifecycle.h"
#include "server/host.h"
#include "server/policy_holder.h"

namespace aftersales::complaint {

using ComplaintPolicyHolder = server::PolicyHolder<v1::ComplaintPolicy>;

// What the complaint handlers, event consumers and the deadline sweeper
// share: the repository, the active policy, metrics, the one way a complaint
// is filed (idempotent, graded from stored facts, one batch with its events)
// and the one way an existing complaint changes (under its lock, one batch).
class ComplaintCore {
 public:
  // `keys`: the customer data keys PII is sealed with (privacy::OpenServiceKeys).
  ComplaintCore(server::ServiceHost& host, std::unique_ptr<ComplaintPolicyHolder> policy,
                privacy::CustomerKeys* keys);

  server::ServiceHost& host() { return host_; }
  ComplaintRepository& repo() { return repo_; }
  ComplaintPolicyHolder& policy() { return *policy_; }
  ComplaintMetrics& metrics() { return metrics_; }

  // The facts grading reads, gathered from complaint's own store: the linked
  // order's context (a stub with known = false when complaint has not seen
  // the order), the customer's and the model's recent complaints.
  struct Facts {
    std::optional<v1::LinkedOrderContext> order;
    std::string appliance_model;
    std::vector<domain::EarlierComplaint> customer_history;
    std::vector<domain::EarlierComplaint> same_model_history;
  };
  absl::StatusOr<Facts> GatherFacts(const std::string& customer_id, const std::string& order_id,
                                    const std::string& appliance_model,
                                    const v1::ComplaintPolicy& policy, absl::Time now) const;

  // Grades without filing (GradeText, ExplainGrade of a what-if).
  absl::StatusOr<v1::GradingResult> GradePreview(const v1::GradeTextRequest& request);

  struct Filed {
    v1::Complaint complaint;
    bool created = false;
  };
  // Files a complaint, idempotent per (principal_id, request_id): the same
  // body again returns the original (created = false), another body is
  // ALREADY_EXISTS. Commits one batch: the complaint, its index and deadline
  // rows, its events, the idempotency record and any mass-impact regrades of
  // earlier complaints on the model (applied by RunBackground).
  absl::StatusOr<Filed> File(const v1::FileComplaintRequest& request,
                             const std::string& principal_id, const v1::Actor& actor);
  // The same, staged into an event consumer's batch (committed with its
  // cursor); the keys stay locked until the batch is gone.
  absl::StatusOr<Filed> StageFile(store::Batch& batch, const v1::FileComplaintRequest& request,
                                  const std::string& principal_id, const v1::Actor& actor);

  using ChangeFn = std::function<absl::StatusOr<domain::Change>(
      const v1::Complaint& complaint, const v1::ComplaintPolicy& policy)>;
  // Locks, loads (NOT_FOUND "complaint_id: no such complaint"), applies `fn`
  // and commits the result with its events; `extra` may add rows to the same
  // batch. A change with changed = false writes nothing but `extra`.
  absl::StatusOr<v1::Complaint> Update(
      const std::string& complaint_id, const ChangeFn& fn,
      const std::function<void(store::Batch&, const domain::Change&)>& extra = nullptr);

  // One deadline row of the sweeper: evaluates the complaint's clocks at now
  // and rewrites its deadline row; a stale row is removed.
  absl::Status SweepOne(const ComplaintRepository::DueRow& due);

  // The SYSTEM actor for timers and consumed events.
  v1::Actor SystemActor(const std::string& cause_ref) const;

  // Reads a detractor survey's comment (SatisfactionService.GetSurvey);
  // unset = no satisfaction peer to ask.
  using SurveyCommentFn = std::function<absl::StatusOr<std::string>(const std::string& survey_id)>;
  void set_survey_comment(SurveyCommentFn fn) { survey_comment_ = std::move(fn); }
  const SurveyCommentFn& survey_comment() const { return survey_comment_; }

  // The complaints-by-state gauge from the stored complaints (start-up).
  absl::Status InitMetrics();

 private:
  absl::StatusOr<Filed> FileInto(store::Batch& batch, const v1::FileComplaintRequest& request,
                                 const std::string& principal_id, const v1::Actor& actor,
                                 domain::Change* change_out);

  server::ServiceHost& host_;
  ComplaintRepository repo_;
  std::unique_ptr<ComplaintPolicyHolder> policy_;
  ComplaintMetrics metrics_;
  SurveyCommentFn survey_comment_;
};

}  // namespace aftersales::complaint

#endif  // AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_CORE_H_
