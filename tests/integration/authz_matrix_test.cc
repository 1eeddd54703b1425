// Least privilege (SPEC §8, issue 11): the authorization matrix.
//
// 1. Every RPC of every service each process serves (enumerated through
//    server reflection and the proto descriptors, so a new RPC or service
//    without a row fails this test) is called by every principal of the test
//    token file — partner A, partner B, engineer E1, agent, app, service,
//    admin, auditor — and with no token and a bad token. The answer must be
//    what tests/integration/authz_matrix.csv says: `allow` (anything but
//    PERMISSION_DENIED / UNAUTHENTICATED), `deny` (PERMISSION_DENIED) or
//    `unauth` (UNAUTHENTICATED). Every response is also scanned for the seeded
//    customer's full phone and address: only the assigned engineer may get
//    them.
// 2. docs/authorization.md carries the same table (rendered from the CSV).
// 3. Object level: partners see only their own orders, engineers and offers;
//    an engineer sees only orders assigned to them; the full phone and
//    address reach only the assigned engineer after acceptance, everyone else
//    gets the service area and a 138****5678 mask — in every response shape
//    that carries an order (CreateOrder, GetOrder, ListOrders, ChangePriority,
//    ReportProgress, SyncOfflineReports, WatchOrder, GetOrderTimeline) and in
//    dispatch, complaint and parts responses.
//
// Set AFTERSALES_AUTHZ_OBSERVED=<file> to write the observed matrix as CSV
// (to review a change, never to copy blindly).
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "catch2/catch.hpp"
#include "google/protobuf/text_format.h"
#include "integration/security_support.h"
#include "support/fixtures.h"
#include "support/grpc_probe.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;
using testing::Probe;
using testing::ProbeResult;

constexpr absl::Duration kWait = absl::Seconds(30);

struct Row {
  std::string service;  // full name, e.g. aftersales.v1.IntakeService
  std::string method;
  std::string status;   // live | pending (not implemented yet: UNIMPLEMENTED tolerated)
  std::map<std::string, std::string> cells;  // principal -> allow | deny | unauth
};

std::string MatrixPath() { return testing::SourcePath("tests/integration/authz_matrix.csv"); }

// The CSV: '#' comments, a header naming the principals, one row per RPC.
std::vector<Row> LoadMatrix() {
  std::ifstream in(MatrixPath());
  REQUIRE(in.good());
  std::vector<Row> rows;
  std::vector<std::string> header;
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(l, ',');
    for (auto& f : fields) f = std::string(absl::StripAsciiWhitespace(f));
    if (header.empty()) {
      header = fields;
      REQUIRE(header.size() == 3 + testing::MatrixPrincipals().size());
      for (size_t i = 0; i < testing::MatrixPrincipals().size(); ++i) {
        REQUIRE(header[3 + i] == testing::MatrixPrincipals()[i]);
      }
      continue;
    }
    INFO(line);
    REQUIRE(fields.size() == header.size());
    Row row{fields[0], fields[1], fields[2], {}};
    REQUIRE((row.status == "live" || row.status == "pending"));
    for (size_t i = 3; i < fields.size(); ++i) {
      REQUIRE((fields[i] == "allow" || fields[i] == "deny" || fields[i] == "unauth"));
      row.cells[header[i]] = fields[i];
    }
    rows.push_back(row);
  }
  if (std::getenv("AFTERSALES_AUTHZ_OBSERVED") == nullptr) REQUIRE(!rows.empty());
  return rows;
}

std::string Outcome(const ProbeResult& r) {
  if (r.got_response) return "allow";
  switch (r.code) {
    case grpc::StatusCode::PERMISSION_DENIED: return "deny";
    case grpc::StatusCode::UNAUTHENTICATED: return "unauth";
    case grpc::StatusCode::UNIMPLEMENTED: return "unimplemented";
    default: return "allow";
  }
}

