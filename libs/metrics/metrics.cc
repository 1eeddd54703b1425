#include "metrics/metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"

namespace aftersales::metrics {

const prometheus::Histogram::BucketBoundaries& RpcLatencyBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& SlaClockBuckets() {
  constexpr double kMin = 60, kHour = 3600, kDay = 86400;
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      1 * kMin,  5 * kMin,   15 * kMin, 30 * kMin, 1 * kHour, 2 * kHour,
      4 * kHour, 8 * kHour,  12 * kHour, 1 * kDay, 2 * kDay,  3 * kDay,
      5 * kDay,  7 * kDay};
  return *buckets;
}

absl::StatusOr<std::unique_ptr<Endpoint>> Endpoint::Start(
    const std::string& host, int port,
    std::shared_ptr<prometheus::Registry> registry) {
  std::unique_ptr<Endpoint> endpoint(new Endpoint());
  const std::string bind = absl::StrCat(host, ":", port);
  try {
    // civetweb reports a failed bind by throwing; keep exceptions inside.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(bind);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("metrics endpoint ", bind, ": ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(registry);
  auto ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? port : ports.front();
  return endpoint;
}

}  // namespace aftersales::metrics
