#include "store/store.h"

#include "store/audit_log.h"
#include "store/principal_scope.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"

namespace aftersales::store {
namespace {

constexpr absl::string_view kEventsFamily = "events";
constexpr absl::string_view kMetaFamily = "meta";

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

rocksdb::ColumnFamilyOptions FamilyOptions(
    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks live in the (bounded) block cache, so memory does
  // not grow with the data. With one index block per SST file, a file of
  // tens of MB has an index block of hundreds of KB: once the cache could no
  // longer hold them all, a point read re-read and re-parsed whole index
  // blocks, and reads grew slower with the data (a million-complaint load
  // spent 77% of its time there). Partitioned index and filters (RocksDB's
  // answer for large data in little memory) read only a 4 KB partition; the
  // top level stays pinned, and Bloom filters skip files without the key
  // (most reads of a new order or complaint look up keys that do not exist).
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_top_level_index_and_filter = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Small memtables: a service holds many families and must stay lean.
  cf.write_buffer_size = 8 << 20;
  cf.max_write_buffer_number = 3;
  return cf;
}

// The seqs first .. first + n - 1.
std::vector<uint64_t> SeqRange(uint64_t first, size_t n) {
  std::vector<uint64_t> seqs;
  seqs.reserve(n);
  for (size_t i = 0; i < n; ++i) seqs.push_back(first + i);
  return seqs;
}

// Numbers `events` from `first` on and adds each to `writes` under its seq in
// the event log family `events_cf` (Commit and CommitAsync).
void PutEvents(std::vector<v1::Event>& events, uint64_t first,
               rocksdb::ColumnFamilyHandle* events_cf, rocksdb::WriteBatch& writes) {
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].set_seq(first + i);
    writes.Put(events_cf, ToSlice(EncodeU64(first + i)),
               ToSlice(events[i].SerializeAsString()));
  }
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsIOError()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

void Batch::Put(rocksdb::ColumnFamilyHandle* cf, absl::string_view key,
                absl::string_view value) {
  writes_.Put(cf, ToSlice(key), ToSlice(value));
  ++ops_;
}

void Batch::Delete(rocksdb::ColumnFamilyHandle* cf, absl::string_view key) {
  writes_.Delete(cf, ToSlice(key));
  ++ops_;
}

void Batch::AppendEvent(v1::Event event) { events_.push_back(std::move(event)); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const Options& options) {
  std::unique_ptr<Store> store(new Store());
  store->path_ = options.path;
  store->sync_ = options.sync;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  db_options.max_total_wal_size = 64 << 20;
  // One memtable budget for all column families (a service has ~15; at
  // 3 x 8 MB each they could hold 360 MB): past it RocksDB flushes the
  // largest. Without it intake reached 664 MB RSS while bulk-loading 1M
  // orders (docs/benchmarks.md).
  db_options.db_write_buffer_size = 64 << 20;
  // The default, stated because CommitDeferred relies on it: recovery replays
  // the WAL up to the first damaged record, i.e. a crash keeps a prefix of
  // the writes (docs/reliability.md, deferred sync of event consumers).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // After a crash, serve as soon as the WAL is replayed into memtables
  // instead of first writing them out as (small) SST files; the WAL files
  // are kept until a normal flush covers them.
  db_options.avoid_flush_during_recovery = true;

  // Half of the cache is kept for index and filter partitions (high
  // priority), so a scan over data blocks cannot evict them all.
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes, /*num_shard_bits=*/-1,
                                    /*strict_capacity_limit=*/false,
                                    /*high_pri_pool_ratio=*/0.5);
  std::set<std::string> names = {std::string(rocksdb::kDefaultColumnFamilyName),
                                 std::string(kEventsFamily),
                                 std::string(kMetaFamily)};
  if (options.audit) names.insert(std::string(kAuditFamily));
  names.insert(options.column_families.begin(), options.column_families.end());
  // Families that exist on disk must be opened too, even if no longer used.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) {
    names.insert(existing.begin(), existing.end());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, FamilyOptions(cache));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors,
                                        &store->handles_, &raw);
  if (!s.ok()) {
    return absl::Status(FromRocks(s).code(),
                        absl::StrCat("open ", options.path, ": ", s.ToString()));
  }
  store->db_.reset(raw);
  for (rocksdb::ColumnFamilyHandle* h : store->handles_) {
    store->families_[h->GetName()] = h;
  }
  store->events_cf_ = store->Family(kEventsFamily);
  store->meta_cf_ = store->Family(kMetaFamily);
  if (options.audit) {
    std::map<uint32_t, std::string> ids;
    for (rocksdb::ColumnFamilyHandle* h : store->handles_) ids[h->GetID()] = h->GetName();
    auto audit = AuditLog::Open(store->db_.get(), store->Family(kAuditFamily),
                                std::move(ids), store->events_cf_->GetID());
    if (!audit.ok()) return audit.status();
    store->audit_ = *std::move(audit);
  }

  // Resume seq numbering after the last durable event.
  std::unique_ptr<rocksdb::Iterator> it(
      store->db_->NewIterator(rocksdb::ReadOptions(), store->events_cf_));
  it->SeekToLast();
  uint64_t last = 0;
  if (it->Valid()) {
    auto seq = DecodeU64(absl::string_view(it->key().data(), it->key().size()));
    if (!seq) return absl::DataLossError("malformed event log key");
    last = *seq;
  }
  if (!it->status().ok()) return FromRocks(it->status());
  {
    absl::MutexLock lock(&store->seq_mu_);
    store->next_seq_ = last + 1;
    store->visible_seq_ = last;
  }
  return store;
}

