// libs/events: the outbox stream and the exactly-once consumer, over a real
// loopback gRPC server and real RocksDB stores.
#include <atomic>
#include <thread>

#include "catch2/catch.hpp"
#include "events/consumer.h"
#include "events/event_stream.h"
#include "rpc/rpc.h"
#include "store/keys.h"
#include "support/event_producer.h"
#include "support/test_support.h"

namespace aftersales::events {
namespace {

using testing::Eventually;
using testing::TempDir;

std::unique_ptr<store::Store> OpenStore(const std::string& path) {
  store::Store::Options options;
  options.path = path;
  options.column_families = {"effects"};
  return *store::Store::Open(options);
}

// A producer with a helper to commit `n` plain events.
class Producer : public testing::EventProducer {
 public:
  using EventProducer::EventProducer;
  void Emit(int n, const std::string& prefix) {
    for (int i = 0; i < n; ++i) {
      v1::Event e;
      e.set_producer("producer");
      e.set_subject_id(prefix + std::to_string(i));
      EventProducer::Emit(e);
    }
  }
};

// A consumer whose effect is a per-subject counter in its own store: a
// duplicate application would show as 2.
class CountingConsumer {
 public:
  CountingConsumer(store::Store* store, const std::string& target,
                   const std::string& token, prometheus::Registry* registry,
                   std::function<absl::Status(const v1::Event&)> gate = nullptr)
      : store_(store), gate_(std::move(gate)) {
    ConsumerOptions options;
    options.name = "test<-producer";
    options.target = target;
    options.token = token;
    options.max_batch = 7;
    options.max_backoff = absl::Milliseconds(300);
    consumer_ = std::make_unique<EventConsumer>(
        store, options,
        [this](const v1::Event& e, store::Batch& b) -> absl::Status {
          if (gate_) {
            if (absl::Status s = gate_(e); !s.ok()) return s;
          }
          auto current = store_->Get(store_->Family("effects"), e.subject_id());
          if (!current.ok()) return current.status();
          uint64_t n = current->has_value() ? *store::DecodeU64(**current) : 0;
          b.Put(store_->Family("effects"), e.subject_id(), store::EncodeU64(n + 1));
          return absl::OkStatus();
        },
        registry);
    thread_ = std::thread([this] { consumer_->Run(stop_); });
  }
  ~CountingConsumer() {
    stop_.Stop();
    thread_.join();
  }
  uint64_t cursor() const { return consumer_->cursor(); }

 private:
  store::Store* store_;
  std::function<absl::Status(const v1::Event&)> gate_;
  StopSignal stop_;
  std::unique_ptr<EventConsumer> consumer_;
  std::thread thread_;
};

// Every subject's counter, or -1 where a subject has none.
std::map<std::string, uint64_t> Effects(store::Store& s) {
  std::map<std::string, uint64_t> out;
  REQUIRE(s.Scan(s.Family("effects"), "", "",
                 [&](absl::string_view k, absl::string_view v) {
                   out[std::string(k)] = *store::DecodeU64(v);
                   return true;
                 })
              .ok());
  return out;
}

// The value of the single series of a counter or gauge family; -1 if absent.
double MetricValue(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name || family.metric.empty()) continue;
    const auto& m = family.metric[0];
    return family.type == prometheus::MetricType::Counter ? m.counter.value
                                                          : m.gauge.value;
  }
  return -1;
}

struct Fixture {
  TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  prometheus::Registry metrics;
};

TEST_CASE("a consumer applies every event exactly once, across its own restart") {
  Fixture f;
  Producer producer(f.dir.Sub("producer"), &f.registry);
  producer.Up();
  producer.Emit(150, "a");
  auto consumer_store = OpenStore(f.dir.Sub("consumer"));
  {
    CountingConsumer c(consumer_store.get(), producer.address(),
                       f.tokens.token["service"], &f.metrics);
    REQUIRE(Eventually([&] { return c.cursor() >= 60; }));
  }  // stopped mid-way (or at the end): the cursor is durable with the effects
  producer.Emit(100, "b");
  {
    CountingConsumer c(consumer_store.get(), producer.address(),
                       f.tokens.token["service"], &f.metrics);
    REQUIRE(Eventually([&] { return c.cursor() == 250; }));
  }
  auto effects = Effects(*consumer_store);
  CHECK(effects.size() == 250);
  for (const auto& [subject, n] : effects) {
    INFO(subject);
    CHECK(n == 1);
  }
}

