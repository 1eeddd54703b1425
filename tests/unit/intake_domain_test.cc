#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "intake/domain/order.h"
#include "rpc/rpc.h"
#include "support/fixtures.h"

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
