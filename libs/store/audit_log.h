#ifndef AFTERSALES_LIBS_STORE_AUDIT_LOG_H_
#define AFTERSALES_LIBS_STORE_AUDIT_LOG_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace aftersales::store {

// The column family the store creates for the audit log (besides "events"
// and "meta"); keys are EncodeU64(seq), values serialized v1::AuditRecord
// (common.proto) with its hash set.
inline constexpr absl::string_view kAuditFamily = "audit";
inline constexpr size_t kAuditHashBytes = 32;

// The newest record of the chain.
struct AuditHead {
  uint64_t seq = 0;  // 0 = empty chain
  std::string hash = std::string(kAuditHashBytes, '\0');
  absl::Time commit_time = absl::UnixEpoch();
};

struct AuditVerifyOptions {
  uint64_t from_seq = 1;  // 0 is read as 1
  // Hash of record from_seq - 1 from a trusted checkpoint. Empty: the genesis
  // (zeros) when from_seq is 1, else the stored hash of from_seq - 1.
  std::string trusted_prev_hash;
  // A head exported earlier (GetAuditHead) the chain must still contain.
  uint64_t anchor_seq = 0;
  std::string anchor_hash;
  uint64_t max_records = 0;  // 0 = up to the head
};

struct AuditVerifyResult {
  bool ok = true;
  uint64_t records_checked = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;  // last record found good
  std::string last_hash;
  uint64_t bad_seq = 0;  // first broken record (0 when ok)
  v1::AuditFailure failure = v1::AUDIT_FAILURE_NONE;
  std::string detail;
};

// The hash-chained audit log of one store (docs/audit.md). Every write of the
// store goes through Write, which adds one AuditRecord to the batch and
// writes both in one RocksDB write. Concurrent writers are grouped: the first
// waiting writer leads, assigns the group's seqs and chain hashes in queue
// order and writes the whole group as one RocksDB batch, so the chain order
// is the commit order and one fsync serves the group. The group is synced if
// ANY of its writers asked for sync (an unsynced writer of Store::
// CommitDeferred may thus ride along a synced group). Thread-safe.
class AuditLog {
 public:
  // Recovers the chain head from the last record in `cf`. `family_names`
  // maps column family ids to names (for the per-family op counts);
  // `events_cf_id` is the id of the event log's family (event types).
  static absl::StatusOr<std::unique_ptr<AuditLog>> Open(
      rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
      std::map<uint32_t, std::string> family_names, uint32_t events_cf_id);

  // Writes `batch` plus its audit record atomically with `options` (sync),
  // in chain order. On failure nothing of it is written and the chain head
  // does not move. `*synced` (optional) is set to whether the write was
  // synced: true when options.sync was, or when its group was synced anyway.
  absl::Status Write(const rocksdb::WriteOptions& options,
                     const rocksdb::WriteBatch& batch, absl::string_view principal,
                     bool* synced = nullptr);

  // Write without waiting: `batch` joins the queue like Write's and `done`
  // is called once its group is written (synced if options.sync), with the
  // status and whether it was synced, on the thread that led the group: the
  // log's committer thread (started on first use), or a Write caller whose
  // group it joined. `done` must not call Write (it may run on a leader).
  // So a caller's thread is not parked per write (store::Store::CommitAsync).
  void WriteAsync(const rocksdb::WriteOptions& options,
                  std::unique_ptr<rocksdb::WriteBatch> batch, absl::string_view principal,
                  std::function<void(absl::Status, bool synced)> done);

  // Completes queued asynchronous writes, then stops the committer thread.
  ~AuditLog();

  AuditHead Head() const;

  // Stored records with seq > after_seq, ascending, at most `max`, of the
  // first `scan_limit` records looked at (0 = no limit) whose subject_id is
  // `subject_id` ("" = any). `*scanned_through` = the last seq looked at.
  absl::StatusOr<std::vector<v1::AuditRecord>> List(
      uint64_t after_seq, size_t max, absl::string_view subject_id = "",
      size_t scan_limit = 0, uint64_t* scanned_through = nullptr) const;

  AuditVerifyResult Verify(const AuditVerifyOptions& options) const;

  // Called after each successful group write with the number of records it
  // appended (metrics). Set before the store is shared between threads.
  void SetOnAppend(std::function<void(uint64_t records)> hook) {
    on_append_ = std::move(hook);
  }

 private:
  struct Writer;
  AuditLog(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
           std::map<uint32_t, std::string> family_names, uint32_t events_cf_id)
      : db_(db), cf_(cf), family_names_(std::move(family_names)),
        events_cf_id_(events_cf_id) {}

  // The audit record's digest of `batch` (the caller's thread); sets w.batch.
  absl::Status Summarize(const rocksdb::WriteBatch& batch, absl::string_view principal,
                         Writer& w) const;
  // Writes the queue's first writers as one group and completes them. Called
  // with mu_ held by the group's leader; returns with mu_ released.
  void LeadGroup(const rocksdb::WriteOptions& options) ABSL_UNLOCK_FUNCTION(mu_);
  void CommitterLoop(rocksdb::WriteOptions options);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const std::map<uint32_t, std::string> family_names_;
  const uint32_t events_cf_id_;
  std::function<void(uint64_t)> on_append_;

  mutable absl::Mutex mu_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  bool leader_active_ ABSL_GUARDED_BY(mu_) = false;
  AuditHead head_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread committer_;  // started by the first WriteAsync
};

// Verifies the chain in `cf` of any open RocksDB (a store, or a copy opened
// by a tool): walks from options.from_seq, recomputing every hash, and
// reports the first broken record.
AuditVerifyResult VerifyAuditChain(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                   const AuditVerifyOptions& options);

// SHA-256 of `data` (32 raw bytes).
std::string Sha256(absl::string_view data);

// The chain hash of `record`: SHA-256(prev_hash || canonical encoding of
// fields 1..6), the encoding independent of protobuf (docs/audit.md), so an
// outside verifier can recompute it from ListAuditRecords in any language.
std::string AuditRecordHash(const v1::AuditRecord& record);

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_AUDIT_LOG_H_