Store::~Store() {
  if (!db_) return;
  // Completes the queued CommitAsync writes (their callbacks run) while the
  // database is still open.
  audit_.reset();
  // A clean stop leaves nothing in the WAL to replay: without this flush the
  // next start replayed up to the 64 MB memtable budget first (satisfaction
  // with 1M surveys: 2.6 s of its 3.2 s to SERVING, docs/capacity.md).
  rocksdb::FlushOptions flush;
  flush.allow_write_stall = true;
  if (rocksdb::Status f = db_->Flush(flush, handles_); !f.ok()) {
    std::cerr << "store: flush at close failed (the WAL still has it): " << f.ToString()
              << std::endl;
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::Status Store::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw)); !s.ok()) {
    return s;
  }
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  rocksdb::Status s = checkpoint->CreateCheckpoint(dir);
  if (s.IsInvalidArgument() && s.ToString().find("exists") != std::string::npos) {
    return absl::AlreadyExistsError(absl::StrCat("checkpoint ", dir, " already exists"));
  }
  return FromRocks(s);
}

rocksdb::ColumnFamilyHandle* Store::Family(absl::string_view name) const {
  auto it = families_.find(name);
  if (it == families_.end()) {
    std::cerr << "store: unknown column family " << name << std::endl;
    std::abort();
  }
  return it->second;
}

absl::Status Store::Write(rocksdb::WriteBatch* batch, absl::string_view principal,
                          bool sync, bool* synced) {
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  // No principal from the batch: the thread's (an RPC's caller, a consumer).
  if (principal.empty()) principal = CurrentPrincipal();
  // With the audit log on, the log orders and groups the writes (one synced
  // RocksDB write per group, each batch with its chained audit record).
  if (audit_) return audit_->Write(wo, *batch, principal, synced);
  absl::Status s = FromRocks(db_->Write(wo, batch));
  if (synced != nullptr) *synced = s.ok() && sync;
  return s;
}

void Store::FinishSeqs(const std::vector<uint64_t>& seqs) {
  // Seqs become visible once everything below them has finished. A failed
  // write leaves a hole, which readers skip; seqs never repeat.
  finished_above_visible_.insert(seqs.begin(), seqs.end());
  while (!finished_above_visible_.empty() &&
         *finished_above_visible_.begin() == visible_seq_ + 1) {
    finished_above_visible_.erase(finished_above_visible_.begin());
    ++visible_seq_;
  }
}

