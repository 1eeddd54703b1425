// The complaint lifecycle, deadline escalation, mass-impact regrades and the
// statistics, as pure functions over records and a given time (SPEC §5).
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "complaint/domain/grading.h"
#include "complaint/domain/lifecycle.h"
#include "complaint/domain/policy.h"
#include "complaint/domain/stats.h"
#include "rpc/rpc.h"

namespace aftersales::complaint::domain {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1795400000);

const v1::ComplaintPolicy& Shipped() {
  static const v1::ComplaintPolicy policy = [] {
    std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) + "/deploy/policies/complaint.textproto");
    std::stringstream text;
    text << in.rdbuf();
    auto p = ParseComplaintPolicy(text.str());
    if (!p.ok()) FAIL("shipped policy: " << p.status());
    return *p;
  }();
  return policy;
}

Context At(absl::Time t, const std::string& who = "agent-1") {
  Context ctx;
  ctx.now = t;
  ctx.actor.set_principal_id(who);
  ctx.actor.set_role(v1::ROLE_AGENT);
  ctx.policy = &Shipped();
  return ctx;
}

v1::FileComplaintRequest Request(const std::string& text,
                                 v1::ComplaintCategory category = v1::COMPLAINT_CATEGORY_UNSPECIFIED) {
  v1::FileComplaintRequest r;
  r.set_request_id("req-1");
  r.set_customer_id("C1");
  r.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
  r.set_text(text);
  r.set_category(category);
  return r;
}

Change File(const v1::FileComplaintRequest& r, absl::Time t = kT0,
            const v1::LinkedOrderContext* order = nullptr) {
  GradeInput in;
  in.text = r.text();
  in.category = r.category();
  in.channel = r.channel();
  in.order = order;
  in.tier = r.customer_tier() == v1::CUSTOMER_TIER_UNSPECIFIED ? v1::CUSTOMER_TIER_STANDARD
                                                                : r.customer_tier();
  const v1::GradingResult g = Grade(in, Shipped(), t);
  return FileNew(r, "CP-1", g, order, At(t));
}

int Count(const std::vector<v1::Event>& events, v1::Event::BodyCase body) {
  int n = 0;
  for (const auto& e : events) n += e.body_case() == body;
  return n;
}

// The G2 fee dispute most tests walk through.
v1::Complaint FeeDispute() { return File(Request("师傅乱收费，换个配件收了我800块")).complaint; }

