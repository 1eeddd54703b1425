#include "intake/domain/lifecycle.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "intake/domain/compensation.h"
#include "intake/domain/policy.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"
#include "sla/sla.h"

namespace aftersales::intake::domain {
namespace {

using v1::OrderState;
using v1::ProgressMilestone;
using v1::SlaClockKind;

constexpr SlaClockKind kCreationClocks[] = {
    v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_CLOCK_KIND_DISPATCH,
    v1::SLA_CLOCK_KIND_ARRIVAL, v1::SLA_CLOCK_KIND_REPAIR_PLAN,
    v1::SLA_CLOCK_KIND_RESOLUTION};

std::string StateName(OrderState s) {
  return std::string(absl::StripPrefix(v1::OrderState_Name(s), "ORDER_STATE_"));
}

std::string MilestoneName(ProgressMilestone m) {
  return std::string(
      absl::StripPrefix(v1::ProgressMilestone_Name(m), "PROGRESS_MILESTONE_"));
}

absl::Status Illegal(const v1::WorkOrder& order, ProgressMilestone m) {
  return absl::FailedPreconditionError(absl::StrCat(
      "order is ", StateName(order.state()), ": cannot ", MilestoneName(m)));
}

bool In(OrderState s, std::initializer_list<OrderState> states) {
  return std::find(states.begin(), states.end(), s) != states.end();
}

OrderFacts FactsOf(const v1::WorkOrder& order, const v1::IntakePolicy& policy) {
  OrderFacts f;
  f.priority = order.priority();
  f.city_tier = order.service_area().city_tier();
  if (f.city_tier == 0) {
    f.city_tier = RegionFor(policy, order.service_area().region_code()).city_tier();
  }
  f.complexity = order.has_diagnosis() &&
                         order.diagnosis().complexity() !=
                             v1::FAULT_COMPLEXITY_UNSPECIFIED
                     ? order.diagnosis().complexity()
                     : order.fault().complexity();
  f.order_type = order.order_type();
  f.vip = order.customer().tier() == v1::CUSTOMER_TIER_VIP;
  f.remote = order.handling_mode() == v1::HANDLING_MODE_REMOTE;
  const auto warranty = order.appliance().warranty_status();
  f.parts_replaced_or_warranty = order.repair().parts_used_size() > 0 ||
                                 warranty == v1::WARRANTY_STATUS_IN ||
                                 warranty == v1::WARRANTY_STATUS_EXTENDED;
  f.complaint_linked = order.complaint_ids_size() > 0;
  return f;
}

sla::Calendar CalendarFor(const v1::WorkOrder& order, const v1::SlaClock& clock,
                          const v1::IntakePolicy& policy) {
  auto calendar = sla::Calendar::For(
      clock.calendar(), RegionFor(policy, order.service_area().region_code()));
  // Policies are validated when loaded, so this only guards a region whose
  // calendar became unusable: count wall time rather than fail a transition.
  return calendar.ok() ? *calendar : sla::Calendar::Wall24x7();
}

v1::SlaClock* MutableClock(v1::WorkOrder& order, SlaClockKind kind) {
  for (auto& c : *order.mutable_sla_clocks()) {
    if (c.kind() == kind) return &c;
  }
  return nullptr;
}

bool Stopped(const v1::SlaClock& c) { return c.has_stopped_at(); }

// Accumulates one change of an order: transitions, clock effects, events and
// ledger entries; Finish() bumps the version once.
class Editor {
 public:
  Editor(const v1::WorkOrder& order, const Context& ctx) : ctx_(ctx) {
    change_.order = order;
  }

  v1::WorkOrder& order() { return change_.order; }
  const Context& ctx() const { return ctx_; }
  const v1::IntakePolicy& policy() const { return *ctx_.policy; }

  v1::Actor Actor() const {
    v1::Actor a = ctx_.actor;
    *a.mutable_server_time() = rpc::ToProto(ctx_.now);
    return a;
  }

  v1::Event NewEvent() const {
    v1::Event e;
    e.set_producer("intake");
    *e.mutable_occurred_at() = rpc::ToProto(ctx_.now);
    e.set_subject_id(change_.order.order_id());
    return e;
  }

  // Records a transition (also one that keeps the state: a decision such as
  // a declined fee is still who/when/why history) and its event.
  void Move(OrderState to, ProgressMilestone milestone,
            const std::string& client_event_id = "") {
    v1::WorkOrder& o = change_.order;
    v1::OrderTransition* t = o.add_transitions();
    t->set_index(o.transitions_size() - 1);
    t->set_from_state(o.state());
    t->set_to_state(to);
    t->set_milestone(milestone);
    *t->mutable_actor() = Actor();
    t->set_client_event_id(client_event_id);

    v1::Event e = NewEvent();
    auto* changed = e.mutable_order_state_changed();
    changed->set_order_id(o.order_id());
    changed->set_from_state(o.state());
    changed->set_to_state(to);
    changed->set_milestone(milestone);
    changed->set_engineer_id(o.assignment().engineer_id());
    changed->set_partner_id(o.assignment().partner_id());
    *changed->mutable_actor() = Actor();
    changed->set_client_event_id(client_event_id);
    changed->set_priority(o.priority());
    changed->set_region_code(o.service_area().region_code());
    change_.events.push_back(std::move(e));
    o.set_state(to);
  }

  void Emit(v1::Event e) { change_.events.push_back(std::move(e)); }

  // Adds a ledger entry unless the order already holds one with its key.
  void Grant(v1::CompensationEntry entry) {
    for (const auto& existing : change_.order.compensations()) {
      if (existing.idempotency_key() == entry.idempotency_key()) return;
    }
    *change_.order.add_compensations() = entry;
    v1::Event e = NewEvent();
    *e.mutable_compensation_granted()->mutable_entry() = entry;
    Emit(std::move(e));
    change_.compensations.push_back(std::move(entry));
  }

