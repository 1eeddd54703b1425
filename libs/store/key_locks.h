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
  // guard dies. Keys that share a stripe are simply locked once.
  Guard Lock(const std::vector<std::string>& keys);

 private:
  static constexpr size_t kStripes = 1024;
  std::array<absl::Mutex, kStripes> stripes_;
};

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_KEY_LOCKS_H_
