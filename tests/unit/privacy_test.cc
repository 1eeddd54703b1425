// libs/privacy: AES-256-GCM, per-customer keys with KEK rotation and
// crypto-shredding, sealed PII fields — against a real RocksDB directory.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "aftersales/v1/intake.pb.h"
#include "aftersales/v1/storage.pb.h"
#include "catch2/catch.hpp"
#include "privacy/aead.h"
#include "privacy/customer_keys.h"
#include "privacy/sealed_fields.h"
#include "support/test_support.h"

namespace aftersales::privacy {
namespace {

using testing::TempDir;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

std::unique_ptr<store::Store> OpenStore(const std::string& path) {
  store::Store::Options options;
  options.path = path;
  options.column_families = {"orders", "customer_keys", "pii"};
  auto s = store::Store::Open(options);
  REQUIRE(s.ok());
  return *std::move(s);
}

Kek NewKek() { return Kek{RandomBytes(kKeyBytes)}; }

std::unique_ptr<CustomerKeys> OpenKeys(store::Store* s, const Kek& kek,
                                       std::optional<Kek> previous = std::nullopt) {
  auto keys = CustomerKeys::Open(s, "customer_keys", kek, std::move(previous), kNow);
  REQUIRE(keys.ok());
  return *std::move(keys);
}

v1::WorkOrder Order(const std::string& id, const std::string& customer) {
  v1::WorkOrder o;
  o.set_order_id(id);
  o.set_customer_id(customer);
  o.mutable_contact()->set_name("Zhang San");
  o.mutable_contact()->set_phone("+86 138-1234-5678");
  o.mutable_contact()->set_full_address("Room 1, 8 Century Avenue, Shanghai");
  o.mutable_fault()->set_description("the fridge at Zhang San's flat smells of gas");
  o.mutable_fault()->set_fault_code("E1");
  o.mutable_service_area()->set_region_code("CN-310000");
  return o;
}

const std::vector<std::string> kPaths = {"contact.name", "contact.phone", "contact.full_address",
                                         "contact.alt_phone", "fault.description"};

// Seals and stores `o` the way a repository does; returns the stored row.
v1::WorkOrder Store(store::Store& s, const SealedFields& sealed, const v1::WorkOrder& o,
                    const v1::WorkOrder* before = nullptr) {
  store::Batch batch;
  v1::WorkOrder stored = o;
  REQUIRE(sealed.Seal(batch, o.order_id(), o.customer_id(), stored, before, kNow).ok());
  store::Table<v1::WorkOrder>(&s, "orders").Put(batch, o.order_id(), stored);
  REQUIRE(s.Commit(batch).ok());
  return stored;
}

v1::WorkOrder Load(store::Store& s, const SealedFields& sealed, const std::string& id) {
  auto row = store::Table<v1::WorkOrder>(&s, "orders").Get(id);
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  v1::WorkOrder o = **row;
  REQUIRE(sealed.Open(id, o).ok());
  return o;
}

TEST_CASE("AES-256-GCM seals with a fresh nonce and detects any change") {
  const std::string key = RandomBytes(kKeyBytes);
  auto a = Seal(key, "13812345678", "order/WO1");
  auto b = Seal(key, "13812345678", "order/WO1");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == kNonceBytes + 11 + kTagBytes);
  CHECK(*a != *b);  // random nonce per encryption
  CHECK_FALSE(absl::StrContains(*a, "13812345678"));
  auto opened = Open(key, *a, "order/WO1");
  REQUIRE(opened.ok());
  CHECK(*opened == "13812345678");
  // Wrong associated data (another record), wrong key, a flipped bit: DATA_LOSS.
  CHECK(Open(key, *a, "order/WO2").status().code() == absl::StatusCode::kDataLoss);
  CHECK(Open(RandomBytes(kKeyBytes), *a, "order/WO1").status().code() ==
        absl::StatusCode::kDataLoss);
  std::string flipped = *a;
  flipped[kNonceBytes + 3] ^= 1;
  CHECK(Open(key, flipped, "order/WO1").status().code() == absl::StatusCode::kDataLoss);
  CHECK(Open(key, "short", "x").status().code() == absl::StatusCode::kDataLoss);
  CHECK_FALSE(Seal("short key", "x", "").ok());
  // Empty plaintext still authenticates.
  auto empty = Seal(key, "", "aad");
  REQUIRE(empty.ok());
  CHECK(Open(key, *empty, "aad").value().empty());
}

TEST_CASE("random bytes never repeat: across the pool's refills, threads and a fork") {
  // RandomBytes hands out CSPRNG output from a per-thread pool; nonces and
  // keys drawn from it must still never repeat.
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) CHECK(seen.insert(RandomBytes(kNonceBytes)).second);
  const std::string big = RandomBytes(5000);  // spans several refills
  CHECK(big.size() == 5000);
  CHECK(big.find(std::string(64, '\0')) == std::string::npos);  // handed out, not wiped
  std::vector<std::string> other(500);
  std::thread t([&] {
    for (auto& n : other) n = RandomBytes(kNonceBytes);
  });
  t.join();
  for (const auto& n : other) CHECK(seen.insert(n).second);

