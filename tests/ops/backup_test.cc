// Backup and restore of a service's RocksDB through Maintenance.Checkpoint,
// on a real intake process: a checkpoint taken while serving, restored by
// replacing the data directory, holds exactly the orders written before it.
// Also: every bad request is refused without writing anything, and the
// plaintext health-only port (--health_port) that Kubernetes probes use.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "catch2/catch.hpp"
#include "support/order_driver.h"
#include "support/fixtures.h"
#include "support/grpc_probe.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

namespace fs = std::filesystem;
using testing::Context;

struct BackupSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  std::string data_dir = dir.Sub("intake");
  std::string backup_root = dir.Sub("backups");
  std::unique_ptr<testing::ServiceProcess> intake;
  std::unique_ptr<v1::IntakeService::Stub> orders;
  std::unique_ptr<v1::Maintenance::Stub> maintenance;

  explicit BackupSuite(std::vector<std::string> extra_flags = {}) {
    testing::ServiceProcess::Options o;
    o.name = "intake";
    o.data_dir = data_dir;
    o.tokens = &tokens;
    o.extra_flags = std::move(extra_flags);
    intake = std::make_unique<testing::ServiceProcess>(o);
    Connect();
  }

  void Connect() {
    orders = v1::IntakeService::NewStub(intake->channel());
    maintenance = v1::Maintenance::NewStub(intake->channel());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  std::string Create(const std::string& request_id) {
    v1::CreateOrderResponse resp;
    grpc::Status s = orders->CreateOrder(
        Context(token("partner-a")).get(),
        testing::SampleOrderRequest(request_id, "SN-" + request_id), &resp);
    REQUIRE(s.ok());
    REQUIRE(resp.created());
    return resp.order().order_id();
  }

  std::set<std::string> AllOrderIds() {
    std::set<std::string> ids;
    v1::ListOrdersRequest req;
    req.mutable_page()->set_page_size(500);
    do {
      v1::ListOrdersResponse resp;
      REQUIRE(orders->ListOrders(Context(token("agent")).get(), req, &resp).ok());
      for (const auto& o : resp.orders()) ids.insert(o.order_id());
      req.mutable_page()->set_page_token(resp.next_page_token());
    } while (!req.page().page_token().empty());
    return ids;
  }

  grpc::Status Checkpoint(const std::string& name, const std::string& who,
                          v1::CheckpointReply* reply) {
    v1::CheckpointRequest req;
    req.set_name(name);
    return maintenance->Checkpoint(Context(token(who)).get(), req, reply);
  }

  uint64_t EventHead() {
    auto events = testing::AllEvents(intake->channel(), token("service"));
    return events.empty() ? 0 : events.back().seq();
  }
};

std::string Flag(const std::string& name, const std::string& value) {
  return "--" + name + "=" + value;
}

