// The intake service as a real process on a manual clock: the full five-step
// loop, an arrival breach with its compensation, offline sync replays, and
// bad input on every RPC. Dispatch's offers come from a scripted event log
// (a real EventStream over a real store) until the dispatch service makes them.
#include <map>
#include <thread>

#include "absl/strings/match.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/event_producer.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    absl::LoadTimeZone("Asia/Shanghai", z);
    return z;
  }();
  return *zone;
}

// Monday 2026-11-23 10:00 in Shanghai: inside service hours, no holiday.
const absl::Time kStart = absl::FromCivil(absl::CivilMinute(2026, 11, 23, 10, 0), Shanghai());

struct IntakeSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer dispatch{dir.Sub("scripted-dispatch"), &registry};
  testing::EventProducer parts{dir.Sub("scripted-parts"), &registry};
  testing::EventProducer complaint{dir.Sub("scripted-complaint"), &registry};
  testing::EventProducer satisfaction{dir.Sub("scripted-satisfaction"), &registry};
  std::unique_ptr<testing::ServiceProcess> intake;
  std::unique_ptr<v1::IntakeService::Stub> stub;
  int offers = 0;

  IntakeSuite() {
    for (auto* p : {&dispatch, &parts, &complaint, &satisfaction}) p->Up();
    testing::ServiceProcess::Options o;
    o.name = "intake";
    o.data_dir = dir.Sub("intake");
    o.tokens = &tokens;
    o.manual_clock = true;
    // The manual clock starts at the real time and never moves back: start it
    // at kStart, or the suite fails once kStart has passed.
    o.extra_flags = {"--clock_start=" +
                     absl::FormatTime(absl::RFC3339_full, kStart, absl::UTCTimeZone())};
    o.peers["dispatch"] = dispatch.address();
    o.peers["parts"] = parts.address();
    o.peers["complaint"] = complaint.address();
    o.peers["satisfaction"] = satisfaction.address();
    intake = std::make_unique<testing::ServiceProcess>(o);
    stub = v1::IntakeService::NewStub(intake->channel());
    v1::SetTimeRequest set;
    *set.mutable_now() = rpc::ToProto(kStart);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(intake->channel())
                ->SetTime(Context(token("admin")).get(), set, &now)
                .ok());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void Advance(absl::Duration d) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(d);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(intake->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  v1::WorkOrder Create(const std::string& request_id, const std::string& who = "partner-a") {
    v1::CreateOrderResponse resp;
    grpc::Status s = stub->CreateOrder(Context(token(who)).get(),
                                       testing::SampleOrderRequest(request_id, "SN-" + request_id),
                                       &resp);
    REQUIRE(s.ok());
    REQUIRE(resp.created());
    return resp.order();
  }

  v1::WorkOrder Get(const std::string& order_id, const std::string& who = "agent") {
    v1::GetOrderRequest req;
    req.set_order_id(order_id);
    v1::WorkOrder o;
    REQUIRE(stub->GetOrder(Context(token(who)).get(), req, &o).ok());
    return o;
  }

  // Dispatch's offer to engineer E1 of partner PA is accepted.
  void Accept(const std::string& order_id) {
    v1::Event e;
    e.set_producer("dispatch");
    e.set_subject_id(order_id);
    auto* a = e.mutable_offer_accepted();
    a->set_offer_id("OF-" + std::to_string(++offers));
    a->set_order_id(order_id);
    a->set_engineer_id("E1");
    a->set_partner_id("PA");
    a->set_attempt(1);
    *a->mutable_eta() = rpc::ToProto(kStart + absl::Minutes(25));
    a->mutable_engineer()->set_engineer_id("E1");
    a->mutable_engineer()->set_display_name("Engineer Li");
    dispatch.Emit(e);
    REQUIRE(Eventually([&] { return Get(order_id).assignment().engineer_id() == "E1"; }));
  }

  grpc::Status Report(const std::string& who, const v1::ProgressReport& report,
                      v1::ReportProgressResponse* resp) {
    v1::ReportProgressRequest req;
    *req.mutable_report() = report;
    return stub->ReportProgress(Context(token(who)).get(), req, resp);
  }

  // Applies `report` and returns the state after it; fails the test otherwise.
  v1::OrderState Apply(const std::string& who, v1::ProgressReport report) {
    v1::ReportProgressResponse resp;
    grpc::Status s = Report(who, report, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(resp.result().code() == v1::PROGRESS_RESULT_CODE_APPLIED);
    return resp.order().state();
  }

  // Every event of intake's log so far.
  std::vector<v1::Event> IntakeEvents() {
    return testing::AllEvents(intake->channel(), token("service"));
  }

  uint64_t Head() {
    auto events = IntakeEvents();
    return events.empty() ? 0 : events.back().seq();
  }
};

v1::ProgressReport NewReport(const std::string& order_id, const std::string& id) {
  v1::ProgressReport r;
  r.set_order_id(order_id);
  r.set_client_event_id(id);
  return r;
}

int Count(const std::vector<v1::Event>& events, const std::string& order_id,
          v1::Event::BodyCase body) {
  int n = 0;
  for (const auto& e : events) {
    if (e.subject_id() == order_id && e.body_case() == body) ++n;
  }
  return n;
}

TEST_CASE("an order goes through the whole five-step loop") {
  IntakeSuite s;
  v1::WorkOrder o = s.Create("loop-1");
  const std::string id = o.order_id();
  CHECK(o.state() == v1::ORDER_STATE_CREATED);
  // "冰箱不制冷": a fridge that does not cool is a core function lost with harm.
  CHECK(o.priority() == v1::PRIORITY_EMERGENCY);
  CHECK(o.priority_decision().policy().name() == "intake");
  CHECK_FALSE(o.has_contact());  // the partner gets the masked view
  CHECK(o.customer().masked_phone() == "138****5678");
  const v1::SlaClock* arrival = nullptr;
  for (const auto& c : o.sla_clocks()) {
    if (c.kind() == v1::SLA_CLOCK_KIND_ARRIVAL) arrival = &c;
  }
  REQUIRE(arrival != nullptr);
  CHECK(rpc::FromProto(arrival->deadline()) == kStart + absl::Minutes(30));  // EMERGENCY tier 1

  // The customer follows the order live.
  auto watch_ctx = Context(s.token("app"), absl::Seconds(60));
  v1::WatchOrderRequest watch_req;
  watch_req.set_order_id(id);
  auto watch = s.stub->WatchOrder(watch_ctx.get(), watch_req);
  v1::OrderUpdate update;
  REQUIRE(watch->Read(&update));
  CHECK(update.state() == v1::ORDER_STATE_CREATED);

  s.Accept(id);
  CHECK(s.Get(id).state() == v1::ORDER_STATE_CREATED);  // latched until first contact

  auto r = NewReport(id, "c1");
  r.mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_ASSIGNED);
  bool saw_assigned = false;
  while (!saw_assigned && watch->Read(&update)) {
    saw_assigned = update.state() == v1::ORDER_STATE_ASSIGNED;
  }
  CHECK(saw_assigned);
  CHECK(update.engineer().display_name() == "Engineer Li");
  watch_ctx->TryCancel();
  watch->Finish();

  // Only the assigned engineer sees the full address; partner B sees nothing.
  CHECK(absl::StrContains(s.Get(id, "engineer").contact().full_address(), "世纪大道"));
  CHECK_FALSE(s.Get(id, "partner-a").has_contact());
  v1::GetOrderRequest get;
  get.set_order_id(id);
  v1::WorkOrder hidden;
  CHECK(s.stub->GetOrder(Context(s.token("partner-b")).get(), get, &hidden).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  r = NewReport(id, "c2");
  r.mutable_departed();
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_EN_ROUTE);
  s.Advance(absl::Minutes(20));
  r = NewReport(id, "c3");
  r.mutable_arrived();
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_ON_SITE);
  r = NewReport(id, "c4");
  auto* d = r.mutable_diagnosed()->mutable_diagnosis();
  d->set_initial_cause_code("COMPRESSOR");
  d->set_parts_needed(true);
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_DIAGNOSED);

  // Fee gate: no part goes in before the customer confirms the price.
  r = NewReport(id, "c5");
  r.mutable_repair_started();
  v1::ReportProgressResponse refused;
  grpc::Status gate = s.Report("engineer", r, &refused);
  CHECK(gate.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(gate.error_message(), "DIAGNOSED"));

  r = NewReport(id, "c6");
  auto* line = r.mutable_quoted()->add_lines();
  line->set_kind(v1::QUOTE_LINE_KIND_PART);
  line->set_sku("CMP-220");
  line->set_description("compressor");
  line->set_quantity(1);
  line->mutable_unit_price()->set_currency_code("CNY");
  line->mutable_unit_price()->set_amount_minor(68000);
  v1::ReportProgressResponse quoted;
  REQUIRE(s.Report("engineer", r, &quoted).ok());
  CHECK(quoted.order().state() == v1::ORDER_STATE_QUOTED);
  CHECK(quoted.order().quote().customer_payable().amount_minor() == 68000);

  r = NewReport(id, "c7");
  r.mutable_fee_decision()->set_quote_id(quoted.order().quote().quote_id());
  r.mutable_fee_decision()->set_accepted(true);
  r.mutable_fee_decision()->set_method(v1::CONSENT_METHOD_TEXT);
  r.mutable_fee_decision()->set_evidence_ref("app-tick-123");
  CHECK(s.Apply("app", r) == v1::ORDER_STATE_IN_REPAIR);
  r = NewReport(id, "c8");
  r.mutable_waiting_parts()->add_skus("CMP-220");
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_WAITING_PARTS);
  r = NewReport(id, "c9");
  r.mutable_repair_started();
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_IN_REPAIR);
  r = NewReport(id, "c10");
  auto* res = r.mutable_repaired()->mutable_result();
  res->set_final_cause_code("COMPRESSOR");
  res->set_first_visit_fix(true);
  auto* part = res->add_parts_used();
  part->set_sku("CMP-220");
  part->set_quantity(1);
  part->set_lot_number("LOT-2026-11-A");
  part->set_warranty_days(365);
  CHECK(s.Apply("engineer", r) == v1::ORDER_STATE_REPAIRED);
  r = NewReport(id, "c11");
  r.mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
  CHECK(s.Apply("app", r) == v1::ORDER_STATE_CONFIRMED);
  r = NewReport(id, "c12");
  r.mutable_followed_up()->set_problem_solved(true);
  CHECK(s.Apply("agent", r) == v1::ORDER_STATE_FOLLOWED_UP);
  r = NewReport(id, "c13");
  r.mutable_close();
  CHECK(s.Apply("agent", r) == v1::ORDER_STATE_CLOSED);

  const v1::WorkOrder closed = s.Get(id);
  CHECK(closed.repair().diagnosis_matched());
  CHECK(closed.service_report().repair_warranty_days() == 365);
  CHECK(closed.service_report().parts_replaced(0).lot_number() == "LOT-2026-11-A");
  for (const auto& c : closed.sla_clocks()) {
    INFO(v1::SlaClockKind_Name(c.kind()));
    CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
  }

  v1::GetOrderTimelineRequest treq;
  treq.set_order_id(id);
  v1::OrderTimeline timeline;
  REQUIRE(s.stub->GetOrderTimeline(Context(s.token("agent")).get(), treq, &timeline).ok());
  CHECK(timeline.steps_size() == 5);
  CHECK(timeline.transitions_size() == closed.transitions_size());
  CHECK(timeline.transitions(timeline.transitions_size() - 1).to_state() ==
        v1::ORDER_STATE_CLOSED);

  const auto events = s.IntakeEvents();
  CHECK(Count(events, id, v1::Event::kOrderCreated) == 1);
  CHECK(Count(events, id, v1::Event::kOrderConfirmedRepaired) == 1);
  CHECK(Count(events, id, v1::Event::kSlaBreached) == 0);
  for (const auto& e : events) {
    if (e.has_order_created()) CHECK_FALSE(e.order_created().order().has_contact());
  }
}

