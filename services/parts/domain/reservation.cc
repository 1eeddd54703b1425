#include "parts/domain/reservation.h"

#include "absl/strings/str_cat.h"
#include "parts/domain/policy.h"
#include "rpc/rpc.h"

namespace aftersales::parts::domain {
namespace {

absl::Status NotActive(const v1::Reservation& r) {
  return absl::FailedPreconditionError(absl::StrCat(
      "reservation_id: reservation is ", v1::ReservationState_Name(r.state())));
}

}  // namespace

int64_t Remaining(const v1::Reservation& r) {
  if (r.state() != v1::RESERVATION_STATE_ACTIVE) return 0;
  return r.quantity() - r.consumed_quantity();
}

bool IsOpen(const v1::Reservation& r) { return r.state() == v1::RESERVATION_STATE_ACTIVE; }
bool IsOpen(const v1::Backorder& b) { return b.state() == v1::BACKORDER_STATE_WAITING; }

bool IsExpired(const v1::Reservation& r, absl::Time now) {
  return IsOpen(r) && r.has_expires_at() && now >= rpc::FromProto(r.expires_at());
}

v1::Priority EffectivePriority(v1::Priority p) {
  return p == v1::PRIORITY_UNSPECIFIED ? v1::PRIORITY_NORMAL : p;
}

v1::Reservation NewReservation(const ReservationSpec& spec, const Ranked& at,
                               const v1::PartsPolicy& policy, absl::Time now) {
  v1::Reservation r;
  r.set_reservation_id(spec.reservation_id);
  r.set_order_id(spec.order_id);
  r.set_sku(spec.sku);
  r.set_quantity(spec.quantity);
  r.set_location_id(at.location.location_id());
  r.set_state(v1::RESERVATION_STATE_ACTIVE);
  *r.mutable_created_at() = rpc::ToProto(now);
  *r.mutable_expires_at() = rpc::ToProto(now + ReservationTtl(policy));
  if (spec.needed_by.seconds() != 0 || spec.needed_by.nanos() != 0) {
    *r.mutable_needed_by() = spec.needed_by;
  }
  r.set_priority(EffectivePriority(spec.priority));
  r.set_from_backorder_id(spec.from_backorder_id);
  r.set_distance_km(at.distance_km);
  r.set_engineer_id(spec.need.engineer_id);
  *r.mutable_policy() = policy.ref();
  r.set_region_code(spec.need.region_code);
  *r.mutable_near() = spec.need.near;
  return r;
}

v1::Backorder NewBackorder(const std::string& backorder_id, const ReservationSpec& spec,
                           const v1::PartsPolicy& policy, absl::Time now) {
  v1::Backorder b;
  b.set_backorder_id(backorder_id);
  b.set_order_id(spec.order_id);
  b.set_sku(spec.sku);
  b.set_quantity(spec.quantity);
  b.set_priority(EffectivePriority(spec.priority));
  *b.mutable_queued_at() = rpc::ToProto(now);
  if (spec.needed_by.seconds() != 0 || spec.needed_by.nanos() != 0) {
    *b.mutable_needed_by() = spec.needed_by;
  }
  b.set_state(v1::BACKORDER_STATE_WAITING);
  *b.mutable_near() = spec.need.near;
  b.set_region_code(spec.need.region_code);
  b.set_engineer_id(spec.need.engineer_id);
  *b.mutable_policy() = policy.ref();
  return b;
}

absl::StatusOr<v1::Reservation> Release(const v1::Reservation& r, v1::ReleaseReason reason,
                                        absl::Time now) {
  if (!IsOpen(r)) return NotActive(r);
  v1::Reservation next = r;
  next.set_state(v1::RESERVATION_STATE_RELEASED);
  next.set_release_reason(reason == v1::RELEASE_REASON_UNSPECIFIED ? v1::RELEASE_REASON_MANUAL
                                                                   : reason);
  *next.mutable_closed_at() = rpc::ToProto(now);
  return next;
}

absl::StatusOr<v1::Reservation> Expire(const v1::Reservation& r, absl::Time now) {
  if (!IsOpen(r)) return NotActive(r);
  if (!IsExpired(r, now)) {
    return absl::FailedPreconditionError("reservation_id: reservation has not expired");
  }
  v1::Reservation next = r;
  next.set_state(v1::RESERVATION_STATE_EXPIRED);
  *next.mutable_closed_at() = rpc::ToProto(now);
  return next;
}

absl::StatusOr<Consumed> Consume(const v1::Reservation& r, int64_t quantity, absl::Time now) {
  if (!IsOpen(r)) return NotActive(r);
  if (IsExpired(r, now)) {
    return absl::FailedPreconditionError("reservation_id: reservation has expired");
  }
  const int64_t remaining = Remaining(r);
  if (quantity < 0) return absl::InvalidArgumentError("quantity: must not be negative");
  const int64_t q = quantity == 0 ? remaining : quantity;
  if (q > remaining) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity: reservation holds only ", remaining, " more"));
  }
  Consumed out;
  out.quantity = q;
  out.reservation = r;
  out.reservation.set_consumed_quantity(r.consumed_quantity() + q);
  if (out.reservation.consumed_quantity() == r.quantity()) {
    out.reservation.set_state(v1::RESERVATION_STATE_CONSUMED);
    *out.reservation.mutable_closed_at() = rpc::ToProto(now);
  }
  return out;
}

absl::StatusOr<v1::Backorder> Allocate(const v1::Backorder& b,
                                       const std::string& reservation_id, absl::Time now) {
  if (!IsOpen(b)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backorder is ", v1::BackorderState_Name(b.state())));
  }
  v1::Backorder next = b;
  next.set_state(v1::BACKORDER_STATE_ALLOCATED);
  next.set_allocated_reservation_id(reservation_id);
  *next.mutable_allocated_at() = rpc::ToProto(now);
  *next.mutable_closed_at() = rpc::ToProto(now);
  return next;
}

absl::StatusOr<v1::Backorder> Cancel(const v1::Backorder& b, v1::ReleaseReason reason,
                                     absl::Time now) {
  if (!IsOpen(b)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backorder is ", v1::BackorderState_Name(b.state())));
  }
  v1::Backorder next = b;
  next.set_state(v1::BACKORDER_STATE_CANCELLED);
  next.set_cancel_reason(reason == v1::RELEASE_REASON_UNSPECIFIED ? v1::RELEASE_REASON_MANUAL
                                                                  : reason);
  *next.mutable_closed_at() = rpc::ToProto(now);
  return next;
}

bool BackorderPrecedes(const v1::Backorder& a, const v1::Backorder& b) {
  const int pa = EffectivePriority(a.priority()), pb = EffectivePriority(b.priority());
  if (pa != pb) return pa > pb;
  const absl::Time ta = rpc::FromProto(a.queued_at()), tb = rpc::FromProto(b.queued_at());
  if (ta != tb) return ta < tb;
  return a.backorder_id() < b.backorder_id();
}

std::vector<size_t> PlanAllocation(const std::vector<v1::Backorder>& queue,
                                   const std::vector<bool>& eligible, int64_t available) {
  std::vector<size_t> chosen;
  for (size_t i = 0; i < queue.size() && available > 0; ++i) {
    if (i < eligible.size() && !eligible[i]) continue;
    if (!IsOpen(queue[i]) || queue[i].quantity() > available) continue;
    chosen.push_back(i);
    available -= queue[i].quantity();
  }
  return chosen;
}

}  // namespace aftersales::parts::domain
