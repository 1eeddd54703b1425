#ifndef AFTERSALES_LIBS_STORE_STORE_H_
#define AFTERSALES_LIBS_STORE_STORE_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "google/protobuf/message_lite.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "store/key_locks.h"
#include "store/keys.h"

namespace aftersales::store {

class Store;
class AuditLog;  // store/audit_log.h

// A set of writes and events that become durable together or not at all.
// Build it with Table/Index/Store helpers, then Store::Commit it. Events get
// their seq at commit time, in commit order (the transactional outbox).
class Batch {
 public:
  Batch() = default;
  Batch(Batch&&) = default;
  Batch& operator=(Batch&&) = default;

  void Put(rocksdb::ColumnFamilyHandle* cf, absl::string_view key,
           absl::string_view value);
  void Delete(rocksdb::ColumnFamilyHandle* cf, absl::string_view key);
  // Appends `event` to the service's event log; its seq is assigned by Commit.
  void AppendEvent(v1::Event event);

  // Keeps `guard` locked until the batch is destroyed, i.e. after the caller
  // committed it: an event consumer stages an effect under a key lock that
  // must outlive its apply function.
  void HoldUntilDone(KeyLocks::Guard guard) { guards_.push_back(std::move(guard)); }
  // Keeps `hold` (whose deleter does the releasing) alive until the batch dies:
  // a QueueIndex row's claim on the index's floor (store/queue_index.h).
  void HoldUntilDone(std::shared_ptr<void> hold) { holds_.push_back(std::move(hold)); }

  bool empty() const { return ops_ == 0 && events_.empty(); }
  // Who caused this change ("role:id"), recorded in the audit log; optional.
  void SetPrincipal(absl::string_view principal) { principal_ = std::string(principal); }
  // Seqs assigned to this batch's events by the last successful Commit.
  const std::vector<uint64_t>& assigned_seqs() const { return assigned_seqs_; }

 private:
  friend class Store;
  rocksdb::WriteBatch writes_;
  size_t ops_ = 0;
  std::vector<v1::Event> events_;
  std::vector<uint64_t> assigned_seqs_;
  std::vector<KeyLocks::Guard> guards_;  // released when the batch dies
  std::vector<std::shared_ptr<void>> holds_;  // likewise
  std::string principal_;
};

// One service's embedded RocksDB: named column families, synced atomic
// commits, and the service's event log. Every Commit is synced to the WAL
// before it returns, so anything a client saw acknowledged survives a crash;
// concurrent commits share WAL syncs (RocksDB group commit). Event consumers
// use CommitDeferred + SyncDeferred instead (one sync per run of events).
// Thread-safe.
class Store {
 public:
  struct Options {
    std::string path;
    // Column families the service uses, besides the built-in "events" and
    // "meta". Created on first open.
    std::vector<std::string> column_families;
    // Only benchmarks of the non-durable baseline turn this off.
    bool sync = true;
    size_t block_cache_bytes = 32 << 20;
    // Hash-chained audit record per commit in the built-in "audit" family
    // (store/audit_log.h, docs/audit.md). Only benchmarks turn it off.
    bool audit = true;
  };

  static absl::StatusOr<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();

  // Handle of a column family named in Options (or "events"/"meta"); aborts
  // on an unknown name, which is a programming error.
  rocksdb::ColumnFamilyHandle* Family(absl::string_view name) const;

  // Writes `batch` atomically with a synced WAL. On success the batch's events
  // are visible to ReadEvents in seq order.
  absl::Status Commit(Batch& batch);

  // Commit without parking the caller's thread: `batch` is written and synced
  // exactly as by Commit (same group commits, same audit chain), and `done`
  // is called afterwards with the status and the batch (assigned_seqs set);
  // the batch, and the key locks it holds (HoldUntilDone), die right after
  // `done` returns. `done` runs on the thread that led the write group (the
  // audit log's committer thread, or a Commit caller), so it must be short
  // and must not commit itself. A gRPC callback handler finishes its call
  // from `done`: its worker thread serves other calls during the fsync.
  using CommitCallback = std::function<void(absl::Status, Batch&)>;
  void CommitAsync(Batch batch, CommitCallback done);

