#ifndef AFTERSALES_SERVICES_DISPATCH_DISPATCH_SERVICE_H_
#define AFTERSALES_SERVICES_DISPATCH_DISPATCH_SERVICE_H_

#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/events.pb.h"
#include "server/host.h"
#include "store/store.h"

namespace aftersales::dispatch {

// Column families of the dispatch store.
inline constexpr char kOrders[] = "orders";
inline constexpr char kOrdersByState[] = "orders_by_state";

// Dispatch's orders: written from intake's event stream, read by RPCs.
class DispatchOrders {
 public:
  explicit DispatchOrders(server::ServiceHost& host);

  // Effect of one intake event (the host's consumer commits it with the
  // cursor). An order already known is left as it is.
  absl::Status ApplyIntakeEvent(const v1::Event& event, store::Batch& batch);

  absl::StatusOr<std::optional<v1::DispatchOrder>> Get(const std::string& id) const;
  // Orders in `state` (UNSPECIFIED = all), after `after_key`, by order id.
  absl::StatusOr<store::Table<v1::DispatchOrder>::Page> List(
      v1::DispatchState state, const std::string& after_key, size_t limit) const;

 private:
  server::ServiceHost& host_;
  store::Table<v1::DispatchOrder> orders_;
  store::Index by_state_;
};

class DispatchServiceImpl final : public v1::DispatchService::Service {
 public:
  DispatchServiceImpl(server::ServiceHost& host, DispatchOrders* orders);

  grpc::Status GetDispatchOrder(grpc::ServerContext* context,
                                const v1::GetDispatchOrderRequest* request,
                                v1::DispatchOrder* response) override;
  grpc::Status ListDispatchOrders(grpc::ServerContext* context,
                                  const v1::ListDispatchOrdersRequest* request,
                                  v1::ListDispatchOrdersResponse* response) override;

 private:
  server::ServiceHost& host_;
  DispatchOrders* orders_;
};

}  // namespace aftersales::dispatch

#endif  // AFTERSALES_SERVICES_DISPATCH_DISPATCH_SERVICE_H_