  // Sweeps one clock: at-risk and breach events, each once.
  void Evaluate(v1::SlaClock& clock) {
    const sla::Calendar calendar = CalendarFor(order(), clock, policy());
    const double fraction = policy().at_risk_fraction();
    sla::Transition t = sla::Evaluate(clock, ctx_.now, fraction, calendar);
    if (t.became_at_risk && !t.became_breached) {
      v1::Event e = NewEvent();
      auto* risk = e.mutable_sla_clock_at_risk();
      risk->set_order_id(order().order_id());
      risk->set_clock(clock.kind());
      *risk->mutable_deadline() = clock.deadline();
      const absl::Duration budget = rpc::FromProto(clock.budget());
      const absl::Duration used =
          calendar.Elapsed(rpc::FromProto(clock.started_at()), ctx_.now) -
          rpc::FromProto(clock.paused());
      risk->set_used_fraction(budget > absl::ZeroDuration()
                                  ? std::min(absl::FDivDuration(used, budget), 0.999)
                                  : 0.999);
      risk->set_priority(order().priority());
      risk->set_region_code(order().service_area().region_code());
      risk->set_engineer_id(order().assignment().engineer_id());
      Emit(std::move(e));
    }
    if (t.became_breached) {
      clock.set_breach_cause(AttributeBreach(order(), clock.kind()));
      v1::Event e = NewEvent();
      auto* b = e.mutable_sla_breached();
      b->set_order_id(order().order_id());
      b->set_clock(clock.kind());
      b->set_cause(clock.breach_cause());
      *b->mutable_deadline() = clock.deadline();
      *b->mutable_lateness() =
          rpc::ToProto(sla::Lateness(clock, ctx_.now, calendar));
      b->set_priority(order().priority());
      b->set_region_code(order().service_area().region_code());
      b->set_city_tier(order().service_area().city_tier());
      b->set_engineer_id(order().assignment().engineer_id());
      b->set_partner_id(order().assignment().partner_id());
      b->set_on_site(In(order().state(), {v1::ORDER_STATE_ON_SITE,
                                          v1::ORDER_STATE_REMOTE_SESSION}) ||
                     (FindClock(order(), v1::SLA_CLOCK_KIND_ARRIVAL) &&
                      Stopped(*FindClock(order(), v1::SLA_CLOCK_KIND_ARRIVAL))));
      b->set_customer_id(order().customer_id());
      *b->mutable_policy() = clock.policy();
      Emit(std::move(e));
    }
  }

  // The clock's stop event. A breach not yet swept is announced first, so
  // every breached clock has exactly one SlaBreached event.
  void StopClock(SlaClockKind kind) {
    v1::SlaClock* clock = MutableClock(order(), kind);
    if (clock == nullptr || Stopped(*clock)) return;
    const sla::Calendar calendar = CalendarFor(order(), *clock, policy());
    sla::Resume(*clock, ctx_.now, calendar);
    // Stopped in time: no at-risk or breach announcement at the stop. Stopped
    // late without a sweep in between: announce the breach it missed.
    if (ctx_.now > rpc::FromProto(clock->deadline())) Evaluate(*clock);
    sla::Stop(*clock, ctx_.now, calendar);
    if (clock->outcome() == v1::SLA_OUTCOME_BREACHED &&
        clock->breach_cause() == v1::BREACH_CAUSE_UNSPECIFIED) {
      clock->set_breach_cause(AttributeBreach(order(), kind));
    }
    v1::Event e = NewEvent();
    auto* s = e.mutable_sla_clock_stopped();
    s->set_order_id(order().order_id());
    s->set_clock(kind);
    s->set_outcome(clock->outcome());
    *s->mutable_elapsed() = rpc::ToProto(std::max(
        absl::ZeroDuration(),
        calendar.Elapsed(rpc::FromProto(clock->started_at()), ctx_.now) -
            rpc::FromProto(clock->paused())));
    *s->mutable_lateness() = clock->lateness();
    s->set_cause(clock->breach_cause());
    s->set_priority(order().priority());
    s->set_region_code(order().service_area().region_code());
    s->set_city_tier(order().service_area().city_tier());
    s->set_engineer_id(order().assignment().engineer_id());
    s->set_partner_id(order().assignment().partner_id());
    Emit(std::move(e));

    if (kind == v1::SLA_CLOCK_KIND_ARRIVAL &&
        clock->outcome() == v1::SLA_OUTCOME_BREACHED) {
      auto entry = LateArrivalCompensation(
          order(), rpc::FromProto(clock->lateness()),
          policy().compensation(), policy().ref(), ctx_.now);
      if (entry.has_value()) Grant(*std::move(entry));
    }
  }

  void StartClock(SlaClockKind kind) {
    if (FindClock(order(), kind) != nullptr) return;
    auto budget = BudgetFor(policy(), kind, FactsOf(order(), policy()));
    if (!budget.has_value()) return;
    v1::SlaClock probe;
    probe.set_calendar(budget->calendar);
    *order().add_sla_clocks() = sla::StartClock(
        kind, budget->calendar, budget->budget, ctx_.now, policy().ref(),
        CalendarFor(order(), probe, policy()));
  }

  void PauseAll() {
    for (auto& c : *order().mutable_sla_clocks()) sla::Pause(c, ctx_.now);
  }
  void ResumeAll() {
    for (auto& c : *order().mutable_sla_clocks()) {
      sla::Resume(c, ctx_.now, CalendarFor(order(), c, policy()));
    }
  }
  void CancelAll() {
    for (auto& c : *order().mutable_sla_clocks()) sla::Cancel(c, ctx_.now);
  }

  Change Finish() {
    v1::WorkOrder& o = change_.order;
    o.set_version(o.version() + 1);
    *o.mutable_updated_at() = rpc::ToProto(ctx_.now);
    for (auto& e : change_.events) {
      if (e.has_order_state_changed()) {
        e.mutable_order_state_changed()->set_order_version(o.version());
      }
    }
    return std::move(change_);
  }

