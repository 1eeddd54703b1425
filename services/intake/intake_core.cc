#include "intake/intake_core.h"

#include "rpc/rpc.h"

namespace aftersales::intake {

IntakeCore::IntakeCore(server::ServiceHost& host,
                       std::unique_ptr<IntakePolicyHolder> policy,
                       privacy::CustomerKeys* keys)
    : host_(host),
      repo_(&host.store(), keys),
      policy_(std::move(policy)),
      metrics_(host.registry()) {}

domain::Context IntakeCore::SystemContext(const std::string& cause_ref,
                                          const v1::IntakePolicy& policy) const {
  domain::Context ctx;
  ctx.now = host_.clock().Now();
  ctx.actor.set_principal_id("system");
  ctx.actor.set_role(v1::ROLE_SYSTEM);
  ctx.actor.set_cause_ref(cause_ref);
  ctx.policy = &policy;
  return ctx;
}

absl::StatusOr<v1::WorkOrder> IntakeCore::Update(
    const std::string& order_id, const ChangeFn& fn,
    const std::function<void(store::Batch&, const v1::WorkOrder&)>& extra) {
  auto policy = policy_->Current();
  auto guard = repo_.Lock(order_id);
  auto loaded = repo_.Get(order_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::NotFoundError("order_id: no such order");
  const v1::WorkOrder& before = **loaded;
  auto change = fn(before, *policy);
  if (!change.ok()) return change.status();
  store::Batch batch;
  if (absl::Status s = repo_.Stage(batch, &before, change->order,
                                   domain::NextSweep(change->order, *policy), change->events,
                                   change->compensations);
      !s.ok()) {
    return s;
  }
  if (extra) extra(batch, change->order);
  if (absl::Status s = repo_.store().Commit(batch); !s.ok()) return s;
  metrics_.Observe(&before, change->order, change->events);
  return std::move(change->order);
}

absl::Status IntakeCore::Stage(store::Batch& batch, const std::string& order_id,
                               const ChangeFn& fn) {
  auto policy = policy_->Current();
  batch.HoldUntilDone(repo_.Lock(order_id));
  auto loaded = repo_.Get(order_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::NotFoundError("order_id: no such order");
  const v1::WorkOrder& before = **loaded;
  auto change = fn(before, *policy);
  if (!change.ok()) return change.status();
  if (absl::Status s = repo_.Stage(batch, &before, change->order,
                                   domain::NextSweep(change->order, *policy), change->events,
                                   change->compensations);
      !s.ok()) {
    return s;
  }
  metrics_.Observe(&before, change->order, change->events);
  return absl::OkStatus();
}

absl::Status IntakeCore::StageLedger(store::Batch& batch,
                                     const v1::CompensationEntry& entry) {
  batch.HoldUntilDone(host_.store().locks().Lock({"ledger/" + entry.idempotency_key()}));
  auto existing = repo_.LedgerEntry(entry.idempotency_key());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return absl::OkStatus();
  repo_.StageLedgerEntry(batch, entry);
  v1::Event e;
  e.set_producer("intake");
  *e.mutable_occurred_at() = rpc::ToProto(host_.clock().Now());
  e.set_subject_id(entry.order_id().empty() ? entry.customer_id() : entry.order_id());
  *e.mutable_compensation_granted()->mutable_entry() = entry;
  batch.AppendEvent(e);
  const v1::WorkOrder none;
  metrics_.Observe(&none, none, {e});
  return absl::OkStatus();
}

absl::Status IntakeCore::InitMetrics() {
  std::vector<std::string> regions;
  for (const auto& r : policy_->Current()->regions()) regions.push_back(r.region_code());
  metrics_.SetRegions(
      [this](const std::string& code) {
        for (const auto& r : policy_->Current()->regions()) {
          if (r.region_code() == code) return true;
        }
        return false;
      },
      regions);
  auto counts = repo_.CountByState();
  if (!counts.ok()) return counts.status();
  for (const auto& [state, n] : *counts) {
    metrics_.SetOrdersByState(state, static_cast<double>(n));
  }
  return absl::OkStatus();
}

}  // namespace aftersales::intake