  // Deferred sync, for event consumers that apply many events per fsync
  // (docs/reliability.md, "Deferred sync of event consumers"). Contract:
  // - CommitDeferred writes `batch` atomically like Commit, in the same audit
  //   chain order, but without waiting for a WAL sync. Its writes are visible
  //   to Get/Scan at once (to this process); they survive a crash of the
  //   process but maybe not of the machine until a sync covers them.
  // - Its events get their seqs (assigned_seqs) but are NOT published: they,
  //   and every higher seq, stay invisible to ReadEvents/HeadSeq/WaitForEvents
  //   until a SyncDeferred that started after CommitDeferred returned has
  //   returned OK (or the write happened to share a synced group commit). So
  //   no reader ever sees an event a crash could take back.
  // - A crash loses at most a suffix of the deferred writes (point-in-time
  //   WAL recovery), never a synced commit, and never part of one batch: a
  //   consumer that puts its cursor in each batch finds effects and cursor in
  //   agreement after any crash.
  // - SyncDeferred makes every write that returned before it durable
  //   (DB::FlushWAL(sync=true): every live WAL file, also those closed by a
  //   memtable switch) and then publishes their events. If the sync fails the
  //   events stay unpublished (the log stalls, no reader sees them) and the
  //   error is returned; a later successful SyncDeferred publishes them. A
  //   failed fsync usually leaves RocksDB read-only until a restart, after
  //   which recovery keeps a prefix of the WAL: the never-published events
  //   are either durable (and then published) or gone, and nobody saw them.
  // Thread-safe; with Options::sync off both behave like Commit / a no-op.
  absl::Status CommitDeferred(Batch& batch);
  absl::Status SyncDeferred();

  // NotFound is an empty optional, not an error.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                                 absl::string_view key) const;

  // Calls `visit(key, value)` for keys in [start, end) in order (end "" = no
  // bound) until it returns false.
  absl::Status Scan(
      rocksdb::ColumnFamilyHandle* cf, absl::string_view start,
      absl::string_view end,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const;

  // Events with seq > after_seq, ascending, at most `max`. Only events of
  // fully committed batches, with no hole below them, are returned.
  absl::StatusOr<std::vector<v1::Event>> ReadEvents(uint64_t after_seq,
                                                    size_t max) const;
  // Highest seq readers may see.
  uint64_t HeadSeq() const;
  // Blocks until HeadSeq() > after_seq or `timeout` passes; true if so.
  bool WaitForEvents(uint64_t after_seq, absl::Duration timeout) const;

  // Small values the libs keep for themselves (consumer cursors, ...).
  void PutMeta(Batch& batch, absl::string_view key, absl::string_view value);
  absl::StatusOr<std::optional<std::string>> GetMeta(absl::string_view key) const;

  // Stripe locks for read-check-write sequences on this store's keys.
  KeyLocks& locks() { return locks_; }

  // The tamper-evident audit log every Commit appends to (store/audit_log.h);
  // nullptr when Options::audit is off.
  AuditLog* audit() const { return audit_.get(); }

  const std::string& path() const { return path_; }

  // Writes a consistent, openable copy of the whole database to `dir` while
  // the store keeps serving (rocksdb::Checkpoint: SST files are hard-linked
  // when `dir` is on the same filesystem, copied otherwise). `dir` must not
  // exist yet (ALREADY_EXISTS); its parent must.
  absl::Status Checkpoint(const std::string& dir);

 private:
  Store() = default;
  // `*synced` (optional) tells whether the write was synced to the WAL: always
  // when `sync` is, and for an unsynced one that shared a synced audit group.
  absl::Status Write(rocksdb::WriteBatch* batch, absl::string_view principal,
                     bool sync, bool* synced = nullptr);
  absl::Status CommitImpl(Batch& batch, bool deferred);
  // Marks seqs finished and advances visible_seq_ over every finished seq.
  void FinishSeqs(const std::vector<uint64_t>& seqs)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(seq_mu_);

  std::string path_;
  bool sync_ = true;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families_;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  KeyLocks locks_;
  std::unique_ptr<AuditLog> audit_;

  // Event seq allocation. Seqs are taken before the write and published to
  // readers only once every lower seq has finished (or failed), so a reader
  // that advanced its cursor past N can never later find an event below N.
  mutable absl::Mutex seq_mu_;
  uint64_t next_seq_ ABSL_GUARDED_BY(seq_mu_) = 1;
  uint64_t visible_seq_ ABSL_GUARDED_BY(seq_mu_) = 0;
  std::set<uint64_t> finished_above_visible_ ABSL_GUARDED_BY(seq_mu_);
  // Seqs of CommitDeferred writes that returned OK but are not known synced.
  std::vector<uint64_t> unsynced_seqs_ ABSL_GUARDED_BY(seq_mu_);
  // Deferred writes done so far, and how many of them a sync has covered.
  uint64_t deferred_writes_ ABSL_GUARDED_BY(seq_mu_) = 0;
  uint64_t synced_writes_ ABSL_GUARDED_BY(seq_mu_) = 0;
};

// Converts a RocksDB status into the matching absl::Status.
absl::Status FromRocks(const rocksdb::Status& s);

// A typed table of protobuf records in one column family, keyed by string.
template <typename Record>
class Table {
 public:
  Table(Store* store, absl::string_view family)
      : store_(store), cf_(store->Family(family)) {}

