// Dispatch eligibility and ranking (SPEC §3): every hard constraint, rework
// rules, deterministic ties, queue order, shifts, coverage, factor values,
// predicted arrival, and the dispatch policy and engineer validation.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "catch2/catch.hpp"
#include "dispatch/domain/ranking.h"
#include "geo/geo.h"
#include "rpc/rpc.h"
#include "support/test_support.h"

namespace aftersales::dispatch::domain {
namespace {

constexpr double kPi = 3.14159265358979323846;

absl::TimeZone Zone(const char* name) {
  absl::TimeZone tz;
  REQUIRE(absl::LoadTimeZone(name, &tz));
  return tz;
}

// A local wall-clock instant in Asia/Shanghai (UTC+8, no DST).
absl::Time Sh(int y, int m, int d, int hh, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), Zone("Asia/Shanghai"));
}

// Monday 2026-11-23 10:00 in Shanghai.
absl::Time Now() { return Sh(2026, 11, 23, 10); }

// Degrees of latitude for `km` due north on the geo library's sphere.
double NorthDeg(double km) { return km / (geo::kEarthRadiusKm * kPi / 180.0); }

constexpr char kPolicyText[] = R"pb(
  ref { name: "dispatch" version: "test.1" }
  offer_timeout_emergency { seconds: 300 }
  offer_timeout_default { seconds: 600 }
  weights {
    arrival_slack: 0.4
    rating: 0.2
    first_time_fix: 0.2
    workload_balance: 0.1
    partner_preference: 0.1
  }
  road_factor: 1.3
  speed_kmh: 30
  default_capacity { max_active: 1 max_queued: 3 }
  location_stale_after { seconds: 1800 }
  on_site_job_estimate { seconds: 3600 }
  suspend_below_diagnosis_accuracy: 0.9
  max_attempts: 10
)pb";

v1::DispatchPolicy TestPolicy() {
  absl::StatusOr<v1::DispatchPolicy> p = ParseDispatchPolicy(kPolicyText);
  REQUIRE(p.ok());
  return *p;
}

// Order WO1: a COMPLEX Haier fridge at People's Square, Shanghai; arrival
// due in 4 h, dispatch due in 15 min.
v1::DispatchOrder BaseOrder() {
  v1::DispatchOrder o;
  o.set_order_id("WO1");
  o.set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
  o.set_priority(v1::PRIORITY_NORMAL);
  o.mutable_service_area()->set_region_code("CN-310000");
  o.mutable_service_area()->set_city_tier(1);
  o.mutable_service_area()->mutable_location()->set_lat_deg(31.2304);
  o.mutable_service_area()->mutable_location()->set_lng_deg(121.4737);
  o.set_appliance_category("FRIDGE");
  o.set_appliance_brand("Haier");
  o.set_complexity(v1::FAULT_COMPLEXITY_COMPLEX);
  o.set_order_type(v1::ORDER_TYPE_REPAIR);
  *o.mutable_order_created_at() = rpc::ToProto(Now() - absl::Minutes(1));
  *o.mutable_dispatch_deadline() = rpc::ToProto(Now() + absl::Minutes(15));
  *o.mutable_arrival_deadline() = rpc::ToProto(Now() + absl::Hours(4));
  return o;
}

v1::ShiftCalendar EveryDay(int start_minute, int end_minute) {
  v1::ShiftCalendar c;
  c.set_time_zone("Asia/Shanghai");
  for (int day = 1; day <= 7; ++day) {
    v1::WeeklyShift* w = c.add_weekly();
    w->set_iso_weekday(day);
    w->set_start_minute(start_minute);
    w->set_end_minute(end_minute);
  }
  return c;
}

// Engineer E1 of partner PA: INTERMEDIATE Haier fridges, covers Shanghai,
// on shift 08:00-20:00 daily, 2 km north of the order, located 5 min ago.
v1::Engineer BaseEngineer(const std::string& id = "E1") {
  v1::Engineer e;
  e.set_engineer_id(id);
  e.set_partner_id("PA");
  e.set_display_name("Engineer Li");
  v1::Skill* s = e.add_skills();
  s->set_appliance_category("FRIDGE");
  s->set_level(v1::CERTIFICATION_LEVEL_INTERMEDIATE);
  s->add_brands("Haier");
  e.mutable_coverage()->add_region_codes("CN-310000");
  *e.mutable_shifts() = EveryDay(8 * 60, 20 * 60);
  e.mutable_location()->set_lat_deg(31.2304 + NorthDeg(2));
  e.mutable_location()->set_lng_deg(121.4737);
  *e.mutable_location_reported_at() = rpc::ToProto(Now() - absl::Minutes(5));
  e.set_rating(4.6);
  e.set_rating_count(20);
  e.set_first_time_fix_rate(0.92);
  e.set_status(v1::ENGINEER_STATUS_AVAILABLE);
  e.set_home_region_code("CN-310000");
  return e;
}

v1::Partner PartnerA() {
  v1::Partner p;
  p.set_partner_id("PA");
  p.set_name("Partner A");
  p.add_allowed_brands("Haier");
  p.add_allowed_regions("CN-310000");
  p.set_preference(0.8);
  return p;
}

// Everything a case may change, kept alive for the Situation's pointers.
struct World {
  v1::DispatchPolicy policy = TestPolicy();
  v1::Partner partner = PartnerA();
  bool has_partner = true;
  v1::Engineer engineer = BaseEngineer();
  v1::DispatchOrder order = BaseOrder();
  Situation situation;

  World() { situation.now = Now(); }
  Situation Bind() {
    Situation s = situation;
    s.policy = &policy;
    s.partner = has_partner ? &partner : nullptr;
    return s;
  }
  std::vector<v1::HardConstraint> Failed() {
    return FailedConstraints(engineer, order, Bind());
  }
};

std::string Names(const std::vector<v1::HardConstraint>& list) {
  std::string out;
  for (v1::HardConstraint h : list) absl::StrAppend(&out, v1::HardConstraint_Name(h), " ");
  return out;
}

// ---------------------------------------------------------------------------
// Hard constraints
// ---------------------------------------------------------------------------

TEST_CASE("the base engineer passes every hard constraint") {
  World w;
  CHECK(w.Failed().empty());
  v1::Candidate c = Evaluate(w.engineer, w.order, w.Bind());
  CHECK(c.eligible());
  CHECK(c.failed_constraints().empty());
  CHECK(c.factors_size() == 5);
}

