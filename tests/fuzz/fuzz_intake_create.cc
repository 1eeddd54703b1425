// intake CreateOrder: the request as gRPC decodes it, validated by
// domain::ValidateCreateOrder; a valid one is opened the way the handler
// does (NewOrder, priority rules over the free fault text, SLA clocks on the
// region's calendar, the OrderCreated event, the first sweep).
//   - errors are INVALID_ARGUMENT naming the field;
//   - the OrderCreated event never carries contact PII;
//   - the masked phone shows at most 7 digits and never the whole number.
#include <algorithm>
#include <cstdint>

#include "aftersales/v1/intake.pb.h"
#include "intake_fixture.h"
#include "rpc/rpc.h"

using namespace aftersales;
namespace domain = aftersales::intake::domain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::CreateOrderRequest request;
  if (!fuzz::Decode(data, size, &request)) return 0;
  fuzz::IntakePolicy();
  absl::Status valid = domain::ValidateCreateOrder(request, fuzz::kNow);
  fuzz::CheckValidationError(valid);
  if (!valid.ok()) return 0;

  v1::WorkOrder order = fuzz::OpenOrder(request, fuzz::kNow);
  v1::Event created = domain::OrderCreatedEvent(order, fuzz::kNow);
  FUZZ_CHECK(!created.order_created().order().has_contact());

  const std::string& phone = request.contact().phone();
  const std::string masked = order.customer().masked_phone();
  const long shown = std::count_if(masked.begin(), masked.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
  FUZZ_CHECK(shown <= 7);
  const long digits = std::count_if(phone.begin(), phone.end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
  if (digits >= 2) FUZZ_CHECK(shown < digits);
  domain::MaskName(request.contact().name());

  const absl::Time next = domain::NextSweep(order, fuzz::IntakePolicy());
  if (next != absl::InfiniteFuture()) FUZZ_CHECK(next >= fuzz::kNow);
  domain::Change swept = domain::Sweep(
      order, fuzz::IntakeContext(fuzz::kNow + absl::Hours(30), v1::ROLE_SERVICE));
  FUZZ_CHECK(swept.order.order_id() == order.order_id());
  return 0;
}
