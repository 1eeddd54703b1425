#include "dispatch/dispatch_service.h"

#include "dispatch/domain/awaiting.h"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::dispatch {
namespace {

using auth::Role;

std::string StateKey(v1::DispatchState state) {
  return v1::DispatchState_Name(state);
}

}  // namespace

DispatchOrders::DispatchOrders(server::ServiceHost& host)
    : host_(host),
      orders_(&host.store(), kOrders),
      by_state_(&host.store(), kOrdersByState) {}

absl::Status DispatchOrders::ApplyIntakeEvent(const v1::Event& event,
                                              store::Batch& batch) {
  if (!event.has_order_created()) return absl::OkStatus();
  const v1::WorkOrder& order = event.order_created().order();
  if (order.order_id().empty()) {
    return absl::InvalidArgumentError("order_created.order.order_id: empty");
  }
  auto existing = orders_.Get(order.order_id());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();
  v1::DispatchOrder d =
      domain::AwaitAssignment(order, event.seq(), host_.clock().Now());
  orders_.Put(batch, d.order_id(), d);
  by_state_.Add(batch, StateKey(d.state()), d.order_id());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::DispatchOrder>> DispatchOrders::Get(
    const std::string& id) const {
  return orders_.Get(id);
}

absl::StatusOr<store::Table<v1::DispatchOrder>::Page> DispatchOrders::List(
    v1::DispatchState state, const std::string& after_key, size_t limit) const {
  if (state == v1::DISPATCH_STATE_UNSPECIFIED) {
    return orders_.List("", after_key, limit);
  }
  // One more than asked tells whether another page follows.
  auto ids = by_state_.Lookup(StateKey(state), limit + 1, after_key);
  if (!ids.ok()) return ids.status();
  store::Table<v1::DispatchOrder>::Page page;
  for (size_t i = 0; i < ids->size() && i < limit; ++i) {
    auto order = orders_.Get((*ids)[i]);
    if (!order.ok()) return order.status();
    if (order->has_value()) page.records.push_back(**order);
  }
  if (ids->size() > limit) page.last_key = (*ids)[limit - 1];
  return page;
}

DispatchServiceImpl::DispatchServiceImpl(server::ServiceHost& host,
                                         DispatchOrders* orders)
    : host_(host), orders_(orders) {}

grpc::Status DispatchServiceImpl::GetDispatchOrder(
    grpc::ServerContext* context, const v1::GetDispatchOrderRequest* request,
    v1::DispatchOrder* response) {
  auto principal = rpc::AuthorizeCall(
      *context, host_.tokens(),
      {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto order = orders_->Get(request->order_id());
  RPC_RETURN_IF_ERROR(order.status());
  if (!order->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "order_id: dispatch has no such order");
  }
  *response = **order;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ListDispatchOrders(
    grpc::ServerContext* context, const v1::ListDispatchOrdersRequest* request,
    v1::ListDispatchOrdersResponse* response) {
  auto principal = rpc::AuthorizeCall(
      *context, host_.tokens(),
      {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  if (!v1::DispatchState_IsValid(request->state())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "state: unknown value");
  }
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  auto result = orders_->List(request->state(), page->after_key, page->size);
  RPC_RETURN_IF_ERROR(result.status());
  for (auto& o : result->records) *response->add_orders() = std::move(o);
  response->set_next_page_token(rpc::NextPageToken(result->last_key));
  return grpc::Status::OK;
}

}  // namespace aftersales::dispatch
