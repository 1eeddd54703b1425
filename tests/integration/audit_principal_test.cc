// Who each audit record says caused it (docs/audit.md, "Who is recorded"):
// the authenticated caller of an RPC, "system:background" for the sweeper,
// "consumer:<producer>" for an event a consumer applied; a refused call
// writes nothing under anyone's name.
#include <set>

#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;

std::vector<v1::AuditRecord> Records(testing::ServiceProcess& service,
                                     const std::string& auditor_token,
                                     const std::string& subject_id = "") {
  v1::ListAuditRecordsRequest req;
  req.set_subject_id(subject_id);
  req.set_max_records(1000);
  v1::ListAuditRecordsResponse resp;
  grpc::Status s = v1::AuditLog::NewStub(service.channel())
                       ->ListAuditRecords(Context(auditor_token).get(), req, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  return {resp.records().begin(), resp.records().end()};
}

std::set<std::string> Principals(const std::vector<v1::AuditRecord>& records) {
  std::set<std::string> out;
  for (const auto& r : records) out.insert(r.actor().principal_id());
  return out;
}

TEST_CASE("audit records name the authenticated caller, the background loop and a consumer's producer") {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  testing::ServiceProcess::Options io;
  io.name = "intake";
  io.data_dir = dir.Sub("intake");
  io.tokens = &tokens;
  io.manual_clock = true;
  testing::ServiceProcess intake(io);
  auto stub = v1::IntakeService::NewStub(intake.channel());
  const std::string auditor = tokens.token.at("auditor");

  auto create = [&](const std::string& who, const std::string& request_id) {
    v1::CreateOrderResponse resp;
    grpc::Status s = stub->CreateOrder(Context(tokens.token.at(who)).get(),
                                       testing::SampleOrderRequest(request_id, "SN-" + request_id),
                                       &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp.order().order_id();
  };
  // Interleaved on the service's reused server threads (TestTokens: the
  // "agent" token is principal agent-1).
  const std::string by_agent = create("agent", "r-agent-1");
  const std::string by_partner = create("partner-a", "r-partner-1");
  const std::string by_agent2 = create("agent", "r-agent-2");

  auto agent_records = Records(intake, auditor, by_agent);
  REQUIRE_FALSE(agent_records.empty());
  CHECK(Principals(agent_records) == std::set<std::string>{"agent-1"});
  auto partner_records = Records(intake, auditor, by_partner);
  REQUIRE_FALSE(partner_records.empty());
  CHECK(Principals(partner_records) == std::set<std::string>{"partner-a"});
  CHECK(Principals(Records(intake, auditor, by_agent2)) == std::set<std::string>{"agent-1"});

  // A refused call (wrong token) commits nothing, under no one's name.
  const uint64_t head_before = Records(intake, auditor).back().seq();
  v1::CreateOrderResponse resp;
  CHECK(stub->CreateOrder(Context("not-a-token").get(),
                          testing::SampleOrderRequest("r-bad", "SN-bad"), &resp)
            .error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(Records(intake, auditor).back().seq() == head_before);

  // Intake's sweeper (its background loop) commits as "system:background"
  // once the orders' deadlines pass.
  v1::AdvanceTimeRequest advance;
  *advance.mutable_by() = rpc::ToProto(absl::Hours(24 * 10));
  v1::ClockTime now;
  REQUIRE(v1::ClockAdmin::NewStub(intake.channel())
              ->AdvanceTime(Context(tokens.token.at("admin")).get(), advance, &now)
              .ok());
  std::set<std::string> swept;
  REQUIRE(testing::Eventually([&] {
    swept.clear();
    for (const auto& r : Records(intake, auditor)) {
      if (r.actor().principal_id() != "system:background") continue;
      CHECK(r.action().find("sla_breached#") != std::string::npos);
      swept.insert(r.subject_id());
    }
    return swept == std::set<std::string>{by_agent, by_partner, by_agent2};
  }));
  // The callers' records still name the callers.
  CHECK(Principals(Records(intake, auditor, by_partner)) ==
        std::set<std::string>{"partner-a", "system:background"});

  // Dispatch follows intake: what its consumer commits is "consumer:intake".
  testing::ServiceProcess::Options d;
  d.name = "dispatch";
  d.data_dir = dir.Sub("dispatch");
  d.tokens = &tokens;
  d.peers["intake"] = intake.address();
  testing::ServiceProcess dispatch(d);
  std::vector<v1::AuditRecord> consumed;
  REQUIRE(testing::Eventually([&] {
    consumed.clear();
    for (const auto& r : Records(dispatch, auditor)) {
      if (r.actor().principal_id() == "consumer:intake") consumed.push_back(r);
    }
    // Each applied event is one commit (effect + cursor): >= 3 orders' worth.
    return consumed.size() >= 3;
  }));
  for (const auto& r : consumed) CHECK(r.action().find("meta+") != std::string::npos);
  // Nothing dispatch wrote is attributed to intake's callers.
  for (const auto& p : Principals(Records(dispatch, auditor))) {
    CHECK(p != "agent-1");
    CHECK(p != "partner-a");
  }
}

}  // namespace
}  // namespace aftersales
