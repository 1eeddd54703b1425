// dispatch RegisterEngineer / UpdateEngineer: the engineer record a partner
// sends, as gRPC decodes it, validated by domain::ValidateEngineer; a valid
// one is judged against sample orders by the ranking the dispatcher uses
// (hard constraints, predicted arrival over the shift calendar, factors,
// Rank).
//   - errors are INVALID_ARGUMENT naming the field under "engineer.";
//   - eligible iff no hard constraint failed; scores are finite;
//   - Rank puts eligible candidates first, numbered 1..n.
#include <cmath>
#include <cstdint>

#include "aftersales/v1/dispatch.pb.h"
#include "dispatch/domain/ranking.h"
#include "fuzz_support.h"
#include "rpc/rpc.h"

using namespace aftersales;
namespace domain = aftersales::dispatch::domain;

namespace {

const v1::DispatchPolicy& Policy() {
  static const v1::DispatchPolicy* policy = new v1::DispatchPolicy(
      fuzz::DeployedPolicy<v1::DispatchPolicy>("dispatch", domain::ParseDispatchPolicy));
  return *policy;
}

v1::DispatchOrder SampleOrder(bool complex_rework) {
  v1::DispatchOrder o;
  o.set_order_id(complex_rework ? "WO2" : "WO1");
  o.set_state(v1::DISPATCH_STATE_AWAITING_ASSIGNMENT);
  o.set_priority(complex_rework ? v1::PRIORITY_URGENT : v1::PRIORITY_EMERGENCY);
  o.mutable_service_area()->set_region_code("CN-310000");
  o.mutable_service_area()->set_city_tier(1);
  o.mutable_service_area()->mutable_location()->set_lat_deg(31.23);
  o.mutable_service_area()->mutable_location()->set_lng_deg(121.47);
  o.set_appliance_category("FRIDGE");
  o.set_appliance_brand("Haier");
  *o.mutable_order_created_at() = rpc::ToProto(fuzz::kNow);
  *o.mutable_arrival_deadline() = rpc::ToProto(fuzz::kNow + absl::Hours(2));
  *o.mutable_dispatch_deadline() = rpc::ToProto(fuzz::kNow + absl::Minutes(15));
  if (complex_rework) {
    o.set_complexity(v1::FAULT_COMPLEXITY_COMPLEX);
    o.set_is_rework(true);
    o.set_rework_of_engineer_id("E9");
    o.set_rework_of_level(v1::CERTIFICATION_LEVEL_INTERMEDIATE);
  }
  o.set_required_level(domain::RequiredLevel(o));
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::RegisterEngineerRequest request;
  if (!fuzz::Decode(data, size, &request)) return 0;
  Policy();
  absl::Status valid = domain::ValidateEngineer(request.engineer(), "engineer");
  fuzz::CheckValidationError(valid);
  if (!valid.ok()) return 0;

  v1::Partner partner;
  partner.set_partner_id(request.engineer().partner_id());
  partner.set_preference(0.7);
  for (bool complex_rework : {false, true}) {
    const v1::DispatchOrder order = SampleOrder(complex_rework);
    domain::Situation situation;
    situation.now = fuzz::kNow + absl::Minutes(1);
    situation.policy = &Policy();
    situation.partner = &partner;
    situation.load.active = size % 3;
    situation.peer_jobs_today = 1.5;
    situation.past_dispatch_deadline = complex_rework;
    const auto failed = domain::FailedConstraints(request.engineer(), order, situation);
    domain::PredictArrival(request.engineer(), order, situation);
    v1::Candidate candidate = domain::Evaluate(request.engineer(), order, situation);
    FUZZ_CHECK(candidate.eligible() == failed.empty());
    FUZZ_CHECK(std::isfinite(candidate.total_score()));
    v1::Candidate other = candidate;
    other.set_engineer_id("E-OTHER");
    other.set_eligible(!candidate.eligible());
    std::vector<v1::Candidate> all = {other, candidate};
    domain::Rank(all);
    FUZZ_CHECK(all[0].eligible() || !all[1].eligible());
    if (all[0].eligible()) FUZZ_CHECK(all[0].rank() == 1);
    domain::OfferTimeout(order, Policy());
  }
  return 0;
}
