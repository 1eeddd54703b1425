// Service configuration: AFTERSALES_* environment variables set flags, and
// the command line wins over them.
#include <stdlib.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "catch2/catch.hpp"
#include "server/flags.h"

namespace aftersales::server {
namespace {

TEST_CASE("environment sets flags, the command line overrides, bad values are refused") {
  setenv("AFTERSALES_GRPC_PORT", "7301", 1);
  setenv("AFTERSALES_DATA_DIR", "/srv/intake", 1);
  setenv("AFTERSALES_INTAKE_ADDR", "intake:7101", 1);
  REQUIRE(ApplyEnvironmentToFlags());
  CHECK(absl::GetFlag(FLAGS_grpc_port) == 7301);
  CHECK(absl::GetFlag(FLAGS_data_dir) == "/srv/intake");
  CHECK(PeerAddressFlag("intake") == "intake:7101");
  CHECK(PeerAddressFlag("unknown").empty());

  const char* argv[] = {"svc", "--grpc_port=7400"};
  absl::ParseCommandLine(2, const_cast<char**>(argv));
  CHECK(absl::GetFlag(FLAGS_grpc_port) == 7400);
  CHECK(absl::GetFlag(FLAGS_data_dir) == "/srv/intake");

  setenv("AFTERSALES_METRICS_PORT", "not-a-number", 1);
  CHECK_FALSE(ApplyEnvironmentToFlags());
  unsetenv("AFTERSALES_METRICS_PORT");
}

}  // namespace
}  // namespace aftersales::server
