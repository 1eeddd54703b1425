#include "store/queue_index.h"

#include <utility>

namespace aftersales::store {
namespace {

// Lowers `bound` to `key` (an empty optional is above every key).
void LowerTo(std::optional<std::string>& bound, const std::optional<std::string>& key) {
  if (key && (!bound || *key < *bound)) bound = key;
}

}  // namespace

QueueIndex::QueueIndex(Store* store, absl::string_view family)
    : store_(store), cf_(store->Family(family)) {}

void QueueIndex::Put(Batch& batch, absl::string_view key, absl::string_view value) const {
  std::string row(key);
  {
    absl::MutexLock lock(&mu_);
    LowerTo(floor_, row);
    LowerTo(put_since_pass_, row);
    ++in_flight_[row];
  }
  batch.Put(cf_, key, value);
  batch.HoldUntilDone(
      std::shared_ptr<void>(nullptr, [this, row = std::move(row)](void*) { Release(row); }));
}

void QueueIndex::Delete(Batch& batch, absl::string_view key) const { batch.Delete(cf_, key); }

void QueueIndex::Release(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = in_flight_.find(key);
  if (it != in_flight_.end() && --it->second == 0) in_flight_.erase(it);
}

absl::Status QueueIndex::Scan(
    absl::string_view end,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  std::string start;
  uint64_t pass;
  // Rows staged before this pass whose batches may commit after its
  // iterator was created: the pass may not see them.
  std::optional<std::string> in_flight_at_start;
  {
    absl::MutexLock lock(&mu_);
    if (!floor_) return absl::OkStatus();  // no row at all since the last pass
    start = *floor_;
    pass = ++pass_;
    put_since_pass_.reset();
    if (!in_flight_.empty()) in_flight_at_start = in_flight_.begin()->first;
  }
  std::optional<std::string> first;
  absl::Status s = store_->Scan(cf_, start, end, [&](absl::string_view k, absl::string_view v) {
    if (!first) first = std::string(k);
    return visit(k, v);
  });
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  if (pass != pass_) return s;  // a later pass began; it raises the floor
  // Live now: rows this pass saw (none below `first`; none in [start, end)
  // if it saw nothing), rows at or above `end`, rows put since it began, and
  // rows in flight when it began.
  std::optional<std::string> floor = first;
  if (!floor && !end.empty()) floor = std::string(end);
  LowerTo(floor, put_since_pass_);
  LowerTo(floor, in_flight_at_start);
  floor_ = std::move(floor);
  return s;
}

std::optional<std::string> QueueIndex::floor() const {
  absl::MutexLock lock(&mu_);
  return floor_;
}

}  // namespace aftersales::store