absl::Status Store::Commit(Batch& batch) { return CommitImpl(batch, false); }

absl::Status Store::CommitDeferred(Batch& batch) { return CommitImpl(batch, true); }

absl::Status Store::SyncDeferred() {
  std::vector<uint64_t> seqs;
  uint64_t target;
  {
    absl::MutexLock lock(&seq_mu_);
    target = deferred_writes_;
    if (synced_writes_ >= target && unsynced_seqs_.empty()) return absl::OkStatus();
    seqs.swap(unsynced_seqs_);
  }
  // FlushWAL(true) = write RocksDB's WAL buffer to the file (a no-op unless
  // manual_wal_flush is set) and SyncWAL(): fsync of every live WAL file up
  // to the current one, so also files a memtable switch closed meanwhile.
  absl::Status s = sync_ ? FromRocks(db_->FlushWAL(/*sync=*/true)) : absl::OkStatus();
  absl::MutexLock lock(&seq_mu_);
  if (!s.ok()) {
    // Not durable as far as we know: keep them unpublished for a later sync.
    unsynced_seqs_.insert(unsynced_seqs_.end(), seqs.begin(), seqs.end());
    return s;
  }
  synced_writes_ = std::max(synced_writes_, target);
  FinishSeqs(seqs);
  return absl::OkStatus();
}

absl::Status Store::CommitImpl(Batch& batch, bool deferred) {
  batch.assigned_seqs_.clear();
  const size_t n = batch.events_.size();
  const bool sync = sync_ && !deferred;
  bool synced = false;
  if (n == 0) {
    if (batch.ops_ == 0) return absl::OkStatus();
    absl::Status s = Write(&batch.writes_, batch.principal_, sync, &synced);
    if (s.ok() && deferred && !synced) {
      absl::MutexLock lock(&seq_mu_);
      ++deferred_writes_;
    }
    return s;
  }

  uint64_t first;
  {
    absl::MutexLock lock(&seq_mu_);
    first = next_seq_;
    next_seq_ += n;
  }
  // Copy so a failed commit leaves the batch as the caller built it.
  rocksdb::WriteBatch writes(batch.writes_.Data());
  PutEvents(batch.events_, first, events_cf_, writes);
  absl::Status status = Write(&writes, batch.principal_, sync, &synced);

  const std::vector<uint64_t> seqs = SeqRange(first, n);
  {
    absl::MutexLock lock(&seq_mu_);
    if (status.ok() && deferred && sync_ && !synced) {
      // Written but maybe not durable: published by the next SyncDeferred.
      ++deferred_writes_;
      unsynced_seqs_.insert(unsynced_seqs_.end(), seqs.begin(), seqs.end());
    } else {
      // Durable, or failed (nothing written: a hole).
      FinishSeqs(seqs);
    }
  }
  if (status.ok()) batch.assigned_seqs_ = seqs;
  return status;
}

void Store::CommitAsync(Batch batch, CommitCallback done) {
  // std::function needs a copyable callable: the batch travels in a shared_ptr.
  auto held = std::make_shared<Batch>(std::move(batch));
  held->assigned_seqs_.clear();
  const size_t n = held->events_.size();
  if (n == 0 && held->ops_ == 0) {
    done(absl::OkStatus(), *held);
    return;
  }
  uint64_t first = 0;
  if (n > 0) {
    absl::MutexLock lock(&seq_mu_);
    first = next_seq_;
    next_seq_ += n;
  }
  auto writes = std::make_unique<rocksdb::WriteBatch>(held->writes_.Data());
  PutEvents(held->events_, first, events_cf_, *writes);
  auto finish = [this, held, seqs = SeqRange(first, n), done = std::move(done)](
                    absl::Status status, bool) {
    if (!seqs.empty()) {
      // Synced (or failed, leaving a hole): published at once, as by Commit.
      absl::MutexLock lock(&seq_mu_);
      FinishSeqs(seqs);
    }
    if (status.ok()) held->assigned_seqs_ = seqs;
    done(status, *held);
  };
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  if (!audit_) {
    finish(FromRocks(db_->Write(wo, writes.get())), sync_);
    return;
  }
  // The principal is the caller's (this thread's), not the leader's.
  const std::string principal =
      held->principal_.empty() ? CurrentPrincipal() : held->principal_;
  audit_->WriteAsync(wo, std::move(writes), principal, std::move(finish));
}

