// The complaint service as a real process on a manual clock: deadline
// escalation (also across a crash), the lifecycle over gRPC, idempotent
// filing, mass-impact regrades, order context and per-1,000-orders
// statistics from intake's stream (scripted: a real EventStream over a real
// store), policy reload, and bad input on every RPC.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/event_producer.h"
#include "support/grpc_probe.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::AllEvents;
using testing::Context;
using testing::Eventually;
using Code = grpc::StatusCode;

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    absl::LoadTimeZone("Asia/Shanghai", z);
    return z;
  }();
  return *zone;
}

// Monday 2030-03-04 10:00 in Shanghai: after any real "now" the tests run at,
// so a restarted manual clock can always be set forward to it.
const absl::Time kStart = absl::FromCivil(absl::CivilMinute(2030, 3, 4, 10, 0), Shanghai());

// Sum of the samples of `name` whose labels include every `labels` pair.
double MetricValue(const std::string& text, const std::string& name,
                   const std::vector<std::string>& labels) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name + "{") && !absl::StartsWith(line, name + " ")) continue;
    bool all = true;
    for (const auto& l : labels) all &= absl::StrContains(line, l);
    if (!all) continue;
    const size_t space = line.rfind(' ');
    double v = 0;
    if (absl::SimpleAtod(line.substr(space + 1), &v)) sum += v;
  }
  return sum;
}

