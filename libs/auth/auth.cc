#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace aftersales::auth {
namespace {

constexpr std::pair<Role, absl::string_view> kRoleNames[] = {
    {Role::kPartner, "partner"}, {Role::kEngineer, "engineer"},
    {Role::kAgent, "agent"},     {Role::kApp, "app"},
    {Role::kService, "service"}, {Role::kAdmin, "admin"},
    {Role::kAuditor, "auditor"},
};

bool IsLowerHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

}  // namespace

absl::string_view RoleName(Role role) {
  for (const auto& [r, name] : kRoleNames) {
    if (r == role) return name;
  }
  return "unknown";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (const auto& [r, n] : kRoleNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

absl::StatusOr<TokenRegistry> TokenRegistry::Parse(absl::string_view contents) {
  TokenRegistry registry;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(contents, '\n')) {
    ++line_no;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokens line ", line_no, ": ", why));
    };
    if (fields.size() < 3) return bad("want: sha256:<hex> <principal> <role>");
    absl::string_view hash = fields[0];
    if (!absl::ConsumePrefix(&hash, "sha256:") || hash.size() != 64 ||
        !IsLowerHex(hash)) {
      return bad("token hash must be sha256:<64 lowercase hex>");
    }
    Principal p;
    p.id = std::string(fields[1]);
    std::optional<Role> role = ParseRole(fields[2]);
    if (!role) return bad(absl::StrCat("unknown role \"", fields[2], "\""));
    p.role = *role;
    for (size_t i = 3; i < fields.size(); ++i) {
      absl::string_view attr = fields[i];
      if (absl::ConsumePrefix(&attr, "partner=")) {
        p.partner_id = std::string(attr);
      } else if (absl::ConsumePrefix(&attr, "engineer=")) {
        p.engineer_id = std::string(attr);
      } else {
        return bad(absl::StrCat("unknown attribute \"", fields[i], "\""));
      }
    }
    if ((p.role == Role::kPartner || p.role == Role::kEngineer) &&
        p.partner_id.empty()) {
      return bad("partner and engineer principals need partner=<id>");
    }
    if (!registry.by_hash_.emplace(std::string(hash), std::move(p)).second) {
      return bad("duplicate token hash");
    }
  }
  return registry;
}

absl::StatusOr<TokenRegistry> TokenRegistry::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return Parse(buf.str());
}

std::optional<Principal> TokenRegistry::Authenticate(absl::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string hash = Sha256Hex(token);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) return std::nullopt;
  // The map lookup already matched; compare again in constant time so the
  // match never depends on a short-circuiting string compare.
  if (CRYPTO_memcmp(it->first.data(), hash.data(), hash.size()) != 0) {
    return std::nullopt;
  }
  return it->second;
}

absl::StatusOr<Principal> Authorize(const TokenRegistry& tokens,
                                    std::optional<absl::string_view> authorization,
                                    std::initializer_list<Role> allowed) {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError("missing authorization: Bearer token");
  }
  absl::string_view value = *authorization;
  if (!absl::ConsumePrefix(&value, "Bearer ")) {
    return absl::UnauthenticatedError("authorization must be \"Bearer <token>\"");
  }
  std::optional<Principal> principal = tokens.Authenticate(value);
  if (!principal) return absl::UnauthenticatedError("invalid bearer token");
  if (std::find(allowed.begin(), allowed.end(), principal->role) ==
      allowed.end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "role ", RoleName(principal->role), " may not call this method"));
  }
  return *principal;
}

}  // namespace aftersales::auth
