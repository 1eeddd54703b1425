#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "intake/domain/policy.h"
#include "rpc/rpc.h"

namespace aftersales::intake::domain {
namespace {

const std::string kPolicyFile =
    std::string(AFTERSALES_SOURCE_DIR) + "/deploy/policies/intake.textproto";

const v1::IntakePolicy& Shipped() {
  static const v1::IntakePolicy policy = [] {
    absl::StatusOr<v1::IntakePolicy> p = LoadIntakePolicyFile(kPolicyFile);
    if (!p.ok()) FAIL("shipped policy: " << p.status());
    return *p;
  }();
  return policy;
}

OrderFacts Facts(v1::Priority priority, int tier) {
  OrderFacts f;
  f.priority = priority;
  f.city_tier = tier;
  f.complexity = v1::FAULT_COMPLEXITY_SIMPLE;
  f.order_type = v1::ORDER_TYPE_REPAIR;
  return f;
}

TEST_CASE("the shipped policy loads and validates") {
  absl::StatusOr<v1::IntakePolicy> p = LoadIntakePolicyFile(kPolicyFile);
  REQUIRE(p.ok());
  CHECK(p->ref().name() == "intake");
  CHECK(p->ref().version() == "2026-11-22.1");
  CHECK(ValidateIntakePolicy(*p).ok());
  CHECK(p->at_risk_fraction() == 0.75);
  CHECK(p->regions_size() >= 8);
  CHECK(p->default_region().city_tier() == 2);
  CHECK(rpc::FromProto(p->rework_window()) == absl::Hours(24 * 30));
  CHECK(rpc::FromProto(p->watch_heartbeat()) == absl::Seconds(15));
  CHECK(p->software_remote_first());
  CHECK(p->priority().vip_is_urgent());
  CHECK(p->priority().rework_is_urgent());
  const v1::CompensationPolicy& c = p->compensation();
  CHECK(c.base_points() == 100);
  CHECK(rpc::FromProto(c.lateness_step()) == absl::Minutes(15));
  CHECK(c.percent_per_step() == 10);
  CHECK(c.cap_percent() == 100);
  CHECK(c.rework_warranty_multiplier() == 2);
  CHECK(c.unmet_expectation_warranty_days() == 365);
  CHECK(c.five_star_priority_levels() == 1);
}

TEST_CASE("regions: known codes and the default for unknown ones") {
  const v1::IntakePolicy& p = Shipped();
  struct Case {
    const char* code;
    int tier;
  };
  for (const Case& c : std::vector<Case>{{"CN-310000", 1},
                                          {"CN-440300", 1},
                                          {"CN-320500", 2},
                                          {"CN-330700", 3},
                                          {"CN-999999", 2}}) {
    INFO(c.code);
    v1::RegionPolicy r = RegionFor(p, c.code);
    CHECK(r.region_code() == c.code);
    CHECK(r.city_tier() == c.tier);
    CHECK(r.time_zone() == "Asia/Shanghai");
    CHECK(r.service_start_minute() == 480);
    CHECK(r.service_end_minute() == 1200);
  }
  v1::RegionPolicy sh = RegionFor(p, "CN-310000");
  REQUIRE(sh.holidays_size() >= 3);
  CHECK(sh.holidays(0).year() == 2026);
  CHECK(sh.holidays(0).month() == 10);
  CHECK(sh.holidays(0).day() == 1);
  CHECK(sh.neighbour_regions(0) == "CN-320500");
}

TEST_CASE("arrival budgets for every priority and city tier") {
  struct Case {
    v1::Priority priority;
    int tier;
    absl::Duration budget;
    v1::SlaCalendar calendar;
  };
  const auto H = [](double h) { return absl::Minutes(60 * h); };
  const std::vector<Case> cases = {
      {v1::PRIORITY_EMERGENCY, 1, H(0.5), v1::SLA_CALENDAR_WALL_24X7},
      {v1::PRIORITY_EMERGENCY, 2, H(1), v1::SLA_CALENDAR_WALL_24X7},
      {v1::PRIORITY_EMERGENCY, 3, H(2), v1::SLA_CALENDAR_WALL_24X7},
      {v1::PRIORITY_URGENT, 1, H(2), v1::SLA_CALENDAR_SERVICE_HOURS},
      {v1::PRIORITY_URGENT, 2, H(4), v1::SLA_CALENDAR_SERVICE_HOURS},
      {v1::PRIORITY_URGENT, 3, H(8), v1::SLA_CALENDAR_SERVICE_HOURS},
      {v1::PRIORITY_NORMAL, 1, H(2), v1::SLA_CALENDAR_SERVICE_HOURS},
      {v1::PRIORITY_NORMAL, 2, H(4), v1::SLA_CALENDAR_SERVICE_HOURS},
      {v1::PRIORITY_NORMAL, 3, H(8), v1::SLA_CALENDAR_SERVICE_HOURS},
  };
  for (const Case& c : cases) {
    INFO(v1::Priority_Name(c.priority) << " tier " << c.tier);
    std::optional<Budget> b =
        BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_ARRIVAL, Facts(c.priority, c.tier));
    REQUIRE(b.has_value());
    CHECK(b->budget == c.budget);
    CHECK(b->calendar == c.calendar);
  }
}

TEST_CASE("first_contact and dispatch: EMERGENCY 5 min, otherwise 15 min") {
  for (v1::SlaClockKind clock : {v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_CLOCK_KIND_DISPATCH}) {
    for (int tier : {1, 2, 3}) {
      INFO(v1::SlaClockKind_Name(clock) << " tier " << tier);
      auto e = BudgetFor(Shipped(), clock, Facts(v1::PRIORITY_EMERGENCY, tier));
      auto u = BudgetFor(Shipped(), clock, Facts(v1::PRIORITY_URGENT, tier));
      auto n = BudgetFor(Shipped(), clock, Facts(v1::PRIORITY_NORMAL, tier));
      REQUIRE((e && u && n));
      CHECK(e->budget == absl::Minutes(5));
      CHECK(e->calendar == v1::SLA_CALENDAR_WALL_24X7);
      CHECK(u->budget == absl::Minutes(15));
      CHECK(u->calendar == v1::SLA_CALENDAR_SERVICE_HOURS);
      CHECK(n->budget == absl::Minutes(15));
    }
  }
}

TEST_CASE("VIP express arrival: 1 h in tier-1, never looser than EMERGENCY") {
  struct Case {
    v1::Priority priority;
    int tier;
    absl::Duration budget;
  };
  const std::vector<Case> cases = {
      {v1::PRIORITY_URGENT, 1, absl::Hours(1)},
      {v1::PRIORITY_NORMAL, 1, absl::Hours(1)},
      {v1::PRIORITY_EMERGENCY, 1, absl::Minutes(30)},  // stricter rule first
      {v1::PRIORITY_URGENT, 2, absl::Hours(4)},        // express is tier-1 only
      {v1::PRIORITY_URGENT, 3, absl::Hours(8)},
  };
  for (const Case& c : cases) {
    INFO(v1::Priority_Name(c.priority) << " tier " << c.tier);
    OrderFacts f = Facts(c.priority, c.tier);
    f.vip = true;
    auto b = BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_ARRIVAL, f);
    REQUIRE(b.has_value());
    CHECK(b->budget == c.budget);
  }
}

