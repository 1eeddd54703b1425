#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include "aftersales/v1/intake.grpc.pb.h"
#include "server/host.h"
#include "store/idempotency.h"
#include "store/store.h"

namespace aftersales::intake {

// Column families of the intake store.
inline constexpr char kOrders[] = "orders";
inline constexpr char kIdempotency[] = "idempotency";

// The IntakeService RPCs: authorize, validate, call the domain, commit one
// synced batch (state + event), reply.
class IntakeServiceImpl final : public v1::IntakeService::Service {
 public:
  explicit IntakeServiceImpl(server::ServiceHost& host);

  grpc::Status CreateOrder(grpc::ServerContext* context,
                           const v1::CreateOrderRequest* request,
                           v1::CreateOrderResponse* response) override;
  grpc::Status GetOrder(grpc::ServerContext* context,
                        const v1::GetOrderRequest* request,
                        v1::WorkOrder* response) override;

 private:
  server::ServiceHost& host_;
  store::Table<v1::WorkOrder> orders_;
  store::IdempotencyKeys idempotency_;
};

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_SERVICE_H_