 private:
  const Context& ctx_;
  Change change_;
};

// Parts need the customer's fee confirmation first, unless warranty pays.
bool FeeGateOpen(const v1::WorkOrder& order) {
  if (!order.diagnosis().parts_needed()) return true;
  const auto w = order.appliance().warranty_status();
  if (w == v1::WARRANTY_STATUS_IN || w == v1::WARRANTY_STATUS_EXTENDED) return true;
  return order.quote().status() == v1::QUOTE_STATUS_ACCEPTED;
}

void PriceQuote(v1::Quote& quote) {
  int64_t total = 0, payable = 0;
  std::string currency = "CNY";
  for (auto& line : *quote.mutable_lines()) {
    const int64_t amount = line.unit_price().amount_minor() * line.quantity();
    if (!line.unit_price().currency_code().empty()) currency = line.unit_price().currency_code();
    line.mutable_line_total()->set_currency_code(currency);
    line.mutable_line_total()->set_amount_minor(amount);
    total += amount;
    if (!line.covered_by_warranty()) payable += amount;
  }
  quote.mutable_total()->set_currency_code(currency);
  quote.mutable_total()->set_amount_minor(total);
  quote.mutable_customer_payable()->set_currency_code(currency);
  quote.mutable_customer_payable()->set_amount_minor(payable);
}

void Reopen(Editor& ed, const v1::ReopenReport& reopen,
            const std::string& client_event_id) {
  v1::WorkOrder& o = ed.order();
  const std::string previous = o.assignment().engineer_id();
  if (!previous.empty()) o.add_previous_engineer_ids(previous);
  o.clear_assignment();
  ed.Move(v1::ORDER_STATE_REOPENED, v1::PROGRESS_MILESTONE_REOPENED, client_event_id);
  v1::Event e = ed.NewEvent();
  auto* r = e.mutable_order_reopened();
  r->set_order_id(o.order_id());
  r->set_source(reopen.source());
  r->set_reason(reopen.reason());
  r->set_survey_id(reopen.survey_id());
  r->set_previous_engineer_id(previous);
  *r->mutable_actor() = ed.Actor();
  ed.Emit(std::move(e));
}

}  // namespace

bool IsOpen(OrderState s) {
  return In(s, {v1::ORDER_STATE_CREATED, v1::ORDER_STATE_CONTACTED,
                v1::ORDER_STATE_ASSIGNED, v1::ORDER_STATE_EN_ROUTE,
                v1::ORDER_STATE_ON_SITE, v1::ORDER_STATE_REMOTE_SESSION,
                v1::ORDER_STATE_DIAGNOSED, v1::ORDER_STATE_QUOTED,
                v1::ORDER_STATE_IN_REPAIR, v1::ORDER_STATE_WAITING_PARTS,
                v1::ORDER_STATE_ON_HOLD_CUSTOMER, v1::ORDER_STATE_REOPENED});
}

bool IsTerminal(OrderState s) {
  return s == v1::ORDER_STATE_CLOSED || s == v1::ORDER_STATE_CANCELLED;
}

const v1::SlaClock* FindClock(const v1::WorkOrder& order, SlaClockKind kind) {
  for (const auto& c : order.sla_clocks()) {
    if (c.kind() == kind) return &c;
  }
  return nullptr;
}

ProgressMilestone MilestoneOf(const v1::ProgressReport& r) {
  using R = v1::ProgressReport;
  switch (r.milestone_case()) {
    case R::kContacted: return v1::PROGRESS_MILESTONE_CONTACTED;
    case R::kDeparted: return v1::PROGRESS_MILESTONE_DEPARTED;
    case R::kArrived: return v1::PROGRESS_MILESTONE_ARRIVED;
    case R::kRemoteSessionStarted: return v1::PROGRESS_MILESTONE_REMOTE_SESSION_STARTED;
    case R::kRemoteSessionFailed: return v1::PROGRESS_MILESTONE_REMOTE_SESSION_FAILED;
    case R::kDiagnosed: return v1::PROGRESS_MILESTONE_DIAGNOSED;
    case R::kQuoted: return v1::PROGRESS_MILESTONE_QUOTED;
    case R::kFeeDecision:
      return r.fee_decision().accepted() ? v1::PROGRESS_MILESTONE_FEE_CONFIRMED
                                         : v1::PROGRESS_MILESTONE_FEE_DECLINED;
    case R::kRepairStarted: return v1::PROGRESS_MILESTONE_REPAIR_STARTED;
    case R::kWaitingParts: return v1::PROGRESS_MILESTONE_WAITING_PARTS;
    case R::kRepaired: return v1::PROGRESS_MILESTONE_REPAIRED;
    case R::kCustomerConfirmed: return v1::PROGRESS_MILESTONE_CUSTOMER_CONFIRMED;
    case R::kFollowedUp: return v1::PROGRESS_MILESTONE_FOLLOWED_UP;
    case R::kClose: return v1::PROGRESS_MILESTONE_CLOSED;
    case R::kReopen: return v1::PROGRESS_MILESTONE_REOPENED;
    case R::kCancel: return v1::PROGRESS_MILESTONE_CANCELLED;
    case R::kCustomerUnavailable: return v1::PROGRESS_MILESTONE_CUSTOMER_UNAVAILABLE;
    case R::kHoldReleased: return v1::PROGRESS_MILESTONE_HOLD_RELEASED;
    case R::kRescheduled: return v1::PROGRESS_MILESTONE_RESCHEDULED;
    case R::MILESTONE_NOT_SET: break;
  }
  return v1::PROGRESS_MILESTONE_UNSPECIFIED;
}

absl::Status ValidateProgressReport(const v1::ProgressReport& r,
                                    absl::string_view field) {
  auto f = [&](absl::string_view sub) { return absl::StrCat(field, ".", sub); };
  rpc::Validator v;
  v.Id(f("client_event_id"), r.client_event_id(), 128)
      .Id(f("order_id"), r.order_id(), 64)
      .Check(f("milestone"), r.milestone_case() != v1::ProgressReport::MILESTONE_NOT_SET,
             "required: one milestone")
      .Check(f("device_time"),
             !r.has_device_time() ||
                 (r.device_time().nanos() >= 0 && r.device_time().nanos() < 1000000000),
             "nanos must be in [0, 1e9)");
  if (!r.engineer_id().empty()) v.Id(f("engineer_id"), r.engineer_id(), 64);
  auto geo = [&](absl::string_view name, const v1::GeoPoint& p) {
    v.Range(f(absl::StrCat(name, ".lat_deg")), p.lat_deg(), -90, 90)
        .Range(f(absl::StrCat(name, ".lng_deg")), p.lng_deg(), -180, 180);
  };
  switch (r.milestone_case()) {
    case v1::ProgressReport::kContacted:
      v.Check(f("contacted.method"),
              v1::ContactMethod_IsValid(r.contacted().method()), "unknown value")
          .Text(f("contacted.note"), r.contacted().note(), 1000, false);
      break;
    case v1::ProgressReport::kDeparted:
      geo("departed.location", r.departed().location());
      break;
    case v1::ProgressReport::kArrived:
      geo("arrived.location", r.arrived().location());
      break;
    case v1::ProgressReport::kRemoteSessionStarted:
      v.Text(f("remote_session_started.session_ref"),
             r.remote_session_started().session_ref(), 128, true);
      break;
    case v1::ProgressReport::kRemoteSessionFailed:
      v.Text(f("remote_session_failed.reason"), r.remote_session_failed().reason(),
             1000, true);
      break;
    case v1::ProgressReport::kDiagnosed: {
      const auto& d = r.diagnosed().diagnosis();
      v.Check(f("diagnosed.diagnosis"), r.diagnosed().has_diagnosis(), "required")
          .Id(f("diagnosed.diagnosis.initial_cause_code"), d.initial_cause_code(), 64)
          .Text(f("diagnosed.diagnosis.initial_cause_text"), d.initial_cause_text(),
                2000, false)
          .Check(f("diagnosed.diagnosis.kind"), v1::FaultKind_IsValid(d.kind()),
                 "unknown value")
          .Check(f("diagnosed.diagnosis.complexity"),
                 v1::FaultComplexity_IsValid(d.complexity()), "unknown value")
          .Text(f("diagnosed.diagnosis.repair_plan"), d.repair_plan(), 4000, false);
      break;
    }
    case v1::ProgressReport::kQuoted: {
      const auto& lines = r.quoted().lines();
      v.Check(f("quoted.lines"), lines.size() >= 1 && lines.size() <= 50,
              "1..50 lines");
      for (int i = 0; i < lines.size(); ++i) {
        const auto& l = lines[i];
        const std::string p = f(absl::StrCat("quoted.lines[", i, "]"));
        v.Enum(absl::StrCat(p, ".kind"), l.kind(), v1::QuoteLineKind_IsValid(l.kind()))
            .Text(absl::StrCat(p, ".description"), l.description(), 256, true)
            .Range(absl::StrCat(p, ".quantity"), l.quantity(), 1, 1000)
            .Range(absl::StrCat(p, ".unit_price.amount_minor"),
                   static_cast<double>(l.unit_price().amount_minor()), 0, 1e11);
        if (l.kind() == v1::QUOTE_LINE_KIND_PART) v.Id(absl::StrCat(p, ".sku"), l.sku(), 64);
      }
      break;
    }
    case v1::ProgressReport::kFeeDecision:
      v.Id(f("fee_decision.quote_id"), r.fee_decision().quote_id(), 64)
          .Enum(f("fee_decision.method"), r.fee_decision().method(),
                v1::ConsentMethod_IsValid(r.fee_decision().method()))
          .Text(f("fee_decision.evidence_ref"), r.fee_decision().evidence_ref(), 256,
                true);
      break;
    case v1::ProgressReport::kRepairStarted:
      v.Text(f("repair_started.note"), r.repair_started().note(), 1000, false);
      break;
    case v1::ProgressReport::kWaitingParts: {
      const auto& skus = r.waiting_parts().skus();
      v.Check(f("waiting_parts.skus"), skus.size() >= 1 && skus.size() <= 20,
              "1..20 SKUs");
      for (int i = 0; i < skus.size(); ++i) {
        v.Id(f(absl::StrCat("waiting_parts.skus[", i, "]")), skus[i], 64);
      }
      break;
    }
    case v1::ProgressReport::kRepaired: {
      const auto& res = r.repaired().result();
      v.Check(f("repaired.result"), r.repaired().has_result(), "required")
          .Id(f("repaired.result.final_cause_code"), res.final_cause_code(), 64)
          .Text(f("repaired.result.final_cause_text"), res.final_cause_text(), 2000, false)
          .Check(f("repaired.result.parts_used"), res.parts_used_size() <= 50,
                 "at most 50")
          .Range(f("repaired.result.visit_count"), res.visit_count(), 0, 100)
          .Text(f("repaired.maintenance_advice"), r.repaired().maintenance_advice(),
                4000, false);
      for (int i = 0; i < res.parts_used_size(); ++i) {
        const auto& p = res.parts_used(i);
        const std::string pf = f(absl::StrCat("repaired.result.parts_used[", i, "]"));
        v.Id(absl::StrCat(pf, ".sku"), p.sku(), 64)
            .Range(absl::StrCat(pf, ".quantity"), p.quantity(), 1, 100)
            .Text(absl::StrCat(pf, ".lot_number"), p.lot_number(), 64, false)
            .Range(absl::StrCat(pf, ".warranty_days"), p.warranty_days(), 0, 3650);
      }
      break;
    }
    case v1::ProgressReport::kCustomerConfirmed:
      v.Enum(f("customer_confirmed.method"), r.customer_confirmed().method(),
             v1::ConsentMethod_IsValid(r.customer_confirmed().method()))
          .Text(f("customer_confirmed.evidence_ref"),
                r.customer_confirmed().evidence_ref(), 256, false);
      break;
    case v1::ProgressReport::kFollowedUp:
      v.Text(f("followed_up.note"), r.followed_up().note(), 2000, false);
      break;
    case v1::ProgressReport::kClose:
      v.Text(f("close.note"), r.close().note(), 1000, false);
      break;
    case v1::ProgressReport::kReopen:
      v.Enum(f("reopen.source"), r.reopen().source(),
             v1::ReopenSource_IsValid(r.reopen().source()))
          .Text(f("reopen.reason"), r.reopen().reason(), 1000, true);
      break;
    case v1::ProgressReport::kCancel:
      v.Enum(f("cancel.reason"), r.cancel().reason(),
             v1::CancelReason_IsValid(r.cancel().reason()))
          .Text(f("cancel.note"), r.cancel().note(), 1000, false);
      break;
    case v1::ProgressReport::kCustomerUnavailable:
      v.Enum(f("customer_unavailable.reason"), r.customer_unavailable().reason(),
             v1::HoldReason_IsValid(r.customer_unavailable().reason()))
          .Text(f("customer_unavailable.note"), r.customer_unavailable().note(), 1000,
                false);
      break;
    case v1::ProgressReport::kHoldReleased:
      v.Text(f("hold_released.note"), r.hold_released().note(), 1000, false);
      break;
    case v1::ProgressReport::kRescheduled: {
      const auto& w = r.rescheduled().window();
      const absl::Time start = rpc::FromProto(w.start()), end = rpc::FromProto(w.end());
      auto aligned = [](const google::protobuf::Timestamp& t) {
        return t.nanos() == 0 && t.seconds() % 1800 == 0;
      };
      v.Check(f("rescheduled.window"), r.rescheduled().has_window(), "required")
          .Check(f("rescheduled.window"), aligned(w.start()) && aligned(w.end()),
                 "must start and end on a 30-minute boundary")
          .Check(f("rescheduled.window"),
                 end > start && end - start <= absl::Hours(24),
                 "end must be after start, at most 24 h later");
      break;
    }
    case v1::ProgressReport::MILESTONE_NOT_SET:
      break;
  }
  return v.status();
}

absl::Status StartClocks(v1::WorkOrder& order, const v1::IntakePolicy& policy,
                         absl::Time now) {
  if (order.order_type() == v1::ORDER_TYPE_CONSULTATION) {
    order.set_handling_mode(v1::HANDLING_MODE_NO_DISPATCH);
  } else if (order.fault().kind() == v1::FAULT_KIND_SOFTWARE &&
             policy.software_remote_first()) {
    order.set_handling_mode(v1::HANDLING_MODE_REMOTE);
  } else {
    order.set_handling_mode(v1::HANDLING_MODE_ON_SITE);
  }
  if (order.has_preferred_window() && !order.has_appointment()) {
    *order.mutable_appointment() = order.preferred_window();
  }
  Context ctx{now, {}, &policy};
  ctx.actor.set_principal_id("system");
  ctx.actor.set_role(v1::ROLE_SYSTEM);
  Editor ed(order, ctx);
  for (SlaClockKind kind : kCreationClocks) ed.StartClock(kind);
  if (ed.order().has_appointment()) {
    if (v1::SlaClock* arrival = MutableClock(ed.order(), v1::SLA_CLOCK_KIND_ARRIVAL)) {
      sla::SetWindowEnd(*arrival, rpc::FromProto(ed.order().appointment().end()),
                        CalendarFor(ed.order(), *arrival, policy));
    }
  }
  order.mutable_sla_clocks()->Swap(ed.order().mutable_sla_clocks());
  return absl::OkStatus();
}

absl::StatusOr<Change> ApplyProgress(const v1::WorkOrder& order,
                                     const v1::ProgressReport& report,
                                     const Context& ctx) {
  const ProgressMilestone m = MilestoneOf(report);
  const OrderState s = order.state();
  const std::string& id = report.client_event_id();
  Editor ed(order, ctx);
  v1::WorkOrder& o = ed.order();
  using R = v1::ProgressReport;

  switch (report.milestone_case()) {
    case R::kContacted:
      if (s != v1::ORDER_STATE_CREATED) return Illegal(order, m);
      ed.Move(v1::ORDER_STATE_CONTACTED, m, id);
      ed.StopClock(v1::SLA_CLOCK_KIND_FIRST_CONTACT);
      if (o.has_assignment()) {
        // Dispatch accepted before the customer was contacted: the
        // assignment was latched and now takes effect.
        *o.mutable_promised_eta() = o.assignment().eta();
        ed.Move(v1::ORDER_STATE_ASSIGNED, v1::PROGRESS_MILESTONE_ASSIGNED, id);
      }
      break;
    case R::kDeparted:
      if (s != v1::ORDER_STATE_ASSIGNED) return Illegal(order, m);
      ed.Move(v1::ORDER_STATE_EN_ROUTE, m, id);
      break;
    case R::kArrived:
      if (!In(s, {v1::ORDER_STATE_ASSIGNED, v1::ORDER_STATE_EN_ROUTE})) {
        return Illegal(order, m);
      }
      ed.Move(v1::ORDER_STATE_ON_SITE, m, id);
      ed.StopClock(v1::SLA_CLOCK_KIND_ARRIVAL);
      break;
    case R::kRemoteSessionStarted:
      if (!In(s, {v1::ORDER_STATE_CONTACTED, v1::ORDER_STATE_ASSIGNED})) {
        return Illegal(order, m);
      }
      o.set_handling_mode(v1::HANDLING_MODE_REMOTE);
      ed.Move(v1::ORDER_STATE_REMOTE_SESSION, m, id);
      ed.StopClock(v1::SLA_CLOCK_KIND_ARRIVAL);  // SPEC §2.4 remote handling
      break;
    case R::kRemoteSessionFailed:
      if (s != v1::ORDER_STATE_REMOTE_SESSION) return Illegal(order, m);
      o.set_handling_mode(v1::HANDLING_MODE_ON_SITE);
      ed.Move(o.has_assignment() ? v1::ORDER_STATE_ASSIGNED : v1::ORDER_STATE_CONTACTED,
              m, id);
      break;
    case R::kDiagnosed: {
      if (!In(s, {v1::ORDER_STATE_ON_SITE, v1::ORDER_STATE_REMOTE_SESSION})) {
        return Illegal(order, m);
      }
      *o.mutable_diagnosis() = report.diagnosed().diagnosis();
      o.mutable_diagnosis()->set_remote(s == v1::ORDER_STATE_REMOTE_SESSION);
      *o.mutable_diagnosis()->mutable_diagnosed_at() = rpc::ToProto(ctx.now);
      ed.Move(v1::ORDER_STATE_DIAGNOSED, m, id);
      // The repair plan clock (COMPLEX only) stops at a diagnosis with a plan.
      if (!o.diagnosis().repair_plan().empty()) {
        ed.StopClock(v1::SLA_CLOCK_KIND_REPAIR_PLAN);
      }
      break;
    }
    case R::kQuoted: {
      if (!In(s, {v1::ORDER_STATE_DIAGNOSED, v1::ORDER_STATE_QUOTED})) {
        return Illegal(order, m);
      }
      int previous_quotes = 0;
      for (const auto& t : o.transitions()) {
        if (t.milestone() == v1::PROGRESS_MILESTONE_QUOTED) ++previous_quotes;
      }
      v1::Quote q;
      q.set_quote_id(absl::StrCat(o.order_id(), "-Q", previous_quotes + 1));
      *q.mutable_lines() = report.quoted().lines();
      PriceQuote(q);
      *q.mutable_quoted_at() = rpc::ToProto(ctx.now);
      q.set_status(v1::QUOTE_STATUS_PENDING);
      *o.mutable_quote() = std::move(q);
      ed.Move(v1::ORDER_STATE_QUOTED, m, id);
      break;
    }
    case R::kFeeDecision: {
      if (s != v1::ORDER_STATE_QUOTED) return Illegal(order, m);
      const auto& d = report.fee_decision();
      if (d.quote_id() != o.quote().quote_id() ||
          o.quote().status() != v1::QUOTE_STATUS_PENDING) {
        return absl::InvalidArgumentError(absl::StrCat(
            "report.fee_decision.quote_id: not the pending quote (current: ",
            o.quote().quote_id(), ")"));
      }
      auto* q = o.mutable_quote();
      q->set_status(d.accepted() ? v1::QUOTE_STATUS_ACCEPTED : v1::QUOTE_STATUS_DECLINED);
      *q->mutable_decided_at() = rpc::ToProto(ctx.now);
      q->set_decision_method(d.method());
      q->set_decision_evidence_ref(d.evidence_ref());
      ed.Move(d.accepted() ? v1::ORDER_STATE_IN_REPAIR : v1::ORDER_STATE_QUOTED, m, id);
      break;
    }
    case R::kRepairStarted:
      if (!In(s, {v1::ORDER_STATE_DIAGNOSED, v1::ORDER_STATE_WAITING_PARTS})) {
        return Illegal(order, m);
      }
      // Waiting for parts is no way around the fee gate: no repair starts
      // before the customer confirmed the price (SPEC §2.3).
      if (!FeeGateOpen(o)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "order is ", StateName(s), ": parts need a quote the customer confirmed first"));
      }
      ed.Move(v1::ORDER_STATE_IN_REPAIR, m, id);
      break;
    case R::kWaitingParts:
      if (!In(s, {v1::ORDER_STATE_IN_REPAIR, v1::ORDER_STATE_DIAGNOSED})) {
        return Illegal(order, m);
      }
      o.set_waited_for_parts(true);
      ed.Move(v1::ORDER_STATE_WAITING_PARTS, m, id);
      break;
    case R::kRepaired: {
      if (!In(s, {v1::ORDER_STATE_IN_REPAIR, v1::ORDER_STATE_REMOTE_SESSION,
                  v1::ORDER_STATE_DIAGNOSED})) {
        return Illegal(order, m);
      }
      if (s == v1::ORDER_STATE_DIAGNOSED && !FeeGateOpen(o)) {
        return absl::FailedPreconditionError(
            "order is DIAGNOSED: parts need a quote the customer confirmed first");
      }
      v1::RepairResult res = report.repaired().result();
      res.set_diagnosis_matched(o.has_diagnosis() &&
                                o.diagnosis().initial_cause_code() ==
                                    res.final_cause_code());
      if (res.visit_count() == 0) res.set_visit_count(1);
      res.set_remote_resolved(s == v1::ORDER_STATE_REMOTE_SESSION ||
                              o.handling_mode() == v1::HANDLING_MODE_REMOTE);
      *res.mutable_repaired_at() = rpc::ToProto(ctx.now);
      *o.mutable_repair() = res;
      auto* rep = o.mutable_service_report();
      rep->set_report_id(absl::StrCat(o.order_id(), "-R"));
      rep->set_cause(res.final_cause_text().empty() ? res.final_cause_code()
                                                    : res.final_cause_text());
      *rep->mutable_parts_replaced() = res.parts_used();
      rep->set_maintenance_advice(report.repaired().maintenance_advice());
      *rep->mutable_generated_at() = rpc::ToProto(ctx.now);
      int warranty_days = 0;
      for (const auto& p : res.parts_used()) {
        warranty_days = std::max(warranty_days, p.warranty_days());
      }
      rep->set_repair_warranty_days(warranty_days);
      ed.Move(v1::ORDER_STATE_REPAIRED, m, id);
      ed.StopClock(v1::SLA_CLOCK_KIND_REPAIR_PLAN);
      ed.StopClock(v1::SLA_CLOCK_KIND_RESOLUTION);
      ed.StartClock(v1::SLA_CLOCK_KIND_FOLLOW_UP);
      if (ExpectationUnmet(o, ctx.now)) {
        ed.Grant(UnmetExpectationCompensation(o, ctx.policy->compensation(),
                                              ctx.policy->ref(), ctx.now));
      }
      break;
    }
    case R::kCustomerConfirmed: {
      if (s != v1::ORDER_STATE_REPAIRED) return Illegal(order, m);
      ed.Move(v1::ORDER_STATE_CONFIRMED, m, id);
      v1::Event e = ed.NewEvent();
      auto* c = e.mutable_order_confirmed_repaired();
      c->set_order_id(o.order_id());
      c->set_customer_id(o.customer_id());
      c->set_engineer_id(o.assignment().engineer_id());
      c->set_partner_id(o.assignment().partner_id());
      c->set_region_code(o.service_area().region_code());
      c->set_city_tier(o.service_area().city_tier());
      c->set_appliance_category(o.appliance().category());
      c->set_appliance_model(o.appliance().model());
      c->set_parts_replaced(o.repair().parts_used_size() > 0);
      const auto w = o.appliance().warranty_status();
      c->set_warranty(w == v1::WARRANTY_STATUS_IN || w == v1::WARRANTY_STATUS_EXTENDED);
      c->set_complaint_linked(o.complaint_ids_size() > 0);
      c->set_first_visit_fix(o.repair().first_visit_fix());
      c->set_diagnosis_matched(o.repair().diagnosis_matched());
      c->set_is_rework(o.is_rework());
      c->set_remote_resolved(o.repair().remote_resolved());
      c->set_fault_kind(o.fault().kind());
      *c->mutable_repaired_at() = o.repair().repaired_at();
      *c->mutable_confirmed_at() = rpc::ToProto(ctx.now);
      if (const v1::SlaClock* f = FindClock(o, v1::SLA_CLOCK_KIND_FOLLOW_UP)) {
        *c->mutable_follow_up_deadline() = f->deadline();
      }
      c->set_priority(o.priority());
      ed.Emit(std::move(e));
      break;
    }
    case R::kFollowedUp: {
      // An order closes only after the customer confirmed (SPEC §2.3).
      if (s != v1::ORDER_STATE_CONFIRMED) return Illegal(order, m);
      auto* fu = o.mutable_follow_up();
      *fu->mutable_followed_up_at() = rpc::ToProto(ctx.now);
      if (report.followed_up().has_problem_solved()) {
        fu->set_problem_solved(report.followed_up().problem_solved());
      }
      fu->set_note(report.followed_up().note());
      ed.Move(v1::ORDER_STATE_FOLLOWED_UP, m, id);
      ed.StopClock(v1::SLA_CLOCK_KIND_FOLLOW_UP);
      if (report.followed_up().has_problem_solved() &&
          !report.followed_up().problem_solved()) {
        v1::ReopenReport reopen;
        reopen.set_source(v1::REOPEN_SOURCE_FOLLOW_UP_CALL);
        reopen.set_reason("not fixed at follow-up");
        Reopen(ed, reopen, id);
      }
      break;
    }
    case R::kClose:
      if (s != v1::ORDER_STATE_FOLLOWED_UP) return Illegal(order, m);
      ed.Move(v1::ORDER_STATE_CLOSED, m, id);
      *o.mutable_closed_at() = rpc::ToProto(ctx.now);
      break;
    case R::kReopen:
      if (!In(s, {v1::ORDER_STATE_REPAIRED, v1::ORDER_STATE_CONFIRMED,
                  v1::ORDER_STATE_FOLLOWED_UP})) {
        return Illegal(order, m);
      }
      ed.StopClock(v1::SLA_CLOCK_KIND_FOLLOW_UP);
      Reopen(ed, report.reopen(), id);
      break;
    case R::kCancel: {
      if (!IsOpen(s)) return Illegal(order, m);
      o.set_cancel_reason(report.cancel().reason());
      o.set_cancel_note(report.cancel().note());
      o.clear_hold();
      ed.CancelAll();
      ed.Move(v1::ORDER_STATE_CANCELLED, m, id);
      *o.mutable_closed_at() = rpc::ToProto(ctx.now);
      v1::Event e = ed.NewEvent();
      auto* c = e.mutable_order_cancelled();
      c->set_order_id(o.order_id());
      c->set_from_state(s);
      c->set_reason(report.cancel().reason());
      c->set_engineer_id(o.assignment().engineer_id());
      *c->mutable_actor() = ed.Actor();
      ed.Emit(std::move(e));
      break;
    }
    case R::kCustomerUnavailable: {
      if (!IsOpen(s) || s == v1::ORDER_STATE_ON_HOLD_CUSTOMER) return Illegal(order, m);
      auto* hold = o.mutable_hold();
      hold->set_held_from(s);
      hold->set_reason(report.customer_unavailable().reason());
      *hold->mutable_since() = rpc::ToProto(ctx.now);
      hold->set_note(report.customer_unavailable().note());
      // Sweep first so a deadline that already passed is not hidden by the pause.
      for (auto& c : *o.mutable_sla_clocks()) ed.Evaluate(c);
      ed.PauseAll();
      ed.Move(v1::ORDER_STATE_ON_HOLD_CUSTOMER, m, id);
      break;
    }
    case R::kHoldReleased: {
      if (s != v1::ORDER_STATE_ON_HOLD_CUSTOMER) return Illegal(order, m);
      const OrderState back = o.hold().held_from();
      ed.ResumeAll();
      o.clear_hold();
      ed.Move(back, m, id);
      break;
    }
    case R::kRescheduled: {
      if (!IsOpen(s)) return Illegal(order, m);
      *o.mutable_appointment() = report.rescheduled().window();
      o.clear_proposed_window();
      if (v1::SlaClock* arrival = MutableClock(o, v1::SLA_CLOCK_KIND_ARRIVAL);
          arrival != nullptr && !Stopped(*arrival)) {
        sla::SetWindowEnd(*arrival, rpc::FromProto(report.rescheduled().window().end()),
                          CalendarFor(o, *arrival, *ctx.policy));
      }
      ed.Move(s, m, id);
      // Rescheduled by the customer: a customer-caused wait, so the clocks
      // pause (SPEC §2.4) until the visit resumes (hold released).
      if (report.rescheduled().customer_initiated() &&
          s != v1::ORDER_STATE_ON_HOLD_CUSTOMER) {
        auto* hold = o.mutable_hold();
        hold->set_held_from(s);
        hold->set_reason(v1::HOLD_REASON_CUSTOMER_RESCHEDULED);
        *hold->mutable_since() = rpc::ToProto(ctx.now);
        for (auto& c : *o.mutable_sla_clocks()) ed.Evaluate(c);
        ed.PauseAll();
        ed.Move(v1::ORDER_STATE_ON_HOLD_CUSTOMER, v1::PROGRESS_MILESTONE_CUSTOMER_UNAVAILABLE, id);
      }
      break;
    }
    case R::MILESTONE_NOT_SET:
      return absl::InvalidArgumentError("report.milestone: required: one milestone");
  }
  return ed.Finish();
}

