#ifndef AFTERSALES_SERVICES_INTAKE_DOMAIN_ORDER_H_
#define AFTERSALES_SERVICES_INTAKE_DOMAIN_ORDER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/intake.pb.h"

// Work-order rules as pure functions of records and a given time: no I/O,
// no clock reads, no gRPC types.
namespace aftersales::intake::domain {

// OK, or INVALID_ARGUMENT naming the first bad field ("appliance.serial: ...").
// `now` bounds dates (purchase date not in the future, window in the future).
absl::Status ValidateCreateOrder(const v1::CreateOrderRequest& request,
                                 absl::Time now);

// The order a valid request opens at `now`, created by `principal_id`
// (state CREATED; priority, clocks and rework links are set by the caller).
v1::WorkOrder NewOrder(const v1::CreateOrderRequest& request,
                       const std::string& order_id,
                       const std::string& principal_id, absl::Time now);

// The event announcing `order`, without its contact PII.
v1::Event OrderCreatedEvent(const v1::WorkOrder& order, absl::Time now);

// "13812345678" -> "138****5678"; short numbers keep only their last 2 digits.
std::string MaskPhone(const std::string& phone);
// "Zhang San" -> "Z********"; Chinese "张三" -> "张*".
std::string MaskName(const std::string& name);

// The earlier order a new fault on this serial reworks: the most recently
// repaired one within `window` before `now` (SPEC §2.1), if any.
std::optional<v1::WorkOrder> ReworkOf(const std::vector<v1::WorkOrder>& same_serial,
                                      absl::Time now, absl::Duration window);
// An open order on the same serial, which a new request is linked to.
std::optional<v1::WorkOrder> OpenOrderOf(const std::vector<v1::WorkOrder>& same_serial);

}  // namespace aftersales::intake::domain

#endif  // AFTERSALES_SERVICES_INTAKE_DOMAIN_ORDER_H_
