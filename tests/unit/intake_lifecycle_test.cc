// The intake work order's lifecycle (SPEC §2.3), its SLA clocks (SPEC §2.4),
// sweeps, events and late-arrival compensation (SPEC §2.6), judged by the
// shipped policy deploy/policies/intake.textproto.
//
// Times are local Shanghai instants (region CN-310000: tier 1, service hours
// 08:00-20:00). 2026-11-23 is a Monday; the shipped holidays (2026-10-01..03,
// 2027-01-01, 2027-02-05..08) do not touch the days used here.

#include <functional>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "google/protobuf/util/message_differencer.h"
#include "intake/domain/lifecycle.h"
#include "intake/domain/order.h"
#include "intake/domain/policy.h"
#include "rpc/rpc.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales::intake::domain {
namespace {

using google::protobuf::util::MessageDifferencer;
using v1::OrderState;
using v1::SlaClockKind;

// ---------------------------------------------------------------------------
// Policy, zone, instants, names
// ---------------------------------------------------------------------------

const v1::IntakePolicy& Policy() {
  static const v1::IntakePolicy policy = [] {
    auto loaded =
        LoadIntakePolicyFile(testing::SourcePath("deploy/policies/intake.textproto"));
    if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
    return *std::move(loaded);
  }();
  return policy;
}

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone zone = [] {
    absl::TimeZone z;
    if (!absl::LoadTimeZone("Asia/Shanghai", &z)) {
      throw std::runtime_error("cannot load Asia/Shanghai");
    }
    return z;
  }();
  return zone;
}

// A local Shanghai instant in November 2026 (23 = Monday).
absl::Time Nov(int day, int hour, int minute, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(2026, 11, day, hour, minute, second), Shanghai());
}

std::string Local(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S %a", t, Shanghai());
}

std::string Name(OrderState s) {
  return std::string(absl::StripPrefix(v1::OrderState_Name(s), "ORDER_STATE_"));
}
std::string Name(v1::ProgressMilestone m) {
  return std::string(absl::StripPrefix(v1::ProgressMilestone_Name(m), "PROGRESS_MILESTONE_"));
}
std::string Name(SlaClockKind k) {
  return std::string(absl::StripPrefix(v1::SlaClockKind_Name(k), "SLA_CLOCK_KIND_"));
}
std::string Name(v1::BreachCause c) {
  return std::string(absl::StripPrefix(v1::BreachCause_Name(c), "BREACH_CAUSE_"));
}
std::string Name(v1::SlaOutcome o) {
  return std::string(absl::StripPrefix(v1::SlaOutcome_Name(o), "SLA_OUTCOME_"));
}
std::string Name(v1::SlaCalendar c) {
  return std::string(absl::StripPrefix(v1::SlaCalendar_Name(c), "SLA_CALENDAR_"));
}
std::string Name(v1::Priority p) {
  return std::string(absl::StripPrefix(v1::Priority_Name(p), "PRIORITY_"));
}

// ---------------------------------------------------------------------------
// Orders and contexts
// ---------------------------------------------------------------------------

struct OrderSetup {
  v1::Priority priority = v1::PRIORITY_NORMAL;
  std::string region = "CN-310000";  // Shanghai, tier 1
  int tier = 1;
  v1::CustomerTier customer_tier = v1::CUSTOMER_TIER_STANDARD;
  v1::WarrantyStatus warranty = v1::WARRANTY_STATUS_UNSPECIFIED;
  v1::OrderType order_type = v1::ORDER_TYPE_UNSPECIFIED;
  v1::FaultComplexity complexity = v1::FAULT_COMPLEXITY_UNSPECIFIED;
};

// SampleOrderRequest -> NewOrder("WO1") -> priority -> StartClocks, all at `created`.
v1::WorkOrder MakeOrder(absl::Time created, const OrderSetup& setup = {}) {
  v1::CreateOrderRequest request = testing::SampleOrderRequest("req-1", "SN-1");
  request.mutable_service_area()->set_region_code(setup.region);
  request.mutable_service_area()->set_city_tier(setup.tier);
  request.set_customer_tier(setup.customer_tier);
  request.mutable_appliance()->set_warranty_status(setup.warranty);
  request.set_order_type(setup.order_type);
  request.mutable_fault()->set_complexity(setup.complexity);
  v1::WorkOrder order = NewOrder(request, "WO1", "agent-1", created);
  order.set_priority(setup.priority);
  const absl::Status started = StartClocks(order, Policy(), created);
  if (!started.ok()) throw std::runtime_error(started.ToString());
  return order;
}

Context Ctx(absl::Time now) {
  Context ctx;
  ctx.now = now;
  ctx.actor.set_principal_id("agent-1");
  ctx.actor.set_role(v1::ROLE_AGENT);
  ctx.policy = &Policy();
  return ctx;
}

const v1::SlaClock& ClockOf(const v1::WorkOrder& order, SlaClockKind kind) {
  for (const auto& c : order.sla_clocks()) {
    if (c.kind() == kind) return c;
  }
  throw std::runtime_error("order has no " + Name(kind) + " clock");
}

bool HasClock(const v1::WorkOrder& order, SlaClockKind kind) {
  for (const auto& c : order.sla_clocks()) {
    if (c.kind() == kind) return true;
  }
  return false;
}

absl::Time DeadlineOf(const v1::WorkOrder& order, SlaClockKind kind) {
  return rpc::FromProto(ClockOf(order, kind).deadline());
}

// ---------------------------------------------------------------------------
// Milestones
// ---------------------------------------------------------------------------

// Every progress milestone (fee decision split in two), the dispatch-driven
// assignment, and two report variants.
enum class Step {
  kContacted,
  kOfferAccepted,  // dispatch OfferAccepted (milestone ASSIGNED)
  kDeparted,
  kArrived,
  kRemoteStarted,
  kRemoteFailed,
  kDiagnosed,            // no parts needed: the fee gate is open
  kDiagnosedNeedsParts,  // variant of kDiagnosed
  kQuoted,
  kFeeAccepted,
  kFeeDeclined,
  kRepairStarted,
  kWaitingParts,
  kRepaired,
  kCustomerConfirmed,
  kFollowedUp,            // problem_solved = true
  kFollowedUpNotSolved,   // variant of kFollowedUp
  kClose,
  kReopen,
  kCancel,
  kCustomerUnavailable,
  kHoldReleased,
  kRescheduled,
};

// The milestones the illegal-transition matrix tries in every state.
const std::vector<Step> kAllMilestones = {
    Step::kContacted,     Step::kOfferAccepted,  Step::kDeparted,
    Step::kArrived,       Step::kRemoteStarted,  Step::kRemoteFailed,
    Step::kDiagnosed,     Step::kQuoted,         Step::kFeeAccepted,
    Step::kFeeDeclined,   Step::kRepairStarted,  Step::kWaitingParts,
    Step::kRepaired,      Step::kCustomerConfirmed, Step::kFollowedUp,
    Step::kClose,         Step::kReopen,         Step::kCancel,
    Step::kCustomerUnavailable, Step::kHoldReleased, Step::kRescheduled,
};

// A variant counts as its milestone in the legality table.
Step Base(Step s) {
  if (s == Step::kDiagnosedNeedsParts) return Step::kDiagnosed;
  if (s == Step::kFollowedUpNotSolved) return Step::kFollowedUp;
  return s;
}

v1::ProgressMilestone MilestoneOf(Step s) {
  switch (Base(s)) {
    case Step::kContacted: return v1::PROGRESS_MILESTONE_CONTACTED;
    case Step::kOfferAccepted: return v1::PROGRESS_MILESTONE_ASSIGNED;
    case Step::kDeparted: return v1::PROGRESS_MILESTONE_DEPARTED;
    case Step::kArrived: return v1::PROGRESS_MILESTONE_ARRIVED;
    case Step::kRemoteStarted: return v1::PROGRESS_MILESTONE_REMOTE_SESSION_STARTED;
    case Step::kRemoteFailed: return v1::PROGRESS_MILESTONE_REMOTE_SESSION_FAILED;
    case Step::kDiagnosed: return v1::PROGRESS_MILESTONE_DIAGNOSED;
    case Step::kQuoted: return v1::PROGRESS_MILESTONE_QUOTED;
    case Step::kFeeAccepted: return v1::PROGRESS_MILESTONE_FEE_CONFIRMED;
    case Step::kFeeDeclined: return v1::PROGRESS_MILESTONE_FEE_DECLINED;
    case Step::kRepairStarted: return v1::PROGRESS_MILESTONE_REPAIR_STARTED;
    case Step::kWaitingParts: return v1::PROGRESS_MILESTONE_WAITING_PARTS;
    case Step::kRepaired: return v1::PROGRESS_MILESTONE_REPAIRED;
    case Step::kCustomerConfirmed: return v1::PROGRESS_MILESTONE_CUSTOMER_CONFIRMED;
    case Step::kFollowedUp: return v1::PROGRESS_MILESTONE_FOLLOWED_UP;
    case Step::kClose: return v1::PROGRESS_MILESTONE_CLOSED;
    case Step::kReopen: return v1::PROGRESS_MILESTONE_REOPENED;
    case Step::kCancel: return v1::PROGRESS_MILESTONE_CANCELLED;
    case Step::kCustomerUnavailable: return v1::PROGRESS_MILESTONE_CUSTOMER_UNAVAILABLE;
    case Step::kHoldReleased: return v1::PROGRESS_MILESTONE_HOLD_RELEASED;
    case Step::kRescheduled: return v1::PROGRESS_MILESTONE_RESCHEDULED;
    default: return v1::PROGRESS_MILESTONE_UNSPECIFIED;
  }
}

std::string StepName(Step s) {
  if (s == Step::kDiagnosedNeedsParts) return "DIAGNOSED(parts needed)";
  if (s == Step::kFollowedUpNotSolved) return "FOLLOWED_UP(not solved)";
  if (s == Step::kOfferAccepted) return "OfferAccepted";
  return Name(MilestoneOf(s));
}

v1::AppointmentWindow Window(absl::Time start, absl::Time end) {
  v1::AppointmentWindow w;
  *w.mutable_start() = rpc::ToProto(start);
  *w.mutable_end() = rpc::ToProto(end);
  return w;
}

v1::QuoteLine Line(v1::QuoteLineKind kind, const std::string& sku, int quantity,
                   int64_t unit_minor, bool covered = false) {
  v1::QuoteLine l;
  l.set_kind(kind);
  l.set_sku(sku);
  l.set_description(sku.empty() ? "labour" : "compressor");
  l.set_quantity(quantity);
  l.mutable_unit_price()->set_currency_code("CNY");
  l.mutable_unit_price()->set_amount_minor(unit_minor);
  l.set_covered_by_warranty(covered);
  return l;
}

v1::ProgressReport ReportFor(Step step, const v1::WorkOrder& order) {
  v1::ProgressReport r;
  r.set_client_event_id(absl::StrCat("ev-", order.transitions_size(), "-", StepName(step)));
  r.set_order_id(order.order_id());
  switch (step) {
    case Step::kContacted:
      r.mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
      break;
    case Step::kOfferAccepted:
      throw std::logic_error("OfferAccepted is not a progress report");
    case Step::kDeparted:
      r.mutable_departed();
      break;
    case Step::kArrived:
      r.mutable_arrived();
      break;
    case Step::kRemoteStarted:
      r.mutable_remote_session_started()->set_session_ref("RS-1");
      break;
    case Step::kRemoteFailed:
      r.mutable_remote_session_failed()->set_reason("needs on-site repair");
      break;
    case Step::kDiagnosed:
    case Step::kDiagnosedNeedsParts: {
      auto* d = r.mutable_diagnosed()->mutable_diagnosis();
      d->set_initial_cause_code("COMPRESSOR");
      d->set_kind(v1::FAULT_KIND_HARDWARE);
      d->set_complexity(v1::FAULT_COMPLEXITY_SIMPLE);
      d->set_parts_needed(step == Step::kDiagnosedNeedsParts);
      break;
    }
    case Step::kQuoted:
      *r.mutable_quoted()->add_lines() = Line(v1::QUOTE_LINE_KIND_PART, "SKU-1", 2, 15000);
      *r.mutable_quoted()->add_lines() = Line(v1::QUOTE_LINE_KIND_LABOR, "", 1, 8000);
      break;
    case Step::kFeeAccepted:
    case Step::kFeeDeclined:
      r.mutable_fee_decision()->set_quote_id(order.quote().quote_id());
      r.mutable_fee_decision()->set_accepted(step == Step::kFeeAccepted);
      r.mutable_fee_decision()->set_method(v1::CONSENT_METHOD_VOICE);
      r.mutable_fee_decision()->set_evidence_ref("rec-1");
      break;
    case Step::kRepairStarted:
      r.mutable_repair_started();
      break;
    case Step::kWaitingParts:
      r.mutable_waiting_parts()->add_skus("SKU-1");
      break;
    case Step::kRepaired: {
      auto* res = r.mutable_repaired()->mutable_result();
      res->set_final_cause_code("COMPRESSOR");
      res->set_first_visit_fix(true);
      break;
    }
    case Step::kCustomerConfirmed:
      r.mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
      break;
    case Step::kFollowedUp:
      r.mutable_followed_up()->set_problem_solved(true);
      break;
    case Step::kFollowedUpNotSolved:
      r.mutable_followed_up()->set_problem_solved(false);
      break;
    case Step::kClose:
      r.mutable_close();
      break;
    case Step::kReopen:
      r.mutable_reopen()->set_source(v1::REOPEN_SOURCE_AGENT);
      r.mutable_reopen()->set_reason("still not cooling");
      break;
    case Step::kCancel:
      r.mutable_cancel()->set_reason(v1::CANCEL_REASON_CUSTOMER_REQUEST);
      break;
    case Step::kCustomerUnavailable:
      r.mutable_customer_unavailable()->set_reason(v1::HOLD_REASON_CUSTOMER_NOT_HOME);
      break;
    case Step::kHoldReleased:
      r.mutable_hold_released();
      break;
    case Step::kRescheduled:
      *r.mutable_rescheduled()->mutable_window() = Window(Nov(24, 14, 0), Nov(24, 16, 0));
      break;
  }
  return r;
}

