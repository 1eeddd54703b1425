// The audit log of a real service process (intake): its AuditLog RPCs, and a
// record edited on disk between two runs, found by VerifyAuditChain at
// exactly that record.
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "catch2/catch.hpp"
#include "support/fixtures.h"
#include "support/test_support.h"
#include "unit/audit_tamper.h"

namespace aftersales {
namespace {

using testing::Context;

struct AuditSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  std::unique_ptr<testing::ServiceProcess> intake;

  AuditSuite() {
    testing::ServiceProcess::Options o;
    o.name = "intake";
    o.data_dir = dir.Sub("intake");
    o.tokens = &tokens;
    intake = std::make_unique<testing::ServiceProcess>(o);
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }
  std::unique_ptr<v1::AuditLog::Stub> audit() { return v1::AuditLog::NewStub(intake->channel()); }

  std::string CreateOrder(const std::string& request_id) {
    v1::CreateOrderResponse resp;
    grpc::Status s = v1::IntakeService::NewStub(intake->channel())
                         ->CreateOrder(Context(token("partner-a")).get(),
                                       testing::SampleOrderRequest(request_id, "SN-" + request_id),
                                       &resp);
    REQUIRE(s.ok());
    return resp.order().order_id();
  }

  v1::AuditHead Head(const std::string& who = "auditor") {
    v1::AuditHead head;
    REQUIRE(audit()->GetAuditHead(Context(token(who)).get(), {}, &head).ok());
    return head;
  }

  v1::VerifyAuditChainResponse Verify(const v1::VerifyAuditChainRequest& req = {},
                                      const std::string& who = "auditor") {
    v1::VerifyAuditChainResponse resp;
    grpc::Status s = audit()->VerifyAuditChain(Context(token(who)).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  std::vector<v1::AuditRecord> Records(const std::string& subject_id = "") {
    v1::ListAuditRecordsRequest req;
    req.set_subject_id(subject_id);
    req.set_max_records(1000);
    v1::ListAuditRecordsResponse resp;
    REQUIRE(audit()->ListAuditRecords(Context(token("auditor")).get(), req, &resp).ok());
    return {resp.records().begin(), resp.records().end()};
  }
};

// `aftersalesctl audit verify intake` as the auditor: its exit code and output.
std::pair<int, std::string> CtlVerify(AuditSuite& s) {
  static int runs = 0;
  const std::string log = s.dir.Sub("ctl-" + std::to_string(++runs) + ".log");
  testing::ChildProcess ctl({AFTERSALESCTL_BINARY, "--intake=" + s.intake->address(),
                             "--token=" + s.token("auditor"), "audit", "verify", "intake"},
                            log);
  const int code = ctl.Wait();
  return {code, testing::ReadFileOrEmpty(log)};
}

double Metric(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, name + " ")) {
      return std::stod(std::string(line.substr(name.size() + 1)));
    }
  }
  return -1;
}

TEST_CASE("a service's writes are chained and verify end to end over gRPC") {
  AuditSuite s;
  const std::string a = s.CreateOrder("audit-1");
  const std::string b = s.CreateOrder("audit-2");

  const v1::AuditHead head = s.Head();
  CHECK(head.service() == "intake");
  CHECK(head.seq() >= 2);
  CHECK(head.hash().size() == 32);
  CHECK(head.recorded_at().seconds() > 0);

  const auto records = s.Records();
  REQUIRE(records.size() == head.seq());
  CHECK(records.back().hash() == head.hash());
  const auto of_b = s.Records(b);
  REQUIRE(of_b.size() >= 1);
  CHECK(absl::StrContains(of_b[0].action(), "order_created"));

  for (const std::string who : {"auditor", "admin"}) {
    const v1::VerifyAuditChainResponse v = s.Verify({}, who);
    CHECK(v.ok());
    CHECK(v.first_bad_seq() == 0);
    CHECK(v.verified_through_seq() == head.seq());
    CHECK(v.records_checked() == head.seq());
    CHECK(v.head_hash() == head.hash());
  }
  v1::VerifyAuditChainRequest anchored;
  anchored.set_anchor_seq(head.seq());
  anchored.set_anchor_hash(head.hash());
  CHECK(s.Verify(anchored).ok());

  const std::string metrics = s.intake->ScrapeMetrics();
  CHECK(Metric(metrics, "aftersales_audit_records_total") >= 2);
  CHECK(Metric(metrics, "aftersales_audit_head_seq") == static_cast<double>(head.seq()));
  CHECK(Metric(metrics, "aftersales_audit_verify_failures_total") == 0);
  (void)a;
}

