#ifndef AFTERSALES_SERVICES_DISPATCH_DISPATCH_SERVICE_H_
#define AFTERSALES_SERVICES_DISPATCH_DISPATCH_SERVICE_H_

#include "aftersales/v1/dispatch.grpc.pb.h"
#include "dispatch/dispatcher.h"

namespace aftersales::dispatch {

// The DispatchService RPCs: authorize (partners act only on their own
// engineers and offers), validate, then one Dispatcher call.
class DispatchServiceImpl final : public v1::DispatchService::Service {
 public:
  explicit DispatchServiceImpl(Dispatcher* dispatcher);

  grpc::Status GetDispatchOrder(grpc::ServerContext*, const v1::GetDispatchOrderRequest*,
                                v1::DispatchOrder*) override;
  grpc::Status ListDispatchOrders(grpc::ServerContext*, const v1::ListDispatchOrdersRequest*,
                                  v1::ListDispatchOrdersResponse*) override;
  grpc::Status UpsertPartner(grpc::ServerContext*, const v1::UpsertPartnerRequest*,
                             v1::Partner*) override;
  grpc::Status GetPartner(grpc::ServerContext*, const v1::GetPartnerRequest*,
                          v1::Partner*) override;
  grpc::Status RegisterEngineer(grpc::ServerContext*, const v1::RegisterEngineerRequest*,
                                v1::Engineer*) override;
  grpc::Status UpdateEngineer(grpc::ServerContext*, const v1::UpdateEngineerRequest*,
                              v1::Engineer*) override;
  grpc::Status SuspendEngineer(grpc::ServerContext*, const v1::SuspendEngineerRequest*,
                               v1::Engineer*) override;
  grpc::Status GetEngineer(grpc::ServerContext*, const v1::GetEngineerRequest*,
                           v1::Engineer*) override;
  grpc::Status ListEngineers(grpc::ServerContext*, const v1::ListEngineersRequest*,
                             v1::ListEngineersResponse*) override;
  grpc::Status ReportLocation(grpc::ServerContext*, const v1::ReportLocationRequest*,
                              v1::ReportLocationResponse*) override;
  grpc::Status Recommend(grpc::ServerContext*, const v1::RecommendRequest*,
                         v1::RecommendResponse*) override;
  grpc::Status AcceptOffer(grpc::ServerContext*, const v1::AcceptOfferRequest*,
                           v1::Offer*) override;
  grpc::Status RejectOffer(grpc::ServerContext*, const v1::RejectOfferRequest*,
                           v1::Offer*) override;
  grpc::Status OverrideAssignment(grpc::ServerContext*, const v1::OverrideAssignmentRequest*,
                                  v1::DispatchOrder*) override;
  grpc::Status GetEta(grpc::ServerContext*, const v1::GetEtaRequest*,
                      v1::EtaEstimate*) override;
  grpc::Status RequestRemoteExpert(grpc::ServerContext*, const v1::RequestRemoteExpertRequest*,
                                   v1::RemoteExpertRequest*) override;
  grpc::Status ListOffers(grpc::ServerContext*, const v1::ListOffersRequest*,
                          v1::ListOffersResponse*) override;
  grpc::Status ListUnassigned(grpc::ServerContext*, const v1::ListUnassignedRequest*,
                              v1::ListUnassignedResponse*) override;
  grpc::Status WatchOffers(grpc::ServerContext*, const v1::WatchOffersRequest*,
                           grpc::ServerWriter<v1::OfferFeedMessage>*) override;
  grpc::Status GetPolicy(grpc::ServerContext*, const v1::GetPolicyRequest*,
                         v1::DispatchPolicySnapshot*) override;
  grpc::Status ReloadPolicy(grpc::ServerContext*, const v1::ReloadPolicyRequest*,
                            v1::ReloadPolicyResponse*) override;

 private:
  absl::StatusOr<auth::Principal> Authorize(const grpc::ServerContext& context,
                                            std::initializer_list<auth::Role> roles) const;
  Dispatcher* d_;
};

}  // namespace aftersales::dispatch

#endif  // AFTERSALES_SERVICES_DISPATCH_DISPATCH_SERVICE_H_
