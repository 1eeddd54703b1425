#include "privacy/key_flags.h"

#include <iostream>

#include "absl/flags/flag.h"
#include "server/flags.h"
#include "server/host.h"

ABSL_FLAG(std::string, pii_key_file, "",
          "Key-encryption key for PII at rest (64 hex digits); default: pii.key beside "
          "--tokens_file, created on first start");
ABSL_FLAG(std::string, pii_previous_key_file, "",
          "The previous PII key during a rotation: customer keys wrapped with it are "
          "re-wrapped with --pii_key_file at start");

namespace aftersales::privacy {

absl::StatusOr<CustomerKeys*> OpenServiceKeys(server::ServiceHost& host) {
  std::string path = absl::GetFlag(FLAGS_pii_key_file);
  absl::StatusOr<Kek> current;
  if (!path.empty()) {
    current = LoadKekFile(path);
  } else {
    const std::string tokens = absl::GetFlag(FLAGS_tokens_file);
    const size_t slash = tokens.rfind('/');
    path = (slash == std::string::npos ? std::string(".") : tokens.substr(0, slash)) +
           "/pii.key";
    current = LoadOrCreateKekFile(path);
  }
  if (!current.ok()) return current.status();
  std::optional<Kek> previous;
  if (const std::string old = absl::GetFlag(FLAGS_pii_previous_key_file); !old.empty()) {
    auto loaded = LoadKekFile(old);
    if (!loaded.ok()) return loaded.status();
    previous = *std::move(loaded);
  }
  auto keys = CustomerKeys::Open(&host.store(), kCustomerKeysFamily, *std::move(current),
                                 std::move(previous), host.clock().Now());
  if (!keys.ok()) return keys.status();
  if ((*keys)->rewrapped() > 0) {
    std::cout << host.name() << ": re-wrapped " << (*keys)->rewrapped()
              << " customer keys with the new PII key" << std::endl;
  }
  return host.Own(*std::move(keys));
}

}  // namespace aftersales::privacy
