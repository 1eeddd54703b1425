#include "store/audit_log.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "aftersales/v1/events.pb.h"
#include "store/keys.h"
#include "store/store.h"

namespace aftersales::store {
namespace {

// The WriteBatch header RocksDB puts before the records: fixed64 sequence,
// fixed32 count (little-endian), the WAL's batch format since LevelDB.
constexpr size_t kBatchHeader = 12;
// Writers one leader takes at most, bounding a group's latency.
constexpr size_t kMaxGroup = 256;

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view View(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

// SHA-256 fetched from the default provider once: EVP_sha256() makes OpenSSL
// 3 look the implementation up again on every DigestInit (two per commit).
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr) std::abort();  // no SHA-256 in the default provider
    return m;
  }();
  return md;
}

class Sha256Hasher {
 public:
  Sha256Hasher() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, Sha256Md(), nullptr); }
  ~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  // A length-prefixed field, so ("ab","c") and ("a","bc") hash differently.
  void Field(absl::string_view data) {
    const uint32_t n = static_cast<uint32_t>(data.size());
    const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                         static_cast<char>(n >> 8), static_cast<char>(n)};
    Update(absl::string_view(len, 4));
    Update(data);
  }
  std::string Finish() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return std::string(reinterpret_cast<char*>(out), n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Digest and summary of one batch: every operation in batch order as
// tag, family name, key, value (length-prefixed), hashed with SHA-256; the
// action names the events appended and the changes per column family.
class Summarizer : public rocksdb::WriteBatch::Handler {
 public:
  Summarizer(const std::map<uint32_t, std::string>& names, uint32_t events_cf_id)
      : names_(names), events_cf_id_(events_cf_id) {}

  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    Op('P', cf, key, value, /*put=*/true);
    if (cf == events_cf_id_) {
      v1::Event event;
      if (event.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        const auto* field =
            v1::Event::descriptor()->FindFieldByNumber(event.body_case());
        absl::StrAppend(&events_, events_.empty() ? "" : " ",
                        field ? field->name() : "event", "#", event.seq());
        if (subject_id_.empty()) subject_id_ = event.subject_id();
      }
    }
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    Op('D', cf, key, rocksdb::Slice(), false);
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    Op('S', cf, key, rocksdb::Slice(), false);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteRangeCF(uint32_t cf, const rocksdb::Slice& begin,
                                const rocksdb::Slice& end) override {
    Op('R', cf, begin, end, false);
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t cf, const rocksdb::Slice& key,
                          const rocksdb::Slice& value) override {
    Op('M', cf, key, value, true);
    return rocksdb::Status::OK();
  }

  // Fills payload_sha256, subject_id and action of `record`.
  void Finish(v1::AuditRecord* record) {
    record->set_payload_sha256(hasher_.Finish());
    record->set_subject_id(subject_id_.substr(0, kMaxSubject));
    std::string action = events_;
    if (!action.empty()) action += "; ";
    bool first = true;
    for (auto& [name, ops] : families_) {
      absl::StrAppend(&action, first ? "" : " ", name);
      if (ops.first) absl::StrAppend(&action, "+", ops.first);
      if (ops.second) absl::StrAppend(&action, "-", ops.second);
      first = false;
    }
    if (action.size() > kMaxAction) action = action.substr(0, kMaxAction - 3) + "...";
    record->set_action(action);
  }

 private:
  static constexpr size_t kMaxSubject = 128;
  static constexpr size_t kMaxAction = 256;

  void Op(char tag, uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value,
          bool put) {
    auto it = names_.find(cf);
    const std::string name = it == names_.end() ? absl::StrCat("#", cf) : it->second;
    hasher_.Update(absl::string_view(&tag, 1));
    hasher_.Field(name);
    hasher_.Field(View(key));
    hasher_.Field(View(value));
    auto& ops = families_[name];
    (put ? ops.first : ops.second)++;
  }

  const std::map<uint32_t, std::string>& names_;
  const uint32_t events_cf_id_;
  Sha256Hasher hasher_;
  std::string events_;
  std::string subject_id_;
  std::map<std::string, std::pair<uint32_t, uint32_t>> families_;  // puts, deletes
};

void HashU64(Sha256Hasher& h, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
  h.Update(absl::string_view(b, 8));
}

void HashTimestamp(Sha256Hasher& h, const google::protobuf::Timestamp& t) {
  HashU64(h, static_cast<uint64_t>(t.seconds()));
  HashU64(h, static_cast<uint64_t>(static_cast<int64_t>(t.nanos())));
}

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

}  // namespace

