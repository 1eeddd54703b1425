#ifndef AFTERSALES_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define AFTERSALES_TESTS_FUZZ_FUZZ_SUPPORT_H_

// Helpers shared by the libFuzzer targets (docs/fuzzing.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/stubs/logging.h"

namespace aftersales::fuzz {

// Protobuf logs every undecodable string field; thousands of lines a second
// would drown the fuzzer's own output.
inline const bool kQuietProtobuf = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

// A fixed server time for domain calls: Monday 2026-11-23 10:00 Shanghai.
inline const absl::Time kNow = absl::FromUnixSeconds(1795399200);

// The bytes as a request message, as gRPC would decode them; false when they
// do not decode (gRPC answers those itself before any handler runs).
inline bool Decode(const uint8_t* data, size_t size, google::protobuf::Message* msg) {
  return msg->ParseFromArray(data, static_cast<int>(size));
}

inline absl::string_view AsText(const uint8_t* data, size_t size) {
  return absl::string_view(reinterpret_cast<const char*>(data), size);
}

// A repository file (the deployed policies), read once at start.
inline std::string RepoFile(const std::string& relative) {
  std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) + "/" + relative);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A fuzz target's own invariant failed: abort so libFuzzer saves the input.
#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond,       \
                   __FILE__, __LINE__);                                    \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

// A validation error must be INVALID_ARGUMENT naming a field ("x: why").
inline void CheckValidationError(const absl::Status& s) {
  if (s.ok()) return;
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  FUZZ_CHECK(s.message().find(": ") != absl::string_view::npos);
}

// The deployed policy of a service, parsed by its own parser; aborts when
// the checked-in file does not parse (that is a bug too).
template <typename Policy, typename Parser>
Policy DeployedPolicy(const std::string& service, Parser parse) {
  auto policy = parse(RepoFile("deploy/policies/" + service + ".textproto"));
  if (!policy.ok()) {
    std::fprintf(stderr, "deploy/policies/%s.textproto: %s\n", service.c_str(),
                 std::string(policy.status().message()).c_str());
    std::abort();
  }
  return *std::move(policy);
}

}  // namespace aftersales::fuzz

#endif  // AFTERSALES_TESTS_FUZZ_FUZZ_SUPPORT_H_
