// intake's event consumers: a peer's event as decoded from its stream
// (dispatch offers/ETAs, parts backorders/availability, complaints) applied
// to a CREATED and to an ASSIGNED order by the domain functions the
// consumers call. A peer is trusted but its events cross a process
// boundary: a malformed or out-of-order event must give a status or no
// change, never a crash.
#include <cstdint>

#include "aftersales/v1/events.pb.h"
#include "intake_fixture.h"

using namespace aftersales;
namespace domain = aftersales::intake::domain;

namespace {

void Apply(const v1::Event& e, const v1::WorkOrder& order) {
  const domain::Context ctx =
      fuzz::IntakeContext(fuzz::kNow + absl::Minutes(20), v1::ROLE_SERVICE);
  switch (e.body_case()) {
    case v1::Event::kOfferAccepted: {
      auto change = domain::ApplyOfferAccepted(order, e.offer_accepted(), ctx);
      if (change.ok()) FUZZ_CHECK(change->order.order_id() == order.order_id());
      break;
    }
    case v1::Event::kOfferRejected:
    case v1::Event::kOfferTimedOut:
      domain::ApplyOfferDeclined(order, ctx);
      break;
    case v1::Event::kOrderUnassignable:
      domain::ApplyUnassignable(order, ctx);
      break;
    case v1::Event::kEtaUpdated:
      domain::ApplyEtaUpdated(order, e.eta_updated(), ctx);
      break;
    case v1::Event::kPartsBackordered:
      domain::ApplyPartsBackordered(order, ctx);
      break;
    case v1::Event::kPartsAvailable:
      domain::ApplyPartsAvailable(order, e.parts_available(), ctx);
      break;
    case v1::Event::kComplaintFiled:
      domain::ApplyComplaintFiled(order, e.complaint_filed().complaint_id(), ctx);
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::Event event;
  if (!fuzz::Decode(data, size, &event)) return 0;
  Apply(event, fuzz::CreatedOrder());
  Apply(event, fuzz::AssignedOrder());
  return 0;
}
