#ifndef AFTERSALES_LIBS_PRIVACY_AEAD_H_
#define AFTERSALES_LIBS_PRIVACY_AEAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// AES-256-GCM (OpenSSL EVP) for small values: PII fields and wrapped keys.
namespace aftersales::privacy {

constexpr size_t kKeyBytes = 32;    // AES-256
constexpr size_t kNonceBytes = 12;  // GCM's native IV size
constexpr size_t kTagBytes = 16;

// `n` bytes from OpenSSL's CSPRNG.
std::string RandomBytes(size_t n);

// nonce | ciphertext | tag, with a fresh random nonce per call. `aad` is
// authenticated, not stored: Open must be given the same. `key` must be 32 bytes.
absl::StatusOr<std::string> Seal(absl::string_view key, absl::string_view plaintext,
                                 absl::string_view aad);

// The plaintext, or DATA_LOSS when the key, the aad or any byte is wrong.
absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                 absl::string_view aad);

}  // namespace aftersales::privacy

#endif  // AFTERSALES_LIBS_PRIVACY_AEAD_H_
