#ifndef AFTERSALES_SERVICES_COMPLAINT_DOMAIN_LIFECYCLE_H_
#define AFTERSALES_SERVICES_COMPLAINT_DOMAIN_LIFECYCLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/complaint.pb.h"
#include "aftersales/v1/events.pb.h"

// The complaint lifecycle (SPEC §5): FILED -> ACKNOWLEDGED -> INVESTIGATING ->
// RESOLVED -> CLOSED, or REOPENED on appeal (-> INVESTIGATING again); the
// acknowledge and resolve clocks per grade (24x7 wall time), and escalation of
// the owner one level on a missed deadline. Pure functions of records, the
// policy and `now`; each returns the new record and the events to commit with
// it. Illegal transitions are FAILED_PRECONDITION naming the current state.
namespace aftersales::complaint::domain {

// Who acts, when, under which policy.
struct Context {
  absl::Time now;
  v1::Actor actor;  // principal, role, reason; server_time is set from `now`
  const v1::ComplaintPolicy* policy = nullptr;
};

struct Change {
  v1::Complaint complaint;
  std::vector<v1::Event> events;
  bool changed = false;                            // false: leave the record as it is
  std::vector<v1::SlaClockKind> became_at_risk;    // clocks that crossed the at-risk fraction
  std::vector<v1::SlaClockKind> became_breached;   // clocks that missed their deadline
};

// INVALID_ARGUMENT naming the field: request_id 1..128 printable ASCII,
// customer_id 1..64, order_id 0..64, channel set and known, text 1..8000
// characters (not blank), category/customer_tier known (UNSPECIFIED allowed),
// appliance_model 0..64 characters, region_code 0..32, source_survey_id 0..64.
absl::Status ValidateFileRequest(const v1::FileComplaintRequest& request);

// INVALID_ARGUMENT naming the field: complaint_id; investigation.root_cause
// 1..4000 characters, responsible_party and impact_scope set, responsible_id
// 0..64, impact_note 0..2000; resolution.type set, description 1..4000,
// compensation (when set) within CompensationValue's limits (points
// 1..1000000, money CNY-style code and 1..10^10 minor units, warranty days
// 1..3650, priority levels 1..2).
absl::Status ValidateResolveRequest(const v1::ResolveComplaintRequest& request);

// A new complaint (FILED, version 1) as graded: owner = the grade's owner,
// acknowledge and resolve clocks started now with the grade's budgets,
// `order` (when complaint knows the order) copied as order_context and the
// source of region/partner/model/tier where the request left them empty.
// Events: ComplaintFiled, ComplaintGraded (from UNSPECIFIED) and, when the
// strong-emotion rule raised the owner, ComplaintEscalated (STRONG_EMOTION,
// SPEC §7.2 "immediate escalation").
Change FileNew(const v1::FileComplaintRequest& request, const std::string& complaint_id,
               const v1::GradingResult& grading, const v1::LinkedOrderContext* order,
               const Context& ctx);

// FILED -> ACKNOWLEDGED: stops the acknowledge clock (MET, or BREACHED if late).
absl::StatusOr<Change> Acknowledge(const v1::Complaint& c, const std::string& owner_id,
                                   const std::string& note, const Context& ctx);
// ACKNOWLEDGED / REOPENED -> INVESTIGATING.
absl::StatusOr<Change> StartInvestigation(const v1::Complaint& c, const std::string& note,
                                          const Context& ctx);
// INVESTIGATING -> RESOLVED with the findings and the resolution: stops the
// resolve clock. Event ComplaintResolved (with any compensation, which
// intake books in its ledger under "complaint/<id>").
absl::StatusOr<Change> Resolve(const v1::Complaint& c,
                               const v1::ComplaintInvestigation& findings,
                               const v1::ComplaintResolution& resolution, const Context& ctx);
// RESOLVED -> CLOSED on the customer's confirmation.
absl::StatusOr<Change> Close(const v1::Complaint& c, const std::string& note,
                             const Context& ctx);
// RESOLVED / CLOSED -> REOPENED (appeal): a new resolve clock starts now with
// the grade's budget; reopen_count + 1.
absl::StatusOr<Change> Reopen(const v1::Complaint& c, const std::string& reason,
                              const Context& ctx);

// The deadline sweep at ctx.now: every running clock is evaluated; a clock
// past its deadline is BREACHED once and escalates the owner one level on the
// policy's ladder (ACK_/RESOLVE_DEADLINE_MISSED, ComplaintEscalated event; at
// the top of the ladder the level stays and the miss is still recorded).
Change Sweep(const v1::Complaint& c, const Context& ctx);

// Mass impact found after filing (a later complaint on the same model reached
// the threshold): raises the grade to the rule's floor and records the rule.
// The owner rises to the new grade's owner if higher (escalation REGRADED);
// running clocks take the new grade's budgets only where that makes them
// earlier (a raised grade never gives more time). No change on a CLOSED
// complaint, or when the grade is already at or above the floor.
Change ApplyFloorRule(const v1::Complaint& c, const v1::FiredRule& rule, const Context& ctx);
// Whether ApplyFloorRule with a rule of floor `floor` would change `c`.
bool FloorRaises(const v1::Complaint& c, v1::ComplaintGrade floor);

// When the sweeper must next look at `c` (InfiniteFuture: never).
absl::Time NextSweep(const v1::Complaint& c, const v1::ComplaintPolicy& policy);

// The latest clock of `kind`, or null.
const v1::SlaClock* LatestClock(const v1::Complaint& c, v1::SlaClockKind kind);

// States from which nothing more happens without an appeal.
bool IsClosed(v1::ComplaintState state);

}  // namespace aftersales::complaint::domain

#endif  // AFTERSALES_SERVICES_COMPLAINT_DOMAIN_LIFECYCLE_H_
