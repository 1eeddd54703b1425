#ifndef AFTERSALES_SERVICES_PARTS_PARTS_REPOSITORY_H_
#define AFTERSALES_SERVICES_PARTS_PARTS_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/parts.pb.h"
#include "store/idempotency.h"
#include "store/queue_index.h"
#include "store/store.h"

namespace aftersales::parts {

// The parts service's RocksDB: records, their secondary indexes and the key
// encodings. Reads only — every write goes through StockTx::Stage, which
// derives each record's index rows from the record itself, so indexes never
// disagree with their records. Thread-safe (the store is).
//
// Tables (column family: key -> value):
//   parts: sku -> Part                 locations: id -> StockLocation
//   stock: sku\0location -> StockLevel (SKU first: Reserve scans one SKU)
//   reservations, backorders, consumptions, receipts, adjustments,
//   transfers: id -> record
//   order_slots: order\0sku -> PartsOrderSkuSlot (Reserve idempotency)
//   orders: order -> PartsOrderRecord  sku_ledger: sku -> SkuSummary
//   idempotency: principal\0request id -> IdempotencyRecord
// Indexes (key only):
//   stock_by_location: location\0sku    low_stock: location\0sku
//   backorder_queue: sku\0 <255-priority> <queued_at micros BE> id
//   expiry_index: <expires_at micros BE> id (ACTIVE reservations only)
//   order_index: order\0{r|b|c}\0id     lot_index: lot\0sku\0{c|r}\0id
class PartsRepository {
 public:
  explicit PartsRepository(store::Store* store);
  static std::vector<std::string> ColumnFamilies();

  store::Store& store() const { return *store_; }
  const store::IdempotencyKeys& idempotency() const { return idempotency_; }

  // ---- key encodings ----
  static std::string StockKey(absl::string_view sku, absl::string_view location_id);
  static std::string ByLocationKey(absl::string_view location_id, absl::string_view sku);
  static std::string SlotKey(absl::string_view order_id, absl::string_view sku);
  static std::string QueueKey(const v1::Backorder& b);
  static std::string QueuePrefix(absl::string_view sku);
  static std::string ExpiryKey(const v1::Reservation& r);
  static std::string OrderIndexKey(absl::string_view order_id, char kind, absl::string_view id);
  static std::string LotIndexKey(absl::string_view lot, absl::string_view sku, char kind,
                                 absl::string_view id);

  // ---- records ----
  absl::StatusOr<std::optional<v1::Part>> GetPart(const std::string& sku) const;
  absl::StatusOr<std::optional<v1::StockLocation>> GetLocation(const std::string& id) const;
  absl::StatusOr<std::optional<v1::StockLevel>> GetStock(const std::string& location_id,
                                                         const std::string& sku) const;
  absl::StatusOr<std::optional<v1::Reservation>> GetReservation(const std::string& id) const;
  absl::StatusOr<std::optional<v1::Backorder>> GetBackorder(const std::string& id) const;
  absl::StatusOr<std::optional<v1::Consumption>> GetConsumption(const std::string& id) const;
  absl::StatusOr<std::optional<v1::Receipt>> GetReceipt(const std::string& id) const;
  absl::StatusOr<std::optional<v1::Adjustment>> GetAdjustment(const std::string& id) const;
  absl::StatusOr<std::optional<v1::StockTransfer>> GetTransfer(const std::string& id) const;
  absl::StatusOr<std::optional<v1::PartsOrderSkuSlot>> GetSlot(const std::string& order_id,
                                                               const std::string& sku) const;
  absl::StatusOr<std::optional<v1::PartsOrderRecord>> GetOrder(const std::string& id) const;
  absl::StatusOr<std::optional<v1::SkuSummary>> GetLedger(const std::string& sku) const;

  // Every stored level of `sku` (one per location that ever held it).
  absl::StatusOr<std::vector<v1::StockLevel>> StockOfSku(const std::string& sku) const;

  // Levels of one location in SKU order, after `after_sku`, at most `limit`;
  // `last` is set when more may follow.
  struct LevelPage {
    std::vector<v1::StockLevel> levels;
    std::string last;
  };
  absl::StatusOr<LevelPage> StockOfLocation(const std::string& location_id,
                                            const std::string& after_sku, size_t limit) const;

  // Low-stock rows (location\0sku) after `after_key`, in key order, until
  // `visit` returns false.
  absl::Status ScanLowStock(const std::string& after_key,
                            const std::function<bool(const std::string& key,
                                                     const v1::StockLevel&)>& visit) const;
  absl::StatusOr<int64_t> CountLowStock() const;

