#include "complaint/complaint_repository.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "complaint/domain/text_match.h"
#include "rpc/rpc.h"
#include "store/keys.h"

namespace aftersales::complaint {
namespace {

constexpr char kComplaints[] = "complaints";
constexpr char kIdempotency[] = "idempotency";
constexpr char kComplaintIndex[] = "complaint_index";
constexpr char kSweepIndex[] = "sweep_index";
constexpr char kSweepAt[] = "sweep_at";  // complaint id -> its deadline row
constexpr char kFloorQueue[] = "floor_queue";
constexpr char kOrderContext[] = "order_context";
constexpr char kSealedPii[] = "sealed_pii";
constexpr char kOrderIndex[] = "order_index";

uint64_t Micros(absl::Time t) {
  return static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixMicros(t), 0));
}

// Newest first: big-endian of the inverted microsecond timestamp.
std::string NewestFirst(absl::Time t) { return store::EncodeU64(UINT64_MAX - Micros(t)); }

std::string Prefix(absl::string_view dim, absl::string_view value) {
  std::string p = store::CompositeKey({dim, value});
  p.push_back('\0');
  return p;
}

std::set<std::string> IndexRows(const v1::Complaint& c) {
  const std::string tail = NewestFirst(rpc::FromProto(c.created_at())) + c.complaint_id();
  std::set<std::string> rows = {
      Prefix("all", "") + tail,
      Prefix("customer", c.customer().customer_id()) + tail,
      Prefix("state", v1::ComplaintState_Name(c.state())) + tail,
      Prefix("grade", v1::ComplaintGrade_Name(c.grade())) + tail,
      Prefix("category", v1::ComplaintCategory_Name(c.category())) + tail,
  };
  if (!c.order_id().empty()) rows.insert(Prefix("order", c.order_id()) + tail);
  if (!c.region_code().empty()) rows.insert(Prefix("region", c.region_code()) + tail);
  if (!c.partner_id().empty()) rows.insert(Prefix("partner", c.partner_id()) + tail);
  const std::string model = domain::ModelKey(c.appliance_model());
  if (!model.empty()) rows.insert(Prefix("model", model) + tail);
  return rows;
}

std::set<std::string> OrderRows(const v1::LinkedOrderContext& o) {
  const std::string tail =
      store::EncodeU64(Micros(rpc::FromProto(o.order_created_at()))) + o.order_id();
  std::set<std::string> rows;
  if (!o.known()) return rows;  // counted once intake's OrderCreated arrived
  rows.insert(Prefix("all", "") + tail);
  if (!o.region_code().empty()) rows.insert(Prefix("region", o.region_code()) + tail);
  if (!o.partner_id().empty()) rows.insert(Prefix("partner", o.partner_id()) + tail);
  return rows;
}

bool Matches(const v1::Complaint& c, const v1::ListComplaintsRequest& f) {
  if (!f.order_id().empty() && c.order_id() != f.order_id()) return false;
  if (!f.customer_id().empty() && c.customer().customer_id() != f.customer_id()) return false;
  if (f.grade() != v1::COMPLAINT_GRADE_UNSPECIFIED && c.grade() != f.grade()) return false;
  if (f.state() != v1::COMPLAINT_STATE_UNSPECIFIED && c.state() != f.state()) return false;
  if (f.category() != v1::COMPLAINT_CATEGORY_UNSPECIFIED && c.category() != f.category()) {
    return false;
  }
  if (!f.region_code().empty() && c.region_code() != f.region_code()) return false;
  if (!f.partner_id().empty() && c.partner_id() != f.partner_id()) return false;
  if (f.has_created()) {
    const absl::Time t = rpc::FromProto(c.created_at());
    if (f.created().has_start() && t < rpc::FromProto(f.created().start())) return false;
    if (f.created().has_end() && t >= rpc::FromProto(f.created().end())) return false;
  }
  return true;
}

}  // namespace

