#ifndef AFTERSALES_SERVICES_PARTS_DOMAIN_STOCK_H_
#define AFTERSALES_SERVICES_PARTS_DOMAIN_STOCK_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/parts.pb.h"

// Stock arithmetic and its invariants (SPEC §4). Every change of a stock
// level in the service goes through ApplyStockDelta: it refuses (with
// FAILED_PRECONDITION) any result with a negative count or with
// available = on_hand - reserved < 0, so a level that breaks the invariant
// can never be computed, let alone stored. The per-SKU ledger moves by the
// same deltas and must conserve units:
//   on_hand + in_transit == received - consumed + adjusted.
namespace aftersales::parts::domain {

// A signed change of one (location, SKU) level.
struct StockDelta {
  int64_t on_hand = 0;
  int64_t reserved = 0;
  int64_t in_transit = 0;
};

// Why a movement happens; decides how the ledger counts it.
enum class Movement {
  kReceive,         // on_hand +q; ledger received +q
  kAdjust,          // on_hand +-q; ledger adjusted +-q
  kReserve,         // reserved +q
  kUnreserve,       // reserved -q (release, expiry)
  kConsume,         // on_hand -q, reserved -q; ledger consumed +q
  kShip,            // source on_hand -q (transfer out)
  kExpectTransfer,  // destination in_transit +q
  kReceiveTransfer, // destination in_transit -q, on_hand +q
};

// The delta a movement of `quantity` (> 0; for kAdjust signed, non-zero)
// makes to a level.
StockDelta DeltaOf(Movement movement, int64_t quantity);

// OK iff on_hand, reserved, in_transit >= 0, reserved <= on_hand and
// available == on_hand - reserved. INTERNAL "stock invariant broken: ..."
// otherwise (a stored level that fails this is corruption, not bad input).
absl::Status CheckStockLevel(const v1::StockLevel& level);

// `level` moved by `delta` at `now` (version +1, available recomputed), or
// FAILED_PRECONDITION naming what would go negative, e.g. "quantity: only 2
// available at OUT-1 for SKU-9" — the result is never produced.
absl::StatusOr<v1::StockLevel> ApplyStockDelta(const v1::StockLevel& level,
                                               const StockDelta& delta, absl::Time now);

// Low stock: a reorder point is set and available is below it.
bool IsLow(const v1::StockLevel& level);

// OK iff the ledger's totals are non-negative, reserved <= on_hand and units
// are conserved (see above); INTERNAL otherwise.
absl::Status CheckLedger(const v1::SkuSummary& ledger);

// Moves the ledger by one level's delta for `movement` (totals, received /
// consumed / adjusted counters), recomputing available and fill rate.
void ApplyToLedger(v1::SkuSummary& ledger, Movement movement, const StockDelta& delta);

// reserved_immediately / reserve_requests, 1 when there were none.
double FillRate(const v1::SkuSummary& ledger);

}  // namespace aftersales::parts::domain

#endif  // AFTERSALES_SERVICES_PARTS_DOMAIN_STOCK_H_
