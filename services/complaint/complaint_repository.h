#ifndef AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_REPOSITORY_H_
#define AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_REPOSITORY_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/complaint.pb.h"
#include "complaint/domain/grading.h"
#include "privacy/customer_keys.h"
#include "privacy/sealed_fields.h"
#include "store/idempotency.h"
#include "store/queue_index.h"
#include "store/store.h"

namespace aftersales::complaint {

// Complaints and everything derived from them in complaint's RocksDB: the
// records, their list indexes (also the customer and model histories the
// grading rules read), the deadline index the sweeper reads, pending
// mass-impact regrades, and the per-order context fed by intake's stream with
// the order-count index behind "per 1,000 orders". Stage() writes a complaint
// with every derived row and its events in one batch, so indexes never
// disagree with the records.
class ComplaintRepository {
 public:
  // The complaint text (the customer's words) and masked customer view are
  // sealed with the customer's data key (`keys`) in their own row (SPEC §8).
  ComplaintRepository(store::Store* store, privacy::CustomerKeys* keys);
  static std::vector<std::string> ColumnFamilies();

  store::Store& store() { return *store_; }
  const store::IdempotencyKeys& idempotency() const { return idempotency_; }

  absl::StatusOr<std::optional<v1::Complaint>> Get(const std::string& complaint_id) const;
  // The complaint as stored, its PII still sealed (no key read, no
  // decryption): for decisions on grade, state and clocks.
  absl::StatusOr<std::optional<v1::Complaint>> GetSealed(const std::string& complaint_id) const {
    return complaints_.Get(complaint_id);
  }

  // Writes `after` (new when `before` is null) with its index rows, its
  // sealed PII, its deadline row at `next_sweep` (none for InfiniteFuture)
  // and `events`. Fails only when the customer's key cannot be read.
  absl::Status Stage(store::Batch& batch, const v1::Complaint* before, const v1::Complaint& after,
             absl::Time next_sweep, const std::vector<v1::Event>& events);

  // Complaints of a customer / on an appliance model (ModelKey) created at
  // or after `since`, newest first, at most `limit`; read from index rows only.
  absl::StatusOr<std::vector<domain::EarlierComplaint>> ByCustomerSince(
      const std::string& customer_id, absl::Time since, size_t limit) const;
  absl::StatusOr<std::vector<domain::EarlierComplaint>> ByModelSince(
      const std::string& model, absl::Time since, size_t limit) const;

  // Deadline rows due at or before `now`, earliest first: (row, complaint id).
  struct DueRow {
    std::string row;
    std::string complaint_id;
  };
  absl::StatusOr<std::vector<DueRow>> DueForSweep(absl::Time now, size_t limit) const;
  // Removes a deadline row that is no longer the complaint's current one.
  void DropSweepRow(store::Batch& batch, const std::string& row);

  // Mass-impact regrades waiting for the background loop.
  struct PendingFloor {
    std::string key;
    std::string complaint_id;
    v1::FiredRule rule;
  };
  void QueueFloorRule(store::Batch& batch, const std::string& complaint_id,
                      const std::string& source_id, const v1::FiredRule& rule);
  absl::StatusOr<std::vector<PendingFloor>> PendingFloorRules(size_t limit) const;
  void DropFloorRule(store::Batch& batch, const std::string& key);

  // Order facts from intake's stream, and the order-count index: one row per
  // order under "all", its region and (once known) its partner, at the
  // order's creation time.
  absl::StatusOr<std::optional<v1::LinkedOrderContext>> OrderContext(
      const std::string& order_id) const;
  void StageOrderContext(store::Batch& batch, const v1::LinkedOrderContext* before,
                         const v1::LinkedOrderContext& after);
  // Orders created in [start, end) under dimension "all" (key ""), "region"
  // or "partner".
  absl::StatusOr<int64_t> CountOrders(absl::string_view dimension, absl::string_view key,
                                      absl::Time start, absl::Time end) const;

  // Complaints matching `filter`, newest first, through the most selective
  // index (order, customer, partner, region, state, grade, category, or all);
  // examines at most `max_examined` index rows; last_key resumes.
  struct Page {
    std::vector<v1::Complaint> complaints;
    std::string last_key;
  };
  absl::StatusOr<Page> List(const v1::ListComplaintsRequest& filter,
                            const std::function<bool(const v1::Complaint&)>& visible,
                            const std::string& after_key, size_t limit,
                            size_t max_examined = 5000) const;

  // Every complaint created in [start, end), newest first, until `visit`
  // returns false. For statistics: the PII fields are not restored.
  absl::Status ForEachCreated(absl::Time start, absl::Time end,
                              const std::function<bool(const v1::Complaint&)>& visit) const;

  // Number of complaints in each state (index rows only).
  absl::StatusOr<std::vector<std::pair<v1::ComplaintState, int64_t>>> CountByState() const;

  // Whether a complaint holds sealed PII.
  // The customer data keys (erasure shreds one).
  privacy::CustomerKeys& keys() { return *keys_; }
  absl::StatusOr<bool> HasSealedPii(const std::string& complaint_id) const {
    return sealed_.Has(complaint_id);
  }

 private:
  absl::StatusOr<std::vector<domain::EarlierComplaint>> Since(absl::string_view dimension,
                                                              absl::string_view value,
                                                              absl::Time since,
                                                              size_t limit) const;

  store::Store* store_;
  privacy::CustomerKeys* keys_;
  privacy::SealedFields sealed_;
  store::Table<v1::Complaint> complaints_;
  store::IdempotencyKeys idempotency_;
  store::Table<v1::LinkedOrderContext> order_context_;
  store::RecordQueue<v1::FiredRule> floor_queue_;
  rocksdb::ColumnFamilyHandle* complaint_index_;
  rocksdb::ColumnFamilyHandle* order_index_;
  store::QueueIndex sweep_index_;
  rocksdb::ColumnFamilyHandle* sweep_at_;
};

}  // namespace aftersales::complaint

#endif  // AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_REPOSITORY_H_
