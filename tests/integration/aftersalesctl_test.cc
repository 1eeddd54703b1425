// The operator CLI against real intake, dispatch, complaint and satisfaction
// processes (manual clocks): data is made through the services' RPCs, then
// the built `aftersalesctl` binary runs as a child process and its tables,
// its --json output (parsed back into the response messages) and its exit
// codes are checked against what the services answer directly.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "rpc/rpc.h"
#include "support/order_driver.h"
#include "support/fixtures.h"
#include "support/test_support.h"

extern char** environ;

namespace aftersales {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::FreeLoopbackPort;
using testing::Context;
using testing::Eventually;

// Monday 2026-11-23 10:00 in Shanghai (02:00 UTC): inside service hours.
const absl::Time kStart = absl::FromUnixSeconds(1795399200);
const char kStartUtc[] = "2026-11-23T02:00:00Z";
const char kStartShanghai[] = "2026-11-23T10:00:00+08:00";

std::string CtlBinary() {
  if (getenv("AFTERSALES_BIN_DIR") != nullptr) return testing::ServiceBinary("aftersalesctl");
  return AFTERSALESCTL_BINARY;
}

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs the CLI with `args` (no shell); the environment is the test's without
// any AFTERSALES_* variable, plus `env`.
Result RunCtl(const std::string& dir, const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env = {}) {
  static int runs = 0;
  const std::string out_file = absl::StrCat(dir, "/ctl-", ++runs, ".out");
  const std::string err_file = absl::StrCat(dir, "/ctl-", runs, ".err");
  std::vector<std::string> argv = {CtlBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "AFTERSALES_")) envs.push_back(*e);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  int status = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > give_up) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      FAIL("aftersalesctl did not finish within 60 s");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = testing::ReadFileOrEmpty(out_file);
  r.err = testing::ReadFileOrEmpty(err_file);
  return r;
}

// The cells of a table's rows: the table starts at the line that begins with
// `header` and ends at the first empty line. Cells are 2+ spaces apart.
std::vector<std::vector<std::string>> Rows(const std::string& out, const std::string& header) {
  std::vector<std::vector<std::string>> rows;
  bool in = false;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (!in) {
      in = absl::StartsWith(line, header);
      continue;
    }
    if (line.empty()) break;
    if (line == "(none)" || absl::StartsWith(line, "(stopped at")) continue;
    std::vector<std::string> cells;
    for (absl::string_view cell : absl::StrSplit(line, "  ", absl::SkipEmpty())) {
      cells.emplace_back(absl::StripAsciiWhitespace(cell));
    }
    rows.push_back(cells);
  }
  REQUIRE(in);
  return rows;
}

// The value of a "key  value" line.
std::string Value(const std::string& out, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::StartsWith(line, key + "  ")) {
      return std::string(absl::StripAsciiWhitespace(line.substr(key.size())));
    }
  }
  FAIL("no line \"" << key << "\" in:\n" << out);
  return "";
}

// Column `index` of a table's rows.
std::vector<std::string> Column(const std::string& out, const std::string& header,
                                size_t index) {
  std::vector<std::string> col;
  for (const auto& row : Rows(out, header)) {
    REQUIRE(row.size() > index);
    col.push_back(row[index]);
  }
  return col;
}

template <typename M>
M FromJson(const Result& r) {
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  M m;
  auto s = google::protobuf::util::JsonStringToMessage(r.out, &m);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return m;
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  const bool same = d.Compare(a, b);
  if (!same) UNSCOPED_INFO(diff);
  return same;
}

