// The walking skeleton across real processes: five services come up healthy;
// intake.CreateOrder is idempotent and reaches dispatch exactly once, even
// when dispatch or intake is killed in between; bad calls change nothing.
#include <set>

#include "absl/strings/match.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "catch2/catch.hpp"
#include "support/fixtures.h"
#include "support/grpc_probe.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;
using testing::ServiceProcess;

struct Suite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};

  ServiceProcess::Options Options(const std::string& name) {
    ServiceProcess::Options o;
    o.name = name;
    o.data_dir = dir.Sub(name);
    o.tokens = &tokens;
    return o;
  }
  std::unique_ptr<ServiceProcess> Intake(bool manual_clock = false) {
    auto o = Options("intake");
    o.manual_clock = manual_clock;
    return std::make_unique<ServiceProcess>(o);
  }
  std::unique_ptr<ServiceProcess> Dispatch(const ServiceProcess& intake) {
    auto o = Options("dispatch");
    o.peers["intake"] = intake.address();
    return std::make_unique<ServiceProcess>(o);
  }
  const std::string& token(const std::string& who) { return tokens.token.at(who); }
};

// Each request its own appliance unless told otherwise: requests on the same
// serial are linked to the open order instead of opening a new one.
v1::CreateOrderRequest OrderRequest(const std::string& request_id,
                                    const std::string& serial = "") {
  return testing::SampleOrderRequest(request_id,
                                     serial.empty() ? "SN-" + request_id : serial);
}

grpc::Status Create(v1::IntakeService::Stub& intake, const std::string& token,
                    const v1::CreateOrderRequest& req, v1::CreateOrderResponse* resp) {
  return intake.CreateOrder(Context(token).get(), req, resp);
}

// Every order id dispatch knows, walking all pages.
std::multiset<std::string> DispatchOrderIds(v1::DispatchService::Stub& dispatch,
                                            const std::string& token) {
  std::multiset<std::string> ids;
  v1::ListDispatchOrdersRequest req;
  req.mutable_page()->set_page_size(7);  // small pages: exercise paging
  while (true) {
    v1::ListDispatchOrdersResponse resp;
    grpc::Status s = dispatch.ListDispatchOrders(Context(token).get(), req, &resp);
    if (!s.ok()) return {};
    for (const auto& o : resp.orders()) ids.insert(o.order_id());
    if (resp.next_page_token().empty()) return ids;
    req.mutable_page()->set_page_token(resp.next_page_token());
  }
}

// The head seq of a service's event log, as a SERVICE principal sees it.
uint64_t EventHead(const ServiceProcess& p, const std::string& service_token) {
  auto stub = v1::EventStream::NewStub(p.channel());
  auto ctx = Context(service_token, absl::Seconds(5));
  auto reader = stub->Subscribe(ctx.get(), v1::SubscribeRequest());
  v1::SubscribeResponse resp;
  uint64_t head = UINT64_MAX;
  if (reader->Read(&resp)) head = resp.head_seq();
  ctx->TryCancel();
  reader->Finish();
  return head;
}

TEST_CASE("all five services serve health, reflection and metrics, and stop cleanly") {
  Suite suite;
  auto intake = suite.Intake();
  auto dispatch = suite.Dispatch(*intake);
  ServiceProcess parts(suite.Options("parts"));
  ServiceProcess complaint(suite.Options("complaint"));
  ServiceProcess satisfaction(suite.Options("satisfaction"));

  const std::vector<std::pair<ServiceProcess*, std::string>> services = {
      {intake.get(), "aftersales.v1.IntakeService"},
      {dispatch.get(), "aftersales.v1.DispatchService"},
      {&parts, "aftersales.v1.PartsService"},
      {&complaint, "aftersales.v1.ComplaintService"},
      {&satisfaction, "aftersales.v1.SatisfactionService"},
  };
  for (auto& [process, service] : services) {
    INFO(service);
    CHECK(testing::HealthStatus(process->channel(), "") == 1);
    CHECK(testing::HealthStatus(process->channel(), "aftersales.v1.EventStream") == 1);
    CHECK(testing::HealthStatus(process->channel(), "no.such.Service") ==
          -grpc::StatusCode::NOT_FOUND);
    auto listed = testing::ReflectionServices(process->channel());
    std::set<std::string> names(listed.begin(), listed.end());
    CHECK(names.count(service) == 1);
    CHECK(names.count("aftersales.v1.EventStream") == 1);
    CHECK(names.count("grpc.health.v1.Health") == 1);
    CHECK(names.count("aftersales.v1.ClockAdmin") == 0);  // real clock
    const std::string metrics = process->ScrapeMetrics();
    CHECK(absl::StrContains(metrics, "grpc_server_handled_total{"));
    CHECK(absl::StrContains(metrics, "grpc_service=\"grpc.health.v1.Health\""));
    CHECK(absl::StrContains(metrics, "grpc_server_handling_seconds_bucket{"));
  }
  CHECK(absl::StrContains(dispatch->ScrapeMetrics(),
                          "aftersales_event_consumer_connected{consumer=\"dispatch<-intake\"} 1"));
  for (auto& [process, service] : services) {
    INFO(service);
    CHECK(process->Stop() == 0);  // SIGTERM: drain and exit 0
  }
}

