#ifndef AFTERSALES_LIBS_PRIVACY_CUSTOMER_KEYS_H_
#define AFTERSALES_LIBS_PRIVACY_CUSTOMER_KEYS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/store.h"

namespace aftersales::privacy {

// The column family every PII-holding service adds for its customer keys.
inline constexpr char kCustomerKeysFamily[] = "customer_keys";

// A service's key-encryption key: 32 random bytes kept in a file in the
// secrets directory as 64 hex digits (never in the data directory).
struct Kek {
  std::string bytes;  // 32 bytes
  // Short public fingerprint stored with the data to recognise the KEK.
  std::string Check() const;
};
// Reads a KEK file (64 hex digits, surrounding whitespace ignored).
absl::StatusOr<Kek> LoadKekFile(const std::string& path);
// Reads it, or creates it (mode 0600, 32 bytes from the CSPRNG) when absent.
// Safe when several processes race to create the same file.
absl::StatusOr<Kek> LoadOrCreateKekFile(const std::string& path);

// Per-customer data keys in one column family of a service's store:
//   "k/<customer>"  WrappedDataKey (the key, wrapped with the KEK)
//   "e/<customer>"  CustomerErasureMark (generations <= it are shredded)
//   "kek_check"     fingerprint of the KEK that wrapped the keys
// A new key is staged into the caller's batch (so it is durable exactly when
// the first record sealed with it is). Erase deletes the key: every value
// sealed with it becomes unreadable (crypto-shredding). Thread-safe.
class CustomerKeys {
 public:
  // Opens the key family. When the stored fingerprint is `previous`'s, every
  // data key is re-wrapped with `current` (KEK rotation) before returning; a
  // fingerprint matching neither is FAILED_PRECONDITION (the wrong key file
  // would make every record read as erased).
  static absl::StatusOr<std::unique_ptr<CustomerKeys>> Open(store::Store* store,
                                                            absl::string_view family,
                                                            Kek current,
                                                            std::optional<Kek> previous,
                                                            absl::Time now);

  struct DataKey {
    uint32_t generation = 0;
    std::string key;  // 32 bytes
  };
  // The customer's current key; a new one is staged into `batch` if none.
  absl::StatusOr<DataKey> KeyForWrite(store::Batch& batch, const std::string& customer_id,
                                      absl::Time now);
  // The key of `generation`, or nullopt when it was erased (or never existed).
  absl::StatusOr<std::optional<std::string>> KeyForRead(const std::string& customer_id,
                                                        uint32_t generation);
  // Stages the shredding of the customer's key; true if a key existed.
  absl::StatusOr<bool> Erase(store::Batch& batch, const std::string& customer_id,
                             absl::Time now);

  // Data keys re-wrapped at Open (KEK rotation).
  int64_t rewrapped() const { return rewrapped_; }

  // New keys not yet known to be stored (bounded: see settle_at_).
  size_t pending() {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }

 private:
  CustomerKeys(store::Store* store, rocksdb::ColumnFamilyHandle* cf, Kek kek)
      : store_(store), cf_(cf), kek_(std::move(kek)) {}
  struct Stored {
    std::optional<uint32_t> key_generation;  // of the "k/" row, if any
    std::string wrapped;
    uint32_t erased_generation = 0;
  };
  absl::StatusOr<Stored> Read(const std::string& customer_id) const;
  absl::StatusOr<std::string> Unwrap(const Kek& kek, const std::string& customer_id,
                                     uint32_t generation, const std::string& wrapped) const;

  store::Store* store_;
  rocksdb::ColumnFamilyHandle* cf_;
  Kek kek_;
  int64_t rewrapped_ = 0;

  struct Pending {
    DataKey key;
    std::string row;  // serialized WrappedDataKey, re-staged by every writer
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, DataKey> cache_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Pending> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> uncached_ ABSL_GUARDED_BY(mu_);  // erased here
  // Pending keys whose batch has committed are durable and need no
  // re-staging: dropped once the map doubles (amortised one Get per new
  // customer), so a stream of new customers does not grow it without bound.
  size_t settle_at_ ABSL_GUARDED_BY(mu_) = 4096;
  void Remember(const std::string& customer, const DataKey& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SettlePending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace aftersales::privacy

#endif  // AFTERSALES_LIBS_PRIVACY_CUSTOMER_KEYS_H_
