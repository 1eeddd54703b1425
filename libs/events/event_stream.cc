#include "events/event_stream.h"

#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::events {

EventStreamService::EventStreamService(store::Store* store,
                                       const auth::TokenRegistry* tokens,
                                       const StopSignal* stop,
                                       absl::Duration heartbeat)
    : store_(store), tokens_(tokens), stop_(stop), heartbeat_(heartbeat) {}

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
  }
  return grpc::Status::OK;
}

}  // namespace aftersales::events
