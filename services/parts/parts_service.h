#ifndef AFTERSALES_SERVICES_PARTS_PARTS_SERVICE_H_
#define AFTERSALES_SERVICES_PARTS_PARTS_SERVICE_H_

#include "aftersales/v1/parts.grpc.pb.h"
#include "auth/auth.h"
#include "parts/parts_core.h"

namespace aftersales::parts {

// The PartsService RPCs. Each is thin: authorize (role, and for partners and
// engineers the location they own), validate (INVALID_ARGUMENT naming the
// field), then one PartsCore operation or a read of the repository.
class PartsServiceImpl final : public v1::PartsService::Service {
 public:
  PartsServiceImpl(PartsCore* core, const auth::TokenRegistry* tokens);

  grpc::Status UpsertPart(grpc::ServerContext*, const v1::UpsertPartRequest*,
                          v1::Part*) override;
  grpc::Status GetPart(grpc::ServerContext*, const v1::GetPartRequest*, v1::Part*) override;
  grpc::Status ListParts(grpc::ServerContext*, const v1::ListPartsRequest*,
                         v1::ListPartsResponse*) override;
  grpc::Status UpsertLocation(grpc::ServerContext*, const v1::UpsertLocationRequest*,
                              v1::StockLocation*) override;
  grpc::Status GetLocation(grpc::ServerContext*, const v1::GetLocationRequest*,
                           v1::StockLocation*) override;
  grpc::Status Receive(grpc::ServerContext*, const v1::ReceiveRequest*,
                       v1::ReceiveResponse*) override;
  grpc::Status Adjust(grpc::ServerContext*, const v1::AdjustRequest*,
                      v1::AdjustResponse*) override;
  grpc::Status Transfer(grpc::ServerContext*, const v1::TransferRequest*,
                        v1::StockTransfer*) override;
  grpc::Status ReceiveTransfer(grpc::ServerContext*, const v1::ReceiveTransferRequest*,
                               v1::StockTransfer*) override;
  grpc::Status Reserve(grpc::ServerContext*, const v1::ReserveRequest*,
                       v1::ReserveResponse*) override;
  grpc::Status Consume(grpc::ServerContext*, const v1::ConsumeRequest*,
                       v1::Consumption*) override;
  grpc::Status Release(grpc::ServerContext*, const v1::ReleaseRequest*,
                       v1::ReleaseResponse*) override;
  grpc::Status GetAvailability(grpc::ServerContext*, const v1::GetAvailabilityRequest*,
                               v1::GetAvailabilityResponse*) override;
  grpc::Status GetStockByLocation(grpc::ServerContext*, const v1::GetStockByLocationRequest*,
                                  v1::GetStockByLocationResponse*) override;
  grpc::Status ListOrderParts(grpc::ServerContext*, const v1::ListOrderPartsRequest*,
                              v1::OrderParts*) override;
  grpc::Status TraceLot(grpc::ServerContext*, const v1::TraceLotRequest*,
                        v1::TraceLotResponse*) override;
  grpc::Status SetReorderPolicy(grpc::ServerContext*, const v1::SetReorderPolicyRequest*,
                                v1::StockLevel*) override;
  grpc::Status ListLowStock(grpc::ServerContext*, const v1::ListLowStockRequest*,
                            v1::ListLowStockResponse*) override;
  grpc::Status GetPolicy(grpc::ServerContext*, const v1::GetPolicyRequest*,
                         v1::PartsPolicySnapshot*) override;
  grpc::Status ReloadPolicy(grpc::ServerContext*, const v1::ReloadPolicyRequest*,
                            v1::ReloadPolicyResponse*) override;
  grpc::Status GetSkuSummary(grpc::ServerContext*, const v1::GetSkuSummaryRequest*,
                             v1::SkuSummary*) override;

 private:
  absl::StatusOr<auth::Principal> Authorize(const grpc::ServerContext& context,
                                            std::initializer_list<auth::Role> roles) const;

  PartsCore* core_;
  const auth::TokenRegistry* tokens_;
};

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_PARTS_SERVICE_H_