TEST_CASE("each hard constraint excludes exactly the engineer that breaks it") {
  struct Case {
    const char* what;
    std::function<void(World&)> change;
    std::vector<v1::HardConstraint> expected;
  };
  using H = v1::HardConstraint;
  const std::vector<Case> cases = {
      {"no skill for the category",
       [](World& w) { w.engineer.mutable_skills(0)->set_appliance_category("WASHER"); },
       {v1::HARD_CONSTRAINT_SKILL_CATEGORY}},
      {"JUNIOR on a COMPLEX order",
       [](World& w) { w.engineer.mutable_skills(0)->set_level(v1::CERTIFICATION_LEVEL_JUNIOR); },
       {v1::HARD_CONSTRAINT_CERTIFICATION_LEVEL}},
      {"certified for another brand only",
       [](World& w) { w.engineer.mutable_skills(0)->set_brands(0, "Midea"); },
       {v1::HARD_CONSTRAINT_BRAND}},
      {"skill without brands inherits the partner's brands, which exclude the order's",
       [](World& w) {
         w.engineer.mutable_skills(0)->clear_brands();
         w.partner.set_allowed_brands(0, "Gree");
       },
       {v1::HARD_CONSTRAINT_BRAND, v1::HARD_CONSTRAINT_PARTNER_NOT_ALLOWED}},
      {"shift only in the afternoon, after the arrival deadline",
       [](World& w) { *w.engineer.mutable_shifts() = EveryDay(15 * 60, 20 * 60); },
       {v1::HARD_CONSTRAINT_SHIFT}},
      {"day off today by exception",
       [](World& w) {
         v1::ShiftException* e = w.engineer.mutable_shifts()->add_exceptions();
         e->mutable_date()->set_year(2026);
         e->mutable_date()->set_month(11);
         e->mutable_date()->set_day(23);
         e->set_off(true);
       },
       {v1::HARD_CONSTRAINT_SHIFT}},
      {"covers Beijing only",
       [](World& w) { w.engineer.mutable_coverage()->set_region_codes(0, "CN-110000"); },
       {v1::HARD_CONSTRAINT_COVERAGE}},
      {"1 active + 3 queued of the default 1 + 3",
       [](World& w) {
         w.situation.load.active = 1;
         w.situation.load.queued = 3;
       },
       {v1::HARD_CONSTRAINT_CAPACITY}},
      {"pending offers count against capacity",
       [](World& w) {
         w.engineer.mutable_capacity()->set_max_active(2);
         w.engineer.mutable_capacity()->set_max_queued(1);
         w.situation.load.active = 1;
         w.situation.load.pending_offers = 2;
       },
       {v1::HARD_CONSTRAINT_CAPACITY}},
      {"declined this order before",
       [](World& w) { w.order.add_excluded_engineer_ids("E1"); },
       {v1::HARD_CONSTRAINT_PREVIOUSLY_DECLINED}},
      {"partner not allowed in the region",
       [](World& w) { w.partner.set_allowed_regions(0, "CN-110000"); },
       {v1::HARD_CONSTRAINT_PARTNER_NOT_ALLOWED}},
      {"partner unknown", [](World& w) { w.has_partner = false; },
       {v1::HARD_CONSTRAINT_PARTNER_NOT_ALLOWED}},
      {"partner record of another network", [](World& w) { w.partner.set_partner_id("PB"); },
       {v1::HARD_CONSTRAINT_PARTNER_NOT_ALLOWED}},
      {"suspended", [](World& w) { w.engineer.set_status(v1::ENGINEER_STATUS_SUSPENDED); },
       {v1::HARD_CONSTRAINT_STATUS}},
      {"off duty", [](World& w) { w.engineer.set_status(v1::ENGINEER_STATUS_OFF_DUTY); },
       {v1::HARD_CONSTRAINT_STATUS}},
      {"did the reworked repair",
       [](World& w) {
         w.order.set_is_rework(true);
         w.order.set_rework_of_engineer_id("E1");
         w.order.set_rework_of_level(v1::CERTIFICATION_LEVEL_JUNIOR);
       },
       {v1::HARD_CONSTRAINT_REWORK_SAME_ENGINEER}},
      {"backup pool before the dispatch deadline",
       [](World& w) { w.engineer.set_backup(true); }, {v1::HARD_CONSTRAINT_BACKUP_POOL}},
      {"location 31 min old",
       [](World& w) {
         *w.engineer.mutable_location_reported_at() = rpc::ToProto(Now() - absl::Minutes(31));
       },
       {v1::HARD_CONSTRAINT_LOCATION_STALE}},
      {"no location", [](World& w) { w.engineer.clear_location(); },
       {v1::HARD_CONSTRAINT_LOCATION_STALE}},
  };
  for (const Case& c : cases) {
    World w;
    c.change(w);
    const std::vector<H> failed = w.Failed();
    INFO(c.what << ": " << Names(failed));
    CHECK(failed == c.expected);
    CHECK_FALSE(Evaluate(w.engineer, w.order, w.Bind()).eligible());
  }
}

TEST_CASE("limits that still pass") {
  struct Case {
    const char* what;
    std::function<void(World&)> change;
  };
  const std::vector<Case> cases = {
      {"one slot left", [](World& w) { w.situation.load = {1, 2, 0, 7}; }},
      {"own capacity above the default",
       [](World& w) {
         w.engineer.mutable_capacity()->set_max_active(2);
         w.situation.load = {1, 3, 0, 0};
       }},
      {"location exactly 30 min old",
       [](World& w) {
         *w.engineer.mutable_location_reported_at() = rpc::ToProto(Now() - absl::Minutes(30));
       }},
      {"shift starts just before the arrival deadline",
       [](World& w) { *w.engineer.mutable_shifts() = EveryDay(13 * 60 + 59, 20 * 60); }},
      {"backup pool after the dispatch deadline",
       [](World& w) {
         w.engineer.set_backup(true);
         w.situation.past_dispatch_deadline = true;
       }},
      {"neighbour-region engineer outside coverage after the dispatch deadline",
       [](World& w) {
         w.engineer.mutable_coverage()->set_region_codes(0, "CN-320500");
         w.situation.neighbour_region = true;
         w.situation.past_dispatch_deadline = true;
       }},
      {"SENIOR cross-brand works on another brand",
       [](World& w) {
         w.engineer.mutable_skills(0)->set_level(v1::CERTIFICATION_LEVEL_SENIOR);
         w.engineer.mutable_skills(0)->set_brands(0, "Midea");
         w.engineer.set_cross_brand(true);
       }},
      {"brand compared ignoring case and spaces",
       [](World& w) { w.order.set_appliance_brand(" HAIER"); }},
      {"order without a brand", [](World& w) { w.order.clear_appliance_brand(); }},
      {"skill without brands inherits the partner's",
       [](World& w) { w.engineer.mutable_skills(0)->clear_brands(); }},
      {"partner without restrictions",
       [](World& w) {
         w.partner.clear_allowed_brands();
         w.partner.clear_allowed_regions();
       }},
      {"BUSY is judged by capacity, not status",
       [](World& w) { w.engineer.set_status(v1::ENGINEER_STATUS_BUSY); }},
      {"empty calendar is always on shift",
       [](World& w) { w.engineer.clear_shifts(); }},
  };
  for (const Case& c : cases) {
    World w;
    c.change(w);
    INFO(c.what << ": " << Names(w.Failed()));
    CHECK(w.Failed().empty());
  }
}

TEST_CASE("the neighbour-region waiver needs the dispatch deadline passed") {
  World w;
  w.engineer.mutable_coverage()->set_region_codes(0, "CN-320500");
  w.situation.neighbour_region = true;
  CHECK(w.Failed() == std::vector<v1::HardConstraint>{v1::HARD_CONSTRAINT_COVERAGE});
  w.situation.neighbour_region = false;
  w.situation.past_dispatch_deadline = true;
  CHECK(w.Failed() == std::vector<v1::HardConstraint>{v1::HARD_CONSTRAINT_COVERAGE});
}

TEST_CASE("several failures are listed in HardConstraint order") {
  World w;
  w.engineer.set_status(v1::ENGINEER_STATUS_SUSPENDED);
  w.engineer.set_backup(true);
  w.order.add_excluded_engineer_ids("E1");
  w.engineer.mutable_skills(0)->set_appliance_category("OVEN");
  CHECK(w.Failed() == std::vector<v1::HardConstraint>{
                          v1::HARD_CONSTRAINT_SKILL_CATEGORY,
                          v1::HARD_CONSTRAINT_PREVIOUSLY_DECLINED, v1::HARD_CONSTRAINT_STATUS,
                          v1::HARD_CONSTRAINT_BACKUP_POOL});
  v1::Candidate c = Evaluate(w.engineer, w.order, w.Bind());
  CHECK_FALSE(c.eligible());
  CHECK(c.failed_constraints_size() == 4);
  CHECK(c.factors_size() == 0);
  CHECK(c.total_score() == 0);
  CHECK(c.level() == v1::CERTIFICATION_LEVEL_UNSPECIFIED);
  CHECK(c.from_backup_pool());
}

// ---------------------------------------------------------------------------
// Levels and rework
// ---------------------------------------------------------------------------

TEST_CASE("required level by complexity and rework") {
  struct Case {
    v1::FaultComplexity complexity;
    bool rework;
    v1::CertificationLevel rework_of;
    v1::CertificationLevel required;
  };
  using C = v1::CertificationLevel;
  const C J = v1::CERTIFICATION_LEVEL_JUNIOR, I = v1::CERTIFICATION_LEVEL_INTERMEDIATE,
          S = v1::CERTIFICATION_LEVEL_SENIOR, U = v1::CERTIFICATION_LEVEL_UNSPECIFIED;
  const std::vector<Case> cases = {
      {v1::FAULT_COMPLEXITY_SIMPLE, false, U, J},
      {v1::FAULT_COMPLEXITY_MEDIUM, false, U, J},
      {v1::FAULT_COMPLEXITY_UNSPECIFIED, false, U, J},
      {v1::FAULT_COMPLEXITY_COMPLEX, false, U, I},
      {v1::FAULT_COMPLEXITY_SIMPLE, true, J, I},
      {v1::FAULT_COMPLEXITY_SIMPLE, true, I, S},
      {v1::FAULT_COMPLEXITY_SIMPLE, true, S, S},
      {v1::FAULT_COMPLEXITY_SIMPLE, true, U, I},  // unknown level: above the lowest
      {v1::FAULT_COMPLEXITY_COMPLEX, true, J, I},
      {v1::FAULT_COMPLEXITY_COMPLEX, true, I, S},
      {v1::FAULT_COMPLEXITY_SIMPLE, false, S, J},  // not a rework: level ignored
  };
  for (const Case& c : cases) {
    v1::DispatchOrder o = BaseOrder();
    o.set_complexity(c.complexity);
    o.set_is_rework(c.rework);
    o.set_rework_of_level(c.rework_of);
    INFO(c.complexity << " rework=" << c.rework << " of " << c.rework_of);
    CHECK(RequiredLevel(o) == c.required);
  }
}