absl::StatusOr<Change> ChangePriority(const v1::WorkOrder& order,
                                      v1::Priority priority,
                                      v1::PriorityReason reason,
                                      const Context& ctx) {
  if (IsTerminal(order.state())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "order is ", StateName(order.state()), ": cannot change priority"));
  }
  Editor ed(order, ctx);
  v1::WorkOrder& o = ed.order();
  const v1::Priority previous = o.priority();
  o.set_priority(priority);
  v1::PriorityDecision decision;
  decision.set_priority(priority);
  decision.set_previous(previous);
  decision.add_reasons(reason);
  *decision.mutable_policy() = ctx.policy->ref();
  *decision.mutable_decided_by() = ed.Actor();
  *o.add_priority_changes() = decision;
  *o.mutable_priority_decision() = decision;

  const OrderFacts facts = FactsOf(o, *ctx.policy);
  for (auto& clock : *o.mutable_sla_clocks()) {
    auto budget = BudgetFor(*ctx.policy, clock.kind(), facts);
    // Stopped or already breached clocks keep their calendar and outcome.
    if (!budget.has_value() || clock.outcome() != v1::SLA_OUTCOME_RUNNING) continue;
    // To or from EMERGENCY the calendar changes too (24x7 vs service hours).
    clock.set_calendar(budget->calendar);
    *clock.mutable_policy() = ctx.policy->ref();
    sla::Rebudget(clock, budget->budget, ctx.now, ctx.policy->at_risk_fraction(),
                  CalendarFor(o, clock, *ctx.policy));
  }
  ed.Move(o.state(), v1::PROGRESS_MILESTONE_PRIORITY_CHANGED);
  v1::Event e = ed.NewEvent();
  auto* pc = e.mutable_order_priority_changed();
  pc->set_order_id(o.order_id());
  pc->set_from_priority(previous);
  pc->set_to_priority(priority);
  pc->add_reasons(reason);
  *pc->mutable_policy() = ctx.policy->ref();
  *pc->mutable_actor() = ed.Actor();
  if (const v1::SlaClock* d = FindClock(o, v1::SLA_CLOCK_KIND_DISPATCH)) {
    *pc->mutable_dispatch_deadline() = d->deadline();
  }
  if (const v1::SlaClock* a = FindClock(o, v1::SLA_CLOCK_KIND_ARRIVAL)) {
    *pc->mutable_arrival_deadline() = a->deadline();
  }
  ed.Emit(std::move(e));
  return ed.Finish();
}

