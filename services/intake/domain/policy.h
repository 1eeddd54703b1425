#ifndef AFTERSALES_SERVICES_INTAKE_DOMAIN_POLICY_H_
#define AFTERSALES_SERVICES_INTAKE_DOMAIN_POLICY_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aftersales/v1/common.pb.h"
#include "aftersales/v1/intake.pb.h"

// The intake policy document (SPEC §2.2, §2.4, §2.6): regions, the SLA budget
// table, priority rules and compensation parameters. Pure functions, except
// LoadIntakePolicyFile, which reads one file. The shipped default is
// deploy/policies/intake.textproto.
namespace aftersales::intake::domain {

// Parses a text-format IntakePolicy and validates it completely. A syntax
// error is INVALID_ARGUMENT "policy: line L column C: <parser message>"
// (1-based); a bad value is INVALID_ARGUMENT naming the field path first, as
// ValidateIntakePolicy does. No defaults are filled in: every number the
// policy needs must be written (the shipped file has them all).
absl::StatusOr<v1::IntakePolicy> ParseIntakePolicy(absl::string_view text_proto);

// Reads `path` and parses it as above. NOT_FOUND when the file cannot be
// read; parse/validation errors keep their message (field path first) with
// " (in <path>)" appended.
absl::StatusOr<v1::IntakePolicy> LoadIntakePolicyFile(const std::string& path);

// OK, or INVALID_ARGUMENT naming the first bad field, e.g.
// "sla_budgets[3].budget: must be in [1 min, 30 days]". Checks:
//   ref.name / ref.version: 1..64 printable ASCII;
//   regions (<= 10000, codes unique) and default_region: city tier 1..3,
//     service minutes (0/0 = 08:00-20:00 default, else start in [0, 1440),
//     end in (start, 1440]), time zone and holidays loadable through
//     sla::Calendar::ForRegion, <= 366 holidays, <= 32 neighbour codes;
//     default_region.region_code may be empty;
//   sla_budgets: non-empty; clock one of the six order clocks; selectors
//     known (city_tier 0..3); budget in [1 min, 30 days] unless disabled;
//   at_risk_fraction in (0, 1);
//   priority: keywords 1..64 characters (not blank), <= 512 per list; fault
//     code prefixes 1..32 printable ASCII, <= 256; core-function rules with a
//     category, >= 1 keyword, months 1..12, a priority (UNSPECIFIED means
//     EMERGENCY);
//   compensation: base_points 1..1000000, lateness_step [1 min, 24 h],
//     percent_per_step 1..100, cap_percent 1..1000,
//     rework_warranty_multiplier 2..10, unmet_expectation_warranty_days
//     1..3650, five_star_priority_levels 1..2;
//   rework_window [1 day, 365 days]; watch_heartbeat [1 s, 60 s].
absl::Status ValidateIntakePolicy(const v1::IntakePolicy& policy);

// The region's policy, or policy.default_region (with region_code set to
// `region_code`) when unknown.
v1::RegionPolicy RegionFor(const v1::IntakePolicy& policy,
                           absl::string_view region_code);

// Facts of an order that select SLA budget rules.
struct OrderFacts {
  v1::Priority priority = v1::PRIORITY_NORMAL;
  int city_tier = 0;
  v1::FaultComplexity complexity = v1::FAULT_COMPLEXITY_UNSPECIFIED;  // = SIMPLE
  v1::OrderType order_type = v1::ORDER_TYPE_UNSPECIFIED;              // = REPAIR
  bool vip = false;
  bool remote = false;
  bool parts_replaced_or_warranty = false;
  bool complaint_linked = false;
};

// A clock's budget and the calendar it counts on (never UNSPECIFIED).
struct Budget {
  absl::Duration budget;
  v1::SlaCalendar calendar;
};

// The first SlaBudgetRule for `clock` whose every set selector matches
// (unset selectors match anything; a rule with a condition matches only if
// that fact holds). nullopt if no rule matches or the matching rule is
// disabled (the clock does not run). Facts are normalised first as the
// contract defines: complexity UNSPECIFIED = SIMPLE, order type UNSPECIFIED =
// REPAIR, priority UNSPECIFIED = NORMAL. The calendar is resolved:
// UNSPECIFIED -> WALL_24X7 for EMERGENCY, else SERVICE_HOURS.
std::optional<Budget> BudgetFor(const v1::IntakePolicy& policy,
                                v1::SlaClockKind clock, const OrderFacts& facts);

}  // namespace aftersales::intake::domain

#endif  // AFTERSALES_SERVICES_INTAKE_DOMAIN_POLICY_H_