TEST_CASE("repair_plan runs for COMPLEX faults only, resolution 24 h, COMPLEX 48 h") {
  struct Case {
    v1::SlaClockKind clock;
    v1::Priority priority;
    v1::FaultComplexity complexity;
    std::optional<absl::Duration> budget;
  };
  const std::vector<Case> cases = {
      {v1::SLA_CLOCK_KIND_REPAIR_PLAN, v1::PRIORITY_NORMAL, v1::FAULT_COMPLEXITY_COMPLEX,
       absl::Hours(24)},
      {v1::SLA_CLOCK_KIND_REPAIR_PLAN, v1::PRIORITY_EMERGENCY, v1::FAULT_COMPLEXITY_COMPLEX,
       absl::Hours(24)},
      {v1::SLA_CLOCK_KIND_REPAIR_PLAN, v1::PRIORITY_NORMAL, v1::FAULT_COMPLEXITY_MEDIUM,
       std::nullopt},
      {v1::SLA_CLOCK_KIND_REPAIR_PLAN, v1::PRIORITY_URGENT, v1::FAULT_COMPLEXITY_SIMPLE,
       std::nullopt},
      {v1::SLA_CLOCK_KIND_REPAIR_PLAN, v1::PRIORITY_URGENT, v1::FAULT_COMPLEXITY_UNSPECIFIED,
       std::nullopt},
      {v1::SLA_CLOCK_KIND_RESOLUTION, v1::PRIORITY_NORMAL, v1::FAULT_COMPLEXITY_SIMPLE,
       absl::Hours(24)},
      {v1::SLA_CLOCK_KIND_RESOLUTION, v1::PRIORITY_NORMAL, v1::FAULT_COMPLEXITY_MEDIUM,
       absl::Hours(24)},
      {v1::SLA_CLOCK_KIND_RESOLUTION, v1::PRIORITY_NORMAL, v1::FAULT_COMPLEXITY_COMPLEX,
       absl::Hours(48)},
      {v1::SLA_CLOCK_KIND_RESOLUTION, v1::PRIORITY_URGENT, v1::FAULT_COMPLEXITY_COMPLEX,
       absl::Hours(48)},
      {v1::SLA_CLOCK_KIND_RESOLUTION, v1::PRIORITY_EMERGENCY, v1::FAULT_COMPLEXITY_COMPLEX,
       absl::Hours(24)},
      {v1::SLA_CLOCK_KIND_RESOLUTION, v1::PRIORITY_EMERGENCY, v1::FAULT_COMPLEXITY_SIMPLE,
       absl::Hours(24)},
  };
  for (const Case& c : cases) {
    INFO(v1::SlaClockKind_Name(c.clock) << " " << v1::Priority_Name(c.priority) << " "
                                        << v1::FaultComplexity_Name(c.complexity));
    OrderFacts f = Facts(c.priority, 2);
    f.complexity = c.complexity;
    auto b = BudgetFor(Shipped(), c.clock, f);
    REQUIRE(b.has_value() == c.budget.has_value());
    if (b) CHECK(b->budget == *c.budget);
  }
}