TEST_CASE("bad calls to the audit log are refused and change nothing") {
  AuditSuite s;
  s.CreateOrder("audit-bad-1");
  const v1::AuditHead before = s.Head();
  auto stub = s.audit();

  for (const std::string who : {"agent", "partner-a", "engineer", "app", "service"}) {
    v1::AuditHead head;
    CHECK(stub->GetAuditHead(Context(s.token(who)).get(), {}, &head).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::VerifyAuditChainResponse v;
    CHECK(stub->VerifyAuditChain(Context(s.token(who)).get(), {}, &v).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::ListAuditRecordsResponse l;
    CHECK(stub->ListAuditRecords(Context(s.token(who)).get(), {}, &l).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext none;
    v1::VerifyAuditChainResponse v;
    CHECK(stub->VerifyAuditChain(&none, {}, &v).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(stub->VerifyAuditChain(Context("not-a-token").get(), {}, &v).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  auto invalid = [&](const v1::VerifyAuditChainRequest& req, const std::string& field) {
    v1::VerifyAuditChainResponse v;
    grpc::Status st = stub->VerifyAuditChain(Context(s.token("auditor")).get(), req, &v);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(st.error_message(), field));
  };
  v1::VerifyAuditChainRequest req;
  req.set_anchor_seq(1);
  req.set_anchor_hash("short");
  invalid(req, "anchor_hash");
  req.Clear();
  req.set_anchor_hash(std::string(32, 'a'));  // a hash without its seq
  invalid(req, "anchor_hash");
  req.Clear();
  req.set_from_seq(5);
  req.set_to_seq(2);
  invalid(req, "to_seq");
  req.Clear();
  req.set_trusted_prev_hash("abc");
  invalid(req, "trusted_prev_hash");
  {
    v1::ListAuditRecordsRequest l;
    l.set_max_records(5000);
    v1::ListAuditRecordsResponse resp;
    grpc::Status st = stub->ListAuditRecords(Context(s.token("auditor")).get(), l, &resp);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StartsWith(st.error_message(), "max_records"));
    l.set_max_records(-1);
    CHECK(stub->ListAuditRecords(Context(s.token("auditor")).get(), l, &resp).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
    l.set_max_records(10);
    l.set_subject_id("bad id with spaces");
    CHECK(stub->ListAuditRecords(Context(s.token("auditor")).get(), l, &resp).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    v1::VerifyAuditChainRequest big;
    big.set_trusted_prev_hash(std::string(2 << 20, 'x'));
    v1::VerifyAuditChainResponse v;
    CHECK(stub->VerifyAuditChain(Context(s.token("auditor")).get(), big, &v).error_code() ==
          grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  // Nothing was written, nothing counted as a failed verification, and the
  // service still serves.
  const v1::AuditHead after = s.Head();
  CHECK(after.seq() == before.seq());
  CHECK(after.hash() == before.hash());
  CHECK(Metric(s.intake->ScrapeMetrics(), "aftersales_audit_verify_failures_total") == 0);
  s.CreateOrder("audit-bad-2");
  CHECK(s.Head().seq() > before.seq());
  CHECK(s.Verify().ok());
}

TEST_CASE("a record edited on disk while the service is down fails verification at it") {
  AuditSuite s;
  s.CreateOrder("audit-t1");
  const std::string target = s.CreateOrder("audit-t2");
  s.CreateOrder("audit-t3");
  const auto of_target = s.Records(target);
  REQUIRE_FALSE(of_target.empty());
  const uint64_t seq = of_target[0].seq();
  const v1::AuditHead head = s.Head();
  REQUIRE(seq < head.seq());
  REQUIRE(s.Verify().ok());
  auto [intact_code, intact_out] = CtlVerify(s);
  INFO(intact_out);
  CHECK(intact_code == 0);
  CHECK(absl::StrContains(intact_out, "intact"));

  REQUIRE(s.intake->Stop() == 0);
  {
    testing::RawAuditDb raw(s.dir.Sub("intake"));
    v1::AuditRecord r = raw.Record(seq);
    REQUIRE(r.subject_id() == target);
    r.set_subject_id("someone-else");  // rewrite history, leave the hash
    raw.Put(seq, r.SerializeAsString());
  }
  s.intake->Restart();

  const v1::VerifyAuditChainResponse v = s.Verify();
  CHECK_FALSE(v.ok());
  CHECK(v.first_bad_seq() == seq);
  CHECK(v.failure() == v1::AUDIT_FAILURE_HASH_MISMATCH);
  CHECK(v.verified_through_seq() == seq - 1);
  CHECK(absl::StrContains(v.detail(), "record " + std::to_string(seq)));
  CHECK(Metric(s.intake->ScrapeMetrics(), "aftersales_audit_verify_failures_total") == 1);
  auto [broken_code, broken_out] = CtlVerify(s);
  INFO(broken_out);
  CHECK(broken_code == 1);
  CHECK(absl::StrContains(broken_out, "BROKEN"));
  CHECK(absl::StrContains(broken_out, "AUDIT_FAILURE_HASH_MISMATCH"));

  // The service keeps serving and chaining; the part after the damage,
  // checked from its own start, is intact; the head anchored before the
  // edit is still there (the tail was not touched).
  s.CreateOrder("audit-t4");
  CHECK(s.Head().seq() > head.seq());
  v1::VerifyAuditChainRequest rest;
  rest.set_from_seq(seq + 1);
  rest.set_anchor_seq(head.seq());
  rest.set_anchor_hash(head.hash());
  CHECK(s.Verify(rest).ok());
}

}  // namespace
}  // namespace aftersales
