// Dispatch with real intake and dispatch processes on manual clocks: 200
// engineers and 500 orders in one region, rejections and timeouts moving on,
// the partner feed resuming after a disconnect, acceptance reaching intake,
// and bad calls.
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/event_producer.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;

// Monday 2026-11-23 10:00 in Shanghai.
const absl::Time kStart = absl::FromUnixSeconds(1795399200);

struct DispatchSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  // Satisfaction's stream, scripted: its own tests show it emits ratings.
  testing::EventProducer satisfaction{dir.Sub("scripted-satisfaction"), &registry};
  std::unique_ptr<testing::ServiceProcess> intake, dispatch;
  std::unique_ptr<v1::IntakeService::Stub> intake_stub;
  std::unique_ptr<v1::DispatchService::Stub> stub;

  DispatchSuite() {
    testing::ServiceProcess::Options io;
    io.name = "intake";
    io.data_dir = dir.Sub("intake");
    io.tokens = &tokens;
    io.manual_clock = true;
    io.extra_flags = {"--clock_start=2026-11-23T02:00:00Z"};
    intake = std::make_unique<testing::ServiceProcess>(io);
    testing::ServiceProcess::Options d;
    d.name = "dispatch";
    d.data_dir = dir.Sub("dispatch");
    d.tokens = &tokens;
    d.manual_clock = true;
    d.extra_flags = {"--clock_start=2026-11-23T02:00:00Z"};
    d.peers["intake"] = intake->address();
    satisfaction.Up();
    d.peers["satisfaction"] = satisfaction.address();
    dispatch = std::make_unique<testing::ServiceProcess>(d);
    // Intake hears dispatch's offers too: point it at dispatch and restart.
    intake->SetPeer("dispatch", dispatch->address());
    intake->Restart();
    intake_stub = v1::IntakeService::NewStub(intake->channel());
    stub = v1::DispatchService::NewStub(dispatch->channel());
    for (const char* id : {"PA", "PB"}) {
      v1::UpsertPartnerRequest p;
      p.mutable_partner()->set_partner_id(id);
      p.mutable_partner()->set_name(std::string("partner ") + id);
      p.mutable_partner()->set_preference(0.5);
      v1::Partner out;
      REQUIRE(stub->UpsertPartner(Context(token("admin")).get(), p, &out).ok());
    }
  }

  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void AdvanceDispatch(absl::Duration d) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(d);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(dispatch->channel())
                ->AdvanceTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  v1::Engineer Register(const std::string& id, const std::string& partner, double lat,
                        double lng, int max_active = 1, int max_queued = 1) {
    v1::RegisterEngineerRequest req;
    auto* e = req.mutable_engineer();
    e->set_engineer_id(id);
    e->set_partner_id(partner);
    e->set_display_name("Engineer " + id);
    auto* skill = e->add_skills();
    skill->set_appliance_category("FRIDGE");
    skill->set_level(v1::CERTIFICATION_LEVEL_INTERMEDIATE);
    e->mutable_coverage()->add_region_codes("CN-310000");
    e->mutable_capacity()->set_max_active(max_active);
    e->mutable_capacity()->set_max_queued(max_queued);
    e->mutable_location()->set_lat_deg(lat);
    e->mutable_location()->set_lng_deg(lng);
    v1::Engineer out;
    const std::string who = partner == "PA" ? "partner-a" : "partner-b";
    grpc::Status s = stub->RegisterEngineer(Context(token(who)).get(), req, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return out;
  }

  std::string CreateOrder(int i, double lat, double lng) {
    auto req = testing::SampleOrderRequest("d-" + std::to_string(i), "SN-d-" + std::to_string(i));
    req.mutable_fault()->set_description("door seal is loose");
    req.mutable_service_area()->mutable_location()->set_lat_deg(lat);
    req.mutable_service_area()->mutable_location()->set_lng_deg(lng);
    v1::CreateOrderResponse resp;
    REQUIRE(intake_stub->CreateOrder(Context(token("agent")).get(), req, &resp).ok());
    return resp.order().order_id();
  }

  std::vector<v1::DispatchOrder> Orders() {
    std::vector<v1::DispatchOrder> out;
    v1::ListDispatchOrdersRequest req;
    req.mutable_page()->set_page_size(500);
    while (true) {
      v1::ListDispatchOrdersResponse resp;
      if (!stub->ListDispatchOrders(Context(token("agent")).get(), req, &resp).ok()) return {};
      for (const auto& o : resp.orders()) out.push_back(o);
      if (resp.next_page_token().empty()) return out;
      req.mutable_page()->set_page_token(resp.next_page_token());
    }
  }

  std::vector<v1::Offer> Offers(const std::string& partner, v1::OfferState state) {
    std::vector<v1::Offer> out;
    v1::ListOffersRequest req;
    req.set_partner_id(partner);
    req.set_state(state);
    req.mutable_page()->set_page_size(500);
    while (true) {
      v1::ListOffersResponse resp;
      if (!stub->ListOffers(Context(token("admin")).get(), req, &resp).ok()) return {};
      for (const auto& o : resp.offers()) out.push_back(o);
      if (resp.next_page_token().empty()) return out;
      req.mutable_page()->set_page_token(resp.next_page_token());
    }
  }
};