ComplaintRepository::ComplaintRepository(store::Store* store, privacy::CustomerKeys* keys)
    : store_(store),
      keys_(keys),
      sealed_(store, kSealedPii, "complaint", keys,
              {"text", "customer.display_name", "customer.masked_phone"},
              "[erased at the customer's request]"),
      complaints_(store, kComplaints),
      idempotency_(store, kIdempotency),
      order_context_(store, kOrderContext),
      floor_queue_(store, kFloorQueue),
      complaint_index_(store->Family(kComplaintIndex)),
      order_index_(store->Family(kOrderIndex)),
      sweep_index_(store, kSweepIndex),
      sweep_at_(store->Family(kSweepAt)) {}

std::vector<std::string> ComplaintRepository::ColumnFamilies() {
  return {kComplaints, kIdempotency,  kComplaintIndex, kSweepIndex, kSweepAt,
          kFloorQueue, kOrderContext, kOrderIndex,     kSealedPii,  privacy::kCustomerKeysFamily};
}

absl::StatusOr<std::optional<v1::Complaint>> ComplaintRepository::Get(
    const std::string& complaint_id) const {
  auto c = complaints_.Get(complaint_id);
  if (!c.ok() || !c->has_value()) return c;
  if (absl::Status s = sealed_.Open(complaint_id, **c); !s.ok()) return s;
  return c;
}