TEST_CASE("an order is created once per request id and reaches dispatch exactly once, through crashes") {
  Suite suite;
  auto intake = suite.Intake();
  auto dispatch = suite.Dispatch(*intake);
  auto intake_stub = v1::IntakeService::NewStub(intake->channel());
  const std::string partner = suite.token("partner-a");

  v1::CreateOrderResponse first, retry;
  REQUIRE(Create(*intake_stub, partner, OrderRequest("req-1"), &first).ok());
  CHECK(first.created());
  CHECK(absl::StartsWith(first.order().order_id(), "WO"));
  CHECK(first.order().state() == v1::ORDER_STATE_CREATED);
  REQUIRE(Create(*intake_stub, partner, OrderRequest("req-1"), &retry).ok());
  CHECK_FALSE(retry.created());
  CHECK(retry.order().order_id() == first.order().order_id());

  // The same request id with another body is a client bug, not a retry.
  v1::CreateOrderResponse conflict;
  auto changed = OrderRequest("req-1", "SN-OTHER");
  CHECK(Create(*intake_stub, partner, changed, &conflict).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  // Another principal may use the same request id for its own order.
  v1::CreateOrderResponse other;
  REQUIRE(Create(*intake_stub, suite.token("partner-b"), OrderRequest("req-1", "SN-B1"),
               &other).ok());
  CHECK(other.created());
  CHECK(other.order().order_id() != first.order().order_id());

  v1::WorkOrder stored;
  v1::GetOrderRequest get;
  get.set_order_id(first.order().order_id());
  REQUIRE(intake_stub->GetOrder(Context(suite.token("agent")).get(), get, &stored).ok());
  CHECK(stored.created_by() == "partner-a");
  CHECK(stored.fault().description() == "冰箱不制冷 fridge not cooling");

  std::multiset<std::string> expected = {first.order().order_id(), other.order().order_id()};
  auto dispatch_stub = v1::DispatchService::NewStub(dispatch->channel());
  const std::string agent = suite.token("agent");
  REQUIRE(Eventually([&] { return DispatchOrderIds(*dispatch_stub, agent) == expected; }));
  v1::DispatchOrder d;
  v1::GetDispatchOrderRequest dget;
  dget.set_order_id(first.order().order_id());
  REQUIRE(dispatch_stub->GetDispatchOrder(Context(agent).get(), dget, &d).ok());
  // No engineer is registered, so dispatch queues it as unassignable.
  CHECK(d.state() == v1::DISPATCH_STATE_UNASSIGNABLE);
  CHECK(d.appliance_category() == "FRIDGE");
  CHECK(d.service_area().region_code() == "CN-310000");
  v1::ListDispatchOrdersRequest awaiting;
  awaiting.set_state(v1::DISPATCH_STATE_UNASSIGNABLE);
  v1::ListDispatchOrdersResponse awaiting_resp;
  REQUIRE(dispatch_stub->ListDispatchOrders(Context(agent).get(), awaiting, &awaiting_resp).ok());
  CHECK(awaiting_resp.orders_size() == 2);

  // Dispatch crashes; intake keeps taking orders (and their retries).
  dispatch->Kill();
  for (int i = 0; i < 20; ++i) {
    v1::CreateOrderResponse r, again;
    auto req = OrderRequest("outage-" + std::to_string(i), "SN-O" + std::to_string(i));
    REQUIRE(Create(*intake_stub, partner, req, &r).ok());
    REQUIRE(Create(*intake_stub, partner, req, &again).ok());
    CHECK(again.order().order_id() == r.order().order_id());
    expected.insert(r.order().order_id());
  }
  dispatch->Restart();
  dispatch_stub = v1::DispatchService::NewStub(dispatch->channel());
  REQUIRE(Eventually([&] { return DispatchOrderIds(*dispatch_stub, agent) == expected; }));

  // Intake crashes right after acknowledging: the orders and their events
  // survive, and dispatch resumes from its cursor.
  for (int i = 0; i < 5; ++i) {
    v1::CreateOrderResponse r;
    REQUIRE(Create(*intake_stub, partner, OrderRequest("late-" + std::to_string(i)), &r).ok());
    expected.insert(r.order().order_id());
  }
  intake->Kill();
  intake->Restart();
  intake_stub = v1::IntakeService::NewStub(intake->channel());
  REQUIRE(intake_stub->GetOrder(Context(agent).get(), get, &stored).ok());
  v1::CreateOrderResponse after_restart;
  REQUIRE(Create(*intake_stub, partner, OrderRequest("late-0"), &after_restart).ok());
  CHECK_FALSE(after_restart.created());
  REQUIRE(Create(*intake_stub, partner, OrderRequest("post-restart"), &after_restart).ok());
  expected.insert(after_restart.order().order_id());
  REQUIRE(Eventually([&] { return DispatchOrderIds(*dispatch_stub, agent) == expected; }));
  CHECK(expected.size() == 28);
  CHECK(EventHead(*intake, suite.token("service")) == 28);
}

TEST_CASE("bad calls get the right status, change nothing, and the service keeps serving") {
  Suite suite;
  auto intake = suite.Intake();
  auto dispatch = suite.Dispatch(*intake);
  auto intake_stub = v1::IntakeService::NewStub(intake->channel());
  auto dispatch_stub = v1::DispatchService::NewStub(dispatch->channel());
  v1::CreateOrderResponse resp;
  const auto good = OrderRequest("r-1");

  SECTION("unauthenticated and unauthorized") {
    CHECK(Create(*intake_stub, "", good, &resp).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(Create(*intake_stub, "forged-token", good, &resp).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(Create(*intake_stub, suite.token("auditor"), good, &resp).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::DispatchOrder d;
    v1::GetDispatchOrderRequest dget;
    dget.set_order_id("WO1");
    CHECK(dispatch_stub->GetDispatchOrder(Context("").get(), dget, &d).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(dispatch_stub->GetDispatchOrder(Context(suite.token("partner-a")).get(), dget, &d)
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  SECTION("malformed requests name the field") {
    auto no_customer = good;
    no_customer.clear_customer_id();
    grpc::Status s = Create(*intake_stub, suite.token("agent"), no_customer, &resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "customer_id: required");
    auto bad_text = good;
    bad_text.mutable_fault()->set_description("bell\a in the text");
    s = Create(*intake_stub, suite.token("agent"), bad_text, &resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(s.error_message(), "fault.description:"));
    v1::WorkOrder o;
    v1::GetOrderRequest get;
    s = intake_stub->GetOrder(Context(suite.token("agent")).get(), get, &o);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "order_id: required");
    get.set_order_id("WO-none");
    CHECK(intake_stub->GetOrder(Context(suite.token("agent")).get(), get, &o).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    v1::ListDispatchOrdersRequest list;
    list.mutable_page()->set_page_size(100000);
    v1::ListDispatchOrdersResponse lresp;
    s = dispatch_stub->ListDispatchOrders(Context(suite.token("agent")).get(), list, &lresp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(s.error_message(), "page.page_size:"));
    list.mutable_page()->set_page_size(0);
    list.set_state(static_cast<v1::DispatchState>(77));
    CHECK(dispatch_stub->ListDispatchOrders(Context(suite.token("agent")).get(), list, &lresp)
              .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  SECTION("oversized and undecodable requests") {
    auto huge = good;
    huge.mutable_fault()->set_description(std::string(2 << 20, 'x'));
    CHECK(Create(*intake_stub, suite.token("agent"), huge, &resp).error_code() ==
          grpc::StatusCode::RESOURCE_EXHAUSTED);
    std::string out;
    grpc::Status s = testing::RawUnaryCall(intake->channel(),
                                           "/aftersales.v1.IntakeService/CreateOrder",
                                           "\x0a\xff\xff\xff\xff\x0f garbage",
                                           suite.token("agent"), &out);
    // CreateOrder decodes its own bytes (a raw callback method, see
    // intake_service.h): INVALID_ARGUMENT, also for non-UTF-8 strings.
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(s.error_message(), "request: does not decode"));
    std::string not_utf8;
    auto bad_utf8 = good;
    bad_utf8.mutable_fault()->set_description("ok");
    bad_utf8.SerializeToString(&not_utf8);
    not_utf8.replace(not_utf8.find("ok"), 2, "\xff\xfe");
    s = testing::RawUnaryCall(intake->channel(), "/aftersales.v1.IntakeService/CreateOrder",
                              not_utf8, suite.token("agent"), &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    // A synchronous method: gRPC rejects bytes that do not decode before any
    // handler runs, and its C++ server answers INTERNAL for that.
    s = testing::RawUnaryCall(intake->channel(), "/aftersales.v1.IntakeService/GetOrder",
                              "\x0a\xff\xff\xff\xff\x0f garbage", suite.token("agent"), &out);
    CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
  }
  // Nothing was written: no event, nothing reached dispatch.
  CHECK(EventHead(*intake, suite.token("service")) == 0);
  CHECK(DispatchOrderIds(*dispatch_stub, suite.token("agent")).empty());
  // And both still serve.
  REQUIRE(Create(*intake_stub, suite.token("agent"), good, &resp).ok());
  CHECK(resp.created());
  REQUIRE(Eventually([&] {
    return DispatchOrderIds(*dispatch_stub, suite.token("agent")).size() == 1;
  }));
}

TEST_CASE("a manual clock is set through ClockAdmin and drives the service's time") {
  Suite suite;
  auto intake = suite.Intake(/*manual_clock=*/true);
  auto clock = v1::ClockAdmin::NewStub(intake->channel());
  auto names = testing::ReflectionServices(intake->channel());
  CHECK(std::count(names.begin(), names.end(), "aftersales.v1.ClockAdmin") == 1);

  // A whole second ahead of the real time the manual clock started at (a
  // fixed date would stop working once it has passed).
  const absl::Time t0 = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 50 * 86400);
  v1::SetTimeRequest set;
  set.mutable_now()->set_seconds(absl::ToUnixSeconds(t0));
  v1::ClockTime now;
  CHECK(clock->SetTime(Context(suite.token("agent")).get(), set, &now).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(clock->SetTime(Context("").get(), set, &now).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  REQUIRE(clock->SetTime(Context(suite.token("admin")).get(), set, &now).ok());
  CHECK(now.manual());
  CHECK(now.now().seconds() == absl::ToUnixSeconds(t0));

  auto intake_stub = v1::IntakeService::NewStub(intake->channel());
  v1::CreateOrderResponse resp;
  REQUIRE(Create(*intake_stub, suite.token("agent"), OrderRequest("t-1"), &resp).ok());
  CHECK(resp.order().created_at().seconds() == absl::ToUnixSeconds(t0));

  v1::AdvanceTimeRequest advance;
  advance.mutable_by()->set_seconds(3600);
  REQUIRE(clock->AdvanceTime(Context(suite.token("admin")).get(), advance, &now).ok());
  CHECK(now.now().seconds() == absl::ToUnixSeconds(t0) + 3600);
  REQUIRE(Create(*intake_stub, suite.token("agent"), OrderRequest("t-2"), &resp).ok());
  CHECK(resp.order().created_at().seconds() == absl::ToUnixSeconds(t0) + 3600);

  advance.mutable_by()->set_seconds(-5);
  CHECK(clock->AdvanceTime(Context(suite.token("admin")).get(), advance, &now).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(clock->SetTime(Context(suite.token("admin")).get(), set, &now).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);  // backwards
  CHECK(clock->SetTime(Context(suite.token("admin")).get(), v1::SetTimeRequest(), &now)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // A service on real time has no ClockAdmin at all.
  auto real = ServiceProcess(suite.Options("parts"));
  auto real_clock = v1::ClockAdmin::NewStub(real.channel());
  CHECK(real_clock->GetTime(Context(suite.token("admin")).get(), v1::GetTimeRequest(), &now)
            .error_code() == grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace aftersales
