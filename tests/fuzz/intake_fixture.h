#ifndef AFTERSALES_TESTS_FUZZ_INTAKE_FIXTURE_H_
#define AFTERSALES_TESTS_FUZZ_INTAKE_FIXTURE_H_

// The intake fuzz targets' shared fixture: the deployed policy and sample
// orders (CREATED, and ASSIGNED to E1 of PA) built by the domain functions
// the service uses.
#include "fuzz_support.h"
#include "intake/domain/lifecycle.h"
#include "intake/domain/order.h"
#include "intake/domain/policy.h"
#include "intake/domain/priority.h"
#include "rpc/rpc.h"
#include "support/fixtures.h"

namespace aftersales::fuzz {

inline const v1::IntakePolicy& IntakePolicy() {
  static const v1::IntakePolicy* policy = new v1::IntakePolicy(
      DeployedPolicy<v1::IntakePolicy>("intake", intake::domain::ParseIntakePolicy));
  return *policy;
}

inline intake::domain::Context IntakeContext(absl::Time now, v1::Role role) {
  intake::domain::Context ctx;
  ctx.now = now;
  ctx.actor.set_principal_id("fuzzer");
  ctx.actor.set_role(role);
  ctx.policy = &IntakePolicy();
  return ctx;
}

// What CreateOrder does to a validated request (minus storage).
inline v1::WorkOrder OpenOrder(const v1::CreateOrderRequest& request, absl::Time now) {
  namespace domain = intake::domain;
  v1::WorkOrder order = domain::NewOrder(request, "WO-FUZZ", "partner-a", now);
  domain::PriorityInput input;
  input.fault_text = order.fault().description();
  input.fault_code = order.fault().fault_code();
  input.appliance_category = order.appliance().category();
  input.tier = order.customer().tier();
  input.local_month = 11;
  v1::PriorityDecision decision =
      domain::DecidePriority(input, IntakePolicy().priority(), IntakePolicy().ref());
  order.set_priority(decision.priority());
  *order.mutable_priority_decision() = decision;
  absl::Status clocks = domain::StartClocks(order, IntakePolicy(), now);
  FUZZ_CHECK(clocks.ok() || clocks.code() == absl::StatusCode::kInvalidArgument);
  return order;
}

inline const v1::WorkOrder& CreatedOrder() {
  static const v1::WorkOrder* order =
      new v1::WorkOrder(OpenOrder(testing::SampleOrderRequest("req-1"), kNow));
  return *order;
}

inline const v1::WorkOrder& AssignedOrder() {
  static const v1::WorkOrder* order = [] {
    v1::OfferAccepted accepted;
    accepted.set_offer_id("OF1");
    accepted.set_order_id(CreatedOrder().order_id());
    accepted.set_engineer_id("E1");
    accepted.set_partner_id("PA");
    accepted.set_attempt(1);
    *accepted.mutable_accepted_at() = rpc::ToProto(kNow + absl::Minutes(3));
    *accepted.mutable_eta() = rpc::ToProto(kNow + absl::Hours(1));
    auto change = intake::domain::ApplyOfferAccepted(
        CreatedOrder(), accepted, IntakeContext(kNow + absl::Minutes(3), v1::ROLE_SERVICE));
    FUZZ_CHECK(change.ok());
    return new v1::WorkOrder(change->order);
  }();
  return *order;
}

}  // namespace aftersales::fuzz

#endif  // AFTERSALES_TESTS_FUZZ_INTAKE_FIXTURE_H_
