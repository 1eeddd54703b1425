#ifndef AFTERSALES_SERVICES_INTAKE_DOMAIN_COMPENSATION_H_
#define AFTERSALES_SERVICES_INTAKE_DOMAIN_COMPENSATION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aftersales/v1/common.pb.h"
#include "aftersales/v1/intake.pb.h"

// Compensation ledger entries (SPEC §2.6). Pure: no I/O, no clock reads.
// Every entry is idempotent per (order, reason): idempotency_key and entry_id
// are "<order_id>/<REASON>", REASON being the CompensationReason name without
// its "COMPENSATION_REASON_" prefix ("WO1/LATE_ARRIVAL"). customer_id and
// order_id come from the order, policy = ref, granted_at = now.
namespace aftersales::intake::domain {

// "<order_id>/<REASON>", e.g. "WO1/LATE_ARRIVAL".
std::string CompensationKey(absl::string_view order_id, v1::CompensationReason reason);

// SPEC §2.6 lateness: for every FULL lateness_step past the arrival deadline,
// percent_per_step of base_points, capped at cap_percent. Points are rounded
// down. 0 when under one step (or the policy has no step). With the default
// policy (100 points, 15 min, 10%, cap 100%): 14 min -> 0, 15 -> 10,
// 44 -> 20, 200 -> 100.
int64_t LatenessPoints(absl::Duration lateness, const v1::CompensationPolicy& policy);

// LATE_ARRIVAL, value.points = LatenessPoints, source_ref "clock:ARRIVAL",
// explanation e.g. "45 min late: 3 x 10% of 100 points" (", capped at 100%"
// when capped). nullopt when 0 points.
std::optional<v1::CompensationEntry> LateArrivalCompensation(
    const v1::WorkOrder& order, absl::Duration lateness,
    const v1::CompensationPolicy& policy, const v1::PolicyRef& ref, absl::Time now);

// REWORK_WARRANTY, keyed on the REWORKED (earlier) order: the rework doubles
// (x rework_warranty_multiplier) that repair's warranty, so value
// extended_warranty_days = repair_warranty_days x (multiplier - 1), capped at
// 3650. 0 days when the repair carried no warranty (callers should not grant
// such an entry). source_ref "rework:<id>" of the newest reworking order
// (reworked_order.rework_order_ids), else "rework".
v1::CompensationEntry ReworkWarrantyCompensation(const v1::WorkOrder& reworked_order,
                                                 int32_t repair_warranty_days,
                                                 const v1::CompensationPolicy& policy,
                                                 const v1::PolicyRef& ref, absl::Time now);

// UNMET_EXPECTATION proposal: state PROPOSED, extended_warranty_days =
// unmet_expectation_warranty_days, source_ref "expectation:deadline".
v1::CompensationEntry UnmetExpectationCompensation(const v1::WorkOrder& order,
                                                   const v1::CompensationPolicy& policy,
                                                   const v1::PolicyRef& ref, absl::Time now);

// PRIORITY_SERVICE_RIGHT from five-star feedback: priority_levels =
// five_star_priority_levels, source_ref "survey:<survey_id>" ("survey" when
// empty). GRANTED until a later order consumes it.
v1::CompensationEntry PriorityServiceRight(const v1::WorkOrder& order,
                                           const v1::CompensationPolicy& policy,
                                           const v1::PolicyRef& ref, absl::Time now,
                                           absl::string_view survey_id);

// Unmet expectation: the order has expectation.deadline and was not REPAIRED
// by then. A repaired order (REPAIRED, CONFIRMED, FOLLOWED_UP, CLOSED) is
// judged on repair.repaired_at (else its last transition to REPAIRED) >
// deadline; an open order (including REOPENED) on now > deadline; a
// CANCELLED order never.
bool ExpectationUnmet(const v1::WorkOrder& order, absl::Time now);

}  // namespace aftersales::intake::domain

#endif  // AFTERSALES_SERVICES_INTAKE_DOMAIN_COMPENSATION_H_
