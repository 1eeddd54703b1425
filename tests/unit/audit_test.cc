// The hash-chained audit log of libs/store (store/audit_log.h) against real
// RocksDB directories: growth, concurrency, reopen, a SIGKILLed writer, and
// tampering with records on disk.
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "aftersales/v1/intake.pb.h"
#include "catch2/catch.hpp"
#include "store/audit_log.h"
#include "store/principal_scope.h"
#include "store/store.h"
#include "support/test_support.h"
#include "unit/audit_tamper.h"

namespace aftersales::store {
namespace {

using testing::RawAuditDb;
using testing::TempDir;

std::unique_ptr<Store> OpenStore(const std::string& path) {
  Store::Options options;
  options.path = path;
  options.column_families = {"orders", "by_region"};
  auto store = Store::Open(options);
  REQUIRE(store.ok());
  return *std::move(store);
}

// One order with its event, as a service handler stages it.
absl::Status CommitOrder(Store& store, const std::string& id,
                         const std::string& principal = "") {
  v1::WorkOrder o;
  o.set_order_id(id);
  Batch b;
  b.Put(store.Family("orders"), id, o.SerializeAsString());
  b.Put(store.Family("by_region"), "R1/" + id, "");
  v1::Event e;
  e.set_producer("test");
  e.set_subject_id(id);
  *e.mutable_order_created()->mutable_order() = o;
  b.AppendEvent(e);
  if (!principal.empty()) b.SetPrincipal(principal);
  return store.Commit(b);
}

std::vector<v1::AuditRecord> All(const Store& store) {
  auto records = store.audit()->List(0, 1000000);
  REQUIRE(records.ok());
  return *records;
}

TEST_CASE("a commit without a principal of its own takes the thread's, scoped per thread") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  {
    PrincipalScope scope("consumer:intake");
    REQUIRE(CommitOrder(*store, "S1").ok());                  // the scope's
    REQUIRE(CommitOrder(*store, "S2", "partner-a").ok());     // the batch's wins
    std::thread other([&] { REQUIRE(CommitOrder(*store, "S3").ok()); });  // not inherited
    other.join();
    {
      PrincipalScope inner("system:sweep");
      REQUIRE(CommitOrder(*store, "S4").ok());
    }
    REQUIRE(CommitOrder(*store, "S5").ok());  // the outer one again
  }
  REQUIRE(CommitOrder(*store, "S6").ok());  // restored: none
  SetCurrentPrincipal("agent-1");           // what AuthorizeCall does per call
  REQUIRE(CommitOrder(*store, "S7").ok());
  SetCurrentPrincipal("");
  std::map<std::string, std::string> by_subject;
  for (const auto& r : All(*store)) by_subject[r.subject_id()] = r.actor().principal_id();
  CHECK(by_subject == std::map<std::string, std::string>{
                          {"S1", "consumer:intake"}, {"S2", "partner-a"}, {"S3", ""},
                          {"S4", "system:sweep"}, {"S5", "consumer:intake"}, {"S6", ""},
                          {"S7", "agent-1"}});
}

// A store with `n` committed orders O1..On, closed again.
void Seed(const std::string& path, int n) {
  auto store = OpenStore(path);
  for (int i = 1; i <= n; ++i) REQUIRE(CommitOrder(*store, "O" + std::to_string(i)).ok());
}

void ExpectBrokenAt(const AuditVerifyResult& v, uint64_t seq, v1::AuditFailure why) {
  INFO(v.detail);
  CHECK_FALSE(v.ok);
  CHECK(v.bad_seq == seq);
  CHECK(v1::AuditFailure_Name(v.failure) == v1::AuditFailure_Name(why));
}

AuditVerifyResult VerifyAt(const std::string& path, AuditVerifyOptions options = {}) {
  auto store = OpenStore(path);
  return store->audit()->Verify(options);
}

TEST_CASE("every commit appends one chained audit record describing it") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  REQUIRE(store->audit() != nullptr);
  CHECK(store->audit()->Head().seq == 0);
  CHECK(store->audit()->Head().hash == std::string(32, '\0'));

