#include "store/idempotency.h"

#include <openssl/sha.h>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "store/keys.h"

namespace aftersales::store {

std::string IdempotencyKeys::Key(absl::string_view principal_id,
                                 absl::string_view request_id) {
  return CompositeKey({principal_id, request_id});
}

std::string IdempotencyKeys::Fingerprint(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    // Map order must not change the hash of the same request.
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

absl::StatusOr<std::optional<std::string>> IdempotencyKeys::Check(
    absl::string_view key, absl::string_view fingerprint) const {
  auto record = table_.Get(key);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return std::optional<std::string>();
  if ((*record)->request_sha256() != fingerprint) {
    return absl::AlreadyExistsError(
        "request_id: already used for a different request body");
  }
  return std::optional<std::string>((*record)->resource_id());
}

void IdempotencyKeys::Remember(Batch& batch, absl::string_view key,
                               absl::string_view fingerprint,
                               absl::string_view resource_id, absl::Time now) const {
  v1::IdempotencyRecord record;
  record.set_resource_id(std::string(resource_id));
  record.set_request_sha256(std::string(fingerprint));
  const int64_t ns = absl::ToUnixNanos(now);
  record.mutable_created_at()->set_seconds(ns / 1000000000);
  record.mutable_created_at()->set_nanos(static_cast<int32_t>(ns % 1000000000));
  table_.Put(batch, key, record);
}

}  // namespace aftersales::store
