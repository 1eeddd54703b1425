// The end-to-end journey (issue 8): all five services as real processes on
// manual clocks that move together, each following every peer's stream. A
// partner's order is dispatched and accepted, waits for a backordered part,
// is quoted, repaired with a lot-tracked part and confirmed; the customer's
// detractor survey files exactly one complaint and reopens the order once;
// the complaint's compensation lands once in intake's ledger; SQI and every
// service's metrics move. Plus an EMERGENCY order that breaches its arrival
// clock exactly once, and a cancelled order whose reservation is released.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::AllEvents;
using testing::Context;
using testing::Eventually;

// Monday 2026-11-23 10:00 in Shanghai (02:00 UTC): inside service hours.
const absl::Time kStart = absl::FromUnixSeconds(1795399200);
constexpr absl::Duration kWait = absl::Seconds(30);

// Events of one kind on a stream whose subject is `subject`.
int Count(const std::vector<v1::Event>& events, v1::Event::BodyCase body,
          const std::string& subject) {
  int n = 0;
  for (const auto& e : events) n += e.body_case() == body && e.subject_id() == subject;
  return n;
}

// Events of one kind that satisfy `pred` (for bodies naming the order).
int CountIf(const std::vector<v1::Event>& events, v1::Event::BodyCase body,
            const std::function<bool(const v1::Event&)>& pred) {
  int n = 0;
  for (const auto& e : events) n += e.body_case() == body && pred(e);
  return n;
}

// Sum of every sample of `name` (any labels) in a Prometheus text page.
double MetricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') {
      continue;
    }
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    sum += std::stod(line.substr(space + 1));
  }
  return sum;
}

struct World {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  std::unique_ptr<testing::ServiceProcess> intake, dispatch, parts, complaint, satisfaction;
  std::unique_ptr<v1::IntakeService::Stub> orders;
  std::unique_ptr<v1::DispatchService::Stub> engineers;
  std::unique_ptr<v1::PartsService::Stub> stock;
  std::unique_ptr<v1::ComplaintService::Stub> complaints;
  std::unique_ptr<v1::SatisfactionService::Stub> surveys;
  absl::Time now = kStart;
  int requests = 0;

  testing::ServiceProcess::Options Options(const std::string& name) {
    testing::ServiceProcess::Options o;
    o.name = name;
    o.data_dir = dir.Sub(name);
    o.tokens = &tokens;
    o.manual_clock = true;
    o.extra_flags = {"--clock_start=" +
                     absl::FormatTime(absl::RFC3339_full, kStart, absl::UTCTimeZone())};
    return o;
  }