TEST_CASE("a rework goes to a different engineer one level higher, or SENIOR") {
  struct Case {
    v1::CertificationLevel reworked_level;
    std::string engineer_id;
    v1::CertificationLevel engineer_level;
    std::vector<v1::HardConstraint> expected;
  };
  const auto J = v1::CERTIFICATION_LEVEL_JUNIOR, I = v1::CERTIFICATION_LEVEL_INTERMEDIATE,
             S = v1::CERTIFICATION_LEVEL_SENIOR;
  const auto LEVEL = v1::HARD_CONSTRAINT_CERTIFICATION_LEVEL;
  const auto SAME = v1::HARD_CONSTRAINT_REWORK_SAME_ENGINEER;
  const std::vector<Case> cases = {
      {J, "E2", J, {LEVEL}},  // same level is not enough
      {J, "E2", I, {}},
      {J, "E2", S, {}},
      {I, "E2", I, {LEVEL}},
      {I, "E2", S, {}},
      {S, "E2", S, {}},        // SENIOR's rework: another SENIOR
      {S, "E9", S, {SAME}},    // never the same engineer
      {J, "E9", I, {SAME}},    // ... even if since promoted
      {J, "E9", J, {LEVEL, SAME}},
  };
  for (const Case& c : cases) {
    World w;
    w.order.set_complexity(v1::FAULT_COMPLEXITY_SIMPLE);
    w.order.set_is_rework(true);
    w.order.set_rework_of_engineer_id("E9");
    w.order.set_rework_of_level(c.reworked_level);
    w.engineer.set_engineer_id(c.engineer_id);
    w.engineer.mutable_skills(0)->set_level(c.engineer_level);
    INFO("reworked " << c.reworked_level << " candidate " << c.engineer_id << " level "
                     << c.engineer_level << ": " << Names(w.Failed()));
    CHECK(w.Failed() == c.expected);
  }
}

TEST_CASE("the level for a category is the engineer's skill for it") {
  v1::Engineer e = BaseEngineer();
  v1::Skill* s = e.add_skills();
  s->set_appliance_category("AC");
  s->set_level(v1::CERTIFICATION_LEVEL_SENIOR);
  CHECK(LevelFor(e, "FRIDGE") == v1::CERTIFICATION_LEVEL_INTERMEDIATE);
  CHECK(LevelFor(e, "AC") == v1::CERTIFICATION_LEVEL_SENIOR);
  CHECK(LevelFor(e, "WASHER") == v1::CERTIFICATION_LEVEL_UNSPECIFIED);
  CHECK(LevelFor(e, "fridge") == v1::CERTIFICATION_LEVEL_UNSPECIFIED);  // codes are exact
}

// ---------------------------------------------------------------------------
// Factors, arrival, ranking
// ---------------------------------------------------------------------------

TEST_CASE("predicted arrival adds queued work and travel") {
  World w;
  w.engineer.mutable_location()->set_lat_deg(31.2304 + NorthDeg(15));
  w.situation.load = {1, 1, 1, 0};  // pending offers are not work ahead
  Arrival a = PredictArrival(w.engineer, w.order, w.Bind());
  CHECK(a.distance_km == Approx(15.0).epsilon(1e-9));
  CHECK(a.queued_work == absl::Minutes(120));                       // 2 jobs x 60 min
  CHECK(absl::AbsDuration(a.travel - absl::Minutes(39)) < absl::Milliseconds(1));  // 15 x 1.3 / 30 h
  CHECK(absl::AbsDuration(a.at - (Now() + absl::Minutes(159))) < absl::Milliseconds(1));

  w.situation.load = {};
  a = PredictArrival(w.engineer, w.order, w.Bind());
  CHECK(a.queued_work == absl::ZeroDuration());
  CHECK(absl::AbsDuration(a.at - (Now() + absl::Minutes(39))) < absl::Milliseconds(1));

  w.policy.set_speed_kmh(60);
  w.policy.set_road_factor(1.0);
  *w.policy.mutable_on_site_job_estimate() = rpc::ToProto(absl::Minutes(45));
  w.situation.load = {0, 2, 0, 0};
  a = PredictArrival(w.engineer, w.order, w.Bind());
  CHECK(a.queued_work == absl::Minutes(90));
  CHECK(absl::AbsDuration(a.travel - absl::Minutes(15)) < absl::Milliseconds(1));
  CHECK(absl::AbsDuration(a.at - (Now() + absl::Minutes(105))) < absl::Milliseconds(1));
}

TEST_CASE("factor values and contributions on a hand-computed example") {
  World w;
  // 15 km away: 39 min travel; 2 jobs ahead: 120 min; arrival now + 159 min,
  // deadline now + 240 min -> slack 81 min -> (81 + 60) / 180.
  w.engineer.mutable_location()->set_lat_deg(31.2304 + NorthDeg(15));
  w.situation.load = {1, 1, 0, 3};
  w.situation.peer_jobs_today = 1.5;
  v1::Candidate c = Evaluate(w.engineer, w.order, w.Bind());
  REQUIRE(c.eligible());
  CHECK(c.engineer_id() == "E1");
  CHECK(c.partner_id() == "PA");
  CHECK(c.level() == v1::CERTIFICATION_LEVEL_INTERMEDIATE);
  CHECK(c.rank() == 0);
  CHECK(c.distance_km() == Approx(15.0).epsilon(1e-9));
  CHECK(absl::AbsDuration(rpc::FromProto(c.predicted_arrival()) -
                          (Now() + absl::Minutes(159))) < absl::Milliseconds(1));
  CHECK(absl::AbsDuration(rpc::FromProto(c.slack()) - absl::Minutes(81)) < absl::Milliseconds(1));

  struct Expected {
    v1::RankingFactorKind kind;
    double raw;
    const char* unit;
    double normalized;
    double weight;
  };
  const std::vector<Expected> expected = {
      {v1::RANKING_FACTOR_KIND_ARRIVAL_SLACK, 81, "minutes", 141.0 / 180.0, 0.4},
      {v1::RANKING_FACTOR_KIND_RATING, 4.6, "rating", 0.9, 0.2},
      {v1::RANKING_FACTOR_KIND_FIRST_TIME_FIX, 0.92, "ratio", 0.92, 0.2},
      {v1::RANKING_FACTOR_KIND_WORKLOAD_BALANCE, 3, "jobs today", 0.4, 0.1},  // 1 / (1 + 1.5)
      {v1::RANKING_FACTOR_KIND_PARTNER_PREFERENCE, 0.8, "preference", 0.8, 0.1},
  };
  REQUIRE(c.factors_size() == static_cast<int>(expected.size()));
  double sum = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const v1::RankingFactor& f = c.factors(static_cast<int>(i));
    INFO(v1::RankingFactorKind_Name(expected[i].kind));
    CHECK(f.kind() == expected[i].kind);
    CHECK(f.raw_value() == Approx(expected[i].raw).margin(1e-6));
    CHECK(f.unit() == expected[i].unit);
    CHECK(f.normalized() == Approx(expected[i].normalized).margin(1e-9));
    CHECK(f.weight() == expected[i].weight);
    CHECK(f.contribution() == Approx(expected[i].normalized * expected[i].weight).margin(1e-9));
    sum += f.contribution();
  }
  // 0.313333 + 0.18 + 0.184 + 0.04 + 0.08
  CHECK(c.total_score() == Approx(0.7973333333).margin(1e-9));
  CHECK(c.total_score() == Approx(sum).margin(1e-12));
}

TEST_CASE("factor edges: prior rating, default preference, clamped slack, fair share") {
  World w;
  w.engineer.set_rating(0);
  w.engineer.set_rating_count(0);  // unrated: prior 4.0
  w.partner.set_preference(0);     // unset: 0.5
  w.situation.load.jobs_today = 1;
  w.situation.peer_jobs_today = 2;  // below the mean: full score
  // 2 km away: 5.2 min travel; deadline in 4 h -> slack > 120 min -> 1.
  v1::Candidate c = Evaluate(w.engineer, w.order, w.Bind());
  REQUIRE(c.eligible());
  CHECK(c.factors(0).normalized() == 1.0);
  CHECK(c.factors(1).raw_value() == 4.0);
  CHECK(c.factors(1).normalized() == 0.75);
  CHECK(c.factors(3).normalized() == 1.0);
  CHECK(c.factors(4).raw_value() == 0.5);
  CHECK(c.factors(4).normalized() == 0.5);

  // Slack below -60 min scores 0: deadline 1 h ago.
  *w.order.mutable_arrival_deadline() = rpc::ToProto(Now() - absl::Hours(1));
  w.engineer.clear_shifts();
  c = Evaluate(w.engineer, w.order, w.Bind());
  REQUIRE(c.eligible());
  CHECK(c.factors(0).raw_value() == Approx(-60 - 5.2).margin(1e-6));
  CHECK(c.factors(0).normalized() == 0.0);
  CHECK(c.factors(0).contribution() == 0.0);
  CHECK(rpc::FromProto(c.slack()) < absl::ZeroDuration());
}

