// The bare baseline for the load generator (issue 10): the IntakeService
// CreateOrder method served through the very same bootstrap as the real
// services (server::RunService: same gRPC sync server and thread settings,
// same interceptors, health, metrics, message limits), but with nothing
// behind it: no authentication, no validation, no storage. It copies the
// request's fields into the reply's order, so the bytes on the wire in both
// directions are the same size as a real CreateOrder's. Every other
// IntakeService method answers UNIMPLEMENTED.
#include "aftersales/v1/intake.grpc.pb.h"
#include "server/host.h"

namespace {

using namespace aftersales;

class EchoIntake final : public v1::IntakeService::Service {
 public:
  grpc::Status CreateOrder(grpc::ServerContext*, const v1::CreateOrderRequest* request,
                           v1::CreateOrderResponse* response) override {
    v1::WorkOrder* o = response->mutable_order();
    o->set_order_id(request->request_id());
    o->set_request_id(request->request_id());
    o->set_channel(request->channel());
    o->set_customer_id(request->customer_id());
    *o->mutable_service_area() = request->service_area();
    *o->mutable_appliance() = request->appliance();
    *o->mutable_fault() = request->fault();
    *o->mutable_contact() = request->contact();
    response->set_created(true);
    return grpc::Status::OK;
  }
};

}  // namespace

int main(int argc, char** argv) {
  // No column families of its own: the host opens an (unused) store in
  // --data_dir like every service, and the echo never writes to it.
  return server::RunService({.name = "echo", .column_families = {}}, argc, argv,
                            [](server::ServiceHost& host) -> absl::Status {
                              host.AddService(std::make_unique<EchoIntake>());
                              return absl::OkStatus();
                            });
}
