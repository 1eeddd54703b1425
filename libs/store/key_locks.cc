#include "store/key_locks.h"

#include <algorithm>

#include "absl/hash/hash.h"

namespace aftersales::store {

KeyLocks::Guard::Guard(KeyLocks* owner, std::vector<size_t> stripes)
    : owner_(owner), stripes_(std::move(stripes)) {}

KeyLocks::Guard::Guard(Guard&& other) noexcept
    : owner_(other.owner_), stripes_(std::move(other.stripes_)) {
  other.stripes_.clear();
}

KeyLocks::Guard::~Guard() {
  for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) {
    Stripe& stripe = owner_->stripes_[*it];
    absl::MutexLock lock(&stripe.mu);
    stripe.held = false;
  }
}

KeyLocks::Guard KeyLocks::Lock(const std::vector<std::string>& keys) {
  std::vector<size_t> stripes;
  stripes.reserve(keys.size());
  for (const std::string& k : keys) {
    stripes.push_back(absl::HashOf(k) % kStripes);
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t s : stripes) {
    Stripe& stripe = stripes_[s];
    stripe.mu.LockWhen(absl::Condition(
        +[](bool* held) { return !*held; }, &stripe.held));
    stripe.held = true;
    stripe.mu.Unlock();
  }
  return Guard(this, std::move(stripes));
}

}  // namespace aftersales::store
