// libs/auth: the tokens file parser (an operator-provided file, reloaded at
// start) and bearer-header authorization (every call's first step, bytes
// straight from the client's `authorization` metadata).
//   - Parse never crashes; an error names the line;
//   - a registry that parsed authenticates exactly the tokens whose hash it
//     holds;
//   - Authorize on arbitrary header bytes: UNAUTHENTICATED unless the header
//     is "Bearer <known token>", PERMISSION_DENIED for a role not allowed.
#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "auth/auth.h"
#include "fuzz_support.h"

using namespace aftersales;

namespace {

const auth::TokenRegistry& Known() {
  static const auth::TokenRegistry* registry = [] {
    std::string file;
    absl::StrAppend(&file, "sha256:", auth::Sha256Hex("tok-agent"), " agent agent\n");
    absl::StrAppend(&file, "sha256:", auth::Sha256Hex("tok-partner"),
                    " partner-a partner partner=PA\n");
    auto parsed = auth::TokenRegistry::Parse(file);
    FUZZ_CHECK(parsed.ok());
    return new auth::TokenRegistry(*std::move(parsed));
  }();
  return *registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::AsText(data, size);

  auto registry = auth::TokenRegistry::Parse(text);
  if (!registry.ok()) {
    FUZZ_CHECK(registry.status().code() == absl::StatusCode::kInvalidArgument);
    FUZZ_CHECK(absl::StartsWith(registry.status().message(), "tokens line "));
  } else {
    // At most one principal per line.
    FUZZ_CHECK(registry->size() <= static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  }

  const auth::TokenRegistry& known = Known();
  auto agent_only = auth::Authorize(known, text, {auth::Role::kAgent});
  if (text == "Bearer tok-agent") {
    FUZZ_CHECK(agent_only.ok() && agent_only->id == "agent");
  } else if (text == "Bearer tok-partner") {
    FUZZ_CHECK(agent_only.status().code() == absl::StatusCode::kPermissionDenied);
  } else {
    FUZZ_CHECK(agent_only.status().code() == absl::StatusCode::kUnauthenticated);
  }
  // The header without the scheme is never enough.
  FUZZ_CHECK(!auth::Authorize(known, absl::StripPrefix(text, "Bearer "), {auth::Role::kAgent})
                  .ok() ||
             absl::StartsWith(absl::StripPrefix(text, "Bearer "), "Bearer "));
  return 0;
}
