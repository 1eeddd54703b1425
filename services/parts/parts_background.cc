#include "parts/parts_background.h"

#include <iostream>

namespace aftersales::parts {
namespace {
constexpr size_t kSweepBatch = 500;
}  // namespace

absl::Status ExpireAllDue(PartsCore& core) {
  while (true) {
    auto due = core.ExpireDue(kSweepBatch);
    if (!due.ok()) return due.status();
    if (static_cast<size_t>(*due) < kSweepBatch) return absl::OkStatus();
  }
}

void RunExpirySweeper(PartsCore& core, StopSignal& stop) {
  Clock& clock = core.clock();
  while (!stop.stopped()) {
    auto due = core.ExpireDue(kSweepBatch);
    if (!due.ok()) {
      std::cerr << "parts: expiry sweep failed: " << due.status() << std::endl;
      stop.WaitFor(absl::Seconds(1));  // pace retries of a failing store
      continue;
    } else if (static_cast<size_t>(*due) == kSweepBatch) {
      continue;  // more are due right now
    }
    absl::Time wake = clock.Now() + absl::Minutes(1);
    auto next = core.NextExpiry();
    if (next.ok() && *next < wake) wake = *next;
    // New reservations expire no sooner than a TTL (>= 1 min) from now, so
    // waking at the earliest stored expiry (or in a minute) misses none.
    clock.WaitUntil(wake, absl::Milliseconds(250));
  }
}

}  // namespace aftersales::parts