v1::OfferAccepted Offer(absl::Time now, const std::string& engineer = "E1") {
  v1::OfferAccepted a;
  a.set_offer_id("OF-" + engineer);
  a.set_order_id("WO1");
  a.set_engineer_id(engineer);
  a.set_partner_id("P1");
  a.set_attempt(1);
  *a.mutable_accepted_at() = rpc::ToProto(now);
  *a.mutable_eta() = rpc::ToProto(now + absl::Minutes(40));
  a.mutable_engineer()->set_engineer_id(engineer);
  a.mutable_engineer()->set_display_name("Engineer Li");
  return a;
}

absl::StatusOr<Change> Apply(const v1::WorkOrder& order, Step step, absl::Time now) {
  const Context ctx = Ctx(now);
  if (step == Step::kOfferAccepted) return ApplyOfferAccepted(order, Offer(now), ctx);
  return ApplyProgress(order, ReportFor(step, order), ctx);
}

absl::StatusOr<Change> ApplyReport(const v1::WorkOrder& order, const v1::ProgressReport& r,
                                   absl::Time now) {
  return ApplyProgress(order, r, Ctx(now));
}

// Applies `steps` one minute apart starting at *t; *t ends one minute after
// the last step. A refused step is a broken test path: it throws.
v1::WorkOrder Run(v1::WorkOrder order, const std::vector<Step>& steps, absl::Time* t) {
  for (Step s : steps) {
    auto change = Apply(order, s, *t);
    if (!change.ok()) {
      throw std::runtime_error(absl::StrCat("path step ", StepName(s), " in ",
                                            Name(order.state()), ": ",
                                            change.status().ToString()));
    }
    order = std::move(change->order);
    *t += absl::Minutes(1);
  }
  return order;
}

