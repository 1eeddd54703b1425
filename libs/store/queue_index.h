#ifndef AFTERSALES_LIBS_STORE_QUEUE_INDEX_H_
#define AFTERSALES_LIBS_STORE_QUEUE_INDEX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "store/store.h"

namespace aftersales::store {

// A column family used as a work queue: rows sort in the order they are
// handled (a due time, then an id: deadline sweeps, offer and reservation
// expiry, survey timers) and are deleted once handled. RocksDB keeps a
// deleted row as a tombstone until a compaction drops it, and a pass that
// seeks from the first key steps over every one of them, so with a pass a
// minute the cost of a pass grew with everything ever handled
// (docs/capacity.md). QueueIndex remembers a floor, a key no live row sorts
// before, and starts each pass there: a pass steps only over the rows
// handled since the previous one.
//
// Contract: every row of the family is written through Put (which lowers
// the floor before the batch can commit); Delete and reads of the family by
// other means are fine. The floor lives in memory and starts at "" (the
// first pass after a start steps over everything once). Thread-safe;
// concurrent passes are allowed (only the latest one raises the floor).
class QueueIndex {
 public:
  QueueIndex(Store* store, absl::string_view family);

  // Stages row `key`. The batch holds the row's claim on the floor until it
  // dies (after its commit), so a concurrent pass cannot raise the floor
  // over a row it could not see yet.
  void Put(Batch& batch, absl::string_view key, absl::string_view value = "") const;
  void Delete(Batch& batch, absl::string_view key) const;

  // Calls `visit(key, value)` for the live rows in [floor, end) in key order
  // (end "" = no bound) until it returns false; the floor then rises to the
  // first row visited (or to `end` if none was).
  absl::Status Scan(absl::string_view end,
                    const std::function<bool(absl::string_view key, absl::string_view value)>&
                        visit) const;

  rocksdb::ColumnFamilyHandle* family() const { return cf_; }
  // The current floor; std::nullopt once a pass found no row at all. For tests.
  std::optional<std::string> floor() const;

 private:
  // Shared with the holds in staged batches, which may die after the index
  // (a batch queued for CommitAsync dies on the store's committer thread).
  struct State {
    absl::Mutex mu;
    // No live row sorts before *floor; nullopt: no live row at all.
    std::optional<std::string> floor ABSL_GUARDED_BY(mu) = std::string();
    // Rows staged in batches that have not died yet: key -> count.
    std::map<std::string, int> in_flight ABSL_GUARDED_BY(mu);
    // The pass that may raise the floor, and the smallest key put since it began.
    uint64_t pass ABSL_GUARDED_BY(mu) = 0;
    std::optional<std::string> put_since_pass ABSL_GUARDED_BY(mu);
  };

  Store* store_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// A QueueIndex whose rows hold protobuf records (a work queue of entries,
// not only of keys). Same contract: every row is written through Put. The
// Table view is for reads that are not passes (Get, paging by key).
template <typename Record>
class RecordQueue {
 public:
  RecordQueue(Store* store, absl::string_view family) : rows_(store, family), table_(store, family) {}

  void Put(Batch& batch, absl::string_view key, const Record& record) const {
    rows_.Put(batch, key, record.SerializeAsString());
  }
  void Delete(Batch& batch, absl::string_view key) const { rows_.Delete(batch, key); }

  // QueueIndex::Scan with the records parsed (DATA_LOSS if one does not parse).
  absl::Status Scan(absl::string_view end,
                    const std::function<bool(absl::string_view key, const Record&)>& visit) const {
    absl::Status parsed;
    absl::Status s = rows_.Scan(end, [&](absl::string_view key, absl::string_view value) {
      Record r;
      if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        parsed = absl::DataLossError("unparseable record in queue");
        return false;
      }
      return visit(key, r);
    });
    return s.ok() ? parsed : s;
  }

  const Table<Record>& table() const { return table_; }

 private:
  QueueIndex rows_;
  Table<Record> table_;
};

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_QUEUE_INDEX_H_