// Candidates of identical engineers E1..E3, a better-rated E4, a suspended
// E0 and an off-duty E5 nearer the order (ineligible ones go by id).
std::vector<v1::Engineer> TieEngineers() {
  std::vector<v1::Engineer> list;
  for (const char* id : {"E3", "E1", "E0", "E4", "E2", "E5"}) list.push_back(BaseEngineer(id));
  list[2].set_status(v1::ENGINEER_STATUS_SUSPENDED);
  list[3].set_rating(4.8);
  list[5].set_status(v1::ENGINEER_STATUS_OFF_DUTY);
  list[5].mutable_location()->set_lat_deg(31.2304);
  return list;
}

std::vector<std::string> RankedIds(const std::vector<v1::Engineer>& engineers, World& w) {
  std::vector<v1::Candidate> candidates;
  for (const v1::Engineer& e : engineers) candidates.push_back(Evaluate(e, w.order, w.Bind()));
  Rank(candidates);
  std::vector<std::string> ids;
  for (const v1::Candidate& c : candidates) ids.push_back(absl::StrCat(c.engineer_id(), "#", c.rank()));
  return ids;
}

TEST_CASE("ties break by engineer id and any input order gives the same ranking") {
  World w;
  std::vector<v1::Engineer> engineers = TieEngineers();
  const std::vector<std::string> expected = {"E4#1", "E1#2", "E2#3", "E3#4", "E0#0", "E5#0"};
  std::sort(engineers.begin(), engineers.end(),
            [](const v1::Engineer& a, const v1::Engineer& b) { return a.engineer_id() < b.engineer_id(); });
  int permutations = 0;
  do {
    ++permutations;
    CHECK(RankedIds(engineers, w) == expected);
  } while (std::next_permutation(
      engineers.begin(), engineers.end(),
      [](const v1::Engineer& a, const v1::Engineer& b) { return a.engineer_id() < b.engineer_id(); }));
  CHECK(permutations == 720);
}

TEST_CASE("equal scores fall back to slack, rating, fix rate, jobs, preference, id") {
  World w;
  // Only workload balance weighs, and every candidate is at or below the
  // mean of 2 jobs: all totals are exactly 0.3.
  w.policy.mutable_weights()->Clear();
  w.policy.mutable_weights()->set_workload_balance(0.3);
  w.situation.peer_jobs_today = 2;
  v1::Partner pb = PartnerA();
  pb.set_partner_id("PB");
  pb.set_preference(0.6);

  struct Entry {
    std::string id;
    std::function<void(v1::Engineer&, Situation&)> change;
  };
  // Listed in the expected order; each key beats the id order.
  const std::vector<Entry> entries = {
      {"Z", [](v1::Engineer& e, Situation&) { e.mutable_location()->set_lat_deg(31.2304); }},
      {"Y", [](v1::Engineer& e, Situation&) { e.set_rating(4.8); }},
      {"X", [](v1::Engineer& e, Situation&) { e.set_first_time_fix_rate(0.95); }},
      {"W", [](v1::Engineer& e, Situation& s) { s.load.jobs_today = 0; }},
      {"V", [](v1::Engineer&, Situation&) {}},
      {"S", [&](v1::Engineer& e, Situation& s) { e.set_partner_id("PB"); s.partner = &pb; }},
      {"T", [&](v1::Engineer& e, Situation& s) { e.set_partner_id("PB"); s.partner = &pb; }},
  };
  std::vector<v1::Candidate> candidates;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    v1::Engineer e = BaseEngineer(it->id);
    Situation s = w.Bind();
    s.load.jobs_today = 1;
    it->change(e, s);
    candidates.push_back(Evaluate(e, w.order, s));
    REQUIRE(candidates.back().eligible());
    REQUIRE(candidates.back().total_score() == 0.3);
  }
  Rank(candidates);
  std::vector<std::string> ids;
  for (const v1::Candidate& c : candidates) ids.push_back(c.engineer_id());
  CHECK(ids == std::vector<std::string>{"Z", "Y", "X", "W", "V", "S", "T"});
  for (size_t i = 0; i < candidates.size(); ++i) CHECK(candidates[i].rank() == static_cast<int>(i) + 1);
}

TEST_CASE("a higher score outranks a nearer engineer") {
  World w;
  v1::Engineer near = BaseEngineer("A-near");
  near.set_rating(2.0);
  near.set_first_time_fix_rate(0.5);
  v1::Engineer far = BaseEngineer("B-far");
  far.mutable_location()->set_lat_deg(31.2304 + NorthDeg(10));
  std::vector<v1::Candidate> candidates = {Evaluate(near, w.order, w.Bind()),
                                           Evaluate(far, w.order, w.Bind())};
  // near: slack capped at 1 -> 0.4 + 0.05 + 0.1 + 0.1 + 0.08 = 0.73
  // far: slack 240 - 26 = 214 min -> 1 -> 0.4 + 0.18 + 0.184 + 0.1 + 0.08 = 0.944
  CHECK(candidates[0].total_score() == Approx(0.73).margin(1e-9));
  CHECK(candidates[1].total_score() == Approx(0.944).margin(1e-9));
  Rank(candidates);
  CHECK(candidates[0].engineer_id() == "B-far");
  CHECK(candidates[0].rank() == 1);
  CHECK(candidates[1].rank() == 2);
}

// ---------------------------------------------------------------------------
// Queue order and offer timeouts
// ---------------------------------------------------------------------------

v1::DispatchOrder Waiting(const std::string& id, v1::Priority priority,
                          std::optional<absl::Duration> deadline_in, absl::Duration created_ago) {
  v1::DispatchOrder o = BaseOrder();
  o.set_order_id(id);
  o.set_priority(priority);
  if (deadline_in) {
    *o.mutable_arrival_deadline() = rpc::ToProto(Now() + *deadline_in);
  } else {
    o.clear_arrival_deadline();
  }
  *o.mutable_order_created_at() = rpc::ToProto(Now() - created_ago);
  return o;
}

TEST_CASE("an EMERGENCY order is served before a NORMAL one") {
  v1::DispatchOrder emergency =
      Waiting("WO-E", v1::PRIORITY_EMERGENCY, absl::Hours(8), absl::Minutes(1));
  v1::DispatchOrder normal = Waiting("WO-A", v1::PRIORITY_NORMAL, absl::Hours(1), absl::Hours(2));
  CHECK(ServedBefore(emergency, normal));
  CHECK_FALSE(ServedBefore(normal, emergency));
  CHECK_FALSE(ServedBefore(normal, normal));
}

TEST_CASE("the waiting queue orders by priority, deadline, creation, id") {
  using P = v1::Priority;
  const P N = v1::PRIORITY_NORMAL, U = v1::PRIORITY_URGENT, E = v1::PRIORITY_EMERGENCY;
  const std::vector<v1::DispatchOrder> expected = {
      Waiting("E1", E, absl::Hours(3), absl::Minutes(0)),
      Waiting("U1", U, absl::Hours(2), absl::Minutes(0)),
      Waiting("N1", N, absl::Hours(1), absl::Minutes(10)),
      Waiting("N3", N, absl::Hours(2), absl::Minutes(30)),
      Waiting("N4", N, absl::Hours(2), absl::Minutes(30)),
      Waiting("N2", N, absl::Hours(2), absl::Minutes(20)),
      Waiting("N0", N, std::nullopt, absl::Hours(5)),  // no deadline: last of its priority
  };
  std::vector<v1::DispatchOrder> queue(expected.rbegin(), expected.rend());
  std::rotate(queue.begin(), queue.begin() + 3, queue.end());
  std::sort(queue.begin(), queue.end(), ServedBefore);
  std::vector<std::string> ids;
  for (const auto& o : queue) ids.push_back(o.order_id());
  CHECK(ids == std::vector<std::string>{"E1", "U1", "N1", "N3", "N4", "N2", "N0"});
}

