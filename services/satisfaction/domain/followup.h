#ifndef AFTERSALES_SERVICES_SATISFACTION_DOMAIN_FOLLOWUP_H_
#define AFTERSALES_SERVICES_SATISFACTION_DOMAIN_FOLLOWUP_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/satisfaction.pb.h"

// Follow-up tasks and churn risk (SPEC §6): a deep follow-up when a
// dimension scores below the threshold; a churn risk with a win-back task
// due in 24 h after a detractor answer, a rework, or repeated complaints.
// Pure functions.
namespace aftersales::satisfaction::domain {

// The DEEP_FOLLOW_UP task of an answered survey: id "DF-<survey id>", due
// deep_follow_up_within after `now`.
v1::FollowUpTask DeepFollowUpTask(const v1::Survey& survey,
                                  const std::vector<v1::SurveyDimension>& low_dimensions,
                                  const v1::SatisfactionPolicy& policy, absl::Time now);

// FollowUpTaskOpened for `task`.
v1::Event TaskOpenedEvent(const v1::FollowUpTask& task, absl::Time now);

// Marks an OPEN task DONE (idempotent: a DONE task is returned unchanged;
// `changed` false). CANCELLED is FAILED_PRECONDITION.
struct TaskCompletion {
  v1::FollowUpTask task;
  bool changed = false;
};
absl::StatusOr<TaskCompletion> CompleteTask(const v1::FollowUpTask& task,
                                            const std::string& assignee_id,
                                            const std::string& outcome_note, absl::Time now);

// What a churn trigger did to a customer's risk.
struct ChurnUpdate {
  v1::ChurnRisk risk;
  bool changed = false;                    // a new reason or a (re)opened risk
  std::optional<v1::FollowUpTask> task;    // a new WIN_BACK task
  std::vector<v1::Event> events;           // ChurnRiskFlagged (+ FollowUpTaskOpened)
};

// Flags `reason` on the customer's risk. No risk, or one already CONTACTED /
// CLOSED: a new OPEN risk with a WIN_BACK task due win_back_within after
// `now`. An OPEN risk gains the reason and evidence (<= 20 refs, newest kept);
// the same reason again only adds evidence and emits nothing.
ChurnUpdate FlagChurn(const std::optional<v1::ChurnRisk>& before, const std::string& customer_id,
                      v1::ChurnReason reason, const std::string& evidence_ref,
                      const std::string& survey_id, const std::string& order_id,
                      const v1::SatisfactionPolicy& policy, absl::Time now);

// A WIN_BACK task of a risk was done: the risk becomes CONTACTED.
v1::ChurnRisk RiskContacted(const v1::ChurnRisk& risk);

// Records a complaint in the customer's history (once per complaint id) and
// drops complaints older than churn_complaints_window before `now`. Returns
// how many complaints are in the window after the update, and whether it
// was new.
struct ComplaintTally {
  v1::CustomerHistory history;
  int in_window = 0;
  bool added = false;
};
ComplaintTally AddComplaint(const std::optional<v1::CustomerHistory>& before,
                            const std::string& customer_id, const std::string& complaint_id,
                            absl::Time filed_at, const v1::SatisfactionPolicy& policy,
                            absl::Time now);

}  // namespace aftersales::satisfaction::domain

#endif  // AFTERSALES_SERVICES_SATISFACTION_DOMAIN_FOLLOWUP_H_
