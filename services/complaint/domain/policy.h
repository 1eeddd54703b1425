#ifndef AFTERSALES_SERVICES_COMPLAINT_DOMAIN_POLICY_H_
#define AFTERSALES_SERVICES_COMPLAINT_DOMAIN_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aftersales/v1/complaint.pb.h"

// The complaint policy document (SPEC §5): the grade table with owners and
// acknowledge/resolve budgets, the grading rules and their keyword lists, the
// same-model and repeat-complainant windows, and the escalation ladder. The
// shipped default is deploy/policies/complaint.textproto. Pure functions.
namespace aftersales::complaint::domain {

// Parses a text-format ComplaintPolicy and validates it completely. A syntax
// error is INVALID_ARGUMENT "policy: line L column C: <message>" (1-based); a
// bad value is INVALID_ARGUMENT naming the field path first, as
// ValidateComplaintPolicy does. No defaults are filled in.
absl::StatusOr<v1::ComplaintPolicy> ParseComplaintPolicy(absl::string_view text_proto);

// OK, or INVALID_ARGUMENT naming the first bad field. Checks:
//   ref.name / ref.version: 1..64 printable ASCII;
//   grades: exactly G1..G4 once each, an owner, acknowledge and resolve in
//     [1 min, 30 days];
//   keyword lists (safety, public pressure, emotion, category keywords):
//     <= 512 entries, each 1..64 characters and not blank;
//   same_model_threshold 1..1000, same_model_window [1 h, 90 days];
//   repeat_complainant_threshold 1..100, repeat_complainant_window
//     [1 day, 365 days];
//   rules: 1..64, ids unique 1..64 printable ASCII, kind known, effect FLOOR
//     (floor G1..G4) or STEP (no floor), description 1..500 characters,
//     CATEGORY rules name 1..9 known categories and CHANNEL rules 1..9
//     known channels (other rules none);
//   escalation_ladder: 1..4 known levels, strictly ascending, holding every
//     grade's owner;
//   category_keywords: <= 16, a category, 1..512 keywords;
//   at_risk_fraction in (0, 1).
absl::Status ValidateComplaintPolicy(const v1::ComplaintPolicy& policy);

// The grade's row of the grade table (validated policies have all four).
const v1::GradeTarget& TargetFor(const v1::ComplaintPolicy& policy, v1::ComplaintGrade grade);

// The level a missed deadline escalates `level` to: the next level of the
// ladder above it; the top of the ladder (or above) stays where it is.
v1::OwnerLevel NextOwnerLevel(const v1::ComplaintPolicy& policy, v1::OwnerLevel level);

}  // namespace aftersales::complaint::domain

#endif  // AFTERSALES_SERVICES_COMPLAINT_DOMAIN_POLICY_H_
