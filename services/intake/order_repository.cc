#include "intake/order_repository.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "rpc/rpc.h"
#include "store/keys.h"

namespace aftersales::intake {
namespace {

constexpr char kOrders[] = "orders";
constexpr char kIdempotency[] = "idempotency";
constexpr char kProgress[] = "progress_results";
constexpr char kLedger[] = "ledger";
constexpr char kOrderIndex[] = "order_index";
constexpr char kLedgerIndex[] = "ledger_index";
constexpr char kSweepIndex[] = "sweep_index";
constexpr char kSweepAt[] = "sweep_at";  // order id -> its sweep index key
constexpr char kSealedPii[] = "sealed_pii";
constexpr char kErasures[] = "erasures";  // erasure reports (intake_privacy.cc)

// What of an order is PII (SPEC §8): contact details, the customer's own
// words, and the masked view derived from them.
const std::vector<std::string>& PiiPaths() {
  static const std::vector<std::string> paths = {
      "contact.name",        "contact.phone",         "contact.full_address",
      "contact.alt_phone",   "fault.description",     "expectation.text",
      "customer.display_name", "customer.masked_phone"};
  return paths;
}

std::string NewestFirst(const google::protobuf::Timestamp& t) {
  return store::NewestFirstKey(absl::ToUnixMicros(rpc::FromProto(t)));
}

std::string Prefix(absl::string_view dim, absl::string_view value) {
  std::string p = store::CompositeKey({dim, value});
  p.push_back('\0');
  return p;
}

std::set<std::string> OrderIndexRows(const v1::WorkOrder& o) {
  const std::string tail = NewestFirst(o.created_at()) + o.order_id();
  std::set<std::string> rows = {
      Prefix("all", "") + tail,
      Prefix("state", v1::OrderState_Name(o.state())) + tail,
      Prefix("region", o.service_area().region_code()) + tail,
      Prefix("customer", o.customer_id()) + tail,
      Prefix("serial", o.appliance().serial()) + tail,
  };
  if (o.has_assignment()) {
    rows.insert(Prefix("partner", o.assignment().partner_id()) + tail);
    rows.insert(Prefix("engineer", o.assignment().engineer_id()) + tail);
  }
  return rows;
}

std::set<std::string> LedgerIndexRows(const v1::CompensationEntry& e) {
  const std::string tail = NewestFirst(e.granted_at()) + e.idempotency_key();
  std::set<std::string> rows = {Prefix("all", "") + tail,
                                Prefix("customer", e.customer_id()) + tail};
  if (!e.order_id().empty()) rows.insert(Prefix("order", e.order_id()) + tail);
  return rows;
}

// The primary key at the end of an index row under `prefix`.
std::string KeyAfter(absl::string_view row, size_t prefix_size) {
  return std::string(row.substr(prefix_size + 8));
}

bool Matches(const v1::WorkOrder& o, const v1::ListOrdersRequest& f) {
  if (f.states_size() > 0 &&
      std::find(f.states().begin(), f.states().end(), o.state()) == f.states().end()) {
    return false;
  }
  if (f.priority() != v1::PRIORITY_UNSPECIFIED && o.priority() != f.priority()) return false;
  if (!f.region_code().empty() && o.service_area().region_code() != f.region_code()) {
    return false;
  }
  if (!f.customer_id().empty() && o.customer_id() != f.customer_id()) return false;
  if (!f.engineer_id().empty() && o.assignment().engineer_id() != f.engineer_id()) {
    return false;
  }
  if (!f.partner_id().empty() && o.assignment().partner_id() != f.partner_id()) {
    return false;
  }
  if (f.order_type() != v1::ORDER_TYPE_UNSPECIFIED && o.order_type() != f.order_type()) {
    return false;
  }
  if (f.rework_only() && !o.is_rework()) return false;
  if (f.has_created()) {
    const absl::Time t = rpc::FromProto(o.created_at());
    if (f.created().has_start() && t < rpc::FromProto(f.created().start())) return false;
    if (f.created().has_end() && t >= rpc::FromProto(f.created().end())) return false;
  }
  if (f.at_risk_only() || f.breached_only()) {
    bool at_risk = false, breached = false;
    for (const auto& c : o.sla_clocks()) {
      if (c.outcome() == v1::SLA_OUTCOME_BREACHED) breached = true;
      if (c.outcome() == v1::SLA_OUTCOME_RUNNING && c.at_risk()) at_risk = true;
    }
    if (f.at_risk_only() && !at_risk) return false;
    if (f.breached_only() && !breached) return false;
  }
  return true;
}

}  // namespace

OrderRepository::OrderRepository(store::Store* store, privacy::CustomerKeys* keys)
    : store_(store),
      keys_(keys),
      sealed_(store, kSealedPii, "order", keys, PiiPaths()),
      orders_(store, kOrders),
      idempotency_(store, kIdempotency),
      progress_(store, kProgress),
      ledger_(store, kLedger),
      order_index_(store->Family(kOrderIndex)),
      ledger_index_(store->Family(kLedgerIndex)),
      sweep_index_(store, kSweepIndex) {}

std::vector<std::string> OrderRepository::ColumnFamilies() {
  return {kOrders,     kIdempotency, kProgress, kLedger,    kOrderIndex,
          kLedgerIndex, kSweepIndex, kSweepAt,  kSealedPii, privacy::kCustomerKeysFamily,
          kErasures};
}

store::KeyLocks::Guard OrderRepository::Lock(const std::string& order_id) {
  return store_->locks().Lock({"order/" + order_id});
}

absl::StatusOr<std::optional<v1::WorkOrder>> OrderRepository::Get(
    const std::string& order_id) const {
  return Load(order_id);
}

absl::StatusOr<std::optional<v1::WorkOrder>> OrderRepository::Load(
    absl::string_view order_id) const {
  auto order = orders_.Get(order_id);
  if (!order.ok() || !order->has_value()) return order;
  if (absl::Status s = sealed_.Open(std::string(order_id), **order); !s.ok()) return s;
  return order;
}

absl::Status OrderRepository::Stage(store::Batch& batch, const v1::WorkOrder* before,
                                    const v1::WorkOrder& after, absl::Time next_sweep,
                                    std::vector<v1::Event> events,
                                    const std::vector<v1::CompensationEntry>& ledger) {
  v1::WorkOrder stored = after;
  if (absl::Status s = sealed_.Seal(batch, after.order_id(), after.customer_id(), stored,
                                    before, rpc::FromProto(after.updated_at()));
      !s.ok()) {
    return s;
  }
  orders_.Put(batch, after.order_id(), stored);
  const std::set<std::string> old_rows =
      before ? OrderIndexRows(*before) : std::set<std::string>();
  const std::set<std::string> new_rows = OrderIndexRows(after);
  for (const auto& r : old_rows) {
    if (!new_rows.count(r)) batch.Delete(order_index_, r);
  }
  for (const auto& r : new_rows) {
    if (!old_rows.count(r)) batch.Put(order_index_, r, "");
  }

  // The sweep row: replace whatever row the order had.
  rocksdb::ColumnFamilyHandle* sweep_at = store_->Family(kSweepAt);
  if (before != nullptr) {  // a new order has no sweep row to replace
    auto old_row = store_->Get(sweep_at, after.order_id());
    if (old_row.ok() && old_row->has_value()) sweep_index_.Delete(batch, **old_row);
  }
  if (next_sweep == absl::InfiniteFuture()) {
    batch.Delete(sweep_at, after.order_id());
  } else {
    const std::string row =
        store::EncodeU64(static_cast<uint64_t>(
            std::max<int64_t>(absl::ToUnixMicros(next_sweep), 0))) +
        after.order_id();
    sweep_index_.Put(batch, row);
    batch.Put(sweep_at, after.order_id(), row);
  }

  for (auto& e : events) batch.AppendEvent(std::move(e));
  for (const auto& entry : ledger) StageLedgerEntry(batch, entry);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> OrderRepository::IdsByIndex(
    absl::string_view kind, const std::string& value, size_t limit) const {
  const std::string prefix = Prefix(kind, value);
  std::vector<std::string> ids;
  absl::Status s = store_->Scan(order_index_, prefix, store::PrefixSuccessor(prefix),
                                [&](absl::string_view row, absl::string_view) {
                                  ids.push_back(KeyAfter(row, prefix.size()));
                                  return ids.size() < limit;
                                });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<std::vector<v1::WorkOrder>> OrderRepository::BySerial(
    const std::string& serial, size_t limit) const {
  auto ids = IdsByIndex("serial", serial, limit);
  if (!ids.ok()) return ids.status();
  std::vector<v1::WorkOrder> out;
  for (const auto& id : *ids) {
    auto o = Load(id);
    if (!o.ok()) return o.status();
    if (o->has_value()) out.push_back(**o);
  }
  return out;
}

absl::StatusOr<std::map<v1::OrderState, int64_t>> OrderRepository::CountByState() const {
  std::map<v1::OrderState, int64_t> counts;
  for (int i = v1::OrderState_MIN; i <= v1::OrderState_MAX; ++i) {
    if (!v1::OrderState_IsValid(i) || i == v1::ORDER_STATE_UNSPECIFIED) continue;
    const auto state = static_cast<v1::OrderState>(i);
    const std::string prefix = Prefix("state", v1::OrderState_Name(state));
    int64_t n = 0;
    absl::Status s = store_->Scan(order_index_, prefix, store::PrefixSuccessor(prefix),
                                  [&](absl::string_view, absl::string_view) {
                                    ++n;
                                    return true;
                                  });
    if (!s.ok()) return s;
    counts[state] = n;
  }
  return counts;
}

absl::StatusOr<std::vector<std::string>> OrderRepository::DueForSweep(
    absl::Time now, size_t limit) const {
  const std::string end = store::EncodeU64(
      static_cast<uint64_t>(std::max<int64_t>(absl::ToUnixMicros(now), 0)) + 1);
  std::vector<std::string> ids;
  absl::Status s = sweep_index_.Scan(end, [&](absl::string_view row, absl::string_view) {
    ids.emplace_back(row.substr(8));
    return ids.size() < limit;
  });
  if (!s.ok()) return s;
  return ids;
}

absl::StatusOr<std::optional<v1::ProgressResult>> OrderRepository::ProgressResultOf(
    const std::string& order_id, const std::string& client_event_id) const {
  return progress_.Get(store::CompositeKey({order_id, client_event_id}));
}

void OrderRepository::StageProgressResult(store::Batch& batch,
                                          const v1::ProgressResult& result) {
  progress_.Put(batch, store::CompositeKey({result.order_id(), result.client_event_id()}),
                result);
}

absl::StatusOr<std::optional<v1::CompensationEntry>> OrderRepository::LedgerEntry(
    const std::string& key) const {
  return ledger_.Get(key);
}

void OrderRepository::StageLedgerEntry(store::Batch& batch,
                                       const v1::CompensationEntry& entry) {
  ledger_.Put(batch, entry.idempotency_key(), entry);
  for (const auto& row : LedgerIndexRows(entry)) batch.Put(ledger_index_, row, "");
}

absl::StatusOr<OrderRepository::LedgerPage> OrderRepository::ListLedger(
    const std::string& customer_id, const std::string& order_id,
    const std::string& after_key, size_t limit) const {
  const std::string prefix = !order_id.empty()      ? Prefix("order", order_id)
                             : !customer_id.empty() ? Prefix("customer", customer_id)
                                                    : Prefix("all", "");
  std::string start = prefix;
  if (!after_key.empty()) start = after_key + std::string(1, '\0');
  LedgerPage page;
  std::vector<std::pair<std::string, std::string>> rows;  // row, entry key
  absl::Status s = store_->Scan(ledger_index_, start, store::PrefixSuccessor(prefix),
                                [&](absl::string_view row, absl::string_view) {
                                  rows.emplace_back(std::string(row),
                                                    KeyAfter(row, prefix.size()));
                                  return rows.size() <= limit;
                                });
  if (!s.ok()) return s;
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    auto e = ledger_.Get(rows[i].second);
    if (!e.ok()) return e.status();
    if (e->has_value()) page.entries.push_back(**e);
  }
  if (rows.size() > limit) page.last_key = rows[limit - 1].first;
  return page;
}

absl::StatusOr<OrderRepository::OrderPage> OrderRepository::List(
    const v1::ListOrdersRequest& f,
    const std::function<bool(const v1::WorkOrder&)>& visible,
    const std::string& after_key, size_t limit, size_t max_examined) const {
  std::string prefix;
  if (!f.engineer_id().empty()) {
    prefix = Prefix("engineer", f.engineer_id());
  } else if (!f.partner_id().empty()) {
    prefix = Prefix("partner", f.partner_id());
  } else if (!f.customer_id().empty()) {
    prefix = Prefix("customer", f.customer_id());
  } else if (f.states_size() == 1) {
    prefix = Prefix("state", v1::OrderState_Name(f.states(0)));
  } else if (!f.region_code().empty()) {
    prefix = Prefix("region", f.region_code());
  } else {
    prefix = Prefix("all", "");
  }
  std::string start = prefix;
  if (!after_key.empty()) {
    if (after_key.compare(0, prefix.size(), prefix) != 0) {
      return absl::InvalidArgumentError(
          "page.page_token: belongs to a different filter");
    }
    start = after_key + std::string(1, '\0');
  }
  OrderPage page;
  size_t examined = 0;
  std::string last_row;
  bool more = false;
  absl::Status read_status;
  absl::Status s = store_->Scan(
      order_index_, start, store::PrefixSuccessor(prefix),
      [&](absl::string_view row, absl::string_view) {
        if (page.orders.size() == limit || examined == max_examined) {
          more = true;
          return false;
        }
        ++examined;
        last_row = std::string(row);
        const std::string id = KeyAfter(row, prefix.size());
        auto o = orders_.Get(id);
        if (!o.ok()) {
          read_status = o.status();
          return false;
        }
        // Filters and visibility never look at PII: open only what is returned.
        if (o->has_value() && Matches(**o, f) && visible(**o)) {
          if (absl::Status opened = sealed_.Open(id, **o); !opened.ok()) {
            read_status = opened;
            return false;
          }
          page.orders.push_back(**o);
        }
        return true;
      });
  if (!s.ok()) return s;
  if (!read_status.ok()) return read_status;
  if (more) page.last_key = last_row;
  return page;
}

absl::StatusOr<std::vector<std::string>> OrderRepository::OrderIdsOfCustomer(
    const std::string& customer_id, size_t limit) const {
  return IdsByIndex("customer", customer_id, limit);
}

}  // namespace aftersales::intake
