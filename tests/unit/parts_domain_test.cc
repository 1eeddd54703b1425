// Parts domain rules as pure functions: the stock invariant and the SKU
// ledger, where a reservation is taken from (kind first, then distance),
// reservation and backorder state machines, the backorder queue order and
// allocation plan, the policy document and request validation.
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "parts/domain/placement.h"
#include "parts/domain/policy.h"
#include "parts/domain/reservation.h"
#include "parts/domain/stock.h"
#include "parts/domain/validate.h"
#include "parts/parts_repository.h"
#include "rpc/rpc.h"

namespace aftersales::parts::domain {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1795000000);

v1::StockLevel Level(int64_t on_hand, int64_t reserved, int64_t in_transit = 0) {
  v1::StockLevel l;
  l.set_location_id("L1");
  l.set_sku("SKU-1");
  l.set_on_hand(on_hand);
  l.set_reserved(reserved);
  l.set_in_transit(in_transit);
  l.set_available(on_hand - reserved);
  return l;
}

v1::PartsPolicy Policy() {
  std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) + "/deploy/policies/parts.textproto");
  std::stringstream text;
  text << in.rdbuf();
  auto policy = ParsePartsPolicy(text.str());
  REQUIRE(policy.ok());
  return *policy;
}

v1::StockLocation Location(const std::string& id, v1::LocationKind kind, double lat, double lng,
                           const std::string& region = "CN-310000",
                           const std::string& engineer = "") {
  v1::StockLocation l;
  l.set_location_id(id);
  l.set_kind(kind);
  l.set_name(id);
  l.mutable_point()->set_lat_deg(lat);
  l.mutable_point()->set_lng_deg(lng);
  l.set_region_code(region);
  l.set_engineer_id(engineer);
  l.set_active(true);
  return l;
}

Need NeedAt(double lat, double lng, int64_t qty = 1, const std::string& region = "",
            const std::string& engineer = "") {
  Need n;
  n.near.set_lat_deg(lat);
  n.near.set_lng_deg(lng);
  n.quantity = qty;
  n.region_code = region;
  n.engineer_id = engineer;
  return n;
}

std::vector<std::string> Ids(const std::vector<Ranked>& ranked) {
  std::vector<std::string> ids;
  for (const auto& r : ranked) ids.push_back(r.location.location_id());
  return ids;
}

v1::Backorder Backorder(const std::string& id, v1::Priority p, absl::Duration age,
                        int64_t qty = 1) {
  v1::Backorder b;
  b.set_backorder_id(id);
  b.set_order_id("O-" + id);
  b.set_sku("SKU-1");
  b.set_quantity(qty);
  b.set_priority(p);
  *b.mutable_queued_at() = rpc::ToProto(kNow - age);
  b.set_state(v1::BACKORDER_STATE_WAITING);
  return b;
}

// ---- stock invariant ----