TEST_CASE("past the arrival deadline: exactly one breach event and one compensation entry") {
  IntakeSuite s;
  const std::string id = s.Create("late-1").order_id();
  s.Accept(id);
  auto r = NewReport(id, "l1");
  r.mutable_contacted();
  REQUIRE(s.Apply("engineer", r) == v1::ORDER_STATE_ASSIGNED);

  // 30 min budget (EMERGENCY, tier 1); the engineer arrives 44 min late.
  s.Advance(absl::Minutes(74));
  REQUIRE(Eventually([&] {
    return Count(s.IntakeEvents(), id, v1::Event::kSlaBreached) == 1;
  }));
  s.Advance(absl::Seconds(30));
  absl::SleepFor(absl::Milliseconds(600));  // more sweeps run; none may repeat it
  auto events = s.IntakeEvents();
  CHECK(Count(events, id, v1::Event::kSlaBreached) == 1);
  for (const auto& e : events) {
    if (e.has_sla_breached()) {
      CHECK(e.sla_breached().clock() == v1::SLA_CLOCK_KIND_ARRIVAL);
      CHECK(e.sla_breached().cause() == v1::BREACH_CAUSE_TRAVEL);  // assigned in time
    }
  }
  CHECK(Count(events, id, v1::Event::kCompensationGranted) == 0);

  r = NewReport(id, "l2");
  r.mutable_arrived();
  REQUIRE(s.Apply("engineer", r) == v1::ORDER_STATE_ON_SITE);
  v1::ReportProgressResponse again;
  REQUIRE(s.Report("engineer", r, &again).ok());  // a retry of the same report
  CHECK(again.result().code() == v1::PROGRESS_RESULT_CODE_DUPLICATE);

  v1::ListCompensationsRequest list;
  list.set_order_id(id);
  v1::ListCompensationsResponse ledger;
  REQUIRE(s.stub->ListCompensations(Context(s.token("agent")).get(), list, &ledger).ok());
  REQUIRE(ledger.entries_size() == 1);
  CHECK(ledger.entries(0).reason() == v1::COMPENSATION_REASON_LATE_ARRIVAL);
  CHECK(ledger.entries(0).value().points() == 20);  // 44 min: 2 full 15-min steps x 10%
  CHECK(ledger.entries(0).idempotency_key() == id + "/LATE_ARRIVAL");
  events = s.IntakeEvents();
  CHECK(Count(events, id, v1::Event::kSlaBreached) == 1);
  CHECK(Count(events, id, v1::Event::kCompensationGranted) == 1);
  const std::string metrics = s.intake->ScrapeMetrics();
  CHECK(absl::StrContains(metrics, "aftersales_sla_breaches_total{"));
  CHECK(absl::StrContains(metrics, "cause=\"TRAVEL\""));
}

