#include "auth/auth.h"
#include "absl/strings/match.h"
#include "catch2/catch.hpp"

namespace aftersales::auth {
namespace {

std::string Line(const std::string& token, const std::string& rest) {
  return "sha256:" + Sha256Hex(token) + " " + rest + "\n";
}

TEST_CASE("SHA-256 matches a known vector") {
  CHECK(Sha256Hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a token file maps token hashes to principals with roles") {
  auto registry = TokenRegistry::Parse(
      "# comment line\n\n" + Line("t-agent", "agent-7 agent   # trailing comment") +
      Line("t-partner", "partner-acme partner partner=ACME") +
      Line("t-eng", "eng-1 engineer partner=ACME engineer=E1"));
  REQUIRE(registry.ok());
  CHECK(registry->size() == 3);

  auto agent = registry->Authenticate("t-agent");
  REQUIRE(agent.has_value());
  CHECK(agent->id == "agent-7");
  CHECK(agent->role == Role::kAgent);
  auto eng = registry->Authenticate("t-eng");
  REQUIRE(eng.has_value());
  CHECK(eng->partner_id == "ACME");
  CHECK(eng->engineer_id == "E1");
  CHECK_FALSE(registry->Authenticate("t-agentx").has_value());
  CHECK_FALSE(registry->Authenticate("").has_value());
}

TEST_CASE("malformed token files are rejected with the line number") {
  auto bad_hash = TokenRegistry::Parse("sha256:abc agent-1 agent\n");
  CHECK(bad_hash.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_hash.status().message(), "line 1"));
  auto plain = TokenRegistry::Parse("\n" + std::string("my-plain-token agent-1 agent\n"));
  CHECK(absl::StrContains(plain.status().message(), "line 2"));
  CHECK_FALSE(TokenRegistry::Parse(Line("t", "x wizard")).ok());
  CHECK_FALSE(TokenRegistry::Parse(Line("t", "p partner")).ok());  // no partner=
  CHECK_FALSE(TokenRegistry::Parse(Line("t", "a agent color=red")).ok());
  CHECK_FALSE(TokenRegistry::Parse(Line("t", "a agent") + Line("t", "b agent")).ok());
  CHECK_FALSE(TokenRegistry::LoadFile("/nonexistent/tokens.txt").ok());
}

TEST_CASE("Authorize: UNAUTHENTICATED without a valid bearer token, PERMISSION_DENIED for other roles") {
  auto registry = *TokenRegistry::Parse(Line("t-agent", "agent-7 agent") +
                                        Line("t-admin", "root admin"));
  CHECK(Authorize(registry, std::nullopt, {Role::kAgent}).status().code() ==
        absl::StatusCode::kUnauthenticated);
  CHECK(Authorize(registry, "t-agent", {Role::kAgent}).status().code() ==
        absl::StatusCode::kUnauthenticated);  // no "Bearer "
  CHECK(Authorize(registry, "Bearer nope", {Role::kAgent}).status().code() ==
        absl::StatusCode::kUnauthenticated);
  CHECK(Authorize(registry, "Bearer t-agent", {Role::kAdmin}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  auto ok = Authorize(registry, "Bearer t-agent", {Role::kAdmin, Role::kAgent});
  REQUIRE(ok.ok());
  CHECK(ok->id == "agent-7");
}

TEST_CASE("role names round-trip") {
  for (Role r : {Role::kPartner, Role::kEngineer, Role::kAgent, Role::kApp,
                 Role::kService, Role::kAdmin, Role::kAuditor}) {
    CHECK(ParseRole(RoleName(r)) == r);
  }
  CHECK_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace aftersales::auth
