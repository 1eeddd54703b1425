#ifndef AFTERSALES_SERVICES_INTAKE_DOMAIN_PRIORITY_H_
#define AFTERSALES_SERVICES_INTAKE_DOMAIN_PRIORITY_H_

#include "absl/strings/string_view.h"
#include "aftersales/v1/common.pb.h"
#include "aftersales/v1/intake.pb.h"

// Priority at intake (SPEC §2.2), explained: every rule that matched is
// returned with the decision. Pure: no I/O, no clock reads.
namespace aftersales::intake::domain {

struct PriorityInput {
  absl::string_view fault_text;          // fault.description
  absl::string_view fault_code;          // fault.fault_code
  absl::string_view appliance_category;  // appliance.category, e.g. "FRIDGE"
  v1::CustomerTier tier = v1::CUSTOMER_TIER_STANDARD;
  bool is_rework = false;
  int local_month = 0;  // 1..12 in the region's time zone (seasonal core-function rules)
  bool has_priority_right = false;  // an unconsumed five-star right: raise one level (cap EMERGENCY)
};

// SPEC §2.2:
//   EMERGENCY if a safety keyword or a safety fault-code prefix matches, or a
//     core-function rule for the appliance category matches (keyword, and
//     the local month when the rule lists months) — the rule's priority,
//     UNSPECIFIED meaning EMERGENCY;
//   URGENT if a key-function keyword matches, the customer is VIP
//     (policy.vip_is_urgent) or the order is a rework (policy.rework_is_urgent);
//   else NORMAL (reason DEFAULT).
// Then one level up for a priority right, capped at EMERGENCY.
//
// Matching is case-insensitive (ASCII letters are lowercased, other bytes,
// e.g. Chinese, compared as they are). A keyword matches as a substring, but
// where a keyword begins or ends with an ASCII letter or digit, the text must
// not continue with one on that side: "gas" matches "Gas leak!" and "燃气gas味"
// but not "door gasket", so English inflections ("leak", "leaks", "leaking")
// are listed in the policy. Fault-code prefixes compare case-insensitively
// against the start of the code, after trimming ASCII spaces. Appliance
// categories compare case-insensitively.
//
// The decision lists every reason that matched (each once, in PriorityReason
// order; all matches, not only the winning one) and the policy terms that
// matched (keywords and code prefixes as written in the policy, each once,
// in policy order, at most 32). PRIORITY_SERVICE_RIGHT is listed only when
// the right actually raised the level: an order already EMERGENCY leaves the
// right unconsumed (see UsesPriorityRight). previous = UNSPECIFIED;
// policy = ref; decided_by = Actor{principal_id "system", role ROLE_SYSTEM}.
v1::PriorityDecision DecidePriority(const PriorityInput& input,
                                    const v1::PriorityPolicy& policy,
                                    const v1::PolicyRef& ref);

// True if `decision` used the customer's priority right (the caller then
// marks the right CONSUMED by this order).
bool UsesPriorityRight(const v1::PriorityDecision& decision);

// The one-level-up of `priority` (NORMAL->URGENT->EMERGENCY, EMERGENCY stays),
// `levels` times. UNSPECIFIED counts as NORMAL.
v1::Priority RaisePriority(v1::Priority priority, int levels);

// True if `keyword` occurs in `text` under the matching rules above.
bool ContainsTerm(absl::string_view text, absl::string_view keyword);

}  // namespace aftersales::intake::domain

#endif  // AFTERSALES_SERVICES_INTAKE_DOMAIN_PRIORITY_H_