std::vector<Step> Path(std::initializer_list<std::vector<Step>> parts) {
  std::vector<Step> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// Real milestone sequences from CREATED (fee gate open: no parts needed).
const std::vector<Step> kToCreated = {};
const std::vector<Step> kToContacted = {Step::kContacted};
const std::vector<Step> kToAssigned = {Step::kContacted, Step::kOfferAccepted};
const std::vector<Step> kToEnRoute = Path({kToAssigned, {Step::kDeparted}});
const std::vector<Step> kToOnSite = Path({kToEnRoute, {Step::kArrived}});
const std::vector<Step> kToRemote = Path({kToAssigned, {Step::kRemoteStarted}});
const std::vector<Step> kToRemoteUnassigned = {Step::kContacted, Step::kRemoteStarted};
const std::vector<Step> kToDiagnosed = Path({kToOnSite, {Step::kDiagnosed}});
const std::vector<Step> kToQuoted = Path({kToDiagnosed, {Step::kQuoted}});
const std::vector<Step> kToInRepair = Path({kToDiagnosed, {Step::kRepairStarted}});
const std::vector<Step> kToWaitingParts = Path({kToInRepair, {Step::kWaitingParts}});
const std::vector<Step> kToRepaired = Path({kToInRepair, {Step::kRepaired}});
const std::vector<Step> kToConfirmed = Path({kToRepaired, {Step::kCustomerConfirmed}});
const std::vector<Step> kToFollowedUp = Path({kToConfirmed, {Step::kFollowedUp}});
const std::vector<Step> kToClosed = Path({kToFollowedUp, {Step::kClose}});
const std::vector<Step> kToReopened = Path({kToRepaired, {Step::kReopen}});
const std::vector<Step> kToOnHold = Path({kToAssigned, {Step::kCustomerUnavailable}});
const std::vector<Step> kToCancelled = {Step::kCancel};

struct Reachable {
  OrderState state;
  std::vector<Step> path;
};

// One real path to every state of SPEC §2.3.
const std::vector<Reachable> kReachable = {
    {v1::ORDER_STATE_CREATED, kToCreated},
    {v1::ORDER_STATE_CONTACTED, kToContacted},
    {v1::ORDER_STATE_ASSIGNED, kToAssigned},
    {v1::ORDER_STATE_EN_ROUTE, kToEnRoute},
    {v1::ORDER_STATE_ON_SITE, kToOnSite},
    {v1::ORDER_STATE_REMOTE_SESSION, kToRemote},
    {v1::ORDER_STATE_DIAGNOSED, kToDiagnosed},
    {v1::ORDER_STATE_QUOTED, kToQuoted},
    {v1::ORDER_STATE_IN_REPAIR, kToInRepair},
    {v1::ORDER_STATE_WAITING_PARTS, kToWaitingParts},
    {v1::ORDER_STATE_ON_HOLD_CUSTOMER, kToOnHold},
    {v1::ORDER_STATE_REPAIRED, kToRepaired},
    {v1::ORDER_STATE_CONFIRMED, kToConfirmed},
    {v1::ORDER_STATE_FOLLOWED_UP, kToFollowedUp},
    {v1::ORDER_STATE_CLOSED, kToClosed},
    {v1::ORDER_STATE_REOPENED, kToReopened},
    {v1::ORDER_STATE_CANCELLED, kToCancelled},
};

// The open states (work may still happen; cancel / hold / reschedule apply).
const std::set<OrderState> kOpenStates = {
    v1::ORDER_STATE_CREATED,       v1::ORDER_STATE_CONTACTED,
    v1::ORDER_STATE_ASSIGNED,      v1::ORDER_STATE_EN_ROUTE,
    v1::ORDER_STATE_ON_SITE,       v1::ORDER_STATE_REMOTE_SESSION,
    v1::ORDER_STATE_DIAGNOSED,     v1::ORDER_STATE_QUOTED,
    v1::ORDER_STATE_IN_REPAIR,     v1::ORDER_STATE_WAITING_PARTS,
    v1::ORDER_STATE_ON_HOLD_CUSTOMER, v1::ORDER_STATE_REOPENED,
};

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

std::vector<v1::Event> EventsOf(const Change& c, v1::Event::BodyCase body) {
  std::vector<v1::Event> out;
  for (const auto& e : c.events) {
    if (e.body_case() == body) out.push_back(e);
  }
  return out;
}

SlaClockKind ClockOfEvent(const v1::Event& e) {
  switch (e.body_case()) {
    case v1::Event::kSlaClockAtRisk: return e.sla_clock_at_risk().clock();
    case v1::Event::kSlaBreached: return e.sla_breached().clock();
    case v1::Event::kSlaClockStopped: return e.sla_clock_stopped().clock();
    default: return v1::SLA_CLOCK_KIND_UNSPECIFIED;
  }
}

std::vector<v1::Event> ClockEvents(const Change& c, v1::Event::BodyCase body,
                                   SlaClockKind clock) {
  std::vector<v1::Event> out;
  for (const auto& e : EventsOf(c, body)) {
    if (ClockOfEvent(e) == clock) out.push_back(e);
  }
  return out;
}

// ===========================================================================
// 1. Legal transitions
// ===========================================================================

struct Legal {
  std::string name;
  std::vector<Step> path;  // from CREATED
  OrderState from;
  Step step;
  OrderState to;
  int transitions = 1;  // transitions the step appends
  OrderSetup setup = {};
};

std::vector<Legal> LegalTransitions() {
  using S = Step;
  std::vector<Legal> rows = {
      {"first contact", kToCreated, v1::ORDER_STATE_CREATED, S::kContacted,
       v1::ORDER_STATE_CONTACTED},
      {"offer accepted before first contact is latched", kToCreated,
       v1::ORDER_STATE_CREATED, S::kOfferAccepted, v1::ORDER_STATE_CREATED},
      {"latched assignment takes effect at first contact", {S::kOfferAccepted},
       v1::ORDER_STATE_CREATED, S::kContacted, v1::ORDER_STATE_ASSIGNED, 2},
      {"offer accepted", kToContacted, v1::ORDER_STATE_CONTACTED, S::kOfferAccepted,
       v1::ORDER_STATE_ASSIGNED},
      {"reassigned while ASSIGNED", kToAssigned, v1::ORDER_STATE_ASSIGNED,
       S::kOfferAccepted, v1::ORDER_STATE_ASSIGNED},
      {"reassigned while EN_ROUTE", kToEnRoute, v1::ORDER_STATE_EN_ROUTE,
       S::kOfferAccepted, v1::ORDER_STATE_ASSIGNED},
      {"departed", kToAssigned, v1::ORDER_STATE_ASSIGNED, S::kDeparted,
       v1::ORDER_STATE_EN_ROUTE},
      {"arrived", kToEnRoute, v1::ORDER_STATE_EN_ROUTE, S::kArrived,
       v1::ORDER_STATE_ON_SITE},
      {"arrived without a departure report", kToAssigned, v1::ORDER_STATE_ASSIGNED,
       S::kArrived, v1::ORDER_STATE_ON_SITE},
      {"remote session from CONTACTED", kToContacted, v1::ORDER_STATE_CONTACTED,
       S::kRemoteStarted, v1::ORDER_STATE_REMOTE_SESSION},
      {"remote session from ASSIGNED", kToAssigned, v1::ORDER_STATE_ASSIGNED,
       S::kRemoteStarted, v1::ORDER_STATE_REMOTE_SESSION},
      {"failed remote session goes back to ASSIGNED", kToRemote,
       v1::ORDER_STATE_REMOTE_SESSION, S::kRemoteFailed, v1::ORDER_STATE_ASSIGNED},
      {"failed remote session without an engineer goes back to CONTACTED",
       kToRemoteUnassigned, v1::ORDER_STATE_REMOTE_SESSION, S::kRemoteFailed,
       v1::ORDER_STATE_CONTACTED},
      {"engineer on standby during a remote session", kToRemoteUnassigned,
       v1::ORDER_STATE_REMOTE_SESSION, S::kOfferAccepted, v1::ORDER_STATE_REMOTE_SESSION},
      {"diagnosed on site", kToOnSite, v1::ORDER_STATE_ON_SITE, S::kDiagnosed,
       v1::ORDER_STATE_DIAGNOSED},
      {"diagnosed remotely", kToRemote, v1::ORDER_STATE_REMOTE_SESSION, S::kDiagnosed,
       v1::ORDER_STATE_DIAGNOSED},
      {"price list uploaded", kToDiagnosed, v1::ORDER_STATE_DIAGNOSED, S::kQuoted,
       v1::ORDER_STATE_QUOTED},
      {"fee confirmed", kToQuoted, v1::ORDER_STATE_QUOTED, S::kFeeAccepted,
       v1::ORDER_STATE_IN_REPAIR},
      {"fee declined stays QUOTED", kToQuoted, v1::ORDER_STATE_QUOTED, S::kFeeDeclined,
       v1::ORDER_STATE_QUOTED},
      {"re-quote while pending", kToQuoted, v1::ORDER_STATE_QUOTED, S::kQuoted,
       v1::ORDER_STATE_QUOTED},
      {"re-quote after a declined fee", Path({kToQuoted, {S::kFeeDeclined}}),
       v1::ORDER_STATE_QUOTED, S::kQuoted, v1::ORDER_STATE_QUOTED},
      {"fee confirmed on the re-quote", Path({kToQuoted, {S::kFeeDeclined, S::kQuoted}}),
       v1::ORDER_STATE_QUOTED, S::kFeeAccepted, v1::ORDER_STATE_IN_REPAIR},
      {"repair without parts (fee gate open)", kToDiagnosed, v1::ORDER_STATE_DIAGNOSED,
       S::kRepairStarted, v1::ORDER_STATE_IN_REPAIR},
      {"repair with parts under warranty", Path({kToOnSite, {S::kDiagnosedNeedsParts}}),
       v1::ORDER_STATE_DIAGNOSED, S::kRepairStarted, v1::ORDER_STATE_IN_REPAIR, 1,
       {.warranty = v1::WARRANTY_STATUS_IN}},
      {"repair with parts under extended warranty",
       Path({kToOnSite, {S::kDiagnosedNeedsParts}}), v1::ORDER_STATE_DIAGNOSED,
       S::kRepairStarted, v1::ORDER_STATE_IN_REPAIR, 1,
       {.warranty = v1::WARRANTY_STATUS_EXTENDED}},
      {"waiting for parts right after diagnosis", kToDiagnosed, v1::ORDER_STATE_DIAGNOSED,
       S::kWaitingParts, v1::ORDER_STATE_WAITING_PARTS},
      {"waiting for parts during repair", kToInRepair, v1::ORDER_STATE_IN_REPAIR,
       S::kWaitingParts, v1::ORDER_STATE_WAITING_PARTS},
      {"repair resumes after parts", kToWaitingParts, v1::ORDER_STATE_WAITING_PARTS,
       S::kRepairStarted, v1::ORDER_STATE_IN_REPAIR},
      {"repaired", kToInRepair, v1::ORDER_STATE_IN_REPAIR, S::kRepaired,
       v1::ORDER_STATE_REPAIRED},
      {"repaired remotely", kToRemote, v1::ORDER_STATE_REMOTE_SESSION, S::kRepaired,
       v1::ORDER_STATE_REPAIRED},
      {"repaired right after diagnosis (fee gate open)", kToDiagnosed,
       v1::ORDER_STATE_DIAGNOSED, S::kRepaired, v1::ORDER_STATE_REPAIRED},
      {"customer confirmed", kToRepaired, v1::ORDER_STATE_REPAIRED, S::kCustomerConfirmed,
       v1::ORDER_STATE_CONFIRMED},
      {"followed up", kToConfirmed, v1::ORDER_STATE_CONFIRMED, S::kFollowedUp,
       v1::ORDER_STATE_FOLLOWED_UP},
      {"closed", kToFollowedUp, v1::ORDER_STATE_FOLLOWED_UP, S::kClose,
       v1::ORDER_STATE_CLOSED},
      {"not solved at follow-up reopens", kToConfirmed, v1::ORDER_STATE_CONFIRMED,
       S::kFollowedUpNotSolved, v1::ORDER_STATE_REOPENED, 2},
      {"reopened from REPAIRED", kToRepaired, v1::ORDER_STATE_REPAIRED, S::kReopen,
       v1::ORDER_STATE_REOPENED},
      {"reopened from CONFIRMED", kToConfirmed, v1::ORDER_STATE_CONFIRMED, S::kReopen,
       v1::ORDER_STATE_REOPENED},
      {"reopened from FOLLOWED_UP", kToFollowedUp, v1::ORDER_STATE_FOLLOWED_UP,
       S::kReopen, v1::ORDER_STATE_REOPENED},
      {"reopened order is assigned again", kToReopened, v1::ORDER_STATE_REOPENED,
       S::kOfferAccepted, v1::ORDER_STATE_ASSIGNED},
      {"hold released", kToOnHold, v1::ORDER_STATE_ON_HOLD_CUSTOMER, S::kHoldReleased,
       v1::ORDER_STATE_ASSIGNED},
      // Dispatch's acceptance is never dropped: recorded during the hold,
      // effective when the hold is released.
      {"offer accepted during a customer hold", kToOnHold,
       v1::ORDER_STATE_ON_HOLD_CUSTOMER, S::kOfferAccepted,
       v1::ORDER_STATE_ON_HOLD_CUSTOMER},
  };
  // Any open state: cancel, customer unavailable, reschedule.
  for (const Reachable& r : kReachable) {
    if (!kOpenStates.count(r.state)) continue;
    rows.push_back({"cancelled from " + Name(r.state), r.path, r.state, S::kCancel,
                    v1::ORDER_STATE_CANCELLED});
    rows.push_back({"rescheduled in " + Name(r.state), r.path, r.state, S::kRescheduled,
                    r.state});
    if (r.state != v1::ORDER_STATE_ON_HOLD_CUSTOMER) {
      rows.push_back({"customer unavailable in " + Name(r.state), r.path, r.state,
                      S::kCustomerUnavailable, v1::ORDER_STATE_ON_HOLD_CUSTOMER});
    }
  }
  return rows;
}

TEST_CASE("every legal transition of SPEC 2.3 reaches the expected state") {
  const auto rows = LegalTransitions();
  REQUIRE(rows.size() > 60);
  for (const Legal& row : rows) {
    INFO("row: " << row.name << " (" << Name(row.from) << " + " << StepName(row.step)
                 << " -> " << Name(row.to) << ")");
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder before = Run(MakeOrder(Nov(23, 10, 0), row.setup), row.path, &t);
    REQUIRE(Name(before.state()) == Name(row.from));
    auto change = Apply(before, row.step, t);
    INFO("status: " << change.status());
    REQUIRE(change.ok());
    const v1::WorkOrder& after = change->order;
    CHECK(Name(after.state()) == Name(row.to));
    CHECK(after.version() == before.version() + 1);
    REQUIRE(after.transitions_size() == before.transitions_size() + row.transitions);
    const v1::OrderTransition& first = after.transitions(before.transitions_size());
    CHECK(Name(first.from_state()) == Name(row.from));
    CHECK(Name(first.milestone()) == Name(MilestoneOf(row.step)));
    CHECK(Name(after.transitions(after.transitions_size() - 1).to_state()) ==
          Name(row.to));
    CHECK(EventsOf(*change, v1::Event::kOrderStateChanged).size() ==
          static_cast<size_t>(row.transitions));
  }
}

TEST_CASE("an offer accepted before first contact is latched until CONTACTED") {
  const v1::WorkOrder created = MakeOrder(Nov(23, 10, 0));
  auto latched = Apply(created, Step::kOfferAccepted, Nov(23, 10, 3));
  REQUIRE(latched.ok());
  CHECK(Name(latched->order.state()) == "CREATED");
  CHECK(latched->order.assignment().engineer_id() == "E1");
  CHECK_FALSE(latched->order.has_promised_eta());
  CHECK(Name(ClockOf(latched->order, v1::SLA_CLOCK_KIND_DISPATCH).outcome()) == "MET");
  CHECK(Name(ClockOf(latched->order, v1::SLA_CLOCK_KIND_FIRST_CONTACT).outcome()) ==
        "RUNNING");
  REQUIRE(latched->order.transitions_size() == 2);
  CHECK(Name(latched->order.transitions(1).from_state()) == "CREATED");
  CHECK(Name(latched->order.transitions(1).to_state()) == "CREATED");
  CHECK(Name(latched->order.transitions(1).milestone()) == "ASSIGNED");

  auto contacted = Apply(latched->order, Step::kContacted, Nov(23, 10, 5));
  REQUIRE(contacted.ok());
  const v1::WorkOrder& o = contacted->order;
  CHECK(Name(o.state()) == "ASSIGNED");
  CHECK(o.version() == latched->order.version() + 1);
  REQUIRE(o.transitions_size() == 4);
  CHECK(Name(o.transitions(2).from_state()) == "CREATED");
  CHECK(Name(o.transitions(2).to_state()) == "CONTACTED");
  CHECK(Name(o.transitions(3).from_state()) == "CONTACTED");
  CHECK(Name(o.transitions(3).to_state()) == "ASSIGNED");
  CHECK(Name(o.transitions(3).milestone()) == "ASSIGNED");
  CHECK(rpc::FromProto(o.promised_eta()) == Nov(23, 10, 43));  // the accepted ETA
  CHECK(Name(ClockOf(o, v1::SLA_CLOCK_KIND_FIRST_CONTACT).outcome()) == "MET");
  CHECK(rpc::FromProto(ClockOf(o, v1::SLA_CLOCK_KIND_FIRST_CONTACT).stopped_at()) ==
        Nov(23, 10, 5));
}

TEST_CASE("a customer hold returns to the state it was taken from") {
  for (const Reachable& r : kReachable) {
    if (!kOpenStates.count(r.state) || r.state == v1::ORDER_STATE_ON_HOLD_CUSTOMER) continue;
    INFO("held from " << Name(r.state));
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder open = Run(MakeOrder(Nov(23, 10, 0)), r.path, &t);
    REQUIRE(Name(open.state()) == Name(r.state));
    const absl::Time hold_at = t;
    auto held = Apply(open, Step::kCustomerUnavailable, hold_at);
    REQUIRE(held.ok());
    CHECK(Name(held->order.state()) == "ON_HOLD_CUSTOMER");
    CHECK(Name(held->order.hold().held_from()) == Name(r.state));
    CHECK(rpc::FromProto(held->order.hold().since()) == hold_at);
    for (const auto& c : held->order.sla_clocks()) {
      INFO("clock " << Name(c.kind()));
      const bool running = c.outcome() == v1::SLA_OUTCOME_RUNNING && !c.has_stopped_at();
      CHECK(c.has_paused_since() == running);
    }
    CHECK(NextSweep(held->order, Policy()) == absl::InfiniteFuture());

    auto released = Apply(held->order, Step::kHoldReleased, hold_at + absl::Minutes(30));
    REQUIRE(released.ok());
    CHECK(Name(released->order.state()) == Name(r.state));
    CHECK_FALSE(released->order.has_hold());
    for (const auto& c : released->order.sla_clocks()) {
      INFO("clock " << Name(c.kind()));
      CHECK_FALSE(c.has_paused_since());
    }
  }
}

TEST_CASE("a re-quote supersedes the pending quote") {
  absl::Time t = Nov(23, 10, 1);
  const v1::WorkOrder quoted = Run(MakeOrder(Nov(23, 10, 0)), kToQuoted, &t);
  CHECK(quoted.quote().quote_id() == "WO1-Q1");
  CHECK(quoted.quote().status() == v1::QUOTE_STATUS_PENDING);
  CHECK(quoted.quote().total().amount_minor() == 38000);  // 2 x 150.00 + 80.00
  CHECK(quoted.quote().customer_payable().amount_minor() == 38000);

  v1::ProgressReport requote;
  requote.set_client_event_id("ev-requote");
  requote.set_order_id("WO1");
  *requote.mutable_quoted()->add_lines() =
      Line(v1::QUOTE_LINE_KIND_PART, "SKU-1", 1, 15000, /*covered=*/true);
  *requote.mutable_quoted()->add_lines() = Line(v1::QUOTE_LINE_KIND_LABOR, "", 1, 8000);
  auto second = ApplyReport(quoted, requote, t);
  REQUIRE(second.ok());
  const v1::WorkOrder& q2 = second->order;
  CHECK(Name(q2.state()) == "QUOTED");
  CHECK(q2.quote().quote_id() == "WO1-Q2");
  CHECK(q2.quote().status() == v1::QUOTE_STATUS_PENDING);
  CHECK(q2.quote().lines_size() == 2);
  CHECK(q2.quote().total().amount_minor() == 23000);
  CHECK(q2.quote().customer_payable().amount_minor() == 8000);

  SECTION("a decision on the superseded quote is refused") {
    v1::ProgressReport stale = ReportFor(Step::kFeeAccepted, quoted);  // names WO1-Q1
    auto refused = ApplyReport(q2, stale, t + absl::Minutes(1));
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(refused.status().message(), "current: WO1-Q2"));
  }
  SECTION("accepting the current quote starts the repair") {
    auto accepted = Apply(q2, Step::kFeeAccepted, t + absl::Minutes(1));
    REQUIRE(accepted.ok());
    CHECK(Name(accepted->order.state()) == "IN_REPAIR");
    CHECK(accepted->order.quote().status() == v1::QUOTE_STATUS_ACCEPTED);
    CHECK(rpc::FromProto(accepted->order.quote().decided_at()) == t + absl::Minutes(1));
  }
  SECTION("a declined quote can be re-quoted, and the old one stays refused") {
    auto declined = Apply(q2, Step::kFeeDeclined, t + absl::Minutes(1));
    REQUIRE(declined.ok());
    CHECK(Name(declined->order.state()) == "QUOTED");
    CHECK(declined->order.quote().status() == v1::QUOTE_STATUS_DECLINED);
    auto again = Apply(declined->order, Step::kFeeAccepted, t + absl::Minutes(2));
    CHECK(again.status().code() == absl::StatusCode::kInvalidArgument);
    auto third = Apply(declined->order, Step::kQuoted, t + absl::Minutes(3));
    REQUIRE(third.ok());
    CHECK(third->order.quote().quote_id() == "WO1-Q3");
    CHECK(third->order.quote().status() == v1::QUOTE_STATUS_PENDING);
  }
}

