// Privacy with real intake, complaint and satisfaction processes (manual
// clocks): PII is encrypted at rest — no file under a data directory holds a
// customer's phone, name, address or words — and still reads back after a
// restart; erasing a customer crypto-shreds it in every service, which
// report back to intake's erasure report; consents gate photos/video;
// rotating the key-encryption key keeps the data readable. Dispatch's offers
// are scripted (a real EventStream over a real store).
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/order_driver.h"
#include "support/event_producer.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using grpc::StatusCode;
using testing::FreeLoopbackPort;
using testing::AllEvents;
using testing::Context;
using testing::Eventually;

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone* zone = [] {
    auto* z = new absl::TimeZone;
    absl::LoadTimeZone("Asia/Shanghai", z);
    return z;
  }();
  return *zone;
}

// Monday 2026-11-23 10:00 in Shanghai: inside service hours.
const absl::Time kStart = absl::FromCivil(absl::CivilMinute(2026, 11, 23, 10, 0), Shanghai());

// The erased customer's PII, and what must never be found on disk.
constexpr char kCustomer[] = "C-PRIV-1";
constexpr char kPhone[] = "+86 139-8765-4321";
constexpr char kName[] = "王小明 Wang Xiaoming";
constexpr char kAddress[] = "Flat 1203, No. 77 Huaihai Road";
constexpr char kFault[] = "rattle-XQ7 when the compressor starts";
constexpr char kComment[] = "comment-secret-ZK9: call me on 13987654321";
constexpr char kComplaintText[] = "complaint-secret-PL3 the engineer shouted at 王小明";
const std::vector<std::string> kNeedles = {
    "13987654321",    "139-8765-4321", "8613987654321",  "王小明", "Wang Xiaoming",
    "Huaihai Road",   "rattle-XQ7", "comment-secret-ZK9", "complaint-secret-PL3"};
// Not PII: stored in clear, so finding it shows the scan can see plaintext.
constexpr char kSerialMarker[] = "SN-PRIVACY-MARKER-4711";

// Every regular file under `dir` (SSTs, WAL logs, MANIFEST, OPTIONS, ...),
// or `dir` itself when it is a file.
void FilesUnder(const std::string& dir, std::vector<std::string>* out) {
  struct stat self;
  if (stat(dir.c_str(), &self) == 0 && S_ISREG(self.st_mode)) {
    out->push_back(dir);
    return;
  }
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) FilesUnder(path, out);
    if (S_ISREG(st.st_mode)) out->push_back(path);
  }
  closedir(d);
}

// "file: needle" for each needle found in any file under the directories.
std::vector<std::string> Grep(const std::vector<std::string>& dirs,
                              const std::vector<std::string>& needles, int* files = nullptr) {
  std::vector<std::string> paths, hits;
  for (const auto& d : dirs) FilesUnder(d, &paths);
  if (files) *files = static_cast<int>(paths.size());
  for (const auto& p : paths) {
    const std::string bytes = testing::ReadFileOrEmpty(p);
    for (const auto& n : needles) {
      if (bytes.find(n) != std::string::npos) hits.push_back(p + ": " + n);
    }
  }
  return hits;
}

int Count(const std::vector<v1::Event>& events, v1::Event::BodyCase body) {
  int n = 0;
  for (const auto& e : events) n += e.body_case() == body;
  return n;
}

