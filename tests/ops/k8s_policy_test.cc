// The policies a cell overlay puts in place of the base ones
// (deploy/k8s/overlays/*/policies/<service>.textproto) are policies the
// service accepts: each starts a real service process on it. For dispatch,
// the running policy is the cell's own version and travel model.
#include <filesystem>
#include <fstream>
#include <regex>

#include "aftersales/v1/dispatch.grpc.pb.h"
#include "catch2/catch.hpp"
#include "support/test_support.h"

namespace aftersales {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<testing::ServiceProcess> StartWithPolicy(const testing::TempDir& dir,
                                                         const testing::TestTokens& tokens,
                                                         const std::string& service,
                                                         const std::string& policy_file) {
  testing::ServiceProcess::Options o;
  o.name = service;
  o.data_dir = dir.Sub(service + "-" + fs::path(policy_file).parent_path().parent_path()
                                           .filename().string());
  o.tokens = &tokens;
  // Peers are never reached here; dispatch insists on an intake address.
  o.peers["intake"] = "127.0.0.1:1";
  o.extra_flags = {"--policy_file=" + policy_file};  // after (and over) the base policy
  return std::make_unique<testing::ServiceProcess>(o);
}

std::string PolicyVersion(const std::string& text) {
  std::smatch m;
  const std::regex ref(R"re(ref \{ name: "\w+" version: "([^"]+)" \})re");
  REQUIRE(std::regex_search(text, m, ref));
  return m[1];
}

TEST_CASE("every cell overlay policy is accepted by its service") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  int checked = 0;
  for (const auto& overlay : fs::directory_iterator(testing::SourcePath("deploy/k8s/overlays"))) {
    const fs::path policies = overlay.path() / "policies";
    if (!fs::is_directory(policies)) continue;
    for (const auto& file : fs::directory_iterator(policies)) {
      const std::string service = file.path().stem().string();
      INFO(file.path().string());
      auto process = StartWithPolicy(dir, tokens, service, file.path().string());
      ++checked;
      if (service != "dispatch") continue;
      v1::DispatchPolicySnapshot snapshot;
      REQUIRE(v1::DispatchService::NewStub(process->channel())
                  ->GetPolicy(testing::Context(tokens.token.at("admin")).get(),
                              v1::GetPolicyRequest(), &snapshot)
                  .ok());
      CHECK(snapshot.info().ref().version() ==
            PolicyVersion(testing::ReadFileOrEmpty(file.path().string())));
      CHECK(snapshot.info().source() == file.path().string());
    }
  }
  CHECK(checked >= 1);
}

TEST_CASE("a cell policy out of range keeps the service from starting") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  const std::string original =
      testing::ReadFileOrEmpty(testing::SourcePath("deploy/k8s/overlays/cell-west/policies/dispatch.textproto"));
  const std::string broken = std::regex_replace(original, std::regex("road_factor: [0-9.]+"),
                                                "road_factor: 5");
  REQUIRE(broken != original);
  fs::create_directories(dir.Sub("cell-bad/policies"));
  const std::string path = dir.Sub("cell-bad/policies/dispatch.textproto");
  std::ofstream(path) << broken;
  CHECK_THROWS(StartWithPolicy(dir, tokens, "dispatch", path));
}

}  // namespace
}  // namespace aftersales