absl::StatusOr<std::optional<std::string>> Store::Get(
    rocksdb::ColumnFamilyHandle* cf, absl::string_view key) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s);
  return std::optional<std::string>(std::move(value));
}

absl::Status Store::Scan(
    rocksdb::ColumnFamilyHandle* cf, absl::string_view start,
    absl::string_view end,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper = ToSlice(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf));
  for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
    if (!visit(absl::string_view(it->key().data(), it->key().size()),
               absl::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  return FromRocks(it->status());
}

absl::StatusOr<std::vector<v1::Event>> Store::ReadEvents(uint64_t after_seq,
                                                         size_t max) const {
  const uint64_t head = HeadSeq();
  std::vector<v1::Event> out;
  if (after_seq >= head || max == 0) return out;
  const std::string start = EncodeU64(after_seq + 1);
  const std::string end = EncodeU64(head + 1);
  absl::Status parse_status;
  absl::Status s = Scan(events_cf_, start, end,
                        [&](absl::string_view, absl::string_view value) {
                          v1::Event e;
                          if (!e.ParseFromArray(value.data(),
                                                static_cast<int>(value.size()))) {
                            parse_status =
                                absl::DataLossError("unparseable event in log");
                            return false;
                          }
                          out.push_back(std::move(e));
                          return out.size() < max;
                        });
  if (!s.ok()) return s;
  if (!parse_status.ok()) return parse_status;
  return out;
}

uint64_t Store::HeadSeq() const {
  absl::MutexLock lock(&seq_mu_);
  return visible_seq_;
}

bool Store::WaitForEvents(uint64_t after_seq, absl::Duration timeout) const {
  absl::MutexLock lock(&seq_mu_);
  auto has_more = [this, after_seq]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(seq_mu_) {
    return visible_seq_ > after_seq;
  };
  return seq_mu_.AwaitWithTimeout(absl::Condition(&has_more), timeout);
}

void Store::PutMeta(Batch& batch, absl::string_view key, absl::string_view value) {
  batch.Put(meta_cf_, key, value);
}

absl::StatusOr<std::optional<std::string>> Store::GetMeta(
    absl::string_view key) const {
  return Get(meta_cf_, key);
}

void Index::Add(Batch& batch, absl::string_view value,
                absl::string_view primary_key) const {
  batch.Put(cf_, CompositeKey({value, primary_key}), "");
}

void Index::Remove(Batch& batch, absl::string_view value,
                   absl::string_view primary_key) const {
  batch.Delete(cf_, CompositeKey({value, primary_key}));
}

absl::StatusOr<std::vector<std::string>> Index::Lookup(
    absl::string_view value, size_t limit,
    absl::string_view after_primary_key) const {
  std::string prefix(value);
  prefix.push_back('\0');
  std::string start = prefix;
  if (!after_primary_key.empty()) {
    start.append(after_primary_key.data(), after_primary_key.size());
    start.push_back('\0');  // the smallest key after it
  }
  std::vector<std::string> keys;
  absl::Status s = store_->Scan(
      cf_, start, PrefixSuccessor(prefix),
      [&](absl::string_view key, absl::string_view) {
        if (keys.size() >= limit) return false;
        keys.emplace_back(key.substr(prefix.size()));
        return true;
      });
  if (!s.ok()) return s;
  return keys;
}

}  // namespace aftersales::store