TEST_CASE("a stock delta that would make available negative is refused, not applied") {
  const v1::StockLevel l = Level(5, 3);
  auto over = ApplyStockDelta(l, DeltaOf(Movement::kReserve, 3), kNow);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(over.status().message(), "only 2 available at L1 for SKU-1"));

  auto fits = ApplyStockDelta(l, DeltaOf(Movement::kReserve, 2), kNow);
  REQUIRE(fits.ok());
  CHECK(fits->reserved() == 5);
  CHECK(fits->available() == 0);
  CHECK(fits->version() == l.version() + 1);
  CHECK(rpc::FromProto(fits->updated_at()) == kNow);

  // Shipping or adjusting away reserved units is refused too.
  CHECK(ApplyStockDelta(l, DeltaOf(Movement::kShip, 3), kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(ApplyStockDelta(l, DeltaOf(Movement::kAdjust, -3), kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(ApplyStockDelta(l, DeltaOf(Movement::kAdjust, -2), kNow)->on_hand() == 3);
  // Unreserving more than reserved, receiving a transfer that is not in transit.
  CHECK(ApplyStockDelta(l, DeltaOf(Movement::kUnreserve, 4), kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(ApplyStockDelta(l, DeltaOf(Movement::kReceiveTransfer, 1), kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("each movement changes the counts it should") {
  const v1::StockLevel l = Level(10, 4, 2);
  auto consume = ApplyStockDelta(l, DeltaOf(Movement::kConsume, 3), kNow);
  REQUIRE(consume.ok());
  CHECK(consume->on_hand() == 7);
  CHECK(consume->reserved() == 1);
  CHECK(consume->available() == 6);
  auto arrive = ApplyStockDelta(l, DeltaOf(Movement::kReceiveTransfer, 2), kNow);
  REQUIRE(arrive.ok());
  CHECK(arrive->on_hand() == 12);
  CHECK(arrive->in_transit() == 0);
  auto expect = ApplyStockDelta(l, DeltaOf(Movement::kExpectTransfer, 5), kNow);
  CHECK(expect->in_transit() == 7);
  CHECK(expect->available() == 6);
}

TEST_CASE("a stored level that breaks the invariant is reported, never moved") {
  v1::StockLevel broken = Level(2, 3);  // reserved > on hand
  CHECK(CheckStockLevel(broken).code() == absl::StatusCode::kInternal);
  CHECK(ApplyStockDelta(broken, DeltaOf(Movement::kReceive, 5), kNow).status().code() ==
        absl::StatusCode::kInternal);
  v1::StockLevel lying = Level(5, 1);
  lying.set_available(5);  // available != on_hand - reserved
  CHECK(CheckStockLevel(lying).code() == absl::StatusCode::kInternal);
  CHECK(CheckStockLevel(Level(0, 0)).ok());
}

TEST_CASE("the SKU ledger conserves units through every movement") {
  v1::SkuSummary g;
  g.set_sku("SKU-1");
  auto move = [&](Movement m, int64_t q) { ApplyToLedger(g, m, DeltaOf(m, q)); };
  move(Movement::kReceive, 20);
  move(Movement::kReserve, 5);
  move(Movement::kConsume, 3);
  move(Movement::kUnreserve, 2);
  move(Movement::kShip, 4);
  move(Movement::kExpectTransfer, 4);
  move(Movement::kReceiveTransfer, 1);
  move(Movement::kAdjust, -2);
  REQUIRE(CheckLedger(g).ok());
  CHECK(g.received() == 20);
  CHECK(g.consumed() == 3);
  CHECK(g.adjusted() == -2);
  CHECK(g.on_hand() == 12);
  CHECK(g.in_transit() == 3);
  CHECK(g.on_hand() + g.in_transit() == g.received() - g.consumed() + g.adjusted());
  // A unit that appears from nowhere breaks conservation.
  v1::SkuSummary forged = g;
  forged.set_on_hand(g.on_hand() + 1);
  forged.set_available(forged.on_hand() - forged.reserved());
  CHECK(CheckLedger(forged).code() == absl::StatusCode::kInternal);
}

TEST_CASE("fill rate is immediate reservations over requests") {
  v1::SkuSummary g;
  CHECK(FillRate(g) == 1.0);
  g.set_reserve_requests(50);
  g.set_reserved_immediately(49);
  CHECK(FillRate(g) == Approx(0.98));
}

TEST_CASE("low stock means available below a set reorder point") {
  v1::StockLevel l = Level(5, 2);
  CHECK_FALSE(IsLow(l));  // no reorder point
  l.set_reorder_point(3);
  CHECK_FALSE(IsLow(l));  // available 3 == point
  l.set_reorder_point(4);
  CHECK(IsLow(l));
}

// ---- placement ----

TEST_CASE("a reservation comes from the best kind first, then the nearest") {
  const v1::PartsPolicy policy = Policy();
  // Service point in Shanghai; the regional warehouse is nearer than both outlets.
  std::vector<Candidate> c = {
      {Location("CENTRAL", v1::LOCATION_KIND_CENTRAL_WAREHOUSE, 39.9, 116.4, "CN-110000"), 100},
      {Location("REGIONAL", v1::LOCATION_KIND_REGIONAL_WAREHOUSE, 31.23, 121.47), 50},
      {Location("OUT-FAR", v1::LOCATION_KIND_OUTLET, 31.40, 121.60), 3},
      {Location("OUT-NEAR", v1::LOCATION_KIND_OUTLET, 31.30, 121.50), 3},
      {Location("VAN-E1", v1::LOCATION_KIND_ENGINEER_VAN, 31.50, 121.90, "CN-310000", "E1"), 1},
      {Location("VAN-E2", v1::LOCATION_KIND_ENGINEER_VAN, 31.231, 121.471, "CN-310000", "E2"), 5},
  };
  // E1's own van first; another engineer's van never.
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 1, "", "E1"), policy)) ==
        std::vector<std::string>{"VAN-E1", "OUT-NEAR", "OUT-FAR", "REGIONAL", "CENTRAL"});
  // Without an engineer no van; two units skip E1's van which has one.
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 2, "", "E1"), policy)) ==
        std::vector<std::string>{"OUT-NEAR", "OUT-FAR", "REGIONAL", "CENTRAL"});
  // Four units: only the warehouses have them.
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 4), policy)) ==
        std::vector<std::string>{"REGIONAL", "CENTRAL"});
  auto ranked = RankLocations(c, NeedAt(31.23, 121.47, 1), policy);
  REQUIRE(!ranked.empty());
  CHECK(ranked.front().distance_km == Approx(DistanceKm(c[3].location.point(), NeedAt(31.23, 121.47).near)));
}

