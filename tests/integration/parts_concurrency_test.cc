// 32 threads reserve, consume, release, receive, adjust and transfer the same
// few SKUs through the real gRPC server for several seconds, while the
// manual clock jumps forward so the expiry sweeper releases reservations
// under the same load. Afterwards, per SKU, on hand + in transit equals
// receipts - consumption + adjustments (as the test tallied them from the
// responses), every level has available = on hand - reserved >= 0, reserved
// equals what the ACTIVE reservations hold, the service's own ledger agrees,
// and its invariant-violation counter is 0 while its refusal counter shows
// the guard was exercised.
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/event_producer.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;

constexpr int kThreads = 32;
const absl::Duration kRunFor = absl::Seconds(6);
const std::vector<std::string> kSkus = {"SKU-A", "SKU-B", "SKU-C"};
const std::vector<std::string> kLocations = {"VAN-E1", "OUT-1", "OUT-2", "WH-SH", "CENTRAL"};

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

bool Unsure(const grpc::Status& s) {
  // The outcome is unknown: the same request (same id) is sent again.
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         s.error_code() == grpc::StatusCode::ABORTED;
}

// Sends `call` until its outcome is known.
template <typename F>
grpc::Status Settle(F call) {
  grpc::Status s;
  for (int i = 0; i < 50; ++i) {
    s = call();
    if (!Unsure(s)) return s;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return s;
}

struct Tally {
  std::atomic<int64_t> received{0}, consumed{0}, adjusted{0};
};

TEST_CASE("32 threads on the same SKUs conserve every unit and never see negative availability") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer intake(dir.Sub("scripted-intake"), &registry);
  intake.Up();
  testing::ServiceProcess::Options o;
  o.name = "parts";
  o.data_dir = dir.Sub("parts");
  o.tokens = &tokens;
  o.manual_clock = true;
  o.peers["intake"] = intake.address();
  o.extra_flags = {"--clock_start=2026-12-01T02:00:00Z"};
  testing::ServiceProcess parts(o);
  const std::string admin = tokens.token.at("admin");
  const std::string service = tokens.token.at("service");
  auto stub = v1::PartsService::NewStub(parts.channel());

  for (const auto& sku : kSkus) {
    v1::UpsertPartRequest req;
    req.mutable_part()->set_sku(sku);
    req.mutable_part()->set_name(sku);
    req.mutable_part()->set_active(true);
    req.mutable_part()->mutable_unit_price()->set_currency_code("CNY");
    req.mutable_part()->mutable_unit_price()->set_amount_minor(100);
    v1::Part p;
    REQUIRE(stub->UpsertPart(Context(admin).get(), req, &p).ok());
  }
  const std::map<std::string, std::pair<v1::LocationKind, std::pair<double, double>>> places = {
      {"VAN-E1", {v1::LOCATION_KIND_ENGINEER_VAN, {31.25, 121.50}}},
      {"OUT-1", {v1::LOCATION_KIND_OUTLET, {31.24, 121.48}}},
      {"OUT-2", {v1::LOCATION_KIND_OUTLET, {31.20, 121.40}}},
      {"WH-SH", {v1::LOCATION_KIND_REGIONAL_WAREHOUSE, {31.10, 121.30}}},
      {"CENTRAL", {v1::LOCATION_KIND_CENTRAL_WAREHOUSE, {39.90, 116.40}}}};
  for (const auto& [id, place] : places) {
    v1::UpsertLocationRequest req;
    auto* l = req.mutable_location();
    l->set_location_id(id);
    l->set_kind(place.first);
    l->set_name(id);
    l->mutable_point()->set_lat_deg(place.second.first);
    l->mutable_point()->set_lng_deg(place.second.second);
    l->set_region_code("CN-310000");
    if (place.first == v1::LOCATION_KIND_ENGINEER_VAN) l->set_engineer_id("E1");
    l->set_active(true);
    v1::StockLocation out;
    REQUIRE(stub->UpsertLocation(Context(admin).get(), req, &out).ok());
  }

  std::map<std::string, Tally> tally;
  for (const auto& sku : kSkus) tally[sku];
  std::mutex orders_mu;
  std::vector<std::string> all_orders;
  std::atomic<int> calls{0}, refused{0}, unexpected{0}, negative_seen{0};
  std::atomic<int> by_code[17] = {};
  std::string first_unexpected;
  std::mutex unexpected_mu;
  auto note = [&](const grpc::Status& s, const char* what) {
    ++calls;
    ++by_code[static_cast<int>(s.error_code())];
    if (s.ok()) return;
    // Refusals the invariant or the state machines make are expected;
    // anything else is a bug.
    if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      if (absl::StrContains(s.error_message(), "available")) ++refused;
      return;
    }
    ++unexpected;
    std::lock_guard<std::mutex> lock(unexpected_mu);
    if (first_unexpected.empty()) {
      first_unexpected = absl::StrCat(what, ": ", s.error_code(), " ", s.error_message());
    }
  };

  // Initial stock everywhere.
  int setup = 0;
  for (const auto& sku : kSkus) {
    for (const auto& loc : kLocations) {
      v1::ReceiveRequest r;
      r.set_request_id(absl::StrCat("setup-", ++setup));
      r.set_location_id(loc);
      r.set_sku(sku);
      r.set_quantity(5);
      v1::ReceiveResponse resp;
      REQUIRE(stub->Receive(Context(admin).get(), r, &resp).ok());
      tally[sku].received += 5;
    }
  }

  const absl::Time end = absl::Now() + kRunFor;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      grpc::ChannelArguments args;
      args.SetInt("aftersales.test.connection", t);  // one connection per thread
      auto channel = grpc::CreateCustomChannel(parts.address(),
                                               grpc::InsecureChannelCredentials(), args);
      auto s = v1::PartsService::NewStub(channel);
      std::mt19937 rng(1000 + t);
      struct Held {
        std::string reservation_id, order_id, sku;
      };
      std::vector<Held> held;
      std::vector<std::string> transfers;
      int n = 0;
      while (absl::Now() < end) {
        const std::string& sku = kSkus[rng() % kSkus.size()];
        const std::string& loc = kLocations[rng() % kLocations.size()];
        const std::string rid = absl::StrCat("t", t, "-", ++n);
        const int op = rng() % 10;
        if (op <= 2) {  // reserve (the engineer's van is eligible for some)
          v1::ReserveRequest r;
          r.set_order_id(absl::StrCat("WO-", t, "-", n));
          r.set_sku(sku);
          r.set_quantity(1 + rng() % 3);
          r.mutable_near()->set_lat_deg(31.23);
          r.mutable_near()->set_lng_deg(121.47);
          r.set_priority(static_cast<v1::Priority>(1 + rng() % 3));
          if (rng() % 2) r.set_engineer_id("E1");
          {
            std::lock_guard<std::mutex> lock(orders_mu);
            all_orders.push_back(r.order_id());
          }
          v1::ReserveResponse resp;
          grpc::Status st = Settle([&] { return s->Reserve(Context(service).get(), r, &resp); });
          note(st, "Reserve");
          if (st.ok() && resp.outcome() == v1::RESERVE_OUTCOME_RESERVED) {
            held.push_back({resp.reservation().reservation_id(), r.order_id(), sku});
          }
        } else if (op == 3 && !held.empty()) {  // consume part or all
          const size_t i = rng() % held.size();
          v1::ConsumeRequest c;
          c.set_request_id(rid);
          c.set_reservation_id(held[i].reservation_id);
          c.set_quantity(rng() % 2);  // 0 = all that is left
          v1::Consumption resp;
          grpc::Status st = Settle([&] { return s->Consume(Context(service).get(), c, &resp); });
          if (st.ok()) {
            tally.at(resp.sku()).consumed += resp.quantity();
          } else if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                     st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
            // Consumed, released or expired meanwhile (the clock jumps).
            held.erase(held.begin() + i);
            ++calls;
            continue;
          }
          note(st, "Consume");
        } else if (op == 4 && !held.empty()) {  // release
          const size_t i = rng() % held.size();
          v1::ReleaseRequest r;
          r.set_order_id(held[i].order_id);
          r.set_sku(held[i].sku);
          r.set_reason(v1::RELEASE_REASON_NOT_NEEDED);
          v1::ReleaseResponse resp;
          note(Settle([&] { return s->Release(Context(service).get(), r, &resp); }), "Release");
          held.erase(held.begin() + i);
        } else if (op <= 6) {  // receive
          v1::ReceiveRequest r;
          r.set_request_id(rid);
          r.set_location_id(loc);
          r.set_sku(sku);
          r.set_quantity(1 + rng() % 3);
          v1::ReceiveResponse resp;
          grpc::Status st = Settle([&] { return s->Receive(Context(service).get(), r, &resp); });
          note(st, "Receive");
          if (st.ok()) tally.at(sku).received += r.quantity();
        } else if (op == 7) {  // transfer out, or receive one in transit
          if (!transfers.empty() && rng() % 2) {
            v1::ReceiveTransferRequest r;
            r.set_transfer_id(transfers.back());
            transfers.pop_back();
            v1::StockTransfer resp;
            note(Settle([&] { return s->ReceiveTransfer(Context(service).get(), r, &resp); }),
                 "ReceiveTransfer");
          } else {
            v1::TransferRequest r;
            r.set_request_id(rid);
            r.set_sku(sku);
            r.set_quantity(1 + rng() % 2);
            r.set_from_location_id(loc);
            r.set_to_location_id(kLocations[(rng() % (kLocations.size() - 1) + 1 +
                                             (&loc - kLocations.data())) %
                                            kLocations.size()]);
            v1::StockTransfer resp;
            grpc::Status st =
                Settle([&] { return s->Transfer(Context(service).get(), r, &resp); });
            note(st, "Transfer");
            if (st.ok()) transfers.push_back(resp.transfer_id());
          }
        } else if (op == 8) {  // adjust: damage or a count correction
          v1::AdjustRequest a;
          a.set_request_id(rid);
          a.set_location_id(loc);
          a.set_sku(sku);
          a.set_delta(rng() % 3 == 0 ? 2 : -1 - static_cast<int>(rng() % 3));
          a.set_reason(a.delta() > 0 ? v1::ADJUSTMENT_REASON_COUNT_CORRECTION
                                     : v1::ADJUSTMENT_REASON_DAMAGED);
          v1::AdjustResponse resp;
          grpc::Status st = Settle([&] { return s->Adjust(Context(service).get(), a, &resp); });
          note(st, "Adjust");
          if (st.ok()) tally.at(sku).adjusted += a.delta();
        } else {  // look: availability is never negative anywhere
          v1::GetAvailabilityRequest a;
          a.set_sku(sku);
          a.mutable_near()->set_lat_deg(31.23);
          a.mutable_near()->set_lng_deg(121.47);
          a.set_limit(100);
          v1::GetAvailabilityResponse resp;
          grpc::Status st = s->GetAvailability(Context(service).get(), a, &resp);
          note(st, "GetAvailability");
          if (resp.total_available() < 0) ++negative_seen;
          for (const auto& l : resp.locations()) {
            if (l.available() < 0) ++negative_seen;
          }
        }
      }
      // Finish what is in transit so the books can be closed either way.
      for (const auto& id : transfers) {
        v1::ReceiveTransferRequest r;
        r.set_transfer_id(id);
        v1::StockTransfer resp;
        note(Settle([&] { return s->ReceiveTransfer(Context(service).get(), r, &resp); }),
             "ReceiveTransfer");
      }
    });
  }
  // Meanwhile time jumps: reservations expire and the sweeper releases them
  // under the same load.
  std::thread clock([&] {
    auto admin_stub = v1::ClockAdmin::NewStub(parts.channel());
    while (absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(700));
      v1::AdvanceTimeRequest req;
      *req.mutable_by() = rpc::ToProto(absl::Hours(9));
      v1::ClockTime now;
      admin_stub->AdvanceTime(Context(admin).get(), req, &now);
    }
  });
  for (auto& t : threads) t.join();
  clock.join();
  absl::SleepFor(absl::Milliseconds(500));  // let the sweeper finish a pass

  INFO("calls: " << calls.load() << ", refused: " << refused.load()
                 << ", first unexpected: " << first_unexpected);
  CHECK(calls.load() > 1000);
  CHECK(unexpected.load() == 0);
  CHECK(negative_seen.load() == 0);
  CHECK(refused.load() > 0);  // the invariant was put to the test

  // The state, read back through the API.
  std::map<std::pair<std::string, std::string>, int64_t> active_held;  // (loc, sku) -> units
  std::map<std::string, int64_t> waiting;
  int64_t allocated_backorders = 0;
  for (const auto& order : all_orders) {
    v1::ListOrderPartsRequest req;
    req.set_order_id(order);
    v1::OrderParts p;
    REQUIRE(stub->ListOrderParts(Context(service).get(), req, &p).ok());
    for (const auto& r : p.reservations()) {
      if (r.state() == v1::RESERVATION_STATE_ACTIVE) {
        active_held[{r.location_id(), r.sku()}] += r.quantity() - r.consumed_quantity();
      }
    }
    for (const auto& b : p.backorders()) {
      if (b.state() == v1::BACKORDER_STATE_WAITING) ++waiting[b.sku()];
      if (b.state() == v1::BACKORDER_STATE_ALLOCATED) ++allocated_backorders;
    }
  }
  for (const auto& sku : kSkus) {
    INFO(sku);
    int64_t on_hand = 0, in_transit = 0, reserved = 0, available = 0;
    for (const auto& loc : kLocations) {
      v1::GetStockByLocationRequest req;
      req.set_location_id(loc);
      v1::GetStockByLocationResponse resp;
      REQUIRE(stub->GetStockByLocation(Context(admin).get(), req, &resp).ok());
      for (const auto& l : resp.levels()) {
        if (l.sku() != sku) continue;
        INFO(loc);
        CHECK(l.on_hand() >= 0);
        CHECK(l.reserved() >= 0);
        CHECK(l.in_transit() == 0);  // every transfer was received
        CHECK(l.available() >= 0);
        CHECK(l.available() == l.on_hand() - l.reserved());
        CHECK(l.reserved() == active_held[{loc, sku}]);
        on_hand += l.on_hand();
        in_transit += l.in_transit();
        reserved += l.reserved();
        available += l.available();
      }
    }
    const Tally& t = tally[sku];
    CHECK(on_hand + in_transit == t.received - t.consumed + t.adjusted);
    v1::GetSkuSummaryRequest req;
    req.set_sku(sku);
    v1::SkuSummary sum;
    REQUIRE(stub->GetSkuSummary(Context(admin).get(), req, &sum).ok());
    CHECK(sum.received() == t.received);
    CHECK(sum.consumed() == t.consumed);
    CHECK(sum.adjusted() == t.adjusted);
    CHECK(sum.on_hand() == on_hand);
    CHECK(sum.in_transit() == in_transit);
    CHECK(sum.reserved() == reserved);
    CHECK(sum.available() == available);
    CHECK(sum.backorders_waiting() == waiting[sku]);
  }

  // Every filled backorder was announced exactly once, in the same commit.
  auto es = v1::EventStream::NewStub(parts.channel());
  auto ctx = Context(service, absl::Seconds(30));
  auto reader = es->Subscribe(ctx.get(), v1::SubscribeRequest());
  int64_t parts_available = 0, expired = 0;
  uint64_t seen = 0;
  v1::SubscribeResponse resp;
  while (reader->Read(&resp)) {
    for (const auto& e : resp.events()) {
      seen = e.seq();
      if (e.has_parts_available()) ++parts_available;
      if (e.has_reservation_expired()) ++expired;
    }
    if (seen >= resp.head_seq()) break;
  }
  ctx->TryCancel();
  reader->Finish();
  CHECK(parts_available == allocated_backorders);
  CHECK(expired > 0);  // the sweeper ran under load

  const std::string metrics = parts.ScrapeMetrics();
  CHECK(Metric(metrics, "aftersales_parts_invariant_violations_total") == 0);
  CHECK(Metric(metrics, "aftersales_parts_stock_changes_refused_total") >= refused.load());
  CHECK(Metric(metrics, "aftersales_parts_reservations_expired_total") == expired);
  WARN("parts concurrency: " << calls.load() << " calls, " << refused.load()
                             << " refused by the invariant, " << allocated_backorders
                             << " backorders filled, " << expired << " reservations expired");
}

}  // namespace
}  // namespace aftersales
