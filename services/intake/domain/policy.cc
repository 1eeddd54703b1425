#include "intake/domain/policy.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"
#include "sla/sla.h"

namespace aftersales::intake::domain {
namespace {

// Keeps the first text-format error with its 1-based position.
absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// "a[3]"
std::string At(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

bool IsOrderClock(v1::SlaClockKind kind) {
  return kind >= v1::SLA_CLOCK_KIND_FIRST_CONTACT &&
         kind <= v1::SLA_CLOCK_KIND_FOLLOW_UP;
}

// A well-formed protobuf Duration (seconds and nanos agree in sign, nanos in
// range) converted to absl; nullopt otherwise.
std::optional<absl::Duration> DurationOf(const google::protobuf::Duration& d) {
  if (d.nanos() <= -1'000'000'000 || d.nanos() >= 1'000'000'000) return std::nullopt;
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return std::nullopt;
  }
  return rpc::FromProto(d);
}

absl::Status CheckDuration(absl::string_view field, bool present,
                           const google::protobuf::Duration& d, absl::Duration lo,
                           absl::Duration hi, absl::string_view range_text) {
  if (!present) return Invalid(field, "required");
  std::optional<absl::Duration> value = DurationOf(d);
  if (!value || *value < lo || *value > hi) {
    return Invalid(field, absl::StrCat("must be in ", range_text));
  }
  return absl::OkStatus();
}

// A keyword: 1..64 UTF-8 characters, not blank.
absl::Status CheckKeyword(const std::string& field, const std::string& keyword) {
  if (absl::StripAsciiWhitespace(keyword).empty() && !keyword.empty()) {
    return Invalid(field, "must not be blank");
  }
  return rpc::Validator().Text(field, keyword, 64, true).status();
}

absl::Status CheckKeywordList(absl::string_view field,
                              const google::protobuf::RepeatedPtrField<std::string>& list,
                              int max_items) {
  if (list.size() > max_items) {
    return Invalid(field, absl::StrCat("at most ", max_items, " entries"));
  }
  for (int i = 0; i < list.size(); ++i) {
    if (absl::Status s = CheckKeyword(At(field, i), list[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckRegion(const std::string& path, const v1::RegionPolicy& region,
                         bool code_required) {
  rpc::Validator v;
  if (code_required || !region.region_code().empty()) {
    v.Id(path + ".region_code", region.region_code(), 32);
  }
  v.Check(path + ".city_tier", region.city_tier() >= 1 && region.city_tier() <= 3,
          "must be 1, 2 or 3");
  const int start = region.service_start_minute();
  const int end = region.service_end_minute();
  if (start != 0 || end != 0) {  // 0/0 means the default 08:00-20:00
    v.Check(path + ".service_start_minute", start >= 0 && start < 1440,
            "must be in [0, 1440)");
    v.Check(path + ".service_end_minute", end > start && end <= 1440,
            "must be in (service_start_minute, 1440]");
  }
  v.Check(path + ".holidays", region.holidays_size() <= 366, "at most 366 dates");
  v.Check(path + ".neighbour_regions", region.neighbour_regions_size() <= 32,
          "at most 32 region codes");
  for (int i = 0; i < region.neighbour_regions_size(); ++i) {
    const std::string field = At(path + ".neighbour_regions", i);
    v.Id(field, region.neighbour_regions(i), 32);
    v.Check(field, region.neighbour_regions(i) != region.region_code(),
            "a region is not its own neighbour");
  }
  if (!v.status().ok()) return v.status();
  // Time zone and holiday dates: exactly what the SLA calendar will load.
  absl::StatusOr<sla::Calendar> calendar = sla::Calendar::ForRegion(region);
  if (!calendar.ok()) {
    return absl::Status(calendar.status().code(),
                        absl::StrCat(path, ".", calendar.status().message()));
  }
  return absl::OkStatus();
}

absl::Status CheckBudgetRule(const std::string& path, const v1::SlaBudgetRule& rule) {
  rpc::Validator v;
  v.Enum(path + ".clock", rule.clock(), v1::SlaClockKind_IsValid(rule.clock()))
      .Check(path + ".clock", IsOrderClock(rule.clock()),
             "must be an order clock (FIRST_CONTACT .. FOLLOW_UP)")
      .Check(path + ".priority", v1::Priority_IsValid(rule.priority()),
             absl::StrCat("unknown value ", rule.priority()))
      .Check(path + ".city_tier", rule.city_tier() >= 0 && rule.city_tier() <= 3,
             "must be 0 (any), 1, 2 or 3")
      .Check(path + ".complexity", v1::FaultComplexity_IsValid(rule.complexity()),
             absl::StrCat("unknown value ", rule.complexity()))
      .Check(path + ".order_type", v1::OrderType_IsValid(rule.order_type()),
             absl::StrCat("unknown value ", rule.order_type()))
      .Check(path + ".condition", v1::SlaCondition_IsValid(rule.condition()),
             absl::StrCat("unknown value ", rule.condition()))
      .Check(path + ".calendar", v1::SlaCalendar_IsValid(rule.calendar()),
             absl::StrCat("unknown value ", rule.calendar()));
  if (!v.status().ok()) return v.status();
  if (rule.disabled() && !rule.has_budget()) return absl::OkStatus();
  return CheckDuration(path + ".budget", rule.has_budget(), rule.budget(),
                       absl::Minutes(1), absl::Hours(24 * 30), "[1 min, 30 days]");
}

absl::Status CheckPriorityPolicy(const v1::PriorityPolicy& p) {
  if (absl::Status s = CheckKeywordList("priority.safety_keywords", p.safety_keywords(), 512);
      !s.ok()) {
    return s;
  }
  if (p.safety_fault_code_prefixes_size() > 256) {
    return Invalid("priority.safety_fault_code_prefixes", "at most 256 entries");
  }
  for (int i = 0; i < p.safety_fault_code_prefixes_size(); ++i) {
    absl::Status s = rpc::Validator()
                         .Id(At("priority.safety_fault_code_prefixes", i),
                             p.safety_fault_code_prefixes(i), 32)
                         .status();
    if (!s.ok()) return s;
  }
  for (int i = 0; i < p.core_function_rules_size(); ++i) {
    const v1::CoreFunctionRule& rule = p.core_function_rules(i);
    const std::string path = At("priority.core_function_rules", i);
    absl::Status s =
        rpc::Validator()
            .Id(path + ".appliance_category", rule.appliance_category(), 32)
            .Check(path + ".keywords", rule.keywords_size() >= 1,
                   "at least one keyword")
            .Check(path + ".priority", v1::Priority_IsValid(rule.priority()),
                   absl::StrCat("unknown value ", rule.priority()))
            .status();
    if (!s.ok()) return s;
    if (s = CheckKeywordList(path + ".keywords", rule.keywords(), 64); !s.ok()) return s;
    for (int m = 0; m < rule.months_size(); ++m) {
      if (rule.months(m) < 1 || rule.months(m) > 12) {
        return Invalid(At(path + ".months", m), "must be in [1, 12]");
      }
    }
  }
  return CheckKeywordList("priority.key_function_keywords", p.key_function_keywords(), 512);
}

absl::Status CheckCompensation(const v1::CompensationPolicy& c) {
  rpc::Validator v;
  v.Range("compensation.base_points", static_cast<double>(c.base_points()), 1, 1'000'000);
  if (!v.status().ok()) return v.status();
  if (absl::Status s = CheckDuration("compensation.lateness_step", c.has_lateness_step(),
                                     c.lateness_step(), absl::Minutes(1), absl::Hours(24),
                                     "[1 min, 24 h]");
      !s.ok()) {
    return s;
  }
  return v.Range("compensation.percent_per_step", c.percent_per_step(), 1, 100)
      .Range("compensation.cap_percent", c.cap_percent(), 1, 1000)
      .Range("compensation.rework_warranty_multiplier", c.rework_warranty_multiplier(), 2, 10)
      .Range("compensation.unmet_expectation_warranty_days",
             c.unmet_expectation_warranty_days(), 1, 3650)
      .Range("compensation.five_star_priority_levels", c.five_star_priority_levels(), 1, 2)
      .status();
}

bool ConditionHolds(v1::SlaCondition condition, const OrderFacts& facts) {
  switch (condition) {
    case v1::SLA_CONDITION_UNSPECIFIED:
      return true;
    case v1::SLA_CONDITION_PARTS_REPLACED_OR_WARRANTY:
      return facts.parts_replaced_or_warranty;
    case v1::SLA_CONDITION_COMPLAINT_LINKED:
      return facts.complaint_linked;
    case v1::SLA_CONDITION_VIP:
      return facts.vip;
    case v1::SLA_CONDITION_REMOTE:
      return facts.remote;
    default:
      return false;  // unknown conditions never hold
  }
}

}  // namespace

absl::StatusOr<v1::IntakePolicy> ParseIntakePolicy(absl::string_view text_proto) {
  v1::IntakePolicy policy;
  if (absl::Status s = server::ParseTextPolicy(text_proto, &policy); !s.ok()) return s;
  if (absl::Status s = ValidateIntakePolicy(policy); !s.ok()) return s;
  return policy;
}

absl::StatusOr<v1::IntakePolicy> LoadIntakePolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the policy file"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read the policy file"));
  absl::StatusOr<v1::IntakePolicy> policy = ParseIntakePolicy(text.str());
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(policy.status().message(), " (in ", path, ")"));
  }
  return policy;
}

absl::Status ValidateIntakePolicy(const v1::IntakePolicy& policy) {
  absl::Status s = rpc::Validator()
                       .Id("ref.name", policy.ref().name(), 64)
                       .Id("ref.version", policy.ref().version(), 64)
                       .Check("regions", policy.regions_size() <= 10000, "at most 10000 regions")
                       .status();
  if (!s.ok()) return s;

  absl::flat_hash_set<absl::string_view> codes;
  for (int i = 0; i < policy.regions_size(); ++i) {
    const v1::RegionPolicy& region = policy.regions(i);
    const std::string path = At("regions", i);
    if (s = CheckRegion(path, region, /*code_required=*/true); !s.ok()) return s;
    if (!codes.insert(region.region_code()).second) {
      return Invalid(path + ".region_code",
                     absl::StrCat("duplicate region \"", region.region_code(), "\""));
    }
  }
  if (!policy.has_default_region()) return Invalid("default_region", "required");
  if (s = CheckRegion("default_region", policy.default_region(), /*code_required=*/false);
      !s.ok()) {
    return s;
  }

  if (policy.sla_budgets_size() == 0) return Invalid("sla_budgets", "at least one rule");
  for (int i = 0; i < policy.sla_budgets_size(); ++i) {
    if (s = CheckBudgetRule(At("sla_budgets", i), policy.sla_budgets(i)); !s.ok()) return s;
  }

  const double at_risk = policy.at_risk_fraction();
  if (!(at_risk > 0 && at_risk < 1)) {  // also rejects NaN
    return Invalid("at_risk_fraction", "must be in (0, 1)");
  }
  if (s = CheckPriorityPolicy(policy.priority()); !s.ok()) return s;
  if (s = CheckCompensation(policy.compensation()); !s.ok()) return s;
  if (s = CheckDuration("rework_window", policy.has_rework_window(), policy.rework_window(),
                        absl::Hours(24), absl::Hours(24 * 365), "[1 day, 365 days]");
      !s.ok()) {
    return s;
  }
  return CheckDuration("watch_heartbeat", policy.has_watch_heartbeat(),
                       policy.watch_heartbeat(), absl::Seconds(1), absl::Seconds(60),
                       "[1 s, 60 s]");
}

v1::RegionPolicy RegionFor(const v1::IntakePolicy& policy, absl::string_view region_code) {
  for (const v1::RegionPolicy& region : policy.regions()) {
    if (region.region_code() == region_code) return region;
  }
  v1::RegionPolicy region = policy.default_region();
  region.set_region_code(std::string(region_code));
  return region;
}

std::optional<Budget> BudgetFor(const v1::IntakePolicy& policy, v1::SlaClockKind clock,
                                const OrderFacts& given) {
  OrderFacts facts = given;
  if (facts.priority == v1::PRIORITY_UNSPECIFIED) facts.priority = v1::PRIORITY_NORMAL;
  if (facts.complexity == v1::FAULT_COMPLEXITY_UNSPECIFIED) {
    facts.complexity = v1::FAULT_COMPLEXITY_SIMPLE;
  }
  if (facts.order_type == v1::ORDER_TYPE_UNSPECIFIED) facts.order_type = v1::ORDER_TYPE_REPAIR;

  for (const v1::SlaBudgetRule& rule : policy.sla_budgets()) {
    if (rule.clock() != clock) continue;
    if (rule.priority() != v1::PRIORITY_UNSPECIFIED && rule.priority() != facts.priority) continue;
    if (rule.city_tier() != 0 && rule.city_tier() != facts.city_tier) continue;
    if (rule.complexity() != v1::FAULT_COMPLEXITY_UNSPECIFIED &&
        rule.complexity() != facts.complexity) {
      continue;
    }
    if (rule.order_type() != v1::ORDER_TYPE_UNSPECIFIED && rule.order_type() != facts.order_type) {
      continue;
    }
    if (!ConditionHolds(rule.condition(), facts)) continue;
    if (rule.disabled()) return std::nullopt;
    v1::SlaCalendar calendar = rule.calendar();
    if (calendar == v1::SLA_CALENDAR_UNSPECIFIED) {
      calendar = facts.priority == v1::PRIORITY_EMERGENCY ? v1::SLA_CALENDAR_WALL_24X7
                                                          : v1::SLA_CALENDAR_SERVICE_HOURS;
    }
    return Budget{rpc::FromProto(rule.budget()), calendar};
  }
  return std::nullopt;
}

}  // namespace aftersales::intake::domain
