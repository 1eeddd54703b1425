#include "satisfaction/domain/followup.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "auth/auth.h"
#include "rpc/rpc.h"
#include "satisfaction/domain/survey.h"

namespace aftersales::satisfaction::domain {

v1::FollowUpTask DeepFollowUpTask(const v1::Survey& survey,
                                  const std::vector<v1::SurveyDimension>& low,
                                  const v1::SatisfactionPolicy& policy, absl::Time now) {
  v1::FollowUpTask t;
  t.set_task_id(absl::StrCat("DF-", survey.survey_id()));
  t.set_kind(v1::FOLLOW_UP_TASK_KIND_DEEP_FOLLOW_UP);
  t.set_survey_id(survey.survey_id());
  t.set_order_id(survey.order_id());
  t.set_customer_id(survey.customer_id());
  for (auto d : low) t.add_low_dimensions(d);
  t.set_state(v1::FOLLOW_UP_TASK_STATE_OPEN);
  *t.mutable_created_at() = rpc::ToProto(now);
  *t.mutable_due_at() = rpc::ToProto(now + rpc::FromProto(policy.deep_follow_up_within()));
  return t;
}

v1::Event TaskOpenedEvent(const v1::FollowUpTask& t, absl::Time now) {
  v1::Event e = NewEvent(t.task_id(), now);
  auto* b = e.mutable_follow_up_task_opened();
  b->set_task_id(t.task_id());
  b->set_kind(t.kind());
  b->set_survey_id(t.survey_id());
  b->set_order_id(t.order_id());
  b->set_customer_id(t.customer_id());
  *b->mutable_low_dimensions() = t.low_dimensions();
  *b->mutable_due_at() = t.due_at();
  return e;
}

absl::StatusOr<TaskCompletion> CompleteTask(const v1::FollowUpTask& task,
                                            const std::string& assignee_id,
                                            const std::string& outcome_note, absl::Time now) {
  TaskCompletion c;
  c.task = task;
  switch (task.state()) {
    case v1::FOLLOW_UP_TASK_STATE_DONE:
      return c;
    case v1::FOLLOW_UP_TASK_STATE_OPEN:
      break;
    default:
      return absl::FailedPreconditionError(
          absl::StrCat("task_id: task is ", v1::FollowUpTaskState_Name(task.state())));
  }
  c.task.set_state(v1::FOLLOW_UP_TASK_STATE_DONE);
  *c.task.mutable_completed_at() = rpc::ToProto(now);
  c.task.set_assignee_id(assignee_id);
  c.task.set_outcome_note(outcome_note);
  c.changed = true;
  return c;
}

ChurnUpdate FlagChurn(const std::optional<v1::ChurnRisk>& before, const std::string& customer_id,
                      v1::ChurnReason reason, const std::string& evidence_ref,
                      const std::string& survey_id, const std::string& order_id,
                      const v1::SatisfactionPolicy& policy, absl::Time now) {
  ChurnUpdate u;
  const bool open = before && before->state() == v1::CHURN_RISK_STATE_OPEN;
  if (open) {
    u.risk = *before;
    const bool known_reason =
        std::find(u.risk.reasons().begin(), u.risk.reasons().end(), reason) != u.risk.reasons().end();
    const bool known_evidence = std::find(u.risk.evidence_refs().begin(), u.risk.evidence_refs().end(),
                                          evidence_ref) != u.risk.evidence_refs().end();
    if (!known_evidence && !evidence_ref.empty()) {
      u.risk.add_evidence_refs(evidence_ref);
      while (u.risk.evidence_refs_size() > 20) u.risk.mutable_evidence_refs()->DeleteSubrange(0, 1);
    }
    if (known_reason) return u;  // nothing new to tell anyone
    u.risk.add_reasons(reason);
    u.changed = true;
  } else {
    u.changed = true;
    u.risk.set_customer_id(customer_id);
    u.risk.add_reasons(reason);
    *u.risk.mutable_flagged_at() = rpc::ToProto(now);
    *u.risk.mutable_win_back_due_at() =
        rpc::ToProto(now + rpc::FromProto(policy.win_back_within()));
    u.risk.set_state(v1::CHURN_RISK_STATE_OPEN);
    if (!evidence_ref.empty()) u.risk.add_evidence_refs(evidence_ref);
    v1::FollowUpTask t;
    t.set_task_id(absl::StrCat(
        "WB", auth::Sha256Hex(absl::StrCat(customer_id, "/", absl::ToUnixMicros(now), "/",
                                           evidence_ref))
                  .substr(0, 16)));
    t.set_kind(v1::FOLLOW_UP_TASK_KIND_WIN_BACK);
    t.set_survey_id(survey_id);
    t.set_order_id(order_id);
    t.set_customer_id(customer_id);
    t.set_state(v1::FOLLOW_UP_TASK_STATE_OPEN);
    *t.mutable_created_at() = rpc::ToProto(now);
    *t.mutable_due_at() = u.risk.win_back_due_at();
    u.risk.set_win_back_task_id(t.task_id());
    u.events.push_back(TaskOpenedEvent(t, now));
    u.task = std::move(t);
  }
  v1::Event e = NewEvent(customer_id, now);
  auto* b = e.mutable_churn_risk_flagged();
  b->set_customer_id(customer_id);
  *b->mutable_reasons() = u.risk.reasons();
  *b->mutable_win_back_due_at() = u.risk.win_back_due_at();
  u.events.insert(u.events.begin(), std::move(e));
  return u;
}

v1::ChurnRisk RiskContacted(const v1::ChurnRisk& risk) {
  v1::ChurnRisk r = risk;
  if (r.state() == v1::CHURN_RISK_STATE_OPEN) r.set_state(v1::CHURN_RISK_STATE_CONTACTED);
  return r;
}

ComplaintTally AddComplaint(const std::optional<v1::CustomerHistory>& before,
                            const std::string& customer_id, const std::string& complaint_id,
                            absl::Time filed_at, const v1::SatisfactionPolicy& policy,
                            absl::Time now) {
  ComplaintTally t;
  if (before) t.history = *before;
  t.history.set_customer_id(customer_id);
  const absl::Time horizon = now - rpc::FromProto(policy.churn_complaints_window());
  bool known = false;
  v1::CustomerHistory kept;
  kept.set_customer_id(customer_id);
  for (const auto& c : t.history.complaints()) {
    known = known || c.complaint_id() == complaint_id;
    if (rpc::FromProto(c.filed_at()) >= horizon) *kept.add_complaints() = c;
  }
  if (!known && filed_at >= horizon) {
    v1::ComplaintMark* m = kept.add_complaints();
    m->set_complaint_id(complaint_id);
    *m->mutable_filed_at() = rpc::ToProto(filed_at);
    t.added = true;
    std::stable_sort(kept.mutable_complaints()->begin(), kept.mutable_complaints()->end(),
                     [](const v1::ComplaintMark& a, const v1::ComplaintMark& b) {
                       return rpc::FromProto(a.filed_at()) < rpc::FromProto(b.filed_at());
                     });
  }
  while (kept.complaints_size() > 100) kept.mutable_complaints()->DeleteSubrange(0, 1);
  t.history = std::move(kept);
  t.in_window = t.history.complaints_size();
  return t;
}

}  // namespace aftersales::satisfaction::domain
