#ifndef AFTERSALES_LIBS_EVENTS_EVENT_STREAM_H_
#define AFTERSALES_LIBS_EVENTS_EVENT_STREAM_H_

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "auth/auth.h"
#include "clock/stop_signal.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "store/store.h"

namespace aftersales::events {

// Serves a service's event log to other services: Subscribe(after_seq) sends
// every committed event with seq > after_seq in order, then follows the log,
// sending a heartbeat with the head seq when idle so consumers can measure
// lag and notice dead connections. Only SERVICE, ADMIN and AUDITOR may read.
class EventStreamService final : public v1::EventStream::Service {
 public:
  EventStreamService(store::Store* store, const auth::TokenRegistry* tokens,
                     const StopSignal* stop,
                     absl::Duration heartbeat = absl::Seconds(1));

  grpc::Status Subscribe(grpc::ServerContext* context,
                         const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override;

  // Producer-side view of each consumer (by its SubscribeRequest.consumer
  // name), so lag stays visible while a consumer is down:
  // aftersales_event_stream_consumer_lag_events (head seq minus the last seq
  // sent to or asked for by that consumer) and
  // aftersales_event_stream_consumer_connected. Call once before serving.
  void ExportMetrics(prometheus::Registry* registry);
  // Recomputes the lag gauges against the current head (the host calls this
  // every second; streams refresh their own consumer as they write).
  void RefreshMetrics();

 private:
  struct Follower {
    uint64_t sent = 0;  // highest seq the consumer has (asked from or was sent)
    int streams = 0;
    prometheus::Gauge* lag = nullptr;
    prometheus::Gauge* connected = nullptr;
  };
  // nullptr without metrics; at most kMaxFollowers names, then "other".
  Follower* FollowerFor(const std::string& consumer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Update(Follower* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  prometheus::Family<prometheus::Gauge>* lag_family_ = nullptr;
  prometheus::Family<prometheus::Gauge>* connected_family_ = nullptr;
  std::map<std::string, Follower> followers_ ABSL_GUARDED_BY(mu_);

  store::Store* store_;
  const auth::TokenRegistry* tokens_;
  const StopSignal* stop_;
  absl::Duration heartbeat_;
};

}  // namespace aftersales::events

#endif  // AFTERSALES_LIBS_EVENTS_EVENT_STREAM_H_
