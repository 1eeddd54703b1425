// Complaint with the real intake process: an order's SLA breach, seen on
// intake's stream, raises a late-arrival complaint to G2; a detractor survey
// (satisfaction's stream, scripted: a real EventStream over a real store,
// plus GetSurvey for the comment) files a G4 complaint within seconds with
// the order linked; intake flags the order and books the compensation the
// complaint was resolved with in its ledger.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "catch2/catch.hpp"
#include "clock/stop_signal.h"
#include "events/event_stream.h"
#include "rpc/rpc.h"
#include "store/store.h"
#include "support/order_driver.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;

// Stands in for the satisfaction service until it emits detractors itself:
// its event log (a real store served by the real EventStream) and GetSurvey
// for the comments complaint reads.
class ScriptedSatisfaction final : public v1::SatisfactionService::Service {
 public:
  ScriptedSatisfaction(const std::string& path, const auth::TokenRegistry* tokens)
      : tokens_(tokens) {
    store::Store::Options options;
    options.path = path;
    auto opened = store::Store::Open(options);
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    store_ = *std::move(opened);
    events_ = std::make_unique<events::EventStreamService>(store_.get(), tokens_, &stop_,
                                                           absl::Milliseconds(200));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(events_.get());
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    if (!server_) throw std::runtime_error("scripted satisfaction cannot listen");
  }
  ~ScriptedSatisfaction() override {
    stop_.Stop();
    server_->Shutdown();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void SetComment(const std::string& survey_id, const std::string& comment) {
    absl::MutexLock lock(&mu_);
    comments_[survey_id] = comment;
  }
  int survey_reads() {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

  void Emit(v1::Event e) {
    e.set_producer("satisfaction");
    store::Batch b;
    b.AppendEvent(std::move(e));
    if (absl::Status s = store_->Commit(b); !s.ok()) throw std::runtime_error(s.ToString());
  }

  grpc::Status GetSurvey(grpc::ServerContext* context, const v1::GetSurveyRequest* request,
                         v1::Survey* response) override {
    auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kService});
    RPC_RETURN_IF_ERROR(who.status());
    absl::MutexLock lock(&mu_);
    ++reads_;
    auto it = comments_.find(request->survey_id());
    if (it == comments_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "survey_id");
    response->set_survey_id(request->survey_id());
    response->mutable_response()->set_comment(it->second);
    return grpc::Status::OK;
  }

 private:
  const auth::TokenRegistry* tokens_;
  std::unique_ptr<store::Store> store_;
  StopSignal stop_;
  std::unique_ptr<events::EventStreamService> events_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  absl::Mutex mu_;
  std::map<std::string, std::string> comments_;
  int reads_ = 0;
};

