// PartsCore over a real RocksDB store and a manual clock, without gRPC:
// where reservations come from, idempotency, backorder allocation order and
// "all parts available", intake's events, expiry, transfers, lots, and a
// multi-threaded run that must conserve every unit.
#include <atomic>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "clock/clock.h"
#include "parts/domain/policy.h"
#include "parts/domain/reservation.h"
#include "parts/parts_background.h"
#include "parts/parts_core.h"
#include "prometheus/registry.h"
#include "rpc/rpc.h"
#include "support/test_support.h"

namespace aftersales::parts {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1795000000);

v1::StockLocation Loc(const std::string& id, v1::LocationKind kind, double lat, double lng,
                      const std::string& engineer = "") {
  v1::StockLocation l;
  l.set_location_id(id);
  l.set_kind(kind);
  l.set_name(id);
  l.mutable_point()->set_lat_deg(lat);
  l.mutable_point()->set_lng_deg(lng);
  l.set_region_code("CN-310000");
  l.set_engineer_id(engineer);
  l.set_active(true);
  return l;
}

double MetricValue(prometheus::Registry& registry, const std::string& name) {
  double total = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) total += m.counter.value + m.gauge.value;
  }
  return total;
}

struct CoreFixture {
  testing::TempDir dir;
  std::unique_ptr<store::Store> store;
  ManualClock clock{kStart};
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<PartsCore> core;
  Caller admin{"admin", v1::ROLE_ADMIN, ""};
  int requests = 0;

  CoreFixture() { Open(); }

  void Open() {
    core.reset();
    store.reset();
    store::Store::Options o;
    o.path = dir.Sub("parts");
    o.column_families = PartsRepository::ColumnFamilies();
    auto opened = store::Store::Open(o);
    REQUIRE(opened.ok());
    store = *std::move(opened);
    registry = std::make_shared<prometheus::Registry>();
    auto policy = PartsPolicyHolder::Load(testing::SourcePath("deploy/policies/parts.textproto"),
                                          domain::ParsePartsPolicy, clock.Now());
    REQUIRE(policy.ok());
    core = std::make_unique<PartsCore>(*store, clock, *registry, *std::move(policy));
    REQUIRE(core->Init().ok());
  }

  void Part(const std::string& sku, bool lot_tracked = false) {
    v1::Part p;
    p.set_sku(sku);
    p.set_name("part " + sku);
    p.set_lot_tracked(lot_tracked);
    p.set_active(true);
    p.mutable_unit_price()->set_currency_code("CNY");
    p.mutable_unit_price()->set_amount_minor(1000);
    REQUIRE(core->UpsertPart(p).ok());
  }

  void Place(const v1::StockLocation& l) { REQUIRE(core->UpsertLocation(l).ok()); }

  v1::ReceiveResponse Receive(const std::string& loc, const std::string& sku, int64_t qty,
                              const std::string& lot = "") {
    v1::ReceiveRequest r;
    r.set_request_id(absl::StrCat("rcv-", ++requests));
    r.set_location_id(loc);
    r.set_sku(sku);
    r.set_quantity(qty);
    r.set_lot_number(lot);
    auto resp = core->Receive(admin, r);
    INFO(resp.status().ToString());
    REQUIRE(resp.ok());
    return *resp;
  }

  absl::StatusOr<v1::ReserveResponse> Reserve(const std::string& order, const std::string& sku,
                                              int64_t qty, v1::Priority p = v1::PRIORITY_NORMAL,
                                              const std::string& engineer = "") {
    v1::ReserveRequest r;
    r.set_order_id(order);
    r.set_sku(sku);
    r.set_quantity(qty);
    r.mutable_near()->set_lat_deg(31.23);
    r.mutable_near()->set_lng_deg(121.47);
    r.set_priority(p);
    r.set_engineer_id(engineer);
    return core->Reserve(r);
  }

  v1::StockLevel Stock(const std::string& loc, const std::string& sku) {
    auto l = core->repo().GetStock(loc, sku);
    REQUIRE(l.ok());
    return l->value_or(v1::StockLevel());
  }