TEST_CASE("follow_up: 72 h parts/warranty, 48 h complaint, else 24 h") {
  struct Case {
    bool parts;
    bool complaint;
    absl::Duration budget;
  };
  const std::vector<Case> cases = {
      {false, false, absl::Hours(24)},
      {true, false, absl::Hours(72)},
      {false, true, absl::Hours(48)},
      {true, true, absl::Hours(72)},  // the first listed rule wins
  };
  for (const Case& c : cases) {
    INFO("parts " << c.parts << " complaint " << c.complaint);
    OrderFacts f = Facts(v1::PRIORITY_NORMAL, 1);
    f.parts_replaced_or_warranty = c.parts;
    f.complaint_linked = c.complaint;
    auto b = BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_FOLLOW_UP, f);
    REQUIRE(b.has_value());
    CHECK(b->budget == c.budget);
    CHECK(b->calendar == v1::SLA_CALENDAR_SERVICE_HOURS);
  }
}

TEST_CASE("CONSULTATION orders run only first_contact and resolution") {
  for (v1::Priority priority : {v1::PRIORITY_NORMAL, v1::PRIORITY_URGENT, v1::PRIORITY_EMERGENCY}) {
    OrderFacts f = Facts(priority, 1);
    f.order_type = v1::ORDER_TYPE_CONSULTATION;
    f.complexity = v1::FAULT_COMPLEXITY_COMPLEX;
    f.parts_replaced_or_warranty = true;
    f.vip = true;
    INFO(v1::Priority_Name(priority));
    CHECK(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_FIRST_CONTACT, f).has_value());
    CHECK(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_RESOLUTION, f).has_value());
    CHECK_FALSE(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_DISPATCH, f).has_value());
    CHECK_FALSE(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_ARRIVAL, f).has_value());
    CHECK_FALSE(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_REPAIR_PLAN, f).has_value());
    CHECK_FALSE(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_FOLLOW_UP, f).has_value());
  }
  // Other order types run every clock; UNSPECIFIED counts as REPAIR.
  for (v1::OrderType type : {v1::ORDER_TYPE_UNSPECIFIED, v1::ORDER_TYPE_REPAIR,
                             v1::ORDER_TYPE_INSTALL, v1::ORDER_TYPE_MAINTENANCE}) {
    OrderFacts f = Facts(v1::PRIORITY_NORMAL, 2);
    f.order_type = type;
    INFO(v1::OrderType_Name(type));
    CHECK(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_DISPATCH, f).has_value());
    CHECK(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_ARRIVAL, f)->budget == absl::Hours(4));
    CHECK(BudgetFor(Shipped(), v1::SLA_CLOCK_KIND_FOLLOW_UP, f).has_value());
  }
}

