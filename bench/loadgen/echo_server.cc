// The bare baseline for the load generator (issue 10): the IntakeService
// CreateOrder method served through the very same bootstrap as the real
// services (server::RunService: same gRPC sync server and thread settings,
// same interceptors, health, metrics, message limits), but with nothing
// behind it: no authentication, no validation, no storage. It copies the
// request's fields into the reply's order, so the bytes on the wire in both
// directions are the same size as a real CreateOrder's. Every other
// IntakeService method answers UNIMPLEMENTED.
//
// --echo_api=callback (the default) serves CreateOrder the way intake does,
// as a raw callback method (intake_service.h); --echo_api=sync through the
// synchronous API (a thread per call), intake's API before.
#include "absl/flags/flag.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "server/host.h"

ABSL_FLAG(std::string, echo_api, "callback",
          "callback: CreateOrder as a raw callback method, like intake; sync: the sync API");

namespace {

using namespace aftersales;

void Echo(const v1::CreateOrderRequest* request, v1::CreateOrderResponse* response) {
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
}

class EchoIntake final : public v1::IntakeService::Service {
 public:
  grpc::Status CreateOrder(grpc::ServerContext*, const v1::CreateOrderRequest* request,
                           v1::CreateOrderResponse* response) override {
    Echo(request, response);
    return grpc::Status::OK;
  }
};

class CallbackEchoIntake final
    : public v1::IntakeService::WithRawCallbackMethod_CreateOrder<v1::IntakeService::Service> {
 public:
  grpc::ServerUnaryReactor* CreateOrder(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request_bytes,
                                        grpc::ByteBuffer* response_bytes) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    v1::CreateOrderRequest request;
    v1::CreateOrderResponse response;
    grpc::ByteBuffer bytes(*request_bytes);
    grpc::Status status = grpc::SerializationTraits<v1::CreateOrderRequest>::Deserialize(
        &bytes, &request);
    if (status.ok()) {
      Echo(&request, &response);
      bool own_buffer = false;
      status = grpc::SerializationTraits<v1::CreateOrderResponse>::Serialize(
          response, response_bytes, &own_buffer);
    }
    reactor->Finish(status);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  // No column families of its own: the host opens an (unused) store in
  // --data_dir like every service, and the echo never writes to it.
  return server::RunService({.name = "echo", .column_families = {}}, argc, argv,
                            [](server::ServiceHost& host) -> absl::Status {
                              if (absl::GetFlag(FLAGS_echo_api) == "sync") {
                                host.AddService(std::make_unique<EchoIntake>());
                              } else {
                                host.AddService(std::make_unique<CallbackEchoIntake>());
                              }
                              return absl::OkStatus();
                            });
}
