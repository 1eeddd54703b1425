// libs/store against a real RocksDB directory.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include <atomic>
#include <set>
#include <thread>

#include "aftersales/v1/intake.pb.h"
#include "catch2/catch.hpp"
#include "store/audit_log.h"
#include "store/idempotency.h"
#include "store/keys.h"
#include "store/store.h"
#include "support/test_support.h"

namespace aftersales::store {
namespace {

using testing::TempDir;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  Store::Options options;
  options.path = path;
  options.column_families = {"orders", "by_region"};
  auto store = Store::Open(options);
  REQUIRE(store.ok());
  return *std::move(store);
}

v1::WorkOrder Order(const std::string& id, const std::string& region) {
  v1::WorkOrder o;
  o.set_order_id(id);
  o.mutable_service_area()->set_region_code(region);
  return o;
}

v1::Event Created(const v1::WorkOrder& o) {
  v1::Event e;
  e.set_producer("test");
  e.set_subject_id(o.order_id());
  *e.mutable_order_created()->mutable_order() = o;
  return e;
}

TEST_CASE("keys sort numerically and composite keys keep their parts") {
  CHECK(EncodeU64(1) < EncodeU64(256));
  CHECK(EncodeU64(255) < EncodeU64(256));
  CHECK(DecodeU64(EncodeU64(0x0102030405060708ULL)) == 0x0102030405060708ULL);
  CHECK_FALSE(DecodeU64("short").has_value());
  CHECK(CompositeKey({"a", "b"}) == std::string("a\0b", 3));
  CHECK(PrefixSuccessor("ab") == "ac");
  CHECK(PrefixSuccessor(std::string("a\xff", 2)) == "b");
  CHECK(PrefixSuccessor("\xff\xff").empty());
}

TEST_CASE("a typed table stores, reads, lists and deletes records") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  Table<v1::WorkOrder> orders(store.get(), "orders");

  auto missing = orders.Get("nope");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());

  Batch batch;
  for (int i = 0; i < 5; ++i) {
    orders.Put(batch, "WO" + std::to_string(i), Order("WO" + std::to_string(i), "R1"));
  }
  REQUIRE(store->Commit(batch).ok());

  auto got = orders.Get("WO3");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->service_area().region_code() == "R1");

  auto page1 = orders.List("WO", "", 2);
  REQUIRE(page1.ok());
  REQUIRE(page1->records.size() == 2);
  CHECK(page1->records[1].order_id() == "WO1");
  CHECK(page1->last_key == "WO1");
  auto page3 = orders.List("WO", "WO3", 10);
  REQUIRE(page3.ok());
  REQUIRE(page3->records.size() == 1);
  CHECK(page3->records[0].order_id() == "WO4");
  CHECK(page3->last_key.empty());

  Batch del;
  orders.Delete(del, "WO3");
  REQUIRE(store->Commit(del).ok());
  CHECK_FALSE(orders.Get("WO3")->has_value());
}

TEST_CASE("a batch is atomic: records, index entries and events land together") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  Table<v1::WorkOrder> orders(store.get(), "orders");
  Index by_region(store.get(), "by_region");

  Batch batch;
  auto o = Order("WO1", "SH");
  orders.Put(batch, "WO1", o);
  by_region.Add(batch, "SH", "WO1");
  batch.AppendEvent(Created(o));
  CHECK(store->HeadSeq() == 0);
  REQUIRE(store->Commit(batch).ok());
  REQUIRE(batch.assigned_seqs() == std::vector<uint64_t>{1});

  CHECK(*by_region.Lookup("SH", 10) == std::vector<std::string>{"WO1"});
  CHECK(by_region.Lookup("BJ", 10)->empty());
  auto events = store->ReadEvents(0, 10);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 1);
  CHECK((*events)[0].seq() == 1);
  CHECK((*events)[0].order_created().order().order_id() == "WO1");

  Batch move;
  by_region.Remove(move, "SH", "WO1");
  by_region.Add(move, "BJ", "WO1");
  REQUIRE(store->Commit(move).ok());
  CHECK(by_region.Lookup("SH", 10)->empty());
  CHECK(*by_region.Lookup("BJ", 10) == std::vector<std::string>{"WO1"});
}

TEST_CASE("index lookups page after a primary key") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  Index idx(store.get(), "by_region");
  Batch b;
  for (const char* id : {"a", "b", "c", "d"}) idx.Add(b, "R", id);
  idx.Add(b, "RX", "z");  // a value that extends "R" must not leak in
  REQUIRE(store->Commit(b).ok());
  CHECK(*idx.Lookup("R", 2) == std::vector<std::string>{"a", "b"});
  CHECK(*idx.Lookup("R", 10, "b") == std::vector<std::string>{"c", "d"});
}