// Markdown table of the matrix, as docs/authorization.md carries it.
std::string RenderMarkdown(const std::vector<Row>& rows) {
  std::string out = "| service | RPC |";
  for (const auto& p : testing::MatrixPrincipals()) absl::StrAppend(&out, " ", p, " |");
  absl::StrAppend(&out, "\n|---|---|");
  for (size_t i = 0; i < testing::MatrixPrincipals().size(); ++i) absl::StrAppend(&out, "---|");
  absl::StrAppend(&out, "\n");
  for (const Row& row : rows) {
    absl::StrAppend(&out, "| ", absl::StripPrefix(row.service, "aftersales.v1."), " | ",
                    row.method, row.status == "pending" ? " (pending)" : "", " |");
    for (const auto& p : testing::MatrixPrincipals()) {
      const std::string& c = row.cells.at(p);
      absl::StrAppend(&out, " ", c == "allow" ? "✓" : c == "deny" ? "✗ denied" : "✗ unauth",
                      " |");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

bool ContainsPii(const std::string& bytes) {
  return absl::StrContains(bytes, testing::kCanaryPhone) ||
         absl::StrContains(bytes, testing::kCanaryAddress);
}

// Seeded world: engineer E1 (PA) holds order O1 (created by partner A,
// accepted and contacted); E2 (PA) holds O4 (created by the agent); O2 was
// created by partner B and nobody can take it; EB1 is partner B's engineer.
struct World {
  testing::Suite suite;
  std::unique_ptr<v1::IntakeService::Stub> intake =
      v1::IntakeService::NewStub(suite["intake"].channel());
  std::unique_ptr<v1::DispatchService::Stub> dispatch =
      v1::DispatchService::NewStub(suite["dispatch"].channel());
  std::unique_ptr<v1::ComplaintService::Stub> complaint =
      v1::ComplaintService::NewStub(suite["complaint"].channel());
  std::string o1, o2, o4, o1_offer;
  int requests = 0;

  const std::string& token(const std::string& who) { return suite.token(who); }

  void Register(const std::string& who, const std::string& id, const std::string& partner,
                const std::string& category, int max_queued) {
    v1::RegisterEngineerRequest req;
    auto* e = req.mutable_engineer();
    e->set_engineer_id(id);
    e->set_partner_id(partner);
    e->set_display_name("Engineer " + id);
    e->set_phone("13900000000");
    auto* skill = e->add_skills();
    skill->set_appliance_category(category);
    skill->set_level(v1::CERTIFICATION_LEVEL_SENIOR);
    e->mutable_coverage()->add_region_codes("CN-310000");
    e->mutable_capacity()->set_max_active(1);
    e->mutable_capacity()->set_max_queued(max_queued);
    e->mutable_location()->set_lat_deg(31.22);
    e->mutable_location()->set_lng_deg(121.46);
    v1::Engineer out;
    grpc::Status s = dispatch->RegisterEngineer(Context(token(who)).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  std::string Create(const std::string& who, const std::string& serial,
                     const std::string& category) {
    auto req = testing::SampleOrderRequest("req-" + serial, serial);
    req.mutable_appliance()->set_category(category);
    if (who == "agent") req.set_channel(v1::CHANNEL_PHONE);
    v1::CreateOrderResponse resp;
    grpc::Status s = intake->CreateOrder(Context(token(who)).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    REQUIRE(resp.created());
    // The creator never gets the contact back, only the mask.
    CHECK(!resp.order().has_contact());
    CHECK(resp.order().customer().masked_phone() == testing::kCanaryMaskedPhone);
    std::string bytes;
    resp.SerializeToString(&bytes);
    CHECK(!ContainsPii(bytes));
    return resp.order().order_id();
  }

  // Waits for the pending offer of `order` and accepts it as `who`.
  std::string Accept(const std::string& order, const std::string& engineer,
                     const std::string& who) {
    v1::ListOffersRequest req;
    req.set_order_id(order);
    v1::ListOffersResponse offers;
    const bool offered = Eventually(
        [&] {
          offers.Clear();
          return dispatch->ListOffers(Context(token("admin")).get(), req, &offers).ok() &&
                 offers.offers_size() == 1 &&
                 offers.offers(0).state() == v1::OFFER_STATE_PENDING;
        },
        kWait);
    if (!offered) {
      v1::GetDispatchOrderRequest get;
      get.set_order_id(order);
      v1::DispatchOrder d;
      grpc::Status s = dispatch->GetDispatchOrder(Context(token("admin")).get(), get, &d);
      INFO("dispatch order: " << s.error_message() << " " << d.ShortDebugString());
      INFO("offers: " << offers.ShortDebugString());
      REQUIRE(offered);
    }
    REQUIRE(offers.offers(0).engineer_id() == engineer);
    v1::AcceptOfferRequest accept;
    accept.set_offer_id(offers.offers(0).offer_id());
    accept.set_engineer_id(engineer);
    v1::Offer out;
    grpc::Status s = dispatch->AcceptOffer(Context(token(who)).get(), accept, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
    REQUIRE(Eventually([&] { return Order("admin", order).has_assignment(); }, kWait));
    return out.offer_id();
  }

  v1::WorkOrder Order(const std::string& who, const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    intake->GetOrder(Context(token(who)).get(), req, &o);
    return o;
  }

  grpc::Status GetOrder(const std::string& who, const std::string& id, v1::WorkOrder* out) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    return intake->GetOrder(Context(token(who)).get(), req, out);
  }

  v1::ReportProgressResponse Contacted(const std::string& who, const std::string& order) {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(order);
    req.mutable_report()->set_client_event_id(absl::StrCat("ev-", ++requests));
    req.mutable_report()->mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
    v1::ReportProgressResponse resp;
    grpc::Status s = intake->ReportProgress(Context(token(who)).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  World() {
    for (const char* id : {"PA", "PB"}) {
      v1::UpsertPartnerRequest p;
      p.mutable_partner()->set_partner_id(id);
      p.mutable_partner()->set_name(std::string("partner ") + id);
      p.mutable_partner()->set_preference(0.5);
      v1::Partner out;
      grpc::Status s = dispatch->UpsertPartner(Context(token("admin")).get(), p, &out);
      INFO(s.error_message());
      REQUIRE(s.ok());
    }
    Register("partner-a", "E1", "PA", "FRIDGE", 0);
    Register("partner-b", "EB1", "PB", "WASHER", 3);
    o1 = Create("partner-a", "SN-A1", "FRIDGE");
    o1_offer = Accept(o1, "E1", "engineer");
    Contacted("engineer", o1);
    o2 = Create("partner-b", "SN-B1", "AIRCON");
    Register("partner-a", "E2", "PA", "FRIDGE", 0);
    o4 = Create("agent", "SN-A4", "FRIDGE");
    Accept(o4, "E2", "partner-a");
    // A complaint on O1 (complaint texts are PII too, but not contact data).
    v1::FileComplaintRequest file;
    file.set_request_id("cp-1");
    file.set_customer_id("C100");
    file.set_order_id(o1);
    file.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
    file.set_text("engineer was late");
    v1::FileComplaintResponse filed;
    grpc::Status s = complaint->FileComplaint(Context(token("agent")).get(), file, &filed);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
};

// Requests that let an allowed role past the handler's object checks, so the
// matrix tests the role gate (an empty request is used otherwise).
const std::map<std::string, std::string>& RequestOverrides() {
  static const std::map<std::string, std::string> overrides = {
      // A partner may watch only its own feed; the test's partner A is PA.
      {"/aftersales.v1.DispatchService/WatchOffers", "partner_id: \"PA\""},
  };
  return overrides;
}

std::string RequestFor(const google::protobuf::MethodDescriptor* method,
                       const std::string& path) {
  auto it = RequestOverrides().find(path);
  if (it == RequestOverrides().end()) return "";
  std::unique_ptr<google::protobuf::Message> msg(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method->input_type())
          ->New());
  REQUIRE(google::protobuf::TextFormat::ParseFromString(it->second, msg.get()));
  return msg->SerializeAsString();
}

TEST_CASE("every RPC of every service answers each principal as the matrix says") {
  World world;
  const std::vector<Row> matrix = LoadMatrix();
  std::map<std::pair<std::string, std::string>, const Row*> by_key;
  for (const Row& r : matrix) {
    INFO(r.service << "/" << r.method);
    REQUIRE(by_key.emplace(std::make_pair(r.service, r.method), &r).second);
    // A stale row (renamed or removed RPC) fails too.
    const auto* service = testing::FindService(r.service);
    REQUIRE(service != nullptr);
    REQUIRE(service->FindMethodByName(r.method) != nullptr);
  }

  std::vector<std::string> problems;
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> observed;
  std::set<std::pair<std::string, std::string>> served;
  int calls = 0;
  for (const std::string& name : testing::ServiceNames()) {
    testing::ServiceProcess& process = world.suite[name];
    const std::vector<std::string> services = testing::ReflectionServices(process.channel());
    REQUIRE(!services.empty());
    for (const std::string& full : services) {
      if (absl::StartsWith(full, "grpc.")) continue;  // health, reflection
      const auto* service = testing::FindService(full);
      if (service == nullptr) {
        problems.push_back(absl::StrCat(name, " serves ", full,
                                        ", a service the test does not know: add its rows"));
        continue;
      }
      for (int m = 0; m < service->method_count(); ++m) {
        const auto* method = service->method(m);
        const auto key = std::make_pair(full, method->name());
        served.insert(key);
        auto row = by_key.find(key);
        if (row == by_key.end()) {
          problems.push_back(absl::StrCat("no matrix row for ", full, "/", method->name()));
        }
        const std::string path = absl::StrCat("/", full, "/", method->name());
        const std::string request = RequestFor(method, path);
        for (const std::string& who : testing::MatrixPrincipals()) {
          const ProbeResult r =
              Probe(process.channel(), path, request, testing::TokenOf(world.suite.tokens, who));
          ++calls;
          const std::string got = Outcome(r);
          observed[key][who] = got;
          if (who != "engineer" && ContainsPii(r.response)) {
            problems.push_back(absl::StrCat(name, " ", path, " as ", who,
                                            ": the response carries the full phone/address"));
          }
          if (row == by_key.end()) continue;
          const std::string& want = row->second->cells.at(who);
          if (got == "unimplemented" && row->second->status == "pending") continue;
          if (got != want) {
            problems.push_back(absl::StrCat(name, " ", path, " as ", who, ": want ", want,
                                            ", got ", got, " (", r.code, " ", r.message, ")"));
          }
        }
        if (row != by_key.end() && row->second->status == "pending" &&
            observed[key]["admin"] != "unimplemented") {
          WARN(path << " is implemented now: mark its row live");
        }
      }
    }
  }
  // Every row names an RPC some process serves (ClockAdmin: manual clocks).
  for (const Row& r : matrix) {
    if (!served.count({r.service, r.method})) {
      problems.push_back(absl::StrCat("matrix row ", r.service, "/", r.method,
                                      " is served by no process"));
    }
  }
  if (const char* path = std::getenv("AFTERSALES_AUTHZ_OBSERVED")) {
    std::ofstream out(path);
    out << "service,method,status," << absl::StrJoin(testing::MatrixPrincipals(), ",") << "\n";
    for (const auto& [key, cells] : observed) {
      out << key.first << "," << key.second << ",live";
      for (const auto& p : testing::MatrixPrincipals()) out << "," << cells.at(p);
      out << "\n";
    }
  }
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems.empty());
  CHECK(calls > 500);
  // Probing changed nothing a seeded principal owns, and every service still serves.
  for (const std::string& name : testing::ServiceNames()) {
    CHECK(testing::HealthStatus(world.suite[name].channel(), "") == 1);
  }
}

TEST_CASE("docs/authorization.md carries the matrix") {
  const std::string doc = testing::ReadFileOrEmpty(testing::SourcePath("docs/authorization.md"));
  REQUIRE(!doc.empty());
  const std::string begin = "<!-- authz-matrix:begin (generated from tests/integration/authz_matrix.csv) -->\n";
  const std::string end = "<!-- authz-matrix:end -->";
  const size_t b = doc.find(begin);
  const size_t e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  const std::string table = doc.substr(b + begin.size(), e - b - begin.size());
  const std::string want = RenderMarkdown(LoadMatrix());
  INFO("docs/authorization.md is out of date; the table between the markers should be:\n"
       << want);
  CHECK(table == want);
}

TEST_CASE("partners and engineers reach only their own orders, engineers and offers, and contact data only the assigned engineer") {
  World w;
  v1::WorkOrder o;

  // --- Orders: who may read which.
  CHECK(w.GetOrder("partner-a", w.o1, &o).ok());   // assigned to PA and created by it
  CHECK(w.GetOrder("partner-a", w.o4, &o).ok());   // assigned to PA's E2
  CHECK(w.GetOrder("partner-a", w.o2, &o).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(w.GetOrder("partner-b", w.o1, &o).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(w.GetOrder("partner-b", w.o4, &o).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(w.GetOrder("partner-b", w.o2, &o).ok());   // it created O2
  CHECK(w.GetOrder("engineer", w.o1, &o).ok());
  CHECK(w.GetOrder("engineer", w.o4, &o).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(w.GetOrder("engineer", w.o2, &o).error_code() == grpc::StatusCode::NOT_FOUND);
  // A missing order and someone else's answer alike (no existence oracle).
  CHECK(w.GetOrder("engineer", "WO-NOPE", &o).error_code() == grpc::StatusCode::NOT_FOUND);

  auto list = [&](const std::string& who, v1::ListOrdersRequest req = {}) {
    v1::ListOrdersResponse resp;
    grpc::Status s = w.intake->ListOrders(Context(w.token(who)).get(), req, &resp);
    std::set<std::string> ids;
    for (const auto& order : resp.orders()) {
      ids.insert(order.order_id());
      if (who != "engineer") CHECK(!order.has_contact());
    }
    std::string bytes;
    resp.SerializeToString(&bytes);
    if (who != "engineer") CHECK(!ContainsPii(bytes));
    return std::make_pair(s, ids);
  };
  CHECK(list("partner-a").second == std::set<std::string>{w.o1, w.o4});
  CHECK(list("partner-b").second.count(w.o1) == 0);
  CHECK(list("partner-b").second.count(w.o4) == 0);
  CHECK(list("engineer").second == std::set<std::string>{w.o1});
  CHECK(list("agent").second == std::set<std::string>{w.o1, w.o2, w.o4});
  {
    v1::ListOrdersRequest other;
    other.set_partner_id("PA");
    CHECK(list("partner-b", other).first.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    v1::ListOrdersRequest other_engineer;
    other_engineer.set_engineer_id("E2");
    CHECK(list("engineer", other_engineer).first.error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::GetOrderTimelineRequest req;
    req.set_order_id(w.o4);
    v1::OrderTimeline t;
    CHECK(w.intake->GetOrderTimeline(Context(w.token("engineer")).get(), req, &t).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    req.set_order_id(w.o1);
    CHECK(w.intake->GetOrderTimeline(Context(w.token("partner-b")).get(), req, &t).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  // Progress on someone else's order: not found, and nothing changes.
  const uint64_t o4_version = w.Order("admin", w.o4).version();
  for (const char* who : {"engineer", "partner-b"}) {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(std::string(who) == "engineer" ? w.o4 : w.o1);
    req.mutable_report()->set_client_event_id(absl::StrCat("foreign-", who));
    req.mutable_report()->mutable_departed();
    v1::ReportProgressResponse resp;
    grpc::Status s = w.intake->ReportProgress(Context(w.token(who)).get(), req, &resp);
    INFO(who << ": " << s.error_message());
    CHECK((s.error_code() == grpc::StatusCode::NOT_FOUND ||
           s.error_code() == grpc::StatusCode::PERMISSION_DENIED));
  }
  CHECK(w.Order("admin", w.o4).version() == o4_version);

  // --- Engineers, offers and partners of another partner.
  {
    v1::GetEngineerRequest req;
    req.set_engineer_id("E1");
    v1::Engineer e;
    const grpc::StatusCode code =
        w.dispatch->GetEngineer(Context(w.token("partner-b")).get(), req, &e).error_code();
    CHECK((code == grpc::StatusCode::PERMISSION_DENIED || code == grpc::StatusCode::NOT_FOUND));
    CHECK(w.dispatch->GetEngineer(Context(w.token("partner-a")).get(), req, &e).ok());
    req.set_engineer_id("E2");
    const grpc::StatusCode other =
        w.dispatch->GetEngineer(Context(w.token("engineer")).get(), req, &e).error_code();
    CHECK((other == grpc::StatusCode::PERMISSION_DENIED || other == grpc::StatusCode::NOT_FOUND));
  }
  {
    v1::ListEngineersRequest req;
    v1::ListEngineersResponse resp;
    REQUIRE(w.dispatch->ListEngineers(Context(w.token("partner-b")).get(), req, &resp).ok());
    REQUIRE(resp.engineers_size() >= 1);
    for (const auto& e : resp.engineers()) CHECK(e.partner_id() == "PB");
    req.set_partner_id("PA");
    CHECK(w.dispatch->ListEngineers(Context(w.token("partner-b")).get(), req, &resp)
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::ListOffersRequest req;
    req.set_partner_id("PA");
    v1::ListOffersResponse resp;
    CHECK(w.dispatch->ListOffers(Context(w.token("partner-b")).get(), req, &resp).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::ListOffersRequest by_order;
    by_order.set_order_id(w.o1);
    resp.Clear();
    const grpc::Status s =
        w.dispatch->ListOffers(Context(w.token("partner-b")).get(), by_order, &resp);
    CHECK((s.error_code() == grpc::StatusCode::PERMISSION_DENIED || resp.offers_size() == 0));
    v1::ListOffersRequest mine;
    mine.set_engineer_id("E2");
    resp.Clear();
    const grpc::Status e = w.dispatch->ListOffers(Context(w.token("engineer")).get(), mine, &resp);
    CHECK((e.error_code() == grpc::StatusCode::PERMISSION_DENIED || resp.offers_size() == 0));
    // Offers never carry contact data (released only via intake after acceptance).
    v1::ListOffersRequest all_pa;
    all_pa.set_partner_id("PA");
    resp.Clear();
    REQUIRE(w.dispatch->ListOffers(Context(w.token("partner-a")).get(), all_pa, &resp).ok());
    CHECK(resp.offers_size() >= 2);
    CHECK(!ContainsPii(resp.SerializeAsString()));
  }
  {
    v1::WatchOffersRequest req;
    req.set_partner_id("PA");
    auto ctx = Context(w.token("partner-b"), absl::Seconds(5));
    auto reader = w.dispatch->WatchOffers(ctx.get(), req);
    v1::OfferFeedMessage m;
    CHECK(!reader->Read(&m));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::AcceptOfferRequest req;
    req.set_offer_id(w.o1_offer);
    req.set_engineer_id("E1");
    v1::Offer out;
    const grpc::StatusCode code =
        w.dispatch->AcceptOffer(Context(w.token("partner-b")).get(), req, &out).error_code();
    CHECK((code == grpc::StatusCode::PERMISSION_DENIED || code == grpc::StatusCode::NOT_FOUND));
    v1::GetPartnerRequest partner;
    partner.set_partner_id("PA");
    v1::Partner p;
    const grpc::StatusCode pc =
        w.dispatch->GetPartner(Context(w.token("partner-b")).get(), partner, &p).error_code();
    CHECK((pc == grpc::StatusCode::PERMISSION_DENIED || pc == grpc::StatusCode::NOT_FOUND));
  }

  // --- PII masking in every response shape that carries an order.
  for (const char* who : {"partner-a", "agent", "app", "service", "admin", "auditor"}) {
    INFO(who);
    v1::WorkOrder view;
    REQUIRE(w.GetOrder(who, w.o1, &view).ok());
    CHECK(!view.has_contact());
    CHECK(view.customer().masked_phone() == testing::kCanaryMaskedPhone);
    CHECK(view.service_area().region_code() == "CN-310000");
    CHECK(!ContainsPii(view.SerializeAsString()));
  }
  // The assigned engineer after acceptance gets the full contact.
  v1::WorkOrder mine;
  REQUIRE(w.GetOrder("engineer", w.o1, &mine).ok());
  CHECK(mine.contact().phone() == testing::kCanaryPhone);
  CHECK(absl::StrContains(mine.contact().full_address(), testing::kCanaryAddress));
  {
    // ReportProgress and SyncOfflineReports answer with the caller's view.
    v1::ReportProgressResponse by_partner = w.Contacted("partner-a", w.o4);
    CHECK(!by_partner.order().has_contact());
    CHECK(!ContainsPii(by_partner.SerializeAsString()));
    v1::SyncOfflineReportsRequest sync;
    sync.set_device_id("dev-1");
    auto* r = sync.add_reports();
    r->set_order_id(w.o4);
    r->set_client_event_id("sync-1");
    r->mutable_device_time()->set_seconds(absl::ToUnixSeconds(testing::kSuiteStart));
    r->mutable_departed();
    v1::SyncOfflineReportsResponse synced;
    REQUIRE(w.intake->SyncOfflineReports(Context(w.token("partner-a")).get(), sync, &synced).ok());
    CHECK(!ContainsPii(synced.SerializeAsString()));
  }
  {
    v1::ChangePriorityRequest req;
    req.set_order_id(w.o1);
    req.set_priority(v1::PRIORITY_URGENT);
    req.set_reason("customer is elderly");
    v1::WorkOrder changed;
    REQUIRE(w.intake->ChangePriority(Context(w.token("agent")).get(), req, &changed).ok());
    CHECK(!changed.has_contact());
    CHECK(!ContainsPii(changed.SerializeAsString()));
  }
  {
    v1::GetOrderTimelineRequest req;
    req.set_order_id(w.o1);
    v1::OrderTimeline t;
    REQUIRE(w.intake->GetOrderTimeline(Context(w.token("agent")).get(), req, &t).ok());
    CHECK(!ContainsPii(t.SerializeAsString()));
  }
  {
    v1::WatchOrderRequest req;
    req.set_order_id(w.o1);
    auto ctx = Context(w.token("app"), absl::Seconds(5));
    auto reader = w.intake->WatchOrder(ctx.get(), req);
    v1::OrderUpdate update;
    REQUIRE(reader->Read(&update));
    CHECK(update.order_id() == w.o1);
    CHECK(!ContainsPii(update.SerializeAsString()));
    ctx->TryCancel();
    reader->Finish();
  }
  {
    v1::GetDispatchOrderRequest req;
    req.set_order_id(w.o1);
    v1::DispatchOrder d;
    REQUIRE(w.dispatch->GetDispatchOrder(Context(w.token("agent")).get(), req, &d).ok());
    CHECK(!ContainsPii(d.SerializeAsString()));
  }
  {
    v1::ListComplaintsRequest req;
    req.set_order_id(w.o1);
    v1::ListComplaintsResponse resp;
    REQUIRE(w.complaint->ListComplaints(Context(w.token("agent")).get(), req, &resp).ok());
    REQUIRE(resp.complaints_size() == 1);
    CHECK(!ContainsPii(resp.SerializeAsString()));
    // A partner reads complaints only on its own orders.
    v1::ListComplaintsResponse foreign;
    const grpc::Status s =
        w.complaint->ListComplaints(Context(w.token("partner-b")).get(), req, &foreign);
    CHECK((!s.ok() || foreign.complaints_size() == 0));
  }
}

TEST_CASE("partners and engineers change and see stock only at their own locations") {
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  testing::ServiceProcess::Options o;
  o.name = "parts";
  o.data_dir = dir.Sub("parts");
  o.tokens = &tokens;
  testing::ServiceProcess parts(o);
  auto stub = v1::PartsService::NewStub(parts.channel());
  auto ctx = [&](const std::string& who) { return Context(tokens.token.at(who)); };
  {
    v1::UpsertPartRequest req;
    req.mutable_part()->set_sku("SKU-1");
    req.mutable_part()->set_name("door seal");
    req.mutable_part()->add_compatible_categories("FRIDGE");
    req.mutable_part()->mutable_unit_price()->set_currency_code("CNY");
    req.mutable_part()->mutable_unit_price()->set_amount_minor(1000);
    req.mutable_part()->set_warranty_days(90);
    req.mutable_part()->set_active(true);
    v1::Part out;
    REQUIRE(stub->UpsertPart(ctx("admin").get(), req, &out).ok());
  }
  auto location = [&](const std::string& id, v1::LocationKind kind, const std::string& partner,
                      const std::string& engineer) {
    v1::UpsertLocationRequest req;
    auto* l = req.mutable_location();
    l->set_location_id(id);
    l->set_kind(kind);
    l->set_name(id);
    l->mutable_point()->set_lat_deg(31.2);
    l->mutable_point()->set_lng_deg(121.4);
    l->set_region_code("CN-310000");
    l->set_partner_id(partner);
    l->set_engineer_id(engineer);
    l->set_active(true);
    v1::StockLocation out;
    grpc::Status s = stub->UpsertLocation(ctx("admin").get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  };
  location("OUT-PA", v1::LOCATION_KIND_OUTLET, "PA", "");
  location("OUT-PB", v1::LOCATION_KIND_OUTLET, "PB", "");
  location("VAN-E1", v1::LOCATION_KIND_ENGINEER_VAN, "PA", "E1");
  location("VAN-E2", v1::LOCATION_KIND_ENGINEER_VAN, "PA", "E2");

  auto receive = [&](const std::string& who, const std::string& loc, int n) {
    v1::ReceiveRequest req;
    req.set_request_id(absl::StrCat("rcv-", who, "-", loc, "-", n));
    req.set_location_id(loc);
    req.set_sku("SKU-1");
    req.set_quantity(5);
    v1::ReceiveResponse resp;
    return stub->Receive(ctx(who).get(), req, &resp).error_code();
  };
  CHECK(receive("partner-a", "OUT-PA", 1) == grpc::StatusCode::OK);
  CHECK(receive("partner-b", "OUT-PB", 1) == grpc::StatusCode::OK);
  CHECK(receive("partner-b", "OUT-PA", 2) == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(receive("partner-a", "OUT-PB", 2) == grpc::StatusCode::PERMISSION_DENIED);
  {
    v1::AdjustRequest req;
    req.set_request_id("adj-1");
    req.set_location_id("OUT-PA");
    req.set_sku("SKU-1");
    req.set_delta(-5);
    req.set_reason(v1::ADJUSTMENT_REASON_LOST);
    v1::AdjustResponse resp;
    CHECK(stub->Adjust(ctx("partner-b").get(), req, &resp).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::TransferRequest req;
    req.set_request_id("tr-1");
    req.set_sku("SKU-1");
    req.set_quantity(1);
    req.set_from_location_id("OUT-PA");
    req.set_to_location_id("OUT-PB");
    v1::StockTransfer out;
    CHECK(stub->Transfer(ctx("partner-b").get(), req, &out).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  // Stock views: own locations only.
  auto stock = [&](const std::string& who, const std::string& loc) {
    v1::GetStockByLocationRequest req;
    req.set_location_id(loc);
    v1::GetStockByLocationResponse resp;
    grpc::Status s = stub->GetStockByLocation(ctx(who).get(), req, &resp);
    return std::make_pair(s.error_code(), resp.levels_size());
  };
  CHECK(stock("partner-a", "OUT-PA") == std::make_pair(grpc::StatusCode::OK, 1));
  const auto foreign = stock("partner-b", "OUT-PA");
  CHECK((foreign.first == grpc::StatusCode::PERMISSION_DENIED ||
         foreign.first == grpc::StatusCode::NOT_FOUND || foreign.second == 0));
  const auto other_van = stock("engineer", "VAN-E2");
  CHECK((other_van.first == grpc::StatusCode::PERMISSION_DENIED ||
         other_van.first == grpc::StatusCode::NOT_FOUND || other_van.second == 0));
  // Stock the partners were refused is unchanged.
  CHECK(stock("admin", "OUT-PA").second == 1);
  {
    v1::GetStockByLocationRequest req;
    req.set_location_id("OUT-PA");
    v1::GetStockByLocationResponse resp;
    REQUIRE(stub->GetStockByLocation(ctx("admin").get(), req, &resp).ok());
    REQUIRE(resp.levels_size() == 1);
    CHECK(resp.levels(0).on_hand() == 5);
  }
}

}  // namespace
}  // namespace aftersales