TEST_CASE("lifecycle: filing starts both clocks with the grade's budgets and says so") {
  v1::LinkedOrderContext order;
  order.set_order_id("WO-1");
  order.set_known(true);
  order.set_region_code("CN-310000");
  order.set_partner_id("PA");
  order.set_appliance_model("BCD-520W");
  order.set_customer_tier(v1::CUSTOMER_TIER_STANDARD);
  auto r = Request("师傅乱收费，换个配件收了我800块");
  r.set_order_id("WO-1");
  const Change c = File(r, kT0, &order);
  const v1::Complaint& x = c.complaint;
  CHECK(x.state() == v1::COMPLAINT_STATE_FILED);
  CHECK(x.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(x.category() == v1::COMPLAINT_CATEGORY_FEE_DISPUTE);
  CHECK(x.owner_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  CHECK(x.version() == 1);
  CHECK(x.region_code() == "CN-310000");
  CHECK(x.partner_id() == "PA");
  CHECK(x.appliance_model() == "BCD-520W");
  CHECK(x.order_context().order_id() == "WO-1");
  CHECK(x.policy().name() == "complaint");
  REQUIRE(x.clocks_size() == 2);
  CHECK(x.clocks(0).kind() == v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE);
  CHECK(x.clocks(0).calendar() == v1::SLA_CALENDAR_WALL_24X7);
  CHECK(rpc::FromProto(x.clocks(0).deadline()) == kT0 + absl::Hours(4));
  CHECK(x.clocks(1).kind() == v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE);
  CHECK(rpc::FromProto(x.clocks(1).deadline()) == kT0 + absl::Hours(120));
  CHECK(NextSweep(x, Shipped()) == kT0 + absl::Hours(3));  // 75% of 4 h
  REQUIRE(c.events.size() == 2);
  const auto& filed = c.events[0].complaint_filed();
  CHECK(c.events[0].producer() == "complaint");
  CHECK(c.events[0].subject_id() == "CP-1");
  CHECK(filed.order_id() == "WO-1");
  CHECK(filed.customer_id() == "C1");
  CHECK(filed.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(filed.partner_id() == "PA");
  const auto& graded = c.events[1].complaint_graded();
  CHECK(graded.from_grade() == v1::COMPLAINT_GRADE_UNSPECIFIED);
  CHECK(graded.to_grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(std::vector<std::string>(graded.rule_ids().begin(), graded.rule_ids().end()) ==
        std::vector<std::string>{"fee_dispute"});
  for (const auto& e : c.events) CHECK_FALSE(absl::StrContains(e.DebugString(), "乱收费"));
}

TEST_CASE("lifecycle: strong emotion escalates at once (SPEC 7.2)") {
  const Change c = File(Request("我真的很失望，等了三天都没人来"));
  CHECK(c.complaint.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(c.complaint.owner_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  REQUIRE(c.complaint.escalations_size() == 1);
  CHECK(c.complaint.escalations(0).from_level() == v1::OWNER_LEVEL_CUSTOMER_SERVICE);
  CHECK(c.complaint.escalations(0).to_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  CHECK(c.complaint.escalations(0).reason() == v1::ESCALATION_REASON_STRONG_EMOTION);
  CHECK(Count(c.events, v1::Event::kComplaintEscalated) == 1);
  // Without emotion: no escalation at filing.
  const Change plain = File(Request("等了三天都没人来"));
  CHECK(plain.complaint.escalations_size() == 0);
  CHECK(Count(plain.events, v1::Event::kComplaintEscalated) == 0);
}

TEST_CASE("lifecycle: filed, acknowledged, investigated, resolved with compensation, closed") {
  v1::Complaint c = FeeDispute();
  auto ack = Acknowledge(c, "manager-7", "calling the customer", At(kT0 + absl::Hours(1)));
  REQUIRE(ack.ok());
  c = ack->complaint;
  CHECK(c.state() == v1::COMPLAINT_STATE_ACKNOWLEDGED);
  CHECK(c.owner_id() == "manager-7");
  CHECK(c.version() == 2);
  CHECK(LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE)->outcome() == v1::SLA_OUTCOME_MET);
  CHECK(ack->events.empty());

  auto inv = StartInvestigation(c, "", At(kT0 + absl::Hours(2)));
  REQUIRE(inv.ok());
  c = inv->complaint;
  CHECK(c.state() == v1::COMPLAINT_STATE_INVESTIGATING);
  CHECK(rpc::FromProto(c.investigation().started_at()) == kT0 + absl::Hours(2));

  v1::ComplaintInvestigation findings;
  findings.set_root_cause("Part price list not shown before replacing the pump");
  findings.set_responsible_party(v1::RESPONSIBLE_PARTY_PARTNER);
  findings.set_responsible_id("PA");
  findings.set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
  v1::ComplaintResolution resolution;
  resolution.set_type(v1::RESOLUTION_TYPE_COMPENSATE);
  resolution.set_description("Refund the difference and 200 points");
  resolution.mutable_compensation()->set_points(200);
  auto res = Resolve(c, findings, resolution, At(kT0 + absl::Hours(30)));
  REQUIRE(res.ok());
  c = res->complaint;
  CHECK(c.state() == v1::COMPLAINT_STATE_RESOLVED);
  CHECK(rpc::FromProto(c.investigation().started_at()) == kT0 + absl::Hours(2));
  CHECK(c.investigation().root_cause() == findings.root_cause());
  CHECK(rpc::FromProto(c.resolution().resolved_at()) == kT0 + absl::Hours(30));
  CHECK(c.resolution().actor().principal_id() == "agent-1");
  const v1::SlaClock* resolve = LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE);
  CHECK(resolve->outcome() == v1::SLA_OUTCOME_MET);
  CHECK(rpc::FromProto(resolve->stopped_at()) == kT0 + absl::Hours(30));
  REQUIRE(res->events.size() == 1);
  const auto& r = res->events[0].complaint_resolved();
  CHECK(r.complaint_id() == "CP-1");
  CHECK(r.customer_id() == "C1");
  CHECK(r.resolution() == v1::RESOLUTION_TYPE_COMPENSATE);
  CHECK(r.compensation().points() == 200);
  CHECK(r.responsible_party() == v1::RESPONSIBLE_PARTY_PARTNER);
  CHECK(r.policy().name() == "complaint");
  CHECK(NextSweep(c, Shipped()) == absl::InfiniteFuture());

  auto closed = Close(c, "customer confirmed by phone", At(kT0 + absl::Hours(31)));
  REQUIRE(closed.ok());
  c = closed->complaint;
  CHECK(c.state() == v1::COMPLAINT_STATE_CLOSED);
  CHECK(c.customer_confirmed());
  CHECK(rpc::FromProto(c.closed_at()) == kT0 + absl::Hours(31));
  REQUIRE(c.transitions_size() == 5);
  CHECK(c.transitions(4).from_state() == v1::COMPLAINT_STATE_RESOLVED);
  CHECK(c.transitions(4).to_state() == v1::COMPLAINT_STATE_CLOSED);
  CHECK(c.transitions(4).actor().reason() == "customer confirmed by phone");
}

TEST_CASE("lifecycle: an appeal reopens with a new resolve clock") {
  v1::Complaint c = FeeDispute();
  c = Acknowledge(c, "", "", At(kT0))->complaint;
  c = StartInvestigation(c, "", At(kT0))->complaint;
  v1::ComplaintInvestigation f;
  f.set_root_cause("x");
  f.set_responsible_party(v1::RESPONSIBLE_PARTY_ENGINEER);
  f.set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
  v1::ComplaintResolution r;
  r.set_type(v1::RESOLUTION_TYPE_EXPLAIN);
  r.set_description("explained the price list");
  c = Resolve(c, f, r, At(kT0 + absl::Hours(5)))->complaint;
  c = Close(c, "", At(kT0 + absl::Hours(6)))->complaint;
  auto reopened = Reopen(c, "the explanation is wrong", At(kT0 + absl::Hours(10)));
  REQUIRE(reopened.ok());
  c = reopened->complaint;
  CHECK(c.state() == v1::COMPLAINT_STATE_REOPENED);
  CHECK(c.reopen_count() == 1);
  CHECK_FALSE(c.customer_confirmed());
  CHECK_FALSE(c.has_closed_at());
  REQUIRE(c.appeals_size() == 1);
  CHECK(c.appeals(0).reason() == "the explanation is wrong");
  REQUIRE(c.clocks_size() == 3);
  const v1::SlaClock* resolve = LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE);
  CHECK(resolve->outcome() == v1::SLA_OUTCOME_RUNNING);
  CHECK(rpc::FromProto(resolve->deadline()) == kT0 + absl::Hours(10) + absl::Hours(120));
  CHECK(c.clocks(1).outcome() == v1::SLA_OUTCOME_MET);  // the first resolve clock keeps its outcome
  // Investigated again, then resolved again.
  c = StartInvestigation(c, "", At(kT0 + absl::Hours(11)))->complaint;
  CHECK(c.state() == v1::COMPLAINT_STATE_INVESTIGATING);
  c = Resolve(c, f, r, At(kT0 + absl::Hours(12)))->complaint;
  CHECK(LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE)->outcome() == v1::SLA_OUTCOME_MET);
  // Reopen straight from RESOLVED works too.
  CHECK(Reopen(c, "again", At(kT0 + absl::Hours(13))).ok());
}

TEST_CASE("lifecycle: illegal steps are FAILED_PRECONDITION naming the current state") {
  const v1::Complaint filed = FeeDispute();
  struct Step {
    const char* name;
    std::function<absl::StatusOr<Change>(const v1::Complaint&)> run;
  };
  v1::ComplaintInvestigation f;
  v1::ComplaintResolution r;
  const std::vector<Step> from_filed = {
      {"StartInvestigation", [](const auto& c) { return StartInvestigation(c, "", At(kT0)); }},
      {"Resolve", [&](const auto& c) { return Resolve(c, f, r, At(kT0)); }},
      {"Close", [](const auto& c) { return Close(c, "", At(kT0)); }},
      {"Reopen", [](const auto& c) { return Reopen(c, "x", At(kT0)); }},
  };
  for (const Step& s : from_filed) {
    auto out = s.run(filed);
    INFO(s.name);
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(out.status().message(), "complaint is FILED"));
  }
  const v1::Complaint acked = Acknowledge(filed, "", "", At(kT0))->complaint;
  auto again = Acknowledge(acked, "", "", At(kT0));
  REQUIRE_FALSE(again.ok());
  CHECK(absl::StrContains(again.status().message(), "complaint is ACKNOWLEDGED"));
}

TEST_CASE("lifecycle: an unacknowledged G2 escalates exactly once at 4 h") {
  v1::Complaint c = FeeDispute();
  REQUIRE(c.owner_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  // 3 h: at risk (75%), no escalation.
  Change at_risk = Sweep(c, At(kT0 + absl::Hours(3), "system"));
  CHECK(at_risk.changed);
  CHECK(at_risk.became_at_risk == std::vector<v1::SlaClockKind>{v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE});
  CHECK(at_risk.events.empty());
  c = at_risk.complaint;
  CHECK(NextSweep(c, Shipped()) == kT0 + absl::Hours(4));
  // A second before the deadline: nothing.
  Change early = Sweep(c, At(kT0 + absl::Hours(4) - absl::Seconds(1)));
  CHECK_FALSE(early.changed);
  CHECK(early.events.empty());
  // At 4 h: one escalation, manager -> special team.
  Change missed = Sweep(c, At(kT0 + absl::Hours(4)));
  REQUIRE(missed.changed);
  c = missed.complaint;
  CHECK(missed.became_breached == std::vector<v1::SlaClockKind>{v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE});
  REQUIRE(missed.events.size() == 1);
  const auto& e = missed.events[0].complaint_escalated();
  CHECK(e.from_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  CHECK(e.to_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
  CHECK(e.reason() == v1::ESCALATION_REASON_ACK_DEADLINE_MISSED);
  CHECK(e.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(c.owner_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
  CHECK(c.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);  // the grade does not change
  REQUIRE(c.escalations_size() == 1);
  CHECK(c.escalations(0).actor().role() == v1::ROLE_AGENT);
  CHECK(LatestClock(c, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE)->outcome() ==
        v1::SLA_OUTCOME_BREACHED);
  // Later sweeps before the resolve deadline's at-risk point: nothing more.
  Change later = Sweep(c, At(kT0 + absl::Hours(10)));
  CHECK_FALSE(later.changed);
  CHECK(later.events.empty());
  CHECK(NextSweep(c, Shipped()) == kT0 + absl::Hours(90));  // 75% of 120 h
  // Acknowledging late keeps the breach.
  auto ack = Acknowledge(c, "", "", At(kT0 + absl::Hours(5)));
  REQUIRE(ack.ok());
  CHECK(LatestClock(ack->complaint, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE)->outcome() ==
        v1::SLA_OUTCOME_BREACHED);
  // The resolve deadline missed too: one more level (special team -> emergency group).
  Change resolve_missed = Sweep(ack->complaint, At(kT0 + absl::Hours(121)));
  REQUIRE(resolve_missed.events.size() == 1);
  CHECK(resolve_missed.events[0].complaint_escalated().reason() ==
        v1::ESCALATION_REASON_RESOLVE_DEADLINE_MISSED);
  CHECK(resolve_missed.complaint.owner_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  // A late sweep reports at-risk and breach together.
  CHECK(resolve_missed.became_at_risk.size() == 1);
}

TEST_CASE("lifecycle: at the top of the ladder a miss is recorded, the level stays") {
  const Change g4 = File(Request("厨房里有煤气味"));
  REQUIRE(g4.complaint.owner_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  Change missed = Sweep(g4.complaint, At(kT0 + absl::Hours(1)));
  REQUIRE(missed.events.size() == 1);
  CHECK(missed.events[0].complaint_escalated().from_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(missed.events[0].complaint_escalated().to_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(missed.complaint.owner_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(missed.complaint.escalations_size() == 1);
}

TEST_CASE("lifecycle: mass impact found later raises grade and owner, never the deadlines") {
  const v1::Complaint c = File(Request("冰箱不制冷")).complaint;  // G1: ack 24 h, resolve 48 h
  REQUIRE(c.grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
  v1::FiredRule rule;
  rule.set_rule_id("same_model_cluster");
  rule.set_description("Mass impact");
  rule.set_effect(v1::RULE_EFFECT_FLOOR);
  rule.set_floor(v1::COMPLAINT_GRADE_G3_MAJOR);
  rule.add_evidence("model=BCD-520W");
  const Change up = ApplyFloorRule(c, rule, At(kT0 + absl::Hours(2)));
  REQUIRE(up.changed);
  const v1::Complaint& x = up.complaint;
  CHECK(x.grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  CHECK(x.grading().grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  REQUIRE(x.grading().rules_size() == 1);
  CHECK(x.grading().rules(0).grade_after() == v1::COMPLAINT_GRADE_G3_MAJOR);
  CHECK(x.owner_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
  // G3: ack 24 h (same), resolve 72 h (later than 48 h): both deadlines stay.
  CHECK(rpc::FromProto(LatestClock(x, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE)->deadline()) ==
        kT0 + absl::Hours(24));
  CHECK(rpc::FromProto(LatestClock(x, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE)->deadline()) ==
        kT0 + absl::Hours(48));
  CHECK(Count(up.events, v1::Event::kComplaintGraded) == 1);
  CHECK(up.events[0].complaint_graded().from_grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
  CHECK(up.events[0].complaint_graded().to_grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  REQUIRE(Count(up.events, v1::Event::kComplaintEscalated) == 1);
  CHECK(x.escalations(0).reason() == v1::ESCALATION_REASON_REGRADED);
  // Applying it again changes nothing; nor on a closed complaint.
  CHECK_FALSE(ApplyFloorRule(x, rule, At(kT0 + absl::Hours(3))).changed);
  // A G4 floor shortens the acknowledge deadline to 1 h from filing.
  rule.set_floor(v1::COMPLAINT_GRADE_G4_CRITICAL);
  const Change g4 = ApplyFloorRule(c, rule, At(kT0 + absl::Minutes(10)));
  CHECK(rpc::FromProto(LatestClock(g4.complaint, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE)->deadline()) ==
        kT0 + absl::Hours(1));
  v1::Complaint closed = c;
  closed.set_state(v1::COMPLAINT_STATE_CLOSED);
  CHECK_FALSE(ApplyFloorRule(closed, rule, At(kT0)).changed);
}

TEST_CASE("validation: filing and resolving name the bad field") {
  struct BadFile {
    const char* field;
    std::function<void(v1::FileComplaintRequest&)> spoil;
  };
  const std::vector<BadFile> bad_files = {
      {"request_id", [](auto& r) { r.clear_request_id(); }},
      {"request_id", [](auto& r) { r.set_request_id(std::string(129, 'r')); }},
      {"customer_id", [](auto& r) { r.set_customer_id("has space"); }},
      {"order_id", [](auto& r) { r.set_order_id(std::string(65, 'o')); }},
      {"channel", [](auto& r) { r.clear_channel(); }},
      {"channel", [](auto& r) { r.set_channel(static_cast<v1::ComplaintChannel>(77)); }},
      {"text", [](auto& r) { r.clear_text(); }},
      {"text", [](auto& r) { r.set_text("   "); }},
      {"text", [](auto& r) { r.set_text(std::string(8001, 'x')); }},
      {"text", [](auto& r) { r.set_text(std::string("bad\x01control")); }},
      {"category", [](auto& r) { r.set_category(static_cast<v1::ComplaintCategory>(42)); }},
      {"customer_tier", [](auto& r) { r.set_customer_tier(static_cast<v1::CustomerTier>(9)); }},
      {"appliance_model", [](auto& r) { r.set_appliance_model(std::string(65, 'm')); }},
      {"region_code", [](auto& r) { r.set_region_code("CN 31"); }},
      {"source_survey_id", [](auto& r) { r.set_source_survey_id(std::string(65, 's')); }},
  };
  REQUIRE(ValidateFileRequest(Request("ok")).ok());
  for (const auto& b : bad_files) {
    auto r = Request("ok");
    b.spoil(r);
    const absl::Status s = ValidateFileRequest(r);
    INFO(b.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(b.field) + ":"));
  }

  v1::ResolveComplaintRequest good;
  good.set_complaint_id("CP-1");
  good.mutable_investigation()->set_root_cause("cause");
  good.mutable_investigation()->set_responsible_party(v1::RESPONSIBLE_PARTY_ENGINEER);
  good.mutable_investigation()->set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
  good.mutable_resolution()->set_type(v1::RESOLUTION_TYPE_REPAIR);
  good.mutable_resolution()->set_description("repaired again");
  REQUIRE(ValidateResolveRequest(good).ok());
  struct BadResolve {
    const char* field;
    std::function<void(v1::ResolveComplaintRequest&)> spoil;
  };
  const std::vector<BadResolve> bad_resolves = {
      {"complaint_id", [](auto& r) { r.clear_complaint_id(); }},
      {"investigation", [](auto& r) { r.clear_investigation(); }},
      {"resolution", [](auto& r) { r.clear_resolution(); }},
      {"investigation.root_cause", [](auto& r) { r.mutable_investigation()->clear_root_cause(); }},
      {"investigation.responsible_party",
       [](auto& r) { r.mutable_investigation()->clear_responsible_party(); }},
      {"investigation.impact_scope", [](auto& r) { r.mutable_investigation()->clear_impact_scope(); }},
      {"investigation.impact_note",
       [](auto& r) { r.mutable_investigation()->set_impact_note(std::string(2001, 'n')); }},
      {"resolution.type", [](auto& r) { r.mutable_resolution()->clear_type(); }},
      {"resolution.description", [](auto& r) { r.mutable_resolution()->set_description(" "); }},
      {"resolution.compensation.points",
       [](auto& r) { r.mutable_resolution()->mutable_compensation()->set_points(0); }},
      {"resolution.compensation.money.currency_code",
       [](auto& r) {
         r.mutable_resolution()->mutable_compensation()->mutable_money()->set_currency_code("cny");
         r.mutable_resolution()->mutable_compensation()->mutable_money()->set_amount_minor(100);
       }},
      {"resolution.compensation.extended_warranty_days",
       [](auto& r) { r.mutable_resolution()->mutable_compensation()->set_extended_warranty_days(5000); }},
      {"resolution.compensation",
       [](auto& r) { r.mutable_resolution()->mutable_compensation(); }},
  };
  for (const auto& b : bad_resolves) {
    auto r = good;
    b.spoil(r);
    const absl::Status s = ValidateResolveRequest(r);
    INFO(b.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(b.field) + ":"));
  }
}

TEST_CASE("stats: per 1,000 orders, grades, times, reopen rate, breaches") {
  auto make = [](v1::ComplaintGrade grade, absl::Duration ack, absl::Duration resolve,
                 int reopens, bool ack_breached) {
    v1::Complaint c;
    c.set_grade(grade);
    auto* a = c.add_clocks();
    a->set_kind(v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE);
    *a->mutable_started_at() = rpc::ToProto(kT0);
    if (ack > absl::ZeroDuration()) *a->mutable_stopped_at() = rpc::ToProto(kT0 + ack);
    a->set_outcome(ack_breached ? v1::SLA_OUTCOME_BREACHED : v1::SLA_OUTCOME_MET);
    auto* r = c.add_clocks();
    r->set_kind(v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE);
    *r->mutable_started_at() = rpc::ToProto(kT0);
    r->set_outcome(v1::SLA_OUTCOME_RUNNING);
    if (resolve > absl::ZeroDuration()) {
      *r->mutable_stopped_at() = rpc::ToProto(kT0 + resolve);
      r->set_outcome(v1::SLA_OUTCOME_MET);
      c.mutable_resolution()->set_type(v1::RESOLUTION_TYPE_REPAIR);
    }
    c.set_reopen_count(reopens);
    return c;
  };
  const std::vector<v1::Complaint> cs = {
      make(v1::COMPLAINT_GRADE_G1_GENERAL, absl::Hours(1), absl::Hours(10), 0, false),
      make(v1::COMPLAINT_GRADE_G2_SERIOUS, absl::Hours(3), absl::Hours(20), 1, false),
      make(v1::COMPLAINT_GRADE_G2_SERIOUS, absl::Hours(5), absl::Hours(30), 0, true),
      make(v1::COMPLAINT_GRADE_G4_CRITICAL, absl::ZeroDuration(), absl::ZeroDuration(), 0, false),
      make(v1::COMPLAINT_GRADE_G1_GENERAL, absl::Hours(2), absl::Hours(40), 0, false),
  };
  std::vector<StatsEntry> entries = {{&cs[0], "CN-310000"}, {&cs[1], "CN-310000"},
                                     {&cs[2], "CN-310000"}, {&cs[3], "CN-310000"},
                                     {&cs[4], "CN-110000"}};
  const auto rows = ComputeStats(entries, {{"CN-310000", 2000}, {"CN-110000", 0}});
  REQUIRE(rows.size() == 2);
  const auto& sh = rows[0];
  CHECK(sh.key() == "CN-310000");
  CHECK(sh.complaints() == 4);
  CHECK(sh.orders() == 2000);
  CHECK(sh.per_thousand_orders() == Approx(2.0));
  CHECK(std::vector<int64_t>(sh.by_grade().begin(), sh.by_grade().end()) ==
        std::vector<int64_t>{1, 2, 0, 1});
  CHECK(rpc::FromProto(sh.mean_acknowledge()) == absl::Hours(3));  // (1+3+5)/3
  CHECK(rpc::FromProto(sh.mean_resolve()) == absl::Hours(20));     // (10+20+30)/3
  CHECK(rpc::FromProto(sh.p90_resolve()) == absl::Hours(30));
  CHECK(sh.reopen_rate() == Approx(1.0 / 3.0));
  CHECK(sh.breaches() == 1);
  const auto& bj = rows[1];
  CHECK(bj.key() == "CN-110000");
  CHECK(bj.per_thousand_orders() == 0.0);  // no orders known
  CHECK(CategoryKey(v1::COMPLAINT_CATEGORY_FEE_DISPUTE) == "FEE_DISPUTE");
}

}  // namespace
}  // namespace aftersales::complaint::domain
