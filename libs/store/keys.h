#ifndef AFTERSALES_LIBS_STORE_KEYS_H_
#define AFTERSALES_LIBS_STORE_KEYS_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aftersales::store {

// Order-preserving key encodings: RocksDB compares bytes, so numbers are
// big-endian and composite keys join their parts with a 0x00 separator (parts
// must not contain 0x00; validators reject control characters in ids).
std::string EncodeU64(uint64_t v);
std::optional<uint64_t> DecodeU64(absl::string_view bytes);

// Sorts later instants first: big-endian of the inverted microseconds since
// the epoch (instants before the epoch sort as the epoch). For "newest
// first" index rows.
std::string NewestFirstKey(int64_t unix_micros);

// Joins parts as part0 \0 part1 \0 ... (no trailing separator).
std::string CompositeKey(std::initializer_list<absl::string_view> parts);

// The smallest key greater than every key that starts with `prefix`, or ""
// when there is none (prefix is all 0xff).
std::string PrefixSuccessor(absl::string_view prefix);

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_KEYS_H_