absl::StatusOr<Change> ApplyOfferAccepted(const v1::WorkOrder& order,
                                          const v1::OfferAccepted& accepted,
                                          const Context& ctx) {
  const OrderState s = order.state();
  if (!In(s, {v1::ORDER_STATE_CREATED, v1::ORDER_STATE_CONTACTED,
              v1::ORDER_STATE_ASSIGNED, v1::ORDER_STATE_EN_ROUTE,
              v1::ORDER_STATE_REOPENED, v1::ORDER_STATE_REMOTE_SESSION,
              v1::ORDER_STATE_ON_HOLD_CUSTOMER})) {
    return Illegal(order, v1::PROGRESS_MILESTONE_ASSIGNED);
  }
  Editor ed(order, ctx);
  v1::WorkOrder& o = ed.order();
  const std::string previous = o.assignment().engineer_id();
  if (!previous.empty() && previous != accepted.engineer_id()) {
    o.add_previous_engineer_ids(previous);
  }
  auto* a = o.mutable_assignment();
  a->set_engineer_id(accepted.engineer_id());
  a->set_partner_id(accepted.partner_id());
  a->set_offer_id(accepted.offer_id());
  *a->mutable_engineer() = accepted.engineer();
  *a->mutable_assigned_at() = rpc::ToProto(ctx.now);
  *a->mutable_eta() = accepted.eta();
  *a->mutable_eta_updated_at() = rpc::ToProto(ctx.now);
  a->set_attempt(accepted.attempt());
  a->set_manual_override(accepted.manual_override());
  o.set_unassignable(false);
  ed.StopClock(v1::SLA_CLOCK_KIND_DISPATCH);
  if (s == v1::ORDER_STATE_CREATED) {
    // Latched: CREATED -> CONTACTED -> ASSIGNED (SPEC §2.3); the move
    // happens at first contact. The timeline still shows who and when.
    ed.Move(s, v1::PROGRESS_MILESTONE_ASSIGNED);
  } else if (s == v1::ORDER_STATE_REMOTE_SESSION) {
    ed.Move(s, v1::PROGRESS_MILESTONE_ASSIGNED);  // engineer on standby
  } else if (s == v1::ORDER_STATE_ON_HOLD_CUSTOMER) {
    // The customer is unavailable right now; the engineer takes the job when
    // the hold is released.
    if (In(o.hold().held_from(), {v1::ORDER_STATE_CONTACTED, v1::ORDER_STATE_REOPENED,
                                  v1::ORDER_STATE_EN_ROUTE})) {
      o.mutable_hold()->set_held_from(v1::ORDER_STATE_ASSIGNED);
    }
    *o.mutable_promised_eta() = accepted.eta();
    ed.Move(s, v1::PROGRESS_MILESTONE_ASSIGNED);
  } else {
    *o.mutable_promised_eta() = accepted.eta();
    ed.Move(v1::ORDER_STATE_ASSIGNED, v1::PROGRESS_MILESTONE_ASSIGNED);
  }
  return ed.Finish();
}

