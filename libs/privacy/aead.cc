#include "privacy/aead.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/status/status.h"

namespace aftersales::privacy {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// AES-256-GCM fetched from the default provider once: EVP_aes_256_gcm()
// makes OpenSSL 3 look the implementation up again (name lookup under a
// lock) on every EncryptInit, a measurable share of each CreateOrder.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = [] {
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (c == nullptr) std::abort();  // no AES in the default provider: nothing to seal with
    return c;
  }();
  return cipher;
}

// One cipher context per thread, reset between uses, instead of an
// allocation and a free per field.
EVP_CIPHER_CTX* ThreadCtx() {
  thread_local CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx || EVP_CIPHER_CTX_reset(ctx.get()) != 1) return nullptr;
  return ctx.get();
}

// CSPRNG output is drawn in blocks and handed out per thread: RAND_bytes
// costs about as much for 12 bytes as for 512 (locks, DRBG bookkeeping) and
// every sealed field takes a nonce. A fork bumps the generation so a child
// never hands out bytes its parent also holds (the services do not fork, but
// a library cannot know that).
std::atomic<uint64_t> fork_generation{0};
void OnFork() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomPool {
  unsigned char bytes[512];
  size_t used = sizeof(bytes);  // empty
  uint64_t generation = 0;
};

}  // namespace

std::string RandomBytes(size_t n) {
  static const bool registered = [] { return pthread_atfork(nullptr, nullptr, &OnFork) == 0; }();
  (void)registered;
  std::string out(n, '\0');
  thread_local RandomPool pool;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation) {
    OPENSSL_cleanse(pool.bytes, sizeof(pool.bytes));
    pool.used = sizeof(pool.bytes);
    pool.generation = generation;
  }
  size_t filled = 0;
  while (filled < n) {
    if (pool.used == sizeof(pool.bytes)) {
      // RAND_bytes fails only when the CSPRNG cannot be seeded: nothing sane
      // can be encrypted then, so stop rather than use a predictable nonce.
      if (RAND_bytes(pool.bytes, static_cast<int>(sizeof(pool.bytes))) != 1) std::abort();
      pool.used = 0;
    }
    const size_t take = std::min(n - filled, sizeof(pool.bytes) - pool.used);
    std::memcpy(out.data() + filled, pool.bytes + pool.used, take);
    // Bytes handed out are wiped from the pool: a key drawn here must not
    // stay behind in a second copy.
    OPENSSL_cleanse(pool.bytes + pool.used, take);
    pool.used += take;
    filled += take;
  }
  return out;
}

absl::StatusOr<std::string> Seal(absl::string_view key, absl::string_view plaintext,
                                 absl::string_view aad) {
  if (key.size() != kKeyBytes) return absl::InternalError("privacy: key must be 32 bytes");
  const std::string nonce = RandomBytes(kNonceBytes);
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  out.replace(0, kNonceBytes, nonce);
  auto* ct = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
  EVP_CIPHER_CTX* ctx = ThreadCtx();
  int len = 0, total = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx, Aes256Gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx, nullptr, nullptr, U(key), U(nonce)) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) !=
           1) ||
      EVP_EncryptUpdate(ctx, ct, &len, U(plaintext),
                        static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError("privacy: AES-256-GCM encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx, ct + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          ct + plaintext.size()) != 1) {
    return absl::InternalError("privacy: AES-256-GCM encryption failed");
  }
  return out;
}

absl::StatusOr<std::string> Open(absl::string_view key, absl::string_view sealed,
                                 absl::string_view aad) {
  if (key.size() != kKeyBytes) return absl::InternalError("privacy: key must be 32 bytes");
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return absl::DataLossError("privacy: sealed value too short");
  }
  const size_t n = sealed.size() - kNonceBytes - kTagBytes;
  std::string plain(n, '\0');
  std::string tag(sealed.substr(kNonceBytes + n));
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  EVP_CIPHER_CTX* ctx = ThreadCtx();
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx, Aes256Gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, U(key), U(sealed)) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx, nullptr, &len, U(aad), static_cast<int>(aad.size())) !=
           1) ||
      EVP_DecryptUpdate(ctx, out, &len, U(sealed) + kNonceBytes,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return absl::DataLossError("privacy: AES-256-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx, out + len, &len) != 1) {
    return absl::DataLossError("privacy: authentication failed (wrong key, context or data)");
  }
  return plain;
}

}  // namespace aftersales::privacy