TEST_CASE("RESCHEDULED keeps the state and judges arrival against the window end") {
  const v1::WorkOrder created = MakeOrder(Nov(23, 10, 0));
  REQUIRE(DeadlineOf(created, v1::SLA_CLOCK_KIND_ARRIVAL) == Nov(23, 12, 0));

  struct Case {
    const char* name;
    absl::Time start, end;
    absl::Time deadline;
  };
  const std::vector<Case> cases = {
      {"a later window moves the deadline to its end", Nov(23, 14, 0), Nov(23, 16, 0),
       Nov(23, 16, 0)},
      {"next day's window", Nov(24, 9, 0), Nov(24, 11, 30), Nov(24, 11, 30)},
      {"an earlier window never makes the promise stricter", Nov(23, 10, 30),
       Nov(23, 11, 0), Nov(23, 12, 0)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    v1::ProgressReport r = ReportFor(Step::kRescheduled, created);
    *r.mutable_rescheduled()->mutable_window() = Window(c.start, c.end);
    auto change = ApplyReport(created, r, Nov(23, 10, 10));
    REQUIRE(change.ok());
    const v1::WorkOrder& o = change->order;
    CHECK(Name(o.state()) == "CREATED");
    CHECK(rpc::FromProto(o.appointment().end()) == c.end);
    const v1::SlaClock& arrival = ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL);
    CHECK(rpc::FromProto(arrival.window_end()) == c.end);
    CHECK(Local(rpc::FromProto(arrival.deadline())) == Local(c.deadline));
    REQUIRE(o.transitions_size() == created.transitions_size() + 1);
    const auto& tr = o.transitions(o.transitions_size() - 1);
    CHECK(Name(tr.from_state()) == "CREATED");
    CHECK(Name(tr.to_state()) == "CREATED");
    CHECK(Name(tr.milestone()) == "RESCHEDULED");
    // Accepting a window is not a customer-caused wait: nothing pauses.
    CHECK_FALSE(ClockOf(o, v1::SLA_CLOCK_KIND_RESOLUTION).has_paused_since());
  }

  SECTION("a booked preferred window is judged from creation on") {
    v1::CreateOrderRequest request = testing::SampleOrderRequest("req-w", "SN-1");
    *request.mutable_preferred_window() = Window(Nov(23, 15, 0), Nov(23, 17, 0));
    v1::WorkOrder o = NewOrder(request, "WO1", "agent-1", Nov(23, 10, 0));
    REQUIRE(StartClocks(o, Policy(), Nov(23, 10, 0)).ok());
    CHECK(rpc::FromProto(o.appointment().end()) == Nov(23, 17, 0));
    CHECK(DeadlineOf(o, v1::SLA_CLOCK_KIND_ARRIVAL) == Nov(23, 17, 0));
  }

  SECTION("a stopped arrival clock is not moved by a new window") {
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder on_site = Run(created, kToOnSite, &t);
    const v1::SlaClock before = ClockOf(on_site, v1::SLA_CLOCK_KIND_ARRIVAL);
    auto change = Apply(on_site, Step::kRescheduled, t);
    REQUIRE(change.ok());
    CHECK(Name(change->order.state()) == "ON_SITE");
    CHECK(MessageDifferencer::Equals(ClockOf(change->order, v1::SLA_CLOCK_KIND_ARRIVAL),
                                     before));
  }
}

// ===========================================================================
// 2. Illegal transitions
// ===========================================================================

TEST_CASE("every illegal transition is FAILED_PRECONDITION naming the current state") {
  std::set<std::pair<OrderState, Step>> legal;
  for (const Legal& row : LegalTransitions()) legal.insert({row.from, Base(row.step)});

  int checked = 0;
  for (const Reachable& r : kReachable) {
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder order = Run(MakeOrder(Nov(23, 10, 0)), r.path, &t);
    REQUIRE(Name(order.state()) == Name(r.state));
    for (Step step : kAllMilestones) {
      if (legal.count({r.state, step})) continue;
      ++checked;
      INFO("state " << Name(r.state) << " + " << StepName(step));
      const v1::WorkOrder copy = order;
      auto change = Apply(order, step, t);
      CHECK(change.status().code() == absl::StatusCode::kFailedPrecondition);
      CHECK(std::string(change.status().message()) ==
            "order is " + Name(r.state) + ": cannot " + Name(MilestoneOf(step)));
      CHECK(MessageDifferencer::Equals(order, copy));
      CHECK(order.version() == copy.version());
    }
  }
  // 17 states x 21 milestones, minus the legal pairs.
  CHECK(checked == static_cast<int>(kReachable.size() * kAllMilestones.size() -
                                    legal.size()));
}

TEST_CASE("an order closes only after the customer confirmed the repair") {
  // SPEC 2.3: "An order closes only after customer confirmation"; the contract
  // (FollowedUpReport) is CONFIRMED -> FOLLOWED_UP.
  absl::Time t = Nov(23, 10, 1);
  const v1::WorkOrder repaired = Run(MakeOrder(Nov(23, 10, 0)), kToRepaired, &t);
  auto followed = Apply(repaired, Step::kFollowedUp, t);
  CHECK(followed.status().code() == absl::StatusCode::kFailedPrecondition);
  if (followed.ok()) {
    auto closed = Apply(followed->order, Step::kClose, t + absl::Minutes(1));
    INFO("REPAIRED -> FOLLOWED_UP -> " << (closed.ok() ? Name(closed->order.state())
                                                      : closed.status().ToString()));
    CHECK_FALSE(closed.ok());
  }
}

TEST_CASE("the fee gate: parts need a confirmed quote unless warranty pays") {
  struct Case {
    v1::WarrantyStatus warranty;
    bool open;
  };
  const std::vector<Case> cases = {
      {v1::WARRANTY_STATUS_OUT, false},
      {v1::WARRANTY_STATUS_UNSPECIFIED, false},
      {v1::WARRANTY_STATUS_IN, true},
      {v1::WARRANTY_STATUS_EXTENDED, true},
  };
  for (const Case& c : cases) {
    INFO("warranty " << v1::WarrantyStatus_Name(c.warranty));
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder diagnosed =
        Run(MakeOrder(Nov(23, 10, 0), {.warranty = c.warranty}),
            Path({kToOnSite, {Step::kDiagnosedNeedsParts}}), &t);
    REQUIRE(diagnosed.diagnosis().parts_needed());
    for (Step step : {Step::kRepairStarted, Step::kRepaired}) {
      INFO(StepName(step));
      const v1::WorkOrder copy = diagnosed;
      auto change = Apply(diagnosed, step, t);
      if (c.open) {
        CHECK(change.ok());
      } else {
        CHECK(change.status().code() == absl::StatusCode::kFailedPrecondition);
        CHECK(std::string(change.status().message()) ==
              "order is DIAGNOSED: parts need a quote the customer confirmed first");
        CHECK(MessageDifferencer::Equals(diagnosed, copy));
      }
    }
  }

  SECTION("a declined fee keeps the gate closed; a confirmed one opens it") {
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder quoted =
        Run(MakeOrder(Nov(23, 10, 0), {.warranty = v1::WARRANTY_STATUS_OUT}),
            Path({kToOnSite, {Step::kDiagnosedNeedsParts, Step::kQuoted}}), &t);
    auto declined = Apply(quoted, Step::kFeeDeclined, t);
    REQUIRE(declined.ok());
    CHECK(Name(declined->order.state()) == "QUOTED");
    auto start = Apply(declined->order, Step::kRepairStarted, t + absl::Minutes(1));
    CHECK(start.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(start.status().message()) == "order is QUOTED: cannot REPAIR_STARTED");
    auto accepted = Apply(quoted, Step::kFeeAccepted, t);
    REQUIRE(accepted.ok());
    CHECK(Name(accepted->order.state()) == "IN_REPAIR");
  }
}

TEST_CASE("the fee gate cannot be bypassed by waiting for parts") {
  // SPEC 2.3 fee gate: before replacing a part, work continues only after the
  // customer confirmed the price list. Without an accepted quote (warranty
  // OUT, parts needed) the order must never reach IN_REPAIR.
  absl::Time t = Nov(23, 10, 1);
  const v1::WorkOrder diagnosed =
      Run(MakeOrder(Nov(23, 10, 0), {.warranty = v1::WARRANTY_STATUS_OUT}),
          Path({kToOnSite, {Step::kDiagnosedNeedsParts}}), &t);
  REQUIRE(Name(diagnosed.state()) == "DIAGNOSED");
  REQUIRE(Apply(diagnosed, Step::kRepairStarted, t).status().code() ==
          absl::StatusCode::kFailedPrecondition);

  SECTION("WAITING_PARTS report, then REPAIR_STARTED") {
    auto waiting = Apply(diagnosed, Step::kWaitingParts, t);
    if (waiting.ok()) {
      auto start = Apply(waiting->order, Step::kRepairStarted, t + absl::Minutes(1));
      INFO("DIAGNOSED -> WAITING_PARTS -> "
           << (start.ok() ? Name(start->order.state()) : start.status().ToString()));
      CHECK(start.status().code() == absl::StatusCode::kFailedPrecondition);
    }
  }
  SECTION("parts backordered, then all available") {
    Change backordered = ApplyPartsBackordered(diagnosed, Ctx(t));
    v1::PartsAvailable available;
    available.set_order_id("WO1");
    available.set_all_available(true);
    Change after = ApplyPartsAvailable(backordered.order, available, Ctx(t + absl::Minutes(1)));
    INFO("DIAGNOSED -> " << Name(backordered.order.state()) << " -> "
                         << Name(after.order.state()));
    CHECK(Name(after.order.state()) != "IN_REPAIR");
  }
}

TEST_CASE("ChangePriority is refused on a terminal order") {
  for (const auto& path : {kToClosed, kToCancelled}) {
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder o = Run(MakeOrder(Nov(23, 10, 0)), path, &t);
    auto change = ChangePriority(o, v1::PRIORITY_EMERGENCY,
                                 v1::PRIORITY_REASON_MANUAL_CHANGE, Ctx(t));
    CHECK(change.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(change.status().message()) ==
          "order is " + Name(o.state()) + ": cannot change priority");
  }
}

TEST_CASE("IsOpen and IsTerminal") {
  for (int i = v1::OrderState_MIN; i <= v1::OrderState_MAX; ++i) {
    if (!v1::OrderState_IsValid(i) || i == v1::ORDER_STATE_UNSPECIFIED) continue;
    const auto s = static_cast<OrderState>(i);
    INFO(Name(s));
    CHECK(IsOpen(s) == (kOpenStates.count(s) == 1));
    CHECK(IsTerminal(s) ==
          (s == v1::ORDER_STATE_CLOSED || s == v1::ORDER_STATE_CANCELLED));
  }
}

// ===========================================================================
// 3. Deadlines
// ===========================================================================

TEST_CASE("arrival deadline per priority and city tier") {
  struct Case {
    v1::Priority priority;
    std::string region;
    int tier;
    absl::Time created;
    absl::Time deadline;
    v1::SlaCalendar calendar;
  };
  const auto wall = v1::SLA_CALENDAR_WALL_24X7;
  const auto hours = v1::SLA_CALENDAR_SERVICE_HOURS;
  const absl::Time mon17 = Nov(23, 17, 0);
  const std::vector<Case> cases = {
      // EMERGENCY: 30 min / 1 h / 2 h, 24x7.
      {v1::PRIORITY_EMERGENCY, "CN-310000", 1, mon17, Nov(23, 17, 30), wall},
      {v1::PRIORITY_EMERGENCY, "CN-320500", 2, mon17, Nov(23, 18, 0), wall},
      {v1::PRIORITY_EMERGENCY, "CN-330700", 3, mon17, Nov(23, 19, 0), wall},
      // URGENT and NORMAL: 2 h / 4 h / 8 h of service time (3 h left on Monday).
      {v1::PRIORITY_URGENT, "CN-310000", 1, mon17, Nov(23, 19, 0), hours},
      {v1::PRIORITY_URGENT, "CN-320500", 2, mon17, Nov(24, 9, 0), hours},
      {v1::PRIORITY_URGENT, "CN-330700", 3, mon17, Nov(24, 13, 0), hours},
      {v1::PRIORITY_NORMAL, "CN-310000", 1, mon17, Nov(23, 19, 0), hours},
      {v1::PRIORITY_NORMAL, "CN-320500", 2, mon17, Nov(24, 9, 0), hours},
      {v1::PRIORITY_NORMAL, "CN-330700", 3, mon17, Nov(24, 13, 0), hours},
      // Ten minutes before closing.
      {v1::PRIORITY_NORMAL, "CN-310000", 1, Nov(23, 19, 50), Nov(24, 9, 50), hours},
      {v1::PRIORITY_EMERGENCY, "CN-310000", 1, Nov(23, 19, 50), Nov(23, 20, 20), wall},
      {v1::PRIORITY_EMERGENCY, "CN-330700", 3, Nov(23, 19, 50), Nov(23, 21, 50), wall},
      // Created at night: service time starts at 08:00.
      {v1::PRIORITY_NORMAL, "CN-310000", 1, Nov(23, 22, 0), Nov(24, 10, 0), hours},
      {v1::PRIORITY_EMERGENCY, "CN-310000", 1, Nov(23, 22, 0), Nov(23, 22, 30), wall},
  };
  for (const Case& c : cases) {
    INFO(Name(c.priority) << " tier " << c.tier << " created " << Local(c.created));
    const v1::WorkOrder o = MakeOrder(
        c.created, {.priority = c.priority, .region = c.region, .tier = c.tier});
    const v1::SlaClock& arrival = ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL);
    CHECK(Local(rpc::FromProto(arrival.deadline())) == Local(c.deadline));
    CHECK(Name(arrival.calendar()) == Name(c.calendar));
    CHECK(rpc::FromProto(arrival.started_at()) == c.created);
    CHECK(Name(arrival.outcome()) == "RUNNING");
    CHECK(arrival.policy().version() == Policy().ref().version());
  }
}

TEST_CASE("first contact and dispatch deadlines around closing time") {
  struct Case {
    v1::Priority priority;
    absl::Time created;
    absl::Time deadline;
  };
  const std::vector<Case> cases = {
      // 19:50 + 15 min of service time: 10 min today, 5 min from 08:00.
      {v1::PRIORITY_NORMAL, Nov(23, 19, 50), Nov(24, 8, 5)},
      {v1::PRIORITY_URGENT, Nov(23, 19, 50), Nov(24, 8, 5)},
      // EMERGENCY: 5 min, 24x7.
      {v1::PRIORITY_EMERGENCY, Nov(23, 19, 50), Nov(23, 19, 55)},
      {v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(23, 10, 15)},
      {v1::PRIORITY_NORMAL, Nov(23, 19, 45), Nov(23, 20, 0)},  // ends at closing
      {v1::PRIORITY_EMERGENCY, Nov(23, 23, 58), Nov(24, 0, 3)},
  };
  for (const Case& c : cases) {
    INFO(Name(c.priority) << " created " << Local(c.created));
    const v1::WorkOrder o = MakeOrder(c.created, {.priority = c.priority});
    CHECK(Local(DeadlineOf(o, v1::SLA_CLOCK_KIND_FIRST_CONTACT)) == Local(c.deadline));
    CHECK(Local(DeadlineOf(o, v1::SLA_CLOCK_KIND_DISPATCH)) == Local(c.deadline));
  }
}

