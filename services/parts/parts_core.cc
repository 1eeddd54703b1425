#include "parts/parts_core.h"

#include <map>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "parts/domain/placement.h"
#include "parts/domain/reservation.h"
#include "rpc/rpc.h"
#include "store/idempotency.h"

namespace aftersales::parts {
namespace {

using domain::Movement;

constexpr int kMaxAttempts = 16;
constexpr size_t kQueueScanLimit = 1000;

std::string NewId(absl::string_view prefix) {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%s%016x", prefix, absl::Uniform<uint64_t>(gen));
}

v1::Actor ActorOf(const Caller& caller, absl::Time now) {
  v1::Actor a;
  a.set_principal_id(caller.principal_id);
  a.set_role(caller.role);
  *a.mutable_server_time() = rpc::ToProto(now);
  return a;
}

// Idempotency keys are per principal and per RPC, so one request id used
// for a receipt and an adjustment never collides.
std::string IdemKey(const Caller& caller, absl::string_view rpc, absl::string_view request_id) {
  return store::IdempotencyKeys::Key(caller.principal_id, absl::StrCat(rpc, "/", request_id));
}
std::string IdemLock(const std::string& key) { return absl::StrCat("idem/", key); }

template <typename M>
std::string FingerprintWithoutRequestId(M request) {
  request.clear_request_id();
  return store::IdempotencyKeys::Fingerprint(request);
}

absl::Status NoSuch(absl::string_view field, absl::string_view what) {
  return absl::NotFoundError(absl::StrCat(field, ": no such ", what));
}

domain::Need NeedOf(const v1::Backorder& b) {
  domain::Need n;
  n.near = b.near();
  n.region_code = b.region_code();
  n.engineer_id = b.engineer_id();
  n.quantity = b.quantity();
  return n;
}

// Checks lot rules of the SKU: a lot-tracked part needs a lot number.
absl::StatusOr<v1::Part> PartFor(const PartsRepository& repo, const std::string& sku,
                                 const std::string& lot_number) {
  auto part = repo.GetPart(sku);
  if (!part.ok()) return part.status();
  if (!part->has_value()) return NoSuch("sku", "part");
  if ((*part)->lot_tracked() && lot_number.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("lot_number: required for lot-tracked SKU ", sku));
  }
  return **part;
}

}  // namespace

PartsCore::PartsCore(store::Store& store, Clock& clock, prometheus::Registry& registry,
                     std::unique_ptr<PartsPolicyHolder> policy)
    : store_(store),
      clock_(clock),
      repo_(&store),
      policy_(std::move(policy)),
      metrics_(registry) {}

absl::Status PartsCore::Init() {
  if (absl::Status s = locations_.Load(repo_); !s.ok()) return s;
  std::vector<v1::SkuSummary> ledgers;
  if (absl::Status s = repo_.ScanLedgers([&](const v1::SkuSummary& g) {
        ledgers.push_back(g);
        return true;
      });
      !s.ok()) {
    return s;
  }
  std::map<std::string, v1::Money> prices;
  std::string after;
  while (true) {
    auto page = repo_.ListParts(after, 500);
    if (!page.ok()) return page.status();
    for (const auto& p : page->records) {
      if (p.has_unit_price()) prices[p.sku()] = p.unit_price();
    }
    if (page->last_key.empty()) break;
    after = page->last_key;
  }
  auto low = repo_.CountLowStock();
  if (!low.ok()) return low.status();
  metrics_.Init(ledgers, *low, prices);
  return absl::OkStatus();
}

template <typename R>
absl::StatusOr<R> PartsCore::Transact(const std::vector<std::string>& keys,
                                      const std::function<absl::StatusOr<R>(StockTx&)>& body,
                                      store::Batch* into) {
  std::set<std::string> want(keys.begin(), keys.end());
  const auto policy = policy_->Current();
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto guard = store_.locks().Lock(std::vector<std::string>(want.begin(), want.end()));
    // "now" is read under the locks, so it never runs backwards along one
    // key's history of changes.
    StockTx tx(repo_, locations_, want, clock_.Now(), policy);
    absl::StatusOr<R> result = body(tx);
    if (tx.retry()) {
      want.insert(tx.missing().begin(), tx.missing().end());
      continue;
    }
    if (!result.ok()) {
      metrics_.ObserveFailed(tx.effects());
      return result.status();
    }
    if (into != nullptr) {
      if (absl::Status s = tx.Stage(*into); !s.ok()) {
        metrics_.ObserveFailed(tx.effects());
        return s;
      }
      into->HoldUntilDone(std::move(guard));
      metrics_.Observe(tx.effects());
      return result;
    }
    store::Batch batch;
    if (absl::Status s = tx.Stage(batch); !s.ok()) {
      metrics_.ObserveFailed(tx.effects());
      return s;
    }
    if (!batch.empty()) {
      if (absl::Status s = store_.Commit(batch); !s.ok()) return s;
    }
    metrics_.Observe(tx.effects());
    return result;
  }
  return absl::AbortedError("too much contention on stock keys; retry");
}

