// The intake service: work orders and their lifecycle (SPEC §2).
#include "intake/intake_service.h"
#include "server/host.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService(
      {.name = "intake", .column_families = {intake::kOrders, intake::kIdempotency}},
      argc, argv, [](server::ServiceHost& host) {
        host.AddService(std::make_unique<intake::IntakeServiceImpl>(host));
        return absl::OkStatus();
      });
}