TEST_CASE("VIP express arrival is 1 h in tier-1 cities") {
  struct Case {
    v1::Priority priority;
    std::string region;
    int tier;
    absl::Time created;
    absl::Time deadline;
  };
  const std::vector<Case> cases = {
      {v1::PRIORITY_NORMAL, "CN-310000", 1, Nov(23, 10, 0), Nov(23, 11, 0)},
      {v1::PRIORITY_URGENT, "CN-310000", 1, Nov(23, 10, 0), Nov(23, 11, 0)},
      {v1::PRIORITY_URGENT, "CN-310000", 1, Nov(23, 19, 30), Nov(24, 8, 30)},
      {v1::PRIORITY_EMERGENCY, "CN-310000", 1, Nov(23, 10, 0), Nov(23, 10, 30)},  // stricter
      {v1::PRIORITY_NORMAL, "CN-320500", 2, Nov(23, 10, 0), Nov(23, 14, 0)},  // tier 2: 4 h
  };
  for (const Case& c : cases) {
    INFO("VIP " << Name(c.priority) << " tier " << c.tier << " " << Local(c.created));
    const v1::WorkOrder o =
        MakeOrder(c.created, {.priority = c.priority, .region = c.region, .tier = c.tier,
                              .customer_tier = v1::CUSTOMER_TIER_VIP});
    CHECK(Local(DeadlineOf(o, v1::SLA_CLOCK_KIND_ARRIVAL)) == Local(c.deadline));
  }
}

TEST_CASE("the clocks an order starts with") {
  struct Case {
    const char* name;
    OrderSetup setup;
    std::vector<std::pair<SlaClockKind, absl::Time>> deadlines;  // exactly these clocks
    v1::HandlingMode mode;
  };
  const std::vector<Case> cases = {
      {"NORMAL simple repair",
       {},
       {{v1::SLA_CLOCK_KIND_FIRST_CONTACT, Nov(23, 10, 15)},
        {v1::SLA_CLOCK_KIND_DISPATCH, Nov(23, 10, 15)},
        {v1::SLA_CLOCK_KIND_ARRIVAL, Nov(23, 12, 0)},
        {v1::SLA_CLOCK_KIND_RESOLUTION, Nov(25, 10, 0)}},  // 24 h of service time
       v1::HANDLING_MODE_ON_SITE},
      {"NORMAL complex repair",
       {.complexity = v1::FAULT_COMPLEXITY_COMPLEX},
       {{v1::SLA_CLOCK_KIND_FIRST_CONTACT, Nov(23, 10, 15)},
        {v1::SLA_CLOCK_KIND_DISPATCH, Nov(23, 10, 15)},
        {v1::SLA_CLOCK_KIND_ARRIVAL, Nov(23, 12, 0)},
        {v1::SLA_CLOCK_KIND_REPAIR_PLAN, Nov(25, 10, 0)},
        {v1::SLA_CLOCK_KIND_RESOLUTION, Nov(27, 10, 0)}},  // 48 h of service time
       v1::HANDLING_MODE_ON_SITE},
      {"EMERGENCY complex repair (resolution stays 24 h, 24x7)",
       {.priority = v1::PRIORITY_EMERGENCY, .complexity = v1::FAULT_COMPLEXITY_COMPLEX},
       {{v1::SLA_CLOCK_KIND_FIRST_CONTACT, Nov(23, 10, 5)},
        {v1::SLA_CLOCK_KIND_DISPATCH, Nov(23, 10, 5)},
        {v1::SLA_CLOCK_KIND_ARRIVAL, Nov(23, 10, 30)},
        {v1::SLA_CLOCK_KIND_REPAIR_PLAN, Nov(24, 10, 0)},
        {v1::SLA_CLOCK_KIND_RESOLUTION, Nov(24, 10, 0)}},
       v1::HANDLING_MODE_ON_SITE},
      {"CONSULTATION runs only first_contact and resolution",
       {.order_type = v1::ORDER_TYPE_CONSULTATION},
       {{v1::SLA_CLOCK_KIND_FIRST_CONTACT, Nov(23, 10, 15)},
        {v1::SLA_CLOCK_KIND_RESOLUTION, Nov(25, 10, 0)}},
       v1::HANDLING_MODE_NO_DISPATCH},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const v1::WorkOrder o = MakeOrder(Nov(23, 10, 0), c.setup);
    CHECK(o.handling_mode() == c.mode);
    CHECK(o.sla_clocks_size() == static_cast<int>(c.deadlines.size()));
    for (const auto& [kind, deadline] : c.deadlines) {
      INFO(Name(kind));
      REQUIRE(HasClock(o, kind));
      CHECK(Local(DeadlineOf(o, kind)) == Local(deadline));
    }
    CHECK_FALSE(HasClock(o, v1::SLA_CLOCK_KIND_FOLLOW_UP));
  }
}

TEST_CASE("a customer hold moves running deadlines by the paused time") {
  // Created Monday 10:00, contacted 10:02, on hold 10:05-10:35 (service hours).
  v1::WorkOrder o = MakeOrder(Nov(23, 10, 0));
  auto contacted = Apply(o, Step::kContacted, Nov(23, 10, 2));
  REQUIRE(contacted.ok());
  auto held = Apply(contacted->order, Step::kCustomerUnavailable, Nov(23, 10, 5));
  REQUIRE(held.ok());
  auto released = Apply(held->order, Step::kHoldReleased, Nov(23, 10, 35));
  REQUIRE(released.ok());
  const v1::WorkOrder& after = released->order;
  CHECK(Name(after.state()) == "CONTACTED");

  struct Expect {
    SlaClockKind kind;
    absl::Time deadline;
    absl::Duration paused;
  };
  const std::vector<Expect> expected = {
      {v1::SLA_CLOCK_KIND_FIRST_CONTACT, Nov(23, 10, 15), absl::ZeroDuration()},  // stopped
      {v1::SLA_CLOCK_KIND_DISPATCH, Nov(23, 10, 45), absl::Minutes(30)},
      {v1::SLA_CLOCK_KIND_ARRIVAL, Nov(23, 12, 30), absl::Minutes(30)},
      {v1::SLA_CLOCK_KIND_RESOLUTION, Nov(25, 10, 30), absl::Minutes(30)},
  };
  for (const Expect& e : expected) {
    INFO(Name(e.kind));
    const v1::SlaClock& c = ClockOf(after, e.kind);
    CHECK(Local(rpc::FromProto(c.deadline())) == Local(e.deadline));
    CHECK(rpc::FromProto(c.paused()) == e.paused);
    CHECK_FALSE(c.has_paused_since());
  }

  SECTION("a hold spent outside service hours adds nothing") {
    // Created 19:00, hold 19:30 -> released 20:30 (30 min inside service hours).
    const v1::WorkOrder evening = MakeOrder(Nov(23, 19, 0));
    REQUIRE(DeadlineOf(evening, v1::SLA_CLOCK_KIND_ARRIVAL) == Nov(24, 9, 0));
    auto h = Apply(evening, Step::kCustomerUnavailable, Nov(23, 19, 30));
    REQUIRE(h.ok());
    auto r = Apply(h->order, Step::kHoldReleased, Nov(23, 20, 30));
    REQUIRE(r.ok());
    CHECK(rpc::FromProto(ClockOf(r->order, v1::SLA_CLOCK_KIND_ARRIVAL).paused()) ==
          absl::Minutes(30));
    CHECK(Local(DeadlineOf(r->order, v1::SLA_CLOCK_KIND_ARRIVAL)) ==
          Local(Nov(24, 9, 30)));
  }
}

TEST_CASE("a priority change recomputes from creation, keeping pauses and stopped clocks") {
  // Created 10:00 NORMAL, contacted 10:02, hold 10:05-10:35, EMERGENCY at 10:40.
  v1::WorkOrder o = MakeOrder(Nov(23, 10, 0));
  auto contacted = Apply(o, Step::kContacted, Nov(23, 10, 2));
  REQUIRE(contacted.ok());
  auto held = Apply(contacted->order, Step::kCustomerUnavailable, Nov(23, 10, 5));
  REQUIRE(held.ok());
  auto released = Apply(held->order, Step::kHoldReleased, Nov(23, 10, 35));
  REQUIRE(released.ok());
  const v1::WorkOrder before = released->order;
  const v1::SlaClock first_contact_before =
      ClockOf(before, v1::SLA_CLOCK_KIND_FIRST_CONTACT);

  Context ctx = Ctx(Nov(23, 10, 40));
  ctx.actor.set_reason("customer reports a burning smell");
  auto changed =
      ChangePriority(before, v1::PRIORITY_EMERGENCY, v1::PRIORITY_REASON_MANUAL_CHANGE, ctx);
  REQUIRE(changed.ok());
  const v1::WorkOrder& after = changed->order;
  CHECK(after.priority() == v1::PRIORITY_EMERGENCY);
  CHECK(after.version() == before.version() + 1);

  struct Expect {
    SlaClockKind kind;
    absl::Time deadline;
    absl::Duration budget;
    v1::SlaCalendar calendar;
  };
  const std::vector<Expect> expected = {
      // Running: EMERGENCY budget, 24x7, plus the 30 min pause, from 10:00.
      {v1::SLA_CLOCK_KIND_DISPATCH, Nov(23, 10, 35), absl::Minutes(5),
       v1::SLA_CALENDAR_WALL_24X7},
      {v1::SLA_CLOCK_KIND_ARRIVAL, Nov(23, 11, 0), absl::Minutes(30),
       v1::SLA_CALENDAR_WALL_24X7},
      {v1::SLA_CLOCK_KIND_RESOLUTION, Nov(24, 10, 30), absl::Hours(24),
       v1::SLA_CALENDAR_WALL_24X7},
  };
  for (const Expect& e : expected) {
    INFO(Name(e.kind));
    const v1::SlaClock& c = ClockOf(after, e.kind);
    CHECK(Local(rpc::FromProto(c.deadline())) == Local(e.deadline));
    CHECK(rpc::FromProto(c.budget()) == e.budget);
    CHECK(Name(c.calendar()) == Name(e.calendar));
    CHECK(rpc::FromProto(c.paused()) == absl::Minutes(30));
    CHECK(Name(c.outcome()) == "RUNNING");
  }
  // Stopped at CONTACTED: outcome, stop time, budget and calendar are kept.
  const v1::SlaClock& fc = ClockOf(after, v1::SLA_CLOCK_KIND_FIRST_CONTACT);
  CHECK(MessageDifferencer::Equals(fc, first_contact_before));
  CHECK(Name(fc.outcome()) == "MET");
  CHECK(rpc::FromProto(fc.stopped_at()) == Nov(23, 10, 2));

  // Audit: decision, transition and event.
  REQUIRE(after.priority_changes_size() == 1);
  CHECK(after.priority_changes(0).previous() == v1::PRIORITY_NORMAL);
  CHECK(after.priority_changes(0).priority() == v1::PRIORITY_EMERGENCY);
  CHECK(after.priority_changes(0).decided_by().reason() == "customer reports a burning smell");
  const auto& tr = after.transitions(after.transitions_size() - 1);
  CHECK(Name(tr.milestone()) == "PRIORITY_CHANGED");
  CHECK(Name(tr.from_state()) == "CONTACTED");
  CHECK(Name(tr.to_state()) == "CONTACTED");
  const auto events = EventsOf(*changed, v1::Event::kOrderPriorityChanged);
  REQUIRE(events.size() == 1u);
  const auto& pc = events[0].order_priority_changed();
  CHECK(pc.from_priority() == v1::PRIORITY_NORMAL);
  CHECK(pc.to_priority() == v1::PRIORITY_EMERGENCY);
  CHECK(rpc::FromProto(pc.dispatch_deadline()) == Nov(23, 10, 35));
  CHECK(rpc::FromProto(pc.arrival_deadline()) == Nov(23, 11, 0));

  // The recomputed dispatch deadline already passed: the next sweep breaches it.
  Change swept = Sweep(after, Ctx(Nov(23, 10, 40)));
  const auto breached =
      ClockEvents(swept, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_DISPATCH);
  REQUIRE(breached.size() == 1u);
  CHECK(rpc::FromProto(breached[0].sla_breached().lateness()) == absl::Minutes(5));
  CHECK(Name(breached[0].sla_breached().cause()) == "DISPATCH");

  SECTION("a clock that stopped BREACHED stays breached") {
    auto late_contact = Apply(o, Step::kContacted, Nov(23, 10, 20));  // 5 min late
    REQUIRE(late_contact.ok());
    const v1::SlaClock fc_before =
        ClockOf(late_contact->order, v1::SLA_CLOCK_KIND_FIRST_CONTACT);
    REQUIRE(Name(fc_before.outcome()) == "BREACHED");
    auto c = ChangePriority(late_contact->order, v1::PRIORITY_EMERGENCY,
                            v1::PRIORITY_REASON_MANUAL_CHANGE, Ctx(Nov(23, 10, 25)));
    REQUIRE(c.ok());
    const v1::SlaClock& fc_after = ClockOf(c->order, v1::SLA_CLOCK_KIND_FIRST_CONTACT);
    CHECK(MessageDifferencer::Equals(fc_after, fc_before));
    CHECK(rpc::FromProto(fc_after.lateness()) == absl::Minutes(5));
  }
  SECTION("a priority change during a hold counts the whole pause on the new calendar") {
    auto h = Apply(o, Step::kCustomerUnavailable, Nov(23, 10, 5));
    REQUIRE(h.ok());
    auto c = ChangePriority(h->order, v1::PRIORITY_EMERGENCY,
                            v1::PRIORITY_REASON_MANUAL_CHANGE, Ctx(Nov(23, 10, 20)));
    REQUIRE(c.ok());
    CHECK(ClockOf(c->order, v1::SLA_CLOCK_KIND_ARRIVAL).has_paused_since());
    auto r = Apply(c->order, Step::kHoldReleased, Nov(23, 10, 35));
    REQUIRE(r.ok());
    const v1::SlaClock& arrival = ClockOf(r->order, v1::SLA_CLOCK_KIND_ARRIVAL);
    CHECK(rpc::FromProto(arrival.paused()) == absl::Minutes(30));
    CHECK(Local(rpc::FromProto(arrival.deadline())) == Local(Nov(23, 11, 0)));
    CHECK(Name(r->order.state()) == "CREATED");
  }
  SECTION("back to NORMAL counts service hours again") {
    const v1::WorkOrder emergency = MakeOrder(Nov(23, 19, 0), {.priority = v1::PRIORITY_EMERGENCY});
    REQUIRE(DeadlineOf(emergency, v1::SLA_CLOCK_KIND_ARRIVAL) == Nov(23, 19, 30));
    auto c = ChangePriority(emergency, v1::PRIORITY_NORMAL,
                            v1::PRIORITY_REASON_MANUAL_CHANGE, Ctx(Nov(23, 19, 10)));
    REQUIRE(c.ok());
    const v1::SlaClock& arrival = ClockOf(c->order, v1::SLA_CLOCK_KIND_ARRIVAL);
    CHECK(Name(arrival.calendar()) == "SERVICE_HOURS");
    CHECK(Local(rpc::FromProto(arrival.deadline())) == Local(Nov(24, 9, 0)));
  }
}

