#ifndef AFTERSALES_SERVICES_COMPLAINT_DOMAIN_GRADING_H_
#define AFTERSALES_SERVICES_COMPLAINT_DOMAIN_GRADING_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aftersales/v1/complaint.pb.h"

// Complaint grading (SPEC §5): rule-based and explainable. A pure function of
// the complaint, the facts around it, the policy and `now`: no I/O, no clock.
namespace aftersales::complaint::domain {

// Another complaint, as the history rules need it.
struct EarlierComplaint {
  std::string complaint_id;
  absl::Time created_at;
};

struct GradeInput {
  absl::string_view text;  // the complaint text
  // As filed; UNSPECIFIED = inferred from the text (policy.category_keywords,
  // first entry with a match wins; none = OTHER).
  v1::ComplaintCategory category = v1::COMPLAINT_CATEGORY_UNSPECIFIED;
  // The customer's tier as resolved by the caller (request, else the order).
  v1::CustomerTier tier = v1::CUSTOMER_TIER_STANDARD;
  // Where it was filed (UNSPECIFIED: channel rules cannot fire).
  v1::ComplaintChannel channel = v1::COMPLAINT_CHANNEL_UNSPECIFIED;
  // Facts of the linked order copied from intake's stream; null = no order,
  // or an order complaint has not seen (its rules cannot fire).
  const v1::LinkedOrderContext* order = nullptr;
  // Appliance model ("" = the same-model rule cannot fire).
  absl::string_view appliance_model;
  // Other complaints by the same customer, and on the same appliance model.
  // Any age: only those created in (now - window, now] count.
  std::vector<EarlierComplaint> customer_history;
  std::vector<EarlierComplaint> same_model_history;
};

// The category a complaint is graded under, with the words that inferred it.
struct CategoryDecision {
  v1::ComplaintCategory category = v1::COMPLAINT_CATEGORY_OTHER;
  bool inferred = false;
  std::vector<std::string> evidence;  // matched keywords when inferred
};
CategoryDecision DecideCategory(absl::string_view text, v1::ComplaintCategory filed,
                                const v1::ComplaintPolicy& policy);

// Grades the complaint. Every enabled rule of policy.rules is checked:
//   SAFETY_KEYWORDS / PUBLIC_PRESSURE_KEYWORDS / STRONG_EMOTION: the policy's
//     keyword list in the text (ContainsTerm: case-insensitive, English words
//     whole); evidence = the matched keywords as written in the policy;
//   SAME_MODEL_CLUSTER: the complaints on the model in the window, this one
//     included, reach same_model_threshold; evidence = "model=<m>",
//     "complaints=<n> within <window>", then the earlier complaint ids;
//   ORDER_SLA_BREACHED: the linked order breached a clock; evidence =
//     "order=<id>" and the breached clock names (e.g. "ARRIVAL");
//   ORDER_REWORK: the linked order is a rework; evidence = "order=<id>";
//   CATEGORY: the category (filed or inferred) is one of the rule's;
//     evidence = "category=<NAME>" (+ "inferred from: <words>");
//   REPEAT_COMPLAINANT: at least repeat_complainant_threshold earlier
//     complaints by the customer in the window; evidence = their ids;
//   VIP_CUSTOMER: tier VIP and policy.vip_step; evidence = "customer_tier=VIP";
//   CHANNEL: filed through one of the rule's channels; evidence =
//     "channel=<NAME>".
// The grade starts at G1; fired FLOOR rules apply first (grade = max(grade,
// floor)), then fired STEP rules (+1 each), both in policy order, capped at
// G4. `rules` lists every fired rule in that application order with the
// running grade after it (an empty list = the G1 default). The result carries
// the grade's owner and budgets, the policy ref, graded_at = now, and the
// category decision.
v1::GradingResult Grade(const GradeInput& input, const v1::ComplaintPolicy& policy,
                        absl::Time now);

// True if the rule `rule_id` is among the fired rules of `result`.
bool Fired(const v1::GradingResult& result, absl::string_view rule_id);

}  // namespace aftersales::complaint::domain

#endif  // AFTERSALES_SERVICES_COMPLAINT_DOMAIN_GRADING_H_
