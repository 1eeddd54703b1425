#ifndef AFTERSALES_LIBS_STORE_IDEMPOTENCY_H_
#define AFTERSALES_LIBS_STORE_IDEMPOTENCY_H_

#include "absl/strings/string_view.h"
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/storage.pb.h"
#include "google/protobuf/message.h"
#include "store/store.h"

namespace aftersales::store {

// Makes a create RPC idempotent per (principal, request id): the first
// request's result is remembered with a hash of its body; a retry with the
// same body gets the original resource, a different body ALREADY_EXISTS.
// Callers hold store.locks() on Key(...) between Check and Commit.
class IdempotencyKeys {
 public:
  IdempotencyKeys(Store* store, absl::string_view family) : table_(store, family) {}

  static std::string Key(absl::string_view principal_id, absl::string_view request_id);

  // SHA-256 of the deterministic serialization of `request`. Clear the
  // request id field first: it is the key, not the body.
  static std::string Fingerprint(const google::protobuf::Message& request);

  // The resource id an earlier identical request created, nullopt if the key
  // is new, ALREADY_EXISTS if it was used with a different body.
  absl::StatusOr<std::optional<std::string>> Check(absl::string_view key,
                                                   absl::string_view fingerprint) const;

  void Remember(Batch& batch, absl::string_view key, absl::string_view fingerprint,
                absl::string_view resource_id, absl::Time now) const;

 private:
  Table<v1::IdempotencyRecord> table_;
};

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_IDEMPOTENCY_H_
