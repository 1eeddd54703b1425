#include "events/consumer.h"

#include <algorithm>
#include <iostream>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "rpc/rpc.h"
#include "store/keys.h"
#include "store/principal_scope.h"

namespace aftersales::events {
namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const ConsumerOptions& options) {
  grpc::ChannelArguments args;
  // Reconnect quickly once a producer comes back: gRPC's default backoff can
  // grow to two minutes, which would leave a restarted peer unread.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  auto creds = options.credentials ? options.credentials
                                   : grpc::InsecureChannelCredentials();
  return grpc::CreateCustomChannel(options.target, creds, args);
}

}  // namespace

EventConsumer::EventConsumer(store::Store* store, ConsumerOptions options,
                             ApplyFn apply, prometheus::Registry* registry)
    : store_(store),
      options_(std::move(options)),
      apply_(std::move(apply)),
      cursor_key_(absl::StrCat("consumer_cursor/", options_.name)) {
  const prometheus::Labels labels = {{"consumer", options_.name}};
  lag_ = &prometheus::BuildGauge()
              .Name("aftersales_event_consumer_lag_events")
              .Help("Producer head seq minus this consumer's applied cursor")
              .Register(*registry)
              .Add(labels);
  connected_ = &prometheus::BuildGauge()
                    .Name("aftersales_event_consumer_connected")
                    .Help("1 while the consumer holds a stream to its producer")
                    .Register(*registry)
                    .Add(labels);
  last_contact_ =
      &prometheus::BuildGauge()
           .Name("aftersales_event_consumer_last_contact_timestamp_seconds")
           .Help("Unix time of the last batch or heartbeat from the producer")
           .Register(*registry)
           .Add(labels);
  disconnected_ = &prometheus::BuildGauge()
                       .Name("aftersales_event_consumer_disconnected_seconds")
                       .Help("Seconds since the producer was last heard from while "
                             "the stream is down (its lag is unknown then); 0 "
                             "while connected")
                       .Register(*registry)
                       .Add(labels);
  applied_ = &prometheus::BuildCounter()
                  .Name("aftersales_event_consumer_applied_total")
                  .Help("Events applied (cursor advanced with their effect)")
                  .Register(*registry)
                  .Add(labels);
  syncs_ = &prometheus::BuildCounter()
                .Name("aftersales_event_consumer_syncs_total")
                .Help("WAL syncs of applied events; each covers a run of them "
                      "(applied_total / syncs_total = events per fsync)")
                .Register(*registry)
                .Add(labels);
  skipped_ = &prometheus::BuildCounter()
                  .Name("aftersales_event_consumer_skipped_total")
                  .Help("Events that could never apply and were passed over")
                  .Register(*registry)
                  .Add(labels);
  reconnects_ = &prometheus::BuildCounter()
                     .Name("aftersales_event_consumer_reconnects_total")
                     .Help("Stream (re)connection attempts after a failure")
                     .Register(*registry)
                     .Add(labels);
}

bool EventConsumer::Retryable(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

absl::Status EventConsumer::ApplyOne(const v1::Event& event) {
  // Audited as "consumer:<producer>" (options_.name is "<me><-<producer>").
  const size_t arrow = options_.name.rfind("<-");
  store::PrincipalScope principal(absl::StrCat(
      "consumer:", arrow == std::string::npos ? event.producer()
                                              : options_.name.substr(arrow + 2)));
  store::Batch batch;
  absl::Status effect = apply_(event, batch);
  if (!effect.ok()) {
    if (Retryable(effect)) return effect;
    std::cerr << options_.name << ": skipping event " << event.seq() << ": "
              << effect << std::endl;
    skipped_->Increment();
    batch = store::Batch();  // no partial effect
  }
  store_->PutMeta(batch, cursor_key_, store::EncodeU64(event.seq()));
  absl::Status committed = store_->CommitDeferred(batch);
  { store::Batch done = std::move(batch); }  // releases its locks before any wait below
  if (!committed.ok()) return committed;
  written_ = event.seq();
  absl::MutexLock lock(&sync_mu_);
  to_sync_ = written_;
  if (effect.ok()) ++applied_written_;
  // Bound the unsynced run: wait for the syncer when it falls this far behind
  // (or give up with its error while syncs fail: retried after a backoff,
  // from the next event, as this one is written).
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) {
    return to_sync_ - synced_ < static_cast<uint64_t>(options_.max_unsynced_events) ||
           !sync_error_.ok();
  };
  sync_mu_.Await(absl::Condition(&room));
  if (to_sync_ - synced_ >= static_cast<uint64_t>(options_.max_unsynced_events)) {
    return sync_error_;
  }
  return absl::OkStatus();
}