// ---- catalog and locations ----

absl::StatusOr<v1::Part> PartsCore::UpsertPart(const v1::Part& part) {
  auto guard = store_.locks().Lock({absl::StrCat("part/", part.sku())});
  auto existing = repo_.GetPart(part.sku());
  if (!existing.ok()) return existing.status();
  v1::Part next = part;
  next.clear_version();
  next.clear_updated_at();
  if (existing->has_value()) {
    v1::Part old = **existing;
    old.clear_version();
    old.clear_updated_at();
    if (google::protobuf::util::MessageDifferencer::Equals(old, next)) return **existing;
    next.set_version((*existing)->version() + 1);
  } else {
    next.set_version(1);
  }
  *next.mutable_updated_at() = rpc::ToProto(clock_.Now());
  store::Batch batch;
  repo_.parts().Put(batch, next.sku(), next);
  if (absl::Status s = store_.Commit(batch); !s.ok()) return s;
  metrics_.SetPrice(next.sku(), next.unit_price());
  return next;
}

absl::StatusOr<v1::StockLocation> PartsCore::UpsertLocation(const v1::StockLocation& location) {
  auto guard = store_.locks().Lock({absl::StrCat("location/", location.location_id())});
  auto existing = repo_.GetLocation(location.location_id());
  if (!existing.ok()) return existing.status();
  v1::StockLocation next = location;
  next.clear_updated_at();
  if (existing->has_value()) {
    v1::StockLocation old = **existing;
    old.clear_updated_at();
    if (google::protobuf::util::MessageDifferencer::Equals(old, next)) return **existing;
  }
  *next.mutable_updated_at() = rpc::ToProto(clock_.Now());
  store::Batch batch;
  repo_.locations().Put(batch, next.location_id(), next);
  if (absl::Status s = store_.Commit(batch); !s.ok()) return s;
  locations_.Upsert(next);
  return next;
}

// ---- allocation and closing, inside a transaction ----

absl::Status PartsCore::Allocate(StockTx& tx, const std::string& location_id,
                                 const std::string& sku,
                                 std::vector<v1::Reservation>* allocated) {
  auto level = tx.Stock(location_id, sku);
  if (!level.ok()) return level.status();
  if (level->available() <= 0) return absl::OkStatus();
  const auto location = locations_.Get(location_id);
  if (!location) return absl::OkStatus();
  auto queue = tx.WaitingBackorders(sku, kQueueScanLimit);
  if (!queue.ok()) return queue.status();
  if (queue->empty()) return absl::OkStatus();
  std::vector<bool> eligible;
  std::vector<double> distance;
  for (const auto& b : *queue) {
    const double d = domain::DistanceKm(b.near(), location->point());
    distance.push_back(d);
    eligible.push_back(domain::Eligible(*location, NeedOf(b), tx.policy(), d));
  }
  const std::vector<size_t> plan =
      domain::PlanAllocation(*queue, eligible, level->available());
  // Every order whose backorder is filled must be locked (its "all parts
  // available" answer depends on its other backorders): note the missing
  // ones and let the transaction retry holding them.
  bool locked = true;
  for (size_t i : plan) {
    locked &= tx.Require(StockTx::OrderLock((*queue)[i].order_id()));
  }
  if (!locked) return absl::AbortedError("allocation needs order locks");

  for (size_t i : plan) {
    const v1::Backorder& b = (*queue)[i];
    domain::ReservationSpec spec;
    spec.reservation_id = NewId("RS");
    spec.order_id = b.order_id();
    spec.sku = sku;
    spec.quantity = b.quantity();
    spec.need = NeedOf(b);
    if (b.has_needed_by()) spec.needed_by = b.needed_by();
    spec.priority = b.priority();
    spec.from_backorder_id = b.backorder_id();
    const domain::Ranked at{*location, level->available(), distance[i], 0};
    const v1::Reservation r = domain::NewReservation(spec, at, tx.policy(), tx.now());
    if (absl::Status s = tx.Move(location_id, sku, Movement::kReserve, b.quantity()); !s.ok()) {
      return s;
    }
    auto filled = domain::Allocate(b, r.reservation_id(), tx.now());
    if (!filled.ok()) return filled.status();
    if (absl::Status s = tx.Put(r); !s.ok()) return s;
    if (absl::Status s = tx.Put(*filled); !s.ok()) return s;
    v1::PartsOrderSkuSlot slot;
    slot.set_reservation_id(r.reservation_id());
    if (absl::Status s = tx.PutSlot(b.order_id(), sku, slot); !s.ok()) return s;
    auto ledger = tx.Ledger(sku);
    if (!ledger.ok()) return ledger.status();
    ledger->set_backorders_waiting(ledger->backorders_waiting() - 1);
    if (absl::Status s = tx.PutLedger(*ledger); !s.ok()) return s;
    tx.effects().allocated_ages.push_back(tx.now() - rpc::FromProto(b.queued_at()));

    auto others = tx.OrderBackorders(b.order_id());
    if (!others.ok()) return others.status();
    bool all_available = true;
    for (const auto& o : *others) all_available &= !domain::IsOpen(o);
    v1::PartsAvailable* ev = tx.Emit(b.order_id()).mutable_parts_available();
    ev->set_order_id(b.order_id());
    ev->set_backorder_id(b.backorder_id());
    ev->set_reservation_id(r.reservation_id());
    ev->set_sku(sku);
    ev->set_quantity(b.quantity());
    ev->set_location_id(location_id);
    ev->set_all_available(all_available);
    if (allocated) allocated->push_back(r);
  }
  return absl::OkStatus();
}