struct Suite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer dispatch{dir.Sub("scripted-dispatch"), &registry};
  std::unique_ptr<testing::ServiceProcess> intake, sat, complaint;
  std::unique_ptr<v1::IntakeService::Stub> orders;
  std::unique_ptr<v1::SatisfactionService::Stub> surveys;
  std::unique_ptr<v1::ComplaintService::Stub> complaints;

  Suite() {
    dispatch.Up();
    const std::string sat_addr = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
    const std::string complaint_addr = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
    auto options = [&](const std::string& name) {
      testing::ServiceProcess::Options o;
      o.name = name;
      o.data_dir = dir.Sub(name);
      o.tokens = &tokens;
      o.manual_clock = true;
      o.extra_flags = {"--clock_start=" +
                       absl::FormatTime(absl::RFC3339_full, kStart, absl::UTCTimeZone())};
      return o;
    };
    auto io = options("intake");
    io.peers = {{"dispatch", dispatch.address()},
                {"satisfaction", sat_addr},
                {"complaint", complaint_addr}};
    intake = std::make_unique<testing::ServiceProcess>(io);
    auto so = options("satisfaction");
    so.grpc_port = std::stoi(sat_addr.substr(sat_addr.rfind(':') + 1));
    so.peers = {{"intake", intake->address()}, {"complaint", complaint_addr}};
    sat = std::make_unique<testing::ServiceProcess>(so);
    auto co = options("complaint");
    co.grpc_port = std::stoi(complaint_addr.substr(complaint_addr.rfind(':') + 1));
    co.peers = {{"intake", intake->address()}, {"satisfaction", sat_addr}};
    complaint = std::make_unique<testing::ServiceProcess>(co);
    Stubs();
  }

  void Stubs() {
    orders = v1::IntakeService::NewStub(intake->channel());
    surveys = v1::SatisfactionService::NewStub(sat->channel());
    complaints = v1::ComplaintService::NewStub(complaint->channel());
  }

  // The data directories, and the services' logs.
  std::vector<std::string> DataDirs() const {
    return {dir.Sub("intake"), dir.Sub("satisfaction"), dir.Sub("complaint"),
            intake->log_file(), sat->log_file(), complaint->log_file()};
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  v1::WorkOrder Order(const std::string& id, const std::string& who = "agent") {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    grpc::Status s = orders->GetOrder(Context(token(who)).get(), req, &o);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return o;
  }

  v1::CreateOrderRequest Request(const std::string& request_id, const std::string& customer) {
    v1::CreateOrderRequest r = testing::SampleOrderRequest(request_id, kSerialMarker + request_id);
    r.set_customer_id(customer);
    if (customer == kCustomer) {
      r.mutable_contact()->set_name(kName);
      r.mutable_contact()->set_phone(kPhone);
      r.mutable_contact()->set_full_address(kAddress);
      r.mutable_fault()->set_description(kFault);
    }
    return r;
  }

  // Creates an order, has E1 accept it and takes it to CONFIRMED.
  std::string Confirmed(const std::string& request_id, const std::string& customer) {
    v1::CreateOrderResponse created;
    grpc::Status cs = orders->CreateOrder(Context(token("partner-a")).get(),
                                          Request(request_id, customer), &created);
    INFO(cs.error_message());
    REQUIRE(cs.ok());
    return testing::DriveToConfirmed(*orders, tokens, dispatch, created.order().order_id(),
                                     request_id, kStart + absl::Minutes(25))
        .order_id();
  }

  v1::Survey SurveyOf(const std::string& order_id) {
    v1::ListSurveysRequest req;
    req.set_order_id(order_id);
    v1::ListSurveysResponse resp;
    REQUIRE(Eventually([&] {
      resp.Clear();
      return surveys->ListSurveys(Context(token("agent")).get(), req, &resp).ok() &&
             resp.surveys_size() == 1;
    }));
    return resp.surveys(0);
  }

  v1::Survey GetSurvey(const std::string& survey_id) {
    v1::GetSurveyRequest req;
    req.set_survey_id(survey_id);
    v1::Survey s;
    REQUIRE(surveys->GetSurvey(Context(token("agent")).get(), req, &s).ok());
    return s;
  }

  void Answer(const std::string& survey_id, const std::string& comment) {
    v1::SubmitSurveyRequest req;
    req.set_survey_id(survey_id);
    req.set_request_id("answer-" + survey_id);
    auto* r = req.mutable_response();
    r->set_csat(4);
    r->set_nps(8);
    auto* d = r->mutable_dimensions();
    for (auto set : {&v1::DimensionScores::set_booking_convenience,
                     &v1::DimensionScores::set_timeliness,
                     &v1::DimensionScores::set_engineer_attitude,
                     &v1::DimensionScores::set_professionalism,
                     &v1::DimensionScores::set_fee_transparency,
                     &v1::DimensionScores::set_site_etiquette}) {
      (d->*set)(4);
    }
    r->set_problem_solved(true);
    r->set_comment(comment);
    v1::SubmitSurveyResponse out;
    grpc::Status s = surveys->SubmitSurvey(Context(token("app")).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }

  std::string File(const std::string& request_id, const std::string& customer,
                   const std::string& order_id, const std::string& text) {
    v1::FileComplaintRequest req;
    req.set_request_id(request_id);
    req.set_customer_id(customer);
    req.set_order_id(order_id);
    req.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
    req.set_text(text);
    v1::FileComplaintResponse resp;
    grpc::Status s = complaints->FileComplaint(Context(token("agent")).get(), req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp.complaint().complaint_id();
  }

  v1::Complaint GetComplaint(const std::string& id) {
    v1::GetComplaintRequest req;
    req.set_complaint_id(id);
    v1::Complaint c;
    REQUIRE(complaints->GetComplaint(Context(token("agent")).get(), req, &c).ok());
    return c;
  }

  grpc::Status Erase(const std::string& who, const std::string& customer,
                     const std::string& request_id, v1::ErasureReport* out,
                     const std::string& reason = "customer request, PIPL art. 47") {
    v1::EraseCustomerRequest req;
    req.set_customer_id(customer);
    req.set_request_id(request_id);
    req.set_reason(reason);
    return orders->EraseCustomer(Context(who.empty() ? "" : token(who)).get(), req, out);
  }

  grpc::Status ReportOf(const std::string& who, const std::string& customer,
                        const std::string& request_id, v1::ErasureReport* out) {
    v1::GetErasureReportRequest req;
    req.set_customer_id(customer);
    req.set_request_id(request_id);
    return orders->GetErasureReport(Context(token(who)).get(), req, out);
  }

  void StopAll() {
    REQUIRE(complaint->Stop() == 0);
    REQUIRE(sat->Stop() == 0);
    REQUIRE(intake->Stop() == 0);
  }

  void RestartAll() {
    intake->Restart();
    sat->Restart();
    complaint->Restart();
    Stubs();
  }
};

int64_t CountOf(const v1::ErasureReport& r, const std::string& service) {
  for (const auto& item : r.items()) {
    if (item.service() == service) return item.count();
  }
  return -1;
}

TEST_CASE("PII is encrypted at rest in every service and erasure crypto-shreds it everywhere") {
  Suite s;
  const std::string mine = s.Confirmed("priv-1", kCustomer);
  const std::string other = s.Confirmed("priv-2", "C-OTHER");
  const v1::Survey survey = s.SurveyOf(mine);
  s.Answer(survey.survey_id(), kComment);
  const std::string complaint_id = s.File("cmp-1", kCustomer, mine, kComplaintText);
  const std::string other_complaint = s.File("cmp-2", "C-OTHER", other, "安装师傅迟到");

  // The assigned engineer sees the contact; others the masked view only.
  CHECK(s.Order(mine, "engineer").contact().phone() == kPhone);
  CHECK(s.Order(mine).contact().phone().empty());
  CHECK(s.Order(mine).customer().masked_phone() == "861******4321");
  CHECK(s.Order(mine).fault().description() == kFault);
  CHECK(s.GetSurvey(survey.survey_id()).response().comment() == kComment);
  CHECK(s.GetComplaint(complaint_id).text() == kComplaintText);

  // Events never carry it either (they are stored in RocksDB too).
  for (const auto& e : AllEvents(s.intake->channel(), s.token("service"))) {
    const std::string bytes = e.SerializeAsString();
    for (const auto& n : kNeedles) {
      INFO(e.DebugString());
      CHECK_FALSE(absl::StrContains(bytes, n));
    }
  }

  // On disk: every file of every data directory (SST, WAL, MANIFEST, OPTIONS)
  // after a clean stop.
  s.StopAll();
  int files = 0;
  auto hits = Grep(s.DataDirs(), kNeedles, &files);
  INFO(absl::StrJoin(hits, "\n"));
  CHECK(hits.empty());
  CHECK(files >= 12);
  // The scan does see plaintext: the serial (not PII) is found in intake's files.
  CHECK_FALSE(Grep({s.dir.Sub("intake")}, {kSerialMarker}).empty());

  // After a restart everything reads back.
  s.RestartAll();
  CHECK(s.Order(mine, "engineer").contact().name() == kName);
  CHECK(s.Order(mine, "engineer").contact().full_address() == kAddress);
  CHECK(s.GetSurvey(survey.survey_id()).response().comment() == kComment);
  CHECK(s.GetComplaint(complaint_id).text() == kComplaintText);

  // Erasure: intake shreds at once, complaint and satisfaction follow from
  // intake's stream and report back.
  v1::ErasureReport report;
  REQUIRE(s.Erase("admin", kCustomer, "erase-1", &report).ok());
  CHECK(report.customer_id() == kCustomer);
  CHECK(CountOf(report, "intake") == 1);
  CHECK(rpc::FromProto(report.deadline()) - rpc::FromProto(report.requested_at()) ==
        absl::Hours(24));
  REQUIRE(Eventually([&] {
    return s.ReportOf("auditor", kCustomer, "erase-1", &report).ok() && report.has_completed_at();
  }));
  CHECK(report.pending_services_size() == 0);
  CHECK_FALSE(report.overdue());
  CHECK(CountOf(report, "intake") == 1);
  CHECK(CountOf(report, "complaint") == 1);
  CHECK(CountOf(report, "satisfaction") == 1);

  // Reads: the fields read as erased, the rest of the record is intact.
  const v1::WorkOrder erased = s.Order(mine, "engineer");
  CHECK(erased.contact().phone() == "[erased]");
  CHECK(erased.contact().name() == "[erased]");
  CHECK(erased.contact().full_address() == "[erased]");
  CHECK(erased.fault().description() == "[erased]");
  CHECK(erased.order_id() == mine);
  CHECK(erased.assignment().engineer_id() == "E1");
  CHECK(s.Order(mine).customer().masked_phone() == "[erased]");
  CHECK(s.GetSurvey(survey.survey_id()).response().comment() == "[erased]");
  CHECK(s.GetSurvey(survey.survey_id()).response().csat() == 4);
  CHECK(s.GetComplaint(complaint_id).text() == "[erased at the customer's request]");
  // Lists too.
  v1::ListOrdersRequest by_customer;
  by_customer.set_customer_id(kCustomer);
  v1::ListOrdersResponse listed;
  REQUIRE(s.orders->ListOrders(Context(s.token("agent")).get(), by_customer, &listed).ok());
  REQUIRE(listed.orders_size() == 1);
  CHECK(listed.orders(0).customer().display_name() == "[erased]");
  // Another customer keeps everything.
  CHECK(s.Order(other, "engineer").contact().phone() == "13812345678");
  CHECK(s.GetComplaint(other_complaint).text() == "安装师傅迟到");

  // Idempotent: the same request returns the same report, emits nothing new.
  v1::ErasureReport again;
  REQUIRE(s.Erase("admin", kCustomer, "erase-1", &again).ok());
  CHECK(again.requested_at().seconds() == report.requested_at().seconds());
  CHECK(again.has_completed_at());
  const auto intake_events = AllEvents(s.intake->channel(), s.token("service"));
  CHECK(Count(intake_events, v1::Event::kCustomerErasureRequested) == 1);
  CHECK(Count(AllEvents(s.complaint->channel(), s.token("service")),
              v1::Event::kCustomerErased) == 1);
  CHECK(Count(AllEvents(s.sat->channel(), s.token("service")), v1::Event::kCustomerErased) == 1);

  // Still nothing on disk; the erased data stays erased after a restart.
  s.StopAll();
  hits = Grep(s.DataDirs(), kNeedles);
  INFO(absl::StrJoin(hits, "\n"));
  CHECK(hits.empty());
  s.RestartAll();
  CHECK(s.Order(mine, "engineer").contact().phone() == "[erased]");
  CHECK(s.GetSurvey(survey.survey_id()).response().comment() == "[erased]");
  CHECK(s.Order(other, "engineer").contact().name() == "张三");
}

TEST_CASE("erasure bad paths: wrong role, no token, malformed, unknown customer and report") {
  Suite s;
  v1::ErasureReport report;
  CHECK(s.Erase("agent", kCustomer, "e-1", &report).error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(s.Erase("auditor", kCustomer, "e-1", &report).error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(s.Erase("", kCustomer, "e-1", &report).error_code() == StatusCode::UNAUTHENTICATED);
  grpc::Status bad = s.Erase("admin", "", "e-1", &report);
  CHECK(bad.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(bad.error_message(), "customer_id"));
  bad = s.Erase("admin", kCustomer, "", &report);
  CHECK(bad.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(bad.error_message(), "request_id"));
  bad = s.Erase("admin", kCustomer, "e-1", &report, "");
  CHECK(bad.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(bad.error_message(), "reason"));
  CHECK(s.Erase("admin", "has space", "e-1", &report).error_code() ==
        StatusCode::INVALID_ARGUMENT);
  // Nothing happened.
  CHECK(Count(AllEvents(s.intake->channel(), s.token("service")),
              v1::Event::kCustomerErasureRequested) == 0);
  CHECK(s.ReportOf("admin", kCustomer, "e-1", &report).error_code() == StatusCode::NOT_FOUND);
  CHECK(s.ReportOf("agent", kCustomer, "e-1", &report).error_code() ==
        StatusCode::PERMISSION_DENIED);
  CHECK(s.ReportOf("admin", "", "e-1", &report).error_code() == StatusCode::INVALID_ARGUMENT);

  // A customer nobody knows: erasure still runs everywhere and completes
  // with nothing erased (complaint may know customers intake never saw).
  REQUIRE(s.Erase("admin", "C-NOBODY", "e-2", &report).ok());
  CHECK(CountOf(report, "intake") == 0);
  REQUIRE(Eventually([&] {
    return s.ReportOf("admin", "C-NOBODY", "e-2", &report).ok() && report.has_completed_at();
  }));
  CHECK(CountOf(report, "complaint") == 0);
  CHECK(CountOf(report, "satisfaction") == 0);
}

TEST_CASE("consents are recorded, listed and withdrawn, and photos need an active one") {
  Suite s;
  v1::CreateOrderResponse created;
  REQUIRE(s.orders->CreateOrder(Context(s.token("partner-a")).get(),
                                s.Request("c-1", "C-CONSENT"), &created)
              .ok());
  const std::string id = created.order().order_id();

  v1::RecordConsentRequest rec;
  rec.set_order_id(id);
  rec.set_request_id("consent-1");
  rec.mutable_consent()->set_purpose(v1::CONSENT_PURPOSE_PHOTO_VIDEO_CAPTURE);
  rec.mutable_consent()->set_method(v1::CONSENT_METHOD_VOICE);
  *rec.mutable_consent()->mutable_given_at() = rpc::ToProto(kStart);
  rec.mutable_consent()->set_evidence_ref("call-rec-881");
  v1::ConsentRecord consent;
  REQUIRE(s.orders->RecordConsent(Context(s.token("agent")).get(), rec, &consent).ok());
  CHECK(consent.consent_id() == id + "-C1");
  CHECK(consent.recorded_by() == "agent-1");
  CHECK(consent.method() == v1::CONSENT_METHOD_VOICE);
  CHECK(consent.evidence_ref() == "call-rec-881");
  CHECK_FALSE(consent.has_withdrawn_at());
  // A retry returns the same record; the same request id with another body
  // is ALREADY_EXISTS.
  v1::ConsentRecord retry;
  REQUIRE(s.orders->RecordConsent(Context(s.token("agent")).get(), rec, &retry).ok());
  CHECK(retry.SerializeAsString() == consent.SerializeAsString());
  v1::RecordConsentRequest changed = rec;
  changed.mutable_consent()->set_evidence_ref("call-rec-882");
  CHECK(s.orders->RecordConsent(Context(s.token("agent")).get(), changed, &retry).error_code() ==
        StatusCode::ALREADY_EXISTS);

  v1::ListConsentsRequest list;
  list.set_order_id(id);
  v1::ListConsentsResponse listed;
  REQUIRE(s.orders->ListConsents(Context(s.token("auditor")).get(), list, &listed).ok());
  REQUIRE(listed.consents_size() == 1);
  CHECK(listed.consents(0).consent_id() == consent.consent_id());

  // Withdrawal: once, then the same record.
  v1::WithdrawConsentRequest withdraw;
  withdraw.set_order_id(id);
  withdraw.set_consent_id(consent.consent_id());
  v1::ConsentRecord gone, twice;
  REQUIRE(s.orders->WithdrawConsent(Context(s.token("app")).get(), withdraw, &gone).ok());
  CHECK(rpc::FromProto(gone.withdrawn_at()) == kStart);
  REQUIRE(s.orders->WithdrawConsent(Context(s.token("agent")).get(), withdraw, &twice).ok());
  CHECK(twice.SerializeAsString() == gone.SerializeAsString());
  CHECK(s.Order(id).consents(0).has_withdrawn_at());

  // Bad paths: nothing changes.
  const uint64_t version = s.Order(id).version();
  auto code = [&](const std::string& who, v1::RecordConsentRequest r) {
    v1::ConsentRecord out;
    return s.orders->RecordConsent(Context(who.empty() ? "" : s.token(who)).get(), r, &out);
  };
  v1::RecordConsentRequest bad = rec;
  bad.set_request_id("consent-2");
  bad.mutable_consent()->clear_purpose();
  grpc::Status st = code("agent", bad);
  CHECK(st.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(st.error_message(), "consent.purpose"));
  bad = rec;
  bad.set_request_id("consent-2");
  bad.mutable_consent()->clear_method();
  CHECK(code("agent", bad).error_code() == StatusCode::INVALID_ARGUMENT);
  bad = rec;
  bad.set_request_id("consent-2");
  *bad.mutable_consent()->mutable_given_at() = rpc::ToProto(kStart + absl::Hours(2));
  st = code("agent", bad);
  CHECK(st.error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(st.error_message(), "consent.given_at"));
  bad = rec;
  bad.set_request_id("consent-2");
  bad.mutable_consent()->clear_evidence_ref();
  CHECK(code("agent", bad).error_code() == StatusCode::INVALID_ARGUMENT);
  bad = rec;
  bad.clear_consent();
  bad.set_request_id("consent-2");
  CHECK(code("agent", bad).error_code() == StatusCode::INVALID_ARGUMENT);
  bad = rec;
  bad.set_request_id("consent-2");
  bad.set_order_id("WO-NOPE");
  CHECK(code("agent", bad).error_code() == StatusCode::NOT_FOUND);
  bad.set_order_id(id);
  CHECK(code("auditor", bad).error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(code("", bad).error_code() == StatusCode::UNAUTHENTICATED);
  CHECK(code("partner-b", bad).error_code() == StatusCode::NOT_FOUND);  // not theirs
  withdraw.set_consent_id("nope");
  CHECK(s.orders->WithdrawConsent(Context(s.token("agent")).get(), withdraw, &gone).error_code() ==
        StatusCode::NOT_FOUND);
  CHECK(s.Order(id).version() == version);
  CHECK(s.Order(id).consents_size() == 1);

  // Photos/video on a new order need an active PHOTO_VIDEO_CAPTURE consent.
  v1::CreateOrderRequest photos = s.Request("c-2", "C-CONSENT");
  photos.mutable_appliance()->set_serial("SN-PHOTO-1");
  photos.mutable_fault()->add_media_refs("IMG-1");
  v1::CreateOrderResponse resp;
  st = s.orders->CreateOrder(Context(s.token("agent")).get(), photos, &resp);
  CHECK(st.error_code() == StatusCode::FAILED_PRECONDITION);
  CHECK(absl::StartsWith(st.error_message(), "fault.media_refs"));
  v1::ConsentRecord* c = photos.add_consents();
  *c = rec.consent();
  *c->mutable_withdrawn_at() = rpc::ToProto(kStart);
  CHECK(s.orders->CreateOrder(Context(s.token("agent")).get(), photos, &resp).error_code() ==
        StatusCode::FAILED_PRECONDITION);
  c->clear_withdrawn_at();
  REQUIRE(s.orders->CreateOrder(Context(s.token("agent")).get(), photos, &resp).ok());
  CHECK(resp.order().fault().media_refs_size() == 1);
  CHECK(resp.order().consents_size() == 1);
}

TEST_CASE("rotating the PII key keeps every record readable and a wrong key is refused at start") {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  const std::string old_key = dir.Sub("old.key"), new_key = dir.Sub("new.key"),
                    stranger = dir.Sub("stranger.key");
  std::ofstream(old_key) << std::string(64, 'a') << "\n";
  std::ofstream(new_key) << std::string(64, 'b') << "\n";
  std::ofstream(stranger) << std::string(64, 'c') << "\n";
  testing::ServiceProcess::Options o;
  o.name = "intake";
  o.data_dir = dir.Sub("intake");
  o.tokens = &tokens;
  o.extra_flags = {"--pii_key_file=" + old_key};
  std::string id;
  {
    testing::ServiceProcess intake(o);
    auto stub = v1::IntakeService::NewStub(intake.channel());
    v1::CreateOrderResponse created;
    REQUIRE(stub->CreateOrder(Context(tokens.token.at("agent")).get(),
                              testing::SampleOrderRequest("rot-1", "SN-ROT-1"), &created)
                .ok());
    id = created.order().order_id();
    REQUIRE(intake.Stop() == 0);
  }
  // The wrong key alone: the service refuses to start (it would read every
  // record as erased).
  std::vector<std::string> argv = {testing::ServiceBinary("intake"),
                                   "--data_dir=" + o.data_dir,
                                   "--tokens_file=" + tokens.file,
                                   "--policy_file=" + testing::SourcePath(
                                                          "deploy/policies/intake.textproto"),
                                   "--pii_key_file=" + stranger};
  testing::ChildProcess wrong(argv, dir.Sub("wrong.log"));
  CHECK(wrong.Wait() != 0);
  CHECK(absl::StrContains(testing::ReadFileOrEmpty(dir.Sub("wrong.log")), "pii_previous_key_file"));
  // Rotation: new key with the old one as previous, then the new one alone.
  o.extra_flags = {"--pii_key_file=" + new_key, "--pii_previous_key_file=" + old_key};
  {
    testing::ServiceProcess intake(o);
    CHECK(absl::StrContains(testing::ReadFileOrEmpty(intake.log_file()), "re-wrapped 1"));
    REQUIRE(intake.Stop() == 0);
  }
  o.extra_flags = {"--pii_key_file=" + new_key};
  testing::ServiceProcess intake(o);
  auto stub = v1::IntakeService::NewStub(intake.channel());
  v1::GetOrderRequest get;
  get.set_order_id(id);
  v1::WorkOrder order;
  REQUIRE(stub->GetOrder(Context(tokens.token.at("agent")).get(), get, &order).ok());
  CHECK(order.customer().masked_phone() == "138****5678");
  CHECK(order.fault().description() == "冰箱不制冷 fridge not cooling");
}

}  // namespace
}  // namespace aftersales