std::string Sha256(absl::string_view data) {
  Sha256Hasher h;
  h.Update(data);
  return h.Finish();
}

std::string AuditRecordHash(const v1::AuditRecord& r) {
  Sha256Hasher h;
  h.Update(r.prev_hash());
  h.Update("aftersales.audit.v1");
  HashU64(h, r.seq());
  HashTimestamp(h, r.recorded_at());
  const v1::Actor& a = r.actor();
  h.Field(a.principal_id());
  HashU64(h, static_cast<uint64_t>(a.role()));
  HashTimestamp(h, a.server_time());
  HashTimestamp(h, a.device_time());
  h.Field(a.reason());
  h.Field(a.cause_ref());
  h.Field(r.subject_id());
  h.Field(r.action());
  h.Field(r.payload_sha256());
  return h.Finish();
}

struct AuditLog::Writer {
  const rocksdb::WriteBatch* batch = nullptr;
  bool sync = true;        // this writer needs its write synced
  v1::AuditRecord record;  // summary; seq, time and hashes set by the leader
  absl::Status status;
  bool synced = false;     // the group's write was synced
  bool done = false;
  // WriteAsync writers only: the batch they own, and what to call when the
  // group is written (the Writer is then deleted by the leader).
  std::unique_ptr<rocksdb::WriteBatch> owned;
  std::function<void(absl::Status, bool synced)> done_fn;
};

AuditLog::~AuditLog() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (committer_.joinable()) committer_.join();
  // The committer stops once no asynchronous writer is first in the queue; one
  // queued behind a synchronous writer's full group (kMaxGroup) would be left.
  // Nobody writes while the log is destroyed, so write any such rest here.
  mu_.Lock();
  while (!queue_.empty() && !leader_active_) {
    LeadGroup(rocksdb::WriteOptions());  // unlocks mu_
    mu_.Lock();
  }
  mu_.Unlock();
}

absl::Status AuditLog::Summarize(const rocksdb::WriteBatch& batch, absl::string_view principal,
                                 Writer& w) const {
  if (batch.GetDataSize() < kBatchHeader) {
    return absl::InternalError("audit log: write batch without a header");
  }
  w.batch = &batch;
  // The digest is computed here, in the caller's thread, in parallel with
  // other writers; the leader only chains.
  Summarizer summarizer(family_names_, events_cf_id_);
  rocksdb::Status s = batch.Iterate(&summarizer);
  if (!s.ok()) return FromRocks(s);
  summarizer.Finish(&w.record);
  if (!principal.empty()) w.record.mutable_actor()->set_principal_id(std::string(principal));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(
    rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
    std::map<uint32_t, std::string> family_names, uint32_t events_cf_id) {
  std::unique_ptr<AuditLog> log(
      new AuditLog(db, cf, std::move(family_names), events_cf_id));
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  it->SeekToLast();
  AuditHead head;
  if (it->Valid()) {
    auto seq = DecodeU64(View(it->key()));
    if (!seq) return absl::DataLossError("audit log: malformed key of the last record");
    head.seq = *seq;
    v1::AuditRecord record;
    if (record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) &&
        record.hash().size() == kAuditHashBytes) {
      head.hash = record.hash();
      head.commit_time = absl::FromUnixSeconds(record.recorded_at().seconds()) +
                         absl::Nanoseconds(record.recorded_at().nanos());
    } else {
      // A damaged last record: keep chaining after it (on a hash of its
      // bytes) so the service still starts; Verify reports the damage.
      head.hash = Sha256(View(it->value()));
    }
  }
  if (!it->status().ok()) return FromRocks(it->status());
  absl::MutexLock lock(&log->mu_);
  log->head_ = head;
  return log;
}

absl::Status AuditLog::Write(const rocksdb::WriteOptions& options,
                             const rocksdb::WriteBatch& batch,
                             absl::string_view principal, bool* synced) {
  if (synced != nullptr) *synced = false;
  Writer w;
  w.sync = options.sync;
  if (absl::Status s = Summarize(batch, principal, w); !s.ok()) return s;

  mu_.Lock();
  queue_.push_back(&w);
  auto my_turn = [this, &w]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return w.done || (!leader_active_ && queue_.front() == &w);
  };
  mu_.Await(absl::Condition(&my_turn));
  if (!w.done) LeadGroup(options);  // unlocks mu_; sets w.done
  else mu_.Unlock();
  if (synced != nullptr) *synced = w.status.ok() && w.synced;
  return w.status;
}

