#ifndef AFTERSALES_LIBS_STORE_KEY_LOCKS_H_
#define AFTERSALES_LIBS_STORE_KEY_LOCKS_H_

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace aftersales::store {

// Striped locks that make a read-check-write on a few keys atomic (e.g. "is
// this request id new? then create the order") without serializing unrelated
// requests, so their synced commits still share one WAL sync.
class KeyLocks {
 public:
  class Guard {
   public:
    Guard(Guard&& other) noexcept;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard();

   private:
    friend class KeyLocks;
    Guard(KeyLocks* owner, std::vector<size_t> stripes);
    KeyLocks* owner_;
    std::vector<size_t> stripes_;
  };

  // Locks every key's stripe (in a fixed order, so no deadlock) until the
  // guard dies. Keys that share a stripe are simply locked once. The guard
  // may die on another thread than the one that locked (a batch committed
  // with Store::CommitAsync releases its locks on the committer thread).
  Guard Lock(const std::vector<std::string>& keys);

 private:
  // A binary semaphore, not a bare mutex: absl::Mutex must be unlocked by
  // the thread that locked it.
  struct Stripe {
    absl::Mutex mu;
    bool held ABSL_GUARDED_BY(mu) = false;
  };
  static constexpr size_t kStripes = 1024;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_KEY_LOCKS_H_
