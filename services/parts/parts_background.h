#ifndef AFTERSALES_SERVICES_PARTS_PARTS_BACKGROUND_H_
#define AFTERSALES_SERVICES_PARTS_PARTS_BACKGROUND_H_

#include "absl/status/status.h"
#include "clock/stop_signal.h"
#include "parts/parts_core.h"

namespace aftersales::parts {

// Expires every reservation already due, in passes of the expiry index
// (never a scan of all reservations). Called once at start-up before the
// service serves, so reservations that expired while it was down are
// released first.
absl::Status ExpireAllDue(PartsCore& core);

// The expiry sweeper: expires due reservations, then sleeps until the next
// expiry in the index (at most a minute); a manual clock moved forward wakes
// it at once. Returns soon after `stop` fires.
void RunExpirySweeper(PartsCore& core, StopSignal& stop);

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_PARTS_BACKGROUND_H_