TEST_CASE("offer timeout by priority") {
  const v1::DispatchPolicy policy = TestPolicy();
  v1::DispatchOrder o = BaseOrder();
  o.set_priority(v1::PRIORITY_EMERGENCY);
  CHECK(OfferTimeout(o, policy) == absl::Minutes(5));
  o.set_priority(v1::PRIORITY_URGENT);
  CHECK(OfferTimeout(o, policy) == absl::Minutes(10));
  o.set_priority(v1::PRIORITY_NORMAL);
  CHECK(OfferTimeout(o, policy) == absl::Minutes(10));
}

// ---------------------------------------------------------------------------
// Shifts
// ---------------------------------------------------------------------------

using Intervals = std::vector<std::pair<absl::Time, absl::Time>>;

TEST_CASE("a night shift runs across the Monday 00:00 boundary") {
  REQUIRE(absl::GetWeekday(absl::CivilDay(2026, 11, 23)) == absl::Weekday::monday);
  v1::ShiftCalendar night;
  night.set_time_zone("Asia/Shanghai");
  auto add = [&](int day, int start, int end) {
    v1::WeeklyShift* w = night.add_weekly();
    w->set_iso_weekday(day);
    w->set_start_minute(start);
    w->set_end_minute(end);
  };
  add(7, 22 * 60, 1440);  // Sunday 22:00-24:00
  add(1, 0, 6 * 60);      // Monday 00:00-06:00
  const Intervals got = ShiftsBetween(night, Sh(2026, 11, 22, 12), Sh(2026, 11, 23, 12));
  CHECK(got == Intervals{{Sh(2026, 11, 22, 22), Sh(2026, 11, 23, 6)}});  // one merged shift
  CHECK(Sh(2026, 11, 22, 22) == absl::FromCivil(absl::CivilSecond(2026, 11, 22, 14, 0, 0),
                                                absl::UTCTimeZone()));

  CHECK(OnShiftWithin(night, Sh(2026, 11, 22, 23, 59), Sh(2026, 11, 23, 0, 1)));
  CHECK(OnShiftWithin(night, Sh(2026, 11, 23, 5, 59), Sh(2026, 11, 23, 6)));
  CHECK_FALSE(OnShiftWithin(night, Sh(2026, 11, 23, 6), Sh(2026, 11, 23, 21, 59)));
  CHECK(OnShiftWithin(night, Sh(2026, 11, 23, 6), Sh(2026, 11, 29, 22, 1)));  // next Sunday
  CHECK_FALSE(OnShiftWithin(night, Sh(2026, 11, 23, 6), Sh(2026, 11, 29, 22)));  // half-open

  // Clipped to the asked window.
  CHECK(ShiftsBetween(night, Sh(2026, 11, 23, 1), Sh(2026, 11, 23, 2)) ==
        Intervals{{Sh(2026, 11, 23, 1), Sh(2026, 11, 23, 2)}});
  CHECK(ShiftsBetween(night, Sh(2026, 11, 23, 2), Sh(2026, 11, 23, 1)).empty());

  // The SHIFT constraint at Sunday 23:00 with the arrival due 01:30.
  World w;
  *w.engineer.mutable_shifts() = night;
  w.situation.now = Sh(2026, 11, 22, 23);
  *w.engineer.mutable_location_reported_at() = rpc::ToProto(w.situation.now);
  *w.order.mutable_arrival_deadline() = rpc::ToProto(Sh(2026, 11, 23, 1, 30));
  CHECK(w.Failed().empty());
  w.situation.now = Sh(2026, 11, 23, 7);  // Monday 07:00, due 09:00: off until Sunday night
  *w.engineer.mutable_location_reported_at() = rpc::ToProto(w.situation.now);
  *w.order.mutable_arrival_deadline() = rpc::ToProto(Sh(2026, 11, 23, 9));
  CHECK(w.Failed() == std::vector<v1::HardConstraint>{v1::HARD_CONSTRAINT_SHIFT});
}

TEST_CASE("exceptions cancel or replace a local day's weekly shifts") {
  v1::ShiftCalendar c;
  c.set_time_zone("Asia/Shanghai");
  for (int day = 1; day <= 5; ++day) {  // Monday..Friday 09:00-18:00
    v1::WeeklyShift* w = c.add_weekly();
    w->set_iso_weekday(day);
    w->set_start_minute(9 * 60);
    w->set_end_minute(18 * 60);
  }
  auto except = [&](int d, bool off, int start, int end) {
    v1::ShiftException* e = c.add_exceptions();
    e->mutable_date()->set_year(2026);
    e->mutable_date()->set_month(11);
    e->mutable_date()->set_day(d);
    e->set_off(off);
    e->set_start_minute(start);
    e->set_end_minute(end);
  };
  except(24, true, 9 * 60, 18 * 60);    // Tuesday off (minutes ignored)
  except(25, false, 13 * 60, 15 * 60);  // Wednesday 13:00-15:00 only
  except(28, false, 10 * 60, 12 * 60);  // Saturday: an extra shift
  const Intervals got = ShiftsBetween(c, Sh(2026, 11, 23, 0), Sh(2026, 11, 30, 0));
  CHECK(got == Intervals{
                   {Sh(2026, 11, 23, 9), Sh(2026, 11, 23, 18)},
                   {Sh(2026, 11, 25, 13), Sh(2026, 11, 25, 15)},
                   {Sh(2026, 11, 26, 9), Sh(2026, 11, 26, 18)},
                   {Sh(2026, 11, 27, 9), Sh(2026, 11, 27, 18)},
                   {Sh(2026, 11, 28, 10), Sh(2026, 11, 28, 12)},
               });
  CHECK_FALSE(OnShiftWithin(c, Sh(2026, 11, 24, 0), Sh(2026, 11, 25, 13)));
  CHECK(OnShiftWithin(c, Sh(2026, 11, 24, 0), Sh(2026, 11, 25, 13, 1)));
  // The next week is back to normal.
  CHECK(ShiftsBetween(c, Sh(2026, 12, 1, 0), Sh(2026, 12, 2, 0)) ==
        Intervals{{Sh(2026, 12, 1, 9), Sh(2026, 12, 1, 18)}});
}

TEST_CASE("shifts are local to the calendar's time zone, across DST") {
  v1::ShiftCalendar c;
  c.set_time_zone("Europe/Berlin");
  v1::WeeklyShift* w = c.add_weekly();
  w->set_iso_weekday(7);  // Sunday 00:00-06:00
  w->set_start_minute(0);
  w->set_end_minute(6 * 60);
  const absl::TimeZone utc = absl::UTCTimeZone();
  auto U = [&](int y, int m, int d, int hh) {
    return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), utc);
  };
  // 2027-03-28: clocks go 02:00 CET -> 03:00 CEST: a 5-hour shift.
  CHECK(ShiftsBetween(c, U(2027, 3, 27, 0), U(2027, 3, 29, 0)) ==
        Intervals{{U(2027, 3, 27, 23), U(2027, 3, 28, 4)}});
  // A normal winter Sunday: 00:00 CET = 23:00 UTC, 6 hours.
  CHECK(ShiftsBetween(c, U(2027, 3, 20, 0), U(2027, 3, 22, 0)) ==
        Intervals{{U(2027, 3, 20, 23), U(2027, 3, 21, 5)}});
}

TEST_CASE("an empty calendar is always on shift, a broken one never") {
  v1::ShiftCalendar empty;
  CHECK(ShiftsBetween(empty, Now(), Now() + absl::Hours(1)) ==
        Intervals{{Now(), Now() + absl::Hours(1)}});
  CHECK(OnShiftWithin(empty, Now(), Now() + absl::Seconds(1)));
  v1::ShiftCalendar broken = EveryDay(0, 1440);
  broken.set_time_zone("Nowhere/Atlantis");
  CHECK_FALSE(OnShiftWithin(broken, Now(), Now() + absl::Hours(48)));
  v1::ShiftCalendar all_day = EveryDay(0, 1440);
  CHECK(ShiftsBetween(all_day, Now(), Now() + absl::Hours(72)) ==
        Intervals{{Now(), Now() + absl::Hours(72)}});
}

// ---------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------

v1::ServiceArea AreaAt(const std::string& region, double lat, double lng) {
  v1::ServiceArea a;
  a.set_region_code(region);
  a.mutable_location()->set_lat_deg(lat);
  a.mutable_location()->set_lng_deg(lng);
  return a;
}

v1::GeoPoint P(double lat, double lng) {
  v1::GeoPoint p;
  p.set_lat_deg(lat);
  p.set_lng_deg(lng);
  return p;
}

TEST_CASE("coverage by region code") {
  v1::CoverageArea c;
  c.add_region_codes("CN-310000");
  c.add_region_codes("CN-320500");
  CHECK(Covers(c, AreaAt("CN-320500", 0, 0)));
  CHECK_FALSE(Covers(c, AreaAt("CN-330400", 31.23, 121.47)));
  CHECK_FALSE(Covers(c, AreaAt("", 31.23, 121.47)));
  CHECK_FALSE(Covers(v1::CoverageArea(), AreaAt("CN-310000", 31.23, 121.47)));
}

