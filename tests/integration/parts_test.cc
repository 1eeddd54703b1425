// The parts service as a real process: catalog, stock movements,
// reservations and queries over gRPC; intake's cancellation through its
// event stream; backorders filled in priority order with a real intake
// hearing "parts available"; a SIGKILL restart with an expiry that passed
// while the service was down; bad input on every RPC; the policy.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/order_driver.h"
#include "support/event_producer.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::FreeLoopbackPort;
using testing::AllEvents;
using testing::Context;
using testing::Eventually;
using Stub = v1::PartsService::Stub;

// Manual clocks start here (after the machine's real time, so SetTime is
// never needed and never goes backwards).
const absl::Time kStart = absl::FromUnixSeconds(1796090400);  // 2026-12-01T02:00:00Z
std::string Rfc3339(absl::Time t) { return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone()); }

// The value of an unlabelled metric (or the sum over its label sets).
double Metric(const std::string& text, const std::string& name) {
  double total = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name)) continue;
    const absl::string_view rest = line.substr(name.size());
    if (!rest.empty() && rest[0] != ' ' && rest[0] != '{') continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) total += v;
  }
  return total;
}

std::vector<v1::Event> Only(const std::vector<v1::Event>& events, v1::Event::BodyCase body) {
  std::vector<v1::Event> out;
  for (const auto& e : events) {
    if (e.body_case() == body) out.push_back(e);
  }
  return out;
}

