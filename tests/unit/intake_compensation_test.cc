#include <optional>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "intake/domain/compensation.h"
#include "rpc/rpc.h"

namespace aftersales::intake::domain {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'795'000'000);  // 2026-11-18

v1::CompensationPolicy DefaultPolicy() {
  v1::CompensationPolicy p;
  p.set_base_points(100);
  *p.mutable_lateness_step() = rpc::ToProto(absl::Minutes(15));
  p.set_percent_per_step(10);
  p.set_cap_percent(100);
  p.set_rework_warranty_multiplier(2);
  p.set_unmet_expectation_warranty_days(365);
  p.set_five_star_priority_levels(1);
  return p;
}

v1::PolicyRef Ref() {
  v1::PolicyRef ref;
  ref.set_name("intake");
  ref.set_version("2026-11-22.1");
  return ref;
}

v1::WorkOrder Order(const std::string& id = "WO1") {
  v1::WorkOrder o;
  o.set_order_id(id);
  o.set_customer_id("C100");
  o.set_state(v1::ORDER_STATE_ON_SITE);
  return o;
}

TEST_CASE("lateness points with the default policy") {
  struct Case {
    absl::Duration lateness;
    int64_t points;
  };
  const std::vector<Case> cases = {
      {absl::ZeroDuration(), 0},   {-absl::Minutes(20), 0},        {absl::Minutes(14), 0},
      {absl::Seconds(899), 0},     {absl::Minutes(15), 10},        {absl::Minutes(29), 10},
      {absl::Minutes(30), 20},     {absl::Minutes(44), 20},        {absl::Minutes(45), 30},
      {absl::Minutes(149), 90},    {absl::Minutes(150), 100},      {absl::Minutes(200), 100},
      {absl::Hours(24 * 30), 100}, {absl::InfiniteDuration(), 100},
  };
  for (const Case& c : cases) {
    INFO(absl::FormatDuration(c.lateness));
    CHECK(LatenessPoints(c.lateness, DefaultPolicy()) == c.points);
  }
}

TEST_CASE("lateness points with other numbers") {
  v1::CompensationPolicy p = DefaultPolicy();
  p.set_base_points(250);
  *p.mutable_lateness_step() = rpc::ToProto(absl::Minutes(10));
  p.set_percent_per_step(15);
  p.set_cap_percent(50);
  struct Case {
    absl::Duration lateness;
    int64_t points;
  };
  const std::vector<Case> cases = {
      {absl::Minutes(9), 0},    // under one step
      {absl::Minutes(10), 37},  // 15% of 250 = 37.5, rounded down
      {absl::Minutes(25), 75},  // 2 steps = 30%
      {absl::Minutes(30), 112}, // 45% = 112.5
      {absl::Minutes(40), 125}, // 60% capped at 50%
      {absl::Hours(10), 125},
  };
  for (const Case& c : cases) {
    INFO(absl::FormatDuration(c.lateness));
    CHECK(LatenessPoints(c.lateness, p) == c.points);
  }
  // A cap above 100% pays more than the base.
  p.set_cap_percent(200);
  CHECK(LatenessPoints(absl::Hours(10), p) == 500);
}

TEST_CASE("late arrival entries: keyed per order and reason, explained") {
  CHECK_FALSE(
      LateArrivalCompensation(Order(), absl::Minutes(14), DefaultPolicy(), Ref(), kNow));

  struct Case {
    absl::Duration lateness;
    int64_t points;
    const char* explanation;
  };
  for (const Case& c : std::vector<Case>{
           {absl::Minutes(15), 10, "15 min late: 1 x 10% of 100 points"},
           {absl::Minutes(44), 20, "44 min late: 2 x 10% of 100 points"},
           {absl::Minutes(45), 30, "45 min late: 3 x 10% of 100 points"},
           {absl::Minutes(200), 100, "200 min late: 13 x 10% of 100 points, capped at 100%"},
       }) {
    INFO(c.explanation);
    std::optional<v1::CompensationEntry> e =
        LateArrivalCompensation(Order(), c.lateness, DefaultPolicy(), Ref(), kNow);
    REQUIRE(e.has_value());
    CHECK(e->idempotency_key() == "WO1/LATE_ARRIVAL");
    CHECK(e->entry_id() == "WO1/LATE_ARRIVAL");
    CHECK(e->customer_id() == "C100");
    CHECK(e->order_id() == "WO1");
    CHECK(e->reason() == v1::COMPENSATION_REASON_LATE_ARRIVAL);
    CHECK(e->value().points() == c.points);
    CHECK(e->state() == v1::COMPENSATION_STATE_GRANTED);
    CHECK(e->policy().version() == "2026-11-22.1");
    CHECK(rpc::FromProto(e->granted_at()) == kNow);
    CHECK(e->source_ref() == "clock:ARRIVAL");
    CHECK(e->explanation() == c.explanation);
  }
}

TEST_CASE("idempotency keys are <order_id>/<REASON>") {
  struct Case {
    v1::CompensationReason reason;
    const char* key;
  };
  for (const Case& c : std::vector<Case>{
           {v1::COMPENSATION_REASON_LATE_ARRIVAL, "WO7/LATE_ARRIVAL"},
           {v1::COMPENSATION_REASON_REWORK_WARRANTY, "WO7/REWORK_WARRANTY"},
           {v1::COMPENSATION_REASON_UNMET_EXPECTATION, "WO7/UNMET_EXPECTATION"},
           {v1::COMPENSATION_REASON_PRIORITY_SERVICE_RIGHT, "WO7/PRIORITY_SERVICE_RIGHT"},
       }) {
    CHECK(CompensationKey("WO7", c.reason) == c.key);
  }
  // The same order and reason give the same key whatever the amount or time.
  auto a = LateArrivalCompensation(Order("WO7"), absl::Minutes(20), DefaultPolicy(), Ref(), kNow);
  auto b = LateArrivalCompensation(Order("WO7"), absl::Minutes(90), DefaultPolicy(), Ref(),
                                   kNow + absl::Hours(1));
  REQUIRE((a && b));
  CHECK(a->idempotency_key() == b->idempotency_key());
  CHECK(UnmetExpectationCompensation(Order("WO7"), DefaultPolicy(), Ref(), kNow)
            .idempotency_key() == "WO7/UNMET_EXPECTATION");
}

TEST_CASE("a rework doubles the reworked repair's warranty") {
  v1::WorkOrder reworked = Order("WO1");
  reworked.set_state(v1::ORDER_STATE_CLOSED);
  reworked.add_rework_order_ids("WO9");
  v1::CompensationEntry e =
      ReworkWarrantyCompensation(reworked, 90, DefaultPolicy(), Ref(), kNow);
  CHECK(e.idempotency_key() == "WO1/REWORK_WARRANTY");
  CHECK(e.order_id() == "WO1");
  CHECK(e.customer_id() == "C100");
  CHECK(e.reason() == v1::COMPENSATION_REASON_REWORK_WARRANTY);
  CHECK(e.value().extended_warranty_days() == 90);
  CHECK(e.state() == v1::COMPENSATION_STATE_GRANTED);
  CHECK(e.source_ref() == "rework:WO9");
  CHECK(e.explanation() == "rework of a repair with a 90-day warranty: warranty x2 adds 90 days");

  v1::CompensationPolicy triple = DefaultPolicy();
  triple.set_rework_warranty_multiplier(3);
  CHECK(ReworkWarrantyCompensation(reworked, 180, triple, Ref(), kNow)
            .value()
            .extended_warranty_days() == 360);
  CHECK(ReworkWarrantyCompensation(reworked, 3000, triple, Ref(), kNow)
            .value()
            .extended_warranty_days() == 3650);  // capped
  CHECK(ReworkWarrantyCompensation(Order("WO2"), 0, DefaultPolicy(), Ref(), kNow)
            .value()
            .extended_warranty_days() == 0);
}

TEST_CASE("unmet expectation: a proposed extended warranty") {
  v1::WorkOrder o = Order();
  o.mutable_expectation()->set_text("must be fixed today");
  *o.mutable_expectation()->mutable_deadline() =
      rpc::ToProto(absl::FromCivil(absl::CivilSecond(2026, 11, 22, 20, 0, 0), absl::UTCTimeZone()));
  v1::CompensationEntry e = UnmetExpectationCompensation(o, DefaultPolicy(), Ref(), kNow);
  CHECK(e.idempotency_key() == "WO1/UNMET_EXPECTATION");
  CHECK(e.reason() == v1::COMPENSATION_REASON_UNMET_EXPECTATION);
  CHECK(e.state() == v1::COMPENSATION_STATE_PROPOSED);
  CHECK(e.value().extended_warranty_days() == 365);
  CHECK(e.explanation() ==
        "stated expectation not met by its deadline 2026-11-22 20:00 UTC: proposing 365 days "
        "extended warranty");
}

TEST_CASE("five-star feedback grants a priority-service right") {
  v1::WorkOrder o = Order("WO3");
  o.set_state(v1::ORDER_STATE_FOLLOWED_UP);
  v1::CompensationEntry e = PriorityServiceRight(o, DefaultPolicy(), Ref(), kNow, "S9");
  CHECK(e.idempotency_key() == "WO3/PRIORITY_SERVICE_RIGHT");
  CHECK(e.reason() == v1::COMPENSATION_REASON_PRIORITY_SERVICE_RIGHT);
  CHECK(e.value().priority_levels() == 1);
  CHECK(e.state() == v1::COMPENSATION_STATE_GRANTED);
  CHECK(e.source_ref() == "survey:S9");
  CHECK(e.consumed_by_order_id().empty());
  v1::CompensationPolicy two = DefaultPolicy();
  two.set_five_star_priority_levels(2);
  CHECK(PriorityServiceRight(o, two, Ref(), kNow, "").value().priority_levels() == 2);
}

TEST_CASE("expectation unmet: deadline vs repair time or now") {
  const absl::Time deadline = kNow;
  struct Case {
    const char* name;
    v1::OrderState state;
    bool has_deadline;
    std::optional<absl::Time> repaired_at;        // repair.repaired_at
    std::optional<absl::Time> repaired_via_log;   // only a REPAIRED transition
    absl::Time now;
    bool unmet;
  };
  const absl::Duration m = absl::Minutes(1);
  const std::vector<Case> cases = {
      {"no expectation deadline", v1::ORDER_STATE_IN_REPAIR, false, {}, {}, deadline + 10 * m, false},
      {"open, before the deadline", v1::ORDER_STATE_IN_REPAIR, true, {}, {}, deadline - m, false},
      {"open, at the deadline", v1::ORDER_STATE_IN_REPAIR, true, {}, {}, deadline, false},
      {"open, past the deadline", v1::ORDER_STATE_WAITING_PARTS, true, {}, {}, deadline + m, true},
      {"repaired in time", v1::ORDER_STATE_REPAIRED, true, deadline - m, {}, deadline + 60 * m,
       false},
      {"repaired exactly at the deadline", v1::ORDER_STATE_CLOSED, true, deadline, {},
       deadline + 60 * m, false},
      {"repaired late", v1::ORDER_STATE_CONFIRMED, true, deadline + m, {}, deadline + 60 * m,
       true},
      {"repaired late, time from the transition log", v1::ORDER_STATE_FOLLOWED_UP, true, {},
       deadline + 5 * m, deadline + 60 * m, true},
      {"repaired in time, time from the transition log", v1::ORDER_STATE_REPAIRED, true, {},
       deadline - 5 * m, deadline + 60 * m, false},
      {"reopened after an in-time repair, now past it", v1::ORDER_STATE_REOPENED, true,
       deadline - m, {}, deadline + m, true},
      {"cancelled", v1::ORDER_STATE_CANCELLED, true, {}, {}, deadline + 60 * m, false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    v1::WorkOrder o = Order();
    o.set_state(c.state);
    o.mutable_expectation()->set_text("must be fixed today");
    if (c.has_deadline) *o.mutable_expectation()->mutable_deadline() = rpc::ToProto(deadline);
    if (c.repaired_at) *o.mutable_repair()->mutable_repaired_at() = rpc::ToProto(*c.repaired_at);
    if (c.repaired_via_log) {
      auto* t = o.add_transitions();
      t->set_from_state(v1::ORDER_STATE_IN_REPAIR);
      t->set_to_state(v1::ORDER_STATE_REPAIRED);
      *t->mutable_actor()->mutable_server_time() = rpc::ToProto(*c.repaired_via_log);
    }
    CHECK(ExpectationUnmet(o, c.now) == c.unmet);
  }
}

}  // namespace
}  // namespace aftersales::intake::domain