TEST_CASE("a priority change does not re-judge an arrival clock that already breached") {
  // NORMAL, created Monday 17:30: arrival due 19:30 (service hours). The sweep
  // at 19:40 breaches it; then the order is raised to EMERGENCY. The breached
  // clock keeps its budget and deadline (sla.h Rebudget), so its lateness must
  // keep counting on the calendar that set that deadline: arriving Tuesday
  // 08:14 is 30 + 14 = 44 min of service time late -> 20 points (SPEC 2.6),
  // not 12 h 44 min of wall time.
  absl::Time t = Nov(23, 17, 31);
  v1::WorkOrder o = Run(MakeOrder(Nov(23, 17, 30)), kToAssigned, &t);
  REQUIRE(DeadlineOf(o, v1::SLA_CLOCK_KIND_ARRIVAL) == Nov(23, 19, 30));
  o = Sweep(o, Ctx(Nov(23, 19, 40))).order;
  REQUIRE(Name(ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL).outcome()) == "BREACHED");

  auto raised = ChangePriority(o, v1::PRIORITY_EMERGENCY,
                               v1::PRIORITY_REASON_MANUAL_CHANGE, Ctx(Nov(23, 19, 45)));
  REQUIRE(raised.ok());
  const v1::SlaClock& arrival = ClockOf(raised->order, v1::SLA_CLOCK_KIND_ARRIVAL);
  CHECK(Name(arrival.outcome()) == "BREACHED");
  CHECK(rpc::FromProto(arrival.deadline()) == Nov(23, 19, 30));
  CHECK(rpc::FromProto(arrival.budget()) == absl::Hours(2));
  CHECK(Name(arrival.calendar()) == "SERVICE_HOURS");
  // The running resolution clock does move to EMERGENCY (24 h, 24x7).
  const v1::SlaClock& resolution = ClockOf(raised->order, v1::SLA_CLOCK_KIND_RESOLUTION);
  CHECK(Name(resolution.calendar()) == "WALL_24X7");
  CHECK(Local(rpc::FromProto(resolution.deadline())) == Local(Nov(24, 17, 30)));

  auto arrived = Apply(raised->order, Step::kArrived, Nov(24, 8, 14));
  REQUIRE(arrived.ok());
  const auto stopped =
      ClockEvents(*arrived, v1::Event::kSlaClockStopped, v1::SLA_CLOCK_KIND_ARRIVAL);
  REQUIRE(stopped.size() == 1u);
  CHECK(rpc::FromProto(stopped[0].sla_clock_stopped().lateness()) == absl::Minutes(44));
  REQUIRE(arrived->compensations.size() == 1u);
  CHECK(arrived->compensations[0].value().points() == 20);
}

// ===========================================================================
// 4. Sweeps, breach attribution, late arrival
// ===========================================================================

TEST_CASE("sweeps report at-risk and breach once each, and NextSweep follows them") {
  // Created Monday 10:00 NORMAL tier 1; contacted 10:01, assigned 10:05 (both met).
  v1::WorkOrder o = MakeOrder(Nov(23, 10, 0));
  o = Apply(o, Step::kContacted, Nov(23, 10, 1))->order;
  o = Apply(o, Step::kOfferAccepted, Nov(23, 10, 5))->order;
  REQUIRE(Name(o.state()) == "ASSIGNED");
  // Arrival 2 h: at risk at 75% = 11:30, due 12:00. Resolution at risk Tue 16:00.
  CHECK(Local(NextSweep(o, Policy())) == Local(Nov(23, 11, 30)));

  Change early = Sweep(o, Ctx(Nov(23, 11, 29)));
  CHECK(early.events.empty());

  Change at_risk = Sweep(o, Ctx(Nov(23, 11, 30)));
  REQUIRE(at_risk.events.size() == 1u);
  const auto risk = ClockEvents(at_risk, v1::Event::kSlaClockAtRisk, v1::SLA_CLOCK_KIND_ARRIVAL);
  REQUIRE(risk.size() == 1u);
  CHECK(rpc::FromProto(risk[0].sla_clock_at_risk().deadline()) == Nov(23, 12, 0));
  CHECK(risk[0].sla_clock_at_risk().used_fraction() == Approx(0.75));
  CHECK(risk[0].sla_clock_at_risk().engineer_id() == "E1");
  CHECK(risk[0].subject_id() == "WO1");
  o = at_risk.order;
  CHECK(ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL).at_risk());
  CHECK(rpc::FromProto(ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL).at_risk_at()) == Nov(23, 11, 30));

  Change again = Sweep(o, Ctx(Nov(23, 11, 30)));
  CHECK(again.events.empty());
  CHECK(Local(NextSweep(o, Policy())) == Local(Nov(23, 12, 0)));

  Change breach = Sweep(o, Ctx(Nov(23, 12, 10)));
  REQUIRE(breach.events.size() == 1u);
  const auto b = ClockEvents(breach, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_ARRIVAL);
  REQUIRE(b.size() == 1u);
  CHECK(Name(b[0].sla_breached().cause()) == "TRAVEL");
  CHECK(rpc::FromProto(b[0].sla_breached().deadline()) == Nov(23, 12, 0));
  CHECK(rpc::FromProto(b[0].sla_breached().lateness()) == absl::Minutes(10));
  CHECK_FALSE(b[0].sla_breached().on_site());
  CHECK(b[0].sla_breached().city_tier() == 1);
  CHECK(b[0].sla_breached().customer_id() == "C100");
  o = breach.order;
  CHECK(Name(ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL).outcome()) == "BREACHED");
  CHECK(rpc::FromProto(ClockOf(o, v1::SLA_CLOCK_KIND_ARRIVAL).breached_at()) == Nov(23, 12, 0));
  CHECK(Sweep(o, Ctx(Nov(23, 12, 30))).events.empty());
  // Only the resolution clock is left: at risk after 18 h of service time.
  CHECK(Local(NextSweep(o, Policy())) == Local(Nov(24, 16, 0)));

  // Arriving late after the breach: stopped BREACHED, no second SlaBreached.
  auto arrived = Apply(o, Step::kArrived, Nov(23, 12, 44));
  REQUIRE(arrived.ok());
  CHECK(EventsOf(*arrived, v1::Event::kSlaBreached).empty());
  const auto stopped =
      ClockEvents(*arrived, v1::Event::kSlaClockStopped, v1::SLA_CLOCK_KIND_ARRIVAL);
  REQUIRE(stopped.size() == 1u);
  CHECK(Name(stopped[0].sla_clock_stopped().outcome()) == "BREACHED");
  CHECK(rpc::FromProto(stopped[0].sla_clock_stopped().lateness()) == absl::Minutes(44));
  CHECK(rpc::FromProto(stopped[0].sla_clock_stopped().elapsed()) ==
        absl::Hours(2) + absl::Minutes(44));
  CHECK(Name(stopped[0].sla_clock_stopped().cause()) == "TRAVEL");
  REQUIRE(arrived->compensations.size() == 1u);
  const v1::CompensationEntry& entry = arrived->compensations[0];
  CHECK(entry.reason() == v1::COMPENSATION_REASON_LATE_ARRIVAL);
  CHECK(entry.value().points() == 20);
  CHECK(entry.idempotency_key() == "WO1/LATE_ARRIVAL");
  CHECK(entry.customer_id() == "C100");
  CHECK(EventsOf(*arrived, v1::Event::kCompensationGranted).size() == 1u);
  o = arrived->order;
  CHECK(o.compensations_size() == 1);
  CHECK(Local(NextSweep(o, Policy())) == Local(Nov(24, 16, 0)));

  // Repaired at 12:47: resolution met; follow-up (24 h of service time) starts,
  // at risk after 18 h: Monday 12:47-20:00 (7:13) + Tuesday 08:00-18:47.
  absl::Time t = Nov(23, 12, 45);
  o = Run(o, {Step::kDiagnosed, Step::kRepairStarted, Step::kRepaired}, &t);
  CHECK(Name(ClockOf(o, v1::SLA_CLOCK_KIND_RESOLUTION).outcome()) == "MET");
  CHECK(Local(DeadlineOf(o, v1::SLA_CLOCK_KIND_FOLLOW_UP)) == Local(Nov(25, 12, 47)));
  CHECK(Local(NextSweep(o, Policy())) == Local(Nov(24, 18, 47)));
  o = Run(o, {Step::kCustomerConfirmed, Step::kFollowedUp}, &t);
  CHECK(Name(ClockOf(o, v1::SLA_CLOCK_KIND_FOLLOW_UP).outcome()) == "MET");
  CHECK(NextSweep(o, Policy()) == absl::InfiniteFuture());
}