  REQUIRE(CommitOrder(*store, "A1", "agent:alice").ok());
  REQUIRE(CommitOrder(*store, "A2").ok());
  Batch meta_only;  // no events: still a state change, still audited
  store->PutMeta(meta_only, "cursor", "7");
  REQUIRE(store->Commit(meta_only).ok());
  Batch empty;  // nothing to write: no record
  REQUIRE(store->Commit(empty).ok());
  Batch deletes;
  deletes.Delete(store->Family("orders"), "A1");
  REQUIRE(store->Commit(deletes).ok());

  const auto records = All(*store);
  REQUIRE(records.size() == 4);
  CHECK(store->audit()->Head().seq == 4);
  CHECK(store->audit()->Head().hash == records[3].hash());
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].seq() == i + 1);
    CHECK(records[i].hash().size() == 32);
    CHECK(records[i].payload_sha256().size() == 32);
    CHECK(records[i].hash() == AuditRecordHash(records[i]));
    CHECK(records[i].prev_hash() ==
          (i == 0 ? std::string(32, '\0') : records[i - 1].hash()));
    CHECK(records[i].recorded_at().seconds() > 0);
  }
  CHECK(records[0].actor().principal_id() == "agent:alice");
  CHECK(records[1].actor().principal_id().empty());
  CHECK(records[0].subject_id() == "A1");
  CHECK(records[0].action() == "order_created#1; by_region+1 events+1 orders+1");
  CHECK(records[1].action() == "order_created#2; by_region+1 events+1 orders+1");
  CHECK(records[2].action() == "meta+1");
  CHECK(records[3].action() == "orders-1");
  // Same writes, same digest; different writes, different digest.
  CHECK(records[0].payload_sha256() != records[1].payload_sha256());

  const AuditVerifyResult v = store->audit()->Verify({});
  CHECK(v.ok);
  CHECK(v.records_checked == 4);
  CHECK(v.last_seq == 4);
  CHECK(v.last_hash == records[3].hash());
  CHECK(v.bad_seq == 0);
}

TEST_CASE("concurrent commits from many threads make a gapless chain in commit order") {
  TempDir dir;
  auto store = OpenStore(dir.Sub("db"));
  constexpr int kThreads = 8, kPerThread = 60;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "T" + std::to_string(t) + "-" + std::to_string(i);
        if (!CommitOrder(*store, id).ok()) ++failures;
        // Once Commit returned, its record is in the chain.
        auto head = store->audit()->Head();
        auto mine = store->audit()->List(0, 1000000, id);
        if (!mine.ok() || mine->size() != 1 || (*mine)[0].seq() > head.seq) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);

  const auto records = All(*store);
  REQUIRE(records.size() == kThreads * kPerThread);
  std::map<int, int> next_of_thread;
  std::set<std::string> subjects;
  for (size_t i = 0; i < records.size(); ++i) {
    REQUIRE(records[i].seq() == i + 1);
    subjects.insert(records[i].subject_id());
    // Each thread's commits appear in the order it made them.
    const std::string& s = records[i].subject_id();
    const int t = std::stoi(s.substr(1, s.find('-') - 1));
    const int n = std::stoi(s.substr(s.find('-') + 1));
    CHECK(n == next_of_thread[t]);
    next_of_thread[t] = n + 1;
  }
  CHECK(subjects.size() == kThreads * kPerThread);
  const AuditVerifyResult v = store->audit()->Verify({});
  CHECK(v.ok);
  CHECK(v.records_checked == kThreads * kPerThread);
}

TEST_CASE("a reopened store continues the chain from its last record") {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Seed(path, 3);
  std::string hash3;
  {
    auto store = OpenStore(path);
    CHECK(store->audit()->Head().seq == 3);
    hash3 = store->audit()->Head().hash;
    REQUIRE(CommitOrder(*store, "O4").ok());
    REQUIRE(CommitOrder(*store, "O5").ok());
    const auto records = All(*store);
    REQUIRE(records.size() == 5);
    CHECK(records[3].prev_hash() == hash3);
    CHECK(store->audit()->Verify({}).ok);
  }
  auto store = OpenStore(path);
  CHECK(store->audit()->Head().seq == 5);
  CHECK(store->audit()->Verify({}).ok);
}

