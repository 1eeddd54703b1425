// Satisfaction with the real intake and complaint services (manual clocks):
// an order is driven through intake's RPCs until the customer confirms the
// repair; intake's OrderConfirmedRepaired schedules the survey; a detractor
// answer that says "not solved" reopens the order in intake and files exactly
// one complaint in the complaint service (whose ComplaintFiled comes back to
// satisfaction for SQI); the engineer's new rating is on satisfaction's
// stream for dispatch; five stars give the customer's next order a higher
// priority. Dispatch's offers are scripted (a real EventStream over a real
// store).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/match.h"
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

int Count(const std::vector<v1::Event>& events, v1::Event::BodyCase body,
          const std::string& subject) {
  int n = 0;
  for (const auto& e : events) n += e.body_case() == body && e.subject_id() == subject;
  return n;
}

struct Journey {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer dispatch{dir.Sub("scripted-dispatch"), &registry};
  std::unique_ptr<testing::ServiceProcess> intake, sat, complaint;
  std::unique_ptr<v1::IntakeService::Stub> orders;
  std::unique_ptr<v1::SatisfactionService::Stub> surveys;
  std::unique_ptr<v1::ComplaintService::Stub> complaints;

  Journey() {
    dispatch.Up();
    const int sat_port = FreeLoopbackPort(), complaint_port = FreeLoopbackPort();
    const std::string sat_addr = "127.0.0.1:" + std::to_string(sat_port);
    const std::string complaint_addr = "127.0.0.1:" + std::to_string(complaint_port);
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
    so.grpc_port = sat_port;
    so.peers = {{"intake", intake->address()}, {"complaint", complaint_addr}};
    sat = std::make_unique<testing::ServiceProcess>(so);
    auto co = options("complaint");
    co.grpc_port = complaint_port;
    co.peers = {{"intake", intake->address()}, {"satisfaction", sat_addr}};
    complaint = std::make_unique<testing::ServiceProcess>(co);
    orders = v1::IntakeService::NewStub(intake->channel());
    surveys = v1::SatisfactionService::NewStub(sat->channel());
    complaints = v1::ComplaintService::NewStub(complaint->channel());
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  v1::WorkOrder Order(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    REQUIRE(orders->GetOrder(Context(token("agent")).get(), req, &o).ok());
    return o;
  }

  // Creates an order and takes it to CONFIRMED through intake's RPCs.
  v1::WorkOrder Repaired(const std::string& request_id, const v1::CreateOrderRequest& create) {
    v1::CreateOrderResponse created;
    REQUIRE(orders->CreateOrder(Context(token("partner-a")).get(), create, &created).ok());
    return testing::DriveToConfirmed(*orders, tokens, dispatch, created.order().order_id(),
                                     request_id, kStart + absl::Minutes(25));
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

  grpc::Status Submit(const std::string& survey_id, const std::string& request_id, int score,
                      bool solved, const std::string& comment, v1::SubmitSurveyResponse* out) {
    v1::SubmitSurveyRequest req;
    req.set_survey_id(survey_id);
    req.set_request_id(request_id);
    auto* r = req.mutable_response();
    r->set_csat(score);
    r->set_nps(score == 5 ? 10 : 2);
    auto* d = r->mutable_dimensions();
    d->set_booking_convenience(score);
    d->set_timeliness(score);
    d->set_engineer_attitude(score);
    d->set_professionalism(score);
    d->set_fee_transparency(score);
    d->set_site_etiquette(score);
    r->set_problem_solved(solved);
    r->set_comment(comment);
    return surveys->SubmitSurvey(Context(token("app")).get(), req, out);
  }

  std::vector<v1::Complaint> ComplaintsOf(const std::string& order_id) {
    v1::ListComplaintsRequest req;
    req.set_order_id(order_id);
    v1::ListComplaintsResponse resp;
    if (!complaints->ListComplaints(Context(token("agent")).get(), req, &resp).ok()) return {};
    return {resp.complaints().begin(), resp.complaints().end()};
  }
};

TEST_CASE("a detractor who says not solved reopens the order in intake and files exactly one complaint") {
  Journey j;
  const v1::WorkOrder order =
      j.Repaired("d1", testing::SampleOrderRequest("journey-1", "SN-journey-1"));
  const std::string id = order.order_id();
  absl::Time follow_up_deadline = absl::InfiniteFuture();
  for (const auto& c : order.sla_clocks()) {
    if (c.kind() == v1::SLA_CLOCK_KIND_FOLLOW_UP) follow_up_deadline = rpc::FromProto(c.deadline());
  }
  REQUIRE(follow_up_deadline != absl::InfiniteFuture());

  // intake's OrderConfirmedRepaired scheduled the survey, due at intake's
  // follow-up deadline.
  const v1::Survey survey = j.SurveyOf(id);
  CHECK(survey.state() == v1::SURVEY_STATE_SCHEDULED);
  CHECK(survey.customer_id() == "C100");
  CHECK(survey.engineer_id() == "E1");
  CHECK(survey.partner_id() == "PA");
  CHECK(survey.region_code() == "CN-310000");
  CHECK(survey.appliance_category() == "FRIDGE");
  CHECK(rpc::FromProto(survey.due_at()) == follow_up_deadline);

  v1::SubmitSurveyResponse answer;
  REQUIRE(j.Submit(survey.survey_id(), "answer-1", 1, false,
                   "The engineer was rude and it is not fixed", &answer)
              .ok());
  CHECK(answer.detractor());
  CHECK(answer.problem_not_solved());

  // intake: followed up, then reopened for a second handling.
  REQUIRE(Eventually([&] { return j.Order(id).state() == v1::ORDER_STATE_REOPENED; }));
  const v1::WorkOrder reopened = j.Order(id);
  bool followed_up = false;
  for (const auto& t : reopened.transitions()) {
    followed_up = followed_up || t.to_state() == v1::ORDER_STATE_FOLLOWED_UP;
  }
  CHECK(followed_up);
  CHECK(reopened.follow_up().survey_id() == survey.survey_id());

  // complaint: auto-filed from the survey, once.
  REQUIRE(Eventually([&] { return j.ComplaintsOf(id).size() == 1; }));
  const v1::Complaint filed = j.ComplaintsOf(id)[0];
  CHECK(filed.channel() == v1::COMPLAINT_CHANNEL_SURVEY_AUTO);
  CHECK(filed.source_survey_id() == survey.survey_id());
  CHECK(filed.customer().customer_id() == "C100");

  // A retry of the answer changes nothing anywhere.
  v1::SubmitSurveyResponse retry;
  REQUIRE(j.Submit(survey.survey_id(), "answer-1", 1, false,
                   "The engineer was rude and it is not fixed", &retry)
              .ok());
  CHECK_FALSE(retry.created());
  // satisfaction learns of the complaint from complaint's stream (SQI input).
  v1::GetSqiRankingRequest sqi;
  sqi.mutable_month()->set_year(2026);
  sqi.mutable_month()->set_month(11);
  REQUIRE(Eventually([&] {
    v1::GetSqiRankingResponse ranking;
    if (!j.surveys->GetSqiRanking(Context(j.token("agent")).get(), sqi, &ranking).ok()) {
      return false;
    }
    for (const auto& s : ranking.scores()) {
      for (const auto& c : s.components()) {
        for (const auto& in : c.inputs()) {
          // One complaint on the region's one order.
          if (in.name() == "complaint_rate" && in.value() == 1.0) return true;
        }
      }
    }
    return false;
  }));
  const auto sat_events = AllEvents(j.sat->channel(), j.token("service"));
  CHECK(Count(sat_events, v1::Event::kDetractorDetected, survey.survey_id()) == 1);
  CHECK(Count(sat_events, v1::Event::kProblemNotSolved, survey.survey_id()) == 1);
  CHECK(Count(sat_events, v1::Event::kSurveyAnswered, survey.survey_id()) == 1);
  CHECK(j.ComplaintsOf(id).size() == 1);
  const auto intake_events = AllEvents(j.intake->channel(), j.token("service"));
  CHECK(Count(intake_events, v1::Event::kOrderReopened, id) == 1);
  CHECK(Count(intake_events, v1::Event::kOrderConfirmedRepaired, id) == 1);

  // The engineer's rating moved and is published for dispatch (dispatch's
  // own consumption is verified by the dispatch work).
  int rating_events = 0;
  for (const auto& e : sat_events) {
    if (!e.has_engineer_rating_changed()) continue;
    ++rating_events;
    CHECK(e.engineer_rating_changed().engineer_id() == "E1");
    CHECK(e.engineer_rating_changed().rating() == Approx(41.0 / 11.0));
    CHECK(e.engineer_rating_changed().response_count() == 1);
    CHECK(e.engineer_rating_changed().policy().name() == "satisfaction");
  }
  CHECK(rating_events == 1);

  // The detractor is a churn risk with a win-back task.
  v1::ListChurnRisksRequest risks_req;
  v1::ListChurnRisksResponse risks;
  REQUIRE(j.surveys->ListChurnRisks(Context(j.token("agent")).get(), risks_req, &risks).ok());
  REQUIRE(risks.risks_size() == 1);
  CHECK(risks.risks(0).customer_id() == "C100");
  CHECK(risks.risks(0).reasons(0) == v1::CHURN_REASON_DETRACTOR);
}

TEST_CASE("five stars from the customer raise the priority of their next order in intake") {
  Journey j;
  auto create = testing::SampleOrderRequest("five-1", "SN-five-1");
  const v1::WorkOrder order = j.Repaired("f1", create);
  const v1::Survey survey = j.SurveyOf(order.order_id());
  v1::SubmitSurveyResponse answer;
  REQUIRE(j.Submit(survey.survey_id(), "answer-5", 5, true, "very professional", &answer).ok());
  CHECK(answer.five_star());
  CHECK(answer.follow_up_task_ids_size() == 0);
  REQUIRE(Eventually(
      [&] { return j.Order(order.order_id()).state() == v1::ORDER_STATE_FOLLOWED_UP; }));
  v1::GetCustomerLedgerRequest ledger_req;
  ledger_req.set_customer_id("C100");
  REQUIRE(Eventually([&] {
    v1::CustomerLedger ledger;
    return j.orders->GetCustomerLedger(Context(j.token("agent")).get(), ledger_req, &ledger)
               .ok() &&
           ledger.open_priority_rights() == 1;
  }));
  auto next = testing::SampleOrderRequest("five-2", "SN-five-2");
  next.mutable_appliance()->set_category("AIR_CONDITIONER");
  next.mutable_fault()->set_description("the fan is a bit noisy");
  v1::CreateOrderResponse created;
  REQUIRE(j.orders->CreateOrder(Context(j.token("agent")).get(), next, &created).ok());
  CHECK(created.order().priority() == v1::PRIORITY_URGENT);  // NORMAL raised one level
  const auto sat_events = AllEvents(j.sat->channel(), j.token("service"));
  CHECK(Count(sat_events, v1::Event::kFiveStarGranted, survey.survey_id()) == 1);
  CHECK(Count(sat_events, v1::Event::kDetractorDetected, survey.survey_id()) == 0);
  CHECK(j.ComplaintsOf(order.order_id()).empty());
}

}  // namespace
}  // namespace aftersales
