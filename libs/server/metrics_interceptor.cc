#include "server/metrics_interceptor.h"

#include <string>

#include "absl/time/clock.h"
#include "metrics/metrics.h"

namespace aftersales::server {
namespace {

// gRPC's canonical code names, as grpc_code label values.
const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",           "Canceled",        "Unknown",          "InvalidArgument",
      "DeadlineExceeded", "NotFound",    "AlreadyExists",    "PermissionDenied",
      "ResourceExhausted", "FailedPrecondition", "Aborted",  "OutOfRange",
      "Unimplemented", "Internal",       "Unavailable",      "DataLoss",
      "Unauthenticated"};
  const int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "Unknown";
}

const char* TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case Type::UNARY: return "unary";
    case Type::CLIENT_STREAMING: return "client_stream";
    case Type::SERVER_STREAMING: return "server_stream";
    case Type::BIDI_STREAMING: return "bidi_stream";
  }
  return "unknown";
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info,
                     MetricsInterceptorFactory* factory)
      : factory_(factory), start_(absl::Now()) {
    // "/aftersales.v1.IntakeService/CreateOrder" -> service, method.
    std::string full = info->method() ? info->method() : "";
    size_t slash = full.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      service_ = full.substr(1, slash - 1);
      method_ = full.substr(slash + 1);
    } else {
      service_ = "unknown";
      method_ = full;
    }
    type_ = TypeName(info->type());
    factory_->started
        .Add({{"grpc_service", service_}, {"grpc_method", method_},
              {"grpc_type", type_}})
        .Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      factory_->handled
          .Add({{"grpc_service", service_},
                {"grpc_method", method_},
                {"grpc_type", type_},
                {"grpc_code", CodeName(status.error_code())}})
          .Increment();
      factory_->handling_seconds
          .Add({{"grpc_service", service_}, {"grpc_method", method_},
                {"grpc_type", type_}},
               metrics::RpcLatencyBuckets())
          .Observe(absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  MetricsInterceptorFactory* factory_;
  absl::Time start_;
  std::string service_, method_;
  const char* type_;
};

}  // namespace

MetricsInterceptorFactory::MetricsInterceptorFactory(prometheus::Registry& registry)
    : started(prometheus::BuildCounter()
                  .Name("grpc_server_started_total")
                  .Help("RPCs started on the server")
                  .Register(registry)),
      handled(prometheus::BuildCounter()
                  .Name("grpc_server_handled_total")
                  .Help("RPCs completed on the server, by status code")
                  .Register(registry)),
      handling_seconds(prometheus::BuildHistogram()
                           .Name("grpc_server_handling_seconds")
                           .Help("Time from call start to status sent")
                           .Register(registry)) {}

grpc::experimental::Interceptor* MetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new MetricsInterceptor(info, this);
}

}  // namespace aftersales::server
