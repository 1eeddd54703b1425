// The complaint service: complaint intake and grading (SPEC §5).
// Walking skeleton: it serves health, reflection, metrics, its event stream
// and the ComplaintService contract; the RPCs answer UNIMPLEMENTED until its issue lands.
#include "aftersales/v1/complaint.grpc.pb.h"
#include "server/host.h"

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService({.name = "complaint", .column_families = {}}, argc, argv,
                            [](server::ServiceHost& host) {
                              host.AddService(
                                  std::make_unique<v1::ComplaintService::Service>());
                              return absl::OkStatus();
                            });
}