  std::vector<v1::Event> Events(v1::Event::BodyCase body) {
    auto all = store->ReadEvents(0, 100000);
    REQUIRE(all.ok());
    std::vector<v1::Event> out;
    for (const auto& e : *all) {
      if (e.body_case() == body) out.push_back(e);
    }
    return out;
  }

  // Applies one intake event the way the consumer does: stage, then commit.
  void FromIntake(const v1::Event& e) {
    store::Batch batch;
    REQUIRE(core->ApplyIntakeEvent(e, batch).ok());
    REQUIRE(store->Commit(batch).ok());
  }
};

v1::Event OrderCreated(const std::string& order_id, v1::Priority p) {
  v1::Event e;
  e.set_producer("intake");
  e.set_subject_id(order_id);
  e.mutable_order_created()->mutable_order()->set_order_id(order_id);
  e.mutable_order_created()->mutable_order()->set_priority(p);
  return e;
}

TEST_CASE("a reservation comes from the engineer's van first, and a retry returns it") {
  CoreFixture f;
  f.Part("CMP");
  f.Place(Loc("VAN-E1", v1::LOCATION_KIND_ENGINEER_VAN, 31.30, 121.60, "E1"));
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  f.Receive("VAN-E1", "CMP", 1);
  f.Receive("OUT-1", "CMP", 5);

  auto by_e1 = f.Reserve("O1", "CMP", 1, v1::PRIORITY_NORMAL, "E1");
  REQUIRE(by_e1.ok());
  CHECK(by_e1->outcome() == v1::RESERVE_OUTCOME_RESERVED);
  CHECK(by_e1->reservation().location_id() == "VAN-E1");
  CHECK(by_e1->created());
  // Without an engineer the van is not used, however near.
  auto by_agent = f.Reserve("O2", "CMP", 1);
  REQUIRE(by_agent.ok());
  CHECK(by_agent->reservation().location_id() == "OUT-1");

  auto retry = f.Reserve("O1", "CMP", 1, v1::PRIORITY_NORMAL, "E1");
  REQUIRE(retry.ok());
  CHECK_FALSE(retry->created());
  CHECK(retry->reservation().reservation_id() == by_e1->reservation().reservation_id());
  auto other_qty = f.Reserve("O1", "CMP", 2);
  CHECK(other_qty.status().code() == absl::StatusCode::kAlreadyExists);

  CHECK(f.Stock("VAN-E1", "CMP").reserved() == 1);
  CHECK(f.Stock("VAN-E1", "CMP").available() == 0);
  CHECK(f.Stock("OUT-1", "CMP").available() == 4);
  CHECK(f.Events(v1::Event::kPartsReserved).size() == 2);
  auto ledger = f.core->repo().GetLedger("CMP");
  REQUIRE(ledger.ok());
  CHECK((*ledger)->reserve_requests() == 2);
  CHECK((*ledger)->reserved_immediately() == 2);
  CHECK(MetricValue(*f.registry, "aftersales_parts_fill_rate_ratio") == 1.0);
}

