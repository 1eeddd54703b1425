#ifndef AFTERSALES_SERVICES_PARTS_STOCK_TX_H_
#define AFTERSALES_SERVICES_PARTS_STOCK_TX_H_

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/parts.pb.h"
#include "parts/domain/stock.h"
#include "parts/location_directory.h"
#include "parts/parts_repository.h"
#include "store/store.h"

namespace aftersales::parts {

// What a transaction did, for the metrics (observed once it is staged).
struct TxEffects {
  std::vector<v1::LocationKind> reserved_at;  // immediate reservations, by location kind
  int backordered = 0;
  std::vector<absl::Duration> allocated_ages;  // backorders filled, time queued
  std::vector<absl::Duration> cancelled_ages;  // backorders cancelled, time queued
  int released = 0;
  int expired = 0;
  int consumed = 0;  // reservations fully consumed
  int low_entered = 0, low_left = 0;
  std::map<std::string, int64_t> units;  // movement -> units
  std::vector<std::pair<v1::SkuSummary, v1::SkuSummary>> ledgers;  // before, after
  int invariant_violations = 0;
  int stock_refused = 0;  // Move()s the invariant guard refused
};

// One unit of work over parts records, under the key locks its caller
// holds. Reads go through an overlay (a record read or written in the
// transaction is seen as written); Stage() writes every changed record with
// the index rows derived from it, the idempotency records and the events
// into one batch — so a transaction commits whole or not at all.
//
// Stock changes only through Move(), which applies domain::ApplyStockDelta
// (refusing any negative count or available < 0) and moves the SKU's ledger
// by the same delta. Stage() re-checks every changed level and ledger
// (conservation: on_hand + in_transit == received - consumed + adjusted) and
// refuses to stage a broken one (INTERNAL, counted as a violation).
//
// Locks: Move and every write of a reservation/backorder/slot/ledger need
// "sku/<sku>"; reservation/backorder/slot/order records also need
// "order/<order>". A write without its lock is not done: the key is added
// to missing() and the caller retries the whole transaction holding it
// (that is how allocation learns which orders it touches).
class StockTx {
 public:
  StockTx(const PartsRepository& repo, const LocationDirectory& locations,
          std::set<std::string> locked, absl::Time now,
          std::shared_ptr<const v1::PartsPolicy> policy);

  static std::string SkuLock(absl::string_view sku);
  static std::string OrderLock(absl::string_view order_id);

  absl::Time now() const { return now_; }
  const v1::PartsPolicy& policy() const { return *policy_; }
  const PartsRepository& repo() const { return repo_; }
  const LocationDirectory& locations() const { return locations_; }

  // ---- locks ----
  bool Holds(const std::string& key) const { return locked_.count(key) > 0; }
  // False (and `key` noted as missing) unless held.
  bool Require(const std::string& key);
  bool retry() const { return !missing_.empty(); }
  const std::set<std::string>& missing() const { return missing_; }

  // ---- reads through the overlay ----
  // The level, or a zero level (with the location's kind/region) if none.
  absl::StatusOr<v1::StockLevel> Stock(const std::string& location_id, const std::string& sku);
  // Every level of the SKU (stored or created in this transaction).
  absl::StatusOr<std::vector<v1::StockLevel>> StockOfSku(const std::string& sku);
  absl::StatusOr<std::optional<v1::Reservation>> Reservation(const std::string& id);
  absl::StatusOr<std::optional<v1::Backorder>> Backorder(const std::string& id);
  absl::StatusOr<std::optional<v1::StockTransfer>> Transfer(const std::string& id);
  absl::StatusOr<v1::PartsOrderSkuSlot> Slot(const std::string& order_id, const std::string& sku);
  // The order's record, or a new one with only the id.
  absl::StatusOr<v1::PartsOrderRecord> Order(const std::string& order_id);
  absl::StatusOr<v1::SkuSummary> Ledger(const std::string& sku);
  // WAITING backorders of the SKU in queue order (at most `limit` stored).
  absl::StatusOr<std::vector<v1::Backorder>> WaitingBackorders(const std::string& sku,
                                                               size_t limit);
  absl::StatusOr<std::vector<v1::Reservation>> OrderReservations(const std::string& order_id);
  absl::StatusOr<std::vector<v1::Backorder>> OrderBackorders(const std::string& order_id);

  // ---- the one stock mutation ----
  // Moves (location, sku) by `movement` of `quantity`; FAILED_PRECONDITION
  // if the result would break the invariant (nothing changes then).
  absl::Status Move(const std::string& location_id, const std::string& sku,
                    domain::Movement movement, int64_t quantity);
  // Reorder settings of a level (no counts change).
  absl::Status SetReorder(const std::string& location_id, const std::string& sku,
                          int64_t reorder_point, int64_t reorder_qty);

  // ---- writes ----
  absl::Status Put(const v1::Reservation& r);
  absl::Status Put(const v1::Backorder& b);
  absl::Status PutSlot(const std::string& order_id, const std::string& sku,
                       const v1::PartsOrderSkuSlot& slot);
  absl::Status Put(const v1::PartsOrderRecord& order);
  // Ledger counters other than stock totals (reserve requests, ...).
  absl::Status PutLedger(const v1::SkuSummary& ledger);
  void Put(const v1::Consumption& c);
  void Put(const v1::Receipt& r);
  void Put(const v1::Adjustment& a);
  absl::Status Put(const v1::StockTransfer& t);
  void Remember(const std::string& idempotency_key, const std::string& fingerprint,
                const std::string& resource_id);
  // An event about `subject_id` produced by "parts" at now().
  v1::Event& Emit(const std::string& subject_id);

  TxEffects& effects() { return effects_; }
  const TxEffects& effects() const { return effects_; }

  // Writes everything into `batch`; INTERNAL (and nothing written) if a
  // changed level or ledger breaks its invariant.
  absl::Status Stage(store::Batch& batch);

 private:
  template <typename R>
  struct Overlay {
    struct Entry {
      std::optional<R> original;
      std::optional<R> current;
      bool dirty = false;
    };
    const store::Table<R>* table = nullptr;
    std::map<std::string, Entry> entries;
    absl::StatusOr<std::optional<R>> Get(const std::string& key);
    absl::Status Put(const std::string& key, const R& value);
  };

  const PartsRepository& repo_;
  const LocationDirectory& locations_;
  const std::set<std::string> locked_;
  std::set<std::string> missing_;
  const absl::Time now_;
  const std::shared_ptr<const v1::PartsPolicy> policy_;

  Overlay<v1::StockLevel> stock_;
  Overlay<v1::Reservation> reservations_;
  Overlay<v1::Backorder> backorders_;
  Overlay<v1::StockTransfer> transfers_;
  Overlay<v1::PartsOrderSkuSlot> slots_;
  Overlay<v1::PartsOrderRecord> orders_;
  Overlay<v1::SkuSummary> ledgers_;
  std::vector<v1::Consumption> new_consumptions_;
  std::vector<v1::Receipt> new_receipts_;
  std::vector<v1::Adjustment> new_adjustments_;
  struct Remembered {
    std::string key, fingerprint, resource_id;
  };
  std::vector<Remembered> remembered_;
  std::deque<v1::Event> events_;  // stable references for Emit()
  TxEffects effects_;
};

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_STOCK_TX_H_
