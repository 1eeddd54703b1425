#ifndef AFTERSALES_LIBS_EVENTS_EVENT_STREAM_H_
#define AFTERSALES_LIBS_EVENTS_EVENT_STREAM_H_

#include "aftersales/v1/events.grpc.pb.h"
#include "auth/auth.h"
#include "clock/stop_signal.h"
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

 private:
  store::Store* store_;
  const auth::TokenRegistry* tokens_;
  const StopSignal* stop_;
  absl::Duration heartbeat_;
};

}  // namespace aftersales::events

#endif  // AFTERSALES_LIBS_EVENTS_EVENT_STREAM_H_
