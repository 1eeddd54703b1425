#include "parts/parts_repository.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_split.h"
#include "parts/domain/reservation.h"
#include "rpc/rpc.h"
#include "store/keys.h"

namespace aftersales::parts {
namespace {

constexpr char kParts[] = "parts";
constexpr char kLocations[] = "locations";
constexpr char kStock[] = "stock";
constexpr char kByLocation[] = "stock_by_location";
constexpr char kLowStock[] = "low_stock";
constexpr char kReservations[] = "reservations";
constexpr char kBackorders[] = "backorders";
constexpr char kQueue[] = "backorder_queue";
constexpr char kExpiry[] = "expiry_index";
constexpr char kOrderIndex[] = "order_index";
constexpr char kSlots[] = "order_slots";
constexpr char kOrders[] = "orders";
constexpr char kConsumptions[] = "consumptions";
constexpr char kReceipts[] = "receipts";
constexpr char kAdjustments[] = "adjustments";
constexpr char kTransfers[] = "transfers";
constexpr char kLotIndex[] = "lot_index";
constexpr char kLedger[] = "sku_ledger";
constexpr char kIdempotency[] = "idempotency";

std::string Micros(const google::protobuf::Timestamp& t) {
  const int64_t micros = absl::ToUnixMicros(rpc::FromProto(t));
  return store::EncodeU64(static_cast<uint64_t>(std::max<int64_t>(micros, 0)));
}

std::string WithSeparator(absl::string_view prefix) {
  std::string p(prefix);
  p.push_back('\0');
  return p;
}

}  // namespace

PartsRepository::PartsRepository(store::Store* store)
    : store_(store),
      parts_(store, kParts),
      locations_(store, kLocations),
      stock_(store, kStock),
      reservations_(store, kReservations),
      backorders_(store, kBackorders),
      consumptions_(store, kConsumptions),
      receipts_(store, kReceipts),
      adjustments_(store, kAdjustments),
      transfers_(store, kTransfers),
      slots_(store, kSlots),
      orders_(store, kOrders),
      ledgers_(store, kLedger),
      idempotency_(store, kIdempotency),
      by_location_(store->Family(kByLocation)),
      low_stock_(store->Family(kLowStock)),
      queue_(store->Family(kQueue)),
      expiry_(store, kExpiry),
      order_index_(store->Family(kOrderIndex)),
      lot_index_(store->Family(kLotIndex)) {}

std::vector<std::string> PartsRepository::ColumnFamilies() {
  return {kParts,     kLocations,    kStock,       kByLocation,  kLowStock,
          kReservations, kBackorders, kQueue,      kExpiry,      kOrderIndex,
          kSlots,     kOrders,       kConsumptions, kReceipts,   kAdjustments,
          kTransfers, kLotIndex,     kLedger,      kIdempotency};
}

std::string PartsRepository::StockKey(absl::string_view sku, absl::string_view location_id) {
  return store::CompositeKey({sku, location_id});
}
std::string PartsRepository::ByLocationKey(absl::string_view location_id,
                                           absl::string_view sku) {
  return store::CompositeKey({location_id, sku});
}
std::string PartsRepository::SlotKey(absl::string_view order_id, absl::string_view sku) {
  return store::CompositeKey({order_id, sku});
}
std::string PartsRepository::QueuePrefix(absl::string_view sku) { return WithSeparator(sku); }
std::string PartsRepository::QueueKey(const v1::Backorder& b) {
  std::string key = QueuePrefix(b.sku());
  // Higher priority first, then older first, then id.
  key.push_back(static_cast<char>(255 - static_cast<int>(domain::EffectivePriority(b.priority()))));
  key += Micros(b.queued_at());
  key += b.backorder_id();
  return key;
}
std::string PartsRepository::ExpiryKey(const v1::Reservation& r) {
  return Micros(r.expires_at()) + r.reservation_id();
}
std::string PartsRepository::OrderIndexKey(absl::string_view order_id, char kind,
                                           absl::string_view id) {
  return store::CompositeKey({order_id, absl::string_view(&kind, 1), id});
}
std::string PartsRepository::LotIndexKey(absl::string_view lot, absl::string_view sku,
                                         char kind, absl::string_view id) {
  return store::CompositeKey({lot, sku, absl::string_view(&kind, 1), id});
}

absl::StatusOr<std::optional<v1::Part>> PartsRepository::GetPart(const std::string& sku) const {
  return parts_.Get(sku);
}
absl::StatusOr<std::optional<v1::StockLocation>> PartsRepository::GetLocation(
    const std::string& id) const {
  return locations_.Get(id);
}
absl::StatusOr<std::optional<v1::StockLevel>> PartsRepository::GetStock(
    const std::string& location_id, const std::string& sku) const {
  return stock_.Get(StockKey(sku, location_id));
}
absl::StatusOr<std::optional<v1::Reservation>> PartsRepository::GetReservation(
    const std::string& id) const {
  return reservations_.Get(id);
}
absl::StatusOr<std::optional<v1::Backorder>> PartsRepository::GetBackorder(
    const std::string& id) const {
  return backorders_.Get(id);
}
absl::StatusOr<std::optional<v1::Consumption>> PartsRepository::GetConsumption(
    const std::string& id) const {
  return consumptions_.Get(id);
}
absl::StatusOr<std::optional<v1::Receipt>> PartsRepository::GetReceipt(
    const std::string& id) const {
  return receipts_.Get(id);
}
absl::StatusOr<std::optional<v1::Adjustment>> PartsRepository::GetAdjustment(
    const std::string& id) const {
  return adjustments_.Get(id);
}
absl::StatusOr<std::optional<v1::StockTransfer>> PartsRepository::GetTransfer(
    const std::string& id) const {
  return transfers_.Get(id);
}
absl::StatusOr<std::optional<v1::PartsOrderSkuSlot>> PartsRepository::GetSlot(
    const std::string& order_id, const std::string& sku) const {
  return slots_.Get(SlotKey(order_id, sku));
}
absl::StatusOr<std::optional<v1::PartsOrderRecord>> PartsRepository::GetOrder(
    const std::string& id) const {
  return orders_.Get(id);
}
absl::StatusOr<std::optional<v1::SkuSummary>> PartsRepository::GetLedger(
    const std::string& sku) const {
  return ledgers_.Get(sku);
}

absl::StatusOr<std::vector<v1::StockLevel>> PartsRepository::StockOfSku(
    const std::string& sku) const {
  std::vector<v1::StockLevel> out;
  absl::Status s = stock_.Scan(WithSeparator(sku), "",
                               [&](absl::string_view, const v1::StockLevel& level) {
                                 out.push_back(level);
                                 return true;
                               });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<PartsRepository::LevelPage> PartsRepository::StockOfLocation(
    const std::string& location_id, const std::string& after_sku, size_t limit) const {
  const std::string prefix = WithSeparator(location_id);
  std::string start = prefix;
  if (!after_sku.empty()) start = prefix + after_sku + std::string(1, '\0');
  std::vector<std::string> skus;
  bool more = false;
  absl::Status s = store_->Scan(by_location_, start, store::PrefixSuccessor(prefix),
                                [&](absl::string_view key, absl::string_view) {
                                  if (skus.size() == limit) {
                                    more = true;
                                    return false;
                                  }
                                  skus.emplace_back(key.substr(prefix.size()));
                                  return true;
                                });
  if (!s.ok()) return s;
  LevelPage page;
  for (const auto& sku : skus) {
    auto level = GetStock(location_id, sku);
    if (!level.ok()) return level.status();
    if (level->has_value()) page.levels.push_back(**level);
  }
  if (more && !skus.empty()) page.last = skus.back();
  return page;
}

absl::Status PartsRepository::ScanLowStock(
    const std::string& after_key,
    const std::function<bool(const std::string&, const v1::StockLevel&)>& visit) const {
  std::string start;
  if (!after_key.empty()) start = after_key + std::string(1, '\0');
  absl::Status read;
  absl::Status s = store_->Scan(
      low_stock_, start, "", [&](absl::string_view key, absl::string_view) {
        std::vector<std::string> parts = absl::StrSplit(key, absl::ByChar('\0'));
        if (parts.size() != 2) return true;
        auto level = GetStock(parts[0], parts[1]);
        if (!level.ok()) {
          read = level.status();
          return false;
        }
        if (!level->has_value()) return true;
        return visit(std::string(key), **level);
      });
  if (!s.ok()) return s;
  return read;
}

absl::StatusOr<int64_t> PartsRepository::CountLowStock() const {
  int64_t n = 0;
  absl::Status s = store_->Scan(low_stock_, "", "", [&](absl::string_view, absl::string_view) {
    ++n;
    return true;
  });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<std::vector<std::string>> PartsRepository::QueuedBackorders(
    const std::string& sku, size_t limit) const {
  const std::string prefix = QueuePrefix(sku);
  std::vector<std::string> ids;
  absl::Status s = store_->Scan(queue_, prefix, store::PrefixSuccessor(prefix),
                                [&](absl::string_view, absl::string_view value) {
                                  ids.emplace_back(value);
                                  return ids.size() < limit;
                                });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<std::vector<std::string>> PartsRepository::DueReservations(absl::Time now,
                                                                          size_t limit) const {
  const std::string end = store::EncodeU64(
      static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixMicros(now), 0)) + 1);
  std::vector<std::string> ids;
  absl::Status s = expiry_.Scan(end, [&](absl::string_view, absl::string_view v) {
    ids.emplace_back(v);
    return ids.size() < limit;
  });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<absl::Time> PartsRepository::NextExpiry() const {
  absl::Time next = absl::InfiniteFuture();
  absl::Status s = expiry_.Scan("", [&](absl::string_view key, absl::string_view) {
    if (auto micros = store::DecodeU64(key.substr(0, 8))) {
      next = absl::FromUnixMicros(static_cast<int64_t>(*micros));
    }
    return false;
  });
  if (!s.ok()) return s;
  return next;
}

absl::StatusOr<std::vector<std::string>> PartsRepository::OrderRecords(
    const std::string& order_id, char kind) const {
  const std::string prefix =
      WithSeparator(store::CompositeKey({order_id, absl::string_view(&kind, 1)}));
  std::vector<std::string> ids;
  absl::Status s = store_->Scan(order_index_, prefix, store::PrefixSuccessor(prefix),
                                [&](absl::string_view key, absl::string_view) {
                                  ids.emplace_back(key.substr(prefix.size()));
                                  return ids.size() < 10000;
                                });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<std::vector<PartsRepository::LotRow>> PartsRepository::LotRows(
    const std::string& lot, const std::string& sku, size_t limit) const {
  const std::string prefix =
      sku.empty() ? WithSeparator(lot) : WithSeparator(store::CompositeKey({lot, sku}));
  std::vector<LotRow> rows;
  absl::Status s = store_->Scan(lot_index_, prefix, store::PrefixSuccessor(prefix),
                                [&](absl::string_view key, absl::string_view) {
                                  std::vector<std::string> parts =
                                      absl::StrSplit(key, absl::ByChar('\0'));
                                  if (parts.size() == 4 && parts[2].size() == 1) {
                                    rows.push_back({parts[2][0], parts[1], parts[3]});
                                  }
                                  return rows.size() < limit;
                                });
  if (!s.ok()) return s;
  return rows;
}

absl::StatusOr<store::Table<v1::Part>::Page> PartsRepository::ListParts(
    const std::string& after_sku, size_t limit) const {
  return parts_.List("", after_sku, limit);
}

absl::Status PartsRepository::ScanParts(const std::string& after_sku,
                                        const std::function<bool(const v1::Part&)>& visit) const {
  return parts_.Scan("", after_sku, [&](absl::string_view, const v1::Part& p) { return visit(p); });
}

absl::Status PartsRepository::ScanLocations(
    const std::function<bool(const v1::StockLocation&)>& visit) const {
  return locations_.Scan("", "", [&](absl::string_view, const v1::StockLocation& l) {
    return visit(l);
  });
}

absl::Status PartsRepository::ScanLedgers(
    const std::function<bool(const v1::SkuSummary&)>& visit) const {
  return ledgers_.Scan("", "", [&](absl::string_view, const v1::SkuSummary& g) {
    return visit(g);
  });
}

}  // namespace aftersales::parts
