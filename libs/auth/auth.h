#ifndef AFTERSALES_LIBS_AUTH_AUTH_H_
#define AFTERSALES_LIBS_AUTH_AUTH_H_

#include "absl/strings/string_view.h"
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace aftersales::auth {

// What a caller is allowed to be (SPEC §8). A principal has exactly one role.
enum class Role {
  kPartner,   // a partner service network's system
  kEngineer,  // an engineer terminal
  kAgent,     // customer-service agent / hotline / voice assistant
  kApp,       // the brand's customer app
  kService,   // another service of the suite
  kAdmin,     // operators; the only role allowed to move a manual clock
  kAuditor,   // read-only access for audits
};

absl::string_view RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);  // "partner", "agent", ...

// Who is calling, resolved from a bearer token.
struct Principal {
  std::string id;          // stable principal id, e.g. "partner-acme"
  Role role = Role::kApp;
  std::string partner_id;  // set for partner and engineer principals
  std::string engineer_id; // set for engineer principals
};

// SHA-256 of `data` as 64 lowercase hex characters.
std::string Sha256Hex(absl::string_view data);

// The tokens a service accepts, stored only as SHA-256 hashes. Text format,
// one principal per line ('#' starts a comment):
//   sha256:<64 hex> <principal id> <role> [partner=<id>] [engineer=<id>]
// Immutable once loaded; thread-safe.
class TokenRegistry {
 public:
  static absl::StatusOr<TokenRegistry> Parse(absl::string_view contents);
  static absl::StatusOr<TokenRegistry> LoadFile(const std::string& path);

  // The principal whose token hashes to the stored hash (constant-time
  // compare of the hashes), or nullopt.
  std::optional<Principal> Authenticate(absl::string_view token) const;

  size_t size() const { return by_hash_.size(); }

 private:
  absl::flat_hash_map<std::string, Principal> by_hash_;  // hex hash -> principal
};

// UNAUTHENTICATED unless `authorization` is "Bearer <known token>";
// PERMISSION_DENIED if the principal's role is not in `allowed`.
absl::StatusOr<Principal> Authorize(const TokenRegistry& tokens,
                                    std::optional<absl::string_view> authorization,
                                    std::initializer_list<Role> allowed);

}  // namespace aftersales::auth

#endif  // AFTERSALES_LIBS_AUTH_AUTH_H_