Change ApplyOfferDeclined(const v1::WorkOrder& order, const Context& ctx) {
  Editor ed(order, ctx);
  ed.order().set_offers_declined(order.offers_declined() + 1);
  return ed.Finish();
}

Change ApplyUnassignable(const v1::WorkOrder& order, const Context& ctx) {
  Editor ed(order, ctx);
  ed.order().set_unassignable(true);
  return ed.Finish();
}

Change ApplyEtaUpdated(const v1::WorkOrder& order, const v1::EtaUpdated& eta,
                       const Context& ctx) {
  Editor ed(order, ctx);
  v1::WorkOrder& o = ed.order();
  if (o.assignment().engineer_id() == eta.engineer_id()) {
    *o.mutable_assignment()->mutable_eta() = eta.eta();
    *o.mutable_assignment()->mutable_eta_updated_at() = rpc::ToProto(ctx.now);
  }
  if (eta.late_for_window()) {
    // SPEC §2.4: a predicted delay puts the order at risk and proposes a new
    // window to the customer.
    if (eta.has_proposed_window()) *o.mutable_proposed_window() = eta.proposed_window();
    v1::SlaClock* arrival = MutableClock(o, v1::SLA_CLOCK_KIND_ARRIVAL);
    if (arrival != nullptr && arrival->outcome() == v1::SLA_OUTCOME_RUNNING &&
        !arrival->at_risk()) {
      arrival->set_at_risk(true);
      *arrival->mutable_at_risk_at() = rpc::ToProto(ctx.now);
      v1::Event e = ed.NewEvent();
      auto* risk = e.mutable_sla_clock_at_risk();
      risk->set_order_id(o.order_id());
      risk->set_clock(v1::SLA_CLOCK_KIND_ARRIVAL);
      *risk->mutable_deadline() = arrival->deadline();
      risk->set_priority(o.priority());
      risk->set_region_code(o.service_area().region_code());
      risk->set_engineer_id(eta.engineer_id());
      risk->set_predicted_late(true);
      ed.Emit(std::move(e));
    }
  }
  return ed.Finish();
}