  // A child must not hand out what its parent holds in the pool.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string n = RandomBytes(kNonceBytes * 8);
    const ssize_t w = write(fds[1], n.data(), n.size());
    _exit(w == static_cast<ssize_t>(n.size()) ? 0 : 1);
  }
  const std::string mine = RandomBytes(kNonceBytes * 8);
  std::string theirs(kNonceBytes * 8, '\0');
  size_t got = 0;
  while (got < theirs.size()) {
    const ssize_t r = read(fds[0], theirs.data() + got, theirs.size() - got);
    REQUIRE(r > 0);
    got += static_cast<size_t>(r);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  close(fds[0]);
  close(fds[1]);
  CHECK(mine != theirs);
  for (size_t i = 0; i < 8; ++i) {
    CHECK_FALSE(seen.count(theirs.substr(i * kNonceBytes, kNonceBytes)));
  }
}

TEST_CASE("a KEK file is created once with mode 0600 and then read back") {
  TempDir dir;
  const std::string path = dir.Sub("pii.key");
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto k = LoadOrCreateKekFile(path);
      if (k.ok()) seen[i] = k->bytes;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(seen[0].size() == kKeyBytes);
  for (const auto& s : seen) CHECK(s == seen[0]);  // racing creators agree
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(LoadKekFile(path)->bytes == seen[0]);
  std::ofstream(dir.Sub("bad.key")) << "not hex";
  CHECK(LoadKekFile(dir.Sub("bad.key")).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(LoadKekFile(dir.Sub("missing.key")).status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(LoadOrCreateKekFile(dir.Sub("no/such/dir/pii.key")).ok());
}

TEST_CASE("sealed fields leave the table row without PII and open again after a restart") {
  TempDir dir;
  const Kek kek = NewKek();
  const v1::WorkOrder original = Order("WO1", "C1");
  {
    auto s = OpenStore(dir.path());
    auto keys = OpenKeys(s.get(), kek);
    SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
    const v1::WorkOrder stored = Store(*s, sealed, original);
    CHECK(stored.contact().name().empty());
    CHECK(stored.contact().phone().empty());
    CHECK(stored.fault().description().empty());
    CHECK(stored.fault().fault_code() == "E1");  // not PII: stays
    CHECK(Load(*s, sealed, "WO1").SerializeAsString() == original.SerializeAsString());
    CHECK(*sealed.Has("WO1"));
    CHECK_FALSE(*sealed.Has("WO2"));
  }
  auto s = OpenStore(dir.path());
  auto keys = OpenKeys(s.get(), kek);
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  CHECK(Load(*s, sealed, "WO1").contact().phone() == "+86 138-1234-5678");
  // A record with no PII has no sealed row, and a row whose PII went away is dropped.
  v1::WorkOrder telemetry;
  telemetry.set_order_id("WO3");
  telemetry.set_customer_id("C3");
  Store(*s, sealed, telemetry);
  CHECK_FALSE(*sealed.Has("WO3"));
  CHECK(Load(*s, sealed, "WO3").SerializeAsString() == telemetry.SerializeAsString());
}

TEST_CASE("a ciphertext moved to another record does not open") {
  TempDir dir;
  auto s = OpenStore(dir.path());
  auto keys = OpenKeys(s.get(), NewKek());
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  Store(*s, sealed, Order("WO1", "C1"));
  v1::WorkOrder other = Order("WO2", "C1");
  other.mutable_contact()->set_name("Li Si");
  Store(*s, sealed, other);
  auto row1 = s->Get(s->Family("pii"), "order/WO1");
  store::Batch swap;
  swap.Put(s->Family("pii"), "order/WO2", **row1);
  REQUIRE(s->Commit(swap).ok());
  auto table = store::Table<v1::WorkOrder>(s.get(), "orders");
  v1::WorkOrder o = **table.Get("WO2");
  CHECK(sealed.Open("WO2", o).code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("an unchanged record is not re-sealed, a changed one is") {
  TempDir dir;
  auto s = OpenStore(dir.path());
  auto keys = OpenKeys(s.get(), NewKek());
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  const v1::WorkOrder o = Order("WO1", "C1");
  Store(*s, sealed, o);
  const std::string first = **s->Get(s->Family("pii"), "order/WO1");
  v1::WorkOrder next = o;
  next.set_version(2);
  Store(*s, sealed, next, &o);
  CHECK(**s->Get(s->Family("pii"), "order/WO1") == first);
  v1::WorkOrder moved = next;
  moved.mutable_contact()->set_full_address("Room 2, 9 Century Avenue");
  Store(*s, sealed, moved, &next);
  CHECK(**s->Get(s->Family("pii"), "order/WO1") != first);
  CHECK(Load(*s, sealed, "WO1").contact().full_address() == "Room 2, 9 Century Avenue");
}

TEST_CASE("erasing a customer's key shreds every sealed field, other customers keep theirs") {
  TempDir dir;
  const Kek kek = NewKek();
  {
    auto s = OpenStore(dir.path());
    auto keys = OpenKeys(s.get(), kek);
    SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
    Store(*s, sealed, Order("WO1", "C1"));
    Store(*s, sealed, Order("WO2", "C1"));
    Store(*s, sealed, Order("WO3", "C2"));
    store::Batch batch;
    CHECK(*keys->Erase(batch, "C1", kNow));
    REQUIRE(s->Commit(batch).ok());
    for (const char* id : {"WO1", "WO2"}) {
      const v1::WorkOrder o = Load(*s, sealed, id);
      CHECK(o.contact().name() == kErased);
      CHECK(o.contact().phone() == kErased);
      CHECK(o.contact().full_address() == kErased);
      CHECK(o.contact().alt_phone().empty());  // was never there
      CHECK(o.fault().description() == kErased);
      CHECK(o.fault().fault_code() == "E1");
    }
    CHECK(Load(*s, sealed, "WO3").contact().name() == "Zhang San");
    // Erasing again finds no key; erasing an unknown customer too.
    store::Batch again;
    CHECK_FALSE(*keys->Erase(again, "C1", kNow));
    CHECK_FALSE(*keys->Erase(again, "nobody", kNow));
    REQUIRE(s->Commit(again).ok());
  }
  // After a restart: still erased; the wrapped key is gone from the family.
  auto s = OpenStore(dir.path());
  auto keys = OpenKeys(s.get(), kek);
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  CHECK(Load(*s, sealed, "WO1").contact().phone() == kErased);
  CHECK_FALSE(s->Get(s->Family("customer_keys"), "k/C1")->has_value());
  // New data of the same customer gets a new key generation; old stays erased.
  Store(*s, sealed, Order("WO4", "C1"));
  CHECK(Load(*s, sealed, "WO4").contact().phone() == "+86 138-1234-5678");
  CHECK(Load(*s, sealed, "WO1").contact().phone() == kErased);
  v1::SealedFields row;
  REQUIRE(row.ParseFromString(**s->Get(s->Family("pii"), "order/WO4")));
  CHECK(row.generation() == 2);
}

TEST_CASE("a key staged by a write that loses the race with an erasure stays erased") {
  TempDir dir;
  auto s = OpenStore(dir.path());
  auto keys = OpenKeys(s.get(), NewKek());
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  // A create stages C1's new key but commits only after the erasure.
  store::Batch create;
  v1::WorkOrder stored = Order("WO1", "C1");
  REQUIRE(sealed.Seal(create, "WO1", "C1", stored, nullptr, kNow).ok());
  store::Table<v1::WorkOrder>(s.get(), "orders").Put(create, "WO1", stored);
  store::Batch erase;
  CHECK(*keys->Erase(erase, "C1", kNow));
  REQUIRE(s->Commit(erase).ok());
  REQUIRE(s->Commit(create).ok());
  CHECK(Load(*s, sealed, "WO1").contact().name() == kErased);
}

TEST_CASE("new keys are forgotten once stored, but a key still in flight is kept") {
  TempDir dir;
  // Unsynced commits: this is about the keys' bookkeeping, not durability.
  store::Store::Options options;
  options.path = dir.path();
  options.column_families = {"orders", "customer_keys", "pii"};
  options.sync = false;
  auto opened = store::Store::Open(options);
  REQUIRE(opened.ok());
  std::unique_ptr<store::Store> s = *std::move(opened);
  auto keys = OpenKeys(s.get(), NewKek());
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  // A create for C-slow seals with a new key but has not committed yet.
  store::Batch slow;
  v1::WorkOrder slow_row = Order("WO-slow", "C-slow");
  REQUIRE(sealed.Seal(slow, "WO-slow", "C-slow", slow_row, nullptr, kNow).ok());
  // Meanwhile 5,000 new customers each commit an order.
  for (int i = 0; i < 5000; ++i) {
    const std::string id = "WO" + std::to_string(i);
    Store(*s, sealed, Order(id, "C" + std::to_string(i)));
  }
  // The map of keys awaiting their first commit did not keep them all.
  CHECK(keys->pending() < 4096);
  CHECK(keys->pending() >= 1);  // C-slow's key: its batch is still open
  // A second write for C-slow uses the same key, so both of its records open
  // whichever batch commits first.
  store::Batch second;
  v1::WorkOrder second_row = Order("WO-slow-2", "C-slow");
  REQUIRE(sealed.Seal(second, "WO-slow-2", "C-slow", second_row, nullptr, kNow).ok());
  store::Table<v1::WorkOrder>(s.get(), "orders").Put(second, "WO-slow-2", second_row);
  REQUIRE(s->Commit(second).ok());
  store::Table<v1::WorkOrder>(s.get(), "orders").Put(slow, "WO-slow", slow_row);
  REQUIRE(s->Commit(slow).ok());
  CHECK(Load(*s, sealed, "WO-slow").contact().name() == "Zhang San");
  CHECK(Load(*s, sealed, "WO-slow-2").contact().name() == "Zhang San");
  CHECK(Load(*s, sealed, "WO4999").contact().phone() == "+86 138-1234-5678");
}

TEST_CASE("rotating the KEK re-wraps every data key and a wrong KEK is refused") {
  TempDir dir;
  const Kek old_kek = NewKek(), new_kek = NewKek(), stranger = NewKek();
  {
    auto s = OpenStore(dir.path());
    auto keys = OpenKeys(s.get(), old_kek);
    SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
    Store(*s, sealed, Order("WO1", "C1"));
    Store(*s, sealed, Order("WO2", "C2"));
  }
  {
    auto s = OpenStore(dir.path());
    // The wrong key alone (or with a wrong previous) would read everything as
    // erased: refused.
    auto wrong = CustomerKeys::Open(s.get(), "customer_keys", stranger, std::nullopt, kNow);
    CHECK(wrong.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(CustomerKeys::Open(s.get(), "customer_keys", new_kek, stranger, kNow).status().code() ==
          absl::StatusCode::kFailedPrecondition);
    auto keys = OpenKeys(s.get(), new_kek, old_kek);
    CHECK(keys->rewrapped() == 2);
    SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
    CHECK(Load(*s, sealed, "WO2").contact().name() == "Zhang San");
  }
  auto s = OpenStore(dir.path());
  // The old KEK no longer opens the store; the new one does without `previous`.
  CHECK(CustomerKeys::Open(s.get(), "customer_keys", old_kek, std::nullopt, kNow)
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  auto keys = OpenKeys(s.get(), new_kek);
  CHECK(keys->rewrapped() == 0);
  SealedFields sealed(s.get(), "pii", "order", keys.get(), kPaths);
  CHECK(Load(*s, sealed, "WO1").contact().phone() == "+86 138-1234-5678");
}

}  // namespace
}  // namespace aftersales::privacy