TEST_CASE("a consumer reconnects with backoff when the producer is down and catches up") {
  Fixture f;
  Producer producer(f.dir.Sub("producer"), &f.registry);
  producer.Up();
  const int port = producer.port();
  producer.Emit(20, "before");
  auto consumer_store = OpenStore(f.dir.Sub("consumer"));
  CountingConsumer c(consumer_store.get(), producer.address(),
                     f.tokens.token["service"], &f.metrics);
  REQUIRE(Eventually([&] { return c.cursor() == 20; }));

  producer.Down();
  producer.Emit(30, "during");  // committed while nobody can stream them
  absl::SleepFor(absl::Milliseconds(700));  // several failed reconnects
  CHECK(c.cursor() == 20);
  producer.Up(port);
  REQUIRE(Eventually([&] { return c.cursor() == 50; }));

  auto effects = Effects(*consumer_store);
  CHECK(effects.size() == 50);
  for (const auto& [subject, n] : effects) CHECK(n == 1);

  CHECK(MetricValue(f.metrics, "aftersales_event_consumer_reconnects_total") >= 1);
  CHECK(Eventually([&] {
    return MetricValue(f.metrics, "aftersales_event_consumer_lag_events") == 0;
  }));
}

TEST_CASE("transient apply errors are retried, and permanent ones are skipped once") {
  Fixture f;
  Producer producer(f.dir.Sub("producer"), &f.registry);
  producer.Up();
  producer.Emit(10, "e");
  std::atomic<int> transient_left{3};
  auto consumer_store = OpenStore(f.dir.Sub("consumer"));
  CountingConsumer c(
      consumer_store.get(), producer.address(), f.tokens.token["service"], &f.metrics,
      [&](const v1::Event& e) -> absl::Status {
        if (e.subject_id() == "e3" && transient_left.fetch_sub(1) > 0) {
          return absl::UnavailableError("peer busy");
        }
        if (e.subject_id() == "e7") return absl::InvalidArgumentError("never applies");
        return absl::OkStatus();
      });
  REQUIRE(Eventually([&] { return c.cursor() == 10; }));
  auto effects = Effects(*consumer_store);
  CHECK(effects.size() == 9);
  CHECK(effects.count("e3") == 1);
  CHECK(effects.count("e7") == 0);
  CHECK(transient_left <= 0);
}

TEST_CASE("Subscribe refuses callers without the service role and bad requests") {
  Fixture f;
  Producer producer(f.dir.Sub("producer"), &f.registry);
  producer.Up();
  producer.Emit(3, "x");
  auto stub = v1::EventStream::NewStub(
      grpc::CreateChannel(producer.address(), grpc::InsecureChannelCredentials()));

  auto first_status = [&](const std::string& token, v1::SubscribeRequest req) {
    auto ctx = testing::Context(token, absl::Seconds(5));
    auto reader = stub->Subscribe(ctx.get(), req);
    v1::SubscribeResponse resp;
    while (reader->Read(&resp)) ctx->TryCancel();
    return reader->Finish().error_code();
  };
  v1::SubscribeRequest ok_req;
  CHECK(first_status("", ok_req) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(first_status("not-a-token", ok_req) == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(first_status(f.tokens.token["partner-a"], ok_req) ==
        grpc::StatusCode::PERMISSION_DENIED);
  v1::SubscribeRequest bad = ok_req;
  bad.set_max_batch(5000);
  CHECK(first_status(f.tokens.token["service"], bad) ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // And it still serves a valid subscriber, from the cursor given.
  auto ctx = testing::Context(f.tokens.token["service"], absl::Seconds(5));
  v1::SubscribeRequest from1;
  from1.set_after_seq(1);
  auto reader = stub->Subscribe(ctx.get(), from1);
  v1::SubscribeResponse resp;
  REQUIRE(reader->Read(&resp));
  REQUIRE(resp.events_size() == 2);
  CHECK(resp.events(0).seq() == 2);
  CHECK(resp.head_seq() == 3);
  ctx->TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace aftersales::events
