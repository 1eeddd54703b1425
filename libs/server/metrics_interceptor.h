#ifndef AFTERSALES_LIBS_SERVER_METRICS_INTERCEPTOR_H_
#define AFTERSALES_LIBS_SERVER_METRICS_INTERCEPTOR_H_

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace aftersales::server {

// Counts and times every RPC under the de-facto names of go-grpc-prometheus,
// so stock gRPC dashboards work: grpc_server_started_total,
// grpc_server_handled_total{grpc_code} and grpc_server_handling_seconds,
// labelled by grpc_service, grpc_method and grpc_type.
class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(prometheus::Registry& registry);

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

  prometheus::Family<prometheus::Counter>& started;
  prometheus::Family<prometheus::Counter>& handled;
  prometheus::Family<prometheus::Histogram>& handling_seconds;
};

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_METRICS_INTERCEPTOR_H_