TEST_CASE("coverage by circle") {
  v1::CoverageArea c;
  *c.mutable_center() = P(31.2304, 121.4737);
  c.set_radius_km(5);
  CHECK(Covers(c, AreaAt("X", 31.2304 + NorthDeg(4.99), 121.4737)));
  CHECK(Covers(c, AreaAt("X", 31.2304 + NorthDeg(5) - 1e-9, 121.4737)));
  CHECK_FALSE(Covers(c, AreaAt("X", 31.2304 + NorthDeg(5.01), 121.4737)));
  CHECK_FALSE(Covers(c, AreaAt("X", 31.2304 - NorthDeg(5.01), 121.4737)));
  v1::ServiceArea no_point;
  no_point.set_region_code("X");
  CHECK_FALSE(Covers(c, no_point));
  c.set_radius_km(0);  // no circle
  CHECK_FALSE(Covers(c, AreaAt("X", 31.2304, 121.4737)));
}

TEST_CASE("coverage by polygon, concave and across the antimeridian") {
  v1::CoverageArea c;
  // An L shape: the square (31.0..31.4, 121.2..121.6) without its north-east
  // quarter (31.2..31.4, 121.4..121.6).
  for (const v1::GeoPoint& p : {P(31.0, 121.2), P(31.0, 121.6), P(31.2, 121.6), P(31.2, 121.4),
                                P(31.4, 121.4), P(31.4, 121.2)}) {
    *c.add_polygon() = p;
  }
  CHECK(Covers(c, AreaAt("X", 31.1, 121.5)));         // south-east arm
  CHECK(Covers(c, AreaAt("X", 31.3, 121.3)));         // north-west arm
  CHECK_FALSE(Covers(c, AreaAt("X", 31.3, 121.5)));   // the notch
  CHECK_FALSE(Covers(c, AreaAt("X", 30.9, 121.3)));   // south of it
  CHECK(Covers(c, AreaAt("X", 31.2, 121.5)));         // on an edge
  CHECK(Covers(c, AreaAt("X", 31.0, 121.2)));         // on a vertex
  CHECK_FALSE(Covers(c, AreaAt("X", 31.2, 121.61)));  // level with a vertex, outside

  v1::CoverageArea fiji;  // straddles 180 degrees
  for (const v1::GeoPoint& p : {P(-17, 179.5), P(-17, -179.5), P(-18, -179.5), P(-18, 179.5)}) {
    *fiji.add_polygon() = p;
  }
  CHECK(Covers(fiji, AreaAt("X", -17.5, 179.9)));
  CHECK(Covers(fiji, AreaAt("X", -17.5, -179.9)));
  CHECK_FALSE(Covers(fiji, AreaAt("X", -17.5, 179.0)));
  CHECK_FALSE(Covers(fiji, AreaAt("X", -17.5, 0)));
}

TEST_CASE("coverage is the union of region, circle and polygon") {
  v1::CoverageArea c;
  c.add_region_codes("CN-110000");
  *c.mutable_center() = P(40.0, 116.4);
  c.set_radius_km(10);
  for (const v1::GeoPoint& p : {P(31.0, 121.2), P(31.0, 121.6), P(31.4, 121.4)}) {
    *c.add_polygon() = p;
  }
  CHECK(Covers(c, AreaAt("CN-110000", 0, 0)));          // region only
  CHECK(Covers(c, AreaAt("CN-130000", 40.05, 116.4)));  // circle only
  CHECK(Covers(c, AreaAt("CN-310000", 31.1, 121.4)));   // polygon only
  CHECK_FALSE(Covers(c, AreaAt("CN-310000", 31.39, 121.25)));
}

// ---------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------

TEST_CASE("policy validation names the offending field") {
  struct Case {
    const char* field;
    std::function<void(v1::DispatchPolicy&)> spoil;
  };
  auto minutes = [](double m) { return rpc::ToProto(absl::Seconds(m * 60)); };
  const std::vector<Case> cases = {
      {"ref.name", [](auto& p) { p.mutable_ref()->clear_name(); }},
      {"ref.version", [](auto& p) { p.mutable_ref()->set_version("has space"); }},
      {"offer_timeout_emergency", [](auto& p) { p.clear_offer_timeout_emergency(); }},
      {"offer_timeout_emergency",
       [&](auto& p) { *p.mutable_offer_timeout_emergency() = minutes(0.5); }},
      {"offer_timeout_default", [&](auto& p) { *p.mutable_offer_timeout_default() = minutes(121); }},
      {"offer_timeout_default",
       [](auto& p) { p.mutable_offer_timeout_default()->set_nanos(-5); }},  // malformed
      {"weights", [](auto& p) { p.clear_weights(); }},
      {"weights", [](auto& p) { p.mutable_weights()->Clear(); }},
      {"weights.arrival_slack", [](auto& p) { p.mutable_weights()->set_arrival_slack(-0.1); }},
      {"weights.rating", [](auto& p) { p.mutable_weights()->set_rating(std::nan("")); }},
      {"weights.partner_preference",
       [](auto& p) { p.mutable_weights()->set_partner_preference(INFINITY); }},
      {"road_factor", [](auto& p) { p.set_road_factor(0.99); }},
      {"road_factor", [](auto& p) { p.set_road_factor(3.01); }},
      {"speed_kmh", [](auto& p) { p.set_speed_kmh(0); }},
      {"speed_kmh", [](auto& p) { p.set_speed_kmh(150.5); }},
      {"default_capacity", [](auto& p) { p.clear_default_capacity(); }},
      {"default_capacity.max_active", [](auto& p) { p.mutable_default_capacity()->set_max_active(0); }},
      {"default_capacity.max_active", [](auto& p) { p.mutable_default_capacity()->set_max_active(11); }},
      {"default_capacity.max_queued", [](auto& p) { p.mutable_default_capacity()->set_max_queued(21); }},
      {"default_capacity.max_queued", [](auto& p) { p.mutable_default_capacity()->set_max_queued(-1); }},
      {"location_stale_after", [&](auto& p) { *p.mutable_location_stale_after() = minutes(0.9); }},
      {"location_stale_after", [&](auto& p) { *p.mutable_location_stale_after() = minutes(24 * 60 + 1); }},
      {"on_site_job_estimate", [&](auto& p) { *p.mutable_on_site_job_estimate() = minutes(4); }},
      {"on_site_job_estimate", [&](auto& p) { *p.mutable_on_site_job_estimate() = minutes(481); }},
      {"suspend_below_diagnosis_accuracy", [](auto& p) { p.set_suspend_below_diagnosis_accuracy(1.01); }},
      {"suspend_below_diagnosis_accuracy", [](auto& p) { p.set_suspend_below_diagnosis_accuracy(-0.01); }},
      {"max_attempts", [](auto& p) { p.set_max_attempts(0); }},
      {"max_attempts", [](auto& p) { p.set_max_attempts(101); }},
  };
  CHECK(ValidateDispatchPolicy(TestPolicy()).ok());
  for (const Case& c : cases) {
    v1::DispatchPolicy p = TestPolicy();
    c.spoil(p);
    const absl::Status s = ValidateDispatchPolicy(p);
    INFO(c.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(c.field) + ":"));
  }
}

TEST_CASE("policy limits are inclusive") {
  v1::DispatchPolicy p = TestPolicy();
  *p.mutable_offer_timeout_emergency() = rpc::ToProto(absl::Minutes(1));
  *p.mutable_offer_timeout_default() = rpc::ToProto(absl::Hours(2));
  p.mutable_weights()->Clear();
  p.mutable_weights()->set_rating(1);
  p.set_road_factor(3);
  p.set_speed_kmh(150);
  p.mutable_default_capacity()->set_max_active(10);
  p.mutable_default_capacity()->set_max_queued(0);
  *p.mutable_location_stale_after() = rpc::ToProto(absl::Hours(24));
  *p.mutable_on_site_job_estimate() = rpc::ToProto(absl::Minutes(5));
  p.set_suspend_below_diagnosis_accuracy(0);
  p.set_max_attempts(100);
  CHECK(ValidateDispatchPolicy(p).ok());
  p.set_road_factor(1);
  p.set_max_attempts(1);
  p.set_suspend_below_diagnosis_accuracy(1);
  *p.mutable_on_site_job_estimate() = rpc::ToProto(absl::Hours(8));
  CHECK(ValidateDispatchPolicy(p).ok());
}

