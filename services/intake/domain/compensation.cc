#include "intake/domain/compensation.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rpc/rpc.h"

namespace aftersales::intake::domain {
namespace {

constexpr int32_t kMaxWarrantyDays = 3650;

// Whole steps of `step` in `d` (step > 0).
int64_t FullSteps(absl::Duration d, absl::Duration step) {
  absl::Duration remainder;
  return absl::IDivDuration(d, step, &remainder);
}

// An entry with everything but value, state and explanation.
v1::CompensationEntry NewEntry(const v1::WorkOrder& order, v1::CompensationReason reason,
                               const v1::PolicyRef& ref, absl::Time now,
                               std::string source_ref) {
  v1::CompensationEntry entry;
  const std::string key = CompensationKey(order.order_id(), reason);
  entry.set_entry_id(key);
  entry.set_idempotency_key(key);
  entry.set_customer_id(order.customer_id());
  entry.set_order_id(order.order_id());
  entry.set_reason(reason);
  *entry.mutable_policy() = ref;
  entry.set_state(v1::COMPENSATION_STATE_GRANTED);
  *entry.mutable_granted_at() = rpc::ToProto(now);
  entry.set_source_ref(std::move(source_ref));
  return entry;
}

bool IsRepairedState(v1::OrderState state) {
  return state == v1::ORDER_STATE_REPAIRED || state == v1::ORDER_STATE_CONFIRMED ||
         state == v1::ORDER_STATE_FOLLOWED_UP || state == v1::ORDER_STATE_CLOSED;
}

// When the order was (last) repaired, if known.
std::optional<absl::Time> RepairedAt(const v1::WorkOrder& order) {
  if (order.repair().has_repaired_at()) return rpc::FromProto(order.repair().repaired_at());
  for (int i = order.transitions_size() - 1; i >= 0; --i) {
    const v1::OrderTransition& t = order.transitions(i);
    if (t.to_state() == v1::ORDER_STATE_REPAIRED && t.actor().has_server_time()) {
      return rpc::FromProto(t.actor().server_time());
    }
  }
  return std::nullopt;
}

}  // namespace

std::string CompensationKey(absl::string_view order_id, v1::CompensationReason reason) {
  absl::string_view name = v1::CompensationReason_Name(reason);
  absl::ConsumePrefix(&name, "COMPENSATION_REASON_");
  return absl::StrCat(order_id, "/", name);
}

int64_t LatenessPoints(absl::Duration lateness, const v1::CompensationPolicy& policy) {
  const absl::Duration step = rpc::FromProto(policy.lateness_step());
  if (step <= absl::ZeroDuration() || lateness < step || policy.percent_per_step() <= 0 ||
      policy.base_points() <= 0 || policy.cap_percent() <= 0) {
    return 0;
  }
  // Steps beyond cap_percent cannot matter (percent_per_step >= 1).
  const int64_t steps =
      std::min<int64_t>(FullSteps(lateness, step), policy.cap_percent());
  const int64_t percent = std::min<int64_t>(steps * policy.percent_per_step(),
                                            policy.cap_percent());
  return policy.base_points() * percent / 100;
}

std::optional<v1::CompensationEntry> LateArrivalCompensation(
    const v1::WorkOrder& order, absl::Duration lateness, const v1::CompensationPolicy& policy,
    const v1::PolicyRef& ref, absl::Time now) {
  const int64_t points = LatenessPoints(lateness, policy);
  if (points <= 0) return std::nullopt;
  v1::CompensationEntry entry =
      NewEntry(order, v1::COMPENSATION_REASON_LATE_ARRIVAL, ref, now, "clock:ARRIVAL");
  entry.mutable_value()->set_points(points);
  const int64_t steps = FullSteps(lateness, rpc::FromProto(policy.lateness_step()));
  std::string explanation =
      absl::StrCat(absl::ToInt64Minutes(lateness), " min late: ", steps, " x ",
                   policy.percent_per_step(), "% of ", policy.base_points(), " points");
  if (steps * policy.percent_per_step() > policy.cap_percent()) {
    absl::StrAppend(&explanation, ", capped at ", policy.cap_percent(), "%");
  }
  entry.set_explanation(std::move(explanation));
  return entry;
}

v1::CompensationEntry ReworkWarrantyCompensation(const v1::WorkOrder& reworked_order,
                                                 int32_t repair_warranty_days,
                                                 const v1::CompensationPolicy& policy,
                                                 const v1::PolicyRef& ref, absl::Time now) {
  const std::string source =
      reworked_order.rework_order_ids().empty()
          ? std::string("rework")
          : absl::StrCat("rework:", reworked_order.rework_order_ids(
                                        reworked_order.rework_order_ids_size() - 1));
  v1::CompensationEntry entry =
      NewEntry(reworked_order, v1::COMPENSATION_REASON_REWORK_WARRANTY, ref, now, source);
  const int64_t days = std::clamp<int64_t>(
      static_cast<int64_t>(std::max(repair_warranty_days, 0)) *
          std::max(policy.rework_warranty_multiplier() - 1, 0),
      0, kMaxWarrantyDays);
  entry.mutable_value()->set_extended_warranty_days(static_cast<int32_t>(days));
  entry.set_explanation(absl::StrCat("rework of a repair with a ", repair_warranty_days,
                                     "-day warranty: warranty x",
                                     policy.rework_warranty_multiplier(), " adds ", days,
                                     " days"));
  return entry;
}

v1::CompensationEntry UnmetExpectationCompensation(const v1::WorkOrder& order,
                                                   const v1::CompensationPolicy& policy,
                                                   const v1::PolicyRef& ref, absl::Time now) {
  v1::CompensationEntry entry = NewEntry(order, v1::COMPENSATION_REASON_UNMET_EXPECTATION, ref,
                                         now, "expectation:deadline");
  entry.set_state(v1::COMPENSATION_STATE_PROPOSED);
  entry.mutable_value()->set_extended_warranty_days(policy.unmet_expectation_warranty_days());
  std::string explanation = "stated expectation not met";
  if (order.expectation().has_deadline()) {
    absl::StrAppend(&explanation, " by its deadline ",
                    absl::FormatTime("%Y-%m-%d %H:%M UTC",
                                     rpc::FromProto(order.expectation().deadline()),
                                     absl::UTCTimeZone()));
  }
  absl::StrAppend(&explanation, ": proposing ", policy.unmet_expectation_warranty_days(),
                  " days extended warranty");
  entry.set_explanation(std::move(explanation));
  return entry;
}

v1::CompensationEntry PriorityServiceRight(const v1::WorkOrder& order,
                                           const v1::CompensationPolicy& policy,
                                           const v1::PolicyRef& ref, absl::Time now,
                                           absl::string_view survey_id) {
  v1::CompensationEntry entry =
      NewEntry(order, v1::COMPENSATION_REASON_PRIORITY_SERVICE_RIGHT, ref, now,
               survey_id.empty() ? std::string("survey") : absl::StrCat("survey:", survey_id));
  entry.mutable_value()->set_priority_levels(policy.five_star_priority_levels());
  const int levels = policy.five_star_priority_levels();
  entry.set_explanation(absl::StrCat("five-star feedback: the customer's next order is raised ",
                                     levels, levels == 1 ? " priority level" : " priority levels"));
  return entry;
}

bool ExpectationUnmet(const v1::WorkOrder& order, absl::Time now) {
  if (!order.has_expectation() || !order.expectation().has_deadline()) return false;
  if (order.state() == v1::ORDER_STATE_CANCELLED) return false;
  const absl::Time deadline = rpc::FromProto(order.expectation().deadline());
  if (IsRepairedState(order.state())) {
    std::optional<absl::Time> repaired_at = RepairedAt(order);
    return repaired_at.has_value() && *repaired_at > deadline;
  }
  return now > deadline;
}

}  // namespace aftersales::intake::domain
