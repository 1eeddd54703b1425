#ifndef AFTERSALES_LIBS_CLOCK_CLOCK_H_
#define AFTERSALES_LIBS_CLOCK_CLOCK_H_

#include "absl/strings/string_view.h"
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace aftersales {

// The one source of "now" in a service: every domain decision and every timer
// (sweeps, offer timeouts, survey due dates) reads it, so a test or a
// simulation that moves a ManualClock moves the whole service. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() const = 0;

  // Blocks until Now() >= deadline, Shutdown() was called, or `max_real_wait`
  // of real time has passed, whichever comes first. Returns true iff the
  // deadline has been reached. Timers loop on this so a manual clock that
  // jumps forward wakes them at once.
  virtual bool WaitUntil(absl::Time deadline, absl::Duration max_real_wait) = 0;

  // Wakes every waiter; later waits return at once. Used at service shutdown.
  virtual void Shutdown() = 0;
  virtual bool IsShutdown() const = 0;

  // True for a ManualClock (only then is the ClockAdmin RPC served).
  virtual bool manual() const = 0;
};

// Real time (absl::Now()).
class RealClock final : public Clock {
 public:
  absl::Time Now() const override;
  bool WaitUntil(absl::Time deadline, absl::Duration max_real_wait) override;
  void Shutdown() override;
  bool IsShutdown() const override;
  bool manual() const override { return false; }

 private:
  mutable absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

// Time that moves only through SetTime/Advance. Never goes backwards.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start);

  absl::Time Now() const override;
  bool WaitUntil(absl::Time deadline, absl::Duration max_real_wait) override;
  void Shutdown() override;
  bool IsShutdown() const override;
  bool manual() const override { return true; }

  // FAILED_PRECONDITION if `now` is before the current time.
  absl::Status SetTime(absl::Time now);
  // INVALID_ARGUMENT if `by` is negative.
  absl::Status Advance(absl::Duration by);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
};

// "real" or "manual" (starting at `manual_start`); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::unique_ptr<Clock>> MakeClock(absl::string_view kind,
                                                 absl::Time manual_start);

}  // namespace aftersales

#endif  // AFTERSALES_LIBS_CLOCK_CLOCK_H_