struct PartsSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer intake{dir.Sub("scripted-intake"), &registry};
  std::unique_ptr<testing::ServiceProcess> parts;
  std::unique_ptr<Stub> stub;
  int requests = 0;

  explicit PartsSuite(absl::Time start = kStart) {
    intake.Up();
    Start(start);
  }

  void Start(absl::Time start) {
    testing::ServiceProcess::Options o;
    o.name = "parts";
    o.data_dir = dir.Sub("parts");
    o.tokens = &tokens;
    o.manual_clock = true;
    o.peers["intake"] = intake.address();
    o.extra_flags = {"--clock_start=" + Rfc3339(start)};
    parts.reset();
    // A new process object on the same data numbers its port files from 1
    // again: drop the previous process's file so its old port is not read.
    std::remove((o.data_dir + ".parts.ports.1").c_str());
    parts = std::make_unique<testing::ServiceProcess>(o);
    stub = v1::PartsService::NewStub(parts->channel());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void Advance(absl::Duration d) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(d);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(parts->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  void Part(const std::string& sku, bool lot_tracked = false) {
    v1::UpsertPartRequest req;
    v1::Part* p = req.mutable_part();
    p->set_sku(sku);
    p->set_name("part " + sku);
    p->add_compatible_categories("FRIDGE");
    p->add_compatible_models("BCD-520");
    p->mutable_unit_price()->set_currency_code("CNY");
    p->mutable_unit_price()->set_amount_minor(68000);
    p->set_warranty_days(365);
    p->set_lot_tracked(lot_tracked);
    p->set_active(true);
    v1::Part out;
    grpc::Status s = stub->UpsertPart(Context(token("admin")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  void Location(const std::string& id, v1::LocationKind kind, double lat, double lng,
                const std::string& partner = "", const std::string& engineer = "") {
    v1::UpsertLocationRequest req;
    v1::StockLocation* l = req.mutable_location();
    l->set_location_id(id);
    l->set_kind(kind);
    l->set_name(id);
    l->mutable_point()->set_lat_deg(lat);
    l->mutable_point()->set_lng_deg(lng);
    l->set_region_code("CN-310000");
    l->set_partner_id(partner);
    l->set_engineer_id(engineer);
    l->set_active(true);
    v1::StockLocation out;
    grpc::Status s = stub->UpsertLocation(Context(token("admin")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  v1::ReceiveResponse Receive(const std::string& loc, const std::string& sku, int64_t qty,
                              const std::string& lot = "", const std::string& who = "admin") {
    v1::ReceiveRequest req;
    req.set_request_id(absl::StrCat("rcv-", ++requests));
    req.set_location_id(loc);
    req.set_sku(sku);
    req.set_quantity(qty);
    req.set_lot_number(lot);
    v1::ReceiveResponse resp;
    grpc::Status s = stub->Receive(Context(token(who)).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  v1::ReserveRequest ReserveRequest(const std::string& order, const std::string& sku,
                                    int64_t qty) {
    v1::ReserveRequest req;
    req.set_order_id(order);
    req.set_sku(sku);
    req.set_quantity(qty);
    req.mutable_near()->set_lat_deg(31.23);
    req.mutable_near()->set_lng_deg(121.47);
    return req;
  }

  v1::ReserveResponse Reserve(const std::string& order, const std::string& sku, int64_t qty,
                              const std::string& who = "service") {
    v1::ReserveResponse resp;
    grpc::Status s =
        stub->Reserve(Context(token(who)).get(), ReserveRequest(order, sku, qty), &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  v1::OrderParts OrderParts(const std::string& order) {
    v1::ListOrderPartsRequest req;
    req.set_order_id(order);
    v1::OrderParts resp;
    REQUIRE(stub->ListOrderParts(Context(token("agent")).get(), req, &resp).ok());
    return resp;
  }

  v1::StockLevel Level(const std::string& loc, const std::string& sku) {
    v1::GetStockByLocationRequest req;
    req.set_location_id(loc);
    v1::GetStockByLocationResponse resp;
    REQUIRE(stub->GetStockByLocation(Context(token("admin")).get(), req, &resp).ok());
    for (const auto& l : resp.levels()) {
      if (l.sku() == sku) return l;
    }
    return v1::StockLevel();
  }

  std::vector<v1::Event> Events() { return AllEvents(parts->channel(), token("service")); }
};

TEST_CASE("catalog, stock movements, reservations and queries through the real service") {
  PartsSuite s;
  s.Part("CMP-220");
  s.Part("PCB-7", /*lot_tracked=*/true);
  s.Location("VAN-E1", v1::LOCATION_KIND_ENGINEER_VAN, 31.30, 121.60, "PA", "E1");
  s.Location("OUT-PA", v1::LOCATION_KIND_OUTLET, 31.24, 121.48, "PA");
  s.Location("WH-SH", v1::LOCATION_KIND_REGIONAL_WAREHOUSE, 31.10, 121.30);
  s.Location("CENTRAL", v1::LOCATION_KIND_CENTRAL_WAREHOUSE, 39.90, 116.40);

  // Partner A books stock into its own outlet; partner B may not.
  s.Receive("OUT-PA", "CMP-220", 3, "", "partner-a");
  v1::ReceiveRequest foreign;
  foreign.set_request_id("pb-1");
  foreign.set_location_id("OUT-PA");
  foreign.set_sku("CMP-220");
  foreign.set_quantity(1);
  v1::ReceiveResponse ignored;
  CHECK(s.stub->Receive(Context(s.token("partner-b")).get(), foreign, &ignored).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  s.Receive("VAN-E1", "CMP-220", 1);
  s.Receive("CENTRAL", "CMP-220", 50);
  s.Receive("WH-SH", "PCB-7", 10, "LOT-2026-11-A");

  // A retried receipt is the same receipt, not more stock.
  v1::ReceiveRequest again;
  again.set_request_id("rcv-1");
  again.set_location_id("OUT-PA");
  again.set_sku("CMP-220");
  again.set_quantity(3);
  v1::ReceiveResponse replay;
  REQUIRE(s.stub->Receive(Context(s.token("partner-a")).get(), again, &replay).ok());
  CHECK(replay.stock().on_hand() == 3);
  again.set_quantity(4);
  CHECK(s.stub->Receive(Context(s.token("partner-a")).get(), again, &replay).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  // Availability near the service point, nearest first; the central
  // warehouse in Beijing is outside a 100 km radius.
  v1::GetAvailabilityRequest av;
  av.set_sku("CMP-220");
  av.mutable_near()->set_lat_deg(31.23);
  av.mutable_near()->set_lng_deg(121.47);
  av.set_radius_km(100);
  v1::GetAvailabilityResponse avail;
  REQUIRE(s.stub->GetAvailability(Context(s.token("engineer")).get(), av, &avail).ok());
  REQUIRE(avail.locations_size() == 2);
  CHECK(avail.locations(0).location().location_id() == "OUT-PA");
  CHECK(avail.locations(1).location().location_id() == "VAN-E1");
  CHECK(avail.locations(0).distance_km() < avail.locations(1).distance_km());
  CHECK(avail.total_available() == 54);
  av.set_radius_km(0);
  REQUIRE(s.stub->GetAvailability(Context(s.token("engineer")).get(), av, &avail).ok());
  CHECK(avail.locations_size() == 3);

  // The engineer's reservation comes from their own van; an agent's from the outlet.
  v1::ReserveResponse by_engineer;
  REQUIRE(s.stub->Reserve(Context(s.token("engineer")).get(),
                          s.ReserveRequest("WO-1", "CMP-220", 1), &by_engineer)
              .ok());
  CHECK(by_engineer.reservation().location_id() == "VAN-E1");
  CHECK(by_engineer.reservation().engineer_id() == "E1");
  v1::ReserveResponse by_agent = s.Reserve("WO-2", "CMP-220", 2, "agent");
  CHECK(by_agent.outcome() == v1::RESERVE_OUTCOME_RESERVED);
  CHECK(by_agent.reservation().location_id() == "OUT-PA");
  CHECK(rpc::FromProto(by_agent.reservation().expires_at()) == kStart + absl::Hours(48));
  // Four units: no van or outlet has them, the regional warehouse has none:
  // the central warehouse serves.
  CHECK(s.Reserve("WO-3", "CMP-220", 4).reservation().location_id() == "CENTRAL");
  CHECK(s.Level("OUT-PA", "CMP-220").available() == 1);

  // Consume with a lot: PCB-7 is lot-tracked.
  v1::ReserveResponse pcb = s.Reserve("WO-2", "PCB-7", 2);
  REQUIRE(pcb.reservation().location_id() == "WH-SH");
  v1::ConsumeRequest consume;
  consume.set_request_id("use-1");
  consume.set_reservation_id(pcb.reservation().reservation_id());
  consume.set_quantity(1);
  v1::Consumption used;
  CHECK(s.stub->Consume(Context(s.token("engineer")).get(), consume, &used).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  consume.set_lot_number("LOT-2026-11-A");
  REQUIRE(s.stub->Consume(Context(s.token("engineer")).get(), consume, &used).ok());
  CHECK(used.engineer_id() == "E1");
  CHECK(used.order_id() == "WO-2");
  v1::TraceLotRequest trace;
  trace.set_lot_number("LOT-2026-11-A");
  v1::TraceLotResponse traced;
  REQUIRE(s.stub->TraceLot(Context(s.token("auditor")).get(), trace, &traced).ok());
  REQUIRE(traced.order_ids_size() == 1);
  CHECK(traced.order_ids(0) == "WO-2");
  CHECK(traced.receipts_size() == 1);
  CHECK(traced.consumptions_size() == 1);

  // The order's parts: both reservations (one partly consumed) and the consumption.
  v1::OrderParts wo2 = s.OrderParts("WO-2");
  CHECK(wo2.reservations_size() == 2);
  CHECK(wo2.consumptions_size() == 1);
  CHECK(wo2.all_available());

  // Release the rest of WO-2: both reservations end, stock comes back.
  v1::ReleaseRequest release;
  release.set_order_id("WO-2");
  release.set_reason(v1::RELEASE_REASON_NOT_NEEDED);
  v1::ReleaseResponse released;
  REQUIRE(s.stub->Release(Context(s.token("agent")).get(), release, &released).ok());
  CHECK(released.released_size() == 2);
  CHECK(s.Level("OUT-PA", "CMP-220").available() == 3);
  CHECK(s.Level("WH-SH", "PCB-7").on_hand() == 9);
  CHECK(s.Level("WH-SH", "PCB-7").reserved() == 0);
  REQUIRE(s.stub->Release(Context(s.token("agent")).get(), release, &released).ok());
  CHECK(released.released_size() == 0);  // nothing new the second time

  // Transfer: in transit until received.
  v1::TransferRequest tr;
  tr.set_request_id("tr-1");
  tr.set_sku("CMP-220");
  tr.set_quantity(5);
  tr.set_from_location_id("CENTRAL");
  tr.set_to_location_id("WH-SH");
  v1::StockTransfer shipped;
  REQUIRE(s.stub->Transfer(Context(s.token("service")).get(), tr, &shipped).ok());
  CHECK(s.Level("WH-SH", "CMP-220").in_transit() == 5);
  CHECK(s.Level("WH-SH", "CMP-220").available() == 0);
  v1::ReceiveTransferRequest rt;
  rt.set_transfer_id(shipped.transfer_id());
  v1::StockTransfer arrived;
  REQUIRE(s.stub->ReceiveTransfer(Context(s.token("service")).get(), rt, &arrived).ok());
  CHECK(arrived.state() == v1::TRANSFER_STATE_RECEIVED);
  CHECK(s.Level("WH-SH", "CMP-220").on_hand() == 5);

  // Reorder point: the outlet has 3 available, the point is 4 -> low stock.
  v1::SetReorderPolicyRequest rp;
  rp.set_location_id("OUT-PA");
  rp.set_sku("CMP-220");
  rp.set_reorder_point(4);
  rp.set_reorder_qty(10);
  v1::StockLevel level;
  REQUIRE(s.stub->SetReorderPolicy(Context(s.token("admin")).get(), rp, &level).ok());
  CHECK(level.reorder_point() == 4);
  v1::ListLowStockRequest low_req;
  low_req.set_location_kind(v1::LOCATION_KIND_OUTLET);
  v1::ListLowStockResponse low;
  REQUIRE(s.stub->ListLowStock(Context(s.token("agent")).get(), low_req, &low).ok());
  REQUIRE(low.levels_size() == 1);
  CHECK(low.levels(0).location_id() == "OUT-PA");
  low_req.set_location_kind(v1::LOCATION_KIND_CENTRAL_WAREHOUSE);
  REQUIRE(s.stub->ListLowStock(Context(s.token("agent")).get(), low_req, &low).ok());
  CHECK(low.levels_size() == 0);
  // An adjustment that brings it back above the point ends the signal.
  v1::AdjustRequest adj;
  adj.set_request_id("adj-1");
  adj.set_location_id("OUT-PA");
  adj.set_sku("CMP-220");
  adj.set_delta(2);
  adj.set_reason(v1::ADJUSTMENT_REASON_RETURNED);
  v1::AdjustResponse adjusted;
  REQUIRE(s.stub->Adjust(Context(s.token("partner-a")).get(), adj, &adjusted).ok());
  CHECK(adjusted.stock().available() == 5);
  adj.set_request_id("adj-2");
  adj.set_delta(-100);
  adj.set_reason(v1::ADJUSTMENT_REASON_LOST);
  grpc::Status too_much = s.stub->Adjust(Context(s.token("partner-a")).get(), adj, &adjusted);
  CHECK(too_much.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StrContains(too_much.error_message(), "available"));

  // Stock by location, paged.
  v1::GetStockByLocationRequest by_loc;
  by_loc.set_location_id("WH-SH");
  by_loc.mutable_page()->set_page_size(1);
  v1::GetStockByLocationResponse page1, page2;
  REQUIRE(s.stub->GetStockByLocation(Context(s.token("admin")).get(), by_loc, &page1).ok());
  REQUIRE(page1.levels_size() == 1);
  CHECK(page1.levels(0).sku() == "CMP-220");
  CHECK(page1.levels(0).location_kind() == v1::LOCATION_KIND_REGIONAL_WAREHOUSE);
  by_loc.mutable_page()->set_page_token(page1.next_page_token());
  REQUIRE(s.stub->GetStockByLocation(Context(s.token("admin")).get(), by_loc, &page2).ok());
  REQUIRE(page2.levels_size() == 1);
  CHECK(page2.levels(0).sku() == "PCB-7");
  CHECK(page2.next_page_token().empty());
  // Partner B does not see partner A's outlet.
  by_loc.set_location_id("OUT-PA");
  by_loc.clear_page();
  CHECK(s.stub->GetStockByLocation(Context(s.token("partner-b")).get(), by_loc, &page1)
            .error_code() == grpc::StatusCode::NOT_FOUND);

  // Parts by compatibility.
  v1::ListPartsRequest lp;
  lp.set_appliance_category("FRIDGE");
  v1::ListPartsResponse parts;
  REQUIRE(s.stub->ListParts(Context(s.token("agent")).get(), lp, &parts).ok());
  CHECK(parts.parts_size() == 2);
  lp.set_appliance_category("WASHER");
  REQUIRE(s.stub->ListParts(Context(s.token("agent")).get(), lp, &parts).ok());
  CHECK(parts.parts_size() == 0);

  // The ledger: units are conserved.
  v1::GetSkuSummaryRequest sum_req;
  sum_req.set_sku("CMP-220");
  v1::SkuSummary sum;
  REQUIRE(s.stub->GetSkuSummary(Context(s.token("auditor")).get(), sum_req, &sum).ok());
  CHECK(sum.received() == 54);
  CHECK(sum.adjusted() == 2);
  CHECK(sum.on_hand() + sum.in_transit() == sum.received() - sum.consumed() + sum.adjusted());
  CHECK(sum.reserve_requests() == 3);
  CHECK(sum.fill_rate() == 1.0);

  // What the service told the world.
  const auto events = s.Events();
  CHECK(Only(events, v1::Event::kPartsReserved).size() == 4);
  CHECK(Only(events, v1::Event::kPartsConsumed).size() == 1);
  CHECK(Only(events, v1::Event::kReservationReleased).size() == 2);
  auto low_events = Only(events, v1::Event::kLowStock);
  REQUIRE(low_events.size() == 1);
  CHECK(low_events[0].subject_id() == "OUT-PA/CMP-220");
  CHECK(low_events[0].low_stock().reorder_qty() == 10);

  const std::string metrics = s.parts->ScrapeMetrics();
  CHECK(Metric(metrics, "aftersales_parts_fill_rate_ratio") == 1.0);
  CHECK(Metric(metrics, "aftersales_parts_reservations_total") == 4);
  CHECK(Metric(metrics, "aftersales_parts_low_stock_levels") == 0);
  CHECK(Metric(metrics, "aftersales_parts_low_stock_signals_total") == 1);
  CHECK(Metric(metrics, "aftersales_parts_invariant_violations_total") == 0);
  CHECK(Metric(metrics, "aftersales_parts_stock_changes_refused_total") == 1);
  CHECK(absl::StrContains(metrics, "aftersales_parts_backorder_age_seconds"));
  CHECK(absl::StrContains(metrics, "aftersales_parts_stock_value_minor{currency=\"CNY\"}"));
}

TEST_CASE("intake's cancellation releases the order's reservations and cancels its backorders") {
  PartsSuite s;
  s.Part("CMP-220");
  s.Location("OUT-PA", v1::LOCATION_KIND_OUTLET, 31.24, 121.48, "PA");
  s.Receive("OUT-PA", "CMP-220", 1);
  REQUIRE(s.Reserve("WO-C", "CMP-220", 1).outcome() == v1::RESERVE_OUTCOME_RESERVED);
  s.Part("VALVE");
  REQUIRE(s.Reserve("WO-C", "VALVE", 1).outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  REQUIRE(s.Reserve("WO-W", "CMP-220", 1).outcome() == v1::RESERVE_OUTCOME_BACKORDERED);

  v1::Event e;
  e.set_producer("intake");
  e.set_subject_id("WO-C");
  e.mutable_order_cancelled()->set_order_id("WO-C");
  e.mutable_order_cancelled()->set_reason(v1::CANCEL_REASON_CUSTOMER_REQUEST);
  s.intake.Emit(e);
  REQUIRE(Eventually([&] {
    const v1::OrderParts p = s.OrderParts("WO-C");
    return p.reservations_size() == 1 &&
           p.reservations(0).state() == v1::RESERVATION_STATE_RELEASED;
  }));
  const v1::OrderParts cancelled = s.OrderParts("WO-C");
  CHECK(cancelled.reservations(0).release_reason() == v1::RELEASE_REASON_ORDER_CANCELLED);
  REQUIRE(cancelled.backorders_size() == 1);
  CHECK(cancelled.backorders(0).state() == v1::BACKORDER_STATE_CANCELLED);
  // The released unit went to the waiting order in the same change.
  const v1::OrderParts waiting = s.OrderParts("WO-W");
  REQUIRE(waiting.reservations_size() == 1);
  CHECK(waiting.reservations(0).state() == v1::RESERVATION_STATE_ACTIVE);
  CHECK(waiting.all_available());
  // The cancelled order reserves nothing more.
  v1::ReserveResponse resp;
  CHECK(s.stub->Reserve(Context(s.token("service")).get(),
                        s.ReserveRequest("WO-C", "CMP-220", 1), &resp)
            .error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  const auto events = s.Events();
  CHECK(Only(events, v1::Event::kReservationReleased).size() == 1);
  CHECK(Only(events, v1::Event::kPartsAvailable).size() == 1);
}

// Intake's order, created and taken to IN_REPAIR with a scripted dispatch.
struct IntakeOrders {
  testing::EventProducer& dispatch;
  v1::IntakeService::Stub& intake;
  const testing::TestTokens& tokens;
  int offers = 0;

  v1::WorkOrder Get(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    REQUIRE(intake.GetOrder(Context(tokens.token.at("agent")).get(), req, &o).ok());
    return o;
  }

  v1::WorkOrder Apply(const std::string& id, const std::string& event_id,
                      const std::function<void(v1::ProgressReport&)>& fill,
                      const std::string& who = "engineer") {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(id);
    req.mutable_report()->set_client_event_id(event_id);
    fill(*req.mutable_report());
    v1::ReportProgressResponse resp;
    grpc::Status s = intake.ReportProgress(Context(tokens.token.at(who)).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp.order();
  }

  std::string CreateInRepair(const std::string& request_id, bool emergency) {
    v1::CreateOrderRequest req = testing::SampleOrderRequest(request_id, "SN-" + request_id);
    if (!emergency) {
      req.mutable_appliance()->set_category("WASHING_MACHINE");
      req.mutable_fault()->set_description("door seal worn, drum noisy");
    }
    v1::CreateOrderResponse created;
    REQUIRE(intake.CreateOrder(Context(tokens.token.at("partner-a")).get(), req, &created).ok());
    const std::string id = created.order().order_id();
    REQUIRE(created.order().priority() ==
            (emergency ? v1::PRIORITY_EMERGENCY : v1::PRIORITY_NORMAL));
    v1::Event e;
    e.set_producer("dispatch");
    e.set_subject_id(id);
    auto* a = e.mutable_offer_accepted();
    a->set_offer_id(absl::StrCat("OF-", ++offers));
    a->set_order_id(id);
    a->set_engineer_id("E1");
    a->set_partner_id("PA");
    a->set_attempt(1);
    a->mutable_engineer()->set_engineer_id("E1");
    dispatch.Emit(e);
    REQUIRE(Eventually([&] { return Get(id).assignment().engineer_id() == "E1"; }));
    Apply(id, "c1", [](v1::ProgressReport& r) { r.mutable_contacted(); });
    Apply(id, "c2", [](v1::ProgressReport& r) { r.mutable_departed(); });
    Apply(id, "c3", [](v1::ProgressReport& r) { r.mutable_arrived(); });
    Apply(id, "c4", [](v1::ProgressReport& r) {
      r.mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("COMPRESSOR");
      r.mutable_diagnosed()->mutable_diagnosis()->set_parts_needed(true);
    });
    REQUIRE(Get(id).state() == v1::ORDER_STATE_DIAGNOSED);
    // Past the fee gate (waiting for parts must not bypass it).
    const v1::WorkOrder quoted = Apply(id, "c5", [](v1::ProgressReport& r) {
      auto* line = r.mutable_quoted()->add_lines();
      line->set_kind(v1::QUOTE_LINE_KIND_PART);
      line->set_sku("CMP-220");
      line->set_description("compressor");
      line->set_quantity(1);
      line->mutable_unit_price()->set_currency_code("CNY");
      line->mutable_unit_price()->set_amount_minor(68000);
    });
    Apply(
        id, "c6",
        [&](v1::ProgressReport& r) {
          r.mutable_fee_decision()->set_quote_id(quoted.quote().quote_id());
          r.mutable_fee_decision()->set_accepted(true);
          r.mutable_fee_decision()->set_method(v1::CONSENT_METHOD_TEXT);
          r.mutable_fee_decision()->set_evidence_ref("app-tick");
        },
        "app");
    REQUIRE(Get(id).state() == v1::ORDER_STATE_IN_REPAIR);
    return id;
  }
};

int PartsAvailableTransitions(const v1::WorkOrder& o) {
  int n = 0;
  for (const auto& t : o.transitions()) {
    if (t.milestone() == v1::PROGRESS_MILESTONE_PARTS_AVAILABLE) ++n;
  }
  return n;
}

TEST_CASE("a receipt of two fills the EMERGENCY backorder then the older NORMAL, and intake hears exactly those two") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer dispatch(dir.Sub("scripted-dispatch"), &registry);
  dispatch.Up();
  const int parts_port = FreeLoopbackPort();

  // Intake and parts follow each other's streams.
  testing::ServiceProcess::Options io;
  io.name = "intake";
  io.data_dir = dir.Sub("intake");
  io.tokens = &tokens;
  io.peers["dispatch"] = dispatch.address();
  io.peers["parts"] = absl::StrCat("127.0.0.1:", parts_port);
  testing::ServiceProcess intake(io);
  testing::ServiceProcess::Options po;
  po.name = "parts";
  po.data_dir = dir.Sub("parts");
  po.tokens = &tokens;
  po.grpc_port = parts_port;
  po.peers["intake"] = intake.address();
  testing::ServiceProcess parts(po);
  auto intake_stub = v1::IntakeService::NewStub(intake.channel());
  auto stub = v1::PartsService::NewStub(parts.channel());
  const std::string& admin = tokens.token.at("admin");
  const std::string& service = tokens.token.at("service");

  {
    v1::UpsertPartRequest req;
    req.mutable_part()->set_sku("CMP-220");
    req.mutable_part()->set_name("compressor");
    req.mutable_part()->set_active(true);
    v1::Part p;
    REQUIRE(stub->UpsertPart(Context(admin).get(), req, &p).ok());
    v1::UpsertLocationRequest loc;
    loc.mutable_location()->set_location_id("OUT-PA");
    loc.mutable_location()->set_kind(v1::LOCATION_KIND_OUTLET);
    loc.mutable_location()->set_name("Pudong outlet");
    loc.mutable_location()->mutable_point()->set_lat_deg(31.24);
    loc.mutable_location()->mutable_point()->set_lng_deg(121.48);
    loc.mutable_location()->set_region_code("CN-310000");
    loc.mutable_location()->set_active(true);
    v1::StockLocation l;
    REQUIRE(stub->UpsertLocation(Context(admin).get(), loc, &l).ok());
  }

  IntakeOrders orders{dispatch, *intake_stub, tokens};
  const std::string normal_old = orders.CreateInRepair("bo-old", false);
  const std::string emergency = orders.CreateInRepair("bo-emg", true);
  const std::string normal_new = orders.CreateInRepair("bo-new", false);

  // The engineer asks for the part: nothing in stock. The requests carry no
  // priority: parts takes it from intake's OrderCreated events.
  for (const std::string& id : {normal_old, emergency, normal_new}) {
    v1::ReserveRequest req;
    req.set_order_id(id);
    req.set_sku("CMP-220");
    req.set_quantity(1);
    req.mutable_near()->set_lat_deg(31.23);
    req.mutable_near()->set_lng_deg(121.47);
    v1::ReserveResponse resp;
    REQUIRE(stub->Reserve(Context(service).get(), req, &resp).ok());
    REQUIRE(resp.outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
    absl::SleepFor(absl::Milliseconds(20));  // distinct queue ages
  }
  auto backorder_of = [&](const std::string& id) {
    v1::ListOrderPartsRequest req;
    req.set_order_id(id);
    v1::OrderParts p;
    REQUIRE(stub->ListOrderParts(Context(service).get(), req, &p).ok());
    REQUIRE(p.backorders_size() == 1);
    return p.backorders(0);
  };
  REQUIRE(Eventually([&] { return backorder_of(emergency).priority() == v1::PRIORITY_EMERGENCY; }));
  CHECK(backorder_of(normal_old).priority() == v1::PRIORITY_NORMAL);
  // Intake heard "backordered": all three wait for parts.
  for (const std::string& id : {normal_old, emergency, normal_new}) {
    REQUIRE(Eventually([&] { return orders.Get(id).state() == v1::ORDER_STATE_WAITING_PARTS; }));
  }

  v1::ReceiveRequest receipt;
  receipt.set_request_id("delivery-1");
  receipt.set_location_id("OUT-PA");
  receipt.set_sku("CMP-220");
  receipt.set_quantity(2);
  v1::ReceiveResponse received;
  REQUIRE(stub->Receive(Context(admin).get(), receipt, &received).ok());
  REQUIRE(received.allocated_size() == 2);
  CHECK(received.allocated(0).order_id() == emergency);
  CHECK(received.allocated(1).order_id() == normal_old);
  CHECK(received.stock().available() == 0);

  // Intake leaves WAITING_PARTS for exactly those two.
  REQUIRE(Eventually([&] {
    return orders.Get(emergency).state() == v1::ORDER_STATE_IN_REPAIR &&
           orders.Get(normal_old).state() == v1::ORDER_STATE_IN_REPAIR;
  }));
  absl::SleepFor(absl::Milliseconds(800));  // anything else would have arrived by now
  CHECK(orders.Get(normal_new).state() == v1::ORDER_STATE_WAITING_PARTS);
  CHECK(PartsAvailableTransitions(orders.Get(emergency)) == 1);
  CHECK(PartsAvailableTransitions(orders.Get(normal_old)) == 1);
  CHECK(PartsAvailableTransitions(orders.Get(normal_new)) == 0);
  CHECK(backorder_of(normal_new).state() == v1::BACKORDER_STATE_WAITING);

  const auto available = Only(AllEvents(parts.channel(), service), v1::Event::kPartsAvailable);
  REQUIRE(available.size() == 2);
  CHECK(available[0].parts_available().order_id() == emergency);
  CHECK(available[1].parts_available().order_id() == normal_old);
  CHECK(available[0].parts_available().all_available());
  CHECK(available[1].parts_available().all_available());
  const std::string metrics = parts.ScrapeMetrics();
  CHECK(Metric(metrics, "aftersales_parts_backorders_waiting") == 1);
  CHECK(Metric(metrics, "aftersales_parts_fill_rate_ratio") == 0);
  CHECK(Metric(metrics, "aftersales_parts_backorder_age_seconds_count") == 2);
}

TEST_CASE("a reservation survives SIGKILL and one that expired while the service was down is released on start") {
  PartsSuite s;
  s.Part("CMP-220");
  s.Location("OUT-PA", v1::LOCATION_KIND_OUTLET, 31.24, 121.48, "PA");
  s.Receive("OUT-PA", "CMP-220", 3);
  const v1::ReserveResponse early = s.Reserve("WO-EARLY", "CMP-220", 1);
  s.Advance(absl::Hours(47));
  const v1::ReserveResponse late = s.Reserve("WO-LATE", "CMP-220", 1);
  REQUIRE(late.outcome() == v1::RESERVE_OUTCOME_RESERVED);
  REQUIRE(s.Level("OUT-PA", "CMP-220").reserved() == 2);

  s.parts->Kill();  // SIGKILL: no clean shutdown
  // Back 50 h after the start: WO-EARLY expired 2 h ago, WO-LATE has 45 h left.
  s.Start(kStart + absl::Hours(50));

  // Released before the service answered its first call.
  const v1::OrderParts early_parts = s.OrderParts("WO-EARLY");
  REQUIRE(early_parts.reservations_size() == 1);
  CHECK(early_parts.reservations(0).state() == v1::RESERVATION_STATE_EXPIRED);
  CHECK(rpc::FromProto(early_parts.reservations(0).closed_at()) == kStart + absl::Hours(50));
  const v1::OrderParts late_parts = s.OrderParts("WO-LATE");
  REQUIRE(late_parts.reservations_size() == 1);
  CHECK(late_parts.reservations(0).state() == v1::RESERVATION_STATE_ACTIVE);
  CHECK(late_parts.reservations(0).reservation_id() == late.reservation().reservation_id());
  const v1::StockLevel level = s.Level("OUT-PA", "CMP-220");
  CHECK(level.reserved() == 1);
  CHECK(level.available() == 2);
  // The retry of the surviving reservation returns it.
  const v1::ReserveResponse retry = s.Reserve("WO-LATE", "CMP-220", 1);
  CHECK_FALSE(retry.created());
  CHECK(retry.reservation().reservation_id() == late.reservation().reservation_id());

  auto expired = Only(s.Events(), v1::Event::kReservationExpired);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].reservation_expired().reservation_id() ==
        early.reservation().reservation_id());
  CHECK(Metric(s.parts->ScrapeMetrics(), "aftersales_parts_reservations_expired_total") == 1);

  // The live sweeper follows the clock: WO-LATE expires at 47 h + 48 h.
  s.Advance(absl::Hours(45));
  REQUIRE(Eventually([&] {
    return s.OrderParts("WO-LATE").reservations(0).state() == v1::RESERVATION_STATE_EXPIRED;
  }));
  CHECK(s.Level("OUT-PA", "CMP-220").reserved() == 0);
  // A clean restart expires nothing twice.
  s.parts->Stop();
  s.Start(kStart + absl::Hours(100));
  CHECK(Only(s.Events(), v1::Event::kReservationExpired).size() == 2);
}

// ---- bad input ----

template <typename Req, typename Resp>
using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Req&, Resp*);

struct RpcCase {
  std::string name;
  std::function<grpc::Status(const std::string& token)> valid;
  std::function<grpc::Status(const std::string& token)> malformed;
  std::string malformed_field;
  std::function<grpc::Status(const std::string& token)> oversized;
};

template <typename Req, typename Resp>
RpcCase Case(Stub* stub, const std::string& name, Method<Req, Resp> method, const Req& valid,
             const Req& malformed, const std::string& field, const Req& oversized) {
  auto call = [stub, method](const Req& req) {
    return [stub, method, req](const std::string& token) {
      Resp resp;
      auto ctx = Context(token);
      return (stub->*method)(ctx.get(), req, &resp);
    };
  };
  return {name, call(valid), call(malformed), field, call(oversized)};
}

TEST_CASE("bad input on every RPC gets the right status and changes nothing") {
  PartsSuite s;
  s.Part("CMP-220");
  s.Location("OUT-PA", v1::LOCATION_KIND_OUTLET, 31.24, 121.48, "PA");
  s.Receive("OUT-PA", "CMP-220", 2);
  const v1::ReserveResponse held = s.Reserve("WO-1", "CMP-220", 1);
  const std::string big(1100 * 1024, 'x');
  Stub* stub = s.stub.get();
  std::vector<RpcCase> cases;

  {
    v1::UpsertPartRequest ok, bad, huge;
    ok.mutable_part()->set_sku("NEW-1");
    ok.mutable_part()->set_name("new part");
    bad = ok;
    bad.mutable_part()->set_warranty_days(-1);
    huge = ok;
    huge.mutable_part()->set_description(big);
    cases.push_back(Case(stub, "UpsertPart", &Stub::UpsertPart, ok, bad, "part.warranty_days", huge));
  }
  {
    v1::GetPartRequest ok, bad, huge;
    ok.set_sku("CMP-220");
    bad.set_sku("bad sku");
    huge.set_sku(big);
    cases.push_back(Case(stub, "GetPart", &Stub::GetPart, ok, bad, "sku", huge));
  }
  {
    v1::ListPartsRequest ok, bad, huge;
    bad.mutable_page()->set_page_size(501);
    huge.set_model(big);
    cases.push_back(Case(stub, "ListParts", &Stub::ListParts, ok, bad, "page.page_size", huge));
  }
  {
    v1::UpsertLocationRequest ok, bad, huge;
    auto* l = ok.mutable_location();
    l->set_location_id("NEW-LOC");
    l->set_kind(v1::LOCATION_KIND_OUTLET);
    l->set_name("new");
    l->set_region_code("CN-310000");
    l->mutable_point()->set_lat_deg(31);
    l->mutable_point()->set_lng_deg(121);
    bad = ok;
    bad.mutable_location()->mutable_point()->set_lng_deg(200);
    huge = ok;
    huge.mutable_location()->set_name(big);
    cases.push_back(Case(stub, "UpsertLocation", &Stub::UpsertLocation, ok, bad,
                         "location.point.lng_deg", huge));
  }
  {
    v1::GetLocationRequest ok, bad, huge;
    ok.set_location_id("OUT-PA");
    huge.set_location_id(big);
    cases.push_back(Case(stub, "GetLocation", &Stub::GetLocation, ok, bad, "location_id", huge));
  }
  {
    v1::ReceiveRequest ok, bad, huge;
    ok.set_request_id("bad-rcv");
    ok.set_location_id("OUT-PA");
    ok.set_sku("CMP-220");
    ok.set_quantity(1);
    bad = ok;
    bad.set_quantity(0);
    huge = ok;
    huge.set_supplier_ref(big);
    cases.push_back(Case(stub, "Receive", &Stub::Receive, ok, bad, "quantity", huge));
  }
  {
    v1::AdjustRequest ok, bad, huge;
    ok.set_request_id("bad-adj");
    ok.set_location_id("OUT-PA");
    ok.set_sku("CMP-220");
    ok.set_delta(1);
    ok.set_reason(v1::ADJUSTMENT_REASON_OTHER);
    bad = ok;
    bad.clear_reason();
    huge = ok;
    huge.set_note(big);
    cases.push_back(Case(stub, "Adjust", &Stub::Adjust, ok, bad, "reason", huge));
  }
  {
    v1::TransferRequest ok, bad, huge;
    ok.set_request_id("bad-tr");
    ok.set_sku("CMP-220");
    ok.set_quantity(1);
    ok.set_from_location_id("OUT-PA");
    ok.set_to_location_id("OUT-PA-2");
    bad = ok;
    bad.set_to_location_id("OUT-PA");
    huge = ok;
    huge.set_lot_number(big);
    cases.push_back(Case(stub, "Transfer", &Stub::Transfer, ok, bad, "to_location_id", huge));
  }
  {
    v1::ReceiveTransferRequest ok, bad, huge;
    ok.set_transfer_id("TR-none");
    huge.set_transfer_id(big);
    cases.push_back(
        Case(stub, "ReceiveTransfer", &Stub::ReceiveTransfer, ok, bad, "transfer_id", huge));
  }
  {
    v1::ReserveRequest ok = s.ReserveRequest("WO-2", "CMP-220", 1), bad = ok, huge = ok;
    bad.mutable_near()->set_lat_deg(-91);
    huge.set_region_code(big);
    cases.push_back(Case(stub, "Reserve", &Stub::Reserve, ok, bad, "near.lat_deg", huge));
  }
  {
    v1::ConsumeRequest ok, bad, huge;
    ok.set_request_id("bad-use");
    ok.set_reservation_id(held.reservation().reservation_id());
    bad = ok;
    bad.set_quantity(-1);
    huge = ok;
    huge.set_lot_number(big);
    cases.push_back(Case(stub, "Consume", &Stub::Consume, ok, bad, "quantity", huge));
  }
  {
    v1::ReleaseRequest ok, bad, huge;
    ok.set_order_id("WO-1");
    bad = ok;
    bad.set_reason(static_cast<v1::ReleaseReason>(99));
    huge.set_order_id(big);
    cases.push_back(Case(stub, "Release", &Stub::Release, ok, bad, "reason", huge));
  }
  {
    v1::GetAvailabilityRequest ok, bad, huge;
    ok.set_sku("CMP-220");
    ok.mutable_near()->set_lat_deg(31);
    ok.mutable_near()->set_lng_deg(121);
    bad = ok;
    bad.set_limit(101);
    huge = ok;
    huge.set_sku(big);
    cases.push_back(Case(stub, "GetAvailability", &Stub::GetAvailability, ok, bad, "limit", huge));
  }
  {
    v1::GetStockByLocationRequest ok, bad, huge;
    ok.set_location_id("OUT-PA");
    bad = ok;
    bad.mutable_page()->set_page_token("%%%");
    huge.set_location_id(big);
    cases.push_back(Case(stub, "GetStockByLocation", &Stub::GetStockByLocation, ok, bad,
                         "page.page_token", huge));
  }
  {
    v1::ListOrderPartsRequest ok, bad, huge;
    ok.set_order_id("WO-1");
    bad.set_order_id(std::string(65, 'o'));
    huge.set_order_id(big);
    cases.push_back(Case(stub, "ListOrderParts", &Stub::ListOrderParts, ok, bad, "order_id", huge));
  }
  {
    v1::TraceLotRequest ok, bad, huge;
    ok.set_lot_number("LOT-1");
    huge.set_lot_number(big);
    cases.push_back(Case(stub, "TraceLot", &Stub::TraceLot, ok, bad, "lot_number", huge));
  }
  {
    v1::SetReorderPolicyRequest ok, bad, huge;
    ok.set_location_id("OUT-PA");
    ok.set_sku("CMP-220");
    ok.set_reorder_point(1);
    bad = ok;
    bad.set_reorder_qty(-5);
    huge = ok;
    huge.set_sku(big);
    cases.push_back(
        Case(stub, "SetReorderPolicy", &Stub::SetReorderPolicy, ok, bad, "reorder_qty", huge));
  }
  {
    v1::ListLowStockRequest ok, bad, huge;
    bad.set_location_kind(static_cast<v1::LocationKind>(17));
    huge.set_region_code(big);
    cases.push_back(Case(stub, "ListLowStock", &Stub::ListLowStock, ok, bad, "location_kind", huge));
  }
  {
    v1::GetSkuSummaryRequest ok, bad, huge;
    ok.set_sku("CMP-220");
    huge.set_sku(big);
    cases.push_back(Case(stub, "GetSkuSummary", &Stub::GetSkuSummary, ok, bad, "sku", huge));
  }
  {
    v1::GetPolicyRequest ok, bad, huge;
    bad.set_version(std::string(65, 'v'));
    huge.set_version(big);
    cases.push_back(Case(stub, "GetPolicy", &Stub::GetPolicy, ok, bad, "version", huge));
  }
  {
    v1::ReloadPolicyRequest ok, bad, huge;
    ok.set_dry_run(true);
    bad.set_inline_text("ref { name: \"parts\" version: \"x\" } reservation_ttl { seconds: 5 }");
    huge.set_inline_text(big);
    cases.push_back(Case(stub, "ReloadPolicy", &Stub::ReloadPolicy, ok, bad, "reservation_ttl", huge));
  }
  REQUIRE(cases.size() == 21);  // every RPC of PartsService

  const uint64_t head_before = s.Events().back().seq();
  const v1::StockLevel stock_before = s.Level("OUT-PA", "CMP-220");
  for (const RpcCase& c : cases) {
    INFO(c.name);
    CHECK(c.valid("").error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(c.valid("not-a-token").error_code() == grpc::StatusCode::UNAUTHENTICATED);
    // The customer app has no business with stock.
    CHECK(c.valid(s.token("app")).error_code() == grpc::StatusCode::PERMISSION_DENIED);
    const grpc::Status bad = c.malformed(s.token("admin"));
    CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(bad.error_message(), c.malformed_field + ":"));
    CHECK(c.oversized(s.token("admin")).error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // Role limits beyond the app.
  v1::UpsertPartRequest part;
  part.mutable_part()->set_sku("NEW-1");
  part.mutable_part()->set_name("n");
  v1::Part out;
  CHECK(stub->UpsertPart(Context(s.token("agent")).get(), part, &out).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::ReceiveRequest receive;
  receive.set_request_id("r");
  receive.set_location_id("OUT-PA");
  receive.set_sku("CMP-220");
  receive.set_quantity(1);
  v1::ReceiveResponse rr;
  CHECK(stub->Receive(Context(s.token("auditor")).get(), receive, &rr).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(stub->Receive(Context(s.token("partner-b")).get(), receive, &rr).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::ReserveRequest other_engineer = s.ReserveRequest("WO-9", "CMP-220", 1);
  other_engineer.set_engineer_id("E2");
  v1::ReserveResponse rs;
  CHECK(stub->Reserve(Context(s.token("engineer")).get(), other_engineer, &rs).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::ReloadPolicyRequest reload;
  reload.set_dry_run(true);
  v1::ReloadPolicyResponse rp;
  CHECK(stub->ReloadPolicy(Context(s.token("service")).get(), reload, &rp).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Unknown things are NOT_FOUND.
  receive.set_sku("NO-SUCH");
  CHECK(stub->Receive(Context(s.token("admin")).get(), receive, &rr).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  receive.set_sku("CMP-220");
  receive.set_location_id("NO-SUCH");
  CHECK(stub->Receive(Context(s.token("admin")).get(), receive, &rr).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  v1::ReserveResponse unknown_part;
  CHECK(stub->Reserve(Context(s.token("agent")).get(), s.ReserveRequest("WO-9", "NO-SUCH", 1),
                      &unknown_part)
            .error_code() == grpc::StatusCode::NOT_FOUND);

  // Nothing changed, and the service still serves.
  CHECK(s.Events().back().seq() == head_before);
  const v1::StockLevel stock_after = s.Level("OUT-PA", "CMP-220");
  CHECK(stock_after.on_hand() == stock_before.on_hand());
  CHECK(stock_after.reserved() == stock_before.reserved());
  CHECK(stock_after.version() == stock_before.version());
  v1::GetPartRequest get;
  get.set_sku("NEW-1");
  CHECK(stub->GetPart(Context(s.token("agent")).get(), get, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(s.Reserve("WO-2", "CMP-220", 1).outcome() == v1::RESERVE_OUTCOME_RESERVED);
}

TEST_CASE("the policy is versioned and a bad reload changes nothing") {
  PartsSuite s;
  v1::GetPolicyRequest get;
  v1::PartsPolicySnapshot snap;
  REQUIRE(s.stub->GetPolicy(Context(s.token("auditor")).get(), get, &snap).ok());
  CHECK(snap.policy().ref().name() == "parts");
  CHECK(rpc::FromProto(snap.policy().reservation_ttl()) == absl::Hours(48));
  const std::string first_version = snap.info().ref().version();

  v1::ReloadPolicyRequest reload;
  reload.set_inline_text(
      "ref { name: \"parts\" version: \"test-2\" } reservation_ttl { seconds: 3600 } "
      "search_order: LOCATION_KIND_OUTLET");
  v1::ReloadPolicyResponse resp;
  REQUIRE(s.stub->ReloadPolicy(Context(s.token("admin")).get(), reload, &resp).ok());
  CHECK(resp.changed());
  CHECK(resp.active().ref().version() == "test-2");

  // New reservations follow the new TTL and record the version.
  s.Part("CMP-220");
  s.Location("OUT-PA", v1::LOCATION_KIND_OUTLET, 31.24, 121.48, "PA");
  s.Receive("OUT-PA", "CMP-220", 1);
  const v1::ReserveResponse r = s.Reserve("WO-1", "CMP-220", 1);
  CHECK(r.reservation().policy().version() == "test-2");
  CHECK(rpc::FromProto(r.reservation().expires_at()) -
            rpc::FromProto(r.reservation().created_at()) ==
        absl::Hours(1));

  reload.set_inline_text("ref { name: \"parts\" version: \"test-3\" } search_order: 0");
  grpc::Status bad = s.stub->ReloadPolicy(Context(s.token("admin")).get(), reload, &resp);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(s.stub->GetPolicy(Context(s.token("auditor")).get(), get, &snap).ok());
  CHECK(snap.info().ref().version() == "test-2");
  get.set_version(first_version);
  REQUIRE(s.stub->GetPolicy(Context(s.token("auditor")).get(), get, &snap).ok());
  CHECK(snap.policy().ref().version() == first_version);
}

}  // namespace
}  // namespace aftersales
