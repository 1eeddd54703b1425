// parts: every request validator of services/parts/domain/validate.h, on the
// request as gRPC decodes it. The first byte picks the RPC, the rest is the
// request message (the seed corpus holds one valid request per RPC).
//   - errors are INVALID_ARGUMENT naming the field;
//   - quantities of accepted stock movements are positive.
#include <cstdint>

#include "aftersales/v1/parts.pb.h"
#include "fuzz_support.h"
#include "parts/domain/policy.h"
#include "parts/domain/validate.h"

using namespace aftersales;
namespace domain = aftersales::parts::domain;

namespace {

template <typename Request, typename Validate>
void Run(const uint8_t* data, size_t size, Validate validate) {
  Request request;
  if (!fuzz::Decode(data, size, &request)) return;
  fuzz::CheckValidationError(validate(request));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t rpc = data[0];
  ++data;
  --size;
  switch (rpc % 14) {
    case 0: Run<v1::UpsertPartRequest>(data, size, [](const auto& r) { return domain::ValidatePart(r.part()); }); break;
    case 1: Run<v1::UpsertLocationRequest>(data, size, [](const auto& r) { return domain::ValidateLocation(r.location()); }); break;
    case 2: Run<v1::ListPartsRequest>(data, size, domain::ValidateListParts); break;
    case 3: Run<v1::ReceiveRequest>(data, size, [](const v1::ReceiveRequest& r) {
              absl::Status s = domain::ValidateReceive(r);
              if (s.ok()) FUZZ_CHECK(r.quantity() > 0);
              return s;
            }); break;
    case 4: Run<v1::AdjustRequest>(data, size, domain::ValidateAdjust); break;
    case 5: Run<v1::TransferRequest>(data, size, [](const v1::TransferRequest& r) {
              absl::Status s = domain::ValidateTransfer(r);
              if (s.ok()) FUZZ_CHECK(r.quantity() > 0);
              return s;
            }); break;
    case 6: Run<v1::ReserveRequest>(data, size, [](const v1::ReserveRequest& r) {
              absl::Status s = domain::ValidateReserve(r);
              if (s.ok()) FUZZ_CHECK(r.quantity() > 0);
              return s;
            }); break;
    case 7: Run<v1::ConsumeRequest>(data, size, domain::ValidateConsume); break;
    case 8: Run<v1::ReleaseRequest>(data, size, domain::ValidateRelease); break;
    case 9: Run<v1::GetAvailabilityRequest>(data, size, domain::ValidateAvailability); break;
    case 10: Run<v1::SetReorderPolicyRequest>(data, size, domain::ValidateSetReorder); break;
    case 11: Run<v1::TraceLotRequest>(data, size, domain::ValidateTraceLot); break;
    case 12: Run<v1::ListLowStockRequest>(data, size, domain::ValidateListLowStock); break;
    case 13: {
      v1::GeoPoint point;
      if (fuzz::Decode(data, size, &point)) {
        fuzz::CheckValidationError(domain::ValidateGeoPoint("near", point));
      }
      break;
    }
  }
  return 0;
}