  World() {
    intake = std::make_unique<testing::ServiceProcess>(Options("intake"));
    auto d = Options("dispatch");
    d.peers["intake"] = intake->address();
    dispatch = std::make_unique<testing::ServiceProcess>(d);
    parts = std::make_unique<testing::ServiceProcess>(Options("parts"));
    complaint = std::make_unique<testing::ServiceProcess>(Options("complaint"));
    satisfaction = std::make_unique<testing::ServiceProcess>(Options("satisfaction"));
    // Everyone hears everyone: point each at every peer and restart it.
    testing::ServiceProcess* all[] = {intake.get(), dispatch.get(), parts.get(), complaint.get(),
                                      satisfaction.get()};
    const char* names[] = {"intake", "dispatch", "parts", "complaint", "satisfaction"};
    for (int i = 0; i < 5; ++i) {
      for (int j = 0; j < 5; ++j) {
        if (i != j) all[i]->SetPeer(names[j], all[j]->address());
      }
    }
    for (auto* p : all) p->Restart();
    orders = v1::IntakeService::NewStub(intake->channel());
    engineers = v1::DispatchService::NewStub(dispatch->channel());
    stock = v1::PartsService::NewStub(parts->channel());
    complaints = v1::ComplaintService::NewStub(complaint->channel());
    surveys = v1::SatisfactionService::NewStub(satisfaction->channel());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  // Moves all five clocks forward together.
  void Advance(absl::Duration by) {
    for (auto* p : {intake.get(), dispatch.get(), parts.get(), complaint.get(),
                    satisfaction.get()}) {
      v1::AdvanceTimeRequest req;
      *req.mutable_by() = rpc::ToProto(by);
      v1::ClockTime t;
      grpc::Status s =
          v1::ClockAdmin::NewStub(p->channel())->AdvanceTime(Context(token("admin")).get(), req, &t);
      INFO(s.error_message());
      REQUIRE(s.ok());
    }
    now += by;
  }

  v1::WorkOrder Order(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    grpc::Status s = orders->GetOrder(Context(token("agent")).get(), req, &o);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return o;
  }

  v1::OrderState StateOf(const std::string& id) { return Order(id).state(); }

  v1::ReportProgressResponse Report(const std::string& who, const std::string& order_id,
                                    const std::function<void(v1::ProgressReport*)>& fill) {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(order_id);
    req.mutable_report()->set_client_event_id(absl::StrCat("ev-", ++requests));
    fill(req.mutable_report());
    v1::ReportProgressResponse resp;
    grpc::Status s = orders->ReportProgress(Context(token(who)).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(resp.result().code() == v1::PROGRESS_RESULT_CODE_APPLIED);
    return resp;
  }

  std::string CreateOrder(const std::string& request_id, const std::string& fault) {
    auto req = testing::SampleOrderRequest(request_id, "SN-" + request_id);
    req.mutable_fault()->set_description(fault);
    req.mutable_appliance()->set_warranty_status(v1::WARRANTY_STATUS_OUT);
    v1::CreateOrderResponse resp;
    grpc::Status s = orders->CreateOrder(Context(token("partner-a")).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    REQUIRE(resp.created());
    return resp.order().order_id();
  }

  void Register(const std::string& id, double lat, double lng) {
    v1::RegisterEngineerRequest req;
    auto* e = req.mutable_engineer();
    e->set_engineer_id(id);
    e->set_partner_id("PA");
    e->set_display_name("Engineer " + id);
    auto* skill = e->add_skills();
    skill->set_appliance_category("FRIDGE");
    skill->set_level(v1::CERTIFICATION_LEVEL_INTERMEDIATE);
    e->mutable_coverage()->add_region_codes("CN-310000");
    e->mutable_capacity()->set_max_active(5);
    e->mutable_capacity()->set_max_queued(5);
    e->mutable_location()->set_lat_deg(lat);
    e->mutable_location()->set_lng_deg(lng);
    v1::Engineer out;
    grpc::Status s = engineers->RegisterEngineer(Context(token("partner-a")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  // Waits for dispatch's one pending offer on the order and accepts it as
  // the engineer it went to (E1 with its own token, else its partner).
  std::string AcceptOffer(const std::string& order_id) {
    v1::ListOffersRequest req;
    req.set_order_id(order_id);
    v1::ListOffersResponse offers;
    REQUIRE(Eventually(
        [&] {
          offers.Clear();
          return engineers->ListOffers(Context(token("admin")).get(), req, &offers).ok() &&
                 offers.offers_size() == 1;
        },
        kWait));
    const v1::Offer& offer = offers.offers(0);
    REQUIRE(offer.state() == v1::OFFER_STATE_PENDING);
    v1::AcceptOfferRequest accept;
    accept.set_offer_id(offer.offer_id());
    accept.set_engineer_id(offer.engineer_id());
    v1::Offer accepted;
    grpc::Status s = engineers->AcceptOffer(
        Context(token(offer.engineer_id() == "E1" ? "engineer" : "partner-a")).get(), accept,
        &accepted);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(accepted.state() == v1::OFFER_STATE_ACCEPTED);
    return offer.engineer_id();
  }

  void UpsertPart(const std::string& sku, bool lot_tracked) {
    v1::UpsertPartRequest req;
    v1::Part* p = req.mutable_part();
    p->set_sku(sku);
    p->set_name("part " + sku);
    p->add_compatible_categories("FRIDGE");
    p->mutable_unit_price()->set_currency_code("CNY");
    p->mutable_unit_price()->set_amount_minor(68000);
    p->set_warranty_days(365);
    p->set_lot_tracked(lot_tracked);
    p->set_active(true);
    v1::Part out;
    grpc::Status s = stock->UpsertPart(Context(token("admin")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  void Location(const std::string& id, v1::LocationKind kind, double lat, double lng,
                const std::string& partner) {
    v1::UpsertLocationRequest req;
    v1::StockLocation* l = req.mutable_location();
    l->set_location_id(id);
    l->set_kind(kind);
    l->set_name(id);
    l->mutable_point()->set_lat_deg(lat);
    l->mutable_point()->set_lng_deg(lng);
    l->set_region_code("CN-310000");
    l->set_partner_id(partner);
    l->set_active(true);
    v1::StockLocation out;
    grpc::Status s = stock->UpsertLocation(Context(token("admin")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  v1::ReserveResponse Reserve(const std::string& order_id, const std::string& sku) {
    v1::ReserveRequest req;
    req.set_order_id(order_id);
    req.set_sku(sku);
    req.set_quantity(1);
    req.mutable_near()->set_lat_deg(31.23);
    req.mutable_near()->set_lng_deg(121.47);
    req.set_region_code("CN-310000");
    v1::ReserveResponse resp;
    grpc::Status s = stock->Reserve(Context(token("service")).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  v1::OrderParts OrderParts(const std::string& order_id) {
    v1::ListOrderPartsRequest req;
    req.set_order_id(order_id);
    v1::OrderParts resp;
    REQUIRE(stock->ListOrderParts(Context(token("agent")).get(), req, &resp).ok());
    return resp;
  }

  v1::StockLevel Level(const std::string& loc, const std::string& sku) {
    v1::GetStockByLocationRequest req;
    req.set_location_id(loc);
    v1::GetStockByLocationResponse resp;
    REQUIRE(stock->GetStockByLocation(Context(token("admin")).get(), req, &resp).ok());
    for (const auto& l : resp.levels()) {
      if (l.sku() == sku) return l;
    }
    return v1::StockLevel();
  }

  std::vector<v1::Complaint> ComplaintsOf(const std::string& order_id) {
    v1::ListComplaintsRequest req;
    req.set_order_id(order_id);
    v1::ListComplaintsResponse resp;
    if (!complaints->ListComplaints(Context(token("agent")).get(), req, &resp).ok()) return {};
    return {resp.complaints().begin(), resp.complaints().end()};
  }

  std::vector<v1::Survey> SurveysOf(const std::string& order_id) {
    v1::ListSurveysRequest req;
    req.set_order_id(order_id);
    v1::ListSurveysResponse resp;
    if (!surveys->ListSurveys(Context(token("agent")).get(), req, &resp).ok()) return {};
    return {resp.surveys().begin(), resp.surveys().end()};
  }

  int Transitions(const std::string& order_id, v1::OrderState to) {
    int n = 0;
    const v1::WorkOrder o = Order(order_id);
    for (const auto& t : o.transitions()) n += t.to_state() == to;
    return n;
  }
};

TEST_CASE("end-to-end journey across all five services") {
  const absl::Time began = absl::Now();
  World w;

  // 1. Partner PA and its engineers; E1 (the "engineer" token) is next to
  // the customer, E2 across town.
  {
    v1::UpsertPartnerRequest p;
    p.mutable_partner()->set_partner_id("PA");
    p.mutable_partner()->set_name("partner PA");
    p.mutable_partner()->set_preference(0.5);
    v1::Partner out;
    grpc::Status s = w.engineers->UpsertPartner(Context(w.token("admin")).get(), p, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  w.Register("E1", 31.231, 121.471);
  w.Register("E2", 31.35, 121.60);

  // 2. Parts: a lot-tracked compressor with no stock anywhere, a filter
  // with stock, and the locations.
  w.UpsertPart("CMP-220", /*lot_tracked=*/true);
  w.UpsertPart("FLT-10", /*lot_tracked=*/false);
  w.Location("OUT-PA", v1::LOCATION_KIND_OUTLET, 31.24, 121.48, "PA");
  w.Location("CENTRAL", v1::LOCATION_KIND_CENTRAL_WAREHOUSE, 31.0, 121.2, "");

  // 3. The partner's order: a NORMAL fridge fault, out of warranty.
  const std::string id = w.CreateOrder("journey-main", "door seal is loose");
  {
    const v1::WorkOrder o = w.Order(id);
    CHECK(o.priority() == v1::PRIORITY_NORMAL);
    CHECK(o.state() == v1::ORDER_STATE_CREATED);
  }

  // 4. Dispatch offers it to E1, who accepts; intake is ASSIGNED after the
  // first contact; then on the way and on site.
  CHECK(w.AcceptOffer(id) == "E1");
  REQUIRE(Eventually([&] { return w.Order(id).assignment().engineer_id() == "E1"; }, kWait));
  CHECK(w.Report("engineer", id, [](v1::ProgressReport* r) {
          r->mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
        }).order().state() == v1::ORDER_STATE_ASSIGNED);
  CHECK(w.Report("engineer", id, [](v1::ProgressReport* r) { r->mutable_departed(); })
            .order()
            .state() == v1::ORDER_STATE_EN_ROUTE);
  CHECK(w.Report("engineer", id, [](v1::ProgressReport* r) { r->mutable_arrived(); })
            .order()
            .state() == v1::ORDER_STATE_ON_SITE);

  // 5. The diagnosis needs the compressor: backordered at parts, and
  // intake waits for parts.
  CHECK(w.Report("engineer", id, [](v1::ProgressReport* r) {
          auto* d = r->mutable_diagnosed()->mutable_diagnosis();
          d->set_initial_cause_code("COMPRESSOR");
          d->set_parts_needed(true);
        }).order().state() == v1::ORDER_STATE_DIAGNOSED);
  const v1::ReserveResponse backordered = w.Reserve(id, "CMP-220");
  REQUIRE(backordered.outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  REQUIRE(Eventually([&] { return w.StateOf(id) == v1::ORDER_STATE_WAITING_PARTS; }, kWait));

  // 6. Stock arrives: the backorder is allocated, and intake returns to
  // DIAGNOSED (fee gate closed: out of warranty, no quote accepted yet).
  v1::ReceiveRequest receipt;
  receipt.set_request_id("delivery-1");
  receipt.set_location_id("OUT-PA");
  receipt.set_sku("CMP-220");
  receipt.set_quantity(1);
  receipt.set_lot_number("LOT-2026-11-A");
  v1::ReceiveResponse received;
  {
    grpc::Status s = w.stock->Receive(Context(w.token("admin")).get(), receipt, &received);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  REQUIRE(received.allocated_size() == 1);
  CHECK(received.allocated(0).order_id() == id);
  const std::string reservation_id = received.allocated(0).reservation_id();
  REQUIRE(Eventually([&] { return w.StateOf(id) == v1::ORDER_STATE_DIAGNOSED; }, kWait));
  CHECK(w.Transitions(id, v1::ORDER_STATE_WAITING_PARTS) == 1);
  {
    const auto events = AllEvents(w.parts->channel(), w.token("service"));
    auto mine = [&](const v1::Event& e) {
      return e.has_parts_backordered() ? e.parts_backordered().order_id() == id
                                       : e.parts_available().order_id() == id;
    };
    CHECK(CountIf(events, v1::Event::kPartsBackordered, mine) == 1);
    CHECK(CountIf(events, v1::Event::kPartsAvailable, mine) == 1);
  }

  // 7. Quote, the customer accepts, repair with the part and its lot, the
  // customer confirms.
  const v1::ReportProgressResponse quoted = w.Report("engineer", id, [](v1::ProgressReport* r) {
    auto* line = r->mutable_quoted()->add_lines();
    line->set_kind(v1::QUOTE_LINE_KIND_PART);
    line->set_sku("CMP-220");
    line->set_description("compressor");
    line->set_quantity(1);
    line->mutable_unit_price()->set_currency_code("CNY");
    line->mutable_unit_price()->set_amount_minor(68000);
  });
  REQUIRE(quoted.order().state() == v1::ORDER_STATE_QUOTED);
  const std::string quote_id = quoted.order().quote().quote_id();
  CHECK(w.Report("app", id, [&](v1::ProgressReport* r) {
          r->mutable_fee_decision()->set_quote_id(quote_id);
          r->mutable_fee_decision()->set_accepted(true);
          r->mutable_fee_decision()->set_method(v1::CONSENT_METHOD_TEXT);
          r->mutable_fee_decision()->set_evidence_ref("app-tick-1");
        }).order().state() == v1::ORDER_STATE_IN_REPAIR);
  {
    v1::ConsumeRequest consume;
    consume.set_request_id("use-1");
    consume.set_reservation_id(reservation_id);
    consume.set_quantity(1);
    consume.set_lot_number("LOT-2026-11-A");
    v1::Consumption used;
    grpc::Status s = w.stock->Consume(Context(w.token("engineer")).get(), consume, &used);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(used.order_id() == id);
    CHECK(used.engineer_id() == "E1");
  }
  CHECK(w.Report("engineer", id, [&](v1::ProgressReport* r) {
          auto* res = r->mutable_repaired()->mutable_result();
          res->set_final_cause_code("COMPRESSOR");
          res->set_first_visit_fix(false);
          res->set_visit_count(1);
          auto* part = res->add_parts_used();
          part->set_sku("CMP-220");
          part->set_quantity(1);
          part->set_lot_number("LOT-2026-11-A");
          part->set_reservation_id(reservation_id);
          part->set_warranty_days(365);
        }).order().state() == v1::ORDER_STATE_REPAIRED);
  CHECK(w.Report("app", id, [](v1::ProgressReport* r) {
          r->mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
        }).order().state() == v1::ORDER_STATE_CONFIRMED);
  {
    const v1::OrderParts used = w.OrderParts(id);
    REQUIRE(used.reservations_size() == 1);
    CHECK(used.reservations(0).state() == v1::RESERVATION_STATE_CONSUMED);
    REQUIRE(used.consumptions_size() == 1);
    CHECK(used.consumptions(0).lot_number() == "LOT-2026-11-A");
    const auto events = AllEvents(w.parts->channel(), w.token("service"));
    CHECK(CountIf(events, v1::Event::kPartsConsumed,
                  [&](const v1::Event& e) { return e.parts_consumed().order_id() == id; }) == 1);
  }
  WARN("steps 1-7 done after " << absl::FormatDuration(absl::Now() - began));

  // 11. An EMERGENCY order (gas smell) assigned but nobody arrives: past its
  // 30-minute arrival deadline, exactly one ARRIVAL breach on intake's stream.
  const std::string emergency = w.CreateOrder("journey-gas", "gas smell near the fridge");
  CHECK(w.Order(emergency).priority() == v1::PRIORITY_EMERGENCY);
  w.AcceptOffer(emergency);
  REQUIRE(Eventually([&] { return !w.Order(emergency).assignment().engineer_id().empty(); },
                     kWait));
  CHECK(w.Report("agent", emergency, [](v1::ProgressReport* r) {
          r->mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
        }).order().state() == v1::ORDER_STATE_ASSIGNED);
  {
    const auto events = AllEvents(w.intake->channel(), w.token("service"));
    CHECK(Count(events, v1::Event::kSlaBreached, emergency) == 0);
  }
  w.Advance(absl::Minutes(40));
  REQUIRE(Eventually(
      [&] {
        return Count(AllEvents(w.intake->channel(), w.token("service")), v1::Event::kSlaBreached,
                     emergency) >= 1;
      },
      kWait));
  w.Advance(absl::Minutes(1));
  absl::SleepFor(absl::Seconds(1));  // more sweeps; none may repeat it
  {
    const auto events = AllEvents(w.intake->channel(), w.token("service"));
    CHECK(Count(events, v1::Event::kSlaBreached, emergency) == 1);
    CHECK(CountIf(events, v1::Event::kSlaBreached, [&](const v1::Event& e) {
            return e.subject_id() == emergency &&
                   e.sla_breached().clock() == v1::SLA_CLOCK_KIND_ARRIVAL;
          }) == 1);
    // The main order is on site long ago: no breach there.
    CHECK(Count(events, v1::Event::kSlaBreached, id) == 0);
  }
  CHECK(w.StateOf(emergency) == v1::ORDER_STATE_ASSIGNED);

  // 12. A cancelled order's reserved part is released at parts.
  {
    v1::ReceiveRequest filters;
    filters.set_request_id("delivery-2");
    filters.set_location_id("OUT-PA");
    filters.set_sku("FLT-10");
    filters.set_quantity(2);
    v1::ReceiveResponse got;
    grpc::Status s = w.stock->Receive(Context(w.token("admin")).get(), filters, &got);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  const std::string cancelled = w.CreateOrder("journey-cancel", "door seal is loose");
  const v1::ReserveResponse held = w.Reserve(cancelled, "FLT-10");
  REQUIRE(held.outcome() == v1::RESERVE_OUTCOME_RESERVED);
  CHECK(held.reservation().location_id() == "OUT-PA");
  CHECK(w.Level("OUT-PA", "FLT-10").available() == 1);
  CHECK(w.Report("agent", cancelled, [](v1::ProgressReport* r) {
          r->mutable_cancel()->set_reason(v1::CANCEL_REASON_CUSTOMER_REQUEST);
          r->mutable_cancel()->set_note("customer fixed it");
        }).order().state() == v1::ORDER_STATE_CANCELLED);
  REQUIRE(Eventually(
      [&] {
        const v1::OrderParts p = w.OrderParts(cancelled);
        return p.reservations_size() == 1 &&
               p.reservations(0).state() == v1::RESERVATION_STATE_RELEASED;
      },
      kWait));
  CHECK(w.OrderParts(cancelled).reservations(0).release_reason() ==
        v1::RELEASE_REASON_ORDER_CANCELLED);
  CHECK(w.Level("OUT-PA", "FLT-10").available() == 2);
  CHECK(w.Level("OUT-PA", "FLT-10").reserved() == 0);
  {
    const auto events = AllEvents(w.parts->channel(), w.token("service"));
    CHECK(CountIf(events, v1::Event::kReservationReleased, [&](const v1::Event& e) {
            return e.reservation_released().order_id() == cancelled;
          }) == 1);
    CHECK(Count(AllEvents(w.intake->channel(), w.token("service")), v1::Event::kOrderCancelled,
                cancelled) == 1);
  }
  WARN("steps 11-12 done after " << absl::FormatDuration(absl::Now() - began));

  // 8. Satisfaction scheduled the survey from intake's confirmation; the
  // clocks move past its due time; the customer answers as a detractor.
  std::vector<v1::Survey> scheduled;
  REQUIRE(Eventually(
      [&] {
        scheduled = w.SurveysOf(id);
        return scheduled.size() == 1;
      },
      kWait));
  const v1::Survey survey = scheduled[0];
  CHECK(survey.state() == v1::SURVEY_STATE_SCHEDULED);
  CHECK(survey.engineer_id() == "E1");
  CHECK(survey.partner_id() == "PA");
  const absl::Time due = rpc::FromProto(survey.due_at());
  const absl::Time expires = rpc::FromProto(survey.expires_at());
  INFO("survey due " << due << ", expires " << expires << ", clocks at " << w.now);
  REQUIRE(due > w.now);
  REQUIRE(due < expires);
  w.Advance(due - w.now + absl::Minutes(1));
  {
    v1::GetSurveyRequest get;
    get.set_survey_id(survey.survey_id());
    REQUIRE(Eventually(
        [&] {
          v1::Survey s;
          return w.surveys->GetSurvey(Context(w.token("agent")).get(), get, &s).ok() &&
                 s.state() == v1::SURVEY_STATE_DUE;
        },
        kWait));
  }
  {
    v1::SubmitSurveyRequest req;
    req.set_survey_id(survey.survey_id());
    req.set_request_id("answer-1");
    auto* r = req.mutable_response();
    r->set_csat(1);
    r->set_nps(2);
    auto* d = r->mutable_dimensions();
    d->set_booking_convenience(2);
    d->set_timeliness(1);
    d->set_engineer_attitude(2);
    d->set_professionalism(1);
    d->set_fee_transparency(2);
    d->set_site_etiquette(2);
    r->set_problem_solved(false);
    r->set_comment("Still leaking after the repair, I am angry and disappointed");
    v1::SubmitSurveyResponse answer;
    grpc::Status s = w.surveys->SubmitSurvey(Context(w.token("app")).get(), req, &answer);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(answer.detractor());
    CHECK(answer.problem_not_solved());
  }
  // Complaint files exactly one complaint; intake reopens the order once.
  REQUIRE(Eventually([&] { return w.StateOf(id) == v1::ORDER_STATE_REOPENED; }, kWait));
  REQUIRE(Eventually([&] { return w.ComplaintsOf(id).size() == 1; }, kWait));
  const std::string complaint_id = w.ComplaintsOf(id)[0].complaint_id();
  v1::Complaint filed;
  {
    v1::GetComplaintRequest get;
    get.set_complaint_id(complaint_id);
    REQUIRE(w.complaints->GetComplaint(Context(w.token("agent")).get(), get, &filed).ok());
  }
  CHECK(filed.channel() == v1::COMPLAINT_CHANNEL_SURVEY_AUTO);
  CHECK(filed.source_survey_id() == survey.survey_id());
  CHECK(filed.grade() != v1::COMPLAINT_GRADE_UNSPECIFIED);
  CHECK(filed.grading().rules_size() >= 1);
  {
    std::string fired;
      for (const auto& rule : filed.grading().rules()) {
      CHECK_FALSE(rule.rule_id().empty());
      absl::StrAppend(&fired, rule.rule_id(), " ");
    }
    // The follow-up breach floors it at G2, "angry" steps it up one.
    CHECK(absl::StrContains(fired, "order_sla_breached"));
    CHECK(absl::StrContains(fired, "strong_emotion"));
    CHECK(filed.grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
    WARN("complaint " << complaint_id << " graded " << v1::ComplaintGrade_Name(filed.grade())
                      << ", fired: " << fired);
  }
  REQUIRE(Eventually(
      [&] {
        const auto ids = w.Order(id).complaint_ids();
        return std::find(ids.begin(), ids.end(), complaint_id) != ids.end();
      },
      kWait));
  absl::SleepFor(absl::Seconds(1));  // a duplicate would have arrived by now
  CHECK(w.ComplaintsOf(id).size() == 1);
  CHECK(w.Transitions(id, v1::ORDER_STATE_REOPENED) == 1);
  {
    const auto intake_events = AllEvents(w.intake->channel(), w.token("service"));
    CHECK(Count(intake_events, v1::Event::kOrderReopened, id) == 1);
    CHECK(Count(intake_events, v1::Event::kOrderConfirmedRepaired, id) == 1);
    // Advancing past the survey's due time (intake's follow-up deadline)
    // breached the follow-up clock, once.
    CHECK(Count(intake_events, v1::Event::kSlaBreached, id) == 1);
    CHECK(CountIf(intake_events, v1::Event::kSlaBreached, [&](const v1::Event& e) {
            return e.subject_id() == id &&
                   e.sla_breached().clock() == v1::SLA_CLOCK_KIND_FOLLOW_UP;
          }) == 1);
    const auto sat_events = AllEvents(w.satisfaction->channel(), w.token("service"));
    CHECK(Count(sat_events, v1::Event::kSurveyScheduled, survey.survey_id()) == 1);
    CHECK(Count(sat_events, v1::Event::kSurveyAnswered, survey.survey_id()) == 1);
    CHECK(Count(sat_events, v1::Event::kDetractorDetected, survey.survey_id()) == 1);
    CHECK(Count(sat_events, v1::Event::kProblemNotSolved, survey.survey_id()) == 1);
    const auto complaint_events = AllEvents(w.complaint->channel(), w.token("service"));
    CHECK(CountIf(complaint_events, v1::Event::kComplaintFiled, [&](const v1::Event& e) {
            return e.complaint_filed().order_id() == id;
          }) == 1);
  }
  WARN("step 8 done after " << absl::FormatDuration(absl::Now() - began));

  // 9. Acknowledged, investigated, resolved with compensation: intake books
  // exactly one ledger entry "complaint/<id>" on the order.
  {
    v1::Complaint c;
    v1::AcknowledgeComplaintRequest ack;
    ack.set_complaint_id(complaint_id);
    grpc::Status s = w.complaints->Acknowledge(Context(w.token("agent")).get(), ack, &c);
    INFO(s.error_message());
    REQUIRE(s.ok());
    v1::StartInvestigationRequest inv;
    inv.set_complaint_id(complaint_id);
    s = w.complaints->StartInvestigation(Context(w.token("agent")).get(), inv, &c);
    INFO(s.error_message());
    REQUIRE(s.ok());
    v1::ResolveComplaintRequest res;
    res.set_complaint_id(complaint_id);
    res.mutable_investigation()->set_root_cause("Compressor seal not seated during the repair");
    res.mutable_investigation()->set_responsible_party(v1::RESPONSIBLE_PARTY_ENGINEER);
    res.mutable_investigation()->set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
    res.mutable_resolution()->set_type(v1::RESOLUTION_TYPE_REPLACE);
    res.mutable_resolution()->set_description("Seal re-seated; warranty extended");
    res.mutable_resolution()->mutable_compensation()->set_extended_warranty_days(365);
    s = w.complaints->Resolve(Context(w.token("agent")).get(), res, &c);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(c.state() == v1::COMPLAINT_STATE_RESOLVED);
  }
  v1::ListCompensationsRequest list;
  list.set_order_id(id);
  auto ledger_entries = [&](v1::ListCompensationsResponse* ledger) {
    ledger->Clear();
    return w.orders->ListCompensations(Context(w.token("agent")).get(), list, ledger).ok();
  };
  v1::ListCompensationsResponse ledger;
  REQUIRE(Eventually(
      [&] { return ledger_entries(&ledger) && ledger.entries_size() >= 1; }, kWait));
  absl::SleepFor(absl::Seconds(1));
  REQUIRE(ledger_entries(&ledger));
  int complaint_entries = 0;
  for (const auto& e : ledger.entries()) {
    INFO("ledger entry " << e.idempotency_key());
    complaint_entries += e.idempotency_key() == "complaint/" + complaint_id;
  }
  CHECK(complaint_entries == 1);
  CHECK(ledger.entries_size() == 1);
  if (ledger.entries_size() >= 1) {
    CHECK(ledger.entries(0).reason() == v1::COMPENSATION_REASON_COMPLAINT_RESOLUTION);
    CHECK(ledger.entries(0).value().extended_warranty_days() == 365);
  }
  {
    const auto complaint_events = AllEvents(w.complaint->channel(), w.token("service"));
    CHECK(Count(complaint_events, v1::Event::kComplaintResolved, complaint_id) == 1);
  }
  WARN("step 9 done after " << absl::FormatDuration(absl::Now() - began));

  // 10. SQI and metrics move.
  v1::GetSqiRankingRequest sqi;
  sqi.mutable_month()->set_year(2026);
  sqi.mutable_month()->set_month(11);
  REQUIRE(Eventually(
      [&] {
        v1::GetSqiRankingResponse ranking;
        if (!w.surveys->GetSqiRanking(Context(w.token("agent")).get(), sqi, &ranking).ok()) {
          return false;
        }
        for (const auto& score : ranking.scores()) {
          if (score.region_code() == "CN-310000") return true;
        }
        return false;
      },
      kWait));
  const std::string intake_metrics = w.intake->ScrapeMetrics();
  CHECK(MetricSum(intake_metrics, "aftersales_orders_created_total") == 3);
  CHECK(MetricSum(intake_metrics, "aftersales_sla_breaches_total") >= 1);
  CHECK(MetricSum(intake_metrics, "aftersales_compensation_entries_total") >= 1);
  CHECK(MetricSum(intake_metrics, "aftersales_repairs_total") == 1);
  const std::string dispatch_metrics = w.dispatch->ScrapeMetrics();
  CHECK(MetricSum(dispatch_metrics, "aftersales_dispatch_acceptances_total") >= 2);
  const std::string parts_metrics = w.parts->ScrapeMetrics();
  CHECK(MetricSum(parts_metrics, "aftersales_parts_reservations_total") == 2);
  CHECK(MetricSum(parts_metrics, "aftersales_parts_backorder_age_seconds_count") == 1);
  CHECK(MetricSum(parts_metrics, "aftersales_parts_invariant_violations_total") == 0);
  const std::string complaint_metrics = w.complaint->ScrapeMetrics();
  CHECK(MetricSum(complaint_metrics, "aftersales_complaints_filed_total") == 1);
  CHECK(MetricSum(complaint_metrics, "aftersales_complaints_resolved_total") == 1);
  const std::string sat_metrics = w.satisfaction->ScrapeMetrics();
  CHECK(MetricSum(sat_metrics, "aftersales_survey_answers_total") == 1);
  CHECK(MetricSum(sat_metrics, "aftersales_surveys_total") >= 1);
  WARN("journey done after " << absl::FormatDuration(absl::Now() - began));
}

}  // namespace
}  // namespace aftersales
