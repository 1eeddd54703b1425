#include "intake/domain/order.h"

#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::intake::domain {

absl::Status ValidateCreateOrder(const v1::CreateOrderRequest& r) {
  const auto& area = r.service_area();
  return rpc::Validator()
      .Id("request_id", r.request_id(), 128)
      .Enum("channel", r.channel(),
            v1::Channel_IsValid(r.channel()))
      .Id("customer_id", r.customer_id(), 64)
      .Check("service_area", r.has_service_area(), "required")
      .Id("service_area.region_code", area.region_code(), 32)
      .Range("service_area.city_tier", area.city_tier(), 1, 3)
      .Range("service_area.location.lat_deg", area.location().lat_deg(), -90, 90)
      .Range("service_area.location.lng_deg", area.location().lng_deg(), -180, 180)
      .Check("appliance", r.has_appliance(), "required")
      .Id("appliance.category", r.appliance().category(), 32)
      .Text("appliance.brand", r.appliance().brand(), 64, false)
      .Text("appliance.model", r.appliance().model(), 64, false)
      .Id("appliance.serial", r.appliance().serial(), 64)
      .Check("fault", r.has_fault(), "required")
      .Text("fault.description", r.fault().description(), 4000, true)
      .Text("fault.fault_code", r.fault().fault_code(), 32, false)
      .status();
}

v1::WorkOrder NewOrder(const v1::CreateOrderRequest& request,
                       const std::string& order_id,
                       const std::string& principal_id, absl::Time now) {
  v1::WorkOrder order;
  order.set_order_id(order_id);
  order.set_state(v1::ORDER_STATE_CREATED);
  // Priority rules (SPEC §2.2) arrive with the intake issue; until then every
  // order starts NORMAL.
  order.set_priority(v1::PRIORITY_NORMAL);
  order.set_channel(request.channel());
  order.set_customer_id(request.customer_id());
  *order.mutable_service_area() = request.service_area();
  *order.mutable_appliance() = request.appliance();
  *order.mutable_fault() = request.fault();
  *order.mutable_created_at() = rpc::ToProto(now);
  order.set_created_by(principal_id);
  return order;
}

v1::Event OrderCreatedEvent(const v1::WorkOrder& order, absl::Time now) {
  v1::Event event;
  event.set_producer("intake");
  *event.mutable_occurred_at() = rpc::ToProto(now);
  event.set_subject_id(order.order_id());
  *event.mutable_order_created()->mutable_order() = order;
  return event;
}

}  // namespace aftersales::intake::domain