absl::Status PartsCore::ReleaseReservation(StockTx& tx, const v1::Reservation& r,
                                           v1::ReleaseReason reason, v1::Reservation* after) {
  auto released = domain::Release(r, reason, tx.now());
  if (!released.ok()) return released.status();
  const int64_t units = domain::Remaining(r);
  if (absl::Status s = tx.Move(r.location_id(), r.sku(), Movement::kUnreserve, units); !s.ok()) {
    return s;
  }
  if (absl::Status s = tx.Put(*released); !s.ok()) return s;
  ++tx.effects().released;
  v1::ReservationReleased* ev = tx.Emit(r.order_id()).mutable_reservation_released();
  ev->set_order_id(r.order_id());
  ev->set_reservation_id(r.reservation_id());
  ev->set_sku(r.sku());
  ev->set_quantity(units);
  ev->set_reason(released->release_reason());
  if (after) *after = *released;
  return Allocate(tx, r.location_id(), r.sku(), nullptr);
}

absl::Status PartsCore::ExpireReservation(StockTx& tx, const v1::Reservation& r) {
  auto expired = domain::Expire(r, tx.now());
  if (!expired.ok()) return expired.status();
  const int64_t units = domain::Remaining(r);
  if (absl::Status s = tx.Move(r.location_id(), r.sku(), Movement::kUnreserve, units); !s.ok()) {
    return s;
  }
  if (absl::Status s = tx.Put(*expired); !s.ok()) return s;
  auto ledger = tx.Ledger(r.sku());
  if (!ledger.ok()) return ledger.status();
  ledger->set_reservations_expired(ledger->reservations_expired() + 1);
  if (absl::Status s = tx.PutLedger(*ledger); !s.ok()) return s;
  ++tx.effects().expired;
  v1::ReservationExpired* ev = tx.Emit(r.order_id()).mutable_reservation_expired();
  ev->set_order_id(r.order_id());
  ev->set_reservation_id(r.reservation_id());
  ev->set_sku(r.sku());
  ev->set_quantity(units);
  return Allocate(tx, r.location_id(), r.sku(), nullptr);
}