  // Backorder ids of `sku` in queue order, at most `limit`.
  absl::StatusOr<std::vector<std::string>> QueuedBackorders(const std::string& sku,
                                                            size_t limit) const;
  // Reservation ids whose expiry is at or before `now`, earliest first.
  absl::StatusOr<std::vector<std::string>> DueReservations(absl::Time now, size_t limit) const;
  // The earliest expiry of an ACTIVE reservation, or InfiniteFuture.
  absl::StatusOr<absl::Time> NextExpiry() const;

  // Ids of an order's records of `kind` ('r' reservations, 'b' backorders,
  // 'c' consumptions), in id order.
  absl::StatusOr<std::vector<std::string>> OrderRecords(const std::string& order_id,
                                                        char kind) const;

  // (kind, id) of lot index rows for `lot` (and `sku` if not empty).
  struct LotRow {
    char kind;
    std::string sku, id;
  };
  absl::StatusOr<std::vector<LotRow>> LotRows(const std::string& lot, const std::string& sku,
                                              size_t limit) const;

  // Parts in SKU order after `after_sku`, at most `limit`.
  absl::StatusOr<store::Table<v1::Part>::Page> ListParts(const std::string& after_sku,
                                                         size_t limit) const;
  // Parts in SKU order after `after_sku` until `visit` returns false.
  absl::Status ScanParts(const std::string& after_sku,
                         const std::function<bool(const v1::Part&)>& visit) const;
  absl::Status ScanLocations(const std::function<bool(const v1::StockLocation&)>& visit) const;
  absl::Status ScanLedgers(const std::function<bool(const v1::SkuSummary&)>& visit) const;

  // ---- raw access for StockTx::Stage ----
  const store::Table<v1::Part>& parts() const { return parts_; }
  const store::Table<v1::StockLocation>& locations() const { return locations_; }
  const store::Table<v1::StockLevel>& stock() const { return stock_; }
  const store::Table<v1::Reservation>& reservations() const { return reservations_; }
  const store::Table<v1::Backorder>& backorders() const { return backorders_; }
  const store::Table<v1::Consumption>& consumptions() const { return consumptions_; }
  const store::Table<v1::Receipt>& receipts() const { return receipts_; }
  const store::Table<v1::Adjustment>& adjustments() const { return adjustments_; }
  const store::Table<v1::StockTransfer>& transfers() const { return transfers_; }
  const store::Table<v1::PartsOrderSkuSlot>& slots() const { return slots_; }
  const store::Table<v1::PartsOrderRecord>& orders() const { return orders_; }
  const store::Table<v1::SkuSummary>& ledgers() const { return ledgers_; }
  rocksdb::ColumnFamilyHandle* by_location_cf() const { return by_location_; }
  rocksdb::ColumnFamilyHandle* low_stock_cf() const { return low_stock_; }
  rocksdb::ColumnFamilyHandle* queue_cf() const { return queue_; }
  const store::QueueIndex& expiry() const { return expiry_; }
  rocksdb::ColumnFamilyHandle* order_index_cf() const { return order_index_; }
  rocksdb::ColumnFamilyHandle* lot_index_cf() const { return lot_index_; }

 private:
  store::Store* store_;
  store::Table<v1::Part> parts_;
  store::Table<v1::StockLocation> locations_;
  store::Table<v1::StockLevel> stock_;
  store::Table<v1::Reservation> reservations_;
  store::Table<v1::Backorder> backorders_;
  store::Table<v1::Consumption> consumptions_;
  store::Table<v1::Receipt> receipts_;
  store::Table<v1::Adjustment> adjustments_;
  store::Table<v1::StockTransfer> transfers_;
  store::Table<v1::PartsOrderSkuSlot> slots_;
  store::Table<v1::PartsOrderRecord> orders_;
  store::Table<v1::SkuSummary> ledgers_;
  store::IdempotencyKeys idempotency_;
  rocksdb::ColumnFamilyHandle* by_location_;
  rocksdb::ColumnFamilyHandle* low_stock_;
  rocksdb::ColumnFamilyHandle* queue_;
  store::QueueIndex expiry_;
  rocksdb::ColumnFamilyHandle* order_index_;
  rocksdb::ColumnFamilyHandle* lot_index_;
};

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_PARTS_REPOSITORY_H_
