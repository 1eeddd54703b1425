#include "parts/stock_tx.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "parts/domain/reservation.h"
#include "rpc/rpc.h"

namespace aftersales::parts {
namespace {

// An index row derived from a record.
struct Row {
  rocksdb::ColumnFamilyHandle* cf;
  std::string key;
  std::string value;
  const store::QueueIndex* queue = nullptr;  // set when cf is a queue (written through it)
  bool operator<(const Row& o) const {
    return std::tie(cf, key, value) < std::tie(o.cf, o.key, o.value);
  }
};

std::set<Row> RowsOf(const PartsRepository& repo, const v1::StockLevel& l) {
  std::set<Row> rows = {
      {repo.by_location_cf(), PartsRepository::ByLocationKey(l.location_id(), l.sku()), ""}};
  if (domain::IsLow(l)) {
    rows.insert({repo.low_stock_cf(), PartsRepository::ByLocationKey(l.location_id(), l.sku()),
                 ""});
  }
  return rows;
}

std::set<Row> RowsOf(const PartsRepository& repo, const v1::Reservation& r) {
  std::set<Row> rows = {
      {repo.order_index_cf(), PartsRepository::OrderIndexKey(r.order_id(), 'r', r.reservation_id()),
       ""}};
  if (r.state() == v1::RESERVATION_STATE_ACTIVE) {
    rows.insert({repo.expiry().family(), PartsRepository::ExpiryKey(r), r.reservation_id(),
                 &repo.expiry()});
  }
  return rows;
}

std::set<Row> RowsOf(const PartsRepository& repo, const v1::Backorder& b) {
  std::set<Row> rows = {
      {repo.order_index_cf(), PartsRepository::OrderIndexKey(b.order_id(), 'b', b.backorder_id()),
       ""}};
  if (b.state() == v1::BACKORDER_STATE_WAITING) {
    rows.insert({repo.queue_cf(), PartsRepository::QueueKey(b), b.backorder_id()});
  }
  return rows;
}

template <typename R>
std::set<Row> NoRows(const PartsRepository&, const R&) {
  return {};
}

// Writes the rows `after` has and `before` had not, deletes the reverse.
void DiffRows(store::Batch& batch, const std::set<Row>& before, const std::set<Row>& after) {
  for (const Row& r : before) {
    if (!after.count(r)) batch.Delete(r.cf, r.key);
  }
  for (const Row& r : after) {
    if (before.count(r)) continue;
    if (r.queue != nullptr) {
      r.queue->Put(batch, r.key, r.value);
    } else {
      batch.Put(r.cf, r.key, r.value);
    }
  }
}

absl::Status LockMissing(const std::string& key) {
  return absl::AbortedError(absl::StrCat("needs lock ", key));
}

}  // namespace

template <typename R>
absl::StatusOr<std::optional<R>> StockTx::Overlay<R>::Get(const std::string& key) {
  auto it = entries.find(key);
  if (it != entries.end()) return it->second.current;
  auto loaded = table->Get(key);
  if (!loaded.ok()) return loaded.status();
  Entry& e = entries[key];
  e.original = *loaded;
  e.current = *loaded;
  return e.current;
}

template <typename R>
absl::Status StockTx::Overlay<R>::Put(const std::string& key, const R& value) {
  auto got = Get(key);
  if (!got.ok()) return got.status();
  Entry& e = entries[key];
  e.current = value;
  e.dirty = true;
  return absl::OkStatus();
}

StockTx::StockTx(const PartsRepository& repo, const LocationDirectory& locations,
                 std::set<std::string> locked, absl::Time now,
                 std::shared_ptr<const v1::PartsPolicy> policy)
    : repo_(repo),
      locations_(locations),
      locked_(std::move(locked)),
      now_(now),
      policy_(std::move(policy)) {
  stock_.table = &repo.stock();
  reservations_.table = &repo.reservations();
  backorders_.table = &repo.backorders();
  transfers_.table = &repo.transfers();
  slots_.table = &repo.slots();
  orders_.table = &repo.orders();
  ledgers_.table = &repo.ledgers();
}

std::string StockTx::SkuLock(absl::string_view sku) { return absl::StrCat("sku/", sku); }
std::string StockTx::OrderLock(absl::string_view order_id) {
  return absl::StrCat("order/", order_id);
}

bool StockTx::Require(const std::string& key) {
  if (Holds(key)) return true;
  missing_.insert(key);
  return false;
}

// ---- reads ----

absl::StatusOr<v1::StockLevel> StockTx::Stock(const std::string& location_id,
                                              const std::string& sku) {
  const std::string key = PartsRepository::StockKey(sku, location_id);
  const bool fresh = !stock_.entries.count(key);
  auto got = stock_.Get(key);
  if (!got.ok()) return got.status();
  if (got->has_value()) {
    if (fresh) {
      // A stored level that breaks the invariant is corruption: refuse to
      // build on it rather than compound it.
      if (absl::Status s = domain::CheckStockLevel(**got); !s.ok()) {
        ++effects_.invariant_violations;
        return s;
      }
    }
    return **got;
  }
  v1::StockLevel zero;
  zero.set_location_id(location_id);
  zero.set_sku(sku);
  if (auto loc = locations_.Get(location_id)) {
    zero.set_location_kind(loc->kind());
    zero.set_region_code(loc->region_code());
  }
  return zero;
}

absl::StatusOr<std::vector<v1::StockLevel>> StockTx::StockOfSku(const std::string& sku) {
  auto stored = repo_.StockOfSku(sku);
  if (!stored.ok()) return stored.status();
  std::vector<v1::StockLevel> out;
  std::set<std::string> seen;
  for (const auto& level : *stored) {
    auto current = Stock(level.location_id(), sku);
    if (!current.ok()) return current.status();
    seen.insert(level.location_id());
    out.push_back(*current);
  }
  for (const auto& [key, entry] : stock_.entries) {
    if (entry.current && entry.current->sku() == sku &&
        !seen.count(entry.current->location_id())) {
      out.push_back(*entry.current);
    }
  }
  return out;
}

absl::StatusOr<std::optional<v1::Reservation>> StockTx::Reservation(const std::string& id) {
  return reservations_.Get(id);
}

absl::StatusOr<std::optional<v1::Backorder>> StockTx::Backorder(const std::string& id) {
  return backorders_.Get(id);
}

absl::StatusOr<std::optional<v1::StockTransfer>> StockTx::Transfer(const std::string& id) {
  return transfers_.Get(id);
}

absl::StatusOr<v1::PartsOrderSkuSlot> StockTx::Slot(const std::string& order_id,
                                                    const std::string& sku) {
  auto got = slots_.Get(PartsRepository::SlotKey(order_id, sku));
  if (!got.ok()) return got.status();
  return got->value_or(v1::PartsOrderSkuSlot());
}

absl::StatusOr<v1::PartsOrderRecord> StockTx::Order(const std::string& order_id) {
  auto got = orders_.Get(order_id);
  if (!got.ok()) return got.status();
  if (got->has_value()) return **got;
  v1::PartsOrderRecord fresh;
  fresh.set_order_id(order_id);
  return fresh;
}

absl::StatusOr<v1::SkuSummary> StockTx::Ledger(const std::string& sku) {
  const bool fresh = !ledgers_.entries.count(sku);
  auto got = ledgers_.Get(sku);
  if (!got.ok()) return got.status();
  if (got->has_value()) {
    if (fresh) {
      if (absl::Status s = domain::CheckLedger(**got); !s.ok()) {
        ++effects_.invariant_violations;
        return s;
      }
    }
    return **got;
  }
  v1::SkuSummary zero;
  zero.set_sku(sku);
  zero.set_fill_rate(1.0);
  return zero;
}

absl::StatusOr<std::vector<v1::Backorder>> StockTx::WaitingBackorders(const std::string& sku,
                                                                      size_t limit) {
  auto ids = repo_.QueuedBackorders(sku, limit);
  if (!ids.ok()) return ids.status();
  std::set<std::string> seen;
  std::vector<v1::Backorder> out;
  for (const auto& id : *ids) {
    auto b = Backorder(id);
    if (!b.ok()) return b.status();
    seen.insert(id);
    if (b->has_value() && (*b)->sku() == sku && domain::IsOpen(**b)) out.push_back(**b);
  }
  for (const auto& [id, entry] : backorders_.entries) {
    if (!seen.count(id) && entry.current && entry.current->sku() == sku &&
        domain::IsOpen(*entry.current)) {
      out.push_back(*entry.current);
    }
  }
  std::sort(out.begin(), out.end(), domain::BackorderPrecedes);
  return out;
}

absl::StatusOr<std::vector<v1::Reservation>> StockTx::OrderReservations(
    const std::string& order_id) {
  auto ids = repo_.OrderRecords(order_id, 'r');
  if (!ids.ok()) return ids.status();
  std::set<std::string> all(ids->begin(), ids->end());
  for (const auto& [id, entry] : reservations_.entries) {
    if (entry.current && entry.current->order_id() == order_id) all.insert(id);
  }
  std::vector<v1::Reservation> out;
  for (const auto& id : all) {
    auto r = Reservation(id);
    if (!r.ok()) return r.status();
    if (r->has_value()) out.push_back(**r);
  }
  return out;
}

absl::StatusOr<std::vector<v1::Backorder>> StockTx::OrderBackorders(const std::string& order_id) {
  auto ids = repo_.OrderRecords(order_id, 'b');
  if (!ids.ok()) return ids.status();
  std::set<std::string> all(ids->begin(), ids->end());
  for (const auto& [id, entry] : backorders_.entries) {
    if (entry.current && entry.current->order_id() == order_id) all.insert(id);
  }
  std::vector<v1::Backorder> out;
  for (const auto& id : all) {
    auto b = Backorder(id);
    if (!b.ok()) return b.status();
    if (b->has_value()) out.push_back(**b);
  }
  return out;
}

// ---- stock ----

absl::Status StockTx::Move(const std::string& location_id, const std::string& sku,
                           domain::Movement movement, int64_t quantity) {
  if (!Require(SkuLock(sku))) return LockMissing(SkuLock(sku));
  auto level = Stock(location_id, sku);
  if (!level.ok()) return level.status();
  const domain::StockDelta delta = domain::DeltaOf(movement, quantity);
  auto next = domain::ApplyStockDelta(*level, delta, now_);
  if (!next.ok()) {
    ++effects_.stock_refused;
    return next.status();
  }
  if (auto loc = locations_.Get(location_id)) {
    next->set_location_kind(loc->kind());
    next->set_region_code(loc->region_code());
  }
  auto ledger = Ledger(sku);
  if (!ledger.ok()) return ledger.status();
  domain::ApplyToLedger(*ledger, movement, delta);
  ledger->set_version(ledger->version() + 1);
  *ledger->mutable_updated_at() = rpc::ToProto(now_);
  if (absl::Status s = stock_.Put(PartsRepository::StockKey(sku, location_id), *next); !s.ok()) {
    return s;
  }
  if (absl::Status s = ledgers_.Put(sku, *ledger); !s.ok()) return s;
  static constexpr const char* kNames[] = {"received",   "adjusted",         "reserved",
                                           "unreserved", "consumed",         "shipped",
                                           "in_transit", "transfer_received"};
  const std::string name = movement == domain::Movement::kAdjust
                               ? (quantity > 0 ? "adjusted_in" : "adjusted_out")
                               : kNames[static_cast<int>(movement)];
  effects_.units[name] += quantity > 0 ? quantity : -quantity;
  return absl::OkStatus();
}

absl::Status StockTx::SetReorder(const std::string& location_id, const std::string& sku,
                                 int64_t reorder_point, int64_t reorder_qty) {
  if (!Require(SkuLock(sku))) return LockMissing(SkuLock(sku));
  auto level = Stock(location_id, sku);
  if (!level.ok()) return level.status();
  v1::StockLevel next = *level;
  next.set_reorder_point(reorder_point);
  next.set_reorder_qty(reorder_qty);
  next.set_version(level->version() + 1);
  *next.mutable_updated_at() = rpc::ToProto(now_);
  if (auto loc = locations_.Get(location_id)) {
    next.set_location_kind(loc->kind());
    next.set_region_code(loc->region_code());
  }
  return stock_.Put(PartsRepository::StockKey(sku, location_id), next);
}

// ---- writes ----

absl::Status StockTx::Put(const v1::Reservation& r) {
  if (!Require(SkuLock(r.sku()))) return LockMissing(SkuLock(r.sku()));
  if (!Require(OrderLock(r.order_id()))) return LockMissing(OrderLock(r.order_id()));
  return reservations_.Put(r.reservation_id(), r);
}

absl::Status StockTx::Put(const v1::Backorder& b) {
  if (!Require(SkuLock(b.sku()))) return LockMissing(SkuLock(b.sku()));
  if (!Require(OrderLock(b.order_id()))) return LockMissing(OrderLock(b.order_id()));
  return backorders_.Put(b.backorder_id(), b);
}

absl::Status StockTx::PutSlot(const std::string& order_id, const std::string& sku,
                              const v1::PartsOrderSkuSlot& slot) {
  if (!Require(SkuLock(sku))) return LockMissing(SkuLock(sku));
  if (!Require(OrderLock(order_id))) return LockMissing(OrderLock(order_id));
  return slots_.Put(PartsRepository::SlotKey(order_id, sku), slot);
}

absl::Status StockTx::Put(const v1::PartsOrderRecord& order) {
  if (!Require(OrderLock(order.order_id()))) return LockMissing(OrderLock(order.order_id()));
  return orders_.Put(order.order_id(), order);
}

absl::Status StockTx::PutLedger(const v1::SkuSummary& ledger) {
  if (!Require(SkuLock(ledger.sku()))) return LockMissing(SkuLock(ledger.sku()));
  auto current = Ledger(ledger.sku());
  if (!current.ok()) return current.status();
  v1::SkuSummary next = ledger;
  // Stock totals move only through Move().
  next.set_on_hand(current->on_hand());
  next.set_reserved(current->reserved());
  next.set_in_transit(current->in_transit());
  next.set_available(current->available());
  next.set_received(current->received());
  next.set_consumed(current->consumed());
  next.set_adjusted(current->adjusted());
  next.set_fill_rate(domain::FillRate(next));
  next.set_version(current->version() + 1);
  *next.mutable_updated_at() = rpc::ToProto(now_);
  return ledgers_.Put(ledger.sku(), next);
}

void StockTx::Put(const v1::Consumption& c) { new_consumptions_.push_back(c); }
void StockTx::Put(const v1::Receipt& r) { new_receipts_.push_back(r); }
void StockTx::Put(const v1::Adjustment& a) { new_adjustments_.push_back(a); }
absl::Status StockTx::Put(const v1::StockTransfer& t) {
  if (!Require(SkuLock(t.sku()))) return LockMissing(SkuLock(t.sku()));
  return transfers_.Put(t.transfer_id(), t);
}

void StockTx::Remember(const std::string& key, const std::string& fingerprint,
                       const std::string& resource_id) {
  remembered_.push_back({key, fingerprint, resource_id});
}

v1::Event& StockTx::Emit(const std::string& subject_id) {
  v1::Event& e = events_.emplace_back();
  e.set_producer("parts");
  *e.mutable_occurred_at() = rpc::ToProto(now_);
  e.set_subject_id(subject_id);
  return e;
}

// ---- stage ----

absl::Status StockTx::Stage(store::Batch& batch) {
  // Nothing is staged if any changed level or ledger breaks its invariant.
  for (const auto& [key, e] : stock_.entries) {
    if (!e.dirty) continue;
    if (absl::Status s = domain::CheckStockLevel(*e.current); !s.ok()) {
      ++effects_.invariant_violations;
      return s;
    }
  }
  for (const auto& [key, e] : ledgers_.entries) {
    if (!e.dirty) continue;
    if (absl::Status s = domain::CheckLedger(*e.current); !s.ok()) {
      ++effects_.invariant_violations;
      return s;
    }
  }

  for (const auto& [key, e] : stock_.entries) {
    if (!e.dirty) continue;
    const v1::StockLevel& level = *e.current;
    repo_.stock().Put(batch, key, level);
    DiffRows(batch, e.original ? RowsOf(repo_, *e.original) : std::set<Row>(),
             RowsOf(repo_, level));
    const bool was_low = e.original && domain::IsLow(*e.original);
    const bool is_low = domain::IsLow(level);
    if (is_low && !was_low) {
      ++effects_.low_entered;
      v1::Event& ev = Emit(absl::StrCat(level.location_id(), "/", level.sku()));
      v1::LowStock* low = ev.mutable_low_stock();
      low->set_location_id(level.location_id());
      low->set_sku(level.sku());
      low->set_available(level.available());
      low->set_reorder_point(level.reorder_point());
      low->set_reorder_qty(level.reorder_qty());
      low->set_region_code(level.region_code());
    } else if (was_low && !is_low) {
      ++effects_.low_left;
    }
  }
  for (const auto& [key, e] : ledgers_.entries) {
    if (!e.dirty) continue;
    repo_.ledgers().Put(batch, key, *e.current);
    v1::SkuSummary before;
    if (e.original) {
      before = *e.original;
    } else {
      before.set_sku(key);
    }
    effects_.ledgers.emplace_back(before, *e.current);
  }
  for (const auto& [key, e] : reservations_.entries) {
    if (!e.dirty) continue;
    repo_.reservations().Put(batch, key, *e.current);
    DiffRows(batch, e.original ? RowsOf(repo_, *e.original) : std::set<Row>(),
             RowsOf(repo_, *e.current));
  }
  for (const auto& [key, e] : backorders_.entries) {
    if (!e.dirty) continue;
    repo_.backorders().Put(batch, key, *e.current);
    DiffRows(batch, e.original ? RowsOf(repo_, *e.original) : std::set<Row>(),
             RowsOf(repo_, *e.current));
  }
  for (const auto& [key, e] : transfers_.entries) {
    if (e.dirty) repo_.transfers().Put(batch, key, *e.current);
  }
  for (const auto& [key, e] : slots_.entries) {
    if (e.dirty) repo_.slots().Put(batch, key, *e.current);
  }
  for (const auto& [key, e] : orders_.entries) {
    if (e.dirty) repo_.orders().Put(batch, key, *e.current);
  }
  for (const auto& c : new_consumptions_) {
    repo_.consumptions().Put(batch, c.consumption_id(), c);
    batch.Put(repo_.order_index_cf(),
              PartsRepository::OrderIndexKey(c.order_id(), 'c', c.consumption_id()), "");
    if (!c.lot_number().empty()) {
      batch.Put(repo_.lot_index_cf(),
                PartsRepository::LotIndexKey(c.lot_number(), c.sku(), 'c', c.consumption_id()),
                "");
    }
  }
  for (const auto& r : new_receipts_) {
    repo_.receipts().Put(batch, r.receipt_id(), r);
    if (!r.lot_number().empty()) {
      batch.Put(repo_.lot_index_cf(),
                PartsRepository::LotIndexKey(r.lot_number(), r.sku(), 'r', r.receipt_id()), "");
    }
  }
  for (const auto& a : new_adjustments_) repo_.adjustments().Put(batch, a.adjustment_id(), a);
  for (const auto& r : remembered_) {
    repo_.idempotency().Remember(batch, r.key, r.fingerprint, r.resource_id, now_);
  }
  for (auto& e : events_) batch.AppendEvent(e);
  return absl::OkStatus();
}

}  // namespace aftersales::parts