TEST_CASE("a checkpoint restored in place of the data holds exactly the orders before it") {
  testing::TempDir scratch;
  BackupSuite s({Flag("backup_dir", scratch.Sub("backups"))});
  std::set<std::string> before;
  for (int i = 0; i < 3; ++i) before.insert(s.Create("before-" + std::to_string(i)));
  const uint64_t head_before = s.EventHead();
  REQUIRE(head_before > 0);

  v1::CheckpointReply reply;
  grpc::Status st = s.Checkpoint("nightly/2026-11-22", "admin", &reply);
  REQUIRE(st.ok());
  const fs::path root = fs::canonical(scratch.Sub("backups"));
  CHECK(reply.path() == (root / "nightly" / "2026-11-22").string());
  CHECK(reply.head_seq() == head_before);
  CHECK(reply.size_bytes() > 0);
  CHECK(reply.created_at().seconds() > 0);
  REQUIRE(fs::exists(fs::path(reply.path()) / "CURRENT"));

  // The service keeps serving and writing after the checkpoint.
  std::set<std::string> after;
  for (int i = 0; i < 2; ++i) after.insert(s.Create("after-" + std::to_string(i)));
  std::set<std::string> all = before;
  all.insert(after.begin(), after.end());
  REQUIRE(s.AllOrderIds() == all);

  // Restore: stop, replace the data directory with the checkpoint, start.
  REQUIRE(s.intake->Stop() == 0);
  fs::remove_all(s.data_dir);
  fs::rename(reply.path(), s.data_dir);
  s.intake->Restart();
  s.Connect();

  CHECK(s.AllOrderIds() == before);
  for (const std::string& id : after) {
    v1::GetOrderRequest get;
    get.set_order_id(id);
    v1::WorkOrder o;
    CHECK(s.orders->GetOrder(Context(s.token("agent")).get(), get, &o).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  CHECK(s.EventHead() == head_before);
  // The restored service takes new writes; a retried request that was
  // created only after the checkpoint creates its order anew.
  const std::string again = s.Create("after-0");
  CHECK(after.count(again) + before.count(again) == 0);
  CHECK(s.AllOrderIds().size() == before.size() + 1);
}

TEST_CASE("bad checkpoint requests are refused and write nothing") {
  testing::TempDir scratch;
  const std::string root = scratch.Sub("backups");
  const std::string outside = scratch.Sub("outside");
  fs::create_directories(root);
  fs::create_directories(outside);
  fs::create_directory_symlink(outside, fs::path(root) / "escape-link");
  BackupSuite s({Flag("backup_dir", root)});
  const std::string order = s.Create("one");
  const uint64_t head = s.EventHead();
  v1::CheckpointReply reply;

  // Who: no token, a wrong token, roles other than admin.
  {
    v1::CheckpointRequest req;
    req.set_name("x");
    grpc::ClientContext bare;
    CHECK(s.maintenance->Checkpoint(&bare, req, &reply).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(s.maintenance->Checkpoint(Context("not-a-token").get(), req, &reply).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  for (const char* who : {"agent", "auditor", "service", "partner-a", "app"}) {
    INFO(who);
    CHECK(s.Checkpoint("x", who, &reply).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  // Where: only names below the backup root.
  for (const std::string name :
       {std::string(""), std::string("../escape"), std::string("/tmp/abs"),
        std::string("a/../../escape"), std::string("a//b"), std::string("."),
        std::string("a/./b"), std::string("with space"), std::string("a\\b"),
        std::string(201, 'n'), std::string("escape-link/inside")}) {
    INFO(name);
    grpc::Status st = s.Checkpoint(name, "admin", &reply);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().find("name") != std::string::npos);
  }
  CHECK(fs::is_empty(outside));
  CHECK(!fs::exists(scratch.Sub("escape")));
  // Oversized request.
  CHECK(s.Checkpoint(std::string(2 << 20, 'n'), "admin", &reply).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
  // An existing name is never overwritten.
  REQUIRE(s.Checkpoint("first", "admin", &reply).ok());
  const auto first_files = std::distance(fs::directory_iterator(reply.path()),
                                         fs::directory_iterator());
  fs::create_directories(fs::path(root) / "taken");
  CHECK(s.Checkpoint("first", "admin", &reply).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  CHECK(s.Checkpoint("taken", "admin", &reply).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  CHECK(fs::is_empty(fs::path(root) / "taken"));
  CHECK(std::distance(fs::directory_iterator(fs::path(root) / "first"),
                      fs::directory_iterator()) == first_files);

  // Nothing changed in the service, which still serves.
  CHECK(s.EventHead() == head);
  CHECK(s.AllOrderIds() == std::set<std::string>{order});
  CHECK(testing::HealthStatus(s.intake->channel(), "") == 1);
}

TEST_CASE("aftersalesctl backup takes a checkpoint as admin and reports refusals") {
  testing::TempDir scratch;
  const std::string root = scratch.Sub("backups");
  BackupSuite s({Flag("backup_dir", root)});
  s.Create("one");
  auto ctl = [&](const std::string& who, const std::string& name) {
    testing::ChildProcess p({testing::ServiceBinary("aftersalesctl"),
                             "--intake=" + s.intake->address(), "--token=" + s.token(who),
                             "--json", "backup", "intake", name},
                            scratch.Sub("ctl-" + who + ".log"));
    return p.Wait();
  };
  CHECK(ctl("admin", "via-cli") == 0);
  CHECK(fs::exists(fs::path(root) / "via-cli" / "CURRENT"));
  CHECK(testing::ReadFileOrEmpty(scratch.Sub("ctl-admin.log")).find("\"headSeq\"") !=
        std::string::npos);
  CHECK(ctl("agent", "by-agent") == 1);
  CHECK(testing::ReadFileOrEmpty(scratch.Sub("ctl-agent.log")).find("PERMISSION_DENIED") !=
        std::string::npos);
  CHECK(ctl("admin", "../out") == 1);
  CHECK(ctl("admin", "via-cli") == 1);
  CHECK(!fs::exists(fs::path(root) / "by-agent"));
  CHECK(!fs::exists(scratch.Sub("out")));
}

TEST_CASE("without --backup_dir checkpoints are disabled") {
  BackupSuite s;
  v1::CheckpointReply reply;
  CHECK(s.Checkpoint("x", "admin", &reply).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(s.Checkpoint("x", "agent", &reply).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.Checkpoint("../x", "admin", &reply).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("the health port serves only plaintext health, and goes with the service") {
  const int port = testing::FreeLoopbackPort();
  BackupSuite s({Flag("health_port", std::to_string(port))});
  auto health = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                    grpc::InsecureChannelCredentials());
  CHECK(testing::HealthStatus(health, "") == 1);
  // Nothing else is served there.
  v1::GetOrderRequest get;
  get.set_order_id("WO-1");
  v1::WorkOrder o;
  CHECK(v1::IntakeService::NewStub(health)
            ->GetOrder(Context(s.token("agent")).get(), get, &o)
            .error_code() == grpc::StatusCode::UNIMPLEMENTED);
  REQUIRE(s.intake->Stop() == 0);
  CHECK(testing::HealthStatus(health, "") != 1);
}

}  // namespace
}  // namespace aftersales
