#ifndef AFTERSALES_LIBS_CLOCK_STOP_SIGNAL_H_
#define AFTERSALES_LIBS_CLOCK_STOP_SIGNAL_H_

#include <functional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace aftersales {

// Tells a service's long-running loops (event streams, consumers, sweeps)
// that it is shutting down. Waits here are in real time: they pace retries
// and polls, never domain deadlines (those use Clock). Thread-safe.
class StopSignal {
 public:
  // Idempotent. Runs the OnStop callbacks once, outside the lock.
  void Stop();
  bool stopped() const;
  // Sleeps up to `d` of real time; returns true if stopped.
  bool WaitFor(absl::Duration d) const;
  // Runs `fn` when Stop() is called, or at once if it already was. `fn` must
  // stay valid until then (owners outlive the signal's Stop()).
  void OnStop(std::function<void()> fn);

 private:
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> callbacks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aftersales

#endif  // AFTERSALES_LIBS_CLOCK_STOP_SIGNAL_H_
