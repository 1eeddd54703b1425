#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_BACKGROUND_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_BACKGROUND_H_

#include "absl/status/status.h"
#include "aftersales/v1/events.pb.h"
#include "intake/intake_core.h"
#include "store/store.h"

namespace aftersales::intake {

// Effects of other services' events on orders (DESIGN.md event table). Each
// stages into the consumer's batch, which commits with the cursor.
absl::Status ApplyDispatchEvent(IntakeCore& core, const v1::Event& event,
                                store::Batch& batch);
absl::Status ApplyPartsEvent(IntakeCore& core, const v1::Event& event,
                             store::Batch& batch);
absl::Status ApplyComplaintEvent(IntakeCore& core, const v1::Event& event,
                                 store::Batch& batch);
absl::Status ApplySatisfactionEvent(IntakeCore& core, const v1::Event& event,
                                    store::Batch& batch);

// One pass of the SLA sweeper at the service clock's now: every order whose
// next check is due (from the deadline index, never a scan of all orders)
// gets its at-risk/breach events. Returns how many orders it swept.
absl::StatusOr<int> SweepDueOrders(IntakeCore& core);

// The sweeper loop: sweeps, then waits on the service clock (so a manual
// clock moved forward wakes it at once) until the next due time or 250 ms.
void RunSweeper(IntakeCore& core);

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_BACKGROUND_H_