TEST_CASE("region, neighbours, radius and activity limit the search, and central serves everyone") {
  v1::PartsPolicy policy = Policy();  // radius 300 km; CN-310000 neighbours CN-320000
  std::vector<Candidate> c = {
      {Location("OUT-SH", v1::LOCATION_KIND_OUTLET, 31.23, 121.47, "CN-310000"), 5},
      {Location("OUT-JS", v1::LOCATION_KIND_OUTLET, 32.06, 118.79, "CN-320000"), 5},
      {Location("OUT-BJ", v1::LOCATION_KIND_OUTLET, 39.90, 116.40, "CN-110000"), 5},
      {Location("CENTRAL", v1::LOCATION_KIND_CENTRAL_WAREHOUSE, 39.9, 116.4, "CN-110000"), 5},
  };
  // From Shanghai in region CN-310000: Beijing's outlet is another region and too far.
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 1, "CN-310000"), policy)) ==
        std::vector<std::string>{"OUT-SH", "OUT-JS", "CENTRAL"});
  // No region given: still the 300 km radius.
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 1), policy)) ==
        std::vector<std::string>{"OUT-SH", "OUT-JS", "CENTRAL"});
  // Radius unlimited: Beijing's outlet is an outlet, before the central warehouse.
  policy.set_max_search_radius_km(0);
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 1), policy)) ==
        std::vector<std::string>{"OUT-SH", "OUT-JS", "OUT-BJ", "CENTRAL"});
  // Inactive locations and kinds outside the search order are never used.
  c[0].location.set_active(false);
  policy.clear_search_order();
  policy.add_search_order(v1::LOCATION_KIND_OUTLET);
  CHECK(Ids(RankLocations(c, NeedAt(31.23, 121.47, 1), policy)) ==
        std::vector<std::string>{"OUT-JS", "OUT-BJ"});
}

// ---- reservations and backorders ----

