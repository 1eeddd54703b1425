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
// together with its cursor, so the effect happens exactly once. Each event is
// its own batch, written (Store::CommitDeferred) before the next event's apply
// runs, so an apply function sees the effects of earlier events through
// normal reads, and locks it holds in `batch` are released right after that
// write; the WAL sync is shared by a run of events (see EventConsumer). An error from
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
  // Applied events are written with deferred sync (Store::CommitDeferred) and
  // made durable by a syncer thread, one Store::SyncDeferred per run of the
  // events written meanwhile. The applying thread waits when this many are
  // written but not yet synced (a slow disk slows the consumer down).
  int max_unsynced_events = 256;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
};

// Follows another service's event log and applies each event once. Resumes
// from its durable cursor after a crash, reconnects with exponential backoff
// and jitter when the producer is down, and exports its lag. Applying and
// syncing are pipelined: while the syncer fsyncs one run of written events,
// the consumer applies the next, so a sync covers every event that arrived
// during the previous one. The cursor, the applied counter and the events the
// apply functions appended become visible only after their run's sync
// (docs/reliability.md, "Deferred sync of event consumers").
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
  // Applies and writes one event with its cursor (deferred sync).
  absl::Status ApplyOne(const v1::Event& event);
  // The syncer thread: SyncDeferred for every run written, then advances
  // cursor_ and the counters; drains the last run once `stopping_` is set.
  void SyncLoop();
  static bool Retryable(const absl::Status& s);

  store::Store* store_;
  ConsumerOptions options_;
  ApplyFn apply_;
  std::string cursor_key_;
  std::atomic<uint64_t> cursor_{0};  // synced: durable with its effects
  uint64_t written_ = 0;  // consumer thread: last seq written; streams resume after it

  absl::Mutex sync_mu_;
  uint64_t to_sync_ ABSL_GUARDED_BY(sync_mu_) = 0;   // = written_, for the syncer
  uint64_t applied_written_ ABSL_GUARDED_BY(sync_mu_) = 0;  // running count
  uint64_t applied_synced_ = 0;  // syncer thread: applied_written_ at its last sync
  uint64_t synced_ ABSL_GUARDED_BY(sync_mu_) = 0;    // = cursor_
  bool stopping_ ABSL_GUARDED_BY(sync_mu_) = false;
  absl::Status sync_error_ ABSL_GUARDED_BY(sync_mu_);  // of the last sync

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
  prometheus::Counter* syncs_;  // WAL syncs, each covering a run of events
  prometheus::Counter* skipped_;
  prometheus::Counter* reconnects_;
};

}  // namespace aftersales::events

#endif  // AFTERSALES_LIBS_EVENTS_CONSUMER_H_