TEST_CASE("an offline batch applies in order, and replaying it changes nothing") {
  IntakeSuite s;
  const std::string id = s.Create("sync-1").order_id();
  s.Accept(id);
  v1::SyncOfflineReportsRequest batch;
  batch.set_device_id("terminal-7");
  const char* kinds[] = {"contacted", "departed", "arrived"};
  for (int i = 0; i < 3; ++i) {
    v1::ProgressReport* r = batch.add_reports();
    *r = NewReport(id, std::string("off-") + kinds[i]);
    *r->mutable_device_time() = rpc::ToProto(kStart + absl::Minutes(5 * i));
    if (i == 0) r->mutable_contacted();
    if (i == 1) r->mutable_departed();
    if (i == 2) r->mutable_arrived();
  }
  v1::SyncOfflineReportsResponse first;
  REQUIRE(s.stub->SyncOfflineReports(Context(s.token("engineer")).get(), batch, &first).ok());
  REQUIRE(first.results_size() == 3);
  for (const auto& r : first.results()) CHECK(r.code() == v1::PROGRESS_RESULT_CODE_APPLIED);
  const v1::WorkOrder after_first = s.Get(id);
  CHECK(after_first.state() == v1::ORDER_STATE_ON_SITE);
  const auto& t = after_first.transitions(after_first.transitions_size() - 1);
  CHECK(rpc::FromProto(t.actor().device_time()) == kStart + absl::Minutes(10));
  const uint64_t head = s.Head();

  v1::SyncOfflineReportsResponse replay;
  REQUIRE(s.stub->SyncOfflineReports(Context(s.token("engineer")).get(), batch, &replay).ok());
  for (const auto& r : replay.results()) CHECK(r.code() == v1::PROGRESS_RESULT_CODE_DUPLICATE);
  CHECK(s.Get(id).version() == after_first.version());
  CHECK(s.Head() == head);

  // A rejected report skips the later reports of the same order.
  v1::SyncOfflineReportsRequest bad;
  bad.set_device_id("terminal-7");
  *bad.add_reports() = NewReport(id, "off-again-departed");
  bad.mutable_reports(0)->mutable_departed();  // ON_SITE: illegal
  *bad.add_reports() = NewReport(id, "off-diag");
  bad.mutable_reports(1)->mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("X");
  v1::SyncOfflineReportsResponse out;
  REQUIRE(s.stub->SyncOfflineReports(Context(s.token("engineer")).get(), bad, &out).ok());
  CHECK(out.results(0).code() == v1::PROGRESS_RESULT_CODE_REJECTED);
  CHECK(out.results(0).status_code() == static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  CHECK(absl::StrContains(out.results(0).message(), "ON_SITE"));
  CHECK(out.results(1).code() == v1::PROGRESS_RESULT_CODE_SKIPPED);
  CHECK(s.Get(id).state() == v1::ORDER_STATE_ON_SITE);
}

TEST_CASE("bad input on every RPC gets the right status and changes nothing") {
  IntakeSuite s;
  const v1::WorkOrder order = s.Create("bad-1");
  const std::string id = order.order_id();
  const uint64_t head = s.Head();
  auto& stub = *s.stub;
  using Code = grpc::StatusCode;
  auto ctx = [&](const std::string& who) { return Context(who.empty() ? "" : s.token(who)); };

  // CreateOrder
  v1::CreateOrderResponse cr;
  auto good = testing::SampleOrderRequest("bad-2", "SN-bad-2");
  CHECK(stub.CreateOrder(ctx("").get(), good, &cr).error_code() == Code::UNAUTHENTICATED);
  CHECK(stub.CreateOrder(ctx("auditor").get(), good, &cr).error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(stub.CreateOrder(ctx("engineer").get(), good, &cr).error_code() ==
        Code::PERMISSION_DENIED);
  struct BadCreate {
    const char* field;
    std::function<void(v1::CreateOrderRequest&)> spoil;
  };
  const std::vector<BadCreate> bad_creates = {
      {"customer_id", [](auto& r) { r.clear_customer_id(); }},
      {"service_area.location.lat_deg",
       [](auto& r) { r.mutable_service_area()->mutable_location()->set_lat_deg(91); }},
      {"service_area.location.lng_deg",
       [](auto& r) { r.mutable_service_area()->mutable_location()->set_lng_deg(-181); }},
      {"fault.description",
       [](auto& r) { r.mutable_fault()->set_description(std::string(1000000, 'x')); }},
      {"channel", [](auto& r) { r.set_channel(static_cast<v1::Channel>(99)); }},
      {"order_type", [](auto& r) { r.set_order_type(static_cast<v1::OrderType>(42)); }},
      {"contact", [](auto& r) { r.clear_contact(); }},
      {"contact.phone", [](auto& r) { r.mutable_contact()->set_phone("call me"); }},
      {"preferred_window",
       [](auto& r) {
         r.mutable_preferred_window()->mutable_start()->set_seconds(
             absl::ToUnixSeconds(kStart) + 3600 + 60);
         r.mutable_preferred_window()->mutable_end()->set_seconds(
             absl::ToUnixSeconds(kStart) + 7200);
       }},
  };
  for (const auto& b : bad_creates) {
    auto req = good;
    b.spoil(req);
    grpc::Status st = stub.CreateOrder(ctx("agent").get(), req, &cr);
    INFO(b.field << " -> " << st.error_message());
    CHECK(st.error_code() == Code::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(st.error_message(), std::string(b.field) + ":"));
  }
  auto huge = good;
  huge.mutable_fault()->set_description(std::string(2 << 20, 'x'));
  CHECK(stub.CreateOrder(ctx("agent").get(), huge, &cr).error_code() ==
        Code::RESOURCE_EXHAUSTED);

  // GetOrder / GetOrderTimeline / WatchOrder
  v1::GetOrderRequest get;
  v1::WorkOrder wo;
  CHECK(stub.GetOrder(ctx("agent").get(), get, &wo).error_code() == Code::INVALID_ARGUMENT);
  get.set_order_id("WO-none");
  CHECK(stub.GetOrder(ctx("agent").get(), get, &wo).error_code() == Code::NOT_FOUND);
  get.set_order_id(id);
  CHECK(stub.GetOrder(ctx("").get(), get, &wo).error_code() == Code::UNAUTHENTICATED);
  CHECK(stub.GetOrder(ctx("engineer").get(), get, &wo).error_code() == Code::NOT_FOUND);
  v1::GetOrderTimelineRequest treq;
  v1::OrderTimeline tl;
  CHECK(stub.GetOrderTimeline(ctx("agent").get(), treq, &tl).error_code() ==
        Code::INVALID_ARGUMENT);
  treq.set_order_id("WO-none");
  CHECK(stub.GetOrderTimeline(ctx("agent").get(), treq, &tl).error_code() == Code::NOT_FOUND);
  {
    v1::WatchOrderRequest wr;
    auto c = ctx("app");
    auto reader = stub.WatchOrder(c.get(), wr);
    v1::OrderUpdate u;
    while (reader->Read(&u)) {
    }
    CHECK(reader->Finish().error_code() == Code::INVALID_ARGUMENT);
    wr.set_order_id("WO-none");
    auto c2 = ctx("app");
    auto reader2 = stub.WatchOrder(c2.get(), wr);
    while (reader2->Read(&u)) {
    }
    CHECK(reader2->Finish().error_code() == Code::NOT_FOUND);
  }

  // ListOrders
  v1::ListOrdersRequest list;
  v1::ListOrdersResponse lr;
  list.mutable_page()->set_page_size(9999);
  CHECK(stub.ListOrders(ctx("agent").get(), list, &lr).error_code() == Code::INVALID_ARGUMENT);
  list.mutable_page()->set_page_size(10);
  list.add_states(static_cast<v1::OrderState>(99));
  CHECK(stub.ListOrders(ctx("agent").get(), list, &lr).error_code() == Code::INVALID_ARGUMENT);
  list.clear_states();
  list.set_partner_id("PB");
  CHECK(stub.ListOrders(ctx("partner-a").get(), list, &lr).error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(stub.ListOrders(ctx("").get(), list, &lr).error_code() == Code::UNAUTHENTICATED);

  // ChangePriority
  v1::ChangePriorityRequest cp;
  cp.set_order_id(id);
  cp.set_priority(v1::PRIORITY_NORMAL);
  CHECK(stub.ChangePriority(ctx("agent").get(), cp, &wo).error_code() ==
        Code::INVALID_ARGUMENT);  // no reason
  cp.set_reason("customer downgraded");
  CHECK(stub.ChangePriority(ctx("engineer").get(), cp, &wo).error_code() ==
        Code::PERMISSION_DENIED);
  cp.set_expected_version(order.version() + 5);
  CHECK(stub.ChangePriority(ctx("agent").get(), cp, &wo).error_code() == Code::ABORTED);
  cp.set_expected_version(0);
  cp.set_priority(v1::PRIORITY_UNSPECIFIED);
  CHECK(stub.ChangePriority(ctx("agent").get(), cp, &wo).error_code() ==
        Code::INVALID_ARGUMENT);
  cp.set_priority(v1::PRIORITY_URGENT);
  cp.set_order_id("WO-none");
  CHECK(stub.ChangePriority(ctx("agent").get(), cp, &wo).error_code() == Code::NOT_FOUND);

  // ReportProgress / SyncOfflineReports
  v1::ReportProgressRequest rp;
  v1::ReportProgressResponse rr;
  CHECK(stub.ReportProgress(ctx("agent").get(), rp, &rr).error_code() ==
        Code::INVALID_ARGUMENT);
  *rp.mutable_report() = NewReport(id, "r1");
  CHECK(stub.ReportProgress(ctx("agent").get(), rp, &rr).error_code() ==
        Code::INVALID_ARGUMENT);  // no milestone
  rp.mutable_report()->mutable_arrived()->mutable_location()->set_lat_deg(100);
  grpc::Status geo = stub.ReportProgress(ctx("agent").get(), rp, &rr);
  CHECK(geo.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(geo.error_message(), "report.arrived.location.lat_deg:"));
  rp.mutable_report()->mutable_arrived()->clear_location();
  CHECK(stub.ReportProgress(ctx("agent").get(), rp, &rr).error_code() ==
        Code::FAILED_PRECONDITION);  // CREATED: nobody is on the way
  CHECK(stub.ReportProgress(ctx("auditor").get(), rp, &rr).error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(stub.ReportProgress(ctx("partner-b").get(), rp, &rr).error_code() == Code::NOT_FOUND);
  v1::SyncOfflineReportsRequest sync;
  v1::SyncOfflineReportsResponse sr;
  sync.set_device_id("t1");
  CHECK(stub.SyncOfflineReports(ctx("agent").get(), sync, &sr).error_code() ==
        Code::INVALID_ARGUMENT);
  for (int i = 0; i < 501; ++i) *sync.add_reports() = rp.report();
  CHECK(stub.SyncOfflineReports(ctx("agent").get(), sync, &sr).error_code() ==
        Code::INVALID_ARGUMENT);
  sync.clear_device_id();
  sync.mutable_reports()->DeleteSubrange(1, 500);
  CHECK(stub.SyncOfflineReports(ctx("agent").get(), sync, &sr).error_code() ==
        Code::INVALID_ARGUMENT);

  // Ledger and policy
  v1::ListCompensationsRequest lc;
  v1::ListCompensationsResponse lcr;
  lc.set_reason(static_cast<v1::CompensationReason>(99));
  CHECK(stub.ListCompensations(ctx("agent").get(), lc, &lcr).error_code() ==
        Code::INVALID_ARGUMENT);
  lc.set_reason(v1::COMPENSATION_REASON_UNSPECIFIED);
  CHECK(stub.ListCompensations(ctx("partner-a").get(), lc, &lcr).error_code() ==
        Code::PERMISSION_DENIED);
  v1::GetCustomerLedgerRequest gl;
  v1::CustomerLedger ledger;
  CHECK(stub.GetCustomerLedger(ctx("agent").get(), gl, &ledger).error_code() ==
        Code::INVALID_ARGUMENT);
  gl.set_customer_id("C100");
  CHECK(stub.GetCustomerLedger(ctx("app").get(), gl, &ledger).error_code() ==
        Code::PERMISSION_DENIED);
  v1::GetPolicyRequest gp;
  v1::IntakePolicySnapshot snap;
  CHECK(stub.GetPolicy(ctx("agent").get(), gp, &snap).error_code() == Code::PERMISSION_DENIED);
  gp.set_version("no-such-version");
  CHECK(stub.GetPolicy(ctx("admin").get(), gp, &snap).error_code() == Code::NOT_FOUND);
  v1::ReloadPolicyRequest reload;
  v1::ReloadPolicyResponse reloaded;
  reload.set_inline_text("ref { name: \"intake\" version: \"broken\" } at_risk_fraction: 7");
  CHECK(stub.ReloadPolicy(ctx("agent").get(), reload, &reloaded).error_code() ==
        Code::PERMISSION_DENIED);
  CHECK(stub.ReloadPolicy(ctx("admin").get(), reload, &reloaded).error_code() ==
        Code::INVALID_ARGUMENT);
  gp.clear_version();
  REQUIRE(stub.GetPolicy(ctx("admin").get(), gp, &snap).ok());
  CHECK(snap.info().ref().version() == order.priority_decision().policy().version());

  // Nothing changed, and the service still serves.
  CHECK(s.Head() == head);
  CHECK(s.Get(id).version() == order.version());
  CHECK(s.Get(id).priority() == order.priority());
  REQUIRE(stub.CreateOrder(ctx("agent").get(), good, &cr).ok());
  CHECK(cr.created());
}

TEST_CASE("a request on an appliance with an open order is linked, and a fault soon after a repair is a rework") {
  IntakeSuite s;
  v1::CreateOrderResponse first, linked;
  auto req = testing::SampleOrderRequest("dup-1", "SN-SHARED");
  REQUIRE(s.stub->CreateOrder(Context(s.token("partner-a")).get(), req, &first).ok());
  auto req2 = testing::SampleOrderRequest("dup-2", "SN-SHARED");
  req2.mutable_fault()->set_description("still broken, calling again");
  REQUIRE(s.stub->CreateOrder(Context(s.token("agent")).get(), req2, &linked).ok());
  CHECK_FALSE(linked.created());
  CHECK(linked.linked_to_open_order());
  CHECK(linked.order().order_id() == first.order().order_id());
  CHECK(s.Get(first.order().order_id()).linked_requests_size() == 1);

  // Repair the first order, then the same serial fails again within 30 days.
  const std::string id = first.order().order_id();
  s.Accept(id);
  auto r = NewReport(id, "w1");
  r.mutable_contacted();
  s.Apply("engineer", r);
  r = NewReport(id, "w2");
  r.mutable_arrived();
  s.Apply("engineer", r);
  r = NewReport(id, "w3");
  r.mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("SENSOR");
  s.Apply("engineer", r);
  r = NewReport(id, "w4");
  r.mutable_repaired()->mutable_result()->set_final_cause_code("SENSOR");
  auto* p = r.mutable_repaired()->mutable_result()->add_parts_used();
  p->set_sku("SNS-1");
  p->set_quantity(1);
  p->set_warranty_days(90);
  REQUIRE(s.Apply("engineer", r) == v1::ORDER_STATE_REPAIRED);

  s.Advance(absl::Hours(24 * 10));
  v1::CreateOrderResponse rework;
  auto req3 = testing::SampleOrderRequest("dup-3", "SN-SHARED");
  req3.mutable_fault()->set_description("noise again");
  REQUIRE(s.stub->CreateOrder(Context(s.token("agent")).get(), req3, &rework).ok());
  CHECK(rework.created());
  CHECK(rework.order().is_rework());
  CHECK(rework.order().rework_of_order_id() == id);
  CHECK(rework.order().priority() != v1::PRIORITY_NORMAL);  // rework is at least URGENT
  const v1::WorkOrder earlier = s.Get(id);
  CHECK(earlier.rework_order_ids_size() == 1);
  CHECK(earlier.service_report().repair_warranty_days() == 180);  // doubled
}

v1::Event PeerEvent(const std::string& producer, const std::string& subject) {
  v1::Event e;
  e.set_producer(producer);
  e.set_subject_id(subject);
  return e;
}

TEST_CASE("events from parts, complaint and satisfaction move or flag the order") {
  IntakeSuite s;
  const std::string id = s.Create("ev-1").order_id();
  s.Accept(id);
  auto r = NewReport(id, "e1");
  r.mutable_contacted();
  s.Apply("engineer", r);
  r = NewReport(id, "e2");
  r.mutable_arrived();
  s.Apply("engineer", r);
  r = NewReport(id, "e3");
  r.mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("FAN");
  s.Apply("engineer", r);
  r = NewReport(id, "e4");
  r.mutable_repair_started();
  REQUIRE(s.Apply("engineer", r) == v1::ORDER_STATE_IN_REPAIR);

  // parts: backordered -> WAITING_PARTS; only "all available" ends the wait.
  v1::Event backordered = PeerEvent("parts", id);
  backordered.mutable_parts_backordered()->set_order_id(id);
  backordered.mutable_parts_backordered()->set_sku("FAN-1");
  backordered.mutable_parts_backordered()->set_quantity(1);
  s.parts.Emit(backordered);
  REQUIRE(Eventually([&] { return s.Get(id).state() == v1::ORDER_STATE_WAITING_PARTS; }));
  v1::Event partly = PeerEvent("parts", id);
  partly.mutable_parts_available()->set_order_id(id);
  partly.mutable_parts_available()->set_all_available(false);
  s.parts.Emit(partly);
  v1::Event all = partly;
  all.mutable_parts_available()->set_all_available(true);
  s.parts.Emit(all);
  REQUIRE(Eventually([&] { return s.Get(id).state() == v1::ORDER_STATE_IN_REPAIR; }));
  int parts_available = 0;
  const v1::WorkOrder waited = s.Get(id);
  for (const auto& t : waited.transitions()) {
    if (t.milestone() == v1::PROGRESS_MILESTONE_PARTS_AVAILABLE) ++parts_available;
  }
  CHECK(parts_available == 1);
  CHECK(s.Get(id).waited_for_parts());

  r = NewReport(id, "e5");
  r.mutable_repaired()->mutable_result()->set_final_cause_code("FAN");
  REQUIRE(s.Apply("engineer", r) == v1::ORDER_STATE_REPAIRED);

  // complaint: filed on the order -> linked, follow-up budget 48 h.
  v1::Event filed = PeerEvent("complaint", "C1");
  filed.mutable_complaint_filed()->set_complaint_id("C1");
  filed.mutable_complaint_filed()->set_order_id(id);
  filed.mutable_complaint_filed()->set_customer_id("C100");
  s.complaint.Emit(filed);
  s.complaint.Emit(filed);  // a duplicate delivery links it once
  REQUIRE(Eventually([&] { return s.Get(id).complaint_ids_size() == 1; }));
  const v1::WorkOrder linked = s.Get(id);
  for (const auto& c : linked.sla_clocks()) {
    if (c.kind() == v1::SLA_CLOCK_KIND_FOLLOW_UP) {
      CHECK(rpc::FromProto(c.budget()) == absl::Hours(48));
    }
  }

  // satisfaction: "not solved" reopens the order.
  v1::Event not_solved = PeerEvent("satisfaction", "S1");
  not_solved.mutable_problem_not_solved()->set_survey_id("S1");
  not_solved.mutable_problem_not_solved()->set_order_id(id);
  s.satisfaction.Emit(not_solved);
  REQUIRE(Eventually([&] { return s.Get(id).state() == v1::ORDER_STATE_REOPENED; }));
  CHECK(s.Get(id).previous_engineer_ids(0) == "E1");

  // complaint resolved with compensation -> a ledger entry on the order.
  v1::Event resolved = PeerEvent("complaint", "C1");
  auto* res = resolved.mutable_complaint_resolved();
  res->set_complaint_id("C1");
  res->set_order_id(id);
  res->set_customer_id("C100");
  res->mutable_compensation()->set_points(50);
  s.complaint.Emit(resolved);
  REQUIRE(Eventually([&] { return s.Get(id).compensations_size() == 1; }));
  CHECK(s.Get(id).compensations(0).idempotency_key() == "complaint/C1");

  // satisfaction: five stars -> the customer's next order is one level up.
  v1::Event five = PeerEvent("satisfaction", "S2");
  five.mutable_five_star_granted()->set_survey_id("S2");
  five.mutable_five_star_granted()->set_order_id(id);
  five.mutable_five_star_granted()->set_customer_id("C100");
  s.satisfaction.Emit(five);
  v1::GetCustomerLedgerRequest lreq;
  lreq.set_customer_id("C100");
  REQUIRE(Eventually([&] {
    v1::CustomerLedger ledger;
    return s.stub->GetCustomerLedger(Context(s.token("agent")).get(), lreq, &ledger).ok() &&
           ledger.open_priority_rights() == 1;
  }));
  auto plain = testing::SampleOrderRequest("ev-2", "SN-ev-2");
  plain.mutable_appliance()->set_category("AIR_CONDITIONER");
  plain.mutable_fault()->set_description("the fan is a bit noisy");
  v1::CreateOrderResponse next;
  REQUIRE(s.stub->CreateOrder(Context(s.token("agent")).get(), plain, &next).ok());
  CHECK(next.order().priority() == v1::PRIORITY_URGENT);
  v1::CustomerLedger ledger;
  REQUIRE(s.stub->GetCustomerLedger(Context(s.token("agent")).get(), lreq, &ledger).ok());
  CHECK(ledger.open_priority_rights() == 0);
  CHECK(ledger.points_total() == 50);

  const auto events = s.IntakeEvents();
  CHECK(Count(events, id, v1::Event::kOrderReopened) == 1);
  std::map<v1::CompensationReason, int> granted;
  for (const auto& e : events) {
    if (e.subject_id() == id && e.has_compensation_granted()) {
      ++granted[e.compensation_granted().entry().reason()];
    }
  }
  CHECK(granted.size() == 2);
  CHECK(granted[v1::COMPENSATION_REASON_COMPLAINT_RESOLUTION] == 1);
  CHECK(granted[v1::COMPENSATION_REASON_PRIORITY_SERVICE_RIGHT] == 1);
}

TEST_CASE("a predicted late arrival puts the order at risk and proposes a new window") {
  IntakeSuite s;
  auto req = testing::SampleOrderRequest("eta-1", "SN-eta-1");
  req.mutable_fault()->set_description("washing machine drum does not spin");
  req.mutable_appliance()->set_category("WASHER");
  *req.mutable_preferred_window()->mutable_start() = rpc::ToProto(kStart + absl::Hours(4));
  *req.mutable_preferred_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(6));
  v1::CreateOrderResponse created;
  REQUIRE(s.stub->CreateOrder(Context(s.token("agent")).get(), req, &created).ok());
  const std::string id = created.order().order_id();
  for (const auto& c : created.order().sla_clocks()) {
    if (c.kind() == v1::SLA_CLOCK_KIND_ARRIVAL) {
      // Judged against the booked window's end when that is later.
      CHECK(rpc::FromProto(c.deadline()) == kStart + absl::Hours(6));
    }
  }
  s.Accept(id);
  v1::Event eta = PeerEvent("dispatch", id);
  auto* u = eta.mutable_eta_updated();
  u->set_order_id(id);
  u->set_engineer_id("E1");
  *u->mutable_eta() = rpc::ToProto(kStart + absl::Hours(7));
  u->set_late_for_window(true);
  *u->mutable_proposed_window()->mutable_start() = rpc::ToProto(kStart + absl::Hours(7));
  *u->mutable_proposed_window()->mutable_end() = rpc::ToProto(kStart + absl::Hours(8));
  s.dispatch.Emit(eta);
  s.dispatch.Emit(eta);  // twice: at risk once
  REQUIRE(Eventually([&] { return s.Get(id).has_proposed_window(); }));
  REQUIRE(Eventually([&] {
    int n = 0;
    for (const auto& e : s.IntakeEvents()) {
      if (e.subject_id() == id && e.has_sla_clock_at_risk() &&
          e.sla_clock_at_risk().predicted_late()) {
        ++n;
      }
    }
    return n == 1;
  }));
  v1::ListOrdersRequest risky;
  risky.set_at_risk_only(true);
  v1::ListOrdersResponse listed;
  REQUIRE(s.stub->ListOrders(Context(s.token("agent")).get(), risky, &listed).ok());
  REQUIRE(listed.orders_size() == 1);
  CHECK(listed.orders(0).order_id() == id);
}

}  // namespace
}  // namespace aftersales
