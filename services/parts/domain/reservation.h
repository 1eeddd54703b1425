#ifndef AFTERSALES_SERVICES_PARTS_DOMAIN_RESERVATION_H_
#define AFTERSALES_SERVICES_PARTS_DOMAIN_RESERVATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/parts.pb.h"
#include "parts/domain/placement.h"

// Reservations and backorders as pure state machines (SPEC §4):
//   reservation ACTIVE -> CONSUMED (all units consumed) | RELEASED | EXPIRED
//   backorder   WAITING -> ALLOCATED (became a reservation) | CANCELLED
// Backorders queue by order priority (higher first), then age (older
// first), then id.
namespace aftersales::parts::domain {

// Units an ACTIVE reservation still holds (0 once closed).
int64_t Remaining(const v1::Reservation& r);

bool IsOpen(const v1::Reservation& r);
bool IsOpen(const v1::Backorder& b);

// ACTIVE and its expiry has come.
bool IsExpired(const v1::Reservation& r, absl::Time now);

// UNSPECIFIED counts as NORMAL.
v1::Priority EffectivePriority(v1::Priority p);

struct ReservationSpec {
  std::string reservation_id, order_id, sku;
  int64_t quantity = 0;
  Need need;
  google::protobuf::Timestamp needed_by;  // unset = none
  v1::Priority priority = v1::PRIORITY_NORMAL;
  std::string from_backorder_id;
};

// A new ACTIVE reservation at `at`, expiring at now + policy TTL.
v1::Reservation NewReservation(const ReservationSpec& spec, const Ranked& at,
                               const v1::PartsPolicy& policy, absl::Time now);

// A new WAITING backorder queued at `now`.
v1::Backorder NewBackorder(const std::string& backorder_id, const ReservationSpec& spec,
                           const v1::PartsPolicy& policy, absl::Time now);

// ACTIVE -> RELEASED (with reason) or EXPIRED; FAILED_PRECONDITION naming
// the state otherwise.
absl::StatusOr<v1::Reservation> Release(const v1::Reservation& r, v1::ReleaseReason reason,
                                        absl::Time now);
absl::StatusOr<v1::Reservation> Expire(const v1::Reservation& r, absl::Time now);

struct Consumed {
  v1::Reservation reservation;  // after: CONSUMED once every unit is used
  int64_t quantity = 0;         // units consumed now
};
// Consumes `quantity` units (0 = all remaining) of an ACTIVE, unexpired
// reservation. FAILED_PRECONDITION when not ACTIVE or expired;
// INVALID_ARGUMENT "quantity: ..." beyond what it holds.
absl::StatusOr<Consumed> Consume(const v1::Reservation& r, int64_t quantity, absl::Time now);

// WAITING -> ALLOCATED / CANCELLED; FAILED_PRECONDITION otherwise.
absl::StatusOr<v1::Backorder> Allocate(const v1::Backorder& b,
                                       const std::string& reservation_id, absl::Time now);
absl::StatusOr<v1::Backorder> Cancel(const v1::Backorder& b, v1::ReleaseReason reason,
                                     absl::Time now);

// Queue order: a before b.
bool BackorderPrecedes(const v1::Backorder& a, const v1::Backorder& b);

// Which backorders (indices into `queue`, which is in queue order) a
// location with `available` units fills now: each eligible backorder in
// turn whose whole quantity still fits. Decision — a backorder too big for
// what arrived does not hold back smaller ones behind it (no idle stock);
// it keeps its place for the next receipt.
std::vector<size_t> PlanAllocation(const std::vector<v1::Backorder>& queue,
                                   const std::vector<bool>& eligible, int64_t available);

}  // namespace aftersales::parts::domain

#endif  // AFTERSALES_SERVICES_PARTS_DOMAIN_RESERVATION_H_