TEST_CASE("policy text errors give line and column") {
  const absl::StatusOr<v1::DispatchPolicy> typo =
      ParseDispatchPolicy("ref { name: \"dispatch\" version: \"v1\" }\nroad_factr: 1.3\n");
  REQUIRE_FALSE(typo.ok());
  INFO(typo.status());
  CHECK(typo.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(typo.status().message(), "policy: line 2 column "));
  CHECK(absl::StrContains(typo.status().message(), "road_factr"));

  const absl::StatusOr<v1::DispatchPolicy> type =
      ParseDispatchPolicy("max_attempts: \"ten\"\n");
  REQUIRE_FALSE(type.ok());
  CHECK(absl::StartsWith(type.status().message(), "policy: line 1 column 15"));

  // Parsed, then validated completely.
  std::string text = kPolicyText;
  text.replace(text.find("speed_kmh: 30"), 13, "speed_kmh: 200");
  const absl::StatusOr<v1::DispatchPolicy> invalid = ParseDispatchPolicy(text);
  REQUIRE_FALSE(invalid.ok());
  CHECK(absl::StartsWith(invalid.status().message(), "speed_kmh:"));
}

TEST_CASE("the shipped dispatch policy loads with the SPEC defaults") {
  const std::string text =
      testing::ReadFileOrEmpty(testing::SourcePath("deploy/policies/dispatch.textproto"));
  REQUIRE_FALSE(text.empty());
  const absl::StatusOr<v1::DispatchPolicy> p = ParseDispatchPolicy(text);
  INFO(p.status());
  REQUIRE(p.ok());
  CHECK(p->ref().name() == "dispatch");
  CHECK(p->ref().version() == "2026-11-22.1");
  CHECK(rpc::FromProto(p->offer_timeout_emergency()) == absl::Minutes(5));
  CHECK(rpc::FromProto(p->offer_timeout_default()) == absl::Minutes(10));
  CHECK(p->weights().arrival_slack() == 0.4);
  CHECK(p->weights().rating() == 0.2);
  CHECK(p->weights().first_time_fix() == 0.2);
  CHECK(p->weights().workload_balance() == 0.1);
  CHECK(p->weights().partner_preference() == 0.1);
  CHECK(p->road_factor() == 1.3);
  CHECK(p->speed_kmh() == 30);
  CHECK(p->default_capacity().max_active() == 1);
  CHECK(p->default_capacity().max_queued() == 3);
  CHECK(rpc::FromProto(p->location_stale_after()) == absl::Minutes(30));
  CHECK(rpc::FromProto(p->on_site_job_estimate()) == absl::Minutes(60));
  CHECK(p->suspend_below_diagnosis_accuracy() == 0.9);
  CHECK(p->max_attempts() == 10);
}

// ---------------------------------------------------------------------------
// Engineer validation
// ---------------------------------------------------------------------------

TEST_CASE("a complete engineer is valid") {
  v1::Engineer e = BaseEngineer();
  CHECK(ValidateEngineer(e, "engineer").ok());
  *e.mutable_coverage()->mutable_center() = P(31.2, 121.4);
  e.mutable_coverage()->set_radius_km(500);
  for (const v1::GeoPoint& p : {P(31.0, 121.2), P(31.0, 121.6), P(31.4, 121.4)}) {
    *e.mutable_coverage()->add_polygon() = p;
  }
  e.mutable_capacity()->set_max_active(10);
  e.mutable_capacity()->set_max_queued(20);
  v1::ShiftException* x = e.mutable_shifts()->add_exceptions();
  x->mutable_date()->set_year(2028);
  x->mutable_date()->set_month(2);
  x->mutable_date()->set_day(29);  // a leap day
  x->set_off(true);
  CHECK(ValidateEngineer(e, "engineer").ok());
  e.clear_shifts();
  e.clear_location();
  e.clear_capacity();  // 0 = the policy default
  CHECK(ValidateEngineer(e, "engineer").ok());
}

TEST_CASE("engineer validation names the offending field") {
  struct Case {
    const char* field;
    std::function<void(v1::Engineer&)> spoil;
  };
  auto exception = [](v1::Engineer& e, int y, int m, int d) {
    v1::ShiftException* x = e.mutable_shifts()->add_exceptions();
    x->mutable_date()->set_year(y);
    x->mutable_date()->set_month(m);
    x->mutable_date()->set_day(d);
    x->set_off(true);
    return x;
  };
  const std::vector<Case> cases = {
      {"engineer.engineer_id", [](auto& e) { e.clear_engineer_id(); }},
      {"engineer.engineer_id", [](auto& e) { e.set_engineer_id("E 1"); }},
      {"engineer.engineer_id", [](auto& e) { e.set_engineer_id(std::string(65, 'e')); }},
      {"engineer.partner_id", [](auto& e) { e.clear_partner_id(); }},
      {"engineer.home_outlet_id", [](auto& e) { e.set_home_outlet_id("out\tlet"); }},
      {"engineer.display_name", [](auto& e) { e.clear_display_name(); }},
      {"engineer.display_name", [](auto& e) { e.set_display_name(std::string(65, 'n')); }},
      {"engineer.phone", [](auto& e) { e.set_phone(std::string(33, '1')); }},
      {"engineer.status", [](auto& e) { e.set_status(static_cast<v1::EngineerStatus>(9)); }},
      {"engineer.skills", [](auto& e) { e.clear_skills(); }},
      {"engineer.skills",
       [](auto& e) {
         for (int i = 0; i < 50; ++i) {
           v1::Skill* s = e.add_skills();
           s->set_appliance_category(absl::StrCat("C", i));
           s->set_level(v1::CERTIFICATION_LEVEL_JUNIOR);
         }
       }},
      {"engineer.skills[0].appliance_category",
       [](auto& e) { e.mutable_skills(0)->clear_appliance_category(); }},
      {"engineer.skills[0].level",
       [](auto& e) { e.mutable_skills(0)->set_level(v1::CERTIFICATION_LEVEL_UNSPECIFIED); }},
      {"engineer.skills[0].level",
       [](auto& e) { e.mutable_skills(0)->set_level(static_cast<v1::CertificationLevel>(7)); }},
      {"engineer.skills[0].brands[1]", [](auto& e) { e.mutable_skills(0)->add_brands("  "); }},
      {"engineer.skills[1].appliance_category",
       [](auto& e) { *e.add_skills() = e.skills(0); }},
      {"engineer.coverage.region_codes",
       [](auto& e) {
         for (int i = 0; i < 64; ++i) e.mutable_coverage()->add_region_codes(absl::StrCat("R", i));
       }},
      {"engineer.coverage.region_codes[0]",
       [](auto& e) { e.mutable_coverage()->set_region_codes(0, ""); }},
      {"engineer.coverage.radius_km", [](auto& e) { e.mutable_coverage()->set_radius_km(500.1); }},
      {"engineer.coverage.radius_km", [](auto& e) { e.mutable_coverage()->set_radius_km(-1); }},
      {"engineer.coverage.center", [](auto& e) { e.mutable_coverage()->set_radius_km(5); }},
      {"engineer.coverage.center.lat_deg",
       [](auto& e) {
         e.mutable_coverage()->set_radius_km(5);
         *e.mutable_coverage()->mutable_center() = P(91, 0);
       }},
      {"engineer.coverage.polygon",
       [](auto& e) {
         *e.mutable_coverage()->add_polygon() = P(31, 121);
         *e.mutable_coverage()->add_polygon() = P(31.1, 121);
       }},
      {"engineer.coverage.polygon",
       [](auto& e) {
         for (int i = 0; i < 257; ++i) *e.mutable_coverage()->add_polygon() = P(31, 121 + i * 1e-3);
       }},
      {"engineer.coverage.polygon[1].lng_deg",
       [](auto& e) {
         *e.mutable_coverage()->add_polygon() = P(31, 121);
         *e.mutable_coverage()->add_polygon() = P(31, 181);
         *e.mutable_coverage()->add_polygon() = P(31.1, 121);
       }},
      {"engineer.coverage.polygon[3]",
       [](auto& e) {
         for (const v1::GeoPoint& p : {P(31, 121), P(31, 121.1), P(31.1, 121), P(31, 121)}) {
           *e.mutable_coverage()->add_polygon() = p;
         }
       }},
      {"engineer.shifts.time_zone", [](auto& e) { e.mutable_shifts()->clear_time_zone(); }},
      {"engineer.shifts.time_zone",
       [](auto& e) { e.mutable_shifts()->set_time_zone("Mars/Olympus_Mons"); }},
      {"engineer.shifts.weekly",
       [](auto& e) {
         for (int i = 0; i < 15; ++i) *e.mutable_shifts()->add_weekly() = e.shifts().weekly(0);
       }},
      {"engineer.shifts.weekly[0].iso_weekday",
       [](auto& e) { e.mutable_shifts()->mutable_weekly(0)->set_iso_weekday(0); }},
      {"engineer.shifts.weekly[6].iso_weekday",
       [](auto& e) { e.mutable_shifts()->mutable_weekly(6)->set_iso_weekday(8); }},
      {"engineer.shifts.weekly[0].start_minute",
       [](auto& e) { e.mutable_shifts()->mutable_weekly(0)->set_start_minute(-1); }},
      {"engineer.shifts.weekly[0].end_minute",
       [](auto& e) { e.mutable_shifts()->mutable_weekly(0)->set_end_minute(8 * 60); }},
      {"engineer.shifts.weekly[0].end_minute",
       [](auto& e) { e.mutable_shifts()->mutable_weekly(0)->set_end_minute(1441); }},
      {"engineer.shifts.exceptions[0].date",
       [&](auto& e) { exception(e, 2026, 2, 29); }},  // not a leap year
      {"engineer.shifts.exceptions[0].date", [&](auto& e) { exception(e, 2026, 13, 1); }},
      {"engineer.shifts.exceptions[0].date",
       [&](auto& e) { exception(e, 2026, 12, 1)->clear_date(); }},
      {"engineer.shifts.exceptions[1].date",
       [&](auto& e) {
         exception(e, 2026, 12, 1);
         exception(e, 2026, 12, 1);
       }},
      {"engineer.shifts.exceptions[0].end_minute",
       [&](auto& e) {
         v1::ShiftException* x = exception(e, 2026, 12, 1);
         x->set_off(false);
         x->set_start_minute(600);
         x->set_end_minute(600);
       }},
      {"engineer.capacity.max_active", [](auto& e) { e.mutable_capacity()->set_max_active(11); }},
      {"engineer.capacity.max_active", [](auto& e) { e.mutable_capacity()->set_max_active(-1); }},
      {"engineer.capacity.max_queued", [](auto& e) { e.mutable_capacity()->set_max_queued(21); }},
      {"engineer.location.lat_deg", [](auto& e) { e.mutable_location()->set_lat_deg(-90.5); }},
      {"engineer.location.lng_deg", [](auto& e) { e.mutable_location()->set_lng_deg(180.5); }},
      {"engineer.rating", [](auto& e) { e.set_rating(5.5); }},
      {"engineer.first_time_fix_rate", [](auto& e) { e.set_first_time_fix_rate(1.5); }},
  };
  for (const Case& c : cases) {
    v1::Engineer e = BaseEngineer();
    c.spoil(e);
    const absl::Status s = ValidateEngineer(e, "engineer");
    INFO(c.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(c.field) + ":"));
  }
  v1::Engineer e = BaseEngineer();
  e.mutable_skills(0)->set_level(v1::CERTIFICATION_LEVEL_UNSPECIFIED);
  CHECK(ValidateEngineer(e, "engineer").message() == "engineer.skills[0].level: required");
  CHECK(ValidateEngineer(e, "request.engineer").message() ==
        "request.engineer.skills[0].level: required");
}

}  // namespace
}  // namespace aftersales::dispatch::domain

