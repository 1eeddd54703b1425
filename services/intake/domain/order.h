#ifndef AFTERSALES_SERVICES_INTAKE_DOMAIN_ORDER_H_
#define AFTERSALES_SERVICES_INTAKE_DOMAIN_ORDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/intake.pb.h"

// Work-order rules as pure functions of records and a given time: no I/O,
// no clock reads, no gRPC types.
namespace aftersales::intake::domain {

// OK, or INVALID_ARGUMENT naming the first bad field ("appliance.serial: ...").
absl::Status ValidateCreateOrder(const v1::CreateOrderRequest& request);

// The order a valid request opens at `now`, created by `principal_id`.
v1::WorkOrder NewOrder(const v1::CreateOrderRequest& request,
                       const std::string& order_id,
                       const std::string& principal_id, absl::Time now);

// The event announcing `order`, in the same batch as the order itself.
v1::Event OrderCreatedEvent(const v1::WorkOrder& order, absl::Time now);

}  // namespace aftersales::intake::domain

#endif  // AFTERSALES_SERVICES_INTAKE_DOMAIN_ORDER_H_