void EventConsumer::SyncLoop() {
  for (;;) {
    uint64_t target, applied;
    bool stopping;
    {
      absl::MutexLock lock(&sync_mu_);
      auto work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) {
        return stopping_ || to_sync_ > synced_;
      };
      sync_mu_.Await(absl::Condition(&work));
      if (to_sync_ == synced_) return;  // stopping, all synced
      target = to_sync_;
      applied = applied_written_;
      stopping = stopping_;
    }
    // Covers every event written up to `target` (and whatever else was
    // written before the sync started).
    if (absl::Status s = store_->SyncDeferred(); !s.ok()) {
      std::cerr << options_.name << ": WAL sync failed: " << s << std::endl;
      // Nothing is published or advanced; retry, unless stopping (the events
      // are written, so a restart recovers or re-applies them).
      if (stopping) return;
      {
        absl::MutexLock lock(&sync_mu_);
        sync_error_ = absl::UnavailableError(absl::StrCat("WAL sync failed: ", s.message()));
      }
      absl::SleepFor(absl::Milliseconds(100));
      continue;
    }
    syncs_->Increment();
    applied_->Increment(static_cast<double>(applied - applied_synced_));
    applied_synced_ = applied;
    cursor_.store(target);
    absl::MutexLock lock(&sync_mu_);
    synced_ = target;
    sync_error_ = absl::OkStatus();
  }
}

absl::Status EventConsumer::StreamOnce(v1::EventStream::Stub& stub,
                                       StopSignal& stop) {
  grpc::ClientContext context;
  rpc::SetBearerToken(context, options_.token);
  {
    absl::MutexLock lock(&mu_);
    if (stop.stopped()) return absl::CancelledError("stopping");
    active_ = &context;
  }
  v1::SubscribeRequest request;
  request.set_after_seq(written_);
  request.set_max_batch(options_.max_batch);
  request.set_consumer(options_.name);
  auto reader = stub.Subscribe(&context, request);

  absl::Status result;
  v1::SubscribeResponse response;
  while (result.ok() && reader->Read(&response)) {
    connected_->Set(1);
    last_contact_time_ = absl::Now();
    last_contact_->Set(absl::ToDoubleSeconds(last_contact_time_ - absl::UnixEpoch()));
    disconnected_->Set(0);
    for (const v1::Event& event : response.events()) {
      if (event.seq() <= written_) continue;  // already applied
      result = ApplyOne(event);
      if (!result.ok()) break;
    }
    const uint64_t head = std::max<uint64_t>(response.head_seq(), cursor_.load());
    lag_->Set(static_cast<double>(head - cursor_.load()));
  }
  if (!result.ok()) context.TryCancel();
  grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    active_ = nullptr;
  }
  connected_->Set(0);
  if (!result.ok()) return result;
  if (!finished.ok()) return rpc::FromGrpc(finished);
  return absl::UnavailableError("producer ended the stream");
}

void EventConsumer::Run(StopSignal& stop) {
  auto cursor = store_->GetMeta(cursor_key_);
  while (!cursor.ok()) {
    std::cerr << options_.name << ": cannot read cursor: " << cursor.status()
              << std::endl;
    if (stop.WaitFor(options_.max_backoff)) return;
    cursor = store_->GetMeta(cursor_key_);
  }
  if (cursor->has_value()) cursor_.store(store::DecodeU64(**cursor).value_or(0));
  written_ = cursor_.load();
  {
    absl::MutexLock lock(&sync_mu_);
    to_sync_ = synced_ = written_;
    stopping_ = false;
  }
  std::thread syncer([this] { SyncLoop(); });
  absl::Cleanup drain = [this, &syncer] {
    {
      absl::MutexLock lock(&sync_mu_);
      stopping_ = true;
    }
    syncer.join();  // after a last sync of what was written
  };

  stop.OnStop([this] {
    absl::MutexLock lock(&mu_);
    if (active_ != nullptr) active_->TryCancel();
  });

  auto channel = MakeChannel(options_);
  auto stub = v1::EventStream::NewStub(channel);
  absl::BitGen jitter;
  absl::Duration backoff = options_.initial_backoff;
  while (!stop.stopped()) {
    const uint64_t before = cursor_.load();
    absl::Status s = StreamOnce(*stub, stop);
    if (stop.stopped()) break;
    if (cursor_.load() != before) backoff = options_.initial_backoff;
    reconnects_->Increment();
    disconnected_->Set(absl::ToDoubleSeconds(absl::Now() - last_contact_time_));
    // Full jitter keeps many consumers from reconnecting in lockstep.
    const absl::Duration wait =
        backoff / 2 + backoff * absl::Uniform(jitter, 0.0, 1.0);
    if (stop.WaitFor(wait)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace aftersales::events
