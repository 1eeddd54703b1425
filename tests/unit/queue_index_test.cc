// store::QueueIndex against a real RocksDB directory: a pass starts at the
// floor, never skips a live row (also rows whose batch commits while a pass
// runs), and does not step over the tombstones of rows handled earlier.
#include <string>
#include <vector>

#include "aftersales/v1/intake.pb.h"
#include "catch2/catch.hpp"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "store/keys.h"
#include "store/queue_index.h"
#include "store/store.h"
#include "support/test_support.h"

namespace aftersales::store {
namespace {

using testing::TempDir;

std::unique_ptr<Store> OpenQueueStore(const std::string& path) {
  Store::Options options;
  options.path = path;
  options.column_families = {"due"};
  auto store = Store::Open(options);
  REQUIRE(store.ok());
  return *std::move(store);
}

std::string Row(uint64_t due, const std::string& id) { return EncodeU64(due) + id; }

// Keys a pass visits up to `end` (all of them: the visitor never stops).
std::vector<std::string> Pass(const QueueIndex& queue, const std::string& end) {
  std::vector<std::string> keys;
  REQUIRE(queue
              .Scan(end,
                    [&](absl::string_view k, absl::string_view) {
                      keys.emplace_back(k);
                      return true;
                    })
              .ok());
  return keys;
}

void PutCommitted(Store& store, QueueIndex& queue, const std::string& key) {
  Batch batch;
  queue.Put(batch, key);
  REQUIRE(store.Commit(batch).ok());
}

void DeleteCommitted(Store& store, const QueueIndex& queue, const std::vector<std::string>& keys) {
  Batch batch;
  for (const auto& k : keys) queue.Delete(batch, k);
  REQUIRE(store.Commit(batch).ok());
}

TEST_CASE("a queue pass visits due rows in order and the floor follows the first live row") {
  TempDir dir;
  auto store = OpenQueueStore(dir.path() + "/db");
  QueueIndex queue(store.get(), "due");
  for (uint64_t t : {30, 10, 20, 50}) PutCommitted(*store, queue, Row(t, "c" + std::to_string(t)));

  CHECK(Pass(queue, EncodeU64(31)) ==
        std::vector<std::string>{Row(10, "c10"), Row(20, "c20"), Row(30, "c30")});
  CHECK(queue.floor() == Row(10, "c10"));

  DeleteCommitted(*store, queue, {Row(10, "c10"), Row(20, "c20")});
  CHECK(Pass(queue, EncodeU64(31)) == std::vector<std::string>{Row(30, "c30")});
  CHECK(queue.floor() == Row(30, "c30"));

  // A row due before the floor (an earlier deadline staged later) lowers it.
  PutCommitted(*store, queue, Row(5, "late"));
  CHECK(queue.floor() == Row(5, "late"));
  CHECK(Pass(queue, EncodeU64(31)) == std::vector<std::string>{Row(5, "late"), Row(30, "c30")});

  // Nothing due: the floor rises to the end of the pass, not past live rows.
  DeleteCommitted(*store, queue, {Row(5, "late"), Row(30, "c30")});
  CHECK(Pass(queue, EncodeU64(40)).empty());
  CHECK(queue.floor() == EncodeU64(40));
  CHECK(Pass(queue, "") == std::vector<std::string>{Row(50, "c50")});

  // Empty: passes return at once, and a new row is found again.
  DeleteCommitted(*store, queue, {Row(50, "c50")});
  CHECK(Pass(queue, "").empty());
  CHECK_FALSE(queue.floor().has_value());
  CHECK(Pass(queue, "").empty());
  PutCommitted(*store, queue, Row(60, "c60"));
  CHECK(Pass(queue, "") == std::vector<std::string>{Row(60, "c60")});
}

TEST_CASE("a pass that stops early keeps the floor at the first row it saw") {
  TempDir dir;
  auto store = OpenQueueStore(dir.path() + "/db");
  QueueIndex queue(store.get(), "due");
  for (uint64_t t = 1; t <= 5; ++t) PutCommitted(*store, queue, Row(t, "c"));
  int visited = 0;
  REQUIRE(queue.Scan("", [&](absl::string_view, absl::string_view) { return ++visited < 2; }).ok());
  CHECK(visited == 2);
  CHECK(queue.floor() == Row(1, "c"));
  CHECK(Pass(queue, "").size() == 5);
}

TEST_CASE("a row staged before a pass and committed after it is still found") {
  TempDir dir;
  auto store = OpenQueueStore(dir.path() + "/db");
  QueueIndex queue(store.get(), "due");
  PutCommitted(*store, queue, Row(50, "b"));
  {
    Batch pending;
    queue.Put(pending, Row(10, "a"));  // staged, not committed yet
    // The pass cannot see row a; it must not raise the floor over it.
    CHECK(Pass(queue, "") == std::vector<std::string>{Row(50, "b")});
    CHECK(queue.floor() == Row(10, "a"));
    REQUIRE(store->Commit(pending).ok());
  }  // the batch dies: its claim on the floor ends
  CHECK(Pass(queue, "") == std::vector<std::string>{Row(10, "a"), Row(50, "b")});

  // A row put and committed while a pass runs (from inside its visitor, i.e.
  // after the pass's iterator was created) is found by the next pass.
  std::vector<std::string> first;
  REQUIRE(queue
              .Scan("",
                    [&](absl::string_view k, absl::string_view) {
                      if (first.empty()) PutCommitted(*store, queue, Row(1, "during"));
                      first.emplace_back(k);
                      return true;
                    })
              .ok());
  CHECK(first == std::vector<std::string>{Row(10, "a"), Row(50, "b")});
  CHECK(Pass(queue, "") ==
        std::vector<std::string>{Row(1, "during"), Row(10, "a"), Row(50, "b")});
}

TEST_CASE("a pass does not step over the tombstones of rows handled before") {
  TempDir dir;
  auto store = OpenQueueStore(dir.path() + "/db");
  QueueIndex queue(store.get(), "due");
  // 2,000 rows handled (deleted) over earlier passes; they stay tombstones in
  // the memtable. One live row is due after them.
  for (uint64_t t = 0; t < 2000; t += 100) {
    Batch batch;
    for (uint64_t i = t; i < t + 100; ++i) queue.Put(batch, Row(i, "h"));
    REQUIRE(store->Commit(batch).ok());
    const auto due = Pass(queue, EncodeU64(t + 100));
    REQUIRE(due.size() == 100);
    DeleteCommitted(*store, queue, due);
  }
  PutCommitted(*store, queue, Row(5000, "live"));

  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  CHECK(Pass(queue, EncodeU64(6000)) == std::vector<std::string>{Row(5000, "live")});
  const uint64_t skipped = rocksdb::get_perf_context()->internal_delete_skipped_count;
  // The same pass from the first key (what the services did before) steps
  // over all 2,000; this one only over the last pass's 100.
  rocksdb::get_perf_context()->Reset();
  std::vector<std::string> from_start;
  REQUIRE(store
              ->Scan(queue.family(), "", EncodeU64(6000),
                     [&](absl::string_view k, absl::string_view) {
                       from_start.emplace_back(k);
                       return true;
                     })
              .ok());
  const uint64_t skipped_from_start = rocksdb::get_perf_context()->internal_delete_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  CHECK(from_start == std::vector<std::string>{Row(5000, "live")});
  CHECK(skipped_from_start >= 2000);
  CHECK(skipped <= 100);
}

TEST_CASE("after a restart the first pass finds every row") {
  TempDir dir;
  {
    auto store = OpenQueueStore(dir.path() + "/db");
    QueueIndex queue(store.get(), "due");
    PutCommitted(*store, queue, Row(1, "x"));
    PutCommitted(*store, queue, Row(2, "y"));
  }
  auto store = OpenQueueStore(dir.path() + "/db");
  QueueIndex queue(store.get(), "due");
  CHECK(Pass(queue, "") == std::vector<std::string>{Row(1, "x"), Row(2, "y")});
}

TEST_CASE("a record queue parses its entries and refuses one that does not parse") {
  TempDir dir;
  auto store = OpenQueueStore(dir.path() + "/db");
  RecordQueue<v1::WorkOrder> queue(store.get(), "due");
  v1::WorkOrder first;
  first.set_order_id("WO-1");
  v1::WorkOrder second;
  second.set_order_id("WO-2");
  Batch batch;
  queue.Put(batch, Row(20, "WO-2"), second);
  queue.Put(batch, Row(10, "WO-1"), first);
  REQUIRE(store->Commit(batch).ok());

  std::vector<std::string> ids;
  auto collect = [&](absl::string_view, const v1::WorkOrder& o) {
    ids.push_back(o.order_id());
    return true;
  };
  REQUIRE(queue.Scan("", collect).ok());
  CHECK(ids == std::vector<std::string>{"WO-1", "WO-2"});
  auto got = queue.table().Get(Row(20, "WO-2"));
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->order_id() == "WO-2");

  // A row that is not a record (written around the queue, as a bug or a
  // damaged disk would) stops the pass with DATA_LOSS instead of skipping it.
  Batch garbage;
  garbage.Put(queue.table().family(), Row(5, "bad"), std::string("\xff\xff\xff", 3));
  REQUIRE(store->Commit(garbage).ok());
  ids.clear();
  // The floor is at WO-1 (the row was written around the queue): restart the
  // index to see the bad row, as a service would after a restart.
  RecordQueue<v1::WorkOrder> reopened(store.get(), "due");
  CHECK(reopened.Scan("", collect).code() == absl::StatusCode::kDataLoss);
  CHECK(ids.empty());
}

}  // namespace
}  // namespace aftersales::store
