// Test helper: opens a service's RocksDB directory directly, every column
// family, as someone with disk access would, to edit its audit log.
#ifndef AFTERSALES_TESTS_UNIT_AUDIT_TAMPER_H_
#define AFTERSALES_TESTS_UNIT_AUDIT_TAMPER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aftersales/v1/common.pb.h"
#include "catch2/catch.hpp"
#include "rocksdb/db.h"
#include "store/audit_log.h"
#include "store/keys.h"

namespace aftersales::testing {

class RawAuditDb {
 public:
  explicit RawAuditDb(const std::string& path) {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(options, path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, descriptors, &handles_, &raw);
    INFO(s.ToString());
    REQUIRE(s.ok());
    db_.reset(raw);
    for (auto* h : handles_) {
      if (h->GetName() == std::string(store::kAuditFamily)) audit_ = h;
    }
    REQUIRE(audit_ != nullptr);
  }
  ~RawAuditDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }

  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* audit() { return audit_; }

  std::optional<std::string> Get(uint64_t seq) {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), audit_, store::EncodeU64(seq), &value);
    if (s.IsNotFound()) return std::nullopt;
    REQUIRE(s.ok());
    return value;
  }
  v1::AuditRecord Record(uint64_t seq) {
    auto raw = Get(seq);
    REQUIRE(raw.has_value());
    v1::AuditRecord r;
    REQUIRE(r.ParseFromString(*raw));
    return r;
  }
  void Put(uint64_t seq, const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(db_->Put(wo, audit_, store::EncodeU64(seq), value).ok());
  }
  void Delete(uint64_t seq) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(db_->Delete(wo, audit_, store::EncodeU64(seq)).ok());
  }
  // Edits a field of record `seq` and writes it back without fixing its hash.
  void EditAction(uint64_t seq, const std::string& action) {
    v1::AuditRecord r = Record(seq);
    r.set_action(action);
    Put(seq, r.SerializeAsString());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* audit_ = nullptr;
};

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_UNIT_AUDIT_TAMPER_H_