// A partner's feed reader that can drop its connection and resume.
class FeedReader {
 public:
  FeedReader(v1::DispatchService::Stub* stub, std::string token, std::string partner)
      : stub_(stub), token_(std::move(token)), partner_(std::move(partner)) {}
  ~FeedReader() { Stop(); }

  void Start(uint64_t after) {
    stop_ = false;
    thread_ = std::thread([this, after] {
      uint64_t cursor = after;
      auto ctx = Context(token_, absl::Minutes(5));
      {
        absl::MutexLock l(&mu_);
        ctx_ = ctx.get();
      }
      v1::WatchOffersRequest req;
      req.set_partner_id(partner_);
      req.set_after_cursor(cursor);
      auto reader = stub_->WatchOffers(ctx.get(), req);
      v1::OfferFeedMessage m;
      while (reader->Read(&m)) {
        if (m.heartbeat()) continue;
        absl::MutexLock l(&mu_);
        items_.push_back(m);
      }
      reader->Finish();
      absl::MutexLock l(&mu_);
      ctx_ = nullptr;
    });
  }
  void Stop() {
    {
      absl::MutexLock l(&mu_);
      if (ctx_ != nullptr) ctx_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }
  std::vector<v1::OfferFeedMessage> Items() {
    absl::MutexLock l(&mu_);
    return items_;
  }

 private:
  v1::DispatchService::Stub* stub_;
  std::string token_, partner_;
  std::thread thread_;
  bool stop_ = false;
  absl::Mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;
  std::vector<v1::OfferFeedMessage> items_;
};

TEST_CASE("200 engineers and 500 orders: offered or queued, capacity kept, rejections and timeouts move on, the feed resumes exactly once") {
  DispatchSuite s;
  // Engineers on a 20 x 10 grid around central Shanghai, alternating partners.
  for (int i = 0; i < 200; ++i) {
    s.Register("E" + std::to_string(1000 + i), i % 2 ? "PB" : "PA", 31.10 + 0.01 * (i / 10),
               121.30 + 0.01 * (i % 20));
  }
  FeedReader feed(s.stub.get(), s.token("partner-a"), "PA");
  feed.Start(0);
  absl::SleepFor(absl::Milliseconds(300));  // "from now" starts before any offer

  for (int i = 0; i < 500; ++i) {
    s.CreateOrder(i, 31.10 + 0.0005 * (i % 200), 121.30 + 0.0009 * (i % 217));
    if (i == 250) {
      // The partner system drops its stream mid-run, once it has seen some
      // offers (resuming from cursor 0 would mean "from now"), and comes
      // back later.
      REQUIRE(Eventually([&] { return !feed.Items().empty(); }, absl::Seconds(30)));
      feed.Stop();
    }
  }
  std::vector<v1::OfferFeedMessage> before_drop = feed.Items();
  REQUIRE(Eventually(
      [&] {
        auto orders = s.Orders();
        if (orders.size() != 500) return false;
        for (const auto& o : orders) {
          if (o.state() != v1::DISPATCH_STATE_OFFERED &&
              o.state() != v1::DISPATCH_STATE_UNASSIGNABLE) {
            return false;
          }
        }
        return true;
      },
      absl::Seconds(60)));

  // Capacity is 1 active + 1 queued per engineer: 400 offers, 100 queued.
  auto orders = s.Orders();
  int offered = 0, queued = 0;
  for (const auto& o : orders) {
    if (o.state() == v1::DISPATCH_STATE_OFFERED) ++offered;
    if (o.state() == v1::DISPATCH_STATE_UNASSIGNABLE) ++queued;
  }
  CHECK(offered == 400);
  CHECK(queued == 100);
  std::map<std::string, int> load;
  for (const char* p : {"PA", "PB"}) {
    for (const auto& o : s.Offers(p, v1::OFFER_STATE_PENDING)) ++load[o.engineer_id()];
  }
  CHECK(load.size() == 200);
  for (const auto& [engineer, n] : load) {
    INFO(engineer);
    CHECK(n <= 2);
  }
  v1::ListUnassignedRequest unassigned;
  unassigned.mutable_page()->set_page_size(500);
  v1::ListUnassignedResponse queue;
  REQUIRE(s.stub->ListUnassigned(Context(s.token("agent")).get(), unassigned, &queue).ok());
  CHECK(queue.entries_size() == 100);

  // A rejected offer moves on: the engineer is excluded, and the freed
  // capacity goes to the queue.
  const v1::Offer first = s.Offers("PA", v1::OFFER_STATE_PENDING).front();
  v1::RejectOfferRequest reject;
  reject.set_offer_id(first.offer_id());
  reject.set_engineer_id(first.engineer_id());
  reject.set_reason(v1::OFFER_REJECT_REASON_TOO_FAR);
  v1::Offer rejected;
  REQUIRE(s.stub->RejectOffer(Context(s.token("partner-a")).get(), reject, &rejected).ok());
  CHECK(rejected.state() == v1::OFFER_STATE_REJECTED);
  v1::GetDispatchOrderRequest get;
  get.set_order_id(first.order_id());
  v1::DispatchOrder after_reject;
  REQUIRE(s.stub->GetDispatchOrder(Context(s.token("agent")).get(), get, &after_reject).ok());
  CHECK(after_reject.excluded_engineer_ids(0) == first.engineer_id());
  // Every other engineer is full: the order waits in the queue, and the
  // rejecting engineer's freed slot went to the most urgent queued order.
  CHECK(after_reject.state() == v1::DISPATCH_STATE_UNASSIGNABLE);
  v1::ListUnassignedResponse queue_after;
  REQUIRE(s.stub->ListUnassigned(Context(s.token("agent")).get(), unassigned, &queue_after).ok());
  CHECK(queue_after.entries_size() == 100);
  int rejecting_engineer_load = 0;
  for (const auto& o : s.Offers("PA", v1::OFFER_STATE_PENDING)) {
    if (o.engineer_id() == first.engineer_id()) ++rejecting_engineer_load;
  }
  CHECK(rejecting_engineer_load == 2);

  // Partner B may not act on partner A's offer.
  const v1::Offer other = s.Offers("PA", v1::OFFER_STATE_PENDING).back();
  v1::AcceptOfferRequest steal;
  steal.set_offer_id(other.offer_id());
  steal.set_engineer_id(other.engineer_id());
  v1::Offer stolen;
  CHECK(s.stub->AcceptOffer(Context(s.token("partner-b")).get(), steal, &stolen).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  // Every pending offer times out after 10 minutes and moves on.
  const size_t pending_before = s.Offers("PA", v1::OFFER_STATE_PENDING).size() +
                                s.Offers("PB", v1::OFFER_STATE_PENDING).size();
  CHECK(pending_before == 400);
  s.AdvanceDispatch(absl::Minutes(11));
  REQUIRE(Eventually(
      [&] {
        return s.Offers("PA", v1::OFFER_STATE_TIMED_OUT).size() +
                   s.Offers("PB", v1::OFFER_STATE_TIMED_OUT).size() ==
               pending_before;
      },
      absl::Seconds(60)));
  REQUIRE(Eventually([&] {
    for (const auto& o : s.Orders()) {
      if (o.state() != v1::DISPATCH_STATE_OFFERED &&
          o.state() != v1::DISPATCH_STATE_UNASSIGNABLE) {
        return false;
      }
    }
    return true;
  }));
  v1::DispatchOrder moved;
  get.set_order_id(other.order_id());
  REQUIRE(s.stub->GetDispatchOrder(Context(s.token("agent")).get(), get, &moved).ok());
  CHECK(moved.attempts() >= 2);
  bool excluded = false;
  for (const auto& e : moved.excluded_engineer_ids()) excluded |= e == other.engineer_id();
  CHECK(excluded);

  // The partner reconnects from its last cursor: every change of its
  // engineers' offers exactly once, cursors 1..head without a gap.
  REQUIRE_FALSE(before_drop.empty());
  const uint64_t last = before_drop.back().cursor();
  FeedReader resumed(s.stub.get(), s.token("partner-a"), "PA");
  resumed.Start(last);
  std::vector<v1::Offer> pa_offers;
  auto all_items = [&] {
    std::vector<v1::OfferFeedMessage> items = before_drop;
    for (const auto& m : resumed.Items()) items.push_back(m);
    return items;
  };
  // Caught up: the latest feed item of every offer shows its current state.
  // The current states are read afresh each time: under load dispatch may
  // still be making offers for the queue when this starts.
  std::string mismatch;
  const bool caught_up = Eventually([&] {
    pa_offers = s.Offers("PA", v1::OFFER_STATE_UNSPECIFIED);
    if (pa_offers.empty()) return false;
    const std::vector<v1::OfferFeedMessage> items = all_items();
    std::map<std::string, v1::OfferState> latest;
    for (const auto& m : items) latest[m.offer().offer_id()] = m.offer().state();
    for (const auto& o : pa_offers) {
      auto it = latest.find(o.offer_id());
      if (it == latest.end() || it->second != o.state()) {
        mismatch = absl::StrCat(o.offer_id(), " is ", v1::OfferState_Name(o.state()),
                                ", its latest feed item ",
                                it == latest.end() ? "missing"
                                                   : v1::OfferState_Name(it->second),
                                "; feed items ", items.size(), ", offers ",
                                pa_offers.size());
        return false;
      }
    }
    return true;
  }, absl::Seconds(60));
  INFO(mismatch);
  REQUIRE(caught_up);
  absl::SleepFor(absl::Milliseconds(500));
  resumed.Stop();
  const std::vector<v1::OfferFeedMessage> all = all_items();
  std::set<uint64_t> cursors;
  for (const auto& m : all) {
    CHECK(m.offer().partner_id() == "PA");
    CHECK(cursors.insert(m.cursor()).second);  // never twice
  }
  REQUIRE_FALSE(cursors.empty());
  CHECK(*cursors.begin() == 1);
  CHECK(*cursors.rbegin() == cursors.size());  // no gap
  CHECK(all.size() >= pa_offers.size());
}

TEST_CASE("an accepted offer reaches intake, and the ranking explains itself") {
  DispatchSuite s;
  s.Register("E1", "PA", 31.23, 121.47);  // the test's "engineer" principal
  s.Register("E2", "PB", 31.40, 121.60);
  const std::string order_id = s.CreateOrder(1, 31.231, 121.471);
  v1::GetDispatchOrderRequest get;
  get.set_order_id(order_id);
  v1::DispatchOrder d;
  REQUIRE(Eventually([&] {
    return s.stub->GetDispatchOrder(Context(s.token("agent")).get(), get, &d).ok() &&
           d.state() == v1::DISPATCH_STATE_OFFERED;
  }));

  v1::RecommendRequest rec;
  rec.set_order_id(order_id);
  rec.set_include_ineligible(true);
  v1::RecommendResponse ranked;
  REQUIRE(s.stub->Recommend(Context(s.token("agent")).get(), rec, &ranked).ok());
  REQUIRE(ranked.candidates_size() == 2);
  // E1 holds a pending offer but has room for one more (1 active + 1 queued).
  CHECK(ranked.candidates(0).engineer_id() == "E1");
  CHECK(ranked.candidates(0).rank() == 1);
  CHECK(ranked.candidates(0).factors_size() == 5);
  double sum = 0;
  for (const auto& f : ranked.candidates(0).factors()) sum += f.contribution();
  CHECK(sum == Approx(ranked.candidates(0).total_score()));

  // The offer went to the nearest engineer, E1; the engineer accepts.
  v1::ListOffersRequest mine;
  mine.set_order_id(order_id);
  v1::ListOffersResponse offers;
  REQUIRE(s.stub->ListOffers(Context(s.token("engineer")).get(), mine, &offers).ok());
  REQUIRE(offers.offers_size() == 1);
  CHECK(offers.offers(0).engineer_id() == "E1");
  CHECK_FALSE(offers.offers(0).job().service_area().region_code().empty());
  v1::AcceptOfferRequest accept;
  accept.set_offer_id(offers.offers(0).offer_id());
  accept.set_engineer_id("E1");
  v1::Offer accepted;
  REQUIRE(s.stub->AcceptOffer(Context(s.token("engineer")).get(), accept, &accepted).ok());
  CHECK(accepted.state() == v1::OFFER_STATE_ACCEPTED);
  v1::Offer again;  // a retry returns the same acceptance
  REQUIRE(s.stub->AcceptOffer(Context(s.token("engineer")).get(), accept, &again).ok());
  CHECK(again.state() == v1::OFFER_STATE_ACCEPTED);

  v1::GetOrderRequest oreq;
  oreq.set_order_id(order_id);
  REQUIRE(Eventually([&] {
    v1::WorkOrder o;
    return s.intake_stub->GetOrder(Context(s.token("agent")).get(), oreq, &o).ok() &&
           o.assignment().engineer_id() == "E1" &&
           o.assignment().engineer().display_name() == "Engineer E1";
  }));
  v1::GetEtaRequest eta_req;
  eta_req.set_order_id(order_id);
  v1::EtaEstimate eta;
  REQUIRE(s.stub->GetEta(Context(s.token("agent")).get(), eta_req, &eta).ok());
  CHECK(eta.engineer_id() == "E1");
  CHECK(eta.distance_km() < 1.0);

  // A rating change from satisfaction reaches the engineer's ranking input.
  v1::Event rating;
  rating.set_producer("satisfaction");
  rating.set_subject_id("E1");
  rating.mutable_engineer_rating_changed()->set_engineer_id("E1");
  rating.mutable_engineer_rating_changed()->set_rating(4.6);
  rating.mutable_engineer_rating_changed()->set_response_count(12);
  s.satisfaction.Emit(rating);
  v1::GetEngineerRequest ge;
  ge.set_engineer_id("E1");
  REQUIRE(Eventually([&] {
    v1::Engineer e;
    return s.stub->GetEngineer(Context(s.token("agent")).get(), ge, &e).ok() &&
           e.rating() == Approx(4.6) && e.rating_count() == 12;
  }));

  const std::string metrics = s.dispatch->ScrapeMetrics();
  CHECK(absl::StrContains(metrics, "aftersales_dispatch_acceptances_total{first_offer=\"true\"} 1"));
  CHECK(absl::StrContains(metrics, "aftersales_dispatch_time_to_offer_seconds_count 1"));
}

TEST_CASE("bad dispatch calls get the right status and change nothing") {
  DispatchSuite s;
  s.Register("E1", "PA", 31.23, 121.47);
  using Code = grpc::StatusCode;
  v1::Engineer e;

  v1::RegisterEngineerRequest reg;
  CHECK(s.stub->RegisterEngineer(Context(s.token("partner-a")).get(), reg, &e).error_code() ==
        Code::INVALID_ARGUMENT);
  auto* eng = reg.mutable_engineer();
  eng->set_engineer_id("E9");
  eng->set_partner_id("PB");
  eng->set_display_name("x");
  auto* skill = eng->add_skills();
  skill->set_appliance_category("FRIDGE");
  skill->set_level(v1::CERTIFICATION_LEVEL_JUNIOR);
  CHECK(s.stub->RegisterEngineer(Context(s.token("partner-a")).get(), reg, &e).error_code() ==
        Code::PERMISSION_DENIED);  // partner A registering for B
  CHECK(s.stub->RegisterEngineer(Context("").get(), reg, &e).error_code() ==
        Code::UNAUTHENTICATED);
  CHECK(s.stub->RegisterEngineer(Context(s.token("engineer")).get(), reg, &e).error_code() ==
        Code::PERMISSION_DENIED);
  eng->set_partner_id("PA");
  eng->mutable_location()->set_lat_deg(95);
  grpc::Status st = s.stub->RegisterEngineer(Context(s.token("partner-a")).get(), reg, &e);
  CHECK(st.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(st.error_message(), "engineer.location.lat_deg:"));
  eng->clear_location();
  eng->mutable_skills(0)->set_level(v1::CERTIFICATION_LEVEL_UNSPECIFIED);
  st = s.stub->RegisterEngineer(Context(s.token("partner-a")).get(), reg, &e);
  CHECK(st.error_code() == Code::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(st.error_message(), "engineer.skills[0].level:"));

  // Same id, different body: ALREADY_EXISTS.
  v1::RegisterEngineerRequest dup;
  *dup.mutable_engineer() = s.Register("E1", "PA", 31.23, 121.47);
  dup.mutable_engineer()->set_display_name("someone else");
  CHECK(s.stub->RegisterEngineer(Context(s.token("partner-a")).get(), dup, &e).error_code() ==
        Code::ALREADY_EXISTS);

  v1::ReportLocationRequest loc;
  loc.set_engineer_id("E1");
  v1::ReportLocationResponse lr;
  CHECK(s.stub->ReportLocation(Context(s.token("engineer")).get(), loc, &lr).error_code() ==
        Code::INVALID_ARGUMENT);
  loc.mutable_location()->set_lat_deg(31.2);
  loc.mutable_location()->set_lng_deg(121.4);
  *loc.mutable_reported_at() = rpc::ToProto(kStart + absl::Hours(2));  // future
  CHECK(s.stub->ReportLocation(Context(s.token("engineer")).get(), loc, &lr).error_code() ==
        Code::INVALID_ARGUMENT);
  *loc.mutable_reported_at() = rpc::ToProto(kStart);
  CHECK(s.stub->ReportLocation(Context(s.token("partner-b")).get(), loc, &lr).error_code() ==
        Code::NOT_FOUND);

  v1::AcceptOfferRequest acc;
  v1::Offer offer;
  CHECK(s.stub->AcceptOffer(Context(s.token("engineer")).get(), acc, &offer).error_code() ==
        Code::INVALID_ARGUMENT);
  acc.set_offer_id("nope");
  acc.set_engineer_id("E1");
  CHECK(s.stub->AcceptOffer(Context(s.token("engineer")).get(), acc, &offer).error_code() ==
        Code::NOT_FOUND);
  CHECK(s.stub->AcceptOffer(Context(s.token("auditor")).get(), acc, &offer).error_code() ==
        Code::PERMISSION_DENIED);
  v1::RejectOfferRequest rej;
  rej.set_offer_id("nope");
  rej.set_engineer_id("E1");
  CHECK(s.stub->RejectOffer(Context(s.token("engineer")).get(), rej, &offer).error_code() ==
        Code::INVALID_ARGUMENT);  // no reason

  v1::OverrideAssignmentRequest ov;
  ov.set_order_id("WO-none");
  ov.set_engineer_id("E1");
  v1::DispatchOrder dord;
  CHECK(s.stub->OverrideAssignment(Context(s.token("agent")).get(), ov, &dord).error_code() ==
        Code::INVALID_ARGUMENT);  // no reason
  ov.set_reason("customer asked for Li");
  CHECK(s.stub->OverrideAssignment(Context(s.token("agent")).get(), ov, &dord).error_code() ==
        Code::NOT_FOUND);
  CHECK(s.stub->OverrideAssignment(Context(s.token("partner-a")).get(), ov, &dord).error_code() ==
        Code::PERMISSION_DENIED);

  v1::RecommendRequest rec;
  rec.set_order_id("x");
  rec.set_limit(500);
  v1::RecommendResponse rr;
  CHECK(s.stub->Recommend(Context(s.token("agent")).get(), rec, &rr).error_code() ==
        Code::INVALID_ARGUMENT);

  v1::ListOffersRequest lo;
  v1::ListOffersResponse lor;
  CHECK(s.stub->ListOffers(Context(s.token("agent")).get(), lo, &lor).error_code() ==
        Code::INVALID_ARGUMENT);
  lo.set_partner_id("PB");
  CHECK(s.stub->ListOffers(Context(s.token("partner-a")).get(), lo, &lor).error_code() ==
        Code::PERMISSION_DENIED);

  v1::WatchOffersRequest watch;
  watch.set_partner_id("PB");
  auto ctx = Context(s.token("partner-a"));
  auto reader = s.stub->WatchOffers(ctx.get(), watch);
  v1::OfferFeedMessage m;
  while (reader->Read(&m)) {
  }
  CHECK(reader->Finish().error_code() == Code::PERMISSION_DENIED);

  v1::UpsertPartnerRequest up;
  up.mutable_partner()->set_partner_id("PX");
  up.mutable_partner()->set_name("x");
  up.mutable_partner()->set_preference(3);
  v1::Partner partner;
  CHECK(s.stub->UpsertPartner(Context(s.token("admin")).get(), up, &partner).error_code() ==
        Code::INVALID_ARGUMENT);
  CHECK(s.stub->UpsertPartner(Context(s.token("agent")).get(), up, &partner).error_code() ==
        Code::PERMISSION_DENIED);

  // Nothing of that changed the registry, and the service still serves.
  v1::ListEngineersRequest list;
  v1::ListEngineersResponse engineers;
  REQUIRE(s.stub->ListEngineers(Context(s.token("agent")).get(), list, &engineers).ok());
  REQUIRE(engineers.engineers_size() == 1);
  CHECK(engineers.engineers(0).display_name() == "Engineer E1");
}

}  // namespace
}  // namespace aftersales
