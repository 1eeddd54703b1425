#include "dispatch/domain/awaiting.h"

#include "rpc/rpc.h"

namespace aftersales::dispatch::domain {

v1::DispatchOrder AwaitAssignment(const v1::WorkOrder& order, uint64_t event_seq,
                                  absl::Time now) {
  v1::DispatchOrder d;
  d.set_order_id(order.order_id());
  d.set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
  d.set_priority(order.priority());
  *d.mutable_service_area() = order.service_area();
  d.set_appliance_category(order.appliance().category());
  *d.mutable_order_created_at() = order.created_at();
  *d.mutable_received_at() = rpc::ToProto(now);
  d.set_source_event_seq(event_seq);
  return d;
}

}  // namespace aftersales::dispatch::domain
