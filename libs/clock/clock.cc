#include "clock/clock.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace aftersales {

absl::Time RealClock::Now() const { return absl::Now(); }

bool RealClock::WaitUntil(absl::Time deadline, absl::Duration max_real_wait) {
  const absl::Time wake = std::min(deadline, absl::Now() + max_real_wait);
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithDeadline(absl::Condition(&shutdown_), wake);
  return absl::Now() >= deadline;
}

void RealClock::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
}

bool RealClock::IsShutdown() const {
  absl::MutexLock lock(&mu_);
  return shutdown_;
}

ManualClock::ManualClock(absl::Time start) : now_(start) {}

absl::Time ManualClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

bool ManualClock::WaitUntil(absl::Time deadline, absl::Duration max_real_wait) {
  absl::MutexLock lock(&mu_);
  auto reached_or_stopped = [this, deadline]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return shutdown_ || now_ >= deadline;
  };
  mu_.AwaitWithTimeout(absl::Condition(&reached_or_stopped), max_real_wait);
  return now_ >= deadline;
}

void ManualClock::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
}

bool ManualClock::IsShutdown() const {
  absl::MutexLock lock(&mu_);
  return shutdown_;
}

absl::Status ManualClock::SetTime(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now < now_) {
    return absl::FailedPreconditionError(
        absl::StrCat("clock cannot move backwards: now is ",
                     absl::FormatTime(now_), ", asked for ",
                     absl::FormatTime(now)));
  }
  now_ = now;
  return absl::OkStatus();
}

absl::Status ManualClock::Advance(absl::Duration by) {
  if (by < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("by: must not be negative");
  }
  absl::MutexLock lock(&mu_);
  now_ += by;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Clock>> MakeClock(absl::string_view kind,
                                                 absl::Time manual_start) {
  if (kind == "real") return std::make_unique<RealClock>();
  if (kind == "manual") return std::make_unique<ManualClock>(manual_start);
  return absl::InvalidArgumentError(
      absl::StrCat("clock: must be \"real\" or \"manual\", got \"", kind, "\""));
}

}  // namespace aftersales
