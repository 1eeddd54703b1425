#include "clock/stop_signal.h"

namespace aftersales {

void StopSignal::Stop() {
  std::vector<std::function<void()>> callbacks;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    callbacks.swap(callbacks_);
  }
  for (auto& fn : callbacks) fn();
}

bool StopSignal::stopped() const {
  absl::MutexLock lock(&mu_);
  return stopped_;
}

bool StopSignal::WaitFor(absl::Duration d) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&stopped_), d);
}

void StopSignal::OnStop(std::function<void()> fn) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopped_) {
      callbacks_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

}  // namespace aftersales
