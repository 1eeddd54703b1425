#ifndef AFTERSALES_LIBS_RPC_VALIDATE_H_
#define AFTERSALES_LIBS_RPC_VALIDATE_H_

#include "absl/strings/string_view.h"
#include <string>
#include <string_view>

#include "absl/status/status.h"

// Request validation that names the offending field, so a client learns
// exactly what to fix: INVALID_ARGUMENT "customer_id: required".
namespace aftersales::rpc {

// Collects the first failure; later checks are skipped once one failed.
class Validator {
 public:
  // An identifier: 1..max_len printable ASCII, no spaces or control bytes.
  Validator& Id(absl::string_view field, absl::string_view value, size_t max_len);
  // Free text: optional unless `required`, at most max_chars UTF-8 characters,
  // valid UTF-8, no control characters other than newline/tab.
  Validator& Text(absl::string_view field, absl::string_view value,
                  size_t max_chars, bool required);
  // An enum field that must be set (non-zero) and known.
  Validator& Enum(absl::string_view field, int value, bool known);
  Validator& Range(absl::string_view field, double value, double lo, double hi);
  // A field-specific condition.
  Validator& Check(absl::string_view field, bool ok, absl::string_view why);

  absl::Status status() const { return status_; }

 private:
  Validator& Fail(absl::string_view field, absl::string_view why);
  absl::Status status_;
};

}  // namespace aftersales::rpc

#endif  // AFTERSALES_LIBS_RPC_VALIDATE_H_
