#ifndef AFTERSALES_SERVICES_PARTS_PARTS_CORE_H_
#define AFTERSALES_SERVICES_PARTS_PARTS_CORE_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/parts.pb.h"
#include "clock/clock.h"
#include "parts/location_directory.h"
#include "parts/parts_metrics.h"
#include "parts/parts_repository.h"
#include "parts/stock_tx.h"
#include "prometheus/registry.h"
#include "server/policy_holder.h"
#include "store/store.h"

namespace aftersales::parts {

using PartsPolicyHolder = server::PolicyHolder<v1::PartsPolicy>;

// Who asks for a stock movement: the idempotency scope and the actor the
// records keep.
struct Caller {
  std::string principal_id;
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string engineer_id;  // engineer principals
};

// Every state change of the parts inventory: handlers, the intake event
// consumer and the expiry sweeper all come here. Each operation runs as one
// StockTx under key locks and commits one synced batch with its events.
//
// Locking: "sku/<sku>" covers every (location, SKU) level of the SKU, its
// ledger and its backorder queue — the SKU is the unit of consistency
// because Reserve chooses among all its locations and a receipt must see
// every backorder queued for it. "order/<id>" covers an order's
// reservations, backorders and record. An operation starts with the keys it
// knows; when it finds it must touch more (allocation fills other orders'
// backorders), it retries holding them too, so no lock is ever taken while
// another is held (KeyLocks locks a whole set at once, in a fixed order).
class PartsCore {
 public:
  PartsCore(store::Store& store, Clock& clock, prometheus::Registry& registry,
            std::unique_ptr<PartsPolicyHolder> policy);

  // Loads the location directory and the metrics' start values.
  absl::Status Init();

  const PartsRepository& repo() const { return repo_; }
  const LocationDirectory& locations() const { return locations_; }
  PartsPolicyHolder& policy() { return *policy_; }
  PartsMetrics& metrics() { return metrics_; }
  Clock& clock() { return clock_; }

  // ---- catalog and locations (idempotent: the same body changes nothing) ----
  absl::StatusOr<v1::Part> UpsertPart(const v1::Part& part);
  absl::StatusOr<v1::StockLocation> UpsertLocation(const v1::StockLocation& location);

  // ---- stock movements ----
  // Idempotent per (caller, request_id): a retry returns the original record
  // (with the stock as it is now); another body is ALREADY_EXISTS.
  absl::StatusOr<v1::ReceiveResponse> Receive(const Caller& caller,
                                              const v1::ReceiveRequest& request);
  absl::StatusOr<v1::AdjustResponse> Adjust(const Caller& caller,
                                            const v1::AdjustRequest& request);
  absl::StatusOr<v1::StockTransfer> Transfer(const Caller& caller,
                                             const v1::TransferRequest& request);
  // Idempotent per transfer: a RECEIVED transfer is returned as it is.
  absl::StatusOr<v1::StockTransfer> ReceiveTransfer(const Caller& caller,
                                                    const std::string& transfer_id);
  absl::StatusOr<v1::StockLevel> SetReorder(const v1::SetReorderPolicyRequest& request);

  // ---- reservations ----
  absl::StatusOr<v1::ReserveResponse> Reserve(const v1::ReserveRequest& request);
  absl::StatusOr<v1::Consumption> Consume(const Caller& caller,
                                          const v1::ConsumeRequest& request);
  // Releases the order's ACTIVE reservations and cancels its WAITING
  // backorders (of `sku`, or all when empty). With ORDER_CANCELLED and no
  // SKU the order is marked cancelled: later Reserves are refused. When
  // `into` is set the change is staged there (an event consumer's batch)
  // instead of committed.
  absl::StatusOr<v1::ReleaseResponse> Release(const std::string& order_id,
                                              const std::string& sku,
                                              v1::ReleaseReason reason,
                                              store::Batch* into = nullptr);

  // ---- background ----
  // Expires ACTIVE reservations whose expiry is at or before now (at most
  // `limit`, read from the expiry index); returns how many were due.
  absl::StatusOr<int> ExpireDue(size_t limit);
  // When the next reservation expires (InfiniteFuture if none).
  absl::StatusOr<absl::Time> NextExpiry() const { return repo_.NextExpiry(); }
  // Intake's stream: OrderCreated / OrderPriorityChanged (priority for the
  // backorder queue) and OrderCancelled (release). Other events: OK.
  absl::Status ApplyIntakeEvent(const v1::Event& event, store::Batch& batch);

 private:
  template <typename R>
  absl::StatusOr<R> Transact(const std::vector<std::string>& keys,
                             const std::function<absl::StatusOr<R>(StockTx&)>& body,
                             store::Batch* into = nullptr);

  // Fills WAITING backorders of `sku` from what is available at `location_id`.
  absl::Status Allocate(StockTx& tx, const std::string& location_id, const std::string& sku,
                        std::vector<v1::Reservation>* allocated);
  absl::Status ReleaseReservation(StockTx& tx, const v1::Reservation& r,
                                  v1::ReleaseReason reason, v1::Reservation* after);
  absl::Status ExpireReservation(StockTx& tx, const v1::Reservation& r);
  absl::Status Reprioritize(StockTx& tx, const std::string& order_id, v1::Priority priority);
  absl::Status SetOrderPriority(const std::string& order_id, v1::Priority priority,
                                const google::protobuf::Timestamp* created_at,
                                store::Batch& batch);

  store::Store& store_;
  Clock& clock_;
  PartsRepository repo_;
  LocationDirectory locations_;
  std::unique_ptr<PartsPolicyHolder> policy_;
  PartsMetrics metrics_;
};

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_PARTS_CORE_H_