TEST_CASE("verification from a trusted checkpoint and against an exported head") {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Seed(path, 8);
  auto store = OpenStore(path);
  const auto records = All(*store);

  AuditVerifyOptions from5;
  from5.from_seq = 5;
  from5.trusted_prev_hash = records[3].hash();  // hash of record 4
  AuditVerifyResult v = store->audit()->Verify(from5);
  CHECK(v.ok);
  CHECK(v.first_seq == 5);
  CHECK(v.records_checked == 4);

  from5.trusted_prev_hash = std::string(32, 'x');  // a checkpoint that disagrees
  v = store->audit()->Verify(from5);
  ExpectBrokenAt(v, 5, v1::AUDIT_FAILURE_PREV_HASH_MISMATCH);

  AuditVerifyOptions some;
  some.max_records = 3;
  v = store->audit()->Verify(some);
  CHECK(v.ok);
  CHECK(v.records_checked == 3);
  CHECK(v.last_seq == 3);

  AuditVerifyOptions anchored;
  anchored.anchor_seq = 8;
  anchored.anchor_hash = records[7].hash();
  CHECK(store->audit()->Verify(anchored).ok);
  anchored.anchor_hash = records[6].hash();
  v = store->audit()->Verify(anchored);
  ExpectBrokenAt(v, 8, v1::AUDIT_FAILURE_ANCHOR_MISMATCH);
}

TEST_CASE("an edited record on disk fails verification at that record") {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Seed(path, 10);

  SECTION("a field changed, hash left alone") {
    { RawAuditDb raw(path); raw.EditAction(4, "nothing happened"); }
    const AuditVerifyResult v = VerifyAt(path);
    ExpectBrokenAt(v, 4, v1::AUDIT_FAILURE_HASH_MISMATCH);
    CHECK(v.last_seq == 3);
    CHECK(v.records_checked == 3);
  }
  SECTION("one raw byte flipped") {
    {
      RawAuditDb raw(path);
      std::string bytes = *raw.Get(6);
      bytes[bytes.size() - 1] ^= 0x01;  // the last byte of the stored hash
      raw.Put(6, bytes);
    }
    const AuditVerifyResult v = VerifyAt(path);
    ExpectBrokenAt(v, 6, v1::AUDIT_FAILURE_HASH_MISMATCH);
  }
  SECTION("garbage instead of a record") {
    { RawAuditDb raw(path); raw.Put(2, std::string("\xff\xff\xff", 3)); }
    const AuditVerifyResult v = VerifyAt(path);
    ExpectBrokenAt(v, 2, v1::AUDIT_FAILURE_UNPARSEABLE);
  }
  SECTION("a field changed and the record's own hash recomputed") {
    {
      RawAuditDb raw(path);
      v1::AuditRecord r = raw.Record(4);
      r.set_action("nothing happened");
      r.set_hash(AuditRecordHash(r));
      raw.Put(4, r.SerializeAsString());
    }
    const AuditVerifyResult v = VerifyAt(path);
    ExpectBrokenAt(v, 5, v1::AUDIT_FAILURE_PREV_HASH_MISMATCH);
  }
  SECTION("a record deleted") {
    { RawAuditDb raw(path); raw.Delete(4); }
    const AuditVerifyResult v = VerifyAt(path);
    ExpectBrokenAt(v, 4, v1::AUDIT_FAILURE_SEQ_GAP);
  }
  SECTION("two records swapped") {
    {
      RawAuditDb raw(path);
      const std::string r4 = *raw.Get(4), r5 = *raw.Get(5);
      raw.Put(4, r5);
      raw.Put(5, r4);
    }
    const AuditVerifyResult v = VerifyAt(path);
    ExpectBrokenAt(v, 4, v1::AUDIT_FAILURE_SEQ_MISMATCH);
  }
  SECTION("the store keeps working and chaining after tampering") {
    { RawAuditDb raw(path); raw.EditAction(4, "nothing happened"); }
    auto store = OpenStore(path);
    REQUIRE(CommitOrder(*store, "O11").ok());
    CHECK(store->audit()->Head().seq == 11);
    const AuditVerifyResult v = store->audit()->Verify({});
    ExpectBrokenAt(v, 4, v1::AUDIT_FAILURE_HASH_MISMATCH);
    AuditVerifyOptions after;  // the part after the damage still verifies
    after.from_seq = 5;
    CHECK(store->audit()->Verify(after).ok);
  }
  SECTION("the free function verifies a database opened by a tool") {
    { RawAuditDb raw(path); raw.EditAction(7, "x"); }
    RawAuditDb raw(path);
    const AuditVerifyResult v = VerifyAuditChain(raw.db(), raw.audit(), {});
    ExpectBrokenAt(v, 7, v1::AUDIT_FAILURE_HASH_MISMATCH);
  }
}