absl::Status PartsCore::Reprioritize(StockTx& tx, const std::string& order_id,
                                     v1::Priority priority) {
  auto backorders = tx.OrderBackorders(order_id);
  if (!backorders.ok()) return backorders.status();
  for (v1::Backorder b : *backorders) {
    if (!domain::IsOpen(b) || b.priority() == priority) continue;
    // Same queued_at: the backorder keeps its age, moves to its new class.
    b.set_priority(priority);
    if (absl::Status s = tx.Put(b); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// ---- stock movements ----

absl::StatusOr<v1::ReceiveResponse> PartsCore::Receive(const Caller& caller,
                                                       const v1::ReceiveRequest& req) {
  const std::string key = IdemKey(caller, "receive", req.request_id());
  const std::string fingerprint = FingerprintWithoutRequestId(req);
  return Transact<v1::ReceiveResponse>(
      {StockTx::SkuLock(req.sku()), IdemLock(key)},
      [&](StockTx& tx) -> absl::StatusOr<v1::ReceiveResponse> {
        v1::ReceiveResponse resp;
        auto earlier = repo_.idempotency().Check(key, fingerprint);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) {
          auto receipt = repo_.GetReceipt(**earlier);
          if (!receipt.ok()) return receipt.status();
          if (!receipt->has_value()) return absl::InternalError("receipt of a request is missing");
          *resp.mutable_receipt() = **receipt;
          for (const auto& id : (*receipt)->allocated_reservation_ids()) {
            auto r = tx.Reservation(id);
            if (!r.ok()) return r.status();
            if (r->has_value()) *resp.add_allocated() = **r;
          }
          auto stock = tx.Stock(req.location_id(), req.sku());
          if (!stock.ok()) return stock.status();
          *resp.mutable_stock() = *stock;
          return resp;
        }
        auto part = PartFor(repo_, req.sku(), req.lot_number());
        if (!part.ok()) return part.status();
        if (!locations_.Get(req.location_id())) return NoSuch("location_id", "location");
        if (absl::Status s =
                tx.Move(req.location_id(), req.sku(), Movement::kReceive, req.quantity());
            !s.ok()) {
          return s;
        }
        v1::Receipt receipt;
        receipt.set_receipt_id(NewId("RC"));
        receipt.set_request_id(req.request_id());
        receipt.set_location_id(req.location_id());
        receipt.set_sku(req.sku());
        receipt.set_quantity(req.quantity());
        receipt.set_lot_number(req.lot_number());
        receipt.set_supplier_ref(req.supplier_ref());
        *receipt.mutable_received_at() = rpc::ToProto(tx.now());
        *receipt.mutable_actor() = ActorOf(caller, tx.now());
        std::vector<v1::Reservation> allocated;
        if (absl::Status s = Allocate(tx, req.location_id(), req.sku(), &allocated); !s.ok()) {
          return s;
        }
        for (const auto& r : allocated) {
          receipt.add_allocated_reservation_ids(r.reservation_id());
          *resp.add_allocated() = r;
        }
        tx.Put(receipt);
        tx.Remember(key, fingerprint, receipt.receipt_id());
        *resp.mutable_receipt() = receipt;
        auto stock = tx.Stock(req.location_id(), req.sku());
        if (!stock.ok()) return stock.status();
        *resp.mutable_stock() = *stock;
        return resp;
      });
}

absl::StatusOr<v1::AdjustResponse> PartsCore::Adjust(const Caller& caller,
                                                     const v1::AdjustRequest& req) {
  const std::string key = IdemKey(caller, "adjust", req.request_id());
  const std::string fingerprint = FingerprintWithoutRequestId(req);
  return Transact<v1::AdjustResponse>(
      {StockTx::SkuLock(req.sku()), IdemLock(key)},
      [&](StockTx& tx) -> absl::StatusOr<v1::AdjustResponse> {
        v1::AdjustResponse resp;
        auto earlier = repo_.idempotency().Check(key, fingerprint);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) {
          auto adjustment = repo_.GetAdjustment(**earlier);
          if (!adjustment.ok()) return adjustment.status();
          if (!adjustment->has_value()) {
            return absl::InternalError("adjustment of a request is missing");
          }
          *resp.mutable_adjustment() = **adjustment;
        } else {
          auto part = PartFor(repo_, req.sku(), req.lot_number());
          if (!part.ok()) return part.status();
          if (!locations_.Get(req.location_id())) return NoSuch("location_id", "location");
          if (absl::Status s =
                  tx.Move(req.location_id(), req.sku(), Movement::kAdjust, req.delta());
              !s.ok()) {
            return s;
          }
          v1::Adjustment a;
          a.set_adjustment_id(NewId("AD"));
          a.set_request_id(req.request_id());
          a.set_location_id(req.location_id());
          a.set_sku(req.sku());
          a.set_delta(req.delta());
          a.set_reason(req.reason());
          a.set_note(req.note());
          a.set_lot_number(req.lot_number());
          *a.mutable_adjusted_at() = rpc::ToProto(tx.now());
          *a.mutable_actor() = ActorOf(caller, tx.now());
          if (req.delta() > 0) {
            if (absl::Status s = Allocate(tx, req.location_id(), req.sku(), nullptr); !s.ok()) {
              return s;
            }
          }
          tx.Put(a);
          tx.Remember(key, fingerprint, a.adjustment_id());
          *resp.mutable_adjustment() = a;
        }
        auto stock = tx.Stock(req.location_id(), req.sku());
        if (!stock.ok()) return stock.status();
        *resp.mutable_stock() = *stock;
        return resp;
      });
}

absl::StatusOr<v1::StockTransfer> PartsCore::Transfer(const Caller& caller,
                                                      const v1::TransferRequest& req) {
  const std::string key = IdemKey(caller, "transfer", req.request_id());
  const std::string fingerprint = FingerprintWithoutRequestId(req);
  return Transact<v1::StockTransfer>(
      {StockTx::SkuLock(req.sku()), IdemLock(key)},
      [&](StockTx& tx) -> absl::StatusOr<v1::StockTransfer> {
        auto earlier = repo_.idempotency().Check(key, fingerprint);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) {
          auto t = tx.Transfer(**earlier);
          if (!t.ok()) return t.status();
          if (!t->has_value()) return absl::InternalError("transfer of a request is missing");
          return **t;
        }
        auto part = PartFor(repo_, req.sku(), req.lot_number());
        if (!part.ok()) return part.status();
        if (!locations_.Get(req.from_location_id())) {
          return NoSuch("from_location_id", "location");
        }
        if (!locations_.Get(req.to_location_id())) return NoSuch("to_location_id", "location");
        if (absl::Status s =
                tx.Move(req.from_location_id(), req.sku(), Movement::kShip, req.quantity());
            !s.ok()) {
          return s;
        }
        if (absl::Status s = tx.Move(req.to_location_id(), req.sku(), Movement::kExpectTransfer,
                                     req.quantity());
            !s.ok()) {
          return s;
        }
        v1::StockTransfer t;
        t.set_transfer_id(NewId("TR"));
        t.set_request_id(req.request_id());
        t.set_sku(req.sku());
        t.set_quantity(req.quantity());
        t.set_from_location_id(req.from_location_id());
        t.set_to_location_id(req.to_location_id());
        t.set_state(v1::TRANSFER_STATE_IN_TRANSIT);
        t.set_lot_number(req.lot_number());
        *t.mutable_shipped_at() = rpc::ToProto(tx.now());
        *t.mutable_actor() = ActorOf(caller, tx.now());
        if (absl::Status s = tx.Put(t); !s.ok()) return s;
        tx.Remember(key, fingerprint, t.transfer_id());
        return t;
      });
}