TEST_CASE("a reservation is consumed in parts, then closes") {
  const v1::PartsPolicy policy = Policy();
  ReservationSpec spec;
  spec.reservation_id = "R1";
  spec.order_id = "O1";
  spec.sku = "SKU-1";
  spec.quantity = 3;
  spec.need = NeedAt(31.2, 121.4, 3);
  Ranked at{Location("OUT", v1::LOCATION_KIND_OUTLET, 31.2, 121.4), 5, 1.5, 1};
  v1::Reservation r = NewReservation(spec, at, policy, kNow);
  CHECK(r.state() == v1::RESERVATION_STATE_ACTIVE);
  CHECK(rpc::FromProto(r.expires_at()) == kNow + absl::Hours(48));
  CHECK(r.priority() == v1::PRIORITY_NORMAL);  // UNSPECIFIED counts as NORMAL
  CHECK(r.policy().version() == policy.ref().version());
  CHECK(Remaining(r) == 3);

  auto too_many = Consume(r, 4, kNow);
  CHECK(too_many.status().code() == absl::StatusCode::kInvalidArgument);
  auto first = Consume(r, 1, kNow);
  REQUIRE(first.ok());
  CHECK(first->quantity == 1);
  CHECK(first->reservation.state() == v1::RESERVATION_STATE_ACTIVE);
  CHECK(Remaining(first->reservation) == 2);
  auto rest = Consume(first->reservation, 0, kNow);  // 0 = all that is left
  REQUIRE(rest.ok());
  CHECK(rest->quantity == 2);
  CHECK(rest->reservation.state() == v1::RESERVATION_STATE_CONSUMED);
  CHECK(Remaining(rest->reservation) == 0);
  CHECK(Consume(rest->reservation, 1, kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(Release(rest->reservation, v1::RELEASE_REASON_MANUAL, kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a reservation expires exactly at its expiry, not before") {
  const v1::PartsPolicy policy = Policy();
  ReservationSpec spec;
  spec.reservation_id = "R1";
  spec.order_id = "O1";
  spec.sku = "SKU-1";
  spec.quantity = 1;
  Ranked at{Location("OUT", v1::LOCATION_KIND_OUTLET, 31.2, 121.4), 5, 0, 1};
  const v1::Reservation r = NewReservation(spec, at, policy, kNow);
  const absl::Time expiry = kNow + absl::Hours(48);
  CHECK_FALSE(IsExpired(r, expiry - absl::Seconds(1)));
  CHECK(Expire(r, expiry - absl::Seconds(1)).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(Consume(r, 1, expiry - absl::Seconds(1)).ok());
  CHECK(IsExpired(r, expiry));
  CHECK(Consume(r, 1, expiry).status().code() == absl::StatusCode::kFailedPrecondition);
  auto expired = Expire(r, expiry);
  REQUIRE(expired.ok());
  CHECK(expired->state() == v1::RESERVATION_STATE_EXPIRED);
  CHECK(Remaining(*expired) == 0);
  auto released = Release(r, v1::RELEASE_REASON_UNSPECIFIED, kNow);
  REQUIRE(released.ok());
  CHECK(released->release_reason() == v1::RELEASE_REASON_MANUAL);
}

TEST_CASE("backorders queue by priority, then age, then id") {
  std::vector<v1::Backorder> q = {
      Backorder("a", v1::PRIORITY_NORMAL, absl::Hours(1)),
      Backorder("b", v1::PRIORITY_EMERGENCY, absl::Minutes(1)),
      Backorder("c", v1::PRIORITY_NORMAL, absl::Hours(5)),
      Backorder("d", v1::PRIORITY_URGENT, absl::Hours(2)),
      Backorder("e", v1::PRIORITY_UNSPECIFIED, absl::Hours(3)),  // = NORMAL
      Backorder("f", v1::PRIORITY_NORMAL, absl::Hours(1)),      // same age as a
  };
  std::sort(q.begin(), q.end(), BackorderPrecedes);
  std::vector<std::string> order;
  for (const auto& b : q) order.push_back(b.backorder_id());
  CHECK(order == std::vector<std::string>{"b", "d", "c", "e", "a", "f"});
  // The stored queue keys sort the same way.
  std::vector<v1::Backorder> by_key = q;
  std::reverse(by_key.begin(), by_key.end());
  std::sort(by_key.begin(), by_key.end(), [](const v1::Backorder& x, const v1::Backorder& y) {
    return PartsRepository::QueueKey(x) < PartsRepository::QueueKey(y);
  });
  std::vector<std::string> key_order;
  for (const auto& b : by_key) key_order.push_back(b.backorder_id());
  CHECK(key_order == order);
}

TEST_CASE("allocation fills backorders in queue order, skipping ones too big or not eligible") {
  std::vector<v1::Backorder> q = {
      Backorder("emergency", v1::PRIORITY_EMERGENCY, absl::Minutes(1), 1),
      Backorder("big", v1::PRIORITY_URGENT, absl::Hours(9), 5),
      Backorder("old-normal", v1::PRIORITY_NORMAL, absl::Hours(3), 1),
      Backorder("new-normal", v1::PRIORITY_NORMAL, absl::Hours(1), 1),
  };
  CHECK(PlanAllocation(q, {true, true, true, true}, 2) == std::vector<size_t>{0, 2});
  CHECK(PlanAllocation(q, {true, true, true, true}, 6) == std::vector<size_t>{0, 1});
  CHECK(PlanAllocation(q, {false, true, true, true}, 2) == std::vector<size_t>{2, 3});
  CHECK(PlanAllocation(q, {true, true, true, true}, 0).empty());
  auto allocated = Allocate(q[0], "R9", kNow);
  REQUIRE(allocated.ok());
  CHECK(allocated->state() == v1::BACKORDER_STATE_ALLOCATED);
  CHECK(allocated->allocated_reservation_id() == "R9");
  CHECK(Cancel(*allocated, v1::RELEASE_REASON_ORDER_CANCELLED, kNow).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  auto cancelled = Cancel(q[1], v1::RELEASE_REASON_ORDER_CANCELLED, kNow);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->state() == v1::BACKORDER_STATE_CANCELLED);
  CHECK(cancelled->cancel_reason() == v1::RELEASE_REASON_ORDER_CANCELLED);
}

// ---- policy ----

TEST_CASE("the shipped parts policy parses and holds the SPEC defaults") {
  const v1::PartsPolicy p = Policy();
  CHECK(p.ref().name() == "parts");
  CHECK(ReservationTtl(p) == absl::Hours(48));
  REQUIRE(p.search_order_size() == 4);
  CHECK(p.search_order(0) == v1::LOCATION_KIND_ENGINEER_VAN);
  CHECK(p.search_order(3) == v1::LOCATION_KIND_CENTRAL_WAREHOUSE);
  CHECK(SearchRegions(p, "CN-310000").count("CN-320000") == 1);
  CHECK(SearchRegions(p, "XX").size() == 1);
}

TEST_CASE("a bad policy is refused naming the field") {
  const std::string base =
      "ref { name: \"parts\" version: \"v1\" } reservation_ttl { seconds: 172800 } "
      "search_order: LOCATION_KIND_OUTLET ";
  CHECK(ParsePartsPolicy(base).ok());
  auto message = [](const std::string& text) {
    return std::string(ParsePartsPolicy(text).status().message());
  };
  CHECK(absl::StartsWith(message(base + "max_search_radius_km: -1"), "max_search_radius_km:"));
  CHECK(absl::StartsWith(message(base + "search_order: LOCATION_KIND_OUTLET"),
                         "search_order[1]: duplicate kind"));
  CHECK(absl::StartsWith(
      message("ref { name: \"parts\" version: \"v1\" } reservation_ttl { seconds: 10 } "
              "search_order: LOCATION_KIND_OUTLET"),
      "reservation_ttl: must be in [1 min, 30 days]"));
  CHECK(absl::StartsWith(message("ref { name: \"parts\" version: \"v1\" } "
                                 "search_order: LOCATION_KIND_OUTLET"),
                         "reservation_ttl: required"));
  CHECK(absl::StartsWith(message(base + "regions { region_code: \"A\" } regions { region_code: \"A\" }"),
                         "regions[1].region_code: duplicate region"));
  CHECK(absl::StartsWith(message(base + "regions { region_code: \"A\" neighbour_regions: \"bad id\" }"),
                         "regions[0].neighbour_regions[0]:"));
  CHECK(absl::StartsWith(message(base + "search_order: BOGUS"), "policy: line 1"));
  CHECK(absl::StartsWith(message("reservation_ttl { seconds: 172800 }"), "ref.name: required"));
}

// ---- validation ----

TEST_CASE("requests are validated field by field") {
  v1::ReserveRequest reserve;
  reserve.set_order_id("O1");
  reserve.set_sku("SKU-1");
  reserve.set_quantity(1);
  reserve.mutable_near()->set_lat_deg(31.2);
  reserve.mutable_near()->set_lng_deg(121.4);
  CHECK(ValidateReserve(reserve).ok());
  auto first_field = [](const absl::Status& s) {
    std::string m(s.message());
    return m.substr(0, m.find(':'));
  };
  auto r = reserve;
  r.set_quantity(1001);
  CHECK(first_field(ValidateReserve(r)) == "quantity");
  r = reserve;
  r.clear_near();
  CHECK(first_field(ValidateReserve(r)) == "near");
  r = reserve;
  r.mutable_near()->set_lat_deg(91);
  CHECK(first_field(ValidateReserve(r)) == "near.lat_deg");
  r = reserve;
  r.set_order_id(std::string(65, 'x'));
  CHECK(first_field(ValidateReserve(r)) == "order_id");
  r = reserve;
  r.set_priority(static_cast<v1::Priority>(42));
  CHECK(first_field(ValidateReserve(r)) == "priority");

  v1::StockLocation loc = Location("VAN", v1::LOCATION_KIND_ENGINEER_VAN, 31, 121, "CN-310000", "");
  CHECK(first_field(ValidateLocation(loc)) == "location.engineer_id");
  loc.set_engineer_id("E1");
  CHECK(ValidateLocation(loc).ok());
  loc.set_kind(v1::LOCATION_KIND_OUTLET);
  CHECK(first_field(ValidateLocation(loc)) == "location.engineer_id");

  v1::Part part;
  part.set_sku("SKU-1");
  CHECK(first_field(ValidatePart(part)) == "part.name");
  part.set_name("compressor");
  part.mutable_unit_price()->set_currency_code("cny");
  CHECK(first_field(ValidatePart(part)) == "part.unit_price.currency_code");
  part.mutable_unit_price()->set_currency_code("CNY");
  part.set_warranty_days(4000);
  CHECK(first_field(ValidatePart(part)) == "part.warranty_days");

  v1::AdjustRequest adjust;
  adjust.set_request_id("a1");
  adjust.set_location_id("L1");
  adjust.set_sku("SKU-1");
  adjust.set_reason(v1::ADJUSTMENT_REASON_DAMAGED);
  CHECK(first_field(ValidateAdjust(adjust)) == "delta");
  adjust.set_delta(-1);
  CHECK(ValidateAdjust(adjust).ok());
  adjust.clear_reason();
  CHECK(first_field(ValidateAdjust(adjust)) == "reason");

  v1::TransferRequest transfer;
  transfer.set_request_id("t1");
  transfer.set_sku("SKU-1");
  transfer.set_quantity(1);
  transfer.set_from_location_id("A");
  transfer.set_to_location_id("A");
  CHECK(first_field(ValidateTransfer(transfer)) == "to_location_id");

  v1::ConsumeRequest consume;
  consume.set_request_id("c1");
  consume.set_reservation_id("R1");
  consume.set_lot_number("LOT 1");  // spaces are not allowed in ids
  CHECK(first_field(ValidateConsume(consume)) == "lot_number");
}

}  // namespace
}  // namespace aftersales::parts::domain
