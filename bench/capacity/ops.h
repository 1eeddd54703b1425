// The calls capacity_loader makes to create records (--record_ops), in a file
// capacity_replay sends through the real service: the faithfulness check of
// docs/capacity.md compares the two data dirs. Header-only.
// Format per op: i64 time (unix micros), u8 kind, u32 size + request bytes,
// u32 size + await id (the record to read back before the next op).
#ifndef AFTERSALES_BENCH_CAPACITY_OPS_H_
#define AFTERSALES_BENCH_CAPACITY_OPS_H_

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace aftersales::capacity {

enum class OpKind : uint8_t {
  kFileComplaint = 1,   // v1::FileComplaintRequest
  kUpsertPart = 2,      // v1::Part
  kUpsertLocation = 3,  // v1::StockLocation
  kReceive = 4,         // v1::ReceiveRequest
  kReserve = 5,         // v1::ReserveRequest
  kIntakeEvent = 6,     // v1::Event (intake's; seq/producer/occurred_at set on emit)
  kUpsertPartner = 7,   // v1::Partner
  kRegisterEngineer = 8,  // v1::Engineer
  kReportLocation = 9,  // v1::ReportLocationRequest
};

struct Op {
  absl::Time at;
  OpKind kind;
  std::string request;
  std::string await_id;
};

class OpWriter {
 public:
  explicit OpWriter(const std::string& path) : out_(path, std::ios::binary | std::ios::trunc) {}
  void Write(const Op& op) {
    const int64_t micros = absl::ToUnixMicros(op.at);
    out_.write(reinterpret_cast<const char*>(&micros), sizeof micros);
    out_.put(static_cast<char>(op.kind));
    for (const std::string* s : {&op.request, &op.await_id}) {
      const uint32_t n = static_cast<uint32_t>(s->size());
      out_.write(reinterpret_cast<const char*>(&n), sizeof n);
      out_.write(s->data(), n);
    }
    out_.flush();
  }

 private:
  std::ofstream out_;
};

class OpReader {
 public:
  explicit OpReader(const std::string& path) : in_(path, std::ios::binary) {}
  bool ok() const { return static_cast<bool>(in_); }
  std::optional<Op> Next() {
    int64_t micros = 0;
    if (!in_.read(reinterpret_cast<char*>(&micros), sizeof micros)) return std::nullopt;
    Op op;
    op.at = absl::FromUnixMicros(micros);
    op.kind = static_cast<OpKind>(in_.get());
    for (std::string* s : {&op.request, &op.await_id}) {
      uint32_t n = 0;
      if (!in_.read(reinterpret_cast<char*>(&n), sizeof n)) return std::nullopt;
      s->resize(n);
      if (!in_.read(s->data(), n)) return std::nullopt;
    }
    return op;
  }

 private:
  std::ifstream in_;
};

}  // namespace aftersales::capacity

#endif  // AFTERSALES_BENCH_CAPACITY_OPS_H_