TEST_CASE("a cut or rewritten tail is caught only against an exported head") {
  TempDir dir;
  const std::string path = dir.Sub("db");
  Seed(path, 10);
  AuditHead exported;
  {
    auto store = OpenStore(path);
    exported = store->audit()->Head();
  }
  AuditVerifyOptions anchored;
  anchored.anchor_seq = exported.seq;
  anchored.anchor_hash = exported.hash;

  SECTION("tail cut") {
    { RawAuditDb raw(path); raw.Delete(10); raw.Delete(9); }
    CHECK(VerifyAt(path).ok);  // undetectable from the chain alone
    const AuditVerifyResult v = VerifyAt(path, anchored);
    ExpectBrokenAt(v, 9, v1::AUDIT_FAILURE_ANCHOR_MISSING);
  }
  SECTION("tail rewritten consistently") {
    {
      RawAuditDb raw(path);
      std::string prev = raw.Record(8).hash();
      for (uint64_t seq : {9, 10}) {
        v1::AuditRecord r = raw.Record(seq);
        r.set_action("rewritten");
        r.set_prev_hash(prev);
        r.set_hash(AuditRecordHash(r));
        prev = r.hash();
        raw.Put(seq, r.SerializeAsString());
      }
    }
    CHECK(VerifyAt(path).ok);
    const AuditVerifyResult v = VerifyAt(path, anchored);
    ExpectBrokenAt(v, 10, v1::AUDIT_FAILURE_ANCHOR_MISMATCH);
  }
}

// The store test's crash writer commits orders from 8 threads until killed.
TEST_CASE("the chain survives SIGKILL of a writing process without a gap") {
  TempDir dir;
  const std::string path = dir.Sub("db"), acks = dir.Sub("acks");
  testing::ChildProcess writer({STORE_CRASH_WRITER, path, acks}, dir.Sub("writer.log"));
  std::set<std::string> acked;
  auto read_acks = [&] {
    std::ifstream in(acks);
    std::string line;
    // A line without its newline was cut by the kill: not acknowledged.
    while (std::getline(in, line) && !in.eof()) acked.insert(line);
    return acked.size() >= 500;
  };
  REQUIRE(testing::Eventually(read_acks, absl::Seconds(60)));
  writer.Kill(SIGKILL);
  REQUIRE(writer.Wait() == 128 + SIGKILL);
  read_acks();

  auto store = OpenStore(path);
  const AuditVerifyResult v = store->audit()->Verify({});
  INFO(v.detail);
  CHECK(v.ok);
  CHECK(v.records_checked == store->audit()->Head().seq);
  std::set<std::string> audited;
  for (const auto& r : All(*store)) audited.insert(r.subject_id());
  size_t missing = 0;
  for (const auto& key : acked) missing += audited.count(key) ? 0 : 1;
  CHECK(missing == 0);
  // And the chain goes on after the crash.
  REQUIRE(CommitOrder(*store, "after-crash").ok());
  CHECK(store->audit()->Verify({}).ok);
}

}  // namespace
}  // namespace aftersales::store
