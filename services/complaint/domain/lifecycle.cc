#include "complaint/domain/lifecycle.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "complaint/domain/policy.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"
#include "sla/sla.h"

namespace aftersales::complaint::domain {
namespace {

constexpr char kProducer[] = "complaint";

std::string StateName(v1::ComplaintState s) {
  return std::string(absl::StripPrefix(v1::ComplaintState_Name(s), "COMPLAINT_STATE_"));
}

absl::Status NotIn(const v1::Complaint& c, absl::string_view wanted) {
  return absl::FailedPreconditionError(absl::StrCat(
      "complaint is ", StateName(c.state()), "; this step needs ", wanted));
}

v1::Event NewEvent(const v1::Complaint& c, absl::Time now) {
  v1::Event e;
  e.set_producer(kProducer);
  *e.mutable_occurred_at() = rpc::ToProto(now);
  e.set_subject_id(c.complaint_id());
  return e;
}

v1::Actor ActorAt(const Context& ctx) {
  v1::Actor a = ctx.actor;
  *a.mutable_server_time() = rpc::ToProto(ctx.now);
  return a;
}

// The change's record: one more version, touched now.
Change Begin(const v1::Complaint& c, const Context& ctx) {
  Change change;
  change.complaint = c;
  change.complaint.set_version(c.version() + 1);
  *change.complaint.mutable_updated_at() = rpc::ToProto(ctx.now);
  change.changed = true;
  return change;
}

void Transition(Change& change, v1::ComplaintState to, const Context& ctx,
                const std::string& note) {
  v1::ComplaintTransition* t = change.complaint.add_transitions();
  t->set_from_state(change.complaint.state());
  t->set_to_state(to);
  *t->mutable_actor() = ActorAt(ctx);
  if (!note.empty()) t->mutable_actor()->set_reason(note);
  change.complaint.set_state(to);
}

v1::SlaClock* MutableLatestClock(v1::Complaint& c, v1::SlaClockKind kind) {
  for (int i = c.clocks_size() - 1; i >= 0; --i) {
    if (c.clocks(i).kind() == kind) return c.mutable_clocks(i);
  }
  return nullptr;
}

void StopClock(v1::Complaint& c, v1::SlaClockKind kind, absl::Time now) {
  if (v1::SlaClock* clock = MutableLatestClock(c, kind)) {
    sla::Stop(*clock, now, sla::Calendar::Wall24x7());
  }
}

v1::SlaClock StartClock(v1::SlaClockKind kind, const google::protobuf::Duration& budget,
                        absl::Time now, const v1::PolicyRef& ref) {
  return sla::StartClock(kind, v1::SLA_CALENDAR_WALL_24X7, rpc::FromProto(budget), now, ref,
                         sla::Calendar::Wall24x7());
}

void Escalate(Change& change, v1::OwnerLevel to, v1::EscalationReason reason,
              const Context& ctx) {
  v1::Complaint& c = change.complaint;
  v1::ComplaintEscalation* esc = c.add_escalations();
  esc->set_from_level(c.owner_level());
  esc->set_to_level(to);
  esc->set_reason(reason);
  *esc->mutable_escalated_at() = rpc::ToProto(ctx.now);
  *esc->mutable_actor() = ActorAt(ctx);

  v1::Event e = NewEvent(c, ctx.now);
  v1::ComplaintEscalated* body = e.mutable_complaint_escalated();
  body->set_complaint_id(c.complaint_id());
  body->set_from_level(c.owner_level());
  body->set_to_level(to);
  body->set_reason(reason);
  body->set_grade(c.grade());
  change.events.push_back(std::move(e));

  // A new level takes the complaint over: the person who owned it at the
  // level below no longer does.
  if (to != c.owner_level()) c.clear_owner_id();
  c.set_owner_level(to);
}

v1::Event GradedEvent(const v1::Complaint& c, v1::ComplaintGrade from, absl::Time now) {
  v1::Event e = NewEvent(c, now);
  v1::ComplaintGraded* g = e.mutable_complaint_graded();
  g->set_complaint_id(c.complaint_id());
  g->set_order_id(c.order_id());
  g->set_from_grade(from);
  g->set_to_grade(c.grade());
  for (const auto& r : c.grading().rules()) g->add_rule_ids(r.rule_id());
  *g->mutable_policy() = c.grading().policy();
  return e;
}

const v1::GradingRule* RuleById(const v1::ComplaintPolicy& policy, absl::string_view id) {
  for (const auto& r : policy.rules()) {
    if (r.rule_id() == id) return &r;
  }
  return nullptr;
}

absl::Status ValidateCompensation(const std::string& field, const v1::CompensationValue& v) {
  rpc::Validator check;
  switch (v.value_case()) {
    case v1::CompensationValue::kPoints:
      check.Range(field + ".points", static_cast<double>(v.points()), 1, 1'000'000);
      break;
    case v1::CompensationValue::kMoney: {
      const std::string& code = v.money().currency_code();
      bool upper = code.size() == 3;
      for (char ch : code) upper &= ch >= 'A' && ch <= 'Z';
      check.Check(field + ".money.currency_code", upper, "3 upper-case letters (ISO 4217)")
          .Range(field + ".money.amount_minor", static_cast<double>(v.money().amount_minor()),
                 1, 1e10);
      break;
    }
    case v1::CompensationValue::kExtendedWarrantyDays:
      check.Range(field + ".extended_warranty_days", v.extended_warranty_days(), 1, 3650);
      break;
    case v1::CompensationValue::kPriorityLevels:
      check.Range(field + ".priority_levels", v.priority_levels(), 1, 2);
      break;
    case v1::CompensationValue::VALUE_NOT_SET:
      check.Check(field, false, "set one value, or leave compensation unset");
      break;
  }
  return check.status();
}

bool NotBlank(const std::string& s) { return !absl::StripAsciiWhitespace(s).empty(); }

}  // namespace

bool IsClosed(v1::ComplaintState state) { return state == v1::COMPLAINT_STATE_CLOSED; }

const v1::SlaClock* LatestClock(const v1::Complaint& c, v1::SlaClockKind kind) {
  for (int i = c.clocks_size() - 1; i >= 0; --i) {
    if (c.clocks(i).kind() == kind) return &c.clocks(i);
  }
  return nullptr;
}

absl::Status ValidateFileRequest(const v1::FileComplaintRequest& r) {
  rpc::Validator v;
  v.Id("request_id", r.request_id(), 128)
      .Id("customer_id", r.customer_id(), 64);
  if (!r.order_id().empty()) v.Id("order_id", r.order_id(), 64);
  v.Enum("channel", r.channel(), v1::ComplaintChannel_IsValid(r.channel()))
      .Text("text", r.text(), 8000, true)
      .Check("text", r.text().empty() || NotBlank(r.text()), "must not be blank")
      .Check("category", v1::ComplaintCategory_IsValid(r.category()), "unknown value")
      .Check("customer_tier", v1::CustomerTier_IsValid(r.customer_tier()), "unknown value")
      .Text("appliance_model", r.appliance_model(), 64, false);
  if (!r.region_code().empty()) v.Id("region_code", r.region_code(), 32);
  if (!r.source_survey_id().empty()) v.Id("source_survey_id", r.source_survey_id(), 64);
  return v.status();
}

absl::Status ValidateResolveRequest(const v1::ResolveComplaintRequest& r) {
  rpc::Validator v;
  v.Id("complaint_id", r.complaint_id(), 64)
      .Check("investigation", r.has_investigation(), "required")
      .Check("resolution", r.has_resolution(), "required");
  if (!v.status().ok()) return v.status();
  const auto& inv = r.investigation();
  v.Text("investigation.root_cause", inv.root_cause(), 4000, true)
      .Check("investigation.root_cause", inv.root_cause().empty() || NotBlank(inv.root_cause()),
             "must not be blank")
      .Enum("investigation.responsible_party", inv.responsible_party(),
            v1::ResponsibleParty_IsValid(inv.responsible_party()))
      .Text("investigation.responsible_id", inv.responsible_id(), 64, false)
      .Enum("investigation.impact_scope", inv.impact_scope(),
            v1::ImpactScope_IsValid(inv.impact_scope()))
      .Text("investigation.impact_note", inv.impact_note(), 2000, false);
  const auto& res = r.resolution();
  v.Enum("resolution.type", res.type(), v1::ResolutionType_IsValid(res.type()))
      .Text("resolution.description", res.description(), 4000, true)
      .Check("resolution.description",
             res.description().empty() || NotBlank(res.description()), "must not be blank");
  if (!v.status().ok()) return v.status();
  if (res.has_compensation()) {
    return ValidateCompensation("resolution.compensation", res.compensation());
  }
  return absl::OkStatus();
}

Change FileNew(const v1::FileComplaintRequest& request, const std::string& complaint_id,
               const v1::GradingResult& grading, const v1::LinkedOrderContext* order,
               const Context& ctx) {
  const v1::ComplaintPolicy& policy = *ctx.policy;
  Change change;
  change.changed = true;
  v1::Complaint& c = change.complaint;
  c.set_complaint_id(complaint_id);
  c.set_request_id(request.request_id());
  c.mutable_customer()->set_customer_id(request.customer_id());
  v1::CustomerTier tier = request.customer_tier();
  if (tier == v1::CUSTOMER_TIER_UNSPECIFIED && order != nullptr) tier = order->customer_tier();
  if (tier == v1::CUSTOMER_TIER_UNSPECIFIED) tier = v1::CUSTOMER_TIER_STANDARD;
  c.mutable_customer()->set_tier(tier);
  c.set_order_id(request.order_id());
  c.set_channel(request.channel());
  c.set_text(request.text());
  c.set_category(grading.category());
  c.set_grade(grading.grade());
  *c.mutable_grading() = grading;
  *c.mutable_policy() = policy.ref();
  c.set_state(v1::COMPLAINT_STATE_FILED);
  c.set_owner_level(grading.owner_level());
  *c.add_clocks() = StartClock(v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE,
                               grading.acknowledge_budget(), ctx.now, policy.ref());
  *c.add_clocks() = StartClock(v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE, grading.resolve_budget(),
                               ctx.now, policy.ref());
  v1::ComplaintTransition* t = c.add_transitions();
  t->set_from_state(v1::COMPLAINT_STATE_UNSPECIFIED);
  t->set_to_state(v1::COMPLAINT_STATE_FILED);
  *t->mutable_actor() = ActorAt(ctx);
  if (order != nullptr) *c.mutable_order_context() = *order;
  c.set_appliance_model(!request.appliance_model().empty() || order == nullptr
                            ? request.appliance_model()
                            : order->appliance_model());
  c.set_region_code(order != nullptr && !order->region_code().empty() ? order->region_code()
                                                                       : request.region_code());
  if (order != nullptr) c.set_partner_id(order->partner_id());
  c.set_source_survey_id(request.source_survey_id());
  *c.mutable_created_at() = rpc::ToProto(ctx.now);
  *c.mutable_updated_at() = rpc::ToProto(ctx.now);
  c.set_version(1);

  v1::Event filed = NewEvent(c, ctx.now);
  v1::ComplaintFiled* f = filed.mutable_complaint_filed();
  f->set_complaint_id(c.complaint_id());
  f->set_order_id(c.order_id());
  f->set_customer_id(request.customer_id());
  f->set_category(c.category());
  f->set_grade(c.grade());
  f->set_channel(c.channel());
  f->set_region_code(c.region_code());
  f->set_partner_id(c.partner_id());
  f->set_source_survey_id(c.source_survey_id());
  change.events.push_back(std::move(filed));
  change.events.push_back(GradedEvent(c, v1::COMPLAINT_GRADE_UNSPECIFIED, ctx.now));

  // SPEC §7.2 level 3: strong negative emotion escalates at once. Its +1
  // step already raised the grade; the owner it moved past is recorded.
  v1::ComplaintGrade before_emotion = v1::COMPLAINT_GRADE_G1_GENERAL;
  for (const auto& fired : grading.rules()) {
    const v1::GradingRule* rule = RuleById(policy, fired.rule_id());
    if (rule != nullptr && rule->kind() == v1::GRADING_RULE_KIND_STRONG_EMOTION) {
      const v1::OwnerLevel from = TargetFor(policy, before_emotion).owner();
      if (from < c.owner_level()) {
        const v1::OwnerLevel to = c.owner_level();
        c.set_owner_level(from);
        Escalate(change, to, v1::ESCALATION_REASON_STRONG_EMOTION, ctx);
      }
      break;
    }
    before_emotion = fired.grade_after();
  }
  return change;
}

absl::StatusOr<Change> Acknowledge(const v1::Complaint& c, const std::string& owner_id,
                                   const std::string& note, const Context& ctx) {
  if (c.state() != v1::COMPLAINT_STATE_FILED) return NotIn(c, "FILED");
  Change change = Begin(c, ctx);
  StopClock(change.complaint, v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE, ctx.now);
  if (!owner_id.empty()) change.complaint.set_owner_id(owner_id);
  Transition(change, v1::COMPLAINT_STATE_ACKNOWLEDGED, ctx, note);
  return change;
}

absl::StatusOr<Change> StartInvestigation(const v1::Complaint& c, const std::string& note,
                                          const Context& ctx) {
  if (c.state() != v1::COMPLAINT_STATE_ACKNOWLEDGED &&
      c.state() != v1::COMPLAINT_STATE_REOPENED) {
    return NotIn(c, "ACKNOWLEDGED or REOPENED");
  }
  Change change = Begin(c, ctx);
  *change.complaint.mutable_investigation()->mutable_started_at() = rpc::ToProto(ctx.now);
  Transition(change, v1::COMPLAINT_STATE_INVESTIGATING, ctx, note);
  return change;
}

absl::StatusOr<Change> Resolve(const v1::Complaint& c,
                               const v1::ComplaintInvestigation& findings,
                               const v1::ComplaintResolution& resolution, const Context& ctx) {
  if (c.state() != v1::COMPLAINT_STATE_INVESTIGATING) return NotIn(c, "INVESTIGATING");
  Change change = Begin(c, ctx);
  v1::Complaint& out = change.complaint;
  const google::protobuf::Timestamp started = c.investigation().started_at();
  *out.mutable_investigation() = findings;
  *out.mutable_investigation()->mutable_started_at() = started;
  *out.mutable_resolution() = resolution;
  *out.mutable_resolution()->mutable_resolved_at() = rpc::ToProto(ctx.now);
  *out.mutable_resolution()->mutable_actor() = ActorAt(ctx);
  StopClock(out, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE, ctx.now);
  Transition(change, v1::COMPLAINT_STATE_RESOLVED, ctx, "");

  v1::Event e = NewEvent(out, ctx.now);
  v1::ComplaintResolved* r = e.mutable_complaint_resolved();
  r->set_complaint_id(out.complaint_id());
  r->set_order_id(out.order_id());
  r->set_customer_id(out.customer().customer_id());
  r->set_resolution(resolution.type());
  if (resolution.has_compensation()) *r->mutable_compensation() = resolution.compensation();
  r->set_responsible_party(findings.responsible_party());
  *r->mutable_policy() = ctx.policy->ref();
  change.events.push_back(std::move(e));
  return change;
}

absl::StatusOr<Change> Close(const v1::Complaint& c, const std::string& note,
                             const Context& ctx) {
  if (c.state() != v1::COMPLAINT_STATE_RESOLVED) return NotIn(c, "RESOLVED");
  Change change = Begin(c, ctx);
  change.complaint.set_customer_confirmed(true);
  *change.complaint.mutable_closed_at() = rpc::ToProto(ctx.now);
  Transition(change, v1::COMPLAINT_STATE_CLOSED, ctx, note);
  return change;
}

absl::StatusOr<Change> Reopen(const v1::Complaint& c, const std::string& reason,
                              const Context& ctx) {
  if (c.state() != v1::COMPLAINT_STATE_RESOLVED && c.state() != v1::COMPLAINT_STATE_CLOSED) {
    return NotIn(c, "RESOLVED or CLOSED");
  }
  Change change = Begin(c, ctx);
  v1::Complaint& out = change.complaint;
  v1::ComplaintAppeal* appeal = out.add_appeals();
  appeal->set_reason(reason);
  *appeal->mutable_appealed_at() = rpc::ToProto(ctx.now);
  *appeal->mutable_actor() = ActorAt(ctx);
  out.set_reopen_count(c.reopen_count() + 1);
  out.set_customer_confirmed(false);
  out.clear_closed_at();
  *out.add_clocks() = StartClock(v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE,
                                 TargetFor(*ctx.policy, c.grade()).resolve(), ctx.now,
                                 ctx.policy->ref());
  Transition(change, v1::COMPLAINT_STATE_REOPENED, ctx, reason);
  return change;
}

Change Sweep(const v1::Complaint& c, const Context& ctx) {
  Change change = Begin(c, ctx);
  change.changed = false;
  v1::Complaint& out = change.complaint;
  const sla::Calendar calendar = sla::Calendar::Wall24x7();
  for (v1::SlaClockKind kind :
       {v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE}) {
    v1::SlaClock* clock = MutableLatestClock(out, kind);
    if (clock == nullptr || clock->outcome() != v1::SLA_OUTCOME_RUNNING) continue;
    const sla::Transition t = sla::Evaluate(*clock, ctx.now, ctx.policy->at_risk_fraction(),
                                            calendar);
    if (t.became_at_risk) {
      change.became_at_risk.push_back(kind);
      change.changed = true;
    }
    if (t.became_breached) {
      change.became_breached.push_back(kind);
      change.changed = true;
      Escalate(change, NextOwnerLevel(*ctx.policy, out.owner_level()),
               kind == v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE
                   ? v1::ESCALATION_REASON_ACK_DEADLINE_MISSED
                   : v1::ESCALATION_REASON_RESOLVE_DEADLINE_MISSED,
               ctx);
    }
  }
  if (!change.changed) change.complaint = c;
  return change;
}

bool FloorRaises(const v1::Complaint& c, v1::ComplaintGrade floor) {
  return !IsClosed(c.state()) && c.grade() < floor;
}

Change ApplyFloorRule(const v1::Complaint& c, const v1::FiredRule& rule, const Context& ctx) {
  if (!FloorRaises(c, rule.floor())) {
    Change unchanged;
    unchanged.complaint = c;
    return unchanged;
  }
  const v1::ComplaintPolicy& policy = *ctx.policy;
  Change change = Begin(c, ctx);
  v1::Complaint& out = change.complaint;
  const v1::ComplaintGrade from = c.grade();
  const v1::ComplaintGrade to = rule.floor();
  const v1::GradeTarget& target = TargetFor(policy, to);
  v1::GradingResult& grading = *out.mutable_grading();
  v1::FiredRule* added = grading.add_rules();
  *added = rule;
  added->set_grade_after(to);
  grading.set_grade(to);
  *grading.mutable_graded_at() = rpc::ToProto(ctx.now);
  grading.set_owner_level(target.owner());
  *grading.mutable_acknowledge_budget() = target.acknowledge();
  *grading.mutable_resolve_budget() = target.resolve();
  out.set_grade(to);

  const sla::Calendar calendar = sla::Calendar::Wall24x7();
  for (v1::SlaClockKind kind :
       {v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE}) {
    v1::SlaClock* clock = MutableLatestClock(out, kind);
    if (clock == nullptr || clock->outcome() != v1::SLA_OUTCOME_RUNNING) continue;
    const absl::Duration budget = rpc::FromProto(
        kind == v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE ? target.acknowledge() : target.resolve());
    if (budget < rpc::FromProto(clock->budget())) {
      sla::Rebudget(*clock, budget, ctx.now, policy.at_risk_fraction(), calendar);
      *clock->mutable_policy() = policy.ref();
    }
  }
  change.events.push_back(GradedEvent(out, from, ctx.now));
  if (target.owner() > out.owner_level()) {
    Escalate(change, target.owner(), v1::ESCALATION_REASON_REGRADED, ctx);
  }
  return change;
}

absl::Time NextSweep(const v1::Complaint& c, const v1::ComplaintPolicy& policy) {
  absl::Time next = absl::InfiniteFuture();
  const sla::Calendar calendar = sla::Calendar::Wall24x7();
  for (v1::SlaClockKind kind :
       {v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE, v1::SLA_CLOCK_KIND_COMPLAINT_RESOLVE}) {
    const v1::SlaClock* clock = LatestClock(c, kind);
    if (clock == nullptr) continue;
    next = std::min(next, sla::NextCheck(*clock, policy.at_risk_fraction(), calendar));
  }
  return next;
}

}  // namespace aftersales::complaint::domain
