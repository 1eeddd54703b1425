#include "intake/intake_background.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "intake/domain/compensation.h"
#include "intake/domain/lifecycle.h"
#include "intake/intake_privacy.h"
#include "rpc/rpc.h"

namespace aftersales::intake {
namespace {

std::string CauseRef(const v1::Event& e) {
  return absl::StrCat(e.producer(), ":", e.seq());
}

// Stages `change` of the event's order; an order intake does not know (or
// one already gone) makes the event skip, not block the stream.
absl::Status StageChange(IntakeCore& core, store::Batch& batch,
                         const std::string& order_id, const v1::Event& event,
                         const std::function<absl::StatusOr<domain::Change>(
                             const v1::WorkOrder&, const domain::Context&)>& fn) {
  if (order_id.empty()) return absl::InvalidArgumentError("event has no order id");
  return core.Stage(batch, order_id,
                    [&](const v1::WorkOrder& order,
                        const v1::IntakePolicy& policy) -> absl::StatusOr<domain::Change> {
                      return fn(order, core.SystemContext(CauseRef(event), policy));
                    });
}

}  // namespace

absl::Status ApplyDispatchEvent(IntakeCore& core, const v1::Event& e,
                                store::Batch& batch) {
  using C = domain::Context;
  switch (e.body_case()) {
    case v1::Event::kOfferAccepted:
      return StageChange(core, batch, e.offer_accepted().order_id(), e,
                         [&](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyOfferAccepted(o, e.offer_accepted(), ctx);
                         });
    case v1::Event::kOfferRejected:
      return StageChange(core, batch, e.offer_rejected().order_id(), e,
                         [](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyOfferDeclined(o, ctx);
                         });
    case v1::Event::kOfferTimedOut:
      return StageChange(core, batch, e.offer_timed_out().order_id(), e,
                         [](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyOfferDeclined(o, ctx);
                         });
    case v1::Event::kOrderUnassignable:
      return StageChange(core, batch, e.order_unassignable().order_id(), e,
                         [](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyUnassignable(o, ctx);
                         });
    case v1::Event::kEtaUpdated:
      return StageChange(core, batch, e.eta_updated().order_id(), e,
                         [&](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyEtaUpdated(o, e.eta_updated(), ctx);
                         });
    default:
      return absl::OkStatus();  // not intake's concern
  }
}

absl::Status ApplyPartsEvent(IntakeCore& core, const v1::Event& e, store::Batch& batch) {
  using C = domain::Context;
  switch (e.body_case()) {
    case v1::Event::kPartsBackordered:
      return StageChange(core, batch, e.parts_backordered().order_id(), e,
                         [](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyPartsBackordered(o, ctx);
                         });
    case v1::Event::kPartsAvailable:
      return StageChange(core, batch, e.parts_available().order_id(), e,
                         [&](const v1::WorkOrder& o, const C& ctx) {
                           return domain::ApplyPartsAvailable(o, e.parts_available(), ctx);
                         });
    default:
      return absl::OkStatus();
  }
}

absl::Status ApplyComplaintEvent(IntakeCore& core, const v1::Event& e,
                                 store::Batch& batch) {
  if (e.has_customer_erased()) return ApplyErasureConfirmation(core, e, batch);
  if (e.has_complaint_filed() && !e.complaint_filed().order_id().empty()) {
    return StageChange(core, batch, e.complaint_filed().order_id(), e,
                       [&](const v1::WorkOrder& o, const domain::Context& ctx) {
                         return domain::ApplyComplaintFiled(
                             o, e.complaint_filed().complaint_id(), ctx);
                       });
  }
  if (e.has_complaint_resolved() && e.complaint_resolved().has_compensation()) {
    const auto& r = e.complaint_resolved();
    if (r.compensation().value_case() == v1::CompensationValue::VALUE_NOT_SET) {
      return absl::OkStatus();
    }
    v1::CompensationEntry entry;
    entry.set_idempotency_key(absl::StrCat("complaint/", r.complaint_id()));
    entry.set_entry_id(entry.idempotency_key());
    entry.set_customer_id(r.customer_id());
    entry.set_order_id(r.order_id());
    entry.set_reason(v1::COMPENSATION_REASON_COMPLAINT_RESOLUTION);
    *entry.mutable_value() = r.compensation();
    *entry.mutable_policy() = r.policy();
    entry.set_state(v1::COMPENSATION_STATE_GRANTED);
    *entry.mutable_granted_at() = rpc::ToProto(core.host().clock().Now());
    entry.set_source_ref(absl::StrCat("complaint:", r.complaint_id()));
    entry.set_explanation("compensation decided when the complaint was resolved");
    if (r.order_id().empty()) return core.StageLedger(batch, entry);
    // On an order: the entry is on the order as well as in the ledger.
    return StageChange(core, batch, r.order_id(), e,
                       [&](const v1::WorkOrder& o, const domain::Context& ctx)
                           -> absl::StatusOr<domain::Change> {
                         domain::Change c;
                         c.order = o;
                         for (const auto& existing : o.compensations()) {
                           if (existing.idempotency_key() == entry.idempotency_key()) {
                             return c;
                           }
                         }
                         *c.order.add_compensations() = entry;
                         c.order.set_version(o.version() + 1);
                         *c.order.mutable_updated_at() = rpc::ToProto(ctx.now);
                         v1::Event granted;
                         granted.set_producer("intake");
                         *granted.mutable_occurred_at() = rpc::ToProto(ctx.now);
                         granted.set_subject_id(o.order_id());
                         *granted.mutable_compensation_granted()->mutable_entry() = entry;
                         c.events.push_back(granted);
                         c.compensations.push_back(entry);
                         return c;
                       });
  }
  return absl::OkStatus();
}

absl::Status ApplySatisfactionEvent(IntakeCore& core, const v1::Event& e,
                                    store::Batch& batch) {
  if (e.has_customer_erased()) return ApplyErasureConfirmation(core, e, batch);
  if (e.has_problem_not_solved()) {
    const auto& p = e.problem_not_solved();
    return StageChange(core, batch, p.order_id(), e,
                       [&](const v1::WorkOrder& o, const domain::Context& ctx) {
                         v1::ProgressReport reopen;
                         reopen.set_client_event_id(absl::StrCat("survey:", p.survey_id()));
                         reopen.set_order_id(o.order_id());
                         reopen.mutable_reopen()->set_source(v1::REOPEN_SOURCE_SURVEY);
                         reopen.mutable_reopen()->set_reason("customer: problem not solved");
                         reopen.mutable_reopen()->set_survey_id(p.survey_id());
                         return domain::ApplyProgress(o, reopen, ctx);
                       });
  }
  if (e.has_survey_answered()) {
    const auto& a = e.survey_answered();
    return StageChange(core, batch, a.order_id(), e,
                       [&](const v1::WorkOrder& o, const domain::Context& ctx)
                           -> absl::StatusOr<domain::Change> {
                         if (o.state() != v1::ORDER_STATE_CONFIRMED) {
                           domain::Change unchanged;
                           unchanged.order = o;
                           return unchanged;  // followed up already (or reopened)
                         }
                         v1::ProgressReport done;
                         done.set_client_event_id(absl::StrCat("survey:", a.survey_id()));
                         done.set_order_id(o.order_id());
                         // "Not solved" arrives as ProblemNotSolved and reopens.
                         done.mutable_followed_up()->set_note("survey answered");
                         auto change = domain::ApplyProgress(o, done, ctx);
                         if (change.ok()) {
                           change->order.mutable_follow_up()->set_survey_id(a.survey_id());
                         }
                         return change;
                       });
  }
  if (e.has_five_star_granted()) {
    const auto& f = e.five_star_granted();
    auto policy = core.policy().Current();
    v1::WorkOrder order;
    order.set_order_id(f.order_id());
    order.set_customer_id(f.customer_id());
    return core.StageLedger(
        batch, domain::PriorityServiceRight(order, policy->compensation(), policy->ref(),
                                            core.host().clock().Now(), f.survey_id()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> SweepDueOrders(IntakeCore& core) {
  const absl::Time now = core.host().clock().Now();
  auto due = core.repo().DueForSweep(now, 500);
  if (!due.ok()) return due.status();
  int swept = 0;
  for (const std::string& id : *due) {
    auto order = core.Update(id, [&](const v1::WorkOrder& o, const v1::IntakePolicy& policy)
                                     -> absl::StatusOr<domain::Change> {
      domain::Change change =
          domain::Sweep(o, core.SystemContext("timer:sla-sweeper", policy));
      if (change.events.empty()) {
        // Nothing crossed a threshold (e.g. a pause moved the deadline): keep
        // the order as it is; Update still moves its sweep row.
        change.order = o;
      }
      return change;
    });
    if (!order.ok() && order.status().code() != absl::StatusCode::kNotFound) {
      return order.status();
    }
    ++swept;
  }
  return swept;
}

void RunSweeper(IntakeCore& core) {
  Clock& clock = core.host().clock();
  while (!core.host().stop().stopped()) {
    auto swept = SweepDueOrders(core);
    if (!swept.ok()) {
      std::cerr << "intake: sla sweep failed: " << swept.status() << std::endl;
    }
    if (swept.ok() && *swept == 500) continue;  // more are due right now
    // A manual clock moved forward wakes this at once; new orders with
    // earlier deadlines are picked up within the real-time cap.
    clock.WaitUntil(clock.Now() + absl::Minutes(1), absl::Milliseconds(250));
  }
}

}  // namespace aftersales::intake
