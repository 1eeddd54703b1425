// Deferred sync (issue 10): Store::CommitDeferred / SyncDeferred and the event
// consumer that applies a run of events per WAL sync, over real RocksDB
// stores, a real loopback event stream, and a real child process killed with
// SIGKILL mid-stream.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "catch2/catch.hpp"
#include "consumer_deferred_support.h"
#include "store/audit_log.h"
#include "support/event_producer.h"
#include "support/test_support.h"

namespace aftersales::testing {
namespace {

v1::Event Subject(const std::string& id) {
  v1::Event e;
  e.set_producer("test");
  e.set_subject_id(id);
  return e;
}

// Every visible event of `s`, in seq order.
std::vector<v1::Event> Visible(store::Store& s) {
  std::vector<v1::Event> out;
  for (uint64_t after = 0;;) {
    auto events = s.ReadEvents(after, 1000);
    REQUIRE(events.ok());
    if (events->empty()) return out;
    after = events->back().seq();
    out.insert(out.end(), events->begin(), events->end());
  }
}

std::map<std::string, uint64_t> Effects(store::Store& s) {
  std::map<std::string, uint64_t> out;
  REQUIRE(s.Scan(s.Family("effects"), "", "",
                 [&](absl::string_view k, absl::string_view v) {
                   out[std::string(k)] = store::DecodeU64(v).value_or(0);
                   return true;
                 })
              .ok());
  return out;
}

double Counter(prometheus::Registry& registry, const std::string& name) {
  for (const auto& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
  }
  return -1;
}

uint64_t DurableCursor(store::Store& s) {
  auto raw = s.GetMeta(std::string("consumer_cursor/") + kDeferredConsumerName);
  REQUIRE(raw.ok());
  return raw->has_value() ? store::DecodeU64(**raw).value_or(0) : 0;
}

// `n` producer events "<prefix><i>", committed `per_commit` to a batch.
void EmitMany(EventProducer& producer, int n, const std::string& prefix, int per_commit) {
  for (int i = 0; i < n;) {
    store::Batch b;
    for (int k = 0; k < per_commit && i < n; ++k, ++i) {
      b.AppendEvent(Subject(prefix + std::to_string(i)));
    }
    REQUIRE(producer.store().Commit(b).ok());
  }
}

struct Fixture {
  TempDir dir;
  TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
};

// A consumer thread over `store`, stopped when destroyed.
class RunningConsumer {
 public:
  RunningConsumer(store::Store* store, const std::string& target, const std::string& token,
                  prometheus::Registry* registry)
      : consumer_(store, DeferredConsumerOptions(target, token), CountAndEcho(store),
                  registry),
        thread_([this] { consumer_.Run(stop_); }) {}
  ~RunningConsumer() {
    stop_.Stop();
    thread_.join();
  }
  uint64_t cursor() const { return consumer_.cursor(); }