struct ComplaintSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer intake{dir.Sub("scripted-intake"), &registry};
  std::unique_ptr<testing::ServiceProcess> complaint;
  std::unique_ptr<v1::ComplaintService::Stub> stub;

  ComplaintSuite() {
    intake.Up();
    testing::ServiceProcess::Options o;
    o.name = "complaint";
    o.data_dir = dir.Sub("complaint");
    o.tokens = &tokens;
    o.manual_clock = true;
    // Start the manual clock at kStart: it never moves back, so a suite that
    // only set it forward would fail once kStart has passed.
    o.extra_flags = {"--clock_start=" +
                     absl::FormatTime(absl::RFC3339_full, kStart, absl::UTCTimeZone())};
    o.peers["intake"] = intake.address();
    complaint = std::make_unique<testing::ServiceProcess>(o);
    stub = v1::ComplaintService::NewStub(complaint->channel());
    SetTime(kStart);
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void SetTime(absl::Time t) {
    v1::SetTimeRequest set;
    *set.mutable_now() = rpc::ToProto(t);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(complaint->channel())
                ->SetTime(Context(token("admin")).get(), set, &now)
                .ok());
  }

  void Advance(absl::Duration d) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(d);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(complaint->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  v1::FileComplaintResponse File(const v1::FileComplaintRequest& r,
                                 const std::string& who = "agent") {
    v1::FileComplaintResponse resp;
    grpc::Status s = stub->FileComplaint(Context(token(who)).get(), r, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  v1::Complaint Get(const std::string& id, const std::string& who = "agent") {
    v1::GetComplaintRequest req;
    req.set_complaint_id(id);
    v1::Complaint c;
    grpc::Status s = stub->GetComplaint(Context(token(who)).get(), req, &c);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return c;
  }

  v1::GradingResult GradeText(const v1::GradeTextRequest& r) {
    v1::GradingResult g;
    grpc::Status s = stub->GradeText(Context(token("agent")).get(), r, &g);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return g;
  }

  std::vector<v1::Complaint> List(v1::ListComplaintsRequest r, const std::string& who = "agent") {
    v1::ListComplaintsResponse resp;
    grpc::Status s = stub->ListComplaints(Context(token(who)).get(), r, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return {resp.complaints().begin(), resp.complaints().end()};
  }

  // Every event of complaint's log so far.
  std::vector<v1::Event> Events() {
    return AllEvents(complaint->channel(), token("service"));
  }

  uint64_t Head() {
    auto events = Events();
    return events.empty() ? 0 : events.back().seq();
  }

  // intake's OrderCreated for an order complaint should know.
  void OrderCreated(const std::string& order_id, const std::string& region,
                    const std::string& model, v1::CustomerTier tier = v1::CUSTOMER_TIER_STANDARD,
                    bool rework = false) {
    v1::Event e;
    e.set_producer("intake");
    e.set_subject_id(order_id);
    *e.mutable_occurred_at() = rpc::ToProto(kStart);
    v1::WorkOrder* o = e.mutable_order_created()->mutable_order();
    o->set_order_id(order_id);
    o->set_customer_id("C-" + order_id);
    o->mutable_service_area()->set_region_code(region);
    o->mutable_service_area()->set_city_tier(1);
    o->mutable_appliance()->set_category("FRIDGE");
    o->mutable_appliance()->set_model(model);
    o->mutable_customer()->set_customer_id("C-" + order_id);
    o->mutable_customer()->set_tier(tier);
    o->set_is_rework(rework);
    *o->mutable_created_at() = rpc::ToProto(kStart - absl::Hours(2));
    intake.Emit(e);
  }
  void Assigned(const std::string& order_id, const std::string& partner) {
    v1::Event e;
    e.set_producer("intake");
    e.set_subject_id(order_id);
    auto* s = e.mutable_order_state_changed();
    s->set_order_id(order_id);
    s->set_from_state(v1::ORDER_STATE_CREATED);
    s->set_to_state(v1::ORDER_STATE_ASSIGNED);
    s->set_engineer_id("E-" + partner);
    s->set_partner_id(partner);
    intake.Emit(e);
  }
  void Breached(const std::string& order_id, v1::SlaClockKind clock) {
    v1::Event e;
    e.set_producer("intake");
    e.set_subject_id(order_id);
    auto* b = e.mutable_sla_breached();
    b->set_order_id(order_id);
    b->set_clock(clock);
    b->set_cause(v1::BREACH_CAUSE_TRAVEL);
    intake.Emit(e);
  }
};

v1::FileComplaintRequest Req(const std::string& request_id, const std::string& customer,
                             const std::string& text, const std::string& order_id = "") {
  v1::FileComplaintRequest r;
  r.set_request_id(request_id);
  r.set_customer_id(customer);
  r.set_order_id(order_id);
  r.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
  r.set_text(text);
  return r;
}

int Count(const std::vector<v1::Event>& events, const std::string& subject,
          v1::Event::BodyCase body) {
  int n = 0;
  for (const auto& e : events) {
    if ((subject.empty() || e.subject_id() == subject) && e.body_case() == body) ++n;
  }
  return n;
}

std::vector<std::string> RuleIds(const v1::GradingResult& g) {
  std::vector<std::string> ids;
  for (const auto& r : g.rules()) ids.push_back(r.rule_id());
  return ids;
}

v1::ResolveComplaintRequest Resolution(const std::string& id) {
  v1::ResolveComplaintRequest r;
  r.set_complaint_id(id);
  r.mutable_investigation()->set_root_cause("Fee table not shown before replacing the part");
  r.mutable_investigation()->set_responsible_party(v1::RESPONSIBLE_PARTY_PARTNER);
  r.mutable_investigation()->set_responsible_id("PA");
  r.mutable_investigation()->set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
  r.mutable_resolution()->set_type(v1::RESOLUTION_TYPE_COMPENSATE);
  r.mutable_resolution()->set_description("Refunded the difference, 100 points");
  r.mutable_resolution()->mutable_compensation()->set_points(100);
  return r;
}

TEST_CASE("an unacknowledged G2 complaint escalates exactly once at 4 h, also across a crash") {
  ComplaintSuite s;
  const v1::Complaint c =
      s.File(Req("esc-1", "C1", "师傅乱收费，换个配件收了我800块")).complaint();
  const std::string id = c.complaint_id();
  REQUIRE(c.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(c.owner_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  CHECK(RuleIds(c.grading()) == std::vector<std::string>{"fee_dispute"});

  s.Advance(absl::Hours(3) + absl::Minutes(59));
  absl::SleepFor(absl::Milliseconds(700));  // sweeps run; none may escalate yet
  CHECK(Count(s.Events(), id, v1::Event::kComplaintEscalated) == 0);
  CHECK(s.Get(id).owner_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);

  // A crash: the deadline index survives it.
  s.complaint->Kill();
  s.complaint->Restart();
  s.SetTime(kStart + absl::Hours(3) + absl::Minutes(59));
  absl::SleepFor(absl::Milliseconds(500));
  CHECK(Count(s.Events(), id, v1::Event::kComplaintEscalated) == 0);

  s.Advance(absl::Minutes(1));  // exactly 4 h after filing
  REQUIRE(Eventually([&] { return Count(s.Events(), id, v1::Event::kComplaintEscalated) == 1; },
                     absl::Seconds(10)));
  const v1::Complaint after = s.Get(id);
  CHECK(after.owner_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
  CHECK(after.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  REQUIRE(after.escalations_size() == 1);
  CHECK(after.escalations(0).reason() == v1::ESCALATION_REASON_ACK_DEADLINE_MISSED);
  CHECK(after.escalations(0).from_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);
  CHECK(rpc::FromProto(after.escalations(0).escalated_at()) == kStart + absl::Hours(4));
  CHECK(after.escalations(0).actor().role() == v1::ROLE_SYSTEM);
  CHECK(after.clocks(0).outcome() == v1::SLA_OUTCOME_BREACHED);

  s.Advance(absl::Hours(2));
  absl::SleepFor(absl::Milliseconds(700));  // more sweeps; none may repeat it
  const auto events = s.Events();
  CHECK(Count(events, id, v1::Event::kComplaintEscalated) == 1);
  for (const auto& e : events) {
    if (!e.has_complaint_escalated()) continue;
    CHECK(e.complaint_escalated().to_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
    CHECK(e.complaint_escalated().reason() == v1::ESCALATION_REASON_ACK_DEADLINE_MISSED);
  }
  const std::string metrics = s.complaint->ScrapeMetrics();
  CHECK(MetricValue(metrics, "aftersales_complaint_escalations_total",
                    {"reason=\"ACK_DEADLINE_MISSED\"", "grade=\"G2_SERIOUS\"",
                     "to_level=\"SPECIAL_TEAM\""}) == 1);
  CHECK(MetricValue(metrics, "aftersales_complaint_deadline_misses_total",
                    {"clock=\"ACKNOWLEDGE\"", "grade=\"G2_SERIOUS\""}) == 1);
  // Acknowledged late: the breach stays on record.
  v1::AcknowledgeComplaintRequest ack;
  ack.set_complaint_id(id);
  v1::Complaint acked;
  REQUIRE(s.stub->Acknowledge(Context(s.token("agent")).get(), ack, &acked).ok());
  CHECK(acked.state() == v1::COMPLAINT_STATE_ACKNOWLEDGED);
  CHECK(acked.clocks(0).outcome() == v1::SLA_OUTCOME_BREACHED);
}

TEST_CASE("a complaint goes through its lifecycle over gRPC: idempotent, explained, listed, measured") {
  ComplaintSuite s;
  auto& stub = *s.stub;
  const auto req = Req("life-1", "C7", "安装师傅没有带鞋套，把地板弄脏了");
  const v1::FileComplaintResponse first = s.File(req);
  CHECK(first.created());
  const std::string id = first.complaint().complaint_id();
  CHECK(first.complaint().grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
  CHECK(first.complaint().text() == req.text());
  CHECK(first.complaint().state() == v1::COMPLAINT_STATE_FILED);
  const uint64_t head = s.Head();

  // Idempotent per (principal, request id).
  const v1::FileComplaintResponse again = s.File(req);
  CHECK_FALSE(again.created());
  CHECK(again.complaint().complaint_id() == id);
  CHECK(s.Head() == head);
  auto changed = req;
  changed.set_text("something else");
  v1::FileComplaintResponse conflict;
  CHECK(stub.FileComplaint(Context(s.token("agent")).get(), changed, &conflict).error_code() ==
        Code::ALREADY_EXISTS);
  const v1::FileComplaintResponse from_app = s.File(req, "app");  // another principal
  CHECK(from_app.created());
  CHECK(from_app.complaint().complaint_id() != id);

  v1::Complaint c;
  v1::AcknowledgeComplaintRequest ack;
  ack.set_complaint_id(id);
  ack.set_owner_id("cs-7");
  s.Advance(absl::Minutes(30));
  REQUIRE(stub.Acknowledge(Context(s.token("agent")).get(), ack, &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_ACKNOWLEDGED);
  CHECK(c.owner_id() == "cs-7");
  v1::StartInvestigationRequest inv;
  inv.set_complaint_id(id);
  REQUIRE(stub.StartInvestigation(Context(s.token("agent")).get(), inv, &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_INVESTIGATING);
  s.Advance(absl::Hours(5));
  REQUIRE(stub.Resolve(Context(s.token("agent")).get(), Resolution(id), &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_RESOLVED);
  CHECK(c.resolution().compensation().points() == 100);
  v1::CloseComplaintRequest close;
  close.set_complaint_id(id);
  close.set_customer_confirmed(true);
  REQUIRE(stub.Close(Context(s.token("app")).get(), close, &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_CLOSED);
  v1::ReopenComplaintRequest reopen;
  reopen.set_complaint_id(id);
  reopen.set_reason("the floor is still stained");
  REQUIRE(stub.Reopen(Context(s.token("app")).get(), reopen, &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_REOPENED);
  CHECK(c.reopen_count() == 1);
  REQUIRE(stub.StartInvestigation(Context(s.token("agent")).get(), inv, &c).ok());
  REQUIRE(stub.Resolve(Context(s.token("agent")).get(), Resolution(id), &c).ok());
  REQUIRE(stub.Close(Context(s.token("agent")).get(), close, &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_CLOSED);
  CHECK(c.transitions_size() == 9);

  const auto events = s.Events();
  CHECK(Count(events, id, v1::Event::kComplaintFiled) == 1);
  CHECK(Count(events, id, v1::Event::kComplaintGraded) == 1);
  CHECK(Count(events, id, v1::Event::kComplaintResolved) == 2);
  for (const auto& e : events) {
    CHECK(e.producer() == "complaint");
    CHECK_FALSE(absl::StrContains(e.DebugString(), "鞋套"));  // no complaint text in events
  }

  // The explanation, and a what-if grading with no side effects.
  v1::ExplainGradeRequest explain;
  explain.set_complaint_id(id);
  v1::GradingResult g;
  REQUIRE(stub.ExplainGrade(Context(s.token("auditor")).get(), explain, &g).ok());
  CHECK(g.grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
  CHECK(g.policy().name() == "complaint");
  const uint64_t before_whatif = s.Head();
  v1::GradeTextRequest what_if;
  what_if.set_text("I will call 12315 and the media");
  const v1::GradingResult w = s.GradeText(what_if);
  CHECK(w.grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  CHECK(RuleIds(w) == std::vector<std::string>{"public_pressure_keywords"});
  what_if.set_customer_id("C7");  // two complaints already: a third steps up
  const v1::GradingResult repeat = s.GradeText(what_if);
  CHECK(repeat.grade() == v1::COMPLAINT_GRADE_G4_CRITICAL);
  CHECK(RuleIds(repeat) ==
        std::vector<std::string>{"public_pressure_keywords", "repeat_complainant"});
  what_if.clear_customer_id();
  what_if.set_customer_tier(v1::CUSTOMER_TIER_VIP);
  CHECK(s.GradeText(what_if).grade() == v1::COMPLAINT_GRADE_G4_CRITICAL);
  CHECK(s.Head() == before_whatif);

  // Queries by customer, state, grade, category, with paging.
  v1::ListComplaintsRequest by_customer;
  by_customer.set_customer_id("C7");
  CHECK(s.List(by_customer).size() == 2);
  v1::ListComplaintsRequest closed;
  closed.set_state(v1::COMPLAINT_STATE_CLOSED);
  auto closed_list = s.List(closed);
  REQUIRE(closed_list.size() == 1);
  CHECK(closed_list[0].complaint_id() == id);
  v1::ListComplaintsRequest filed_g1;
  filed_g1.set_grade(v1::COMPLAINT_GRADE_G1_GENERAL);
  filed_g1.set_state(v1::COMPLAINT_STATE_FILED);
  auto filed_list = s.List(filed_g1);
  REQUIRE(filed_list.size() == 1);
  CHECK(filed_list[0].complaint_id() == from_app.complaint().complaint_id());
  v1::ListComplaintsRequest fee;
  fee.set_category(v1::COMPLAINT_CATEGORY_FEE_DISPUTE);
  CHECK(s.List(fee).empty());
  v1::ListComplaintsRequest paged;
  paged.mutable_page()->set_page_size(1);
  v1::ListComplaintsResponse p1, p2;
  REQUIRE(stub.ListComplaints(Context(s.token("agent")).get(), paged, &p1).ok());
  REQUIRE(p1.complaints_size() == 1);
  REQUIRE_FALSE(p1.next_page_token().empty());
  paged.mutable_page()->set_page_token(p1.next_page_token());
  REQUIRE(stub.ListComplaints(Context(s.token("agent")).get(), paged, &p2).ok());
  REQUIRE(p2.complaints_size() == 1);
  CHECK(p2.complaints(0).complaint_id() != p1.complaints(0).complaint_id());
  CHECK(p2.next_page_token().empty());

  // Statistics by category with times and the reopen rate.
  v1::GetComplaintStatsRequest stats;
  stats.set_dimension(v1::COMPLAINT_STATS_DIMENSION_CATEGORY);
  *stats.mutable_window()->mutable_start() = rpc::ToProto(kStart - absl::Hours(1));
  *stats.mutable_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(1));
  v1::GetComplaintStatsResponse sr;
  REQUIRE(stub.GetComplaintStats(Context(s.token("auditor")).get(), stats, &sr).ok());
  REQUIRE(sr.rows_size() == 1);
  CHECK(sr.rows(0).key() == "OTHER");
  CHECK(sr.rows(0).complaints() == 2);
  CHECK(sr.rows(0).by_grade(0) == 2);
  CHECK(rpc::FromProto(sr.rows(0).mean_acknowledge()) == absl::Minutes(30));
  CHECK(rpc::FromProto(sr.rows(0).mean_resolve()) == absl::Minutes(330));
  CHECK(sr.rows(0).reopen_rate() == Approx(1.0));
  *stats.mutable_window()->mutable_start() = rpc::ToProto(kStart + absl::Hours(1));
  *stats.mutable_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(2));
  REQUIRE(stub.GetComplaintStats(Context(s.token("agent")).get(), stats, &sr).ok());
  CHECK(sr.rows_size() == 0);

  const std::string metrics = s.complaint->ScrapeMetrics();
  CHECK(MetricValue(metrics, "aftersales_complaints_filed_total",
                    {"grade=\"G1_GENERAL\"", "category=\"OTHER\"", "channel=\"PHONE\""}) == 2);
  CHECK(MetricValue(metrics, "aftersales_complaint_acknowledge_duration_seconds_count",
                    {"grade=\"G1_GENERAL\""}) == 1);
  CHECK(MetricValue(metrics, "aftersales_complaint_acknowledge_duration_seconds_sum",
                    {"grade=\"G1_GENERAL\""}) == 1800);
  CHECK(MetricValue(metrics, "aftersales_complaint_resolution_duration_seconds_count",
                    {"grade=\"G1_GENERAL\""}) == 2);
  CHECK(MetricValue(metrics, "aftersales_complaints_resolved_total", {"grade=\"G1_GENERAL\""}) == 2);
  CHECK(MetricValue(metrics, "aftersales_complaints_reopened_total", {"grade=\"G1_GENERAL\""}) == 1);
  CHECK(MetricValue(metrics, "aftersales_complaints", {"state=\"CLOSED\""}) == 1);
  CHECK(MetricValue(metrics, "aftersales_complaints", {"state=\"FILED\""}) == 1);
}

TEST_CASE("five complaints on one model within three days: the fifth is G3, the earlier four are raised") {
  ComplaintSuite s;
  std::vector<std::string> ids;
  for (int i = 1; i <= 4; ++i) {
    auto r = Req("model-" + std::to_string(i), "CM" + std::to_string(i), "冰箱不制冷，刚买两个月");
    r.set_appliance_model("BCD-520W");
    const v1::Complaint c = s.File(r).complaint();
    CHECK(c.grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
    ids.push_back(c.complaint_id());
    s.Advance(absl::Hours(5));  // all within 3 days, before any 24 h ack deadline
  }
  // Another model does not count.
  auto other = Req("model-x", "CMX", "冰箱不制冷");
  other.set_appliance_model("BCD-999");
  CHECK(s.File(other).complaint().grade() == v1::COMPLAINT_GRADE_G1_GENERAL);

  auto fifth = Req("model-5", "CM5", "冰箱不制冷，刚买两个月");
  fifth.set_appliance_model("bcd-520w");  // the same model, however it is written
  const v1::Complaint c5 = s.File(fifth).complaint();
  CHECK(c5.grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  REQUIRE(c5.grading().rules_size() == 1);
  const auto& rule = c5.grading().rules(0);
  CHECK(rule.rule_id() == "same_model_cluster");
  CHECK(rule.evidence(1) == "complaints=5 within 3d");
  CHECK(std::vector<std::string>(rule.evidence().begin() + 2, rule.evidence().end()) == ids);
  CHECK(c5.owner_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);

  // The cluster reaches back: the four earlier complaints become G3 too.
  REQUIRE(Eventually([&] {
    for (const auto& id : ids) {
      if (s.Get(id).grade() != v1::COMPLAINT_GRADE_G3_MAJOR) return false;
    }
    return true;
  }, absl::Seconds(10)));
  for (const auto& id : ids) {
    const v1::Complaint c = s.Get(id);
    CHECK(c.owner_level() == v1::OWNER_LEVEL_SPECIAL_TEAM);
    REQUIRE(c.escalations_size() == 1);
    CHECK(c.escalations(0).reason() == v1::ESCALATION_REASON_REGRADED);
    REQUIRE(c.grading().rules_size() == 1);
    CHECK(c.grading().rules(0).rule_id() == "same_model_cluster");
  }
  absl::SleepFor(absl::Milliseconds(600));  // the regrade is applied once
  const auto events = s.Events();
  for (const auto& id : ids) {
    CHECK(Count(events, id, v1::Event::kComplaintGraded) == 2);  // at filing, and raised
    CHECK(Count(events, id, v1::Event::kComplaintEscalated) == 1);
  }
  CHECK(MetricValue(s.complaint->ScrapeMetrics(), "aftersales_complaint_regrades_total",
                    {"from=\"G1_GENERAL\"", "to=\"G3_MAJOR\""}) == 4);
  // A sixth in the window is G3 at once. The five before it are at the floor
  // already, so it queues no regrade: its filing is the only commit (one
  // audit record), where a regrade queued per earlier complaint would add
  // five (a cluster of n would cost n^2/2 commits).
  const double commits = MetricValue(s.complaint->ScrapeMetrics(), "aftersales_audit_records_total", {});
  auto sixth_now = Req("model-6-now", "CM6N", "冰箱不制冷");
  sixth_now.set_appliance_model("BCD-520W");
  CHECK(s.File(sixth_now).complaint().grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  absl::SleepFor(absl::Milliseconds(800));  // background passes every 250 ms
  CHECK(MetricValue(s.complaint->ScrapeMetrics(), "aftersales_audit_records_total", {}) ==
        commits + 1);
  // Three days after the fifth, the window has moved on.
  s.Advance(absl::Hours(72));
  auto sixth = Req("model-6", "CM6", "冰箱不制冷");
  sixth.set_appliance_model("BCD-520W");
  CHECK(s.File(sixth).complaint().grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
}

TEST_CASE("order context from intake's stream feeds grading, partner visibility and per-1,000-orders statistics") {
  ComplaintSuite s;
  s.OrderCreated("WO-1", "CN-310000", "M1", v1::CUSTOMER_TIER_VIP);
  s.OrderCreated("WO-2", "CN-310000", "M1");
  s.OrderCreated("WO-3", "CN-310000", "M2", v1::CUSTOMER_TIER_STANDARD, /*rework=*/true);
  s.OrderCreated("WO-4", "CN-310000", "M3");
  s.OrderCreated("WO-5", "CN-110000", "M3");
  s.OrderCreated("WO-6", "CN-110000", "M3");
  s.Assigned("WO-1", "PA");
  s.Assigned("WO-2", "PA");
  s.Breached("WO-2", v1::SLA_CLOCK_KIND_ARRIVAL);
  // Wait until complaint has applied all of it (the breach is the last event).
  v1::GradeTextRequest probe;
  probe.set_text("The engineer arrived late");
  probe.set_order_id("WO-2");
  REQUIRE(Eventually([&] { return s.GradeText(probe).grade() == v1::COMPLAINT_GRADE_G2_SERIOUS; }));

  const v1::Complaint vip = s.File(Req("o-1", "C-WO-1", "安装师傅把地板弄脏了", "WO-1")).complaint();
  CHECK(vip.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(RuleIds(vip.grading()) == std::vector<std::string>{"vip_customer"});
  CHECK(vip.customer().tier() == v1::CUSTOMER_TIER_VIP);
  CHECK(vip.order_context().known());
  CHECK(vip.region_code() == "CN-310000");
  CHECK(vip.partner_id() == "PA");
  CHECK(vip.appliance_model() == "M1");
  const v1::Complaint late =
      s.File(Req("o-2", "C-WO-2", "The engineer arrived late", "WO-2")).complaint();
  CHECK(late.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  REQUIRE(late.grading().rules_size() == 1);
  CHECK(late.grading().rules(0).rule_id() == "order_sla_breached");
  CHECK(std::vector<std::string>(late.grading().rules(0).evidence().begin(),
                                 late.grading().rules(0).evidence().end()) ==
        std::vector<std::string>{"order=WO-2", "ARRIVAL"});
  const v1::Complaint rework =
      s.File(Req("o-3", "C-WO-3", "上次修好的洗衣机又坏了", "WO-3")).complaint();
  CHECK(rework.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(RuleIds(rework.grading()) == std::vector<std::string>{"order_rework"});
  const v1::Complaint plain =
      s.File(Req("o-5", "C-WO-5", "The engineer arrived late", "WO-5")).complaint();
  CHECK(plain.grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
  CHECK(plain.partner_id().empty());
  auto no_order = Req("o-x", "C-X", "The engineer arrived late");
  no_order.set_region_code("CN-440300");
  CHECK(s.File(no_order).complaint().region_code() == "CN-440300");
  // An order complaint has not heard of: filed, linked, no order rules.
  const v1::Complaint unknown =
      s.File(Req("o-9", "C-9", "The engineer arrived late", "WO-9")).complaint();
  CHECK(unknown.order_id() == "WO-9");
  CHECK_FALSE(unknown.order_context().known());
  CHECK(unknown.grade() == v1::COMPLAINT_GRADE_G1_GENERAL);

  // A partner assigned after the complaint was filed counts in the statistics.
  s.Assigned("WO-5", "PB");
  v1::GetComplaintStatsRequest stats;
  stats.set_dimension(v1::COMPLAINT_STATS_DIMENSION_PARTNER);
  *stats.mutable_window()->mutable_start() = rpc::ToProto(kStart - absl::Hours(3));
  *stats.mutable_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(1));
  auto row_of = [](const v1::GetComplaintStatsResponse& r, const std::string& key) {
    for (const auto& row : r.rows()) {
      if (row.key() == key) return row;
    }
    return v1::ComplaintStatsRow();
  };
  v1::GetComplaintStatsResponse by_partner;
  REQUIRE(Eventually([&] {
    by_partner.Clear();
    return s.stub->GetComplaintStats(Context(s.token("agent")).get(), stats, &by_partner).ok() &&
           row_of(by_partner, "PB").complaints() == 1;
  }));
  CHECK(row_of(by_partner, "PA").complaints() == 2);
  CHECK(row_of(by_partner, "PA").orders() == 2);
  CHECK(row_of(by_partner, "PA").per_thousand_orders() == Approx(1000.0));
  CHECK(row_of(by_partner, "PA").by_grade(1) == 2);
  CHECK(row_of(by_partner, "PB").orders() == 1);
  CHECK(row_of(by_partner, "(none)").complaints() == 3);
  CHECK(by_partner.rows(0).key() == "(none)");  // most complaints first

  stats.set_dimension(v1::COMPLAINT_STATS_DIMENSION_REGION);
  v1::GetComplaintStatsResponse by_region;
  REQUIRE(s.stub->GetComplaintStats(Context(s.token("agent")).get(), stats, &by_region).ok());
  CHECK(row_of(by_region, "CN-310000").complaints() == 3);
  CHECK(row_of(by_region, "CN-310000").orders() == 4);
  CHECK(row_of(by_region, "CN-310000").per_thousand_orders() == Approx(750.0));
  CHECK(row_of(by_region, "CN-110000").complaints() == 1);
  CHECK(row_of(by_region, "CN-110000").per_thousand_orders() == Approx(500.0));
  CHECK(row_of(by_region, "CN-440300").complaints() == 1);
  CHECK(row_of(by_region, "CN-440300").orders() == 0);

  stats.set_dimension(v1::COMPLAINT_STATS_DIMENSION_CATEGORY);
  v1::GetComplaintStatsResponse by_category;
  REQUIRE(s.stub->GetComplaintStats(Context(s.token("agent")).get(), stats, &by_category).ok());
  const auto delay = row_of(by_category, "RESPONSE_DELAY");
  CHECK(delay.complaints() == 4);
  CHECK(delay.orders() == 6);  // every order created in the window
  CHECK(delay.per_thousand_orders() == Approx(4000.0 / 6.0));

  // Queries by order and partner; a partner sees only its own, without the text.
  v1::ListComplaintsRequest by_order;
  by_order.set_order_id("WO-2");
  auto on_order = s.List(by_order);
  REQUIRE(on_order.size() == 1);
  CHECK(on_order[0].complaint_id() == late.complaint_id());
  v1::ListComplaintsRequest by_pa;
  by_pa.set_partner_id("PA");
  CHECK(s.List(by_pa).size() == 2);
  const auto mine = s.List(v1::ListComplaintsRequest(), "partner-a");
  CHECK(mine.size() == 2);
  for (const auto& c : mine) CHECK(c.text().empty());
  CHECK(s.Get(vip.complaint_id(), "partner-a").text().empty());
  v1::GetComplaintRequest theirs;
  theirs.set_complaint_id(plain.complaint_id());
  v1::Complaint out;
  CHECK(s.stub->GetComplaint(Context(s.token("partner-a")).get(), theirs, &out).error_code() ==
        Code::NOT_FOUND);
  v1::ListComplaintsRequest pb;
  pb.set_partner_id("PB");
  v1::ListComplaintsResponse lr;
  CHECK(s.stub->ListComplaints(Context(s.token("partner-a")).get(), pb, &lr).error_code() ==
        Code::PERMISSION_DENIED);
}

TEST_CASE("a customer's erasure on intake's stream overwrites the complaint texts, keeps the KPIs") {
  ComplaintSuite s;
  const v1::Complaint a = s.File(Req("er-1", "C-ERASE", "张三 13812345678 的热水器漏水")).complaint();
  const v1::Complaint other = s.File(Req("er-2", "C-KEEP", "安装师傅迟到")).complaint();
  v1::Event e;
  e.set_producer("intake");
  e.set_subject_id("C-ERASE");
  e.mutable_customer_erasure_requested()->set_customer_id("C-ERASE");
  e.mutable_customer_erasure_requested()->set_request_id("erase-1");
  s.intake.Emit(e);
  REQUIRE(Eventually([&] { return !absl::StrContains(s.Get(a.complaint_id()).text(), "13812345678"); }));
  const v1::Complaint erased = s.Get(a.complaint_id());
  CHECK(erased.text() == "[erased at the customer's request]");
  CHECK(erased.grade() == a.grade());
  CHECK(erased.clocks_size() == 2);
  CHECK(s.Get(other.complaint_id()).text() == "安装师傅迟到");
}

TEST_CASE("the policy is versioned data: reload changes later grades, earlier complaints keep theirs") {
  ComplaintSuite s;
  v1::GetPolicyRequest get;
  v1::ComplaintPolicySnapshot snap;
  REQUIRE(s.stub->GetPolicy(Context(s.token("admin")).get(), get, &snap).ok());
  const std::string v1_version = snap.policy().ref().version();
  CHECK(snap.info().content_sha256().size() == 64);
  const v1::Complaint before = s.File(Req("p-1", "CP1", "师傅乱收费")).complaint();
  CHECK(before.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);

  v1::ComplaintPolicy next = snap.policy();
  next.mutable_ref()->set_version("test-2");
  for (auto& r : *next.mutable_rules()) {
    if (r.rule_id() == "fee_dispute") r.set_floor(v1::COMPLAINT_GRADE_G3_MAJOR);
  }
  v1::ReloadPolicyRequest reload;
  reload.set_inline_text(next.DebugString());
  reload.set_dry_run(true);
  v1::ReloadPolicyResponse rr;
  REQUIRE(s.stub->ReloadPolicy(Context(s.token("admin")).get(), reload, &rr).ok());
  CHECK_FALSE(rr.changed());
  CHECK(s.File(Req("p-2", "CP2", "师傅乱收费")).complaint().grade() ==
        v1::COMPLAINT_GRADE_G2_SERIOUS);
  reload.set_dry_run(false);
  REQUIRE(s.stub->ReloadPolicy(Context(s.token("admin")).get(), reload, &rr).ok());
  CHECK(rr.changed());
  CHECK(rr.active().ref().version() == "test-2");
  CHECK(rr.previous().ref().version() == v1_version);
  const v1::Complaint after = s.File(Req("p-3", "CP3", "师傅乱收费")).complaint();
  CHECK(after.grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  CHECK(after.policy().version() == "test-2");
  CHECK(after.grading().policy().version() == "test-2");
  CHECK(s.Get(before.complaint_id()).grading().policy().version() == v1_version);
  get.set_version(v1_version);
  REQUIRE(s.stub->GetPolicy(Context(s.token("auditor")).get(), get, &snap).ok());
  CHECK(snap.policy().ref().version() == v1_version);

  // A policy that does not validate changes nothing.
  next.mutable_grades(0)->clear_owner();
  next.mutable_ref()->set_version("test-3");
  reload.set_inline_text(next.DebugString());
  grpc::Status bad = s.stub->ReloadPolicy(Context(s.token("admin")).get(), reload, &rr);
  CHECK(bad.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(bad.error_message(), "grades[0].owner:"));
  get.clear_version();
  REQUIRE(s.stub->GetPolicy(Context(s.token("admin")).get(), get, &snap).ok());
  CHECK(snap.policy().ref().version() == "test-2");
}

TEST_CASE("bad input on every RPC gets the right status and changes nothing") {
  ComplaintSuite s;
  auto& stub = *s.stub;
  const v1::Complaint filed = s.File(Req("bad-1", "CB", "师傅迟到了")).complaint();
  const std::string id = filed.complaint_id();
  const uint64_t head = s.Head();
  auto ctx = [&](const std::string& who) { return Context(who.empty() ? "" : s.token(who)); };

  // FileComplaint
  v1::FileComplaintResponse fr;
  const auto good = Req("bad-2", "CB", "師傅迟到了");
  CHECK(stub.FileComplaint(ctx("").get(), good, &fr).error_code() == Code::UNAUTHENTICATED);
  CHECK(stub.FileComplaint(ctx("auditor").get(), good, &fr).error_code() == Code::PERMISSION_DENIED);
  CHECK(stub.FileComplaint(ctx("engineer").get(), good, &fr).error_code() ==
        Code::PERMISSION_DENIED);
  struct BadFile {
    const char* field;
    std::function<void(v1::FileComplaintRequest&)> spoil;
  };
  const std::vector<BadFile> bad_files = {
      {"request_id", [](auto& r) { r.clear_request_id(); }},
      {"customer_id", [](auto& r) { r.clear_customer_id(); }},
      {"order_id", [](auto& r) { r.set_order_id("has space"); }},
      {"channel", [](auto& r) { r.clear_channel(); }},
      {"text", [](auto& r) { r.set_text(" \n "); }},
      {"text", [](auto& r) { r.set_text(std::string(8001, 'x')); }},
      {"category", [](auto& r) { r.set_category(static_cast<v1::ComplaintCategory>(42)); }},
      {"customer_tier", [](auto& r) { r.set_customer_tier(static_cast<v1::CustomerTier>(7)); }},
      {"region_code", [](auto& r) { r.set_region_code("CN 31"); }},
  };
  for (const auto& b : bad_files) {
    auto r = good;
    b.spoil(r);
    grpc::Status st = stub.FileComplaint(ctx("agent").get(), r, &fr);
    INFO(b.field << " -> " << st.error_message());
    CHECK(st.error_code() == Code::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(st.error_message(), std::string(b.field) + ":"));
  }
  auto huge = good;
  huge.set_text(std::string(2 << 20, 'x'));
  CHECK(stub.FileComplaint(ctx("agent").get(), huge, &fr).error_code() == Code::RESOURCE_EXHAUSTED);
  // Bytes that are not a FileComplaintRequest (field 5, text, not UTF-8).
  const std::string malformed = std::string("\x2a\x02\xff\xfe", 4);
  CHECK(testing::RawUnaryCall(s.complaint->channel(),
                              "/aftersales.v1.ComplaintService/FileComplaint", malformed,
                              s.token("agent"), nullptr)
            .error_code() == Code::INTERNAL);

  // GetComplaint / ExplainGrade
  v1::GetComplaintRequest get;
  v1::Complaint c;
  CHECK(stub.GetComplaint(ctx("agent").get(), get, &c).error_code() == Code::INVALID_ARGUMENT);
  get.set_complaint_id("CP-none");
  CHECK(stub.GetComplaint(ctx("agent").get(), get, &c).error_code() == Code::NOT_FOUND);
  get.set_complaint_id(id);
  CHECK(stub.GetComplaint(ctx("").get(), get, &c).error_code() == Code::UNAUTHENTICATED);
  CHECK(stub.GetComplaint(ctx("engineer").get(), get, &c).error_code() == Code::PERMISSION_DENIED);
  CHECK(stub.GetComplaint(ctx("partner-a").get(), get, &c).error_code() == Code::NOT_FOUND);
  v1::ExplainGradeRequest explain;
  v1::GradingResult g;
  CHECK(stub.ExplainGrade(ctx("agent").get(), explain, &g).error_code() == Code::INVALID_ARGUMENT);
  explain.set_complaint_id("CP-none");
  CHECK(stub.ExplainGrade(ctx("agent").get(), explain, &g).error_code() == Code::NOT_FOUND);
  explain.set_complaint_id(id);
  CHECK(stub.ExplainGrade(ctx("app").get(), explain, &g).error_code() == Code::PERMISSION_DENIED);

  // ListComplaints
  v1::ListComplaintsRequest list;
  v1::ListComplaintsResponse lr;
  list.mutable_page()->set_page_size(9999);
  CHECK(stub.ListComplaints(ctx("agent").get(), list, &lr).error_code() == Code::INVALID_ARGUMENT);
  list.mutable_page()->set_page_size(10);
  list.mutable_page()->set_page_token("!!not-a-token!!");
  CHECK(stub.ListComplaints(ctx("agent").get(), list, &lr).error_code() == Code::INVALID_ARGUMENT);
  list.mutable_page()->clear_page_token();
  list.set_grade(static_cast<v1::ComplaintGrade>(99));
  CHECK(stub.ListComplaints(ctx("agent").get(), list, &lr).error_code() == Code::INVALID_ARGUMENT);
  list.clear_grade();
  *list.mutable_created()->mutable_start() = rpc::ToProto(kStart);
  *list.mutable_created()->mutable_end() = rpc::ToProto(kStart - absl::Hours(1));
  grpc::Status range = stub.ListComplaints(ctx("agent").get(), list, &lr);
  CHECK(range.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(range.error_message(), "created:"));
  list.clear_created();
  CHECK(stub.ListComplaints(ctx("").get(), list, &lr).error_code() == Code::UNAUTHENTICATED);
  CHECK(stub.ListComplaints(ctx("engineer").get(), list, &lr).error_code() ==
        Code::PERMISSION_DENIED);

  // Lifecycle steps: validation, roles, missing complaints, illegal states.
  v1::AcknowledgeComplaintRequest ack;
  CHECK(stub.Acknowledge(ctx("agent").get(), ack, &c).error_code() == Code::INVALID_ARGUMENT);
  ack.set_complaint_id("CP-none");
  CHECK(stub.Acknowledge(ctx("agent").get(), ack, &c).error_code() == Code::NOT_FOUND);
  ack.set_complaint_id(id);
  ack.set_note(std::string(2001, 'n'));
  CHECK(stub.Acknowledge(ctx("agent").get(), ack, &c).error_code() == Code::INVALID_ARGUMENT);
  ack.clear_note();
  CHECK(stub.Acknowledge(ctx("app").get(), ack, &c).error_code() == Code::PERMISSION_DENIED);
  CHECK(stub.Acknowledge(ctx("partner-a").get(), ack, &c).error_code() == Code::PERMISSION_DENIED);
  v1::StartInvestigationRequest inv;
  inv.set_complaint_id(id);
  grpc::Status early = stub.StartInvestigation(ctx("agent").get(), inv, &c);
  CHECK(early.error_code() == Code::FAILED_PRECONDITION);
  CHECK(absl::StrContains(early.error_message(), "FILED"));
  v1::ResolveComplaintRequest res = Resolution(id);
  res.clear_investigation();
  grpc::Status no_findings = stub.Resolve(ctx("agent").get(), res, &c);
  CHECK(no_findings.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(no_findings.error_message(), "investigation:"));
  res = Resolution(id);
  res.mutable_resolution()->mutable_compensation()->set_points(0);
  CHECK(stub.Resolve(ctx("agent").get(), res, &c).error_code() == Code::INVALID_ARGUMENT);
  CHECK(stub.Resolve(ctx("agent").get(), Resolution(id), &c).error_code() ==
        Code::FAILED_PRECONDITION);
  CHECK(stub.Resolve(ctx("partner-a").get(), Resolution(id), &c).error_code() ==
        Code::PERMISSION_DENIED);
  v1::CloseComplaintRequest close;
  close.set_complaint_id(id);
  grpc::Status unconfirmed = stub.Close(ctx("app").get(), close, &c);
  CHECK(unconfirmed.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(unconfirmed.error_message(), "customer_confirmed:"));
  close.set_customer_confirmed(true);
  CHECK(stub.Close(ctx("app").get(), close, &c).error_code() == Code::FAILED_PRECONDITION);
  CHECK(stub.Close(ctx("auditor").get(), close, &c).error_code() == Code::PERMISSION_DENIED);
  v1::ReopenComplaintRequest reopen;
  reopen.set_complaint_id(id);
  CHECK(stub.Reopen(ctx("app").get(), reopen, &c).error_code() == Code::INVALID_ARGUMENT);
  reopen.set_reason("not happy");
  CHECK(stub.Reopen(ctx("app").get(), reopen, &c).error_code() == Code::FAILED_PRECONDITION);
  CHECK(stub.Reopen(ctx("").get(), reopen, &c).error_code() == Code::UNAUTHENTICATED);

  // GradeText / GetComplaintStats
  v1::GradeTextRequest gt;
  CHECK(stub.GradeText(ctx("agent").get(), gt, &g).error_code() == Code::INVALID_ARGUMENT);
  gt.set_text("ok");
  gt.set_channel(static_cast<v1::ComplaintChannel>(50));
  CHECK(stub.GradeText(ctx("agent").get(), gt, &g).error_code() == Code::INVALID_ARGUMENT);
  gt.clear_channel();
  CHECK(stub.GradeText(ctx("engineer").get(), gt, &g).error_code() == Code::PERMISSION_DENIED);
  v1::GetComplaintStatsRequest st;
  v1::GetComplaintStatsResponse sr;
  CHECK(stub.GetComplaintStats(ctx("agent").get(), st, &sr).error_code() == Code::INVALID_ARGUMENT);
  st.set_dimension(v1::COMPLAINT_STATS_DIMENSION_REGION);
  grpc::Status no_window = stub.GetComplaintStats(ctx("agent").get(), st, &sr);
  CHECK(no_window.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(no_window.error_message(), "window:"));
  *st.mutable_window()->mutable_start() = rpc::ToProto(kStart);
  *st.mutable_window()->mutable_end() = rpc::ToProto(kStart - absl::Hours(1));
  CHECK(stub.GetComplaintStats(ctx("agent").get(), st, &sr).error_code() == Code::INVALID_ARGUMENT);
  *st.mutable_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(24 * 400));
  CHECK(stub.GetComplaintStats(ctx("agent").get(), st, &sr).error_code() == Code::INVALID_ARGUMENT);
  *st.mutable_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(1));
  CHECK(stub.GetComplaintStats(ctx("app").get(), st, &sr).error_code() == Code::PERMISSION_DENIED);

  // GetPolicy / ReloadPolicy
  v1::GetPolicyRequest gp;
  v1::ComplaintPolicySnapshot snap;
  gp.set_version("no-such-version");
  CHECK(stub.GetPolicy(ctx("admin").get(), gp, &snap).error_code() == Code::NOT_FOUND);
  CHECK(stub.GetPolicy(ctx("partner-a").get(), gp, &snap).error_code() == Code::PERMISSION_DENIED);
  v1::ReloadPolicyRequest rp;
  v1::ReloadPolicyResponse rpr;
  CHECK(stub.ReloadPolicy(ctx("agent").get(), rp, &rpr).error_code() == Code::PERMISSION_DENIED);
  rp.set_inline_text("this is { not a policy");
  grpc::Status syntax = stub.ReloadPolicy(ctx("admin").get(), rp, &rpr);
  CHECK(syntax.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(syntax.error_message(), "policy: line 1"));
  rp.set_inline_text(std::string(2 << 20, '#'));
  CHECK(stub.ReloadPolicy(ctx("admin").get(), rp, &rpr).error_code() == Code::RESOURCE_EXHAUSTED);

  // Every RPC: no token, an oversized request, bytes that do not decode.
  const char* methods[] = {"FileComplaint", "GetComplaint",     "ListComplaints",
                           "Acknowledge",   "StartInvestigation", "Resolve",
                           "Close",         "Reopen",           "ExplainGrade",
                           "GradeText",     "GetComplaintStats", "GetPolicy",
                           "ReloadPolicy"};
  const std::string oversized = "\x0a" + std::string("\x80\x80\x80\x01", 4) +
                                std::string(2 << 20, 'x');  // field 1, 2 MiB
  const std::string bad_utf8 = std::string("\x0a\x02\xff\xfe", 4);  // field 1, not UTF-8
  for (const char* m : methods) {
    const std::string method = std::string("/aftersales.v1.ComplaintService/") + m;
    INFO(method);
    CHECK(testing::RawUnaryCall(s.complaint->channel(), method, "", "", nullptr).error_code() ==
          Code::UNAUTHENTICATED);
    CHECK(testing::RawUnaryCall(s.complaint->channel(), method, oversized, s.token("admin"),
                                nullptr)
              .error_code() == Code::RESOURCE_EXHAUSTED);
    if (std::string(m) != "GetComplaintStats") {  // its field 1 is an enum
      CHECK(testing::RawUnaryCall(s.complaint->channel(), method, bad_utf8, s.token("admin"),
                                  nullptr)
                .error_code() == Code::INTERNAL);
    }
  }

  // Nothing changed, and the service still serves.
  CHECK(s.Head() == head);
  const v1::Complaint unchanged = s.Get(id);
  CHECK(unchanged.version() == filed.version());
  CHECK(unchanged.state() == v1::COMPLAINT_STATE_FILED);
  v1::ListComplaintsRequest all;
  CHECK(s.List(all).size() == 1);
  CHECK(testing::HealthStatus(s.complaint->channel(), "") == 1);
  CHECK(s.File(good).created());
}

}  // namespace
}  // namespace aftersales