absl::StatusOr<v1::StockTransfer> PartsCore::ReceiveTransfer(const Caller& caller,
                                                             const std::string& transfer_id) {
  auto known = repo_.GetTransfer(transfer_id);
  if (!known.ok()) return known.status();
  if (!known->has_value()) return NoSuch("transfer_id", "transfer");
  const std::string sku = (*known)->sku();
  return Transact<v1::StockTransfer>(
      {StockTx::SkuLock(sku), absl::StrCat("transfer/", transfer_id)},
      [&](StockTx& tx) -> absl::StatusOr<v1::StockTransfer> {
        auto t = tx.Transfer(transfer_id);
        if (!t.ok()) return t.status();
        if (!t->has_value()) return NoSuch("transfer_id", "transfer");
        v1::StockTransfer next = **t;
        if (next.state() == v1::TRANSFER_STATE_RECEIVED) return next;  // a retry
        if (next.state() != v1::TRANSFER_STATE_IN_TRANSIT) {
          return absl::FailedPreconditionError(absl::StrCat(
              "transfer_id: transfer is ", v1::TransferState_Name(next.state())));
        }
        if (absl::Status s = tx.Move(next.to_location_id(), sku, Movement::kReceiveTransfer,
                                     next.quantity());
            !s.ok()) {
          return s;
        }
        next.set_state(v1::TRANSFER_STATE_RECEIVED);
        *next.mutable_received_at() = rpc::ToProto(tx.now());
        v1::Actor actor = ActorOf(caller, tx.now());
        actor.set_reason("received at destination");
        *next.mutable_actor() = actor;
        if (absl::Status s = tx.Put(next); !s.ok()) return s;
        if (absl::Status s = Allocate(tx, next.to_location_id(), sku, nullptr); !s.ok()) {
          return s;
        }
        return next;
      });
}

absl::StatusOr<v1::StockLevel> PartsCore::SetReorder(const v1::SetReorderPolicyRequest& req) {
  return Transact<v1::StockLevel>(
      {StockTx::SkuLock(req.sku())}, [&](StockTx& tx) -> absl::StatusOr<v1::StockLevel> {
        auto part = repo_.GetPart(req.sku());
        if (!part.ok()) return part.status();
        if (!part->has_value()) return NoSuch("sku", "part");
        if (!locations_.Get(req.location_id())) return NoSuch("location_id", "location");
        if (absl::Status s = tx.SetReorder(req.location_id(), req.sku(), req.reorder_point(),
                                           req.reorder_qty());
            !s.ok()) {
          return s;
        }
        return tx.Stock(req.location_id(), req.sku());
      });
}

// ---- reservations ----