TEST_CASE("an arrival breach is attributed to what the order went through") {
  struct Case {
    const char* name;
    std::function<v1::WorkOrder(v1::WorkOrder)> history;
    std::string cause;
  };
  const std::vector<Case> cases = {
      {"never assigned",
       [](v1::WorkOrder o) { return Apply(o, Step::kContacted, Nov(23, 10, 1))->order; },
       "DISPATCH"},
      {"offers declined",
       [](v1::WorkOrder o) {
         o = Apply(o, Step::kContacted, Nov(23, 10, 1))->order;
         return ApplyOfferDeclined(o, Ctx(Nov(23, 10, 10))).order;
       },
       "DISPATCH"},
      {"no eligible engineer",
       [](v1::WorkOrder o) {
         o = Apply(o, Step::kContacted, Nov(23, 10, 1))->order;
         return ApplyUnassignable(o, Ctx(Nov(23, 10, 10))).order;
       },
       "CAPACITY"},
      {"assigned in time, arrived late",
       [](v1::WorkOrder o) {
         o = Apply(o, Step::kContacted, Nov(23, 10, 1))->order;
         return Apply(o, Step::kOfferAccepted, Nov(23, 10, 5))->order;
       },
       "TRAVEL"},
      {"assigned after the dispatch deadline",
       [](v1::WorkOrder o) {
         o = Apply(o, Step::kContacted, Nov(23, 10, 1))->order;
         return Apply(o, Step::kOfferAccepted, Nov(23, 10, 30))->order;
       },
       "DISPATCH"},
      {"assigned late after nobody could take it",
       [](v1::WorkOrder o) {
         o = Apply(o, Step::kContacted, Nov(23, 10, 1))->order;
         o = ApplyUnassignable(o, Ctx(Nov(23, 10, 10))).order;
         o = Sweep(o, Ctx(Nov(23, 10, 20))).order;  // dispatch breached: CAPACITY
         return Apply(o, Step::kOfferAccepted, Nov(23, 10, 40))->order;
       },
       "CAPACITY"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const v1::WorkOrder o = c.history(MakeOrder(Nov(23, 10, 0)));
    Change swept = Sweep(o, Ctx(Nov(23, 12, 10)));
    const auto b = ClockEvents(swept, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_ARRIVAL);
    REQUIRE(b.size() == 1u);
    CHECK(Name(b[0].sla_breached().cause()) == c.cause);
    CHECK(Name(ClockOf(swept.order, v1::SLA_CLOCK_KIND_ARRIVAL).breach_cause()) == c.cause);
    CHECK(Name(AttributeBreach(o, v1::SLA_CLOCK_KIND_ARRIVAL)) == c.cause);
    CHECK(ClockEvents(swept, v1::Event::kSlaClockAtRisk, v1::SLA_CLOCK_KIND_ARRIVAL).empty());
  }
}

TEST_CASE("late arrival: lateness on the clock's calendar and compensation points") {
  struct Case {
    const char* name;
    v1::Priority priority;
    absl::Time created;
    absl::Time arrived;
    absl::Duration lateness;
    int64_t points;  // 0: no ledger entry
  };
  const std::vector<Case> cases = {
      {"a minute early", v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(23, 11, 59),
       absl::ZeroDuration(), 0},
      {"14 min late", v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(23, 12, 14), absl::Minutes(14), 0},
      {"15 min late", v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(23, 12, 15), absl::Minutes(15), 10},
      {"44 min late", v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(23, 12, 44), absl::Minutes(44), 20},
      {"44 min of service time across the night", v1::PRIORITY_NORMAL, Nov(23, 17, 30),
       Nov(24, 8, 14), absl::Minutes(44), 20},
      {"EMERGENCY counts wall time", v1::PRIORITY_EMERGENCY, Nov(23, 19, 50),
       Nov(23, 21, 5), absl::Minutes(45), 30},
      {"2 h 30 min late: capped", v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(23, 14, 30),
       absl::Minutes(150), 100},
      {"a day late: capped", v1::PRIORITY_NORMAL, Nov(23, 10, 0), Nov(24, 10, 0),
       absl::Hours(10), 100},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    absl::Time t = c.created + absl::Minutes(1);
    const v1::WorkOrder o =
        Run(MakeOrder(c.created, {.priority = c.priority}), kToAssigned, &t);
    auto arrived = Apply(o, Step::kArrived, c.arrived);  // never swept before
    REQUIRE(arrived.ok());
    const bool late = c.lateness > absl::ZeroDuration();
    const auto breached =
        ClockEvents(*arrived, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_ARRIVAL);
    CHECK(breached.size() == (late ? 1u : 0u));
    if (late && !breached.empty()) {
      CHECK(rpc::FromProto(breached[0].sla_breached().lateness()) == c.lateness);
      CHECK(breached[0].sla_breached().on_site());
    }
    if (late) {  // the breach supersedes the at-risk announcement
      CHECK(ClockEvents(*arrived, v1::Event::kSlaClockAtRisk, v1::SLA_CLOCK_KIND_ARRIVAL)
                .empty());
    }
    const auto stopped =
        ClockEvents(*arrived, v1::Event::kSlaClockStopped, v1::SLA_CLOCK_KIND_ARRIVAL);
    REQUIRE(stopped.size() == 1u);
    CHECK(Name(stopped[0].sla_clock_stopped().outcome()) == (late ? "BREACHED" : "MET"));
    CHECK(rpc::FromProto(stopped[0].sla_clock_stopped().lateness()) == c.lateness);
    const v1::SlaClock& arrival = ClockOf(arrived->order, v1::SLA_CLOCK_KIND_ARRIVAL);
    CHECK(rpc::FromProto(arrival.lateness()) == c.lateness);
    CHECK(rpc::FromProto(arrival.stopped_at()) == c.arrived);
    if (c.points == 0) {
      CHECK(arrived->compensations.empty());
      CHECK(arrived->order.compensations_size() == 0);
      CHECK(EventsOf(*arrived, v1::Event::kCompensationGranted).empty());
    } else {
      REQUIRE(arrived->compensations.size() == 1u);
      CHECK(arrived->compensations[0].reason() == v1::COMPENSATION_REASON_LATE_ARRIVAL);
      CHECK(arrived->compensations[0].value().points() == c.points);
      CHECK(arrived->order.compensations_size() == 1);
      CHECK(EventsOf(*arrived, v1::Event::kCompensationGranted).size() == 1u);
    }
  }
}

TEST_CASE("a clock stopped exactly at its deadline is met and announces no breach") {
  // sla.h Stop: MET when the stop is at or before the deadline. The stop
  // event must agree: no SlaBreached, no breach cause, no compensation.
  struct Case {
    const char* name;
    SlaClockKind clock;
    std::vector<Step> before;  // from creation at 10:00, one minute apart
    Step stop;
    absl::Time at;
  };
  const std::vector<Case> cases = {
      {"first contact at 10:15", v1::SLA_CLOCK_KIND_FIRST_CONTACT, {}, Step::kContacted,
       Nov(23, 10, 15)},
      {"offer accepted at 10:15", v1::SLA_CLOCK_KIND_DISPATCH, {Step::kContacted},
       Step::kOfferAccepted, Nov(23, 10, 15)},
      {"arrived at 12:00", v1::SLA_CLOCK_KIND_ARRIVAL, kToAssigned, Step::kArrived,
       Nov(23, 12, 0)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    absl::Time t = Nov(23, 10, 1);
    const v1::WorkOrder o = Run(MakeOrder(Nov(23, 10, 0)), c.before, &t);
    REQUIRE(DeadlineOf(o, c.clock) == c.at);
    auto change = Apply(o, c.stop, c.at);
    REQUIRE(change.ok());
    const v1::SlaClock& clock = ClockOf(change->order, c.clock);
    CHECK(Name(clock.outcome()) == "MET");
    CHECK(Name(clock.breach_cause()) == "UNSPECIFIED");
    CHECK(ClockEvents(*change, v1::Event::kSlaBreached, c.clock).empty());
    const auto stopped = ClockEvents(*change, v1::Event::kSlaClockStopped, c.clock);
    REQUIRE(stopped.size() == 1u);
    CHECK(Name(stopped[0].sla_clock_stopped().outcome()) == "MET");
    CHECK(Name(stopped[0].sla_clock_stopped().cause()) == "UNSPECIFIED");
    CHECK(change->compensations.empty());
  }
}

// ===========================================================================
// 5. Events, versions, audit
// ===========================================================================

TEST_CASE("CUSTOMER_CONFIRMED announces the repair with the follow-up deadline") {
  // Repaired Monday 14:00, confirmed 14:10.
  struct Case {
    const char* name;
    OrderSetup setup;
    bool parts;
    bool complaint;
    absl::Time follow_up_deadline;
    bool warranty_flag;
  };
  const std::vector<Case> cases = {
      {"nothing special: 24 h of service time", {}, false, false, Nov(25, 14, 0), false},
      {"parts replaced: 72 h", {.warranty = v1::WARRANTY_STATUS_OUT}, true, false,
       Nov(29, 14, 0), false},
      {"in warranty: 72 h", {.warranty = v1::WARRANTY_STATUS_IN}, false, false,
       Nov(29, 14, 0), true},
      {"extended warranty: 72 h", {.warranty = v1::WARRANTY_STATUS_EXTENDED}, false, false,
       Nov(29, 14, 0), true},
      {"complaint linked: 48 h", {.warranty = v1::WARRANTY_STATUS_OUT}, false, true,
       Nov(27, 14, 0), false},
      {"EMERGENCY: 24 h, 24x7", {.priority = v1::PRIORITY_EMERGENCY}, false, false,
       Nov(24, 14, 0), false},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    absl::Time t = Nov(23, 10, 1);
    v1::WorkOrder o = Run(MakeOrder(Nov(23, 10, 0), c.setup), kToInRepair, &t);
    if (c.complaint) o = ApplyComplaintFiled(o, "CP1", Ctx(t)).order;
    v1::ProgressReport repaired = ReportFor(Step::kRepaired, o);
    if (c.parts) {
      auto* p = repaired.mutable_repaired()->mutable_result()->add_parts_used();
      p->set_sku("SKU-1");
      p->set_quantity(1);
      p->set_lot_number("LOT-7");
      p->set_warranty_days(180);
    }
    auto r = ApplyReport(o, repaired, Nov(23, 14, 0));
    REQUIRE(r.ok());
    CHECK(Local(DeadlineOf(r->order, v1::SLA_CLOCK_KIND_FOLLOW_UP)) ==
          Local(c.follow_up_deadline));
    auto confirmed = Apply(r->order, Step::kCustomerConfirmed, Nov(23, 14, 10));
    REQUIRE(confirmed.ok());
    CHECK(Name(confirmed->order.state()) == "CONFIRMED");
    const auto events = EventsOf(*confirmed, v1::Event::kOrderConfirmedRepaired);
    REQUIRE(events.size() == 1u);
    const auto& e = events[0].order_confirmed_repaired();
    CHECK(Local(rpc::FromProto(e.follow_up_deadline())) == Local(c.follow_up_deadline));
    CHECK(e.parts_replaced() == c.parts);
    CHECK(e.warranty() == c.warranty_flag);
    CHECK(e.complaint_linked() == c.complaint);
    CHECK(e.order_id() == "WO1");
    CHECK(e.customer_id() == "C100");
    CHECK(e.engineer_id() == "E1");
    CHECK(e.partner_id() == "P1");
    CHECK(e.region_code() == "CN-310000");
    CHECK(e.city_tier() == 1);
    CHECK(e.appliance_category() == "FRIDGE");
    CHECK(e.diagnosis_matched());
    CHECK(e.first_visit_fix());
    CHECK_FALSE(e.remote_resolved());
    CHECK_FALSE(e.is_rework());
    CHECK(e.priority() == c.setup.priority);
    CHECK(rpc::FromProto(e.repaired_at()) == Nov(23, 14, 0));
    CHECK(rpc::FromProto(e.confirmed_at()) == Nov(23, 14, 10));
  }
}

TEST_CASE("CANCELLED announces the cancel and cancels running clocks, keeping breaches") {
  v1::WorkOrder o = MakeOrder(Nov(23, 10, 0));
  Change swept = Sweep(o, Ctx(Nov(23, 10, 20)));  // first contact and dispatch breached
  CHECK(ClockEvents(swept, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_FIRST_CONTACT).size() == 1u);
  CHECK(ClockEvents(swept, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_DISPATCH).size() == 1u);
  o = swept.order;

  auto cancelled = Apply(o, Step::kCancel, Nov(23, 10, 30));
  REQUIRE(cancelled.ok());
  const v1::WorkOrder& after = cancelled->order;
  CHECK(Name(after.state()) == "CANCELLED");
  CHECK(after.cancel_reason() == v1::CANCEL_REASON_CUSTOMER_REQUEST);
  CHECK(rpc::FromProto(after.closed_at()) == Nov(23, 10, 30));
  REQUIRE(cancelled->events.size() == 2u);
  CHECK(cancelled->events[0].has_order_state_changed());
  REQUIRE(cancelled->events[1].has_order_cancelled());
  const auto& oc = cancelled->events[1].order_cancelled();
  CHECK(oc.order_id() == "WO1");
  CHECK(Name(oc.from_state()) == "CREATED");
  CHECK(oc.reason() == v1::CANCEL_REASON_CUSTOMER_REQUEST);
  CHECK(rpc::FromProto(oc.actor().server_time()) == Nov(23, 10, 30));

  struct Expect {
    SlaClockKind kind;
    std::string outcome;
  };
  for (const Expect& e : std::vector<Expect>{{v1::SLA_CLOCK_KIND_FIRST_CONTACT, "BREACHED"},
                                             {v1::SLA_CLOCK_KIND_DISPATCH, "BREACHED"},
                                             {v1::SLA_CLOCK_KIND_ARRIVAL, "CANCELLED"},
                                             {v1::SLA_CLOCK_KIND_RESOLUTION, "CANCELLED"}}) {
    INFO(Name(e.kind));
    const v1::SlaClock& c = ClockOf(after, e.kind);
    CHECK(Name(c.outcome()) == e.outcome);
    CHECK(rpc::FromProto(c.stopped_at()) == Nov(23, 10, 30));
  }
  CHECK(NextSweep(after, Policy()) == absl::InfiniteFuture());

  SECTION("cancelling an order on hold closes the pause") {
    auto held = Apply(MakeOrder(Nov(23, 10, 0)), Step::kCustomerUnavailable, Nov(23, 10, 5));
    REQUIRE(held.ok());
    auto c = Apply(held->order, Step::kCancel, Nov(23, 10, 30));
    REQUIRE(c.ok());
    CHECK_FALSE(c->order.has_hold());
    const auto oc_events = EventsOf(*c, v1::Event::kOrderCancelled);
    REQUIRE(oc_events.size() == 1u);
    CHECK(Name(oc_events[0].order_cancelled().from_state()) == "ON_HOLD_CUSTOMER");
    for (const auto& clock : c->order.sla_clocks()) {
      INFO(Name(clock.kind()));
      CHECK(Name(clock.outcome()) == "CANCELLED");
      CHECK_FALSE(clock.has_paused_since());
    }
  }
}

TEST_CASE("each change bumps the version once and records who and when") {
  absl::Time t = Nov(23, 10, 1);
  const v1::WorkOrder assigned = Run(MakeOrder(Nov(23, 10, 0)), kToAssigned, &t);
  const v1::WorkOrder in_repair =
      Run(assigned, {Step::kArrived, Step::kDiagnosed, Step::kRepairStarted}, &t);
  const absl::Time now = Nov(23, 11, 0);

  struct Case {
    const char* name;
    const v1::WorkOrder* order;
    std::function<absl::StatusOr<Change>(const v1::WorkOrder&, const Context&)> change;
    int transitions;
  };
  const std::vector<Case> cases = {
      {"progress report", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) {
         return ApplyProgress(o, ReportFor(Step::kDeparted, o), ctx);
       },
       1},
      {"offer accepted", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) {
         return ApplyOfferAccepted(o, Offer(ctx.now, "E2"), ctx);
       },
       1},
      {"priority change", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) {
         return ChangePriority(o, v1::PRIORITY_URGENT, v1::PRIORITY_REASON_MANUAL_CHANGE, ctx);
       },
       1},
      {"parts backordered", &in_repair,
       [](const v1::WorkOrder& o, const Context& ctx) -> absl::StatusOr<Change> {
         return ApplyPartsBackordered(o, ctx);
       },
       1},
      {"offer declined", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) -> absl::StatusOr<Change> {
         return ApplyOfferDeclined(o, ctx);
       },
       0},
      {"unassignable", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) -> absl::StatusOr<Change> {
         return ApplyUnassignable(o, ctx);
       },
       0},
      {"complaint filed", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) -> absl::StatusOr<Change> {
         return ApplyComplaintFiled(o, "CP1", ctx);
       },
       0},
      {"sweep", &assigned,
       [](const v1::WorkOrder& o, const Context& ctx) -> absl::StatusOr<Change> {
         return Sweep(o, ctx);
       },
       0},
  };
  for (const Case& c : cases) {
    for (bool offline : {false, true}) {
      INFO(c.name << (offline ? " (offline report)" : ""));
      Context ctx = Ctx(now);
      ctx.actor.set_principal_id("engineer-7");
      ctx.actor.set_role(v1::ROLE_ENGINEER);
      if (offline) *ctx.actor.mutable_device_time() = rpc::ToProto(Nov(23, 10, 55));
      auto change = c.change(*c.order, ctx);
      REQUIRE(change.ok());
      const v1::WorkOrder& after = change->order;
      CHECK(after.version() == c.order->version() + 1);
      CHECK(rpc::FromProto(after.updated_at()) == now);
      REQUIRE(after.transitions_size() == c.order->transitions_size() + c.transitions);
      for (int i = 0; i < after.transitions_size(); ++i) {
        CHECK(after.transitions(i).index() == static_cast<uint32_t>(i));
      }
      for (int i = c.order->transitions_size(); i < after.transitions_size(); ++i) {
        const v1::Actor& a = after.transitions(i).actor();
        CHECK(a.principal_id() == "engineer-7");
        CHECK(a.role() == v1::ROLE_ENGINEER);
        CHECK(rpc::FromProto(a.server_time()) == now);
        CHECK(a.has_device_time() == offline);
        if (offline) CHECK(rpc::FromProto(a.device_time()) == Nov(23, 10, 55));
      }
      for (const auto& e : EventsOf(*change, v1::Event::kOrderStateChanged)) {
        CHECK(e.order_state_changed().order_version() == after.version());
        CHECK(rpc::FromProto(e.order_state_changed().actor().server_time()) == now);
        CHECK(e.order_state_changed().actor().has_device_time() == offline);
        CHECK(rpc::FromProto(e.occurred_at()) == now);
        CHECK(e.producer() == "intake");
      }
    }
  }

  SECTION("a progress report's client event id is kept on the transition") {
    v1::ProgressReport r = ReportFor(Step::kDeparted, assigned);
    r.set_client_event_id("terminal-42/7");
    auto change = ApplyReport(assigned, r, now);
    REQUIRE(change.ok());
    CHECK(change->order.transitions(change->order.transitions_size() - 1).client_event_id() ==
          "terminal-42/7");
    const auto changed = EventsOf(*change, v1::Event::kOrderStateChanged);
    REQUIRE(changed.size() == 1u);
    CHECK(changed[0].order_state_changed().client_event_id() == "terminal-42/7");
  }
}

