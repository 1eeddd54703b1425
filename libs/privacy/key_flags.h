#ifndef AFTERSALES_LIBS_PRIVACY_KEY_FLAGS_H_
#define AFTERSALES_LIBS_PRIVACY_KEY_FLAGS_H_

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "privacy/customer_keys.h"

// --pii_key_file: the service's KEK (64 hex digits). Default: pii.key in the
// directory of --tokens_file (the secrets directory), created on first start.
// --pii_previous_key_file: the KEK being rotated out; its keys are re-wrapped.
// Also from AFTERSALES_PII_KEY_FILE / AFTERSALES_PII_PREVIOUS_KEY_FILE.
ABSL_DECLARE_FLAG(std::string, pii_key_file);
ABSL_DECLARE_FLAG(std::string, pii_previous_key_file);

namespace aftersales::server {
class ServiceHost;
}

namespace aftersales::privacy {

// Opens the service's customer keys (family kCustomerKeysFamily) with the
// KEK the flags name, re-wrapping on rotation; the result is owned by `host`.
absl::StatusOr<CustomerKeys*> OpenServiceKeys(server::ServiceHost& host);

}  // namespace aftersales::privacy

#endif  // AFTERSALES_LIBS_PRIVACY_KEY_FLAGS_H_