absl::StatusOr<v1::ReserveResponse> PartsCore::Reserve(const v1::ReserveRequest& req) {
  return Transact<v1::ReserveResponse>(
      {StockTx::OrderLock(req.order_id()), StockTx::SkuLock(req.sku())},
      [&](StockTx& tx) -> absl::StatusOr<v1::ReserveResponse> {
        v1::ReserveResponse resp;
        auto order = tx.Order(req.order_id());
        if (!order.ok()) return order.status();
        if (order->cancelled()) {
          return absl::FailedPreconditionError("order_id: order is cancelled");
        }
        // Idempotent per (order, SKU): the open reservation or backorder.
        auto slot = tx.Slot(req.order_id(), req.sku());
        if (!slot.ok()) return slot.status();
        auto differs = [&](int64_t held) {
          return absl::AlreadyExistsError(absl::StrCat(
              "quantity: order already holds ", held, " of SKU ", req.sku(),
              "; release it first to change the quantity"));
        };
        if (!slot->reservation_id().empty()) {
          auto r = tx.Reservation(slot->reservation_id());
          if (!r.ok()) return r.status();
          if (r->has_value() && domain::IsExpired(**r, tx.now())) {
            // Past its expiry, not yet swept: it ends now, and this request
            // reserves afresh.
            if (absl::Status s = ExpireReservation(tx, **r); !s.ok()) return s;
          } else if (r->has_value() && domain::IsOpen(**r)) {
            if ((*r)->quantity() != req.quantity()) return differs((*r)->quantity());
            resp.set_outcome(v1::RESERVE_OUTCOME_RESERVED);
            *resp.mutable_reservation() = **r;
            resp.set_created(false);
            return resp;
          }
        }
        if (!slot->backorder_id().empty()) {
          auto b = tx.Backorder(slot->backorder_id());
          if (!b.ok()) return b.status();
          if (b->has_value() && domain::IsOpen(**b)) {
            if ((*b)->quantity() != req.quantity()) return differs((*b)->quantity());
            resp.set_outcome(v1::RESERVE_OUTCOME_BACKORDERED);
            *resp.mutable_backorder() = **b;
            resp.set_created(false);
            return resp;
          }
        }
        auto part = repo_.GetPart(req.sku());
        if (!part.ok()) return part.status();
        if (!part->has_value()) return NoSuch("sku", "part");
        if (!(*part)->active()) {
          return absl::FailedPreconditionError("sku: part is not active for new reservations");
        }

        domain::ReservationSpec spec;
        spec.order_id = req.order_id();
        spec.sku = req.sku();
        spec.quantity = req.quantity();
        spec.need.near = req.near();
        spec.need.region_code = req.region_code();
        spec.need.engineer_id = req.engineer_id();
        spec.need.quantity = req.quantity();
        if (req.has_needed_by()) spec.needed_by = req.needed_by();
        // Intake's priority when it told us about the order; else the request's.
        spec.priority = order->known_to_intake() ? order->priority() : req.priority();

        auto levels = tx.StockOfSku(req.sku());
        if (!levels.ok()) return levels.status();
        std::vector<domain::Candidate> candidates;
        for (const auto& level : *levels) {
          auto loc = locations_.Get(level.location_id());
          if (loc) candidates.push_back({*loc, level.available()});
        }
        const auto ranked = domain::RankLocations(candidates, spec.need, tx.policy());

        v1::PartsOrderSkuSlot next_slot;
        if (!ranked.empty()) {
          spec.reservation_id = NewId("RS");
          const v1::Reservation r =
              domain::NewReservation(spec, ranked.front(), tx.policy(), tx.now());
          if (absl::Status s = tx.Move(r.location_id(), r.sku(), Movement::kReserve, r.quantity());
              !s.ok()) {
            return s;
          }
          if (absl::Status s = tx.Put(r); !s.ok()) return s;
          next_slot.set_reservation_id(r.reservation_id());
          tx.effects().reserved_at.push_back(ranked.front().location.kind());
          v1::PartsReserved* ev = tx.Emit(r.order_id()).mutable_parts_reserved();
          ev->set_order_id(r.order_id());
          ev->set_reservation_id(r.reservation_id());
          ev->set_sku(r.sku());
          ev->set_quantity(r.quantity());
          ev->set_location_id(r.location_id());
          *ev->mutable_expires_at() = r.expires_at();
          resp.set_outcome(v1::RESERVE_OUTCOME_RESERVED);
          *resp.mutable_reservation() = r;
        } else {
          const v1::Backorder b = domain::NewBackorder(NewId("BO"), spec, tx.policy(), tx.now());
          if (absl::Status s = tx.Put(b); !s.ok()) return s;
          next_slot.set_backorder_id(b.backorder_id());
          ++tx.effects().backordered;
          v1::PartsBackordered* ev = tx.Emit(b.order_id()).mutable_parts_backordered();
          ev->set_order_id(b.order_id());
          ev->set_backorder_id(b.backorder_id());
          ev->set_sku(b.sku());
          ev->set_quantity(b.quantity());
          resp.set_outcome(v1::RESERVE_OUTCOME_BACKORDERED);
          *resp.mutable_backorder() = b;
        }
        if (absl::Status s = tx.PutSlot(req.order_id(), req.sku(), next_slot); !s.ok()) return s;
        auto ledger = tx.Ledger(req.sku());
        if (!ledger.ok()) return ledger.status();
        ledger->set_reserve_requests(ledger->reserve_requests() + 1);
        if (resp.outcome() == v1::RESERVE_OUTCOME_RESERVED) {
          ledger->set_reserved_immediately(ledger->reserved_immediately() + 1);
        } else {
          ledger->set_backordered(ledger->backordered() + 1);
          ledger->set_backorders_waiting(ledger->backorders_waiting() + 1);
        }
        if (absl::Status s = tx.PutLedger(*ledger); !s.ok()) return s;
        resp.set_created(true);
        return resp;
      });
}

