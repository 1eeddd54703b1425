#ifndef AFTERSALES_SERVICES_INTAKE_INTAKE_CORE_H_
#define AFTERSALES_SERVICES_INTAKE_INTAKE_CORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aftersales/v1/intake.pb.h"
#include "intake/domain/lifecycle.h"
#include "intake/intake_metrics.h"
#include "intake/order_repository.h"
#include "server/host.h"
#include "server/policy_holder.h"

namespace aftersales::intake {

using IntakePolicyHolder = server::PolicyHolder<v1::IntakePolicy>;

// What the intake handlers, event consumers and the SLA sweeper share: the
// repository, the active policy, metrics, and the one way an existing order
// changes — under its lock, in one synced batch with its events.
class IntakeCore {
 public:
  // `keys`: the customer data keys PII is sealed with (privacy::OpenServiceKeys).
  IntakeCore(server::ServiceHost& host, std::unique_ptr<IntakePolicyHolder> policy,
             privacy::CustomerKeys* keys);

  server::ServiceHost& host() { return host_; }
  OrderRepository& repo() { return repo_; }
  IntakePolicyHolder& policy() { return *policy_; }
  IntakeMetrics& metrics() { return metrics_; }

  // Computes a change of an order under the given policy.
  using ChangeFn = std::function<absl::StatusOr<domain::Change>(
      const v1::WorkOrder& order, const v1::IntakePolicy& policy)>;

  // Locks, loads (NOT_FOUND "order_id: no such order"), applies `fn`, and
  // commits the new order with its events and ledger entries; `extra` may
  // add rows to the same batch. Returns the order after the change.
  absl::StatusOr<v1::WorkOrder> Update(
      const std::string& order_id, const ChangeFn& fn,
      const std::function<void(store::Batch&, const v1::WorkOrder&)>& extra = nullptr);

  // The same change staged into `batch` (an event consumer's, which commits
  // it with its cursor); the order stays locked until the batch is gone.
  // A missing order is NOT_FOUND (the consumer then skips the event).
  absl::Status Stage(store::Batch& batch, const std::string& order_id,
                     const ChangeFn& fn);

  // A ledger entry not tied to an order change (complaint resolution without
  // an order, a five-star right): idempotent per key.
  absl::Status StageLedger(store::Batch& batch, const v1::CompensationEntry& entry);

  // The SYSTEM actor for timers and consumed events.
  domain::Context SystemContext(const std::string& cause_ref,
                                const v1::IntakePolicy& policy) const;

  // Counts stored orders by state for the open-orders gauge (start-up).
  absl::Status InitMetrics();

 private:
  server::ServiceHost& host_;
  OrderRepository repo_;
  std::unique_ptr<IntakePolicyHolder> policy_;
  IntakeMetrics metrics_;
};

}  // namespace aftersales::intake

#endif  // AFTERSALES_SERVICES_INTAKE_INTAKE_CORE_H_