  absl::StatusOr<std::optional<Record>> Get(absl::string_view key) const {
    auto raw = store_->Get(cf_, key);
    if (!raw.ok()) return raw.status();
    if (!raw->has_value()) return std::optional<Record>();
    Record r;
    if (!r.ParseFromString(**raw)) {
      return absl::DataLossError("unparseable record in table");
    }
    return std::optional<Record>(std::move(r));
  }

  void Put(Batch& batch, absl::string_view key, const Record& record) const {
    batch.Put(cf_, key, record.SerializeAsString());
  }

  void Delete(Batch& batch, absl::string_view key) const {
    batch.Delete(cf_, key);
  }

  // Records whose key starts with `prefix` and sorts after `after_key`
  // ("" = from the start), in key order, until `visit` returns false.
  absl::Status Scan(
      absl::string_view prefix, absl::string_view after_key,
      const std::function<bool(absl::string_view key, const Record&)>& visit)
      const;

  struct Page {
    std::vector<Record> records;
    std::string last_key;  // empty when the scan reached the end
  };
  // Up to `limit` records after `after_key`; last_key is set only when more
  // records may follow.
  absl::StatusOr<Page> List(absl::string_view prefix, absl::string_view after_key,
                            size_t limit) const;

  rocksdb::ColumnFamilyHandle* family() const { return cf_; }

 private:
  Store* store_;
  rocksdb::ColumnFamilyHandle* cf_;
};

// A secondary index: (value, primary key) pairs in their own column family,
// written in the same batch as the record so it never disagrees with it.
class Index {
 public:
  Index(Store* store, absl::string_view family)
      : store_(store), cf_(store->Family(family)) {}

  void Add(Batch& batch, absl::string_view value, absl::string_view primary_key) const;
  void Remove(Batch& batch, absl::string_view value,
              absl::string_view primary_key) const;
  // Primary keys indexed under `value` that sort after `after_primary_key`
  // ("" = from the first), in key order, at most `limit`.
  absl::StatusOr<std::vector<std::string>> Lookup(
      absl::string_view value, size_t limit,
      absl::string_view after_primary_key = "") const;

 private:
  Store* store_;
  rocksdb::ColumnFamilyHandle* cf_;
};

// ---- implementation of the templates ----

template <typename Record>
absl::Status Table<Record>::Scan(
    absl::string_view prefix, absl::string_view after_key,
    const std::function<bool(absl::string_view key, const Record&)>& visit)
    const {
  std::string start(prefix);
  if (!after_key.empty()) {
    start = std::string(after_key);
    start.push_back('\0');  // the smallest key after after_key
  }
  std::string end = PrefixSuccessor(prefix);
  absl::Status parse_status;
  absl::Status s = store_->Scan(
      cf_, start, end, [&](absl::string_view key, absl::string_view value) {
        Record r;
        if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parse_status = absl::DataLossError("unparseable record in table");
          return false;
        }
        return visit(key, r);
      });
  if (!s.ok()) return s;
  return parse_status;
}

template <typename Record>
absl::StatusOr<typename Table<Record>::Page> Table<Record>::List(
    absl::string_view prefix, absl::string_view after_key, size_t limit) const {
  Page page;
  std::string last;
  bool more = false;
  absl::Status s = Scan(prefix, after_key,
                        [&](absl::string_view key, const Record& r) {
                          if (page.records.size() == limit) {
                            more = true;
                            return false;
                          }
                          page.records.push_back(r);
                          last = std::string(key);
                          return true;
                        });
  if (!s.ok()) return s;
  if (more) page.last_key = last;
  return page;
}

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_STORE_H_
