#ifndef AFTERSALES_LIBS_EVENTS_CONSUMER_H_
#define AFTERSALES_LIBS_EVENTS_CONSUMER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/security/credentials.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "clock/stop_signal.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "store/store.h"

namespace aftersales::events {

// Adds the effect of one event to `batch`. The consumer commits the batch
// together with its cursor, so the effect happens exactly once. An error from
// UNAVAILABLE, ABORTED, INTERNAL, UNKNOWN, DEADLINE_EXCEEDED or
// RESOURCE_EXHAUSTED is retried (after a backoff, from the same event); any
// other error means the event can never apply here: it is counted as skipped
// and the cursor moves past it.
using ApplyFn =
    std::function<absl::Status(const v1::Event& event, store::Batch& batch)>;

struct ConsumerOptions {
  std::string name;      // e.g. "dispatch<-intake"; names the cursor
  std::string target;    // producer's gRPC address host:port
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string token;     // bearer token of this service's SERVICE principal
  int max_batch = 200;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

// Follows another service's event log and applies each event once. Resumes
// from its durable cursor after a crash, reconnects with exponential backoff
// and jitter when the producer is down, and exports its lag.
class EventConsumer {
 public:
  EventConsumer(store::Store* store, ConsumerOptions options, ApplyFn apply,
                prometheus::Registry* registry);

  // Runs until `stop` fires. Call from one thread.
  void Run(StopSignal& stop);

  // Last applied seq of the producer (the durable cursor).
  uint64_t cursor() const { return cursor_.load(); }

 private:
  // One connection: streams and applies until the stream ends or fails.
  absl::Status StreamOnce(v1::EventStream::Stub& stub, StopSignal& stop);
  absl::Status ApplyOne(const v1::Event& event);
  static bool Retryable(const absl::Status& s);

  store::Store* store_;
  ConsumerOptions options_;
  ApplyFn apply_;
  std::string cursor_key_;
  std::atomic<uint64_t> cursor_{0};

  absl::Mutex mu_;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;

  prometheus::Gauge* lag_;
  prometheus::Gauge* connected_;
  // While the producer is down its head (so the lag) cannot be known: these
  // show how long the consumer has been without it instead.
  prometheus::Gauge* last_contact_;   // unix time of the last message received
  prometheus::Gauge* disconnected_;   // seconds without a stream, 0 when connected
  absl::Time last_contact_time_ = absl::Now();
  prometheus::Counter* applied_;
  prometheus::Counter* skipped_;
  prometheus::Counter* reconnects_;
};

}  // namespace aftersales::events

#endif  // AFTERSALES_LIBS_EVENTS_CONSUMER_H_