struct Suite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  std::unique_ptr<testing::ServiceProcess> intake, dispatch, complaint, satisfaction;
  std::unique_ptr<v1::IntakeService::Stub> orders;
  std::unique_ptr<v1::DispatchService::Stub> offers;
  std::unique_ptr<v1::ComplaintService::Stub> complaints;
  std::unique_ptr<v1::SatisfactionService::Stub> surveys;

  Suite() {
    const int dispatch_port = FreeLoopbackPort(), complaint_port = FreeLoopbackPort(),
              sat_port = FreeLoopbackPort();
    auto addr = [](int port) { return "127.0.0.1:" + std::to_string(port); };
    auto options = [&](const std::string& name) {
      testing::ServiceProcess::Options o;
      o.name = name;
      o.data_dir = dir.Sub(name);
      o.tokens = &tokens;
      o.manual_clock = true;
      o.extra_flags = {"--clock_start=2026-11-23T02:00:00Z"};
      return o;
    };
    auto io = options("intake");
    io.peers = {{"dispatch", addr(dispatch_port)},
                {"complaint", addr(complaint_port)},
                {"satisfaction", addr(sat_port)}};
    intake = std::make_unique<testing::ServiceProcess>(io);
    auto d = options("dispatch");
    d.grpc_port = dispatch_port;
    d.peers = {{"intake", intake->address()}};
    dispatch = std::make_unique<testing::ServiceProcess>(d);
    auto c = options("complaint");
    c.grpc_port = complaint_port;
    c.peers = {{"intake", intake->address()}, {"satisfaction", addr(sat_port)}};
    complaint = std::make_unique<testing::ServiceProcess>(c);
    auto s = options("satisfaction");
    s.grpc_port = sat_port;
    s.peers = {{"intake", intake->address()}, {"complaint", addr(complaint_port)}};
    satisfaction = std::make_unique<testing::ServiceProcess>(s);
    orders = v1::IntakeService::NewStub(intake->channel());
    offers = v1::DispatchService::NewStub(dispatch->channel());
    complaints = v1::ComplaintService::NewStub(complaint->channel());
    surveys = v1::SatisfactionService::NewStub(satisfaction->channel());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  // The service addresses; the token is the caller's business.
  std::vector<std::string> Addresses() {
    return {"--intake=" + intake->address(), "--dispatch=" + dispatch->address(),
            "--complaint=" + complaint->address(),
            "--satisfaction=" + satisfaction->address()};
  }

  // Runs the CLI as the admin principal.
  Result Ctl(std::vector<std::string> args) {
    std::vector<std::string> all = Addresses();
    all.push_back("--token=" + token("admin"));
    all.insert(all.end(), args.begin(), args.end());
    return RunCtl(dir.path(), all);
  }

  // A run that must succeed.
  std::string Ok(std::vector<std::string> args) {
    Result r = Ctl(args);
    INFO(absl::StrJoin(args, " ") << "\nstdout:\n" << r.out << "stderr:\n" << r.err);
    REQUIRE(r.code == 0);
    REQUIRE(r.err.empty());
    return r.out;
  }

  void AdvanceIntake(absl::Duration by) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(by);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(intake->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  void RegisterEngineer() {
    v1::UpsertPartnerRequest p;
    p.mutable_partner()->set_partner_id("PA");
    p.mutable_partner()->set_name("partner PA");
    p.mutable_partner()->set_preference(0.5);
    v1::Partner partner;
    REQUIRE(offers->UpsertPartner(Context(token("admin")).get(), p, &partner).ok());
    v1::RegisterEngineerRequest req;
    auto* e = req.mutable_engineer();
    e->set_engineer_id("E1");  // the test's "engineer" principal
    e->set_partner_id("PA");
    e->set_display_name("Engineer E1");
    auto* skill = e->add_skills();
    skill->set_appliance_category("FRIDGE");
    skill->set_level(v1::CERTIFICATION_LEVEL_INTERMEDIATE);
    e->mutable_coverage()->add_region_codes("CN-310000");
    e->mutable_location()->set_lat_deg(31.23);
    e->mutable_location()->set_lng_deg(121.47);
    v1::Engineer out;
    grpc::Status s = offers->RegisterEngineer(Context(token("partner-a")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  std::string CreateOrder(v1::CreateOrderRequest req) {
    v1::CreateOrderResponse resp;
    grpc::Status s = orders->CreateOrder(Context(token("agent")).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp.order().order_id();
  }

  v1::CreateOrderRequest Elsewhere(const std::string& id, const std::string& region, double lat,
                                   double lng) {
    auto req = testing::SampleOrderRequest(id, "SN-" + id);
    req.mutable_fault()->set_description("door seal is loose");
    req.mutable_service_area()->set_region_code(region);
    req.mutable_service_area()->mutable_location()->set_lat_deg(lat);
    req.mutable_service_area()->mutable_location()->set_lng_deg(lng);
    return req;
  }

  v1::DispatchOrder DispatchOrder(const std::string& id) {
    v1::GetDispatchOrderRequest req;
    req.set_order_id(id);
    v1::DispatchOrder d;
    offers->GetDispatchOrder(Context(token("agent")).get(), req, &d);
    return d;
  }

  v1::WorkOrder Order(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    REQUIRE(orders->GetOrder(Context(token("admin")).get(), req, &o).ok());
    return o;
  }

  void Report(const std::string& who, const std::string& id, const std::string& event,
              const std::function<void(v1::ProgressReport&)>& fill) {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(id);
    req.mutable_report()->set_client_event_id(id + "-" + event);
    fill(*req.mutable_report());
    v1::ReportProgressResponse resp;
    grpc::Status s = orders->ReportProgress(Context(token(who)).get(), req, &resp);
    INFO(event << ": " << s.error_message());
    REQUIRE(s.ok());
  }

  // Order A: Shanghai, offered to E1; 20 minutes pass on intake's clock
  // before anyone calls (first_contact breaches), then E1 accepts.
  std::string AcceptedOrder() {
    RegisterEngineer();
    const std::string id = CreateOrder(testing::SampleOrderRequest("cli-A", "SN-cli-A"));
    REQUIRE(Eventually([&] { return DispatchOrder(id).state() == v1::DISPATCH_STATE_OFFERED; }));
    AdvanceIntake(absl::Minutes(20));
    v1::ListOffersRequest lo;
    lo.set_order_id(id);
    v1::ListOffersResponse listed;
    REQUIRE(offers->ListOffers(Context(token("engineer")).get(), lo, &listed).ok());
    REQUIRE(listed.offers_size() == 1);
    v1::AcceptOfferRequest accept;
    accept.set_offer_id(listed.offers(0).offer_id());
    accept.set_engineer_id("E1");
    v1::Offer accepted;
    REQUIRE(offers->AcceptOffer(Context(token("engineer")).get(), accept, &accepted).ok());
    REQUIRE(Eventually([&] { return Order(id).assignment().engineer_id() == "E1"; }));
    return id;
  }

  // Order A to FOLLOWED_UP through a survey answered CSAT 4, NPS 8, every
  // dimension 4, solved.
  std::string FollowedUpOrder() {
    const std::string id = AcceptedOrder();
    Report("engineer", id, "contacted", [](v1::ProgressReport& r) {
      r.mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
    });
    Report("engineer", id, "arrived", [](v1::ProgressReport& r) { r.mutable_arrived(); });
    Report("engineer", id, "diagnosed", [](v1::ProgressReport& r) {
      r.mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("SENSOR");
    });
    Report("engineer", id, "repaired", [](v1::ProgressReport& r) {
      r.mutable_repaired()->mutable_result()->set_final_cause_code("SENSOR");
      r.mutable_repaired()->mutable_result()->set_first_visit_fix(true);
    });
    Report("app", id, "confirmed", [](v1::ProgressReport& r) {
      r.mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
    });
    v1::ListSurveysRequest ls;
    ls.set_order_id(id);
    v1::ListSurveysResponse listed;
    REQUIRE(Eventually([&] {
      listed.Clear();
      return surveys->ListSurveys(Context(token("agent")).get(), ls, &listed).ok() &&
             listed.surveys_size() == 1;
    }));
    v1::SubmitSurveyRequest submit;
    submit.set_survey_id(listed.surveys(0).survey_id());
    submit.set_request_id("answer-1");
    auto* r = submit.mutable_response();
    r->set_csat(4);
    r->set_nps(8);
    auto* d = r->mutable_dimensions();
    d->set_booking_convenience(4);
    d->set_timeliness(4);
    d->set_engineer_attitude(4);
    d->set_professionalism(4);
    d->set_fee_transparency(4);
    d->set_site_etiquette(4);
    r->set_problem_solved(true);
    r->set_comment("fine");
    v1::SubmitSurveyResponse answered;
    REQUIRE(surveys->SubmitSurvey(Context(token("app")).get(), submit, &answered).ok());
    REQUIRE(Eventually([&] { return Order(id).state() == v1::ORDER_STATE_FOLLOWED_UP; }));
    return id;
  }

  // Orders nobody can take: one in Beijing, three in Guangzhou (no engineers).
  std::vector<std::string> UnassignableOrders() {
    std::vector<std::string> ids = {CreateOrder(Elsewhere("cli-B", "CN-110000", 39.90, 116.40))};
    for (int i = 1; i <= 3; ++i) {
      ids.push_back(CreateOrder(
          Elsewhere("cli-C" + std::to_string(i), "CN-440100", 23.13, 113.26 + 0.01 * i)));
    }
    for (const auto& id : ids) {
      REQUIRE(Eventually(
          [&] { return DispatchOrder(id).state() == v1::DISPATCH_STATE_UNASSIGNABLE; }));
    }
    return ids;
  }

  v1::ListOrdersResponse AllOrders() {
    v1::ListOrdersRequest req;
    req.mutable_page()->set_page_size(500);
    v1::ListOrdersResponse resp;
    REQUIRE(orders->ListOrders(Context(token("admin")).get(), req, &resp).ok());
    return resp;
  }
};

const v1::SlaClock& ClockOf(const v1::WorkOrder& o, v1::SlaClockKind kind) {
  for (const auto& c : o.sla_clocks()) {
    if (c.kind() == kind) return c;
  }
  FAIL("no clock " << kind);
  return o.sla_clocks(0);
}

std::set<std::string> AsSet(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

TEST_CASE("orders get, list and timeline print the orders as tables and as JSON") {
  Suite s;
  const std::string a = s.FollowedUpOrder();
  const std::vector<std::string> others = s.UnassignableOrders();
  const v1::WorkOrder order = s.Order(a);

  // orders get: key/value lines and the SLA clocks table, times in UTC.
  const std::string got = s.Ok({"orders", "get", a});
  CHECK(Value(got, "order") == a);
  CHECK(Value(got, "state") == "FOLLOWED_UP");
  CHECK(absl::StartsWith(Value(got, "engineer"), "E1 (partner PA"));
  CHECK(Value(got, "region") == "CN-310000 (tier 1)");
  CHECK(absl::StartsWith(Value(got, "created"), std::string(kStartUtc) + " by "));
  CHECK(absl::StrContains(Value(got, "flags"), "breached"));
  // first_contact: 20 minutes passed before the call, so it breached by 20
  // minutes minus its budget.
  const v1::SlaClock& first = ClockOf(order, v1::SLA_CLOCK_KIND_FIRST_CONTACT);
  const int64_t budget_min = absl::ToInt64Minutes(rpc::FromProto(first.budget()));
  REQUIRE(budget_min < 20);
  bool found = false;
  for (const auto& row : Rows(got, "KIND")) {
    if (row[0] != "FIRST_CONTACT") continue;
    found = true;
    REQUIRE(row.size() == 11);
    CHECK(row[1] == (order.priority() == v1::PRIORITY_EMERGENCY ? "WALL_24X7" : "SERVICE_HOURS"));
    CHECK(row[2] == kStartUtc);
    CHECK(row[3] == absl::StrCat(budget_min, "m"));
    CHECK(row[5] == "2026-11-23T02:20:00Z");  // stopped at the call
    CHECK(row[6] == "BREACHED");
    CHECK(row[9] == absl::StrCat(20 - budget_min, "m"));
    CHECK(row[10] != "-");  // a breach names its cause
  }
  CHECK(found);
  CHECK(Rows(got, "KIND").size() == static_cast<size_t>(order.sla_clocks_size()));

  // --tz shows the same instants in another zone.
  const std::string shanghai = s.Ok({"orders", "get", a, "--tz=Asia/Shanghai"});
  CHECK(absl::StartsWith(Value(shanghai, "created"), kStartShanghai));

  // --json is the WorkOrder the service returns.
  const auto json = FromJson<v1::WorkOrder>(s.Ctl({"--json", "orders", "get", a}));
  CHECK(Same(json, s.Order(a)));

  // orders list: newest first, every order; filters reach the service.
  const v1::ListOrdersResponse all = s.AllOrders();
  REQUIRE(all.orders_size() == 5);
  std::vector<std::string> newest_first;
  for (const auto& o : all.orders()) newest_first.push_back(o.order_id());
  const std::string listed = s.Ok({"orders", "list"});
  CHECK(Column(listed, "ORDER_ID", 0) == newest_first);
  for (const auto& row : Rows(listed, "ORDER_ID")) {
    REQUIRE(row.size() >= 9);
    if (row[0] == a) {
      CHECK(row[1] == "FOLLOWED_UP");
      CHECK(row[7] == "E1");
      CHECK(absl::StrContains(row.back(), "breached"));
    } else {
      CHECK(row[1] == "CREATED");
      CHECK(row[7] == "-");
      CHECK(absl::StrContains(row.back(), "unassignable"));
    }
  }
  CHECK(Column(s.Ok({"orders", "list", "--region=CN-110000"}), "ORDER_ID", 0) ==
        std::vector<std::string>{others[0]});
  CHECK(Column(s.Ok({"orders", "list", "--breached"}), "ORDER_ID", 0) ==
        std::vector<std::string>{a});
  CHECK(Column(s.Ok({"orders", "list", "--state=followed_up"}), "ORDER_ID", 0) ==
        std::vector<std::string>{a});
  CHECK(Column(s.Ok({"orders", "list", "--engineer", "E1"}), "ORDER_ID", 0) ==
        std::vector<std::string>{a});
  CHECK(Column(s.Ok({"orders", "list", "--state=CREATED,FOLLOWED_UP"}), "ORDER_ID", 0).size() ==
        5);
  CHECK(AsSet(Column(s.Ok({"orders", "list", "--state=CREATED"}), "ORDER_ID", 0)) ==
        AsSet(others));
  CHECK(Rows(s.Ok({"orders", "list", "--region=CN-999999"}), "ORDER_ID").empty());

  // --limit follows page tokens: 4 orders in pages of 2, the rest left.
  const std::string limited = s.Ok({"orders", "list", "--limit=4", "--page-size=2"});
  CHECK(Column(limited, "ORDER_ID", 0) ==
        std::vector<std::string>(newest_first.begin(), newest_first.begin() + 4));
  CHECK(absl::StrContains(limited, "(stopped at --limit=4; there are more)"));
  const auto page =
      FromJson<v1::ListOrdersResponse>(s.Ctl({"orders", "list", "--limit=4", "--page-size=2", "--json"}));
  REQUIRE(page.orders_size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(page.orders(i).order_id() == newest_first[i]);
  CHECK_FALSE(page.next_page_token().empty());
  const auto whole = FromJson<v1::ListOrdersResponse>(s.Ctl({"orders", "list", "--json"}));
  CHECK(Same(whole, all));

  // orders timeline: the transitions in order, clocks and steps.
  const std::string tl = s.Ok({"orders", "timeline", a});
  v1::GetOrderTimelineRequest treq;
  treq.set_order_id(a);
  v1::OrderTimeline timeline;
  REQUIRE(s.orders->GetOrderTimeline(Context(s.token("admin")).get(), treq, &timeline).ok());
  const auto transitions = Rows(tl, "#");
  REQUIRE(transitions.size() == static_cast<size_t>(timeline.transitions_size()));
  std::vector<std::string> reached;  // the states the order went through, in order
  for (size_t i = 0; i < transitions.size(); ++i) {
    const auto& row = transitions[i];
    const auto& t = timeline.transitions(static_cast<int>(i));
    REQUIRE(row.size() == 8);
    CHECK(row[0] == std::to_string(t.index()));
    CHECK(row[2] == v1::OrderState_Name(t.to_state()).substr(12));
    CHECK(row[3] == v1::ProgressMilestone_Name(t.milestone()).substr(19));
    CHECK(absl::StartsWith(row[4], t.actor().principal_id()));
    if (reached.empty() || reached.back() != row[2]) reached.push_back(row[2]);
  }
  CHECK(reached == std::vector<std::string>{"CREATED", "CONTACTED", "ASSIGNED", "ON_SITE",
                                            "DIAGNOSED", "REPAIRED", "CONFIRMED",
                                            "FOLLOWED_UP"});
  CHECK(transitions[0][1] == "-");
  CHECK(transitions[0][5] == kStartUtc);
  CHECK(transitions.back()[5] == "2026-11-23T02:20:00Z");
  CHECK(Rows(tl, "KIND").size() == static_cast<size_t>(timeline.sla_clocks_size()));
  CHECK(Rows(tl, "STEP").size() == static_cast<size_t>(timeline.steps_size()));
  CHECK(Column(tl, "STEP", 0)[0] == "INTAKE");
  CHECK(Same(FromJson<v1::OrderTimeline>(s.Ctl({"orders", "timeline", a, "--json"})), timeline));

  // An order nobody has is the service's NOT_FOUND, exit 1.
  const Result missing = s.Ctl({"orders", "get", "NO-SUCH-ORDER"});
  CHECK(missing.code == 1);
  CHECK(absl::StrContains(missing.err, "NOT_FOUND"));
  CHECK(missing.out.empty());
}

TEST_CASE("offers, the unassigned queue and dispatch orders come from dispatch") {
  Suite s;
  const std::string a = s.AcceptedOrder();
  const std::vector<std::string> queued = s.UnassignableOrders();

  const std::string by_order = s.Ok({"offers", "list", "--order=" + a});
  const auto offer_rows = Rows(by_order, "OFFER_ID");
  REQUIRE(offer_rows.size() == 1);
  CHECK(offer_rows[0][1] == a);
  CHECK(offer_rows[0][2] == "E1");
  CHECK(offer_rows[0][3] == "PA");
  CHECK(offer_rows[0][4] == "1");
  CHECK(offer_rows[0][5] == "ACCEPTED");
  CHECK(offer_rows[0][6] == kStartUtc);  // dispatch's clock did not move

  v1::ListOffersRequest lo;
  lo.set_partner_id("PA");
  lo.set_state(v1::OFFER_STATE_ACCEPTED);
  v1::ListOffersResponse direct;
  REQUIRE(s.offers->ListOffers(Context(s.token("admin")).get(), lo, &direct).ok());
  const auto json = FromJson<v1::ListOffersResponse>(
      s.Ctl({"offers", "list", "--partner=PA", "--state=accepted", "--json"}));
  REQUIRE(json.offers_size() == 1);
  CHECK(Same(json, direct));
  CHECK(Rows(s.Ok({"offers", "list", "--engineer=E1", "--state=REJECTED"}), "OFFER_ID").empty());
  const Result no_selector = s.Ctl({"offers", "list"});
  CHECK(no_selector.code == 2);
  CHECK(absl::StrContains(no_selector.err, "--order, --engineer or --partner"));
  CHECK(absl::StrContains(no_selector.err, "usage:\n  aftersalesctl offers list --order=ID"));

  // The queue: every unassignable order; --region narrows it.
  v1::ListUnassignedRequest lu;
  v1::ListUnassignedResponse queue;
  REQUIRE(s.offers->ListUnassigned(Context(s.token("admin")).get(), lu, &queue).ok());
  REQUIRE(queue.entries_size() == 4);
  std::vector<std::string> deadline_order;
  for (const auto& e : queue.entries()) deadline_order.push_back(e.order_id());
  const std::string q = s.Ok({"queue", "list"});
  CHECK(Column(q, "ORDER_ID", 0) == deadline_order);
  CHECK(AsSet(deadline_order) == AsSet(queued));
  const auto beijing = Rows(s.Ok({"queue", "list", "--region=CN-110000"}), "ORDER_ID");
  REQUIRE(beijing.size() == 1);
  CHECK(beijing[0][0] == queued[0]);
  CHECK(beijing[0][2] == "CN-110000");
  for (const auto& e : queue.entries()) {
    if (e.order_id() != queued[0]) continue;
    CHECK(beijing[0][6] == v1::UnassignableReason_Name(e.reason()).substr(20));
  }
  CHECK(Same(FromJson<v1::ListUnassignedResponse>(s.Ctl({"--json", "queue", "list"})), queue));

  // dispatch orders by state.
  const auto unassignable =
      Column(s.Ok({"dispatch", "orders", "--state=UNASSIGNABLE"}), "ORDER_ID", 0);
  CHECK(AsSet(unassignable) == AsSet(queued));
  const auto assigned = Rows(s.Ok({"dispatch", "orders", "--state=ASSIGNED"}), "ORDER_ID");
  REQUIRE(assigned.size() == 1);
  CHECK(assigned[0][0] == a);
  CHECK(assigned[0][1] == "ASSIGNED");
  CHECK(assigned[0][5] == "E1");
  CHECK(assigned[0][6] == "PA");
  CHECK(Column(s.Ok({"dispatch", "orders"}), "ORDER_ID", 0).size() == 5);
  const auto two = FromJson<v1::ListDispatchOrdersResponse>(
      s.Ctl({"dispatch", "orders", "--limit=2", "--page-size=1", "--json"}));
  CHECK(two.orders_size() == 2);
  CHECK_FALSE(two.next_page_token().empty());
}

TEST_CASE("complaints grade a text without filing it, and list and explain filed complaints") {
  Suite s;
  auto file = [&](const std::string& request_id, const std::string& customer,
                  const std::string& text, v1::ComplaintCategory category) {
    v1::FileComplaintRequest req;
    req.set_request_id(request_id);
    req.set_customer_id(customer);
    req.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
    req.set_text(text);
    req.set_category(category);
    req.set_region_code("CN-310000");
    v1::FileComplaintResponse resp;
    grpc::Status st = s.complaints->FileComplaint(Context(s.token("agent")).get(), req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
    return resp.complaint();
  };
  const v1::Complaint lawyer = file("c-1", "C100", "I will call my lawyer about this repair",
                                    v1::COMPLAINT_CATEGORY_UNSPECIFIED);
  const v1::Complaint fee =
      file("c-2", "C200", "charged twice for one visit", v1::COMPLAINT_CATEGORY_FEE_DISPUTE);
  REQUIRE(lawyer.grade() == v1::COMPLAINT_GRADE_G3_MAJOR);
  REQUIRE(fee.grade() == v1::COMPLAINT_GRADE_G2_SERIOUS);

  // What-if grading: the safety words make it G4 with the rule and evidence.
  const std::string gas = s.Ok({"complaints", "grade", "there is a gas leak next to the fridge"});
  CHECK(absl::StrContains(gas, "Not filed"));
  CHECK(Value(gas, "grade") == "G4_CRITICAL");
  CHECK(Value(gas, "owner") == "EMERGENCY_GROUP");
  CHECK(Value(gas, "acknowledge within") == "1h");
  const auto rules = Rows(gas, "RULE");
  REQUIRE_FALSE(rules.empty());
  CHECK(rules[0][0] == "safety_keywords");
  CHECK(rules[0][1] == "FLOOR");
  CHECK(rules[0][2] == "G4_CRITICAL");
  CHECK(absl::StrContains(rules[0][4], "gas leak"));
  // VIP steps one grade up; without it nothing fires.
  const std::string plain = s.Ok({"complaints", "grade", "the engineer came on Tuesday"});
  CHECK(Value(plain, "grade") == "G1_GENERAL");
  CHECK(Rows(plain, "RULE").empty());
  const std::string vip = s.Ok({"complaints", "grade", "--vip", "the engineer came on Tuesday"});
  CHECK(Value(vip, "grade") == "G2_SERIOUS");
  CHECK(Column(vip, "RULE", 0) == std::vector<std::string>{"vip_customer"});
  // A category given on the line is graded as such.
  const std::string as_fee = s.Ok({"complaints", "grade", "the bill", "--category=FEE_DISPUTE"});
  CHECK(Value(as_fee, "grade") == "G2_SERIOUS");
  CHECK(Value(as_fee, "category") == "FEE_DISPUTE");
  // --json is the GradingResult GradeText returns.
  v1::GradeTextRequest gt;
  gt.set_text("there is a gas leak next to the fridge");
  v1::GradingResult direct;
  REQUIRE(s.complaints->GradeText(Context(s.token("admin")).get(), gt, &direct).ok());
  CHECK(Same(FromJson<v1::GradingResult>(
                 s.Ctl({"complaints", "grade", "there is a gas leak next to the fridge", "--json"})),
             direct));

  // Grading filed nothing.
  v1::ListComplaintsRequest lc;
  v1::ListComplaintsResponse filed;
  REQUIRE(s.complaints->ListComplaints(Context(s.token("admin")).get(), lc, &filed).ok());
  REQUIRE(filed.complaints_size() == 2);
  const std::string listed = s.Ok({"complaints", "list"});
  CHECK(Column(listed, "COMPLAINT_ID", 0) ==
        std::vector<std::string>{filed.complaints(0).complaint_id(),
                                 filed.complaints(1).complaint_id()});
  for (const auto& row : Rows(listed, "COMPLAINT_ID")) {
    REQUIRE(row.size() == 10);
    CHECK(row[1] == "FILED");
    CHECK(row[4] == "PHONE");
    CHECK(row[7] == "CN-310000");
    CHECK(row[9] == kStartUtc);
    if (row[0] == lawyer.complaint_id()) {
      CHECK(row[2] == "G3_MAJOR");
      CHECK(row[5] == "C100");
      CHECK(row[8] == "SPECIAL_TEAM");
    } else {
      CHECK(row[0] == fee.complaint_id());
      CHECK(row[2] == "G2_SERIOUS");
      CHECK(row[3] == "FEE_DISPUTE");
      CHECK(row[5] == "C200");
    }
  }
  CHECK(Same(FromJson<v1::ListComplaintsResponse>(s.Ctl({"complaints", "list", "--json"})),
             filed));
  CHECK(Column(s.Ok({"complaints", "list", "--grade=G3_MAJOR"}), "COMPLAINT_ID", 0) ==
        std::vector<std::string>{lawyer.complaint_id()});
  CHECK(Column(s.Ok({"complaints", "list", "--customer=C200"}), "COMPLAINT_ID", 0) ==
        std::vector<std::string>{fee.complaint_id()});
  CHECK(Rows(s.Ok({"complaints", "list", "--state=CLOSED"}), "COMPLAINT_ID").empty());

  // explain: the rules that graded the filed complaint.
  const std::string explained = s.Ok({"complaints", "explain", lawyer.complaint_id()});
  CHECK(Value(explained, "grade") == "G3_MAJOR");
  bool pressure = false;
  for (const auto& r : Rows(explained, "RULE")) {
    if (r[0] == "public_pressure_keywords") pressure = absl::StrContains(r[4], "lawyer");
  }
  CHECK(pressure);
  v1::ExplainGradeRequest ex;
  ex.set_complaint_id(lawyer.complaint_id());
  v1::GradingResult explanation;
  REQUIRE(s.complaints->ExplainGrade(Context(s.token("admin")).get(), ex, &explanation).ok());
  CHECK(Same(FromJson<v1::GradingResult>(
                 s.Ctl({"complaints", "explain", lawyer.complaint_id(), "--json"})),
             explanation));

  // get: the complaint and its two clocks.
  const std::string got = s.Ok({"complaints", "get", lawyer.complaint_id()});
  CHECK(Value(got, "state") == "FILED");
  CHECK(Value(got, "text") == "I will call my lawyer about this repair");
  CHECK(AsSet(Column(got, "KIND", 0)) ==
        std::set<std::string>{"COMPLAINT_ACKNOWLEDGE", "COMPLAINT_RESOLVE"});

  // A partner may not grade texts: the service says so, exit 1.
  std::vector<std::string> args = s.Addresses();
  args.insert(args.end(), {"--token=" + s.token("partner-a"), "complaints", "grade", "x"});
  const Result denied = RunCtl(s.dir.path(), args);
  CHECK(denied.code == 1);
  CHECK(absl::StrContains(denied.err, "PERMISSION_DENIED"));
  CHECK(absl::StrContains(denied.err, "complaint (" + s.complaint->address() + ")"));
}

TEST_CASE("scorecards and the SQI ranking show satisfaction's figures") {
  Suite s;
  s.FollowedUpOrder();

  // One answer: CSAT 4 (satisfied), NPS 8 (passive), every dimension 4.
  const std::string card = s.Ok(
      {"scorecards", "get", "--dimension=REGION", "--key=CN-310000", "--window=ROLLING_30D"});
  CHECK(Value(card, "key") == "CN-310000");
  CHECK(Value(card, "window") == "ROLLING_30D");
  CHECK(Value(card, "responses") == "1");
  CHECK(Value(card, "CSAT %") == "100.0");
  CHECK(Value(card, "mean CSAT") == "4.00");
  CHECK(Value(card, "NPS") == "0.0");
  CHECK(Value(card, "promoters/passives/detractors") == "0/1/0");
  CHECK(Value(card, "satisfaction index") == "75.0");
  CHECK(Value(card, "follow-up coverage") == "100.0%");
  for (const auto& row : Rows(card, "DIMENSION")) CHECK(row[1] == "4.00");
  CHECK(Rows(card, "DIMENSION").size() == 6);

  v1::GetScorecardRequest gs;
  gs.set_dimension(v1::SCORECARD_DIMENSION_REGION);
  gs.set_key("CN-310000");
  gs.set_window(v1::AGGREGATION_WINDOW_ROLLING_30D);
  v1::Scorecard direct;
  REQUIRE(s.surveys->GetScorecard(Context(s.token("admin")).get(), gs, &direct).ok());
  CHECK(Same(FromJson<v1::Scorecard>(s.Ctl({"--json", "scorecards", "get", "--dimension=region",
                                            "--key=CN-310000", "--window=rolling_30d"})),
             direct));

  const auto engineers = Rows(
      s.Ok({"scorecards", "list", "--dimension=ENGINEER", "--window=ROLLING_7D"}), "KEY");
  REQUIRE(engineers.size() == 1);
  CHECK(engineers[0][0] == "E1");
  CHECK(engineers[0][3] == "1");      // responses
  CHECK(engineers[0][7] == "75.0");   // index
  CHECK(Rows(s.Ok({"scorecards", "list", "--dimension=ENGINEER", "--window=ROLLING_7D",
                   "--min-responses=2"}),
             "KEY")
            .empty());
  const Result no_key = s.Ctl({"scorecards", "get", "--dimension=REGION", "--window=ROLLING_30D"});
  CHECK(no_key.code == 2);
  CHECK(absl::StrContains(no_key.err, "--key"));
  const Result bad_window =
      s.Ctl({"scorecards", "get", "--dimension=REGION", "--key=K", "--window=ROLLING_1D"});
  CHECK(bad_window.code == 2);
  CHECK(absl::StrContains(bad_window.err, "ROLLING_30D"));

  // SQI: the region of the repair is ranked; the table matches the service.
  v1::GetSqiRankingRequest sq;
  sq.mutable_month()->set_year(2026);
  sq.mutable_month()->set_month(11);
  v1::GetSqiRankingResponse ranking;
  REQUIRE(Eventually([&] {
    ranking.Clear();
    if (!s.surveys->GetSqiRanking(Context(s.token("admin")).get(), sq, &ranking).ok()) return false;
    for (const auto& sc : ranking.scores()) {
      for (const auto& comp : sc.components()) {
        // the survey's index reached the experience part
        if (sc.region_code() == "CN-310000" && comp.kind() == v1::SQI_COMPONENT_KIND_EXPERIENCE &&
            !comp.no_data()) {
          return true;
        }
      }
    }
    return false;
  }));
  const std::string sqi = s.Ok({"sqi", "ranking", "--month=2026-11", "--inputs"});
  CHECK(absl::StartsWith(sqi, "SQI 2026-11 (policy satisfaction "));
  const auto ranked = Rows(sqi, "RANK");
  REQUIRE(ranked.size() == static_cast<size_t>(ranking.scores_size()));
  for (int i = 0; i < ranking.scores_size(); ++i) {
    const auto& sc = ranking.scores(i);
    CHECK(ranked[i][0] == absl::StrCat(sc.rank(), "/", sc.ranked_regions()));
    CHECK(ranked[i][1] == sc.region_code());
    CHECK(ranked[i][2] == absl::StrFormat("%.1f", sc.total()));
  }
  size_t inputs = 0;
  for (const auto& sc : ranking.scores()) {
    for (const auto& comp : sc.components()) inputs += comp.inputs_size();
  }
  CHECK(Rows(sqi, "REGION ").size() == inputs);
  CHECK(Same(FromJson<v1::GetSqiRankingResponse>(
                 s.Ctl({"sqi", "ranking", "--month=2026-11", "--json"})),
             ranking));
  CHECK(s.Ctl({"sqi", "ranking", "--month=November"}).code == 2);
}

TEST_CASE("tokens come from the flag, a file or the environment, and failures exit 1 or 2") {
  Suite s;
  s.CreateOrder(testing::SampleOrderRequest("cli-T", "SN-cli-T"));
  const std::vector<std::string> addresses = s.Addresses();
  auto run = [&](std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> all = addresses;
    all.insert(all.end(), args.begin(), args.end());
    return RunCtl(s.dir.path(), all, env);
  };
  auto rows = [](const Result& r) {
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    return Rows(r.out, "ORDER_ID").size();
  };

  // A wrong token: the service's UNAUTHENTICATED on stderr, exit 1.
  const Result wrong = run({"--token=not-a-token", "orders", "list"});
  CHECK(wrong.code == 1);
  CHECK(absl::StrContains(wrong.err, "UNAUTHENTICATED"));
  CHECK(absl::StrContains(wrong.err, "intake (" + s.intake->address() + ")"));
  CHECK(wrong.out.empty());

  // The flag, a file with one token, a tokens.plain file and --principal,
  // and the environment all work.
  CHECK(rows(run({"orders", "list", "--token", s.token("agent")})) == 1);
  const std::string one = s.dir.Sub("agent.token");
  std::ofstream(one) << s.token("agent") << "\n";
  CHECK(rows(run({"--token_file=" + one, "orders", "list"})) == 1);
  const std::string plain = s.dir.Sub("tokens.plain");
  std::ofstream(plain) << "# name token\nadmin " << s.token("admin") << "\nagent "
                       << s.token("agent") << "\n";
  CHECK(rows(run({"--token_file=" + plain, "--principal=admin", "orders", "list"})) == 1);
  CHECK(rows(run({"orders", "list"}, {{"AFTERSALES_TOKEN", s.token("auditor")}})) == 1);
  const Result no_var_file =
      run({"--principal=agent", "orders", "list"}, {{"AFTERSALES_VAR_DIR", s.dir.path()}});
  CHECK(no_var_file.code == 2);
  CHECK(absl::StrContains(no_var_file.err, "secrets/tokens.plain"));
  // --principal alone reads $AFTERSALES_VAR_DIR/secrets/tokens.plain.
  std::filesystem::create_directories(s.dir.Sub("secrets"));
  std::filesystem::copy_file(plain, s.dir.Sub("secrets/tokens.plain"));
  CHECK(rows(run({"--principal=agent", "orders", "list"},
                 {{"AFTERSALES_VAR_DIR", s.dir.path()}})) == 1);
  // The flag wins over the environment.
  CHECK(run({"--token=not-a-token", "orders", "list"}, {{"AFTERSALES_TOKEN", s.token("admin")}})
            .code == 1);
  // Environment addresses are used when no flag names the service.
  const Result env_addr = RunCtl(s.dir.path(), {"--token=" + s.token("admin"), "orders", "list"},
                                 {{"AFTERSALES_INTAKE_ADDR", s.intake->address()}});
  CHECK(rows(env_addr) == 1);
  const Result env_port = RunCtl(
      s.dir.path(), {"--token=" + s.token("admin"), "orders", "list"},
      {{"AFTERSALES_INTAKE_GRPC_PORT", std::to_string(s.intake->grpc_port())}});
  CHECK(rows(env_port) == 1);

  // Usage errors exit 2 with the usage.
  const Result unknown = run({"--token=x", "frobnicate"});
  CHECK(unknown.code == 2);
  CHECK(absl::StrContains(unknown.err, "unknown command \"frobnicate\""));
  CHECK(absl::StrContains(unknown.err, "usage: aftersalesctl"));
  CHECK(unknown.out.empty());
  const Result verb = run({"--token=x", "orders", "delete"});
  CHECK(verb.code == 2);
  CHECK(absl::StrContains(verb.err, "unknown subcommand \"delete\" (get, list, timeline)"));
  CHECK(absl::StrContains(verb.err, "aftersalesctl orders timeline ORDER_ID"));
  CHECK_FALSE(absl::StrContains(verb.err, "complaints grade"));  // only the group's commands
  CHECK(run({"--token=x", "orders", "get"}).code == 2);
  CHECK(run({"--token=x", "orders", "get", "A", "B"}).code == 2);
  const Result option = run({"--token=x", "orders", "list", "--colour=red"});
  CHECK(option.code == 2);
  CHECK(absl::StrContains(option.err, "unknown option --colour"));
  CHECK(absl::StrContains(option.err, "usage:\n  aftersalesctl orders list [--state="));
  const Result state = run({"--token=x", "orders", "list", "--state=SLEEPING"});
  CHECK(state.code == 2);
  CHECK(absl::StrContains(state.err, "FOLLOWED_UP"));  // lists the choices
  CHECK(run({"--token=x", "orders", "list", "--limit=0"}).code == 2);
  CHECK(run({"--token=x", "orders", "list", "--breached=maybe"}).code == 2);
  CHECK(run({"--token=x", "--timeout=soon", "orders", "list"}).code == 2);
  CHECK(run({"--token=x", "--tz=Mars/Base", "orders", "list"}).code == 2);
  CHECK(run({"--token_file=" + plain, "orders", "list"}).code == 2);  // several tokens
  CHECK(run({"--token_file=" + plain, "--principal=nobody", "orders", "list"}).code == 2);
  const Result no_token = run({"orders", "list"});
  CHECK(no_token.code == 2);
  CHECK(absl::StrContains(no_token.err, "no token"));
  CHECK(run({}).code == 2);

  // --help is not an error.
  const Result help = run({"--help"});
  CHECK(help.code == 0);
  for (const char* cmd : {"orders list", "orders timeline", "offers list", "queue list",
                          "dispatch orders", "complaints grade", "complaints explain",
                          "scorecards get", "scorecards list", "sqi ranking"}) {
    CHECK(absl::StrContains(help.out, cmd));
  }

  // A service that does not answer: UNAVAILABLE, exit 1.
  const Result down = RunCtl(s.dir.path(),
                             {"--intake=127.0.0.1:" + std::to_string(FreeLoopbackPort()),
                              "--token=" + s.token("admin"), "--timeout=3s", "orders", "list"});
  CHECK(down.code == 1);
  CHECK(absl::StrContains(down.err, "UNAVAILABLE"));
}

}  // namespace
}  // namespace aftersales
