#ifndef AFTERSALES_LIBS_METRICS_METRICS_H_
#define AFTERSALES_LIBS_METRICS_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/exposer.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace aftersales::metrics {

// Shared bucket layouts, so dashboards can compare services (DESIGN.md).
// RPC latency: 100 µs … 10 s, in seconds.
const prometheus::Histogram::BucketBoundaries& RpcLatencyBuckets();
// SLA clock durations: 1 min … 7 days, in seconds.
const prometheus::Histogram::BucketBoundaries& SlaClockBuckets();

// A service's /metrics HTTP endpoint serving one registry.
class Endpoint {
 public:
  // Binds host:port (port 0 = any free port). UNAVAILABLE if it cannot bind.
  static absl::StatusOr<std::unique_ptr<Endpoint>> Start(
      const std::string& host, int port,
      std::shared_ptr<prometheus::Registry> registry);

  int port() const { return port_; }

 private:
  Endpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace aftersales::metrics

#endif  // AFTERSALES_LIBS_METRICS_METRICS_H_