absl::StatusOr<v1::Consumption> PartsCore::Consume(const Caller& caller,
                                                   const v1::ConsumeRequest& req) {
  auto known = repo_.GetReservation(req.reservation_id());
  if (!known.ok()) return known.status();
  if (!known->has_value()) return NoSuch("reservation_id", "reservation");
  const std::string order_id = (*known)->order_id();
  const std::string sku = (*known)->sku();
  const std::string key = IdemKey(caller, "consume", req.request_id());
  const std::string fingerprint = FingerprintWithoutRequestId(req);
  return Transact<v1::Consumption>(
      {StockTx::OrderLock(order_id), StockTx::SkuLock(sku), IdemLock(key)},
      [&](StockTx& tx) -> absl::StatusOr<v1::Consumption> {
        auto earlier = repo_.idempotency().Check(key, fingerprint);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) {
          auto c = repo_.GetConsumption(**earlier);
          if (!c.ok()) return c.status();
          if (!c->has_value()) return absl::InternalError("consumption of a request is missing");
          return **c;
        }
        auto r = tx.Reservation(req.reservation_id());
        if (!r.ok()) return r.status();
        if (!r->has_value()) return NoSuch("reservation_id", "reservation");
        auto part = PartFor(repo_, sku, req.lot_number());
        if (!part.ok()) return part.status();
        auto consumed = domain::Consume(**r, req.quantity(), tx.now());
        if (!consumed.ok()) return consumed.status();
        if (absl::Status s =
                tx.Move((*r)->location_id(), sku, Movement::kConsume, consumed->quantity);
            !s.ok()) {
          return s;
        }
        if (absl::Status s = tx.Put(consumed->reservation); !s.ok()) return s;
        if (consumed->reservation.state() == v1::RESERVATION_STATE_CONSUMED) {
          ++tx.effects().consumed;
        }
        v1::Consumption c;
        c.set_consumption_id(NewId("CN"));
        c.set_request_id(req.request_id());
        c.set_reservation_id(req.reservation_id());
        c.set_order_id(order_id);
        c.set_sku(sku);
        c.set_quantity(consumed->quantity);
        c.set_lot_number(req.lot_number());
        c.set_engineer_id(!caller.engineer_id.empty() ? caller.engineer_id : req.engineer_id());
        c.set_location_id((*r)->location_id());
        *c.mutable_consumed_at() = rpc::ToProto(tx.now());
        tx.Put(c);
        tx.Remember(key, fingerprint, c.consumption_id());
        v1::PartsConsumed* ev = tx.Emit(order_id).mutable_parts_consumed();
        ev->set_order_id(order_id);
        ev->set_reservation_id(c.reservation_id());
        ev->set_sku(sku);
        ev->set_quantity(c.quantity());
        ev->set_lot_number(c.lot_number());
        ev->set_engineer_id(c.engineer_id());
        return c;
      });
}