TEST_CASE("EMERGENCY clocks run 24x7, others on service hours, unless the rule says") {
  for (v1::SlaClockKind clock :
       {v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_CLOCK_KIND_DISPATCH, v1::SLA_CLOCK_KIND_ARRIVAL,
        v1::SLA_CLOCK_KIND_RESOLUTION, v1::SLA_CLOCK_KIND_FOLLOW_UP}) {
    INFO(v1::SlaClockKind_Name(clock));
    CHECK(BudgetFor(Shipped(), clock, Facts(v1::PRIORITY_EMERGENCY, 1))->calendar ==
          v1::SLA_CALENDAR_WALL_24X7);
    CHECK(BudgetFor(Shipped(), clock, Facts(v1::PRIORITY_URGENT, 1))->calendar ==
          v1::SLA_CALENDAR_SERVICE_HOURS);
  }
  v1::IntakePolicy p = Shipped();
  p.clear_sla_budgets();
  auto* rule = p.add_sla_budgets();
  rule->set_clock(v1::SLA_CLOCK_KIND_RESOLUTION);
  *rule->mutable_budget() = rpc::ToProto(absl::Hours(10));
  rule->set_calendar(v1::SLA_CALENDAR_WALL_24X7);
  CHECK(BudgetFor(p, v1::SLA_CLOCK_KIND_RESOLUTION, Facts(v1::PRIORITY_NORMAL, 1))->calendar ==
        v1::SLA_CALENDAR_WALL_24X7);
  // No rule for a clock: it does not run.
  CHECK_FALSE(BudgetFor(p, v1::SLA_CLOCK_KIND_ARRIVAL, Facts(v1::PRIORITY_NORMAL, 1)));
}

TEST_CASE("a REMOTE condition rule matches only remote orders") {
  v1::IntakePolicy p = Shipped();
  p.clear_sla_budgets();
  auto* remote = p.add_sla_budgets();
  remote->set_clock(v1::SLA_CLOCK_KIND_ARRIVAL);
  remote->set_condition(v1::SLA_CONDITION_REMOTE);
  *remote->mutable_budget() = rpc::ToProto(absl::Minutes(45));
  auto* other = p.add_sla_budgets();
  other->set_clock(v1::SLA_CLOCK_KIND_ARRIVAL);
  *other->mutable_budget() = rpc::ToProto(absl::Hours(3));
  REQUIRE(ValidateIntakePolicy(p).ok());
  OrderFacts f = Facts(v1::PRIORITY_NORMAL, 1);
  CHECK(BudgetFor(p, v1::SLA_CLOCK_KIND_ARRIVAL, f)->budget == absl::Hours(3));
  f.remote = true;
  CHECK(BudgetFor(p, v1::SLA_CLOCK_KIND_ARRIVAL, f)->budget == absl::Minutes(45));
}