TEST_CASE("events keep strictly increasing seqs across concurrent commits and reopen") {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    auto store = OpenStore(path);
    Table<v1::WorkOrder> orders(store.get(), "orders");
    std::vector<std::thread> writers;
    std::atomic<int> failures{0};
    for (int t = 0; t < 16; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          Batch b;
          auto o = Order("T" + std::to_string(t) + "-" + std::to_string(i), "R");
          orders.Put(b, o.order_id(), o);
          b.AppendEvent(Created(o));
          b.AppendEvent(Created(o));  // two events in one batch stay adjacent
          if (!store->Commit(b).ok()) ++failures;
          if (b.assigned_seqs().size() != 2 ||
              b.assigned_seqs()[1] != b.assigned_seqs()[0] + 1) {
            ++failures;
          }
        }
      });
    }
    for (auto& w : writers) w.join();
    CHECK(failures == 0);
    CHECK(store->HeadSeq() == 16 * 50 * 2);
  }
  auto store = OpenStore(path);
  CHECK(store->HeadSeq() == 1600);
  std::set<std::string> subjects;
  uint64_t expect = 1, after = 0;
  while (true) {
    auto events = store->ReadEvents(after, 333);
    REQUIRE(events.ok());
    if (events->empty()) break;
    for (const auto& e : *events) {
      CHECK(e.seq() == expect++);
      subjects.insert(e.subject_id());
      after = e.seq();
    }
  }
  CHECK(expect == 1601);
  CHECK(subjects.size() == 800);

  Batch next;
  next.AppendEvent(Created(Order("after-reopen", "R")));
  REQUIRE(store->Commit(next).ok());
  CHECK(next.assigned_seqs() == std::vector<uint64_t>{1601});
}

TEST_CASE("CommitAsync: written before its callback, in one audit chain with Commit") {
  TempDir dir;
  const std::string path = dir.Sub("db");
  constexpr int kThreads = 8, kEach = 40;
  std::atomic<int> callbacks{0}, failures{0};
  {
    auto store = OpenStore(path);
    Table<v1::WorkOrder> orders(store.get(), "orders");
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          const std::string id = "T" + std::to_string(t) + "-" + std::to_string(i);
          Batch b;
          auto o = Order(id, "R");
          orders.Put(b, id, o);
          b.AppendEvent(Created(o));
          if (t % 2 == 0) {  // half the writers wait, half do not
            if (!store->Commit(b).ok() || b.assigned_seqs().size() != 1) ++failures;
            continue;
          }
          b.HoldUntilDone(store->locks().Lock({"order/" + id}));
          store->CommitAsync(std::move(b), [&, id](absl::Status s, Batch& done) {
            ++callbacks;
            // When the callback runs, the write is readable and its event
            // has its seq (published, as with Commit, once every lower seq
            // is done too: checked below through HeadSeq).
            auto got = orders.Get(id);
            if (!s.ok() || done.assigned_seqs().size() != 1 || !got.ok() ||
                !got->has_value()) {
              ++failures;
            }
          });
        }
      });
    }
    for (auto& w : writers) w.join();
    // The key locks die with the batches, after their callbacks: once every
    // callback ran, each lock can be taken again.
    REQUIRE(testing::Eventually([&] { return callbacks == kThreads / 2 * kEach; }));
    for (int i = 0; i < kEach; ++i) auto relock = store->locks().Lock({"order/T1-" + std::to_string(i)});
    CHECK(failures == 0);
    CHECK(store->HeadSeq() == kThreads * kEach);
    // One audit record per commit, chained in commit order.
    AuditVerifyResult verified = store->audit()->Verify({});
    CHECK(verified.ok);
    CHECK(verified.records_checked == kThreads * kEach);

    // Closing the store completes what is still queued.
    for (int i = 0; i < 50; ++i) {
      Batch b;
      auto o = Order("late-" + std::to_string(i), "R");
      orders.Put(b, o.order_id(), o);
      b.AppendEvent(Created(o));
      store->CommitAsync(std::move(b), [&](absl::Status s, Batch&) {
        ++callbacks;
        if (!s.ok()) ++failures;
      });
    }
  }
  CHECK(callbacks == kThreads / 2 * kEach + 50);
  CHECK(failures == 0);
  auto store = OpenStore(path);
  CHECK(store->HeadSeq() == kThreads * kEach + 50);
  Table<v1::WorkOrder> orders(store.get(), "orders");
  auto late = orders.Get("late-49");
  REQUIRE(late.ok());
  CHECK(late->has_value());
  CHECK(store->audit()->Verify({}).ok);

  // An empty batch completes at once, with nothing written.
  bool called = false;
  store->CommitAsync(Batch(), [&](absl::Status s, Batch&) { called = s.ok(); });
  CHECK(called);
  CHECK(store->HeadSeq() == kThreads * kEach + 50);
}

