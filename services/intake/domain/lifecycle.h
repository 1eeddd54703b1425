#ifndef AFTERSALES_SERVICES_INTAKE_DOMAIN_LIFECYCLE_H_
#define AFTERSALES_SERVICES_INTAKE_DOMAIN_LIFECYCLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/intake.pb.h"

// The work order's five-step lifecycle (SPEC §2.3) and its SLA clocks
// (SPEC §2.4), as pure functions: an order, a change and `now` in; the new
// order and the events that describe the change out. No I/O, no clock reads.
namespace aftersales::intake::domain {

// Who is changing the order, when, and under which policy.
struct Context {
  absl::Time now;
  v1::Actor actor;  // principal, role, reason, device_time; server_time := now
  const v1::IntakePolicy* policy = nullptr;
};

// An order after a change, and the events to append in the same batch.
struct Change {
  v1::WorkOrder order;
  std::vector<v1::Event> events;
  std::vector<v1::CompensationEntry> compensations;  // new ledger entries
};

// Open = work may still happen and the order may be cancelled or held.
bool IsOpen(v1::OrderState state);
// CLOSED or CANCELLED.
bool IsTerminal(v1::OrderState state);

// The milestone a progress report carries; UNSPECIFIED if none is set.
v1::ProgressMilestone MilestoneOf(const v1::ProgressReport& report);

// INVALID_ARGUMENT naming the field ("report.diagnosed.diagnosis.initial_cause_code: required").
absl::Status ValidateProgressReport(const v1::ProgressReport& report,
                                    absl::string_view field = "report");

// Starts the clocks a new order runs (SPEC §2.4 table, per the policy), sets
// the handling mode, and judges arrival against a booked window.
absl::Status StartClocks(v1::WorkOrder& order, const v1::IntakePolicy& policy,
                         absl::Time now);

// Applies one milestone. FAILED_PRECONDITION "order is <STATE>: cannot <MILESTONE>"
// for an illegal transition (the order is unchanged); INVALID_ARGUMENT for a
// report that does not fit the order (e.g. a quote id that is not current).
absl::StatusOr<Change> ApplyProgress(const v1::WorkOrder& order,
                                     const v1::ProgressReport& report,
                                     const Context& ctx);

// New priority with reason (agent) or from a rule (system). Deadlines are
// recomputed from the creation time with the accumulated pause kept; stopped
// clocks keep their outcome.
absl::StatusOr<Change> ChangePriority(const v1::WorkOrder& order,
                                      v1::Priority priority,
                                      v1::PriorityReason reason,
                                      const Context& ctx);

// Effects of other services' events (DESIGN.md event table).
// dispatch: accepted -> ASSIGNED (or latched until CONTACTED), stops `dispatch`.
absl::StatusOr<Change> ApplyOfferAccepted(const v1::WorkOrder& order,
                                          const v1::OfferAccepted& accepted,
                                          const Context& ctx);
// dispatch: an offer was rejected or timed out (breach cause DISPATCH).
Change ApplyOfferDeclined(const v1::WorkOrder& order, const Context& ctx);
// dispatch: nobody can take it (breach cause CAPACITY).
Change ApplyUnassignable(const v1::WorkOrder& order, const Context& ctx);
// dispatch: a new ETA.
Change ApplyEtaUpdated(const v1::WorkOrder& order, const v1::EtaUpdated& eta,
                       const Context& ctx);
// parts: backordered -> WAITING_PARTS (from IN_REPAIR/DIAGNOSED); all
// available -> IN_REPAIR (from WAITING_PARTS).
Change ApplyPartsBackordered(const v1::WorkOrder& order, const Context& ctx);
Change ApplyPartsAvailable(const v1::WorkOrder& order,
                           const v1::PartsAvailable& available,
                           const Context& ctx);
// complaint filed on the order: linked (follow-up 48 h).
Change ApplyComplaintFiled(const v1::WorkOrder& order,
                           const std::string& complaint_id, const Context& ctx);

// Sweeps the order's clocks at `ctx.now`: at-risk and breach events (with
// the breach cause), each once.
Change Sweep(const v1::WorkOrder& order, const Context& ctx);

// The earliest instant a sweep could change the order, or InfiniteFuture.
absl::Time NextSweep(const v1::WorkOrder& order, const v1::IntakePolicy& policy);

// Why a clock breached, from what the order went through (SPEC §2.4).
v1::BreachCause AttributeBreach(const v1::WorkOrder& order, v1::SlaClockKind clock);

// The order's clock of `kind`, or nullptr.
const v1::SlaClock* FindClock(const v1::WorkOrder& order, v1::SlaClockKind kind);

}  // namespace aftersales::intake::domain

#endif  // AFTERSALES_SERVICES_INTAKE_DOMAIN_LIFECYCLE_H_