absl::StatusOr<v1::ReleaseResponse> PartsCore::Release(const std::string& order_id,
                                                       const std::string& sku,
                                                       v1::ReleaseReason reason,
                                                       store::Batch* into) {
  std::vector<std::string> keys = {StockTx::OrderLock(order_id)};
  if (!sku.empty()) keys.push_back(StockTx::SkuLock(sku));
  return Transact<v1::ReleaseResponse>(
      keys,
      [&](StockTx& tx) -> absl::StatusOr<v1::ReleaseResponse> {
        v1::ReleaseResponse resp;
        auto reservations = tx.OrderReservations(order_id);
        if (!reservations.ok()) return reservations.status();
        auto backorders = tx.OrderBackorders(order_id);
        if (!backorders.ok()) return backorders.status();
        // Every SKU touched must be locked before anything changes.
        bool locked = true;
        for (const auto& r : *reservations) {
          if (domain::IsOpen(r) && (sku.empty() || r.sku() == sku)) {
            locked &= tx.Require(StockTx::SkuLock(r.sku()));
          }
        }
        for (const auto& b : *backorders) {
          if (domain::IsOpen(b) && (sku.empty() || b.sku() == sku)) {
            locked &= tx.Require(StockTx::SkuLock(b.sku()));
          }
        }
        if (!locked) return absl::AbortedError("release needs SKU locks");
        for (const auto& b : *backorders) {
          if (!domain::IsOpen(b) || (!sku.empty() && b.sku() != sku)) continue;
          auto cancelled = domain::Cancel(b, reason, tx.now());
          if (!cancelled.ok()) return cancelled.status();
          if (absl::Status s = tx.Put(*cancelled); !s.ok()) return s;
          auto ledger = tx.Ledger(b.sku());
          if (!ledger.ok()) return ledger.status();
          ledger->set_backorders_waiting(ledger->backorders_waiting() - 1);
          if (absl::Status s = tx.PutLedger(*ledger); !s.ok()) return s;
          tx.effects().cancelled_ages.push_back(tx.now() - rpc::FromProto(b.queued_at()));
          *resp.add_cancelled() = *cancelled;
        }
        for (const auto& r : *reservations) {
          if (!domain::IsOpen(r) || (!sku.empty() && r.sku() != sku)) continue;
          // A reservation past its expiry that the sweeper has not reached
          // yet expires rather than being released.
          if (domain::IsExpired(r, tx.now())) {
            if (absl::Status s = ExpireReservation(tx, r); !s.ok()) return s;
            continue;
          }
          v1::Reservation after;
          if (absl::Status s = ReleaseReservation(tx, r, reason, &after); !s.ok()) return s;
          *resp.add_released() = after;
        }
        if (reason == v1::RELEASE_REASON_ORDER_CANCELLED && sku.empty()) {
          auto order = tx.Order(order_id);
          if (!order.ok()) return order.status();
          if (!order->cancelled()) {
            order->set_cancelled(true);
            *order->mutable_cancelled_at() = rpc::ToProto(tx.now());
            if (absl::Status s = tx.Put(*order); !s.ok()) return s;
          }
        }
        return resp;
      },
      into);
}

// ---- background ----

absl::StatusOr<int> PartsCore::ExpireDue(size_t limit) {
  auto due = repo_.DueReservations(clock_.Now(), limit);
  if (!due.ok()) return due.status();
  for (const std::string& id : *due) {
    auto known = repo_.GetReservation(id);
    if (!known.ok()) return known.status();
    if (!known->has_value()) continue;
    auto expired = Transact<bool>(
        {StockTx::OrderLock((*known)->order_id()), StockTx::SkuLock((*known)->sku())},
        [&](StockTx& tx) -> absl::StatusOr<bool> {
          auto r = tx.Reservation(id);
          if (!r.ok()) return r.status();
          // Consumed or released meanwhile: nothing to do.
          if (!r->has_value() || !domain::IsExpired(**r, tx.now())) return false;
          if (absl::Status s = ExpireReservation(tx, **r); !s.ok()) return s;
          return true;
        });
    if (!expired.ok()) return expired.status();
  }
  return static_cast<int>(due->size());
}

absl::Status PartsCore::SetOrderPriority(const std::string& order_id, v1::Priority priority,
                                         const google::protobuf::Timestamp* created_at,
                                         store::Batch& batch) {
  auto done = Transact<bool>(
      {StockTx::OrderLock(order_id)},
      [&](StockTx& tx) -> absl::StatusOr<bool> {
        auto order = tx.Order(order_id);
        if (!order.ok()) return order.status();
        order->set_priority(domain::EffectivePriority(priority));
        order->set_known_to_intake(true);
        if (created_at != nullptr) *order->mutable_order_created_at() = *created_at;
        if (absl::Status s = tx.Put(*order); !s.ok()) return s;
        if (absl::Status s = Reprioritize(tx, order_id, order->priority()); !s.ok()) return s;
        return true;
      },
      &batch);
  return done.status();
}

absl::Status PartsCore::ApplyIntakeEvent(const v1::Event& event, store::Batch& batch) {
  switch (event.body_case()) {
    case v1::Event::kOrderCreated: {
      const v1::WorkOrder& o = event.order_created().order();
      if (o.order_id().empty()) return absl::InvalidArgumentError("event has no order id");
      return SetOrderPriority(o.order_id(), o.priority(), &o.created_at(), batch);
    }
    case v1::Event::kOrderPriorityChanged: {
      const auto& c = event.order_priority_changed();
      if (c.order_id().empty()) return absl::InvalidArgumentError("event has no order id");
      return SetOrderPriority(c.order_id(), c.to_priority(), nullptr, batch);
    }
    case v1::Event::kOrderCancelled: {
      const auto& c = event.order_cancelled();
      if (c.order_id().empty()) return absl::InvalidArgumentError("event has no order id");
      return Release(c.order_id(), "", v1::RELEASE_REASON_ORDER_CANCELLED, &batch).status();
    }
    default:
      return absl::OkStatus();  // not parts' concern
  }
}

}  // namespace aftersales::parts