struct FlowSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  ScriptedSatisfaction satisfaction{dir.Sub("scripted-satisfaction"), &registry};
  std::unique_ptr<testing::ServiceProcess> intake, complaint;
  std::unique_ptr<v1::IntakeService::Stub> orders;
  std::unique_ptr<v1::ComplaintService::Stub> complaints;

  FlowSuite() {
    // Each consumes the other: complaint's port is chosen first so intake
    // can follow it from the start (it retries until complaint serves).
    const int complaint_port = testing::FreeLoopbackPort();
    testing::ServiceProcess::Options i;
    i.name = "intake";
    i.data_dir = dir.Sub("intake");
    i.tokens = &tokens;
    i.manual_clock = true;
    i.peers["complaint"] = "127.0.0.1:" + std::to_string(complaint_port);
    intake = std::make_unique<testing::ServiceProcess>(i);
    testing::ServiceProcess::Options c;
    c.name = "complaint";
    c.data_dir = dir.Sub("complaint");
    c.tokens = &tokens;
    c.manual_clock = true;
    c.grpc_port = complaint_port;
    c.peers["intake"] = intake->address();
    c.peers["satisfaction"] = satisfaction.address();
    complaint = std::make_unique<testing::ServiceProcess>(c);
    orders = v1::IntakeService::NewStub(intake->channel());
    complaints = v1::ComplaintService::NewStub(complaint->channel());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void AdvanceIntake(absl::Duration d) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(d);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(intake->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  v1::WorkOrder CreateOrder(const std::string& request_id,
                            v1::CustomerTier tier = v1::CUSTOMER_TIER_STANDARD) {
    auto r = testing::SampleOrderRequest(request_id, "SN-" + request_id);
    r.set_customer_tier(tier);
    r.mutable_appliance()->set_model("BCD-520W");
    v1::CreateOrderResponse resp;
    grpc::Status s = orders->CreateOrder(Context(token("agent")).get(), r, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp.order();
  }

  v1::WorkOrder GetOrder(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    REQUIRE(orders->GetOrder(Context(token("agent")).get(), req, &o).ok());
    return o;
  }

  v1::GradingResult GradeText(const std::string& text, const std::string& order_id) {
    v1::GradeTextRequest req;
    req.set_text(text);
    req.set_order_id(order_id);
    v1::GradingResult g;
    REQUIRE(complaints->GradeText(Context(token("agent")).get(), req, &g).ok());
    return g;
  }

  std::vector<v1::Complaint> OnOrder(const std::string& order_id) {
    v1::ListComplaintsRequest req;
    req.set_order_id(order_id);
    v1::ListComplaintsResponse resp;
    REQUIRE(complaints->ListComplaints(Context(token("agent")).get(), req, &resp).ok());
    return {resp.complaints().begin(), resp.complaints().end()};
  }

  v1::Complaint File(const std::string& request_id, const std::string& order_id,
                     const std::string& text) {
    v1::FileComplaintRequest r;
    r.set_request_id(request_id);
    r.set_customer_id("C100");
    r.set_order_id(order_id);
    r.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
    r.set_text(text);
    v1::FileComplaintResponse resp;
    grpc::Status s = complaints->FileComplaint(Context(token("agent")).get(), r, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp.complaint();
  }

  v1::Event Detractor(const std::string& survey_id, const std::string& order_id, int csat) {
    v1::Event e;
    e.set_subject_id(survey_id);
    auto* d = e.mutable_detractor_detected();
    d->set_survey_id(survey_id);
    d->set_order_id(order_id);
    d->set_customer_id("C100");
    d->set_csat(csat);
    d->set_nps(2);
    d->set_negative_comment(true);
    d->set_complaint_request_id("survey/" + survey_id + "/complaint");
    return e;
  }
};

std::vector<std::string> Evidence(const v1::FiredRule& r) {
  return {r.evidence().begin(), r.evidence().end()};
}

TEST_CASE("an SLA breach on intake's order makes a late-arrival complaint G2, without one it is G1") {
  FlowSuite s;
  const v1::WorkOrder late = s.CreateOrder("flow-late");
  REQUIRE(late.priority() == v1::PRIORITY_EMERGENCY);  // arrival: 30 min, 24x7
  // 74 minutes pass on intake's clock and nobody arrives: intake breaches.
  s.AdvanceIntake(absl::Minutes(74));
  const v1::WorkOrder on_time = s.CreateOrder("flow-on-time");
  REQUIRE(Eventually([&] {
    const v1::WorkOrder o = s.GetOrder(late.order_id());
    for (const auto& c : o.sla_clocks()) {
      if (c.kind() == v1::SLA_CLOCK_KIND_ARRIVAL && c.outcome() == v1::SLA_OUTCOME_BREACHED) {
        return true;
      }
    }
    return false;
  }));
  // Complaint learns of it from intake's stream.
  REQUIRE(Eventually([&] {
    return s.GradeText("The engineer arrived late", late.order_id()).grade() ==
           v1::COMPLAINT_GRADE_G2_SERIOUS;
  }));

  const v1::Complaint c = s.File("late-1", late.order_id(), "师傅迟到了一个多小时");
  CHECK(c.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);
  CHECK(c.category() == v1::COMPLAINT_CATEGORY_RESPONSE_DELAY);
  REQUIRE(c.grading().rules_size() == 1);
  const v1::FiredRule& rule = c.grading().rules(0);
  CHECK(rule.rule_id() == "order_sla_breached");
  const auto ev = Evidence(rule);
  CHECK(ev.front() == "order=" + late.order_id());
  CHECK(std::find(ev.begin(), ev.end(), "ARRIVAL") != ev.end());
  CHECK(c.order_context().known());
  CHECK(c.order_context().sla_breached());
  CHECK(c.region_code() == "CN-310000");
  CHECK(c.appliance_model() == "BCD-520W");
  CHECK(c.owner_level() == v1::OWNER_LEVEL_SERVICE_MANAGER);

  const v1::Complaint plain = s.File("late-2", on_time.order_id(), "师傅迟到了一个多小时");
  CHECK(plain.grade() == v1::COMPLAINT_GRADE_G1_GENERAL);
  CHECK(plain.grading().rules_size() == 0);
  CHECK(plain.order_context().known());
  CHECK_FALSE(plain.order_context().sla_breached());

  // Intake flags both orders with their complaints (it consumes complaint's stream).
  REQUIRE(Eventually([&] {
    const auto ids = s.GetOrder(late.order_id()).complaint_ids();
    return std::find(ids.begin(), ids.end(), c.complaint_id()) != ids.end();
  }));
}

TEST_CASE("a detractor's G4 complaint appears within seconds with the order linked, and its compensation reaches intake's ledger") {
  FlowSuite s;
  const v1::WorkOrder order = s.CreateOrder("flow-det", v1::CUSTOMER_TIER_VIP);
  // Complaint has the order from intake's stream once the order's VIP tier
  // counts (a detractor comes days after the order; here it only must not
  // overtake OrderCreated).
  REQUIRE(Eventually([&] {
    return s.GradeText("ok", order.order_id()).grade() == v1::COMPLAINT_GRADE_G2_SERIOUS;
  }));

  s.satisfaction.SetComment("S-1", "修完以后热水器旁边还是有煤气味，师傅根本不管");
  const absl::Time sent = absl::Now();
  s.satisfaction.Emit(s.Detractor("S-1", order.order_id(), 1));
  std::vector<v1::Complaint> found;
  REQUIRE(Eventually([&] {
    found = s.OnOrder(order.order_id());
    return found.size() == 1;
  }, absl::Seconds(5)));
  const absl::Duration took = absl::Now() - sent;
  CHECK(took < absl::Seconds(5));
  const std::string id = found[0].complaint_id();
  v1::GetComplaintRequest get;
  get.set_complaint_id(id);
  v1::Complaint c;
  REQUIRE(s.complaints->GetComplaint(Context(s.token("agent")).get(), get, &c).ok());
  CHECK(c.grade() == v1::COMPLAINT_GRADE_G4_CRITICAL);
  CHECK(c.owner_level() == v1::OWNER_LEVEL_EMERGENCY_GROUP);
  CHECK(c.channel() == v1::COMPLAINT_CHANNEL_SURVEY_AUTO);
  CHECK(c.order_id() == order.order_id());
  CHECK(c.order_context().known());
  CHECK(c.region_code() == "CN-310000");
  CHECK(c.source_survey_id() == "S-1");
  CHECK(c.customer().customer_id() == "C100");
  CHECK(c.request_id() == "survey/S-1/complaint");
  CHECK(absl::StrContains(c.text(), "煤气味"));
  CHECK(absl::StrContains(c.text(), "CSAT 1/5"));
  REQUIRE(c.grading().rules_size() >= 1);
  CHECK(c.grading().rules(0).rule_id() == "safety_keywords");
  CHECK(Evidence(c.grading().rules(0)) == std::vector<std::string>{"煤气味"});
  CHECK(rpc::FromProto(c.clocks(0).budget()) == absl::Hours(1));
  CHECK(s.satisfaction.survey_reads() >= 1);

  // Satisfaction emits it again (e.g. a replay): still one complaint.
  s.satisfaction.Emit(s.Detractor("S-1", order.order_id(), 1));
  absl::SleepFor(absl::Milliseconds(800));
  CHECK(s.OnOrder(order.order_id()).size() == 1);

  // A survey satisfaction cannot show: filed with the scores as text.
  s.satisfaction.Emit(s.Detractor("S-2", order.order_id(), 2));
  REQUIRE(Eventually([&] { return s.OnOrder(order.order_id()).size() == 2; }, absl::Seconds(5)));
  for (const auto& other : s.OnOrder(order.order_id())) {
    if (other.complaint_id() == id) continue;
    CHECK(other.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);  // the order's VIP customer
    REQUIRE(other.grading().rules_size() == 1);
    CHECK(other.grading().rules(0).rule_id() == "vip_customer");
    CHECK(absl::StrContains(other.text(), "CSAT 2/5"));
    CHECK(other.source_survey_id() == "S-2");
  }

  // Intake flags the order with the complaint.
  REQUIRE(Eventually([&] {
    const auto ids = s.GetOrder(order.order_id()).complaint_ids();
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }));

  // Resolved with compensation: intake books it under "complaint/<id>".
  v1::AcknowledgeComplaintRequest ack;
  ack.set_complaint_id(id);
  REQUIRE(s.complaints->Acknowledge(Context(s.token("agent")).get(), ack, &c).ok());
  v1::StartInvestigationRequest inv;
  inv.set_complaint_id(id);
  REQUIRE(s.complaints->StartInvestigation(Context(s.token("agent")).get(), inv, &c).ok());
  v1::ResolveComplaintRequest res;
  res.set_complaint_id(id);
  res.mutable_investigation()->set_root_cause("Gas valve seal not replaced during the repair");
  res.mutable_investigation()->set_responsible_party(v1::RESPONSIBLE_PARTY_ENGINEER);
  res.mutable_investigation()->set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
  res.mutable_resolution()->set_type(v1::RESOLUTION_TYPE_REPLACE);
  res.mutable_resolution()->set_description("Seal replaced the same night; warranty extended");
  res.mutable_resolution()->mutable_compensation()->set_extended_warranty_days(365);
  REQUIRE(s.complaints->Resolve(Context(s.token("agent")).get(), res, &c).ok());
  CHECK(c.state() == v1::COMPLAINT_STATE_RESOLVED);
  v1::ListCompensationsRequest list;
  list.set_order_id(order.order_id());
  v1::ListCompensationsResponse ledger;
  REQUIRE(Eventually([&] {
    ledger.Clear();
    return s.orders->ListCompensations(Context(s.token("agent")).get(), list, &ledger).ok() &&
           ledger.entries_size() == 1;
  }));
  const auto& entry = ledger.entries(0);
  CHECK(entry.idempotency_key() == "complaint/" + id);
  CHECK(entry.reason() == v1::COMPENSATION_REASON_COMPLAINT_RESOLUTION);
  CHECK(entry.value().extended_warranty_days() == 365);
  CHECK(entry.customer_id() == "C100");
  CHECK(entry.policy().name() == "complaint");
}

}  // namespace
}  // namespace aftersales