TEST_CASE("invalid policies are rejected naming the field") {
  struct Case {
    const char* field;  // expected message prefix
    std::function<void(v1::IntakePolicy&)> spoil;
  };
  const std::vector<Case> cases = {
      {"ref.name", [](auto& p) { p.mutable_ref()->clear_name(); }},
      {"ref.version", [](auto& p) { p.mutable_ref()->set_version("has space"); }},
      {"regions[0].city_tier", [](auto& p) { p.mutable_regions(0)->set_city_tier(4); }},
      {"regions[1].region_code", [](auto& p) { p.mutable_regions(1)->clear_region_code(); }},
      {"regions[2].region_code",
       [](auto& p) { p.mutable_regions(2)->set_region_code(p.regions(0).region_code()); }},
      {"regions[0].service_end_minute",
       [](auto& p) { p.mutable_regions(0)->set_service_end_minute(400); }},
      {"regions[0].service_start_minute",
       [](auto& p) { p.mutable_regions(0)->set_service_start_minute(-5); }},
      {"regions[0].service_end_minute",
       [](auto& p) { p.mutable_regions(0)->set_service_end_minute(1441); }},
      {"regions[3].time_zone",
       [](auto& p) { p.mutable_regions(3)->set_time_zone("Mars/Olympus_Mons"); }},
      {"regions[0].holidays[1]",
       [](auto& p) {
         p.mutable_regions(0)->mutable_holidays(1)->set_month(2);
         p.mutable_regions(0)->mutable_holidays(1)->set_day(30);
       }},
      {"regions[0].neighbour_regions[0]",
       [](auto& p) { p.mutable_regions(0)->set_neighbour_regions(0, "bad code"); }},
      {"default_region", [](auto& p) { p.clear_default_region(); }},
      {"default_region.city_tier", [](auto& p) { p.mutable_default_region()->set_city_tier(0); }},
      {"default_region.time_zone",
       [](auto& p) { p.mutable_default_region()->set_time_zone("Nowhere/City"); }},
      {"sla_budgets", [](auto& p) { p.clear_sla_budgets(); }},
      {"sla_budgets[4].budget",
       [](auto& p) { *p.mutable_sla_budgets(4)->mutable_budget() = rpc::ToProto(absl::Seconds(59)); }},
      {"sla_budgets[5].budget",
       [](auto& p) {
         *p.mutable_sla_budgets(5)->mutable_budget() = rpc::ToProto(absl::Hours(24 * 30 + 1));
       }},
      {"sla_budgets[6].budget", [](auto& p) { p.mutable_sla_budgets(6)->clear_budget(); }},
      {"sla_budgets[3].clock",
       [](auto& p) { p.mutable_sla_budgets(3)->set_clock(v1::SLA_CLOCK_KIND_UNSPECIFIED); }},
      {"sla_budgets[3].clock",
       [](auto& p) {
         p.mutable_sla_budgets(3)->set_clock(v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE);
       }},
      {"sla_budgets[7].city_tier", [](auto& p) { p.mutable_sla_budgets(7)->set_city_tier(5); }},
      {"sla_budgets[7].priority",
       [](auto& p) { p.mutable_sla_budgets(7)->set_priority(static_cast<v1::Priority>(9)); }},
      {"at_risk_fraction", [](auto& p) { p.set_at_risk_fraction(0); }},
      {"at_risk_fraction", [](auto& p) { p.set_at_risk_fraction(1); }},
      {"at_risk_fraction", [](auto& p) { p.set_at_risk_fraction(1.5); }},
      {"priority.safety_keywords[2]",
       [](auto& p) { p.mutable_priority()->set_safety_keywords(2, ""); }},
      {"priority.safety_keywords[3]",
       [](auto& p) { p.mutable_priority()->set_safety_keywords(3, "   "); }},
      {"priority.key_function_keywords[0]",
       [](auto& p) { p.mutable_priority()->set_key_function_keywords(0, std::string(65, 'x')); }},
      {"priority.safety_fault_code_prefixes[1]",
       [](auto& p) { p.mutable_priority()->set_safety_fault_code_prefixes(1, "E GAS"); }},
      {"priority.core_function_rules[2].months[0]",
       [](auto& p) { p.mutable_priority()->mutable_core_function_rules(2)->set_months(0, 13); }},
      {"priority.core_function_rules[0].keywords",
       [](auto& p) { p.mutable_priority()->mutable_core_function_rules(0)->clear_keywords(); }},
      {"priority.core_function_rules[1].appliance_category",
       [](auto& p) {
         p.mutable_priority()->mutable_core_function_rules(1)->clear_appliance_category();
       }},
      {"compensation.base_points", [](auto& p) { p.mutable_compensation()->set_base_points(0); }},
      {"compensation.lateness_step",
       [](auto& p) { p.mutable_compensation()->clear_lateness_step(); }},
      {"compensation.lateness_step",
       [](auto& p) {
         *p.mutable_compensation()->mutable_lateness_step() = rpc::ToProto(absl::Seconds(30));
       }},
      {"compensation.percent_per_step",
       [](auto& p) { p.mutable_compensation()->set_percent_per_step(101); }},
      {"compensation.cap_percent", [](auto& p) { p.mutable_compensation()->set_cap_percent(0); }},
      {"compensation.rework_warranty_multiplier",
       [](auto& p) { p.mutable_compensation()->set_rework_warranty_multiplier(1); }},
      {"compensation.unmet_expectation_warranty_days",
       [](auto& p) { p.mutable_compensation()->set_unmet_expectation_warranty_days(0); }},
      {"compensation.five_star_priority_levels",
       [](auto& p) { p.mutable_compensation()->set_five_star_priority_levels(3); }},
      {"rework_window", [](auto& p) { p.clear_rework_window(); }},
      {"watch_heartbeat",
       [](auto& p) { *p.mutable_watch_heartbeat() = rpc::ToProto(absl::Seconds(61)); }},
  };
  for (const Case& c : cases) {
    v1::IntakePolicy p = Shipped();
    c.spoil(p);
    absl::Status s = ValidateIntakePolicy(p);
    INFO(c.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(c.field) + ":"));
  }
}

