// The parts service: spare-parts inventory (SPEC §4).
// Walking skeleton: it serves health, reflection, metrics, its event stream
// and the PartsService contract; the RPCs answer UNIMPLEMENTED until its issue lands.
#include "aftersales/v1/parts.grpc.pb.h"
#include "server/host.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService({.name = "parts", .column_families = {}}, argc, argv,
                            [](server::ServiceHost& host) {
                              host.AddService(
                                  std::make_unique<v1::PartsService::Service>());
                              return absl::OkStatus();
                            });
}
