#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "intake/domain/lifecycle.h"
#include "intake/domain/order.h"
#include "intake/domain/policy.h"
#include "rpc/rpc.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales::intake::domain {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);

v1::CreateOrderRequest ValidRequest() { return testing::SampleOrderRequest("req-1"); }

TEST_CASE("a complete create request is valid") {
  CHECK(ValidateCreateOrder(ValidRequest(), kNow).ok());
}

TEST_CASE("each missing or bad field is named") {
  struct Case {
    const char* field;
    std::function<void(v1::CreateOrderRequest&)> spoil;
  };
  const std::vector<Case> cases = {
      {"request_id", [](auto& r) { r.clear_request_id(); }},
      {"channel", [](auto& r) { r.set_channel(v1::CHANNEL_UNSPECIFIED); }},
      {"channel", [](auto& r) { r.set_channel(static_cast<v1::Channel>(99)); }},
      {"customer_id", [](auto& r) { r.clear_customer_id(); }},
      {"service_area", [](auto& r) { r.clear_service_area(); }},
      {"service_area.city_tier", [](auto& r) { r.mutable_service_area()->set_city_tier(4); }},
      {"service_area.location.lat_deg",
       [](auto& r) { r.mutable_service_area()->mutable_location()->set_lat_deg(120); }},
      {"appliance.serial", [](auto& r) { r.mutable_appliance()->clear_serial(); }},
      {"fault.description", [](auto& r) { r.mutable_fault()->clear_description(); }},
      {"fault.description",
       [](auto& r) { r.mutable_fault()->set_description(std::string(4001, 'x')); }},
  };
  for (const Case& c : cases) {
    auto r = ValidRequest();
    c.spoil(r);
    absl::Status s = ValidateCreateOrder(r, kNow);
    INFO(c.field << " -> " << s);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), std::string(c.field) + ":"));
  }
}

TEST_CASE("a new order starts CREATED at the given time, with its event") {
  const absl::Time now = absl::FromUnixSeconds(1'780'000'000);
  v1::WorkOrder order = NewOrder(ValidRequest(), "WO1", "partner-a", now);
  CHECK(order.order_id() == "WO1");
  CHECK(order.state() == v1::ORDER_STATE_CREATED);
  CHECK(order.customer_id() == "C100");
  CHECK(order.created_by() == "partner-a");
  CHECK(rpc::FromProto(order.created_at()) == now);
  v1::Event e = OrderCreatedEvent(order, now);
  CHECK(e.producer() == "intake");
  CHECK(e.subject_id() == "WO1");
  CHECK(e.order_created().order().order_id() == "WO1");
  CHECK(e.seq() == 0);  // assigned by the store at commit
}

}  // namespace
}  // namespace aftersales::intake::domain

namespace aftersales::intake::domain {
namespace {

TEST_CASE("a backordered part may be waited for before the quote, but no repair starts without the fee") {
  auto policy = LoadIntakePolicyFile(testing::SourcePath("deploy/policies/intake.textproto"));
  REQUIRE(policy.ok());
  const absl::Time t0 = absl::FromUnixSeconds(1795399200);  // Mon 10:00 Shanghai
  v1::WorkOrder o = NewOrder(ValidRequest(), "WO1", "agent-1", t0);
  REQUIRE(StartClocks(o, *policy, t0).ok());
  Context ctx{t0, {}, &*policy};
  v1::OfferAccepted accepted;
  accepted.set_engineer_id("E1");
  accepted.set_partner_id("PA");
  o = ApplyOfferAccepted(o, accepted, ctx)->order;
  auto report = [&](const std::string& id) {
    v1::ProgressReport r;
    r.set_order_id("WO1");
    r.set_client_event_id(id);
    return r;
  };
  auto r = report("c");
  r.mutable_contacted();
  o = ApplyProgress(o, r, ctx)->order;
  r = report("a");
  r.mutable_arrived();
  o = ApplyProgress(o, r, ctx)->order;
  r = report("d");
  r.mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("COMPRESSOR");
  r.mutable_diagnosed()->mutable_diagnosis()->set_parts_needed(true);
  o = ApplyProgress(o, r, ctx)->order;
  REQUIRE(o.state() == v1::ORDER_STATE_DIAGNOSED);

  o = ApplyPartsBackordered(o, ctx).order;
  CHECK(o.state() == v1::ORDER_STATE_WAITING_PARTS);
  r = report("s");
  r.mutable_repair_started();
  auto refused = ApplyProgress(o, r, ctx);
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(refused.status().message(), "WAITING_PARTS"));

  v1::PartsAvailable all;
  all.set_all_available(true);
  o = ApplyPartsAvailable(o, all, ctx).order;
  CHECK(o.state() == v1::ORDER_STATE_DIAGNOSED);  // parts in hand, quote next

  r = report("q");
  auto* line = r.mutable_quoted()->add_lines();
  line->set_kind(v1::QUOTE_LINE_KIND_PART);
  line->set_sku("CMP-220");
  line->set_description("compressor");
  line->set_quantity(1);
  o = ApplyProgress(o, r, ctx)->order;
  REQUIRE(o.state() == v1::ORDER_STATE_QUOTED);
  r = report("f");
  r.mutable_fee_decision()->set_quote_id(o.quote().quote_id());
  r.mutable_fee_decision()->set_accepted(true);
  r.mutable_fee_decision()->set_method(v1::CONSENT_METHOD_TEXT);
  r.mutable_fee_decision()->set_evidence_ref("tick");
  o = ApplyProgress(o, r, ctx)->order;
  CHECK(o.state() == v1::ORDER_STATE_IN_REPAIR);
}

}  // namespace
}  // namespace aftersales::intake::domain