// ===========================================================================
// 6. Parts events
// ===========================================================================

TEST_CASE("parts backordered and available move the order in and out of WAITING_PARTS") {
  absl::Time t = Nov(23, 10, 1);
  const v1::WorkOrder in_repair = Run(MakeOrder(Nov(23, 10, 0)), kToInRepair, &t);
  REQUIRE(Name(in_repair.state()) == "IN_REPAIR");
  CHECK_FALSE(in_repair.waited_for_parts());

  Change backordered = ApplyPartsBackordered(in_repair, Ctx(Nov(23, 10, 10)));
  CHECK(Name(backordered.order.state()) == "WAITING_PARTS");
  CHECK(backordered.order.waited_for_parts());
  const auto& tr = backordered.order.transitions(backordered.order.transitions_size() - 1);
  CHECK(Name(tr.milestone()) == "WAITING_PARTS");
  CHECK(Name(tr.from_state()) == "IN_REPAIR");
  // Waiting for parts does not pause the customer-facing clocks.
  for (const auto& c : backordered.order.sla_clocks()) CHECK_FALSE(c.has_paused_since());

  struct Case {
    bool all_available;
    std::string state;
  };
  for (const Case& c : std::vector<Case>{{false, "WAITING_PARTS"}, {true, "IN_REPAIR"}}) {
    INFO("all_available " << c.all_available);
    v1::PartsAvailable available;
    available.set_order_id("WO1");
    available.set_sku("SKU-1");
    available.set_all_available(c.all_available);
    Change after = ApplyPartsAvailable(backordered.order, available, Ctx(Nov(23, 10, 30)));
    CHECK(Name(after.order.state()) == c.state);
    CHECK(after.order.waited_for_parts());
    const int added = after.order.transitions_size() - backordered.order.transitions_size();
    CHECK(added == (c.all_available ? 1 : 0));
    if (c.all_available) {
      CHECK(Name(after.order.transitions(after.order.transitions_size() - 1).milestone()) ==
            "PARTS_AVAILABLE");
    }
  }

  SECTION("a resolution breach after waiting for parts is attributed to PARTS") {
    v1::PartsAvailable available;
    available.set_all_available(true);
    const v1::WorkOrder resumed =
        ApplyPartsAvailable(backordered.order, available, Ctx(Nov(23, 10, 30))).order;
    REQUIRE(DeadlineOf(resumed, v1::SLA_CLOCK_KIND_RESOLUTION) == Nov(25, 10, 0));
    Change swept = Sweep(resumed, Ctx(Nov(25, 10, 30)));
    const auto b = ClockEvents(swept, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_RESOLUTION);
    REQUIRE(b.size() == 1u);
    CHECK(Name(b[0].sla_breached().cause()) == "PARTS");
    CHECK(rpc::FromProto(b[0].sla_breached().lateness()) == absl::Minutes(30));
    CHECK(b[0].sla_breached().on_site());
  }
  SECTION("without waiting for parts the same breach is attributed to SKILL") {
    Change swept = Sweep(in_repair, Ctx(Nov(25, 10, 30)));
    const auto b = ClockEvents(swept, v1::Event::kSlaBreached, v1::SLA_CLOCK_KIND_RESOLUTION);
    REQUIRE(b.size() == 1u);
    CHECK(Name(b[0].sla_breached().cause()) == "SKILL");
  }
  SECTION("backordered at diagnosis also waits") {
    absl::Time t2 = Nov(23, 10, 1);
    const v1::WorkOrder diagnosed = Run(MakeOrder(Nov(23, 10, 0)), kToDiagnosed, &t2);
    Change c = ApplyPartsBackordered(diagnosed, Ctx(t2));
    CHECK(Name(c.order.state()) == "WAITING_PARTS");
    CHECK(c.order.waited_for_parts());
  }
}

// ===========================================================================
// 7. order.h helpers
// ===========================================================================

TEST_CASE("phone and name masking") {
  struct Phone {
    std::string in, out;
  };
  for (const Phone& p : std::vector<Phone>{{"13812345678", "138****5678"},
                                           {"12345", "***45"}}) {
    INFO(p.in);
    CHECK(MaskPhone(p.in) == p.out);
  }
  struct NameCase {
    std::string in, out;
  };
  for (const NameCase& n : std::vector<NameCase>{{"Zhang San", "Z********"},
                                                 {"张三", "张*"},
                                                 {"欧阳娜娜", "欧***"},
                                                 {"Li", "L*"},
                                                 {"", ""}}) {
    INFO(n.in);
    CHECK(MaskName(n.in) == n.out);
  }
  // NewOrder keeps only the masked forms on the customer view.
  const v1::WorkOrder o = MakeOrder(Nov(23, 10, 0));
  CHECK(o.customer().masked_phone() == "138****5678");
  CHECK(o.customer().display_name() == "张*");
}

v1::WorkOrder Repaired(const std::string& id, OrderState state,
                       std::optional<absl::Time> repaired_at) {
  v1::WorkOrder o;
  o.set_order_id(id);
  o.set_state(state);
  if (repaired_at) *o.mutable_repair()->mutable_repaired_at() = rpc::ToProto(*repaired_at);
  return o;
}

TEST_CASE("ReworkOf picks the latest repair within the rework window") {
  const absl::Time now = Nov(23, 10, 0);
  const absl::Duration window = rpc::FromProto(Policy().rework_window());
  REQUIRE(window == absl::Hours(24 * 30));
  struct Case {
    const char* name;
    std::vector<v1::WorkOrder> same_serial;
    std::string expected;  // "" = none
  };
  const std::vector<Case> cases = {
      {"latest of several",
       {Repaired("A", v1::ORDER_STATE_CLOSED, now - absl::Hours(24 * 20)),
        Repaired("B", v1::ORDER_STATE_CLOSED, now - absl::Hours(24 * 3)),
        Repaired("C", v1::ORDER_STATE_CONFIRMED, now - absl::Hours(24 * 10))},
       "B"},
      {"older than 30 days",
       {Repaired("A", v1::ORDER_STATE_CLOSED, now - absl::Hours(24 * 31))}, ""},
      {"exactly 30 days", {Repaired("A", v1::ORDER_STATE_CLOSED, now - window)}, "A"},
      {"30 days and a second", {Repaired("A", v1::ORDER_STATE_CLOSED, now - window - absl::Seconds(1))}, ""},
      {"cancelled repairs do not count",
       {Repaired("A", v1::ORDER_STATE_CLOSED, now - absl::Hours(24 * 12)),
        Repaired("B", v1::ORDER_STATE_CANCELLED, now - absl::Hours(24 * 2))},
       "A"},
      {"never repaired", {Repaired("A", v1::ORDER_STATE_CANCELLED, std::nullopt),
                          Repaired("B", v1::ORDER_STATE_IN_REPAIR, std::nullopt)}, ""},
      {"repaired in the future (clock skew)",
       {Repaired("A", v1::ORDER_STATE_REPAIRED, now + absl::Hours(1))}, ""},
      {"no earlier orders", {}, ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto found = ReworkOf(c.same_serial, now, window);
    CHECK((found ? found->order_id() : std::string()) == c.expected);
  }
}

TEST_CASE("OpenOrderOf finds an open order on the same serial") {
  struct Case {
    const char* name;
    std::vector<v1::WorkOrder> same_serial;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"first open one",
       {Repaired("A", v1::ORDER_STATE_CLOSED, std::nullopt),
        Repaired("B", v1::ORDER_STATE_CANCELLED, std::nullopt),
        Repaired("C", v1::ORDER_STATE_IN_REPAIR, std::nullopt),
        Repaired("D", v1::ORDER_STATE_CREATED, std::nullopt)},
       "C"},
      {"on hold is open", {Repaired("A", v1::ORDER_STATE_ON_HOLD_CUSTOMER, std::nullopt)}, "A"},
      {"reopened is open", {Repaired("A", v1::ORDER_STATE_REOPENED, std::nullopt)}, "A"},
      {"only closed and cancelled",
       {Repaired("A", v1::ORDER_STATE_CLOSED, std::nullopt),
        Repaired("B", v1::ORDER_STATE_CANCELLED, std::nullopt)},
       ""},
      {"none", {}, ""},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto found = OpenOrderOf(c.same_serial);
    CHECK((found ? found->order_id() : std::string()) == c.expected);
  }
}

// ===========================================================================
// Contract: RescheduledReport.customer_initiated
// ===========================================================================

TEST_CASE("a customer-initiated reschedule is a customer-caused wait") {
  // intake.proto RescheduledReport.customer_initiated: "true: customer-caused
  // (pauses)"; ProgressReport: "customer-initiated also holds". SPEC 2.4: only
  // customer-caused waits pause a clock. The resolution clock must not count
  // while the customer postponed the visit.
  absl::Time t = Nov(23, 10, 1);
  const v1::WorkOrder assigned = Run(MakeOrder(Nov(23, 10, 0)), kToAssigned, &t);
  v1::ProgressReport r = ReportFor(Step::kRescheduled, assigned);
  r.mutable_rescheduled()->set_customer_initiated(true);
  auto change = ApplyReport(assigned, r, Nov(23, 10, 10));
  REQUIRE(change.ok());
  CHECK(Local(DeadlineOf(change->order, v1::SLA_CLOCK_KIND_ARRIVAL)) ==
        Local(Nov(24, 16, 0)));
  INFO("state after: " << Name(change->order.state()));
  CHECK(ClockOf(change->order, v1::SLA_CLOCK_KIND_RESOLUTION).has_paused_since());
}

}  // namespace
}  // namespace aftersales::intake::domain
