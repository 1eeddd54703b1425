// The satisfaction service: surveys, CSAT/NPS and ratings (SPEC §6).
// Walking skeleton: it serves health, reflection, metrics, its event stream
// and the SatisfactionService contract; the RPCs answer UNIMPLEMENTED until its issue lands.
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "server/host.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService({.name = "satisfaction", .column_families = {}}, argc, argv,
                            [](server::ServiceHost& host) {
                              host.AddService(
                                  std::make_unique<v1::SatisfactionService::Service>());
                              return absl::OkStatus();
                            });
}
