#include "parts/domain/stock.h"

#include "absl/strings/str_cat.h"
#include "rpc/rpc.h"

namespace aftersales::parts::domain {
namespace {

bool Add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

std::string Where(const v1::StockLevel& level) {
  return absl::StrCat(level.location_id(), " for ", level.sku());
}

}  // namespace

StockDelta DeltaOf(Movement movement, int64_t q) {
  switch (movement) {
    case Movement::kReceive: return {q, 0, 0};
    case Movement::kAdjust: return {q, 0, 0};
    case Movement::kReserve: return {0, q, 0};
    case Movement::kUnreserve: return {0, -q, 0};
    case Movement::kConsume: return {-q, -q, 0};
    case Movement::kShip: return {-q, 0, 0};
    case Movement::kExpectTransfer: return {0, 0, q};
    case Movement::kReceiveTransfer: return {q, 0, -q};
  }
  return {};
}

absl::Status CheckStockLevel(const v1::StockLevel& l) {
  if (l.on_hand() < 0 || l.reserved() < 0 || l.in_transit() < 0 ||
      l.reserved() > l.on_hand() || l.available() != l.on_hand() - l.reserved() ||
      l.reorder_point() < 0 || l.reorder_qty() < 0) {
    return absl::InternalError(absl::StrCat(
        "stock invariant broken at ", Where(l), ": on_hand ", l.on_hand(), ", reserved ",
        l.reserved(), ", in_transit ", l.in_transit(), ", available ", l.available()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::StockLevel> ApplyStockDelta(const v1::StockLevel& level,
                                               const StockDelta& d, absl::Time now) {
  if (absl::Status s = CheckStockLevel(level); !s.ok()) return s;
  v1::StockLevel next = level;
  int64_t on_hand = 0, reserved = 0, in_transit = 0;
  if (!Add(level.on_hand(), d.on_hand, &on_hand) ||
      !Add(level.reserved(), d.reserved, &reserved) ||
      !Add(level.in_transit(), d.in_transit, &in_transit)) {
    return absl::OutOfRangeError(absl::StrCat("quantity: stock count overflow at ", Where(level)));
  }
  if (in_transit < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "quantity: only ", level.in_transit(), " in transit to ", Where(level)));
  }
  if (reserved < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("quantity: only ", level.reserved(), " reserved at ", Where(level)));
  }
  if (on_hand < 0 || reserved > on_hand) {
    return absl::FailedPreconditionError(
        absl::StrCat("quantity: only ", level.available(), " available at ", Where(level)));
  }
  next.set_on_hand(on_hand);
  next.set_reserved(reserved);
  next.set_in_transit(in_transit);
  next.set_available(on_hand - reserved);
  next.set_version(level.version() + 1);
  *next.mutable_updated_at() = rpc::ToProto(now);
  if (absl::Status s = CheckStockLevel(next); !s.ok()) return s;  // belt and braces
  return next;
}

bool IsLow(const v1::StockLevel& level) {
  return level.reorder_point() > 0 && level.available() < level.reorder_point();
}

absl::Status CheckLedger(const v1::SkuSummary& g) {
  const bool counts_ok = g.received() >= 0 && g.consumed() >= 0 && g.on_hand() >= 0 &&
                         g.reserved() >= 0 && g.in_transit() >= 0 &&
                         g.reserved() <= g.on_hand() &&
                         g.available() == g.on_hand() - g.reserved();
  const bool conserved =
      g.on_hand() + g.in_transit() == g.received() - g.consumed() + g.adjusted();
  if (!counts_ok || !conserved) {
    return absl::InternalError(absl::StrCat(
        "ledger of ", g.sku(), " broken: on_hand ", g.on_hand(), " + in_transit ",
        g.in_transit(), " vs received ", g.received(), " - consumed ", g.consumed(),
        " + adjusted ", g.adjusted(), "; reserved ", g.reserved()));
  }
  return absl::OkStatus();
}

void ApplyToLedger(v1::SkuSummary& g, Movement movement, const StockDelta& d) {
  g.set_on_hand(g.on_hand() + d.on_hand);
  g.set_reserved(g.reserved() + d.reserved);
  g.set_in_transit(g.in_transit() + d.in_transit);
  g.set_available(g.on_hand() - g.reserved());
  switch (movement) {
    case Movement::kReceive: g.set_received(g.received() + d.on_hand); break;
    case Movement::kAdjust: g.set_adjusted(g.adjusted() + d.on_hand); break;
    case Movement::kConsume: g.set_consumed(g.consumed() - d.on_hand); break;
    default: break;
  }
  g.set_fill_rate(FillRate(g));
}

double FillRate(const v1::SkuSummary& g) {
  if (g.reserve_requests() <= 0) return 1.0;
  return static_cast<double>(g.reserved_immediately()) /
         static_cast<double>(g.reserve_requests());
}

}  // namespace aftersales::parts::domain
