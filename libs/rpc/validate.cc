#include "rpc/validate.h"

#include "absl/strings/str_cat.h"

namespace aftersales::rpc {
namespace {

// Number of UTF-8 characters, or -1 if `s` is not valid UTF-8 or holds
// control characters other than \n, \r and \t.
long Utf8Chars(absl::string_view s) {
  long chars = 0;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f) {
        return -1;
      }
      len = 1;
    } else if ((c >> 5) == 0x6) {
      len = 2;
    } else if ((c >> 4) == 0xe) {
      len = 3;
    } else if ((c >> 3) == 0x1e) {
      len = 4;
    } else {
      return -1;
    }
    if (i + len > s.size()) return -1;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return -1;
    }
    // Well-formed UTF-8 only (RFC 3629), exactly what protobuf accepts in a
    // string field: no overlong forms, no surrogates, nothing past U+10FFFF.
    // (Found by tests/fuzz/fuzz_rpc_edge: "\xe0\x86\xb0" passed as text.)
    const unsigned char c1 = len > 1 ? static_cast<unsigned char>(s[i + 1]) : 0;
    if ((len == 2 && c < 0xc2) || (c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) ||
        (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90) || c > 0xf4) {
      return -1;
    }
    i += len;
    ++chars;
  }
  return chars;
}

}  // namespace

Validator& Validator::Fail(absl::string_view field, absl::string_view why) {
  if (status_.ok()) {
    status_ = absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  }
  return *this;
}

Validator& Validator::Id(absl::string_view field, absl::string_view value,
                         size_t max_len) {
  if (!status_.ok()) return *this;
  if (value.empty()) return Fail(field, "required");
  if (value.size() > max_len) {
    return Fail(field, absl::StrCat("at most ", max_len, " characters"));
  }
  for (char c : value) {
    if (c <= 0x20 || c >= 0x7f) {
      return Fail(field, "only printable ASCII without spaces");
    }
  }
  return *this;
}

Validator& Validator::Text(absl::string_view field, absl::string_view value,
                           size_t max_chars, bool required) {
  if (!status_.ok()) return *this;
  if (value.empty()) return required ? Fail(field, "required") : *this;
  // Cheap bound before decoding: a UTF-8 character is at most 4 bytes.
  if (value.size() > 4 * max_chars) {
    return Fail(field, absl::StrCat("at most ", max_chars, " characters"));
  }
  long chars = Utf8Chars(value);
  if (chars < 0) return Fail(field, "must be valid UTF-8 text");
  if (static_cast<size_t>(chars) > max_chars) {
    return Fail(field, absl::StrCat("at most ", max_chars, " characters"));
  }
  return *this;
}

Validator& Validator::Enum(absl::string_view field, int value, bool known) {
  if (!status_.ok()) return *this;
  if (value == 0) return Fail(field, "required");
  if (!known) return Fail(field, absl::StrCat("unknown value ", value));
  return *this;
}

Validator& Validator::Range(absl::string_view field, double value, double lo,
                            double hi) {
  if (!status_.ok()) return *this;
  if (!(value >= lo && value <= hi)) {  // also rejects NaN
    return Fail(field, absl::StrCat("must be in [", lo, ", ", hi, "]"));
  }
  return *this;
}

Validator& Validator::Check(absl::string_view field, bool ok,
                            absl::string_view why) {
  if (!status_.ok() || ok) return *this;
  return Fail(field, why);
}

}  // namespace aftersales::rpc