 private:
  StopSignal stop_;
  events::EventConsumer consumer_;
  std::thread thread_;
};

TEST_CASE("deferred events stay invisible until SyncDeferred, and so does a synced commit above them") {
  TempDir dir;
  auto s = OpenEffectsStore(dir.Sub("db"));
  REQUIRE(s);
  store::Batch deferred;
  deferred.Put(s->Family("effects"), "k1", "v1");
  deferred.AppendEvent(Subject("deferred"));
  REQUIRE(s->CommitDeferred(deferred).ok());
  REQUIRE(deferred.assigned_seqs() == std::vector<uint64_t>{1});
  // The effect is readable at once; the event is not.
  auto v = s->Get(s->Family("effects"), "k1");
  REQUIRE(v.ok());
  CHECK(v->value_or("") == "v1");
  CHECK(s->HeadSeq() == 0);
  CHECK(Visible(*s).empty());
  CHECK_FALSE(s->WaitForEvents(0, absl::Milliseconds(50)));

  store::Batch synced;
  synced.AppendEvent(Subject("synced"));
  REQUIRE(s->Commit(synced).ok());
  REQUIRE(synced.assigned_seqs() == std::vector<uint64_t>{2});
  CHECK(s->HeadSeq() == 0);  // seq 2 waits for seq 1
  CHECK(Visible(*s).empty());

  REQUIRE(s->SyncDeferred().ok());
  CHECK(s->HeadSeq() == 2);
  auto all = Visible(*s);
  REQUIRE(all.size() == 2);
  CHECK(all[0].seq() == 1);
  CHECK(all[0].subject_id() == "deferred");
  CHECK(all[1].seq() == 2);
  CHECK(all[1].subject_id() == "synced");
  // A second sync with nothing pending changes nothing.
  REQUIRE(s->SyncDeferred().ok());
  CHECK(s->HeadSeq() == 2);

  // The audit chain holds both commits, in commit order, and verifies.
  auto verified = s->audit()->Verify({});
  CHECK(verified.ok);
  CHECK(verified.records_checked == 2);
  auto records = s->audit()->List(0, 10);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 2);
  CHECK((*records)[0].subject_id() == "deferred");
  CHECK((*records)[1].subject_id() == "synced");
}

TEST_CASE("deferred events not yet synced at a restart are published on reopen and seqs continue") {
  TempDir dir;
  {
    auto s = OpenEffectsStore(dir.Sub("db"));
    REQUIRE(s);
    for (int i = 0; i < 3; ++i) {
      store::Batch b;
      b.AppendEvent(Subject("d" + std::to_string(i)));
      REQUIRE(s->CommitDeferred(b).ok());
    }
    CHECK(s->HeadSeq() == 0);
  }  // closed without SyncDeferred: nobody saw seqs 1-3
  auto s = OpenEffectsStore(dir.Sub("db"));
  REQUIRE(s);
  CHECK(s->HeadSeq() == 3);  // what survived is a prefix, now durable
  store::Batch b;
  b.AppendEvent(Subject("after"));
  REQUIRE(s->Commit(b).ok());
  CHECK(b.assigned_seqs() == std::vector<uint64_t>{4});
  CHECK(Visible(*s).size() == 4);
  CHECK(s->audit()->Verify({}).ok);
}

TEST_CASE("concurrent deferred writers and syncs: a reader sees every event once, in order, none skipped") {
  TempDir dir;
  auto s = OpenEffectsStore(dir.Sub("db"));
  REQUIRE(s);
  constexpr int kWriters = 4, kEach = 300;
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::vector<uint64_t> seen;
  std::thread reader([&] {
    uint64_t after = 0;
    while (writing.load() || after < s->HeadSeq()) {
      auto events = s->ReadEvents(after, 100);
      if (!events.ok()) {
        ++failures;
        return;
      }
      for (const auto& e : *events) {
        after = e.seq();
        seen.push_back(e.seq());
      }
      if (events->empty()) s->WaitForEvents(after, absl::Milliseconds(20));
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      // Writers sync at different strides, so runs interleave in the log.
      const int stride = 1 + w * 3;
      for (int i = 0; i < kEach; ++i) {
        store::Batch b;
        b.Put(s->Family("effects"), std::to_string(w * kEach + i), "x");
        b.AppendEvent(Subject(std::to_string(w * kEach + i)));
        if (!s->CommitDeferred(b).ok()) ++failures;
        if ((i + 1) % stride == 0 || i == kEach - 1) {
          if (!s->SyncDeferred().ok()) ++failures;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  reader.join();
  CHECK(failures.load() == 0);
  CHECK(s->HeadSeq() == kWriters * kEach);
  // Seqs are published only when every lower one is: the reader, which only
  // ever asks for seqs above the last it saw, has seen 1..N with no gap.
  REQUIRE(seen.size() == kWriters * kEach);
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i] != i + 1) FAIL("seq " << seen[i] << " at position " << i);
  }
  CHECK(Effects(*s).size() == kWriters * kEach);
  CHECK(s->audit()->Verify({}).ok);
}

TEST_CASE("a consumer applies 2000 events exactly once with fewer WAL syncs than events, and resumes after a restart") {
  Fixture f;
  EventProducer producer(f.dir.Sub("producer"), &f.registry);
  producer.Up();
  EmitMany(producer, 1200, "a", 100);
  auto s = OpenEffectsStore(f.dir.Sub("consumer"));
  REQUIRE(s);
  prometheus::Registry metrics;
  {
    RunningConsumer c(s.get(), producer.address(), f.tokens.token["service"], &metrics);
    REQUIRE(Eventually([&] { return c.cursor() >= 400; }));
  }  // stopped mid-way or at the end; what it applied is synced
  const uint64_t stopped_at = DurableCursor(*s);
  CHECK(stopped_at >= 400);
  CHECK(s->HeadSeq() == stopped_at);  // one echo per applied event, all published
  EmitMany(producer, 800, "b", 100);
  {
    RunningConsumer c(s.get(), producer.address(), f.tokens.token["service"], &metrics);
    REQUIRE(Eventually([&] { return c.cursor() == 2000; }));
  }
  CHECK(DurableCursor(*s) == 2000);
  auto effects = Effects(*s);
  CHECK(effects.size() == 2000);
  for (const auto& [subject, n] : effects) {
    INFO(subject);
    CHECK(n == 1);
  }
  auto echoes = Visible(*s);
  REQUIRE(echoes.size() == 2000);
  std::set<std::string> echoed;
  for (const auto& e : echoes) echoed.insert(e.subject_id());
  CHECK(echoed.size() == 2000);
  CHECK(Counter(metrics, "aftersales_event_consumer_applied_total") == 2000);
  // The point of deferred sync: fewer WAL syncs than events (how many fewer
  // depends on the disk's fsync time against the apply time; here, on ext4,
  // typically 20-100 events a sync; a sync per event would be 2000).
  const double syncs = Counter(metrics, "aftersales_event_consumer_syncs_total");
  INFO("syncs " << syncs);
  CHECK(syncs >= 2);
  CHECK(syncs < 2000);
  CHECK(s->audit()->Verify({}).ok);
}

TEST_CASE("a consumer killed with SIGKILL mid-stream reopens with its cursor, effects and events in agreement") {
  Fixture f;
  EventProducer producer(f.dir.Sub("producer"), &f.registry);
  producer.Up();
  constexpr int kEvents = 5000;
  EmitMany(producer, kEvents, "e", 250);
  std::vector<std::string> subjects;  // by producer seq - 1
  for (const auto& e : Visible(producer.store())) subjects.push_back(e.subject_id());
  REQUIRE(subjects.size() == kEvents);

  const std::string db = f.dir.Sub("consumer"), log = f.dir.Sub("child.log");
  ChildProcess child({CONSUMER_CRASH_CHILD, producer.address(), f.tokens.token["service"], db},
                     log);
  uint64_t reported = 0;
  auto progressed = [&] {
    std::ifstream in(log);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!in.eof()) last = line;  // complete lines only
    }
    if (last.rfind("cursor ", 0) == 0) reported = std::stoull(last.substr(7));
    return reported >= 1000;
  };
  REQUIRE(Eventually(progressed, absl::Seconds(60)));
  child.Kill(SIGKILL);
  REQUIRE(child.Wait() == 128 + SIGKILL);
  INFO("child reported cursor " << reported);

  auto s = OpenEffectsStore(db);
  REQUIRE(s);
  const uint64_t cursor = DurableCursor(*s);
  CHECK(cursor >= reported);   // a synced cursor is never taken back
  CHECK(cursor < kEvents);     // killed mid-stream
  // Effects of exactly the events at or below the cursor, each once.
  auto effects = Effects(*s);
  CHECK(effects.size() == cursor);
  for (uint64_t seq = 1; seq <= kEvents; ++seq) {
    auto it = effects.find(subjects[seq - 1]);
    if (seq <= cursor) {
      INFO("seq " << seq);
      REQUIRE(it != effects.end());
      CHECK(it->second == 1);
    } else {
      INFO("seq " << seq);
      CHECK(it == effects.end());
    }
  }
  // Its own events: one echo per applied event, in order.
  auto echoes = Visible(*s);
  REQUIRE(echoes.size() == cursor);
  for (uint64_t i = 0; i < cursor; ++i) CHECK(echoes[i].subject_id() == subjects[i]);
  CHECK(s->audit()->Verify({}).ok);

  // Restarted, it finishes the stream without applying anything twice.
  prometheus::Registry metrics;
  {
    RunningConsumer c(s.get(), producer.address(), f.tokens.token["service"], &metrics);
    REQUIRE(Eventually([&] { return c.cursor() == kEvents; }, absl::Seconds(60)));
  }
  effects = Effects(*s);
  CHECK(effects.size() == kEvents);
  size_t twice = 0;
  for (const auto& [subject, n] : effects) twice += n != 1;
  CHECK(twice == 0);
  CHECK(Visible(*s).size() == kEvents);
}

}  // namespace
}  // namespace aftersales::testing