TEST_CASE("a receipt fills backorders by priority then age and says when an order is complete") {
  CoreFixture f;
  f.Part("CMP");
  f.Part("VALVE");
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  // Older NORMAL first, then EMERGENCY, then newer NORMAL.
  REQUIRE(f.Reserve("OLD", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  REQUIRE(f.clock.Advance(absl::Minutes(5)).ok());
  REQUIRE(f.Reserve("EMG", "CMP", 1, v1::PRIORITY_EMERGENCY)->outcome() ==
          v1::RESERVE_OUTCOME_BACKORDERED);
  REQUIRE(f.clock.Advance(absl::Minutes(5)).ok());
  REQUIRE(f.Reserve("NEW", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  // EMG also waits for a valve.
  REQUIRE(f.Reserve("EMG", "VALVE", 1, v1::PRIORITY_EMERGENCY)->outcome() ==
          v1::RESERVE_OUTCOME_BACKORDERED);
  CHECK(MetricValue(*f.registry, "aftersales_parts_backorders_waiting") == 4);
  CHECK(MetricValue(*f.registry, "aftersales_parts_fill_rate_ratio") == 0);

  REQUIRE(f.clock.Advance(absl::Hours(1)).ok());
  auto receipt = f.Receive("OUT-1", "CMP", 2);
  REQUIRE(receipt.allocated_size() == 2);
  CHECK(receipt.allocated(0).order_id() == "EMG");
  CHECK(receipt.allocated(1).order_id() == "OLD");
  CHECK(receipt.stock().on_hand() == 2);
  CHECK(receipt.stock().reserved() == 2);
  CHECK(receipt.stock().available() == 0);

  auto available = f.Events(v1::Event::kPartsAvailable);
  REQUIRE(available.size() == 2);
  CHECK(available[0].parts_available().order_id() == "EMG");
  CHECK_FALSE(available[0].parts_available().all_available());  // the valve still waits
  CHECK(available[1].parts_available().order_id() == "OLD");
  CHECK(available[1].parts_available().all_available());

  f.Receive("OUT-1", "VALVE", 1);
  available = f.Events(v1::Event::kPartsAvailable);
  REQUIRE(available.size() == 3);
  CHECK(available[2].parts_available().order_id() == "EMG");
  CHECK(available[2].parts_available().all_available());
  CHECK(MetricValue(*f.registry, "aftersales_parts_backorders_waiting") == 1);
  // Allocated backorders became reservations; the retry of Reserve sees them.
  auto retry = f.Reserve("OLD", "CMP", 1);
  REQUIRE(retry.ok());
  CHECK(retry->outcome() == v1::RESERVE_OUTCOME_RESERVED);
  CHECK_FALSE(retry->created());
  CHECK(retry->reservation().from_backorder_id() != "");
}

TEST_CASE("intake's priority reorders the queue and its cancellation releases everything") {
  CoreFixture f;
  f.Part("CMP");
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  f.Receive("OUT-1", "CMP", 1);
  REQUIRE(f.Reserve("HOLDER", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_RESERVED);
  REQUIRE(f.Reserve("A", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  REQUIRE(f.clock.Advance(absl::Minutes(1)).ok());
  REQUIRE(f.Reserve("B", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  // Intake says B is an emergency (the request did not).
  f.FromIntake(OrderCreated("B", v1::PRIORITY_EMERGENCY));
  f.FromIntake(OrderCreated("A", v1::PRIORITY_NORMAL));

  // The holder's order is cancelled: its unit goes to B, not the older A.
  v1::Event cancelled;
  cancelled.set_producer("intake");
  cancelled.mutable_order_cancelled()->set_order_id("HOLDER");
  f.FromIntake(cancelled);
  auto released = f.Events(v1::Event::kReservationReleased);
  REQUIRE(released.size() == 1);
  CHECK(released[0].reservation_released().reason() == v1::RELEASE_REASON_ORDER_CANCELLED);
  auto available = f.Events(v1::Event::kPartsAvailable);
  REQUIRE(available.size() == 1);
  CHECK(available[0].parts_available().order_id() == "B");
  // A cancelled order reserves nothing more.
  CHECK(f.Reserve("HOLDER", "CMP", 1).status().code() == absl::StatusCode::kFailedPrecondition);
  // Replaying the cancellation changes nothing.
  f.FromIntake(cancelled);
  CHECK(f.Events(v1::Event::kReservationReleased).size() == 1);

  // A is raised to URGENT: ahead of NORMAL, still behind the newer EMERGENCY C.
  REQUIRE(f.clock.Advance(absl::Minutes(1)).ok());
  REQUIRE(f.Reserve("C", "CMP", 1, v1::PRIORITY_EMERGENCY)->outcome() ==
          v1::RESERVE_OUTCOME_BACKORDERED);
  v1::Event changed;
  changed.set_producer("intake");
  changed.mutable_order_priority_changed()->set_order_id("A");
  changed.mutable_order_priority_changed()->set_to_priority(v1::PRIORITY_URGENT);
  f.FromIntake(changed);
  auto receipt = f.Receive("OUT-1", "CMP", 1);
  REQUIRE(receipt.allocated_size() == 1);
  CHECK(receipt.allocated(0).order_id() == "C");
  receipt = f.Receive("OUT-1", "CMP", 1);
  REQUIRE(receipt.allocated_size() == 1);
  CHECK(receipt.allocated(0).order_id() == "A");
  CHECK(receipt.allocated(0).priority() == v1::PRIORITY_URGENT);
}

TEST_CASE("expired reservations are released by the sweeper and their stock fills backorders") {
  CoreFixture f;
  f.Part("CMP");
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  f.Receive("OUT-1", "CMP", 1);
  auto held = f.Reserve("HOLDER", "CMP", 1);
  REQUIRE(held->outcome() == v1::RESERVE_OUTCOME_RESERVED);
  REQUIRE(f.Reserve("WAITER", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);

  REQUIRE(f.clock.Advance(absl::Hours(48) - absl::Seconds(1)).ok());
  REQUIRE(ExpireAllDue(*f.core).ok());
  CHECK(f.Events(v1::Event::kReservationExpired).empty());
  REQUIRE(f.clock.Advance(absl::Seconds(1)).ok());
  auto next = f.core->NextExpiry();
  REQUIRE(next.ok());
  CHECK(*next == rpc::FromProto(held->reservation().expires_at()));
  REQUIRE(ExpireAllDue(*f.core).ok());
  auto expired = f.Events(v1::Event::kReservationExpired);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].reservation_expired().order_id() == "HOLDER");
  auto r = f.core->repo().GetReservation(held->reservation().reservation_id());
  CHECK((*r)->state() == v1::RESERVATION_STATE_EXPIRED);
  // The freed unit went to the waiting backorder in the same transaction.
  auto available = f.Events(v1::Event::kPartsAvailable);
  REQUIRE(available.size() == 1);
  CHECK(available[0].parts_available().order_id() == "WAITER");
  CHECK(f.Stock("OUT-1", "CMP").reserved() == 1);
  CHECK(MetricValue(*f.registry, "aftersales_parts_reservations_expired_total") == 1);
  // The waiter's new reservation expires 48 h after allocation.
  REQUIRE(ExpireAllDue(*f.core).ok());
  CHECK(f.Events(v1::Event::kReservationExpired).size() == 1);
  // A new Reserve for the expired order starts a new reservation (backordered now).
  auto again = f.Reserve("HOLDER", "CMP", 1);
  REQUIRE(again.ok());
  CHECK(again->created());
  CHECK(again->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
}

TEST_CASE("transfers are in transit until received, consumption records lots for tracing") {
  CoreFixture f;
  f.Part("PCB", /*lot_tracked=*/true);
  f.Place(Loc("WH", v1::LOCATION_KIND_REGIONAL_WAREHOUSE, 31.0, 121.0));
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  v1::ReceiveRequest no_lot;
  no_lot.set_request_id("x");
  no_lot.set_location_id("WH");
  no_lot.set_sku("PCB");
  no_lot.set_quantity(1);
  CHECK(f.core->Receive(f.admin, no_lot).status().code() == absl::StatusCode::kInvalidArgument);
  f.Receive("WH", "PCB", 10, "LOT-A");

  v1::TransferRequest t;
  t.set_request_id("t1");
  t.set_sku("PCB");
  t.set_quantity(4);
  t.set_from_location_id("WH");
  t.set_to_location_id("OUT-1");
  t.set_lot_number("LOT-A");
  auto shipped = f.core->Transfer(f.admin, t);
  REQUIRE(shipped.ok());
  CHECK(shipped->state() == v1::TRANSFER_STATE_IN_TRANSIT);
  CHECK(f.Stock("WH", "PCB").on_hand() == 6);
  CHECK(f.Stock("OUT-1", "PCB").in_transit() == 4);
  CHECK(f.Stock("OUT-1", "PCB").available() == 0);
  // More than is available cannot ship.
  t.set_request_id("t2");
  t.set_quantity(7);
  CHECK(f.core->Transfer(f.admin, t).status().code() == absl::StatusCode::kFailedPrecondition);
  auto received = f.core->ReceiveTransfer(f.admin, shipped->transfer_id());
  REQUIRE(received.ok());
  CHECK(received->state() == v1::TRANSFER_STATE_RECEIVED);
  CHECK(f.Stock("OUT-1", "PCB").on_hand() == 4);
  CHECK(f.Stock("OUT-1", "PCB").in_transit() == 0);
  // Receiving twice is a no-op.
  REQUIRE(f.core->ReceiveTransfer(f.admin, shipped->transfer_id()).ok());
  CHECK(f.Stock("OUT-1", "PCB").on_hand() == 4);

  auto r = f.Reserve("O1", "PCB", 2);
  REQUIRE(r->reservation().location_id() == "OUT-1");
  v1::ConsumeRequest c;
  c.set_request_id("c1");
  c.set_reservation_id(r->reservation().reservation_id());
  c.set_quantity(1);
  CHECK(f.core->Consume(f.admin, c).status().code() == absl::StatusCode::kInvalidArgument);
  c.set_lot_number("LOT-A");
  auto consumed = f.core->Consume(f.admin, c);
  REQUIRE(consumed.ok());
  auto replay = f.core->Consume(f.admin, c);
  REQUIRE(replay.ok());
  CHECK(replay->consumption_id() == consumed->consumption_id());
  CHECK(f.Stock("OUT-1", "PCB").on_hand() == 3);
  CHECK(f.Stock("OUT-1", "PCB").reserved() == 1);
  auto ledger = f.core->repo().GetLedger("PCB");
  CHECK((*ledger)->received() == 10);
  CHECK((*ledger)->consumed() == 1);
  CHECK((*ledger)->on_hand() + (*ledger)->in_transit() == 9);
  auto rows = f.core->repo().LotRows("LOT-A", "", 100);
  REQUIRE(rows.ok());
  int consumptions = 0, receipts = 0;
  for (const auto& row : *rows) (row.kind == 'c' ? consumptions : receipts)++;
  CHECK(consumptions == 1);
  CHECK(receipts == 1);
}

TEST_CASE("state survives reopening the store and the metrics start from it") {
  CoreFixture f;
  f.Part("CMP");
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  f.Receive("OUT-1", "CMP", 1);
  REQUIRE(f.Reserve("O1", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_RESERVED);
  REQUIRE(f.Reserve("O2", "CMP", 1)->outcome() == v1::RESERVE_OUTCOME_BACKORDERED);
  f.Open();
  CHECK(f.core->locations().Get("OUT-1").has_value());
  CHECK(MetricValue(*f.registry, "aftersales_parts_fill_rate_ratio") == 0.5);
  CHECK(MetricValue(*f.registry, "aftersales_parts_backorders_waiting") == 1);
  CHECK(MetricValue(*f.registry, "aftersales_parts_stock_value_minor") == 1000);
  auto retry = f.Reserve("O1", "CMP", 1);
  REQUIRE(retry.ok());
  CHECK_FALSE(retry->created());
}

TEST_CASE("many threads moving the same SKUs conserve every unit and never break the invariant") {
  CoreFixture f;
  const std::vector<std::string> skus = {"S1", "S2"};
  const std::vector<std::string> locs = {"OUT-1", "OUT-2", "WH"};
  for (const auto& s : skus) f.Part(s);
  f.Place(Loc("OUT-1", v1::LOCATION_KIND_OUTLET, 31.24, 121.48));
  f.Place(Loc("OUT-2", v1::LOCATION_KIND_OUTLET, 31.30, 121.50));
  f.Place(Loc("WH", v1::LOCATION_KIND_REGIONAL_WAREHOUSE, 31.0, 121.0));

  std::atomic<int64_t> received[2] = {0, 0}, consumed[2] = {0, 0}, adjusted[2] = {0, 0};
  std::atomic<int> ops{0}, refused{0}, unexpected{0};
  std::vector<std::thread> threads;
  const absl::Time end = absl::Now() + absl::Seconds(3);
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<std::string> mine;  // reservation ids
      std::vector<std::string> transfers;
      Caller me{absl::StrCat("worker-", t), v1::ROLE_SERVICE, ""};
      int n = 0;
      while (absl::Now() < end) {
        const int si = rng() % 2;
        const std::string& sku = skus[si];
        const std::string& loc = locs[rng() % 3];
        const std::string rid = absl::StrCat("t", t, "-", ++n);
        switch (rng() % 7) {
          case 0: {
            v1::ReceiveRequest r;
            r.set_request_id(rid);
            r.set_location_id(loc);
            r.set_sku(sku);
            r.set_quantity(1 + rng() % 3);
            if (f.core->Receive(me, r).ok()) received[si] += r.quantity();
            break;
          }
          case 1:
          case 2: {
            auto r = f.Reserve(absl::StrCat("ord-", t, "-", n), sku, 1 + rng() % 2);
            if (r.ok() && r->outcome() == v1::RESERVE_OUTCOME_RESERVED) {
              mine.push_back(r->reservation().reservation_id());
            }
            break;
          }
          case 3: {
            if (mine.empty()) break;
            v1::ConsumeRequest c;
            c.set_request_id(rid);
            c.set_reservation_id(mine.back());
            mine.pop_back();
            auto done = f.core->Consume(me, c);
            if (done.ok()) consumed[done->sku() == "S1" ? 0 : 1] += done->quantity();
            break;
          }
          case 4: {
            if (mine.empty()) break;
            auto r = f.core->repo().GetReservation(mine.back());
            mine.pop_back();
            if (r.ok() && r->has_value()) {
              (void)f.core->Release((*r)->order_id(), (*r)->sku(), v1::RELEASE_REASON_NOT_NEEDED);
            }
            break;
          }
          case 5: {
            v1::TransferRequest tr;
            tr.set_request_id(rid);
            tr.set_sku(sku);
            tr.set_quantity(1);
            tr.set_from_location_id(loc);
            tr.set_to_location_id(loc == "WH" ? "OUT-1" : "WH");
            auto shipped = f.core->Transfer(me, tr);
            if (shipped.ok()) transfers.push_back(shipped->transfer_id());
            if (!transfers.empty() && rng() % 2) {
              if (!f.core->ReceiveTransfer(me, transfers.back()).ok()) ++unexpected;
              transfers.pop_back();
            }
            break;
          }
          case 6: {
            v1::AdjustRequest a;
            a.set_request_id(rid);
            a.set_location_id(loc);
            a.set_sku(sku);
            a.set_delta(rng() % 2 ? 1 : -2);
            a.set_reason(v1::ADJUSTMENT_REASON_COUNT_CORRECTION);
            auto done = f.core->Adjust(me, a);
            if (done.ok()) {
              adjusted[si] += a.delta();
            } else {
              ++refused;
              // Catch2 assertions are not thread-safe: count, check later.
              if (done.status().code() != absl::StatusCode::kFailedPrecondition) ++unexpected;
            }
            break;
          }
        }
        ++ops;
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO("operations: " << ops.load());
  CHECK(ops.load() > 100);
  CHECK(refused.load() > 0);  // the guard was exercised
  CHECK(unexpected.load() == 0);

  for (int si = 0; si < 2; ++si) {
    const std::string& sku = skus[si];
    auto levels = f.core->repo().StockOfSku(sku);
    REQUIRE(levels.ok());
    int64_t on_hand = 0, in_transit = 0, reserved = 0;
    for (const auto& l : *levels) {
      CHECK(domain::CheckStockLevel(l).ok());
      on_hand += l.on_hand();
      in_transit += l.in_transit();
      reserved += l.reserved();
    }
    CHECK(on_hand + in_transit == received[si] - consumed[si] + adjusted[si]);
    auto ledger = f.core->repo().GetLedger(sku);
    REQUIRE(ledger.ok());
    CHECK((*ledger)->on_hand() == on_hand);
    CHECK((*ledger)->in_transit() == in_transit);
    CHECK((*ledger)->reserved() == reserved);
    CHECK((*ledger)->received() == received[si]);
    CHECK((*ledger)->consumed() == consumed[si]);
    CHECK((*ledger)->adjusted() == adjusted[si]);
  }
  CHECK(MetricValue(*f.registry, "aftersales_parts_invariant_violations_total") == 0);
  CHECK(MetricValue(*f.registry, "aftersales_parts_stock_changes_refused_total") >= refused.load());
}

}  // namespace
}  // namespace aftersales::parts
