#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include <functional>
#include <memory>

#include "aftersales/v1/intake.grpc.pb.h"
#include "auth/auth.h"
#include "intake/intake_core.h"

namespace aftersales::intake {

// Who may see an order (SPEC §8): partners the orders assigned to their
// engineers (and the ones they submitted), engineers their own, internal
// roles all.
bool MaySee(const auth::Principal& principal, const v1::WorkOrder& order);
// The stored order `principal` may see; NOT_FOUND ("order_id: no such
// order") both when it does not exist and when it is someone else's, so the
// answer is no existence oracle.
absl::StatusOr<v1::WorkOrder> LoadVisible(const OrderRepository& repo,
                                          const auth::Principal& principal,
                                          const std::string& order_id);
// The order as `principal` may see it: contact PII only for the assigned
// engineer after acceptance; everyone else gets the service area and the
// masked customer reference.
v1::WorkOrder ViewFor(const auth::Principal& principal, v1::WorkOrder order);
// PERMISSION_DENIED unless `principal` may report `milestone` on `order`.
absl::Status MayReport(const auth::Principal& principal, const v1::WorkOrder& order,
                       v1::ProgressMilestone milestone);

// The IntakeService RPCs. Each is thin: authorize, validate, then one domain
// call and one synced batch (state + events) through IntakeCore.
// CreateOrder, the hot path, is a callback (reactor) method: its batch is
// committed with Store::CommitAsync and the call finished from the commit's
// completion, so no gRPC thread is parked per call during the fsync; the
// other methods are synchronous. It takes the raw bytes and decodes them
// itself, because gRPC's callback API answers UNIMPLEMENTED for a request
// that does not decode; it answers INVALID_ARGUMENT.
class IntakeServiceImpl final
    : public v1::IntakeService::WithRawCallbackMethod_CreateOrder<v1::IntakeService::Service> {
 public:
  explicit IntakeServiceImpl(IntakeCore* core);

  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::Status GetOrder(grpc::ServerContext* context, const v1::GetOrderRequest* request,
                        v1::WorkOrder* response) override;
  grpc::Status ListOrders(grpc::ServerContext* context,
                          const v1::ListOrdersRequest* request,
                          v1::ListOrdersResponse* response) override;
  grpc::Status ChangePriority(grpc::ServerContext* context,
                              const v1::ChangePriorityRequest* request,
                              v1::WorkOrder* response) override;
  grpc::Status ReportProgress(grpc::ServerContext* context,
                              const v1::ReportProgressRequest* request,
                              v1::ReportProgressResponse* response) override;
  grpc::Status SyncOfflineReports(grpc::ServerContext* context,
                                  const v1::SyncOfflineReportsRequest* request,
                                  v1::SyncOfflineReportsResponse* response) override;
  grpc::Status WatchOrder(grpc::ServerContext* context,
                          const v1::WatchOrderRequest* request,
                          grpc::ServerWriter<v1::OrderUpdate>* writer) override;
  grpc::Status GetOrderTimeline(grpc::ServerContext* context,
                                const v1::GetOrderTimelineRequest* request,
                                v1::OrderTimeline* response) override;
  grpc::Status ListCompensations(grpc::ServerContext* context,
                                 const v1::ListCompensationsRequest* request,
                                 v1::ListCompensationsResponse* response) override;
  grpc::Status GetCustomerLedger(grpc::ServerContext* context,
                                 const v1::GetCustomerLedgerRequest* request,
                                 v1::CustomerLedger* response) override;
  grpc::Status GetPolicy(grpc::ServerContext* context, const v1::GetPolicyRequest* request,
                         v1::IntakePolicySnapshot* response) override;
  // Consents and erasure (SPEC §8): intake_privacy.cc.
  grpc::Status RecordConsent(grpc::ServerContext* context,
                             const v1::RecordConsentRequest* request,
                             v1::ConsentRecord* response) override;
  grpc::Status WithdrawConsent(grpc::ServerContext* context,
                               const v1::WithdrawConsentRequest* request,
                               v1::ConsentRecord* response) override;
  grpc::Status ListConsents(grpc::ServerContext* context,
                            const v1::ListConsentsRequest* request,
                            v1::ListConsentsResponse* response) override;
  grpc::Status EraseCustomer(grpc::ServerContext* context,
                             const v1::EraseCustomerRequest* request,
                             v1::ErasureReport* response) override;
  grpc::Status GetErasureReport(grpc::ServerContext* context,
                                const v1::GetErasureReportRequest* request,
                                v1::ErasureReport* response) override;
  grpc::Status ReloadPolicy(grpc::ServerContext* context,
                            const v1::ReloadPolicyRequest* request,
                            v1::ReloadPolicyResponse* response) override;

 private:
  // A new order's batch (holding its key locks) and what to do once it is
  // durable: the metrics and the reply.
  struct NewOrderCommit {
    store::Batch batch;
    std::function<void()> on_committed;
  };
  // Everything of CreateOrder up to the commit. OK with `*commit` set: commit
  // it; OK without: `response` is complete (a replay, a linked order); an
  // error: nothing was written.
  grpc::Status PrepareCreateOrder(const grpc::ServerContextBase& context,
                                  const v1::CreateOrderRequest& request,
                                  v1::CreateOrderResponse* response,
                                  std::unique_ptr<NewOrderCommit>* commit);
  // One progress report by `principal`: APPLIED, DUPLICATE, or an error.
  absl::StatusOr<v1::ReportProgressResponse> Report(const auth::Principal& principal,
                                                    const v1::ProgressReport& report);
  // Links a create to an open order of the same serial.
  absl::StatusOr<v1::WorkOrder> LinkToOpenOrder(const std::string& order_id,
                                                const v1::CreateOrderRequest& request,
                                                const auth::Principal& principal,
                                                const std::string& idempotency_key,
                                                const std::string& fingerprint);
  absl::StatusOr<auth::Principal> Authorize(const grpc::ServerContextBase& context,
                                            std::initializer_list<auth::Role> roles) const;

  IntakeCore* core_;
};

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_SERVICE_H_
