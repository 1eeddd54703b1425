#include "privacy/customer_keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "aftersales/v1/storage.pb.h"
#include "privacy/aead.h"
#include "rpc/rpc.h"

namespace aftersales::privacy {
namespace {

constexpr char kCheckRow[] = "kek_check";
constexpr size_t kMaxCached = 100000;

std::string KeyRow(absl::string_view customer) { return absl::StrCat("k/", customer); }
std::string MarkRow(absl::string_view customer) { return absl::StrCat("e/", customer); }
// Binds a wrapped key to its customer and generation.
std::string WrapAad(absl::string_view customer, uint32_t generation) {
  return absl::StrCat("data-key/", customer, "/", generation);
}

absl::StatusOr<Kek> ParseKek(const std::string& text, const std::string& path) {
  const std::string hex(absl::StripAsciiWhitespace(text));
  if (hex.size() != 2 * kKeyBytes ||
      hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a PII key file holds 64 hex digits (32 random bytes)"));
  }
  return Kek{absl::HexStringToBytes(hex)};
}

}  // namespace

std::string Kek::Check() const {
  const std::string input = absl::StrCat("aftersales-kek-check/v1/", bytes);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(md), 16));
}

absl::StatusOr<Kek> LoadKekFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the PII key file"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseKek(text.str(), path);
}

absl::StatusOr<Kek> LoadOrCreateKekFile(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return LoadKekFile(path);
  // Write a temporary file, then link it into place: link fails if another
  // process created the key first, and then both use that one.
  const std::string tmp =
      absl::StrCat(path, ".tmp.", getpid(), ".", absl::BytesToHexString(RandomBytes(8)));
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": cannot create the PII key file: ", std::strerror(errno)));
  }
  const std::string hex = absl::BytesToHexString(RandomBytes(kKeyBytes)) + "\n";
  const bool written = write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written) {
    unlink(tmp.c_str());
    return absl::FailedPreconditionError(absl::StrCat(path, ": cannot write the PII key file"));
  }
  const int linked = link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": cannot create the PII key file: ", std::strerror(link_errno)));
  }
  return LoadKekFile(path);
}

absl::StatusOr<std::unique_ptr<CustomerKeys>> CustomerKeys::Open(
    store::Store* store, absl::string_view family, Kek current, std::optional<Kek> previous,
    absl::Time now) {
  if (current.bytes.size() != kKeyBytes) return absl::InvalidArgumentError("KEK: 32 bytes");
  rocksdb::ColumnFamilyHandle* cf = store->Family(family);
  std::unique_ptr<CustomerKeys> keys(new CustomerKeys(store, cf, current));
  auto check = store->Get(cf, kCheckRow);
  if (!check.ok()) return check.status();
  if (check->has_value() && **check == current.Check()) return keys;

  // Is there any wrapped key? A store without keys adopts the KEK as is.
  bool any_key = false;
  absl::Status scanned = store->Scan(cf, "k/", "k0", [&](absl::string_view, absl::string_view) {
    any_key = true;
    return false;
  });
  if (!scanned.ok()) return scanned;
  if (check->has_value() && any_key &&
      !(previous.has_value() && **check == previous->Check())) {
    return absl::FailedPreconditionError(
        "the PII key file is not the key that wrapped this store's customer keys; to rotate, "
        "pass the old key file as --pii_previous_key_file");
  }
  store::Batch batch;
  if (any_key && check->has_value()) {
    // Rotation: re-wrap every data key. A key already re-wrapped by an
    // interrupted earlier rotation opens with the new KEK.
    absl::Status inner;
    absl::Status s = store->Scan(cf, "k/", "k0", [&](absl::string_view row,
                                                    absl::string_view value) {
      v1::WrappedDataKey wrapped;
      if (!wrapped.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        inner = absl::DataLossError("unparseable wrapped key");
        return false;
      }
      const std::string customer(row.substr(2));
      auto plain = keys->Unwrap(*previous, customer, wrapped.generation(), wrapped.wrapped());
      if (!plain.ok()) {
        if (keys->Unwrap(current, customer, wrapped.generation(), wrapped.wrapped()).ok()) {
          return true;
        }
        inner = plain.status();
        return false;
      }
      auto rewrapped = Seal(current.bytes, *plain, WrapAad(customer, wrapped.generation()));
      if (!rewrapped.ok()) {
        inner = rewrapped.status();
        return false;
      }
      wrapped.set_wrapped(*rewrapped);
      batch.Put(cf, row, wrapped.SerializeAsString());
      ++keys->rewrapped_;
      return true;
    });
    if (!s.ok()) return s;
    if (!inner.ok()) return inner;
  }
  (void)now;
  batch.Put(cf, kCheckRow, current.Check());
  if (absl::Status s = store->Commit(batch); !s.ok()) return s;
  return keys;
}

