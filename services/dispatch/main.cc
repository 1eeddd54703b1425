// The dispatch service: engineers and assignment (SPEC §3).
#include "dispatch/dispatch_service.h"
#include "server/host.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService(
      {.name = "dispatch",
       .column_families = {dispatch::kOrders, dispatch::kOrdersByState}},
      argc, argv, [](server::ServiceHost& host) -> absl::Status {
        auto* orders = host.Own(std::make_unique<dispatch::DispatchOrders>(host));
        host.AddService(std::make_unique<dispatch::DispatchServiceImpl>(host, orders));
        return host.AddConsumer(
            "intake", [orders](const v1::Event& e, store::Batch& b) {
              return orders->ApplyIntakeEvent(e, b);
            });
      });
}