// ---------------------------------------------------------------------------
// The decision's fast path (ScoreOf, Eligible, RankedBefore, OnShiftWithin)
// against the explained path (Evaluate, FailedConstraints, Rank,
// ShiftsBetween) on a seeded mix of engineers and orders.
// ---------------------------------------------------------------------------

namespace aftersales::dispatch::domain {
namespace {

TEST_CASE("scoring without explanations ranks and scores exactly as Evaluate and Rank") {
  std::mt19937 rng(7);
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  auto unit = [&] { return rng() / 4294967296.0; };
  const v1::DispatchPolicy policy = TestPolicy();
  std::vector<v1::Partner> partners(3, PartnerA());
  partners[1].set_partner_id("PB");
  partners[1].clear_allowed_brands();
  partners[1].set_preference(0);
  partners[2].set_partner_id("PC");
  partners[2].set_preference(0.35);
  const char* categories[] = {"FRIDGE", "WASHER"};
  const char* brands[] = {"Haier", " haier", "Midea", ""};
  size_t compared = 0, eligible_seen = 0, ties = 0;
  for (int round = 0; round < 40; ++round) {
    v1::DispatchOrder order = BaseOrder();
    order.set_appliance_category(categories[below(2)]);
    order.set_appliance_brand(brands[below(4)]);
    order.set_complexity(below(3) == 0 ? v1::FAULT_COMPLEXITY_COMPLEX
                                       : v1::FAULT_COMPLEXITY_SIMPLE);
    if (below(5) == 0) order.clear_arrival_deadline();
    if (below(6) == 0) *order.mutable_dispatch_deadline() = rpc::ToProto(Now() - absl::Minutes(1));
    std::vector<v1::Engineer> engineers;
    std::vector<Situation> situations;
    engineers.reserve(30);
    for (int i = 0; i < 30; ++i) {
      v1::Engineer e = BaseEngineer(absl::StrCat("E", 100 + i));
      const int p = below(3);
      e.set_partner_id(partners[p].partner_id());
      e.mutable_skills(0)->set_appliance_category(categories[below(2)]);
      e.mutable_skills(0)->set_level(static_cast<v1::CertificationLevel>(1 + below(3)));
      if (below(3) == 0) e.mutable_skills(0)->clear_brands();
      e.set_cross_brand(below(2) == 0);
      if (below(4) == 0) *e.mutable_shifts() = EveryDay(11 * 60, 13 * 60);
      if (below(5) == 0) e.clear_shifts();
      if (below(8) == 0 && e.shifts().weekly_size() > 0) {
        e.mutable_shifts()->mutable_weekly(0)->set_iso_weekday(1 + below(7));
      }
      e.mutable_location()->set_lat_deg(31.2304 + (unit() - 0.5) * 0.2);
      e.mutable_location()->set_lng_deg(121.4737 + (unit() - 0.5) * 0.2);
      // A few share a position and numbers, so ties reach the later keys.
      if (i > 0 && below(6) == 0) {
        *e.mutable_location() = engineers.back().location();
        e.set_rating(engineers.back().rating());
        e.set_first_time_fix_rate(engineers.back().first_time_fix_rate());
      } else {
        e.set_rating(1 + below(5));
        e.set_first_time_fix_rate(0.25 * below(5));
      }
      e.set_rating_count(below(3));
      e.set_backup(below(10) == 0);
      if (below(12) == 0) e.set_status(v1::ENGINEER_STATUS_OFF_DUTY);
      Situation s;
      s.now = Now();
      s.policy = &policy;
      s.partner = &partners[p];
      s.load.active = below(2);
      s.load.queued = below(2);
      s.load.pending_offers = below(2);
      s.load.jobs_today = below(4);
      s.peer_jobs_today = 1.5;
      s.past_dispatch_deadline = order.dispatch_deadline().seconds() < absl::ToUnixSeconds(Now());
      s.neighbour_region = s.past_dispatch_deadline && below(2) == 0;
      engineers.push_back(e);
      situations.push_back(s);
    }
    std::vector<v1::Candidate> explained;
    std::vector<Score> scores;
    for (size_t i = 0; i < engineers.size(); ++i) {
      explained.push_back(Evaluate(engineers[i], order, situations[i]));
      scores.push_back(ScoreOf(engineers[i], order, situations[i]));
      const v1::Candidate& c = explained.back();
      const Score& s = scores.back();
      INFO("round " << round << " " << c.ShortDebugString());
      CHECK(Eligible(engineers[i], order, situations[i]) == c.eligible());
      CHECK(s.eligible == c.eligible());
      CHECK(*s.engineer_id == c.engineer_id());
      if (c.eligible()) {
        ++eligible_seen;
        CHECK(s.total == c.total_score());  // bit-identical, not approximately
        CHECK(s.slack == rpc::FromProto(c.slack()));
      }
      const absl::Time until = Now() + absl::Hours(3);
      CHECK(OnShiftWithin(engineers[i].shifts(), Now(), until) ==
            !ShiftsBetween(engineers[i].shifts(), Now(), until).empty());
    }
    Rank(explained);
    std::sort(scores.begin(), scores.end(), RankedBefore);
    REQUIRE(scores.size() == explained.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      CHECK(*scores[i].engineer_id == explained[i].engineer_id());
      ++compared;
      if (i > 0 && scores[i].eligible && scores[i - 1].total == scores[i].total) ++ties;
    }
  }
  CHECK(compared == 40 * 30);
  CHECK(eligible_seen > 100);  // the mix reaches the ranking, not only the constraints
  CHECK(ties > 0);             // and the tie-breaks
}

}  // namespace
}  // namespace aftersales::dispatch::domain
