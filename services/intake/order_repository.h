#ifndef AFTERSALES_SERVICES_INTAKE_ORDER_REPOSITORY_H_
#define AFTERSALES_SERVICES_INTAKE_ORDER_REPOSITORY_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/intake.pb.h"
#include "intake/domain/lifecycle.h"
#include "privacy/customer_keys.h"
#include "privacy/sealed_fields.h"
#include "store/idempotency.h"
#include "store/queue_index.h"
#include "store/store.h"

namespace aftersales::intake {

// Work orders and everything derived from them in intake's RocksDB: the
// orders, list indexes, the SLA deadline index the sweeper reads, progress
// report results (offline-sync idempotency) and the compensation ledger.
// Stage() writes an order together with every derived row and the change's
// events into one batch, so indexes never disagree with the orders.
// PII (contact, the customer's fault description and expectation, the masked
// customer view) never reaches the orders table: it is sealed with the
// customer's data key in its own row and restored on every read (SPEC §8).
class OrderRepository {
 public:
  OrderRepository(store::Store* store, privacy::CustomerKeys* keys);
  static std::vector<std::string> ColumnFamilies();

  store::Store& store() { return *store_; }
  const store::IdempotencyKeys& idempotency() const { return idempotency_; }

  // Serializes read-modify-write of one order (handlers, consumers, sweeper).
  store::KeyLocks::Guard Lock(const std::string& order_id);

  absl::StatusOr<std::optional<v1::WorkOrder>> Get(const std::string& order_id) const;

  // Writes `after` (a new order when `before` is null) with its index rows,
  // its sealed PII, its next sweep time, the change's events and ledger
  // entries (`events` is moved into the batch: pass a copy if you still need
  // them). Fails only when the customer's key cannot be read.
  absl::Status Stage(store::Batch& batch, const v1::WorkOrder* before,
             const v1::WorkOrder& after, absl::Time next_sweep,
             std::vector<v1::Event> events,
             const std::vector<v1::CompensationEntry>& ledger);

  // Orders for an appliance serial, newest first (at most `limit`).
  absl::StatusOr<std::vector<v1::WorkOrder>> BySerial(const std::string& serial,
                                                      size_t limit) const;

  // Number of orders in each state (index rows only; no order is loaded).
  absl::StatusOr<std::map<v1::OrderState, int64_t>> CountByState() const;

  // Order ids whose next sweep is at or before `now`, earliest first.
  absl::StatusOr<std::vector<std::string>> DueForSweep(absl::Time now,
                                                       size_t limit) const;

  // The result recorded for (order, client event id), if that report applied.
  absl::StatusOr<std::optional<v1::ProgressResult>> ProgressResultOf(
      const std::string& order_id, const std::string& client_event_id) const;
  void StageProgressResult(store::Batch& batch, const v1::ProgressResult& result);

  // Ledger.
  absl::StatusOr<std::optional<v1::CompensationEntry>> LedgerEntry(
      const std::string& key) const;
  void StageLedgerEntry(store::Batch& batch, const v1::CompensationEntry& entry);
  // Entries of a customer (or of an order, or all when both are empty),
  // newest first, after the page key.
  struct LedgerPage {
    std::vector<v1::CompensationEntry> entries;
    std::string last_key;
  };
  absl::StatusOr<LedgerPage> ListLedger(const std::string& customer_id,
                                        const std::string& order_id,
                                        const std::string& after_key,
                                        size_t limit) const;

  // Orders matching `filter`, newest first. Scans the most selective index
  // among state/engineer/partner/region/customer (or all orders), examines
  // at most `max_examined` index rows; `last_key` resumes the scan.
  struct OrderPage {
    std::vector<v1::WorkOrder> orders;
    std::string last_key;
  };
  absl::StatusOr<OrderPage> List(const v1::ListOrdersRequest& filter,
                                 const std::function<bool(const v1::WorkOrder&)>& visible,
                                 const std::string& after_key, size_t limit,
                                 size_t max_examined = 5000) const;

  // Ids of a customer's orders (index rows only), newest first.
  absl::StatusOr<std::vector<std::string>> OrderIdsOfCustomer(const std::string& customer_id,
                                                             size_t limit) const;
  // Whether an order holds sealed PII.
  absl::StatusOr<bool> HasSealedPii(const std::string& order_id) const {
    return sealed_.Has(order_id);
  }
  privacy::CustomerKeys& keys() { return *keys_; }

 private:
  // Up to `limit` order ids under the order index's `kind`/`value` prefix
  // (serial, customer, ...), in key order.
  absl::StatusOr<std::vector<std::string>> IdsByIndex(absl::string_view kind,
                                                      const std::string& value,
                                                      size_t limit) const;
  // An order with its PII restored.
  absl::StatusOr<std::optional<v1::WorkOrder>> Load(absl::string_view order_id) const;

  store::Store* store_;
  privacy::CustomerKeys* keys_;
  privacy::SealedFields sealed_;
  store::Table<v1::WorkOrder> orders_;
  store::IdempotencyKeys idempotency_;
  store::Table<v1::ProgressResult> progress_;
  store::Table<v1::CompensationEntry> ledger_;
  rocksdb::ColumnFamilyHandle* order_index_;
  rocksdb::ColumnFamilyHandle* ledger_index_;
  store::QueueIndex sweep_index_;
};

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_ORDER_REPOSITORY_H_
