#include "support/event_producer.h"

#include <stdexcept>

namespace aftersales::testing {

EventProducer::EventProducer(const std::string& path, const auth::TokenRegistry* tokens)
    : tokens_(tokens) {
  store::Store::Options options;
  options.path = path;
  options.column_families = {"effects"};
  auto opened = store::Store::Open(options);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  store_ = *std::move(opened);
}

EventProducer::~EventProducer() { Down(); }

void EventProducer::Up(int port) {
  stop_ = std::make_unique<StopSignal>();
  service_ = std::make_unique<events::EventStreamService>(store_.get(), tokens_,
                                                          stop_.get(),
                                                          absl::Milliseconds(200));
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                           grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_) throw std::runtime_error("event producer cannot listen");
}

void EventProducer::Down() {
  if (!server_) return;
  stop_->Stop();
  server_->Shutdown();
  server_.reset();
}

void EventProducer::Emit(v1::Event event) {
  store::Batch b;
  b.AppendEvent(std::move(event));
  absl::Status s = store_->Commit(b);
  if (!s.ok()) throw std::runtime_error(s.ToString());
}

}  // namespace aftersales::testing
