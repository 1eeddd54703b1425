#include "intake/intake_service.h"

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "intake/domain/order.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::intake {
namespace {

using auth::Role;

// Random 64-bit ids: unique without a shared counter that every create would
// contend on.
std::string NewOrderId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("WO%016x", absl::Uniform<uint64_t>(gen));
}

}  // namespace

IntakeServiceImpl::IntakeServiceImpl(server::ServiceHost& host)
    : host_(host),
      orders_(&host.store(), kOrders),
      idempotency_(&host.store(), kIdempotency) {}

grpc::Status IntakeServiceImpl::CreateOrder(grpc::ServerContext* context,
                                            const v1::CreateOrderRequest* request,
                                            v1::CreateOrderResponse* response) {
  auto principal = rpc::AuthorizeCall(
      *context, host_.tokens(),
      {Role::kPartner, Role::kAgent, Role::kApp, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateCreateOrder(*request));

  v1::CreateOrderRequest body = *request;
  body.clear_request_id();
  const std::string fingerprint = store::IdempotencyKeys::Fingerprint(body);
  const std::string key =
      store::IdempotencyKeys::Key(principal->id, request->request_id());

  auto guard = host_.store().locks().Lock({key});
  auto earlier = idempotency_.Check(key, fingerprint);
  RPC_RETURN_IF_ERROR(earlier.status());
  if (earlier->has_value()) {
    auto order = orders_.Get(**earlier);
    RPC_RETURN_IF_ERROR(order.status());
    if (!order->has_value()) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "idempotency record points to a missing order");
    }
    *response->mutable_order() = **order;
    response->set_created(false);
    return grpc::Status::OK;
  }

  const absl::Time now = host_.clock().Now();
  v1::WorkOrder order =
      domain::NewOrder(*request, NewOrderId(), principal->id, now);
  store::Batch batch;
  orders_.Put(batch, order.order_id(), order);
  idempotency_.Remember(batch, key, fingerprint, order.order_id(), now);
  batch.AppendEvent(domain::OrderCreatedEvent(order, now));
  RPC_RETURN_IF_ERROR(host_.store().Commit(batch));
  *response->mutable_order() = std::move(order);
  response->set_created(true);
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::GetOrder(grpc::ServerContext* context,
                                         const v1::GetOrderRequest* request,
                                         v1::WorkOrder* response) {
  auto principal = rpc::AuthorizeCall(
      *context, host_.tokens(),
      {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto order = orders_.Get(request->order_id());
  RPC_RETURN_IF_ERROR(order.status());
  if (!order->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "order_id: no such order");
  }
  *response = **order;
  return grpc::Status::OK;
}

}  // namespace aftersales::intake