absl::StatusOr<CustomerKeys::Stored> CustomerKeys::Read(const std::string& customer) const {
  Stored out;
  auto key = store_->Get(cf_, KeyRow(customer));
  if (!key.ok()) return key.status();
  if (key->has_value()) {
    v1::WrappedDataKey w;
    if (!w.ParseFromString(**key)) return absl::DataLossError("unparseable wrapped key");
    out.key_generation = w.generation();
    out.wrapped = w.wrapped();
  }
  auto mark = store_->Get(cf_, MarkRow(customer));
  if (!mark.ok()) return mark.status();
  if (mark->has_value()) {
    v1::CustomerErasureMark m;
    if (!m.ParseFromString(**mark)) return absl::DataLossError("unparseable erasure mark");
    out.erased_generation = m.generation();
  }
  // A key at or below the erased generation was resurrected by a write that
  // raced with the erasure: it stays erased.
  if (out.key_generation && *out.key_generation <= out.erased_generation) {
    out.key_generation.reset();
  }
  return out;
}

absl::StatusOr<std::string> CustomerKeys::Unwrap(const Kek& kek, const std::string& customer,
                                                 uint32_t generation,
                                                 const std::string& wrapped) const {
  return privacy::Open(kek.bytes, wrapped, WrapAad(customer, generation));
}

void CustomerKeys::Remember(const std::string& customer, const DataKey& key) {
  if (uncached_.contains(customer)) return;
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[customer] = key;
}

absl::StatusOr<CustomerKeys::DataKey> CustomerKeys::KeyForWrite(store::Batch& batch,
                                                                const std::string& customer,
                                                                absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (auto it = cache_.find(customer); it != cache_.end()) return it->second;
  auto stored = Read(customer);
  if (!stored.ok()) return stored.status();
  if (auto it = pending_.find(customer); it != pending_.end()) {
    if (stored->key_generation == it->second.key.generation) {
      // Some batch carrying the new key committed: it is durable now.
      DataKey k = it->second.key;
      pending_.erase(it);
      Remember(customer, k);
      return k;
    }
    // Not on disk yet: every batch sealed with it carries the key too, so
    // whichever commits first makes it durable.
    batch.Put(cf_, KeyRow(customer), it->second.row);
    return it->second.key;
  }
  if (stored->key_generation) {
    auto plain = Unwrap(kek_, customer, *stored->key_generation, stored->wrapped);
    if (!plain.ok()) return plain.status();
    DataKey k{*stored->key_generation, *std::move(plain)};
    Remember(customer, k);
    return k;
  }
  DataKey k{stored->erased_generation + 1, RandomBytes(kKeyBytes)};
  auto wrapped = Seal(kek_.bytes, k.key, WrapAad(customer, k.generation));
  if (!wrapped.ok()) return wrapped.status();
  v1::WrappedDataKey row;
  row.set_generation(k.generation);
  row.set_wrapped(*wrapped);
  *row.mutable_created_at() = rpc::ToProto(now);
  Pending p{k, row.SerializeAsString()};
  batch.Put(cf_, KeyRow(customer), p.row);
  pending_[customer] = std::move(p);
  if (pending_.size() >= settle_at_) SettlePending();
  return k;
}

void CustomerKeys::SettlePending() {
  // A key is durable once its row is stored with its generation; a key whose
  // batches are still in flight (or failed) stays pending. Durable keys are
  // not cached here: most new customers are not written again soon.
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto stored = Read(it->first);
    if (stored.ok() && stored->key_generation == it->second.key.generation) {
      pending_.erase(it++);
    } else {
      ++it;
    }
  }
  settle_at_ = std::max<size_t>(4096, 2 * pending_.size());
}

absl::StatusOr<std::optional<std::string>> CustomerKeys::KeyForRead(const std::string& customer,
                                                                    uint32_t generation) {
  absl::MutexLock lock(&mu_);
  if (auto it = cache_.find(customer); it != cache_.end()) {
    if (it->second.generation == generation) return std::optional<std::string>(it->second.key);
  }
  if (auto it = pending_.find(customer); it != pending_.end()) {
    if (it->second.key.generation == generation) {
      return std::optional<std::string>(it->second.key.key);
    }
  }
  auto stored = Read(customer);
  if (!stored.ok()) return stored.status();
  if (!stored->key_generation || *stored->key_generation != generation) {
    return std::optional<std::string>();
  }
  auto plain = Unwrap(kek_, customer, generation, stored->wrapped);
  if (!plain.ok()) return plain.status();
  Remember(customer, DataKey{generation, *plain});
  return std::optional<std::string>(*std::move(plain));
}

absl::StatusOr<bool> CustomerKeys::Erase(store::Batch& batch, const std::string& customer,
                                         absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto stored = Read(customer);
  if (!stored.ok()) return stored.status();
  uint32_t generation = stored->erased_generation;
  bool existed = false;
  if (stored->key_generation) {
    generation = std::max(generation, *stored->key_generation);
    existed = true;
  }
  if (auto it = pending_.find(customer); it != pending_.end()) {
    generation = std::max(generation, it->second.key.generation);
    existed = true;
    pending_.erase(it);
  }
  cache_.erase(customer);
  // Never cached again in this process: a reader between this call and the
  // batch's commit must not keep the key alive in memory.
  uncached_.insert(customer);
  v1::CustomerErasureMark mark;
  mark.set_generation(generation);
  *mark.mutable_erased_at() = rpc::ToProto(now);
  batch.Put(cf_, MarkRow(customer), mark.SerializeAsString());
  batch.Delete(cf_, KeyRow(customer));
  return existed;
}

}  // namespace aftersales::privacy