absl::Status ComplaintRepository::Stage(store::Batch& batch, const v1::Complaint* before,
                                        const v1::Complaint& after, absl::Time next_sweep,
                                        const std::vector<v1::Event>& events) {
  v1::Complaint stored = after;
  if (absl::Status s = sealed_.Seal(batch, after.complaint_id(), after.customer().customer_id(),
                                    stored, before, rpc::FromProto(after.updated_at()));
      !s.ok()) {
    return s;
  }
  complaints_.Put(batch, after.complaint_id(), stored);
  const std::set<std::string> old_rows = before ? IndexRows(*before) : std::set<std::string>();
  const std::set<std::string> new_rows = IndexRows(after);
  for (const auto& r : old_rows) {
    if (!new_rows.count(r)) batch.Delete(complaint_index_, r);
  }
  for (const auto& r : new_rows) {
    if (!old_rows.count(r)) batch.Put(complaint_index_, r, "");
  }
  // The deadline row: replace whatever row the complaint had.
  if (before != nullptr) {
    auto old_row = store_->Get(sweep_at_, after.complaint_id());
    if (old_row.ok() && old_row->has_value()) sweep_index_.Delete(batch, **old_row);
  }
  if (next_sweep == absl::InfiniteFuture()) {
    batch.Delete(sweep_at_, after.complaint_id());
  } else {
    const std::string row = store::EncodeU64(Micros(next_sweep)) + after.complaint_id();
    sweep_index_.Put(batch, row);
    batch.Put(sweep_at_, after.complaint_id(), row);
  }
  for (const auto& e : events) batch.AppendEvent(e);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<domain::EarlierComplaint>> ComplaintRepository::Since(
    absl::string_view dimension, absl::string_view value, absl::Time since,
    size_t limit) const {
  std::vector<domain::EarlierComplaint> out;
  if (value.empty()) return out;
  const std::string prefix = Prefix(dimension, value);
  const uint64_t since_micros = Micros(since);
  absl::Status s = store_->Scan(
      complaint_index_, prefix, store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (row.size() < prefix.size() + 8) return true;
        auto inverted = store::DecodeU64(row.substr(prefix.size(), 8));
        if (!inverted) return true;
        const uint64_t micros = UINT64_MAX - *inverted;
        if (micros < since_micros) return false;  // newest first: the rest is older
        out.push_back({std::string(row.substr(prefix.size() + 8)),
                       absl::FromUnixMicros(static_cast<int64_t>(micros))});
        return out.size() < limit;
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<domain::EarlierComplaint>> ComplaintRepository::ByCustomerSince(
    const std::string& customer_id, absl::Time since, size_t limit) const {
  return Since("customer", customer_id, since, limit);
}

absl::StatusOr<std::vector<domain::EarlierComplaint>> ComplaintRepository::ByModelSince(
    const std::string& model, absl::Time since, size_t limit) const {
  return Since("model", domain::ModelKey(model), since, limit);
}

absl::StatusOr<std::vector<ComplaintRepository::DueRow>> ComplaintRepository::DueForSweep(
    absl::Time now, size_t limit) const {
  const std::string end = store::EncodeU64(Micros(now) + 1);
  std::vector<DueRow> rows;
  absl::Status s = sweep_index_.Scan(end, [&](absl::string_view row, absl::string_view) {
    if (row.size() > 8) rows.push_back({std::string(row), std::string(row.substr(8))});
    return rows.size() < limit;
  });
  if (!s.ok()) return s;
  return rows;
}

void ComplaintRepository::DropSweepRow(store::Batch& batch, const std::string& row) {
  sweep_index_.Delete(batch, row);
}

void ComplaintRepository::QueueFloorRule(store::Batch& batch, const std::string& complaint_id,
                                         const std::string& source_id,
                                         const v1::FiredRule& rule) {
  floor_queue_.Put(batch, store::CompositeKey({complaint_id, source_id}), rule);
}

absl::StatusOr<std::vector<ComplaintRepository::PendingFloor>>
ComplaintRepository::PendingFloorRules(size_t limit) const {
  std::vector<PendingFloor> out;
  absl::Status s = floor_queue_.Scan("", [&](absl::string_view key, const v1::FiredRule& r) {
    const size_t sep = key.find('\0');
    out.push_back({std::string(key), std::string(key.substr(0, sep)), r});
    return out.size() < limit;
  });
  if (!s.ok()) return s;
  return out;
}

void ComplaintRepository::DropFloorRule(store::Batch& batch, const std::string& key) {
  floor_queue_.Delete(batch, key);
}

absl::StatusOr<std::optional<v1::LinkedOrderContext>> ComplaintRepository::OrderContext(
    const std::string& order_id) const {
  return order_context_.Get(order_id);
}

void ComplaintRepository::StageOrderContext(store::Batch& batch,
                                            const v1::LinkedOrderContext* before,
                                            const v1::LinkedOrderContext& after) {
  order_context_.Put(batch, after.order_id(), after);
  const std::set<std::string> old_rows = before ? OrderRows(*before) : std::set<std::string>();
  const std::set<std::string> new_rows = OrderRows(after);
  for (const auto& r : old_rows) {
    if (!new_rows.count(r)) batch.Delete(order_index_, r);
  }
  for (const auto& r : new_rows) {
    if (!old_rows.count(r)) batch.Put(order_index_, r, "");
  }
}

absl::StatusOr<int64_t> ComplaintRepository::CountOrders(absl::string_view dimension,
                                                         absl::string_view key,
                                                         absl::Time start,
                                                         absl::Time end) const {
  const std::string prefix = Prefix(dimension, key);
  int64_t n = 0;
  absl::Status s = store_->Scan(order_index_, prefix + store::EncodeU64(Micros(start)),
                                prefix + store::EncodeU64(Micros(end)),
                                [&](absl::string_view, absl::string_view) {
                                  ++n;
                                  return true;
                                });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<ComplaintRepository::Page> ComplaintRepository::List(
    const v1::ListComplaintsRequest& f, const std::function<bool(const v1::Complaint&)>& visible,
    const std::string& after_key, size_t limit, size_t max_examined) const {
  std::string prefix;
  if (!f.order_id().empty()) {
    prefix = Prefix("order", f.order_id());
  } else if (!f.customer_id().empty()) {
    prefix = Prefix("customer", f.customer_id());
  } else if (!f.partner_id().empty()) {
    prefix = Prefix("partner", f.partner_id());
  } else if (!f.region_code().empty()) {
    prefix = Prefix("region", f.region_code());
  } else if (f.state() != v1::COMPLAINT_STATE_UNSPECIFIED) {
    prefix = Prefix("state", v1::ComplaintState_Name(f.state()));
  } else if (f.grade() != v1::COMPLAINT_GRADE_UNSPECIFIED) {
    prefix = Prefix("grade", v1::ComplaintGrade_Name(f.grade()));
  } else if (f.category() != v1::COMPLAINT_CATEGORY_UNSPECIFIED) {
    prefix = Prefix("category", v1::ComplaintCategory_Name(f.category()));
  } else {
    prefix = Prefix("all", "");
  }
  std::string start = prefix;
  if (!after_key.empty()) {
    if (after_key.compare(0, prefix.size(), prefix) != 0) {
      return absl::InvalidArgumentError("page.page_token: belongs to a different filter");
    }
    start = after_key + std::string(1, '\0');
  }
  Page page;
  size_t examined = 0;
  std::string last_row;
  bool more = false;
  absl::Status read_status;
  absl::Status s = store_->Scan(
      complaint_index_, start, store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (page.complaints.size() == limit || examined == max_examined) {
          more = true;
          return false;
        }
        ++examined;
        last_row = std::string(row);
        if (row.size() <= prefix.size() + 8) return true;
        const std::string id(row.substr(prefix.size() + 8));
        auto c = complaints_.Get(id);
        if (!c.ok()) {
          read_status = c.status();
          return false;
        }
        // Filters and visibility never look at PII: open only what is returned.
        if (c->has_value() && Matches(**c, f) && visible(**c)) {
          if (absl::Status opened = sealed_.Open(id, **c); !opened.ok()) {
            read_status = opened;
            return false;
          }
          page.complaints.push_back(**c);
        }
        return true;
      });
  if (!s.ok()) return s;
  if (!read_status.ok()) return read_status;
  if (more) page.last_key = last_row;
  return page;
}

absl::Status ComplaintRepository::ForEachCreated(
    absl::Time start, absl::Time end,
    const std::function<bool(const v1::Complaint&)>& visit) const {
  if (end <= start) return absl::OkStatus();
  const std::string prefix = Prefix("all", "");
  // Rows hold UINT64_MAX - micros: [start, end) is the inverted range
  // (MAX - end, MAX - start].
  const std::string from = prefix + store::EncodeU64(UINT64_MAX - (Micros(end) - 1));
  const std::string to = prefix + store::EncodeU64(UINT64_MAX - Micros(start) + 1);
  absl::Status read_status;
  absl::Status s = store_->Scan(
      complaint_index_, from, Micros(start) == 0 ? store::PrefixSuccessor(prefix) : to,
      [&](absl::string_view row, absl::string_view) {
        if (row.size() <= prefix.size() + 8) return true;
        auto c = complaints_.Get(row.substr(prefix.size() + 8));
        if (!c.ok()) {
          read_status = c.status();
          return false;
        }
        if (!c->has_value()) return true;
        return visit(**c);
      });
  if (!s.ok()) return s;
  return read_status;
}

absl::StatusOr<std::vector<std::pair<v1::ComplaintState, int64_t>>>
ComplaintRepository::CountByState() const {
  std::vector<std::pair<v1::ComplaintState, int64_t>> counts;
  for (int i = v1::ComplaintState_MIN; i <= v1::ComplaintState_MAX; ++i) {
    if (!v1::ComplaintState_IsValid(i) || i == v1::COMPLAINT_STATE_UNSPECIFIED) continue;
    const auto state = static_cast<v1::ComplaintState>(i);
    const std::string prefix = Prefix("state", v1::ComplaintState_Name(state));
    int64_t n = 0;
    absl::Status s = store_->Scan(complaint_index_, prefix, store::PrefixSuccessor(prefix),
                                  [&](absl::string_view, absl::string_view) {
                                    ++n;
                                    return true;
                                  });
    if (!s.ok()) return s;
    counts.emplace_back(state, n);
  }
  return counts;
}

}  // namespace aftersales::complaint
