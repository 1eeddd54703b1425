#include "support/order_driver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "catch2/catch.hpp"
#include "rpc/rpc.h"

namespace aftersales::testing {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

v1::WorkOrder DriveToConfirmed(v1::IntakeService::Stub& orders, const TestTokens& tokens,
                               EventProducer& dispatch, const std::string& order_id,
                               const std::string& request_id, absl::Time eta) {
  auto get = [&] {
    v1::GetOrderRequest req;
    req.set_order_id(order_id);
    v1::WorkOrder o;
    REQUIRE(orders.GetOrder(Context(tokens.token.at("agent")).get(), req, &o).ok());
    return o;
  };
  v1::Event e;
  e.set_producer("dispatch");
  e.set_subject_id(order_id);
  auto* a = e.mutable_offer_accepted();
  a->set_offer_id("OF-" + request_id);
  a->set_order_id(order_id);
  a->set_engineer_id("E1");
  a->set_partner_id("PA");
  a->set_attempt(1);
  *a->mutable_eta() = rpc::ToProto(eta);
  a->mutable_engineer()->set_engineer_id("E1");
  dispatch.Emit(e);
  REQUIRE(Eventually([&] { return get().assignment().engineer_id() == "E1"; }));

  auto send = [&](const std::string& who, const std::string& step, v1::ProgressReport r) {
    r.set_order_id(order_id);
    r.set_client_event_id(request_id + "-" + step);
    v1::ReportProgressRequest req;
    *req.mutable_report() = std::move(r);
    v1::ReportProgressResponse resp;
    grpc::Status s = orders.ReportProgress(Context(tokens.token.at(who)).get(), req, &resp);
    INFO(step << ": " << s.error_message());
    REQUIRE(s.ok());
  };
  v1::ProgressReport r;
  r.mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
  send("engineer", "contacted", r);
  r.Clear();
  r.mutable_arrived();
  send("engineer", "arrived", r);
  r.Clear();
  r.mutable_diagnosed()->mutable_diagnosis()->set_initial_cause_code("SENSOR");
  send("engineer", "diagnosed", r);
  r.Clear();
  r.mutable_repaired()->mutable_result()->set_final_cause_code("SENSOR");
  r.mutable_repaired()->mutable_result()->set_first_visit_fix(true);
  send("engineer", "repaired", r);
  r.Clear();
  r.mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
  send("app", "confirmed", r);
  v1::WorkOrder confirmed = get();
  REQUIRE(confirmed.state() == v1::ORDER_STATE_CONFIRMED);
  return confirmed;
}

}  // namespace aftersales::testing
