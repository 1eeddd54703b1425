#include "events/event_stream.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"

#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::events {

EventStreamService::EventStreamService(store::Store* store,
                                       const auth::TokenRegistry* tokens,
                                       const StopSignal* stop,
                                       absl::Duration heartbeat)
    : store_(store), tokens_(tokens), stop_(stop), heartbeat_(heartbeat) {}

namespace {
constexpr size_t kMaxFollowers = 32;  // bounds the consumer label
}  // namespace

void EventStreamService::ExportMetrics(prometheus::Registry* registry) {
  absl::MutexLock lock(&mu_);
  lag_family_ = &prometheus::BuildGauge()
                     .Name("aftersales_event_stream_consumer_lag_events")
                     .Help("This producer's head seq minus the last seq a consumer "
                           "asked from or was sent; keeps growing while it is down")
                     .Register(*registry);
  connected_family_ = &prometheus::BuildGauge()
                           .Name("aftersales_event_stream_consumer_connected")
                           .Help("Open Subscribe streams of a consumer")
                           .Register(*registry);
}

EventStreamService::Follower* EventStreamService::FollowerFor(
    const std::string& consumer) {
  if (lag_family_ == nullptr) return nullptr;
  std::string name = consumer.empty() ? "unnamed" : consumer;
  if (!followers_.count(name) && followers_.size() >= kMaxFollowers) name = "other";
  Follower& f = followers_[name];
  if (f.lag == nullptr) {
    f.lag = &lag_family_->Add({{"consumer", name}});
    f.connected = &connected_family_->Add({{"consumer", name}});
  }
  return &f;
}

void EventStreamService::Update(Follower* f) {
  const uint64_t head = store_->HeadSeq();
  f->lag->Set(head > f->sent ? static_cast<double>(head - f->sent) : 0.0);
  f->connected->Set(f->streams);
}

void EventStreamService::RefreshMetrics() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, f] : followers_) Update(&f);
}

grpc::Status EventStreamService::Subscribe(
    grpc::ServerContext* context, const v1::SubscribeRequest* request,
    grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  auto principal = rpc::AuthorizeCall(
      *context, *tokens_,
      {auth::Role::kService, auth::Role::kAdmin, auth::Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  absl::Status valid =
      rpc::Validator()
          .Check("max_batch", request->max_batch() >= 0 && request->max_batch() <= 1000,
                 "must be in [0, 1000]")
          .Text("consumer", request->consumer(), 64, /*required=*/false)
          .status();
  RPC_RETURN_IF_ERROR(valid);

  const size_t max_batch = request->max_batch() == 0 ? 100 : request->max_batch();
  uint64_t cursor = request->after_seq();
  bool first = true;
  Follower* follower = nullptr;
  {
    absl::MutexLock lock(&mu_);
    follower = FollowerFor(request->consumer());
    if (follower != nullptr) {
      follower->sent = cursor;  // the consumer's durable cursor
      ++follower->streams;
      Update(follower);
    }
  }
  absl::Cleanup closed = [this, follower] {
    if (follower == nullptr) return;
    absl::MutexLock lock(&mu_);
    --follower->streams;
    Update(follower);
  };
  while (!context->IsCancelled() && !stop_->stopped()) {
    auto events = store_->ReadEvents(cursor, max_batch);
    RPC_RETURN_IF_ERROR(events.status());
    v1::SubscribeResponse response;
    if (events->empty()) {
      // Nothing new: wait, and send a heartbeat if the wait stays empty (and
      // right away on the first round, so the consumer learns the head).
      if (!first && store_->WaitForEvents(cursor, heartbeat_)) continue;
    } else {
      cursor = events->back().seq();
      for (auto& e : *events) *response.add_events() = std::move(e);
    }
    first = false;
    response.set_head_seq(store_->HeadSeq());
    if (!writer->Write(response)) break;  // the consumer went away
    if (follower != nullptr) {
      absl::MutexLock lock(&mu_);
      follower->sent = std::max(follower->sent, cursor);
      Update(follower);
    }
  }
  return grpc::Status::OK;
}

}  // namespace aftersales::events