Change ApplyPartsBackordered(const v1::WorkOrder& order, const Context& ctx) {
  Editor ed(order, ctx);
  ed.order().set_waited_for_parts(true);
  // A part ordered right after the diagnosis may be waited for before the
  // quote; the fee gate is kept where work would start (ApplyPartsAvailable).
  if (In(order.state(), {v1::ORDER_STATE_IN_REPAIR, v1::ORDER_STATE_DIAGNOSED})) {
    ed.Move(v1::ORDER_STATE_WAITING_PARTS, v1::PROGRESS_MILESTONE_WAITING_PARTS);
  }
  return ed.Finish();
}

Change ApplyPartsAvailable(const v1::WorkOrder& order,
                           const v1::PartsAvailable& available,
                           const Context& ctx) {
  if (!available.all_available() || order.state() != v1::ORDER_STATE_WAITING_PARTS) {
    return Change{order, {}, {}};  // nothing changes: no new version
  }
  Editor ed(order, ctx);
  // Parts in hand: repair resumes, unless the customer has yet to confirm the
  // fee — then back to DIAGNOSED for the quote.
  ed.Move(FeeGateOpen(order) ? v1::ORDER_STATE_IN_REPAIR : v1::ORDER_STATE_DIAGNOSED,
          v1::PROGRESS_MILESTONE_PARTS_AVAILABLE);
  return ed.Finish();
}

