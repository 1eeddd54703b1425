#include "complaint/complaint_background.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "complaint/domain/lifecycle.h"
#include "rpc/rpc.h"

namespace aftersales::complaint {
namespace {

constexpr char kErasedText[] = "[erased at the customer's request]";

std::string CauseRef(const v1::Event& e) { return absl::StrCat(e.producer(), ":", e.seq()); }

// Loads the order's context under its lock (held until the batch is gone),
// lets `edit` change it and stages it when it changed.
absl::Status EditOrder(ComplaintCore& core, store::Batch& batch, const std::string& order_id,
                       const v1::Event& e,
                       const std::function<void(v1::LinkedOrderContext&)>& edit) {
  if (order_id.empty()) return absl::InvalidArgumentError("event has no order id");
  batch.HoldUntilDone(core.repo().store().locks().Lock({"orderctx/" + order_id}));
  auto loaded = core.repo().OrderContext(order_id);
  if (!loaded.ok()) return loaded.status();
  v1::LinkedOrderContext after;
  if (loaded->has_value()) {
    after = **loaded;
  } else {
    after.set_order_id(order_id);
    // Until OrderCreated arrives, the first event's time stands in for the
    // order's creation (it is replaced then).
    *after.mutable_order_created_at() = e.occurred_at();
  }
  edit(after);
  if (loaded->has_value() && (*loaded)->SerializeAsString() == after.SerializeAsString()) {
    return absl::OkStatus();
  }
  core.repo().StageOrderContext(batch, loaded->has_value() ? &**loaded : nullptr, after);
  return absl::OkStatus();
}

void SetAssignment(v1::LinkedOrderContext& o, const std::string& partner_id,
                   const std::string& engineer_id) {
  if (!partner_id.empty()) o.set_partner_id(partner_id);
  if (!engineer_id.empty()) o.set_engineer_id(engineer_id);
}

std::string DetractorText(const v1::DetractorDetected& d, const std::string& comment) {
  const std::string scores =
      absl::StrCat("detractor survey ", d.survey_id(), ": CSAT ", d.csat(), "/5, NPS ", d.nps(),
                   "/10", d.negative_comment() ? ", negative comment" : "");
  if (!comment.empty()) return absl::StrCat(comment, "\n[auto-filed from ", scores, "]");
  return absl::StrCat("满意度回访差评，系统自动投诉 / auto-filed from ", scores);
}

// SPEC §8 erasure: the customer's data key is deleted (crypto-shredding the
// sealed complaint texts) and the free texts complaint keeps in clear
// (appeal reasons, step notes) are overwritten; ids, grades, clocks and
// findings stay for the KPIs. Reports what it erased as CustomerErased.
absl::Status EraseCustomerTexts(ComplaintCore& core, store::Batch& batch,
                                const v1::CustomerErasureRequested& request) {
  const std::string& customer_id = request.customer_id();
  if (customer_id.empty()) return absl::InvalidArgumentError("event has no customer id");
  auto all = core.repo().ByCustomerSince(customer_id, absl::InfinitePast(), 100000);
  if (!all.ok()) return all.status();
  std::vector<std::string> keys = {"erasure/" + customer_id};
  for (const auto& c : *all) keys.push_back("complaint/" + c.complaint_id);
  batch.HoldUntilDone(core.repo().store().locks().Lock(keys));  // one call: no nested locks
  auto policy = core.policy().Current();
  const absl::Time now = core.host().clock().Now();
  int64_t sealed = 0;
  for (const auto& earlier : *all) {
    auto has = core.repo().HasSealedPii(earlier.complaint_id);
    if (!has.ok()) return has.status();
    sealed += *has ? 1 : 0;
    auto loaded = core.repo().Get(earlier.complaint_id);
    if (!loaded.ok()) return loaded.status();
    if (!loaded->has_value() || (*loaded)->text() == kErasedText) continue;
    v1::Complaint after = **loaded;
    after.set_text(kErasedText);
    for (auto& appeal : *after.mutable_appeals()) appeal.set_reason(kErasedText);
    for (auto& t : *after.mutable_transitions()) {
      if (!t.actor().reason().empty()) t.mutable_actor()->set_reason(kErasedText);
    }
    after.set_version(after.version() + 1);
    *after.mutable_updated_at() = rpc::ToProto(now);
    if (absl::Status s =
            core.repo().Stage(batch, &**loaded, after, domain::NextSweep(after, *policy), {});
        !s.ok()) {
      return s;
    }
  }
  // After the overwrites (which seal with the current key): shred the key.
  if (auto erased = core.repo().keys().Erase(batch, customer_id, now); !erased.ok()) {
    return erased.status();
  }
  v1::Event done;
  done.set_producer("complaint");
  *done.mutable_occurred_at() = rpc::ToProto(now);
  done.set_subject_id(customer_id);
  auto* d = done.mutable_customer_erased();
  d->set_customer_id(customer_id);
  d->set_request_id(request.request_id());
  d->set_service("complaint");
  auto* item = d->add_items();
  item->set_service("complaint");
  item->set_record_kind("complaint.text");
  item->set_count(sealed);
  *d->mutable_erased_at() = rpc::ToProto(now);
  batch.AppendEvent(done);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyIntakeEvent(ComplaintCore& core, const v1::Event& e, store::Batch& batch) {
  switch (e.body_case()) {
    case v1::Event::kOrderCreated: {
      const v1::WorkOrder& o = e.order_created().order();
      return EditOrder(core, batch, o.order_id(), e, [&](v1::LinkedOrderContext& c) {
        c.set_known(true);
        c.set_customer_id(o.customer_id());
        c.set_region_code(o.service_area().region_code());
        c.set_appliance_category(o.appliance().category());
        c.set_appliance_model(o.appliance().model());
        c.set_is_rework(c.is_rework() || o.is_rework());
        c.set_customer_tier(o.customer().tier() == v1::CUSTOMER_TIER_UNSPECIFIED
                                ? v1::CUSTOMER_TIER_STANDARD
                                : o.customer().tier());
        *c.mutable_order_created_at() = o.created_at();
        if (o.has_assignment()) {
          SetAssignment(c, o.assignment().partner_id(), o.assignment().engineer_id());
        }
      });
    }
    case v1::Event::kOrderStateChanged: {
      const auto& s = e.order_state_changed();
      if (s.partner_id().empty() && s.engineer_id().empty()) return absl::OkStatus();
      return EditOrder(core, batch, s.order_id(), e, [&](v1::LinkedOrderContext& c) {
        SetAssignment(c, s.partner_id(), s.engineer_id());
      });
    }
    case v1::Event::kSlaBreached: {
      const auto& b = e.sla_breached();
      return EditOrder(core, batch, b.order_id(), e, [&](v1::LinkedOrderContext& c) {
        c.set_sla_breached(true);
        if (std::find(c.breached_clocks().begin(), c.breached_clocks().end(), b.clock()) ==
            c.breached_clocks().end()) {
          c.add_breached_clocks(b.clock());
        }
        if (c.region_code().empty()) c.set_region_code(b.region_code());
        if (c.customer_id().empty()) c.set_customer_id(b.customer_id());
        SetAssignment(c, b.partner_id(), b.engineer_id());
      });
    }
    case v1::Event::kOrderConfirmedRepaired: {
      const auto& r = e.order_confirmed_repaired();
      return EditOrder(core, batch, r.order_id(), e, [&](v1::LinkedOrderContext& c) {
        SetAssignment(c, r.partner_id(), r.engineer_id());
        c.set_is_rework(c.is_rework() || r.is_rework());
        if (c.appliance_model().empty()) c.set_appliance_model(r.appliance_model());
        if (c.appliance_category().empty()) c.set_appliance_category(r.appliance_category());
        if (c.region_code().empty()) c.set_region_code(r.region_code());
        if (c.customer_id().empty()) c.set_customer_id(r.customer_id());
      });
    }
    case v1::Event::kCustomerErasureRequested:
      return EraseCustomerTexts(core, batch, e.customer_erasure_requested());
    default:
      return absl::OkStatus();  // not complaint's concern
  }
}

absl::Status ApplySatisfactionEvent(ComplaintCore& core, const v1::Event& e,
                                    store::Batch& batch) {
  if (!e.has_detractor_detected()) return absl::OkStatus();
  const v1::DetractorDetected& d = e.detractor_detected();
  std::string comment;
  if (core.survey_comment()) {
    auto fetched = core.survey_comment()(d.survey_id());
    if (fetched.ok()) {
      comment = *fetched;
    } else {
      switch (fetched.status().code()) {
        case absl::StatusCode::kUnavailable:
        case absl::StatusCode::kDeadlineExceeded:
        case absl::StatusCode::kResourceExhausted:
        case absl::StatusCode::kAborted:
          return absl::UnavailableError(
              absl::StrCat("satisfaction GetSurvey: ", fetched.status().message()));
        default:
          break;  // no comment to read: file with the scores
      }
    }
  }
  v1::FileComplaintRequest request;
  request.set_request_id(d.complaint_request_id().empty()
                             ? absl::StrCat("survey:", d.survey_id())
                             : d.complaint_request_id());
  request.set_customer_id(d.customer_id());
  request.set_order_id(d.order_id());
  request.set_channel(v1::COMPLAINT_CHANNEL_SURVEY_AUTO);
  request.set_text(DetractorText(d, comment));
  request.set_source_survey_id(d.survey_id());
  if (absl::Status s = domain::ValidateFileRequest(request); !s.ok()) return s;
  auto filed = core.StageFile(batch, request, "satisfaction", core.SystemActor(CauseRef(e)));
  return filed.status();
}

absl::StatusOr<int> RunBackgroundOnce(ComplaintCore& core, size_t limit) {
  auto due = core.repo().DueForSweep(core.host().clock().Now(), limit);
  if (!due.ok()) return due.status();
  for (const auto& row : *due) {
    if (absl::Status s = core.SweepOne(row); !s.ok()) return s;
  }
  auto pending = core.repo().PendingFloorRules(100);
  if (!pending.ok()) return pending.status();
  for (const auto& p : *pending) {
    auto updated = core.Update(
        p.complaint_id,
        [&](const v1::Complaint& c, const v1::ComplaintPolicy& policy) -> absl::StatusOr<domain::Change> {
          domain::Context ctx{core.host().clock().Now(),
                              core.SystemActor("timer:mass-impact-regrade"), &policy};
          return domain::ApplyFloorRule(c, p.rule, ctx);
        },
        [&](store::Batch& batch, const domain::Change&) {
          core.repo().DropFloorRule(batch, p.key);
        });
    if (!updated.ok() && updated.status().code() == absl::StatusCode::kNotFound) {
      store::Batch drop;
      core.repo().DropFloorRule(drop, p.key);
      if (absl::Status s = core.repo().store().Commit(drop); !s.ok()) return s;
    } else if (!updated.ok()) {
      return updated.status();
    }
  }
  return static_cast<int>(due->size());
}

void RunBackground(ComplaintCore& core) {
  Clock& clock = core.host().clock();
  while (!core.host().stop().stopped()) {
    auto swept = RunBackgroundOnce(core);
    if (!swept.ok()) {
      std::cerr << "complaint: background pass failed: " << swept.status() << std::endl;
    }
    if (swept.ok() && *swept == 500) continue;  // more are due right now
    // New complaints with earlier deadlines and queued regrades are picked
    // up within the real-time cap; a manual clock moved forward wakes it.
    clock.WaitUntil(clock.Now() + absl::Minutes(1), absl::Milliseconds(250));
  }
}

}  // namespace aftersales::complaint
