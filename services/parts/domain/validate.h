#ifndef AFTERSALES_SERVICES_PARTS_DOMAIN_VALIDATE_H_
#define AFTERSALES_SERVICES_PARTS_DOMAIN_VALIDATE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "aftersales/v1/parts.pb.h"

// Request validation for PartsService: OK, or INVALID_ARGUMENT naming the
// field first ("part.name: required", "quantity: must be in [1, 1000]").
// Limits are the contract's (proto/aftersales/v1/parts.proto comments).
// Pure; checks shape only — existence and stock are the handlers' business.
namespace aftersales::parts::domain {

absl::Status ValidateGeoPoint(absl::string_view field, const v1::GeoPoint& point);
absl::Status ValidatePart(const v1::Part& part);                // fields as "part.*"
absl::Status ValidateLocation(const v1::StockLocation& location);  // "location.*"
absl::Status ValidateListParts(const v1::ListPartsRequest& request);
absl::Status ValidateReceive(const v1::ReceiveRequest& request);
absl::Status ValidateAdjust(const v1::AdjustRequest& request);
absl::Status ValidateTransfer(const v1::TransferRequest& request);
absl::Status ValidateReserve(const v1::ReserveRequest& request);
absl::Status ValidateConsume(const v1::ConsumeRequest& request);
absl::Status ValidateRelease(const v1::ReleaseRequest& request);
absl::Status ValidateAvailability(const v1::GetAvailabilityRequest& request);
absl::Status ValidateSetReorder(const v1::SetReorderPolicyRequest& request);
absl::Status ValidateTraceLot(const v1::TraceLotRequest& request);
absl::Status ValidateListLowStock(const v1::ListLowStockRequest& request);

}  // namespace aftersales::parts::domain

#endif  // AFTERSALES_SERVICES_PARTS_DOMAIN_VALIDATE_H_
