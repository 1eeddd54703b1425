#ifndef AFTERSALES_TESTS_SUPPORT_ORDER_DRIVER_H_
#define AFTERSALES_TESTS_SUPPORT_ORDER_DRIVER_H_

#include <string>

#include "absl/time/time.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "support/event_producer.h"
#include "support/test_support.h"

namespace aftersales::testing {

// A loopback port nobody listens on right now (for a process that must be
// told its port before it starts, e.g. a peer wired both ways).
int FreeLoopbackPort();

// Takes a just-created order to CONFIRMED the way the field would: dispatch
// (scripted by `dispatch`) announces E1 of partner PA accepted with `eta`,
// then the engineer reports contact, arrival, diagnosis and a first-visit
// fix and the app confirms. Client event ids derive from `request_id`.
// REQUIREs every step; returns the confirmed order as intake reports it.
v1::WorkOrder DriveToConfirmed(v1::IntakeService::Stub& orders, const TestTokens& tokens,
                               EventProducer& dispatch, const std::string& order_id,
                               const std::string& request_id, absl::Time eta);

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_SUPPORT_ORDER_DRIVER_H_