void AuditLog::WriteAsync(const rocksdb::WriteOptions& options,
                          std::unique_ptr<rocksdb::WriteBatch> batch,
                          absl::string_view principal,
                          std::function<void(absl::Status, bool synced)> done) {
  auto w = std::make_unique<Writer>();
  w->sync = options.sync;
  if (absl::Status s = Summarize(*batch, principal, *w); !s.ok()) {
    done(s, false);
    return;
  }
  w->owned = std::move(batch);
  w->done_fn = std::move(done);
  absl::MutexLock lock(&mu_);
  if (!committer_.joinable()) committer_ = std::thread([this, options] { CommitterLoop(options); });
  queue_.push_back(w.release());
}

void AuditLog::CommitterLoop(rocksdb::WriteOptions options) {
  // Leads every group whose first writer is asynchronous (a synchronous
  // writer at the front leads its group itself, as in Write).
  mu_.Lock();
  for (;;) {
    auto async_first = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !leader_active_ && !queue_.empty() && queue_.front()->done_fn != nullptr;
    };
    auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || async_first(); };
    mu_.Await(absl::Condition(&wake));
    if (async_first()) {
      LeadGroup(options);  // unlocks mu_
      mu_.Lock();
      continue;
    }
    break;  // stopping, and no asynchronous writer is left waiting
  }
  mu_.Unlock();
}

