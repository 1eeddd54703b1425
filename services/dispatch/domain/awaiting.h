#ifndef AFTERSALES_SERVICES_DISPATCH_DOMAIN_AWAITING_H_
#define AFTERSALES_SERVICES_DISPATCH_DOMAIN_AWAITING_H_

#include <cstdint>

#include "absl/time/time.h"
#include "aftersales/v1/dispatch.pb.h"
#include "aftersales/v1/intake.pb.h"

namespace aftersales::dispatch::domain {

// Dispatch's record of a newly created order: it waits for an engineer.
// `event_seq` is intake's event that announced it; `now` when dispatch heard.
v1::DispatchOrder AwaitAssignment(const v1::WorkOrder& order, uint64_t event_seq,
                                  absl::Time now);

}  // namespace aftersales::dispatch::domain

#endif  // AFTERSALES_SERVICES_DISPATCH_DOMAIN_AWAITING_H_
