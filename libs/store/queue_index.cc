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
    absl::MutexLock lock(&state_->mu);
    LowerTo(state_->floor, row);
    LowerTo(state_->put_since_pass, row);
    ++state_->in_flight[row];
  }
  batch.Put(cf_, key, value);
  // Released when the batch dies, i.e. after its commit (or if it is dropped).
  batch.HoldUntilDone(std::shared_ptr<void>(
      nullptr, [state = state_, row = std::move(row)](void*) {
        absl::MutexLock lock(&state->mu);
        auto it = state->in_flight.find(row);
        if (it != state->in_flight.end() && --it->second == 0) state->in_flight.erase(it);
      }));
}

void QueueIndex::Delete(Batch& batch, absl::string_view key) const { batch.Delete(cf_, key); }

absl::Status QueueIndex::Scan(
    absl::string_view end,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) const {
  State& st = *state_;
  std::string start;
  uint64_t pass;
  // Rows staged before this pass whose batches may commit after its
  // iterator was created: the pass may not see them.
  std::optional<std::string> in_flight_at_start;
  {
    absl::MutexLock lock(&st.mu);
    if (!st.floor) return absl::OkStatus();  // no row at all since the last pass
    start = *st.floor;
    pass = ++st.pass;
    st.put_since_pass.reset();
    if (!st.in_flight.empty()) in_flight_at_start = st.in_flight.begin()->first;
  }
  std::optional<std::string> first;
  absl::Status s = store_->Scan(cf_, start, end, [&](absl::string_view k, absl::string_view v) {
    if (!first) first = std::string(k);
    return visit(k, v);
  });
  if (!s.ok()) return s;
  absl::MutexLock lock(&st.mu);
  if (pass != st.pass) return s;  // a later pass began; it raises the floor
  // Live now: rows this pass saw (none below `first`; none in [start, end)
  // if it saw nothing), rows at or above `end`, rows put since it began, and
  // rows in flight when it began.
  std::optional<std::string> floor = first;
  if (!floor && !end.empty()) floor = std::string(end);
  LowerTo(floor, st.put_since_pass);
  LowerTo(floor, in_flight_at_start);
  st.floor = std::move(floor);
  return s;
}

std::optional<std::string> QueueIndex::floor() const {
  absl::MutexLock lock(&state_->mu);
  return state_->floor;
}

}  // namespace aftersales::store