void AuditLog::LeadGroup(const rocksdb::WriteOptions& options) {
  // Take the queue (in arrival order) and write it as one group.
  leader_active_ = true;
  std::vector<Writer*> group;
  while (!queue_.empty() && group.size() < kMaxGroup) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  AuditHead head = head_;
  mu_.Unlock();

  const absl::Time now = absl::Now();
  google::protobuf::Timestamp now_proto;
  {
    const int64_t micros = absl::ToUnixMicros(now);
    now_proto.set_seconds(micros / 1000000);
    now_proto.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  }
  std::string rep(kBatchHeader, '\0');
  uint64_t count = 0;
  bool group_sync = false;  // synced if any writer of the group needs it
  rocksdb::WriteBatch audit_part;
  for (Writer* g : group) {
    group_sync = group_sync || g->sync;
    const std::string& data = g->batch->Data();
    rep.append(data, kBatchHeader, std::string::npos);
    count += g->batch->Count();
    ++head.seq;
    g->record.set_seq(head.seq);
    *g->record.mutable_recorded_at() = now_proto;
    g->record.set_prev_hash(head.hash);
    g->record.set_hash(AuditRecordHash(g->record));
    head.hash = g->record.hash();
    audit_part.Put(cf_, ToSlice(EncodeU64(head.seq)),
                   ToSlice(g->record.SerializeAsString()));
  }
  head.commit_time = absl::FromUnixMicros(absl::ToUnixMicros(now));
  rep.append(audit_part.Data(), kBatchHeader, std::string::npos);
  count += audit_part.Count();
  for (int i = 0; i < 4; ++i) rep[8 + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  rocksdb::WriteBatch merged(std::move(rep));
  rocksdb::WriteOptions wo = options;
  wo.sync = group_sync;
  absl::Status status = FromRocks(db_->Write(wo, &merged));

  std::vector<Writer*> async;
  mu_.Lock();
  if (status.ok()) head_ = head;
  for (Writer* g : group) {
    g->status = status;
    g->synced = group_sync;
    if (g->done_fn) {
      async.push_back(g);
    } else {
      g->done = true;  // the writer may return (and free its Writer) from here on
    }
  }
  leader_active_ = false;
  mu_.Unlock();
  if (status.ok() && on_append_) on_append_(group.size());
  for (Writer* g : async) {
    g->done_fn(status, status.ok() && group_sync);
    delete g;
  }
}

AuditHead AuditLog::Head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

absl::StatusOr<std::vector<v1::AuditRecord>> AuditLog::List(
    uint64_t after_seq, size_t max, absl::string_view subject_id, size_t scan_limit,
    uint64_t* scanned_through) const {
  std::vector<v1::AuditRecord> out;
  if (scanned_through) *scanned_through = after_seq;
  if (max == 0 || after_seq == UINT64_MAX) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  size_t scanned = 0;
  for (it->Seek(ToSlice(EncodeU64(after_seq + 1)));
       it->Valid() && out.size() < max && (scan_limit == 0 || scanned < scan_limit);
       it->Next()) {
    auto seq = DecodeU64(View(it->key()));
    if (!seq) return absl::DataLossError("audit log: malformed key");
    ++scanned;
    if (scanned_through) *scanned_through = *seq;
    v1::AuditRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      // Listed as a bare seq; VerifyAuditChain says what is wrong with it.
      record.Clear();
      record.set_seq(*seq);
    }
    if (!subject_id.empty() && record.subject_id() != subject_id) continue;
    out.push_back(std::move(record));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  return out;
}

AuditVerifyResult AuditLog::Verify(const AuditVerifyOptions& options) const {
  return VerifyAuditChain(db_, cf_, options);
}

AuditVerifyResult VerifyAuditChain(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                   const AuditVerifyOptions& options) {
  AuditVerifyResult r;
  const uint64_t from = options.from_seq == 0 ? 1 : options.from_seq;
  r.first_seq = from;
  auto fail = [&r](uint64_t seq, v1::AuditFailure why, std::string detail) {
    r.ok = false;
    r.bad_seq = seq;
    r.failure = why;
    r.detail = std::move(detail);
    return r;
  };

  // An iterator reads one consistent snapshot, even while commits go on.
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  std::string prev = options.trusted_prev_hash;
  if (prev.empty()) {
    if (from == 1) {
      prev = std::string(kAuditHashBytes, '\0');
    } else {
      it->Seek(ToSlice(EncodeU64(from - 1)));
      v1::AuditRecord start;
      if (!it->Valid() || View(it->key()) != EncodeU64(from - 1)) {
        if (!it->status().ok()) {
          return fail(from - 1, v1::AUDIT_FAILURE_READ_ERROR, it->status().ToString());
        }
        return fail(from - 1, v1::AUDIT_FAILURE_SEQ_GAP,
                    absl::StrCat("record ", from - 1, " (the starting point) is missing"));
      }
      if (!start.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return fail(from - 1, v1::AUDIT_FAILURE_UNPARSEABLE,
                    absl::StrCat("record ", from - 1, " is not an audit record"));
      }
      prev = start.hash();
    }
  }
  r.last_hash = prev;

  uint64_t expected = from;
  bool reached_end = true;
  for (it->Seek(ToSlice(EncodeU64(from))); it->Valid(); it->Next()) {
    if (options.max_records != 0 && r.records_checked >= options.max_records) {
      reached_end = false;
      break;
    }
    auto seq = DecodeU64(View(it->key()));
    if (!seq) {
      return fail(expected, v1::AUDIT_FAILURE_UNPARSEABLE,
                  absl::StrCat("malformed key after record ", expected - 1));
    }
    if (*seq != expected) {
      return fail(expected, v1::AUDIT_FAILURE_SEQ_GAP,
                  absl::StrCat("record ", expected, " is missing; the next stored record is ",
                               *seq));
    }
    v1::AuditRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return fail(expected, v1::AUDIT_FAILURE_UNPARSEABLE,
                  absl::StrCat("record ", expected, " is not an audit record"));
    }
    if (record.seq() != expected) {
      return fail(expected, v1::AUDIT_FAILURE_SEQ_MISMATCH,
                  absl::StrCat("the record stored as ", expected, " says it is ",
                               record.seq()));
    }
    const std::string hash = AuditRecordHash(record);
    if (hash != record.hash()) {
      return fail(expected, v1::AUDIT_FAILURE_HASH_MISMATCH,
                  absl::StrCat("record ", expected, ": its fields hash to ", Hex(hash),
                               ", the stored hash is ", Hex(record.hash())));
    }
    if (record.prev_hash() != prev) {
      return fail(expected, v1::AUDIT_FAILURE_PREV_HASH_MISMATCH,
                  absl::StrCat("record ", expected, ": prev_hash ", Hex(record.prev_hash()),
                               " is not the hash of record ", expected - 1, " (",
                               Hex(prev), ")"));
    }
    if (options.anchor_seq == expected && record.hash() != options.anchor_hash) {
      return fail(expected, v1::AUDIT_FAILURE_ANCHOR_MISMATCH,
                  absl::StrCat("record ", expected, " has hash ", Hex(record.hash()),
                               ", the anchor says ", Hex(options.anchor_hash)));
    }
    prev = record.hash();
    r.last_seq = expected;
    r.last_hash = prev;
    ++r.records_checked;
    ++expected;
  }
  if (!it->status().ok()) {
    return fail(expected, v1::AUDIT_FAILURE_READ_ERROR, it->status().ToString());
  }
  if (reached_end && options.anchor_seq >= expected) {
    return fail(expected, v1::AUDIT_FAILURE_ANCHOR_MISSING,
                absl::StrCat("the chain ends at record ", expected - 1,
                             " before the anchored record ", options.anchor_seq));
  }
  return r;
}

}  // namespace aftersales::store