TEST_CASE("WaitForEvents wakes on commit and times out without one") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  CHECK_FALSE(store->WaitForEvents(0, absl::Milliseconds(20)));
  std::thread writer([&] {
    absl::SleepFor(absl::Milliseconds(50));
    Batch b;
    b.AppendEvent(Created(Order("x", "R")));
    REQUIRE(store->Commit(b).ok());
  });
  CHECK(store->WaitForEvents(0, absl::Seconds(10)));
  writer.join();
}

TEST_CASE("meta values and unknown column families") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  Batch b;
  store->PutMeta(b, "cursor/x", EncodeU64(42));
  REQUIRE(store->Commit(b).ok());
  auto v = store->GetMeta("cursor/x");
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  CHECK(DecodeU64(**v) == 42u);
  CHECK_FALSE(store->GetMeta("cursor/y")->has_value());
}

TEST_CASE("opening a path that is not a directory fails with a status") {
  TempDir dir;
  const std::string file = dir.Sub("plain-file");
  FILE* f = fopen(file.c_str(), "w");
  fputs("x", f);
  fclose(f);
  Store::Options options;
  options.path = file;
  auto store = Store::Open(options);
  CHECK_FALSE(store.ok());
}

TEST_CASE("idempotency keys: same body returns the resource, another body is ALREADY_EXISTS") {
  TempDir dir;
  Store::Options options;
  options.path = dir.Sub("db");
  options.column_families = {"idem"};
  auto store = *Store::Open(options);
  IdempotencyKeys keys(store.get(), "idem");

  v1::CreateOrderRequest a;
  a.set_customer_id("C1");
  a.mutable_fault()->set_description("not cooling");
  v1::CreateOrderRequest b = a;
  b.mutable_fault()->set_description("noisy");
  const std::string fa = IdempotencyKeys::Fingerprint(a);
  CHECK(fa.size() == 32);
  CHECK(fa == IdempotencyKeys::Fingerprint(a));
  CHECK(fa != IdempotencyKeys::Fingerprint(b));

  const std::string key = IdempotencyKeys::Key("partner-a", "req-1");
  CHECK(key != IdempotencyKeys::Key("partner-b", "req-1"));
  auto first = keys.Check(key, fa);
  REQUIRE(first.ok());
  CHECK_FALSE(first->has_value());

  Batch batch;
  keys.Remember(batch, key, fa, "WO1", absl::Now());
  REQUIRE(store->Commit(batch).ok());

  auto again = keys.Check(key, fa);
  REQUIRE(again.ok());
  CHECK(again->value() == "WO1");
  auto other = keys.Check(key, IdempotencyKeys::Fingerprint(b));
  CHECK(other.status().code() == absl::StatusCode::kAlreadyExists);
}

// A real child process writes from 8 threads and appends each key to an ack
// file only after Commit returned; we SIGKILL it mid-stream and reopen.
TEST_CASE("every acknowledged write survives SIGKILL of the writing process") {
  TempDir dir;
  const std::string path = dir.Sub("db"), acks = dir.Sub("acks");
  testing::ChildProcess writer({STORE_CRASH_WRITER, path, acks}, dir.Sub("writer.log"));
  std::set<std::string> acked;
  auto read_acks = [&] {
    acked.clear();
    std::ifstream in(acks);
    std::string all((std::istreambuf_iterator<char>(in)), {});
    size_t pos = 0, nl;
    while ((nl = all.find('\n', pos)) != std::string::npos) {  // complete lines only
      acked.insert(all.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return acked.size() >= 2000;
  };
  REQUIRE(testing::Eventually(read_acks, absl::Seconds(60)));
  writer.Kill(SIGKILL);
  REQUIRE(writer.Wait() == 128 + SIGKILL);
  read_acks();  // acks written before the kill landed

  auto store = OpenStore(path);
  Table<v1::WorkOrder> orders(store.get(), "orders");
  std::set<std::string> with_event;
  for (uint64_t after = 0;;) {
    auto events = store->ReadEvents(after, 1000);
    REQUIRE(events.ok());
    if (events->empty()) break;
    for (const auto& e : *events) {
      with_event.insert(e.subject_id());
      after = e.seq();
    }
  }
  size_t missing = 0, missing_event = 0;
  for (const std::string& key : acked) {
    auto got = orders.Get(key);
    REQUIRE(got.ok());
    if (!got->has_value()) ++missing;
    if (!with_event.count(key)) ++missing_event;
  }
  CHECK(acked.size() >= 2000);
  CHECK(missing == 0);
  CHECK(missing_event == 0);
}

}  // namespace
}  // namespace aftersales::store