Change ApplyComplaintFiled(const v1::WorkOrder& order,
                           const std::string& complaint_id, const Context& ctx) {
  Editor ed(order, ctx);
  v1::WorkOrder& o = ed.order();
  for (const auto& id : o.complaint_ids()) {
    if (id == complaint_id) return ed.Finish();
  }
  o.add_complaint_ids(complaint_id);
  // A linked complaint changes the follow-up budget (48 h).
  if (v1::SlaClock* f = MutableClock(o, v1::SLA_CLOCK_KIND_FOLLOW_UP)) {
    auto budget = BudgetFor(*ctx.policy, f->kind(), FactsOf(o, *ctx.policy));
    if (budget.has_value()) {
      sla::Rebudget(*f, budget->budget, ctx.now, ctx.policy->at_risk_fraction(),
                    CalendarFor(o, *f, *ctx.policy));
    }
  }
  return ed.Finish();
}

Change Sweep(const v1::WorkOrder& order, const Context& ctx) {
  Editor ed(order, ctx);
  for (auto& clock : *ed.order().mutable_sla_clocks()) ed.Evaluate(clock);
  return ed.Finish();
}

absl::Time NextSweep(const v1::WorkOrder& order, const v1::IntakePolicy& policy) {
  absl::Time next = absl::InfiniteFuture();
  for (const auto& clock : order.sla_clocks()) {
    next = std::min(next, sla::NextCheck(clock, policy.at_risk_fraction(),
                                         CalendarFor(order, clock, policy)));
  }
  return next;
}

v1::BreachCause AttributeBreach(const v1::WorkOrder& order, SlaClockKind clock) {
  const bool assigned = order.has_assignment();
  const v1::BreachCause unassigned_cause =
      order.unassignable() ? v1::BREACH_CAUSE_CAPACITY : v1::BREACH_CAUSE_DISPATCH;
  switch (clock) {
    case v1::SLA_CLOCK_KIND_FIRST_CONTACT:
    case v1::SLA_CLOCK_KIND_DISPATCH:
      return assigned ? v1::BREACH_CAUSE_DISPATCH : unassigned_cause;
    case v1::SLA_CLOCK_KIND_ARRIVAL: {
      if (!assigned) return unassigned_cause;
      // Assigned after the dispatch deadline: the lateness began in dispatch.
      const v1::SlaClock* d = FindClock(order, v1::SLA_CLOCK_KIND_DISPATCH);
      if (d != nullptr && d->outcome() == v1::SLA_OUTCOME_BREACHED) {
        return d->breach_cause() != v1::BREACH_CAUSE_UNSPECIFIED ? d->breach_cause()
                                                                  : v1::BREACH_CAUSE_DISPATCH;
      }
      return v1::BREACH_CAUSE_TRAVEL;
    }
    case v1::SLA_CLOCK_KIND_REPAIR_PLAN:
    case v1::SLA_CLOCK_KIND_RESOLUTION: {
      if (order.waited_for_parts()) return v1::BREACH_CAUSE_PARTS;
      if (order.is_rework()) return v1::BREACH_CAUSE_SKILL;
      const v1::SlaClock* a = FindClock(order, v1::SLA_CLOCK_KIND_ARRIVAL);
      if (a != nullptr && a->outcome() == v1::SLA_OUTCOME_BREACHED) {
        return a->breach_cause();
      }
      if (!assigned) return unassigned_cause;
      return v1::BREACH_CAUSE_SKILL;
    }
    case v1::SLA_CLOCK_KIND_FOLLOW_UP:
      // Follow-up waits on reaching the customer (survey or call).
      return v1::BREACH_CAUSE_CUSTOMER;
    default:
      return v1::BREACH_CAUSE_UNSPECIFIED;
  }
}

}  // namespace aftersales::intake::domain