TEST_CASE("the exact message for an out-of-range budget") {
  v1::IntakePolicy p = Shipped();
  *p.mutable_sla_budgets(3)->mutable_budget() = rpc::ToProto(absl::Hours(24 * 31));
  CHECK(ValidateIntakePolicy(p).message() == "sla_budgets[3].budget: must be in [1 min, 30 days]");
}

TEST_CASE("a disabled rule needs no budget, default service hours 0/0 are allowed") {
  v1::IntakePolicy p = Shipped();
  p.mutable_regions(0)->set_service_start_minute(0);
  p.mutable_regions(0)->set_service_end_minute(0);
  p.mutable_default_region()->clear_time_zone();  // Asia/Shanghai by default
  auto* rule = p.add_sla_budgets();
  rule->set_clock(v1::SLA_CLOCK_KIND_FOLLOW_UP);
  rule->set_disabled(true);
  CHECK(ValidateIntakePolicy(p).ok());
}

TEST_CASE("text-format errors name line and column") {
  absl::StatusOr<v1::IntakePolicy> p =
      ParseIntakePolicy("ref { name: \"intake\" version: \"1\" }\nat_risk_fraction: \"high\"\n");
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  INFO(p.status());
  CHECK(absl::StartsWith(p.status().message(), "policy: line 2 column "));
  p = ParseIntakePolicy("no_such_field: 1\n");
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  INFO(p.status());
  CHECK(absl::StartsWith(p.status().message(), "policy: line 1 column 14:"));
  CHECK(absl::StrContains(p.status().message(), "no_such_field"));
}

TEST_CASE("parsing validates completely, loading names the file") {
  // Syntactically fine but incomplete.
  absl::StatusOr<v1::IntakePolicy> p =
      ParseIntakePolicy("ref { name: \"intake\" version: \"1\" }\n");
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(p.status().message(), "default_region:"));

  absl::StatusOr<v1::IntakePolicy> missing = LoadIntakePolicyFile("/nonexistent/intake.textproto");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "/nonexistent/intake.textproto"));
}

}  // namespace
}  // namespace aftersales::intake::domain
