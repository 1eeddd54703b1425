#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_PRIVACY_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_PRIVACY_H_

#include "absl/status/status.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/intake.pb.h"
#include "intake/intake_core.h"
#include "store/store.h"

// Customer erasure and consents (SPEC §8). The RPCs themselves are
// IntakeServiceImpl members, defined in intake_privacy.cc.
namespace aftersales::intake {

// An erasure request must complete within this (SPEC §8).
inline constexpr absl::Duration kErasureDeadline = absl::Hours(24);

// The services whose CustomerErased intake waits for: the PII-holding peers
// this intake consumes (complaint, satisfaction). Dispatch and parts hold
// no PII (docs/security.md, data minimisation).
std::vector<std::string> ErasurePeers(const server::ServiceHost& host);

// A peer's CustomerErased: moves the service from pending to done on the
// report (completed when none is pending). Staged into the consumer's batch.
absl::Status ApplyErasureConfirmation(IntakeCore& core, const v1::Event& event,
                                      store::Batch& batch);

// FAILED_PRECONDITION unless photos/video attached to a new order are
// covered by an active PHOTO_VIDEO_CAPTURE consent in the same request.
absl::Status RequireMediaConsent(const v1::CreateOrderRequest& request);

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_PRIVACY_H_
