#include "complaint/complaint_core.h"

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "complaint/domain/grading.h"
#include "complaint/domain/text_match.h"
#include "rpc/rpc.h"

namespace aftersales::complaint {
namespace {

// History reads are bounded: thresholds are small (policy limits them to
// 1000 and 100), so more rows than this never change a rule's outcome.
constexpr size_t kMaxHistory = 1000;

// Random 64-bit ids: unique without a shared counter every filing contends on.
std::string NewComplaintId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("CP%016x", absl::Uniform<uint64_t>(gen));
}

v1::CustomerTier ResolveTier(v1::CustomerTier requested, const v1::LinkedOrderContext* order) {
  if (requested != v1::CUSTOMER_TIER_UNSPECIFIED) return requested;
  if (order != nullptr && order->customer_tier() != v1::CUSTOMER_TIER_UNSPECIFIED) {
    return order->customer_tier();
  }
  return v1::CUSTOMER_TIER_STANDARD;
}

}  // namespace

ComplaintCore::ComplaintCore(server::ServiceHost& host,
                             std::unique_ptr<ComplaintPolicyHolder> policy,
                             privacy::CustomerKeys* keys)
    : host_(host),
      repo_(&host.store(), keys),
      policy_(std::move(policy)),
      metrics_(host.registry()) {}

v1::Actor ComplaintCore::SystemActor(const std::string& cause_ref) const {
  v1::Actor a;
  a.set_principal_id("system");
  a.set_role(v1::ROLE_SYSTEM);
  a.set_cause_ref(cause_ref);
  return a;
}

absl::StatusOr<ComplaintCore::Facts> ComplaintCore::GatherFacts(
    const std::string& customer_id, const std::string& order_id,
    const std::string& appliance_model, const v1::ComplaintPolicy& policy,
    absl::Time now) const {
  Facts facts;
  if (!order_id.empty()) {
    auto ctx = repo_.OrderContext(order_id);
    if (!ctx.ok()) return ctx.status();
    if (ctx->has_value()) {
      facts.order = **ctx;
    } else {
      v1::LinkedOrderContext stub;  // intake's events for it have not arrived (yet)
      stub.set_order_id(order_id);
      facts.order = stub;
    }
  }
  facts.appliance_model = appliance_model;
  if (facts.appliance_model.empty() && facts.order) {
    facts.appliance_model = facts.order->appliance_model();
  }
  if (!customer_id.empty()) {
    auto history = repo_.ByCustomerSince(
        customer_id, now - rpc::FromProto(policy.repeat_complainant_window()), kMaxHistory);
    if (!history.ok()) return history.status();
    facts.customer_history = *std::move(history);
  }
  if (!domain::ModelKey(facts.appliance_model).empty()) {
    auto history = repo_.ByModelSince(
        facts.appliance_model, now - rpc::FromProto(policy.same_model_window()), kMaxHistory);
    if (!history.ok()) return history.status();
    facts.same_model_history = *std::move(history);
  }
  return facts;
}

absl::StatusOr<v1::GradingResult> ComplaintCore::GradePreview(const v1::GradeTextRequest& r) {
  auto policy = policy_->Current();
  const absl::Time now = host_.clock().Now();
  auto facts = GatherFacts(r.customer_id(), r.order_id(), r.appliance_model(), *policy, now);
  if (!facts.ok()) return facts.status();
  domain::GradeInput in;
  in.text = r.text();
  in.category = r.category();
  in.channel = r.channel();
  in.order = facts->order ? &*facts->order : nullptr;
  in.tier = ResolveTier(r.customer_tier(), in.order);
  in.appliance_model = facts->appliance_model;
  in.customer_history = std::move(facts->customer_history);
  in.same_model_history = std::move(facts->same_model_history);
  return domain::Grade(in, *policy, now);
}

absl::StatusOr<ComplaintCore::Filed> ComplaintCore::FileInto(
    store::Batch& batch, const v1::FileComplaintRequest& request,
    const std::string& principal_id, const v1::Actor& actor, domain::Change* change_out) {
  v1::FileComplaintRequest body = request;
  body.clear_request_id();
  const std::string fingerprint = store::IdempotencyKeys::Fingerprint(body);
  const std::string key = store::IdempotencyKeys::Key(principal_id, request.request_id());
  auto policy = policy_->Current();

  // The model comes from the request or the order; both histories must not
  // change between reading them and writing this complaint.
  std::string model = request.appliance_model();
  if (model.empty() && !request.order_id().empty()) {
    auto ctx = repo_.OrderContext(request.order_id());
    if (!ctx.ok()) return ctx.status();
    if (ctx->has_value()) model = (*ctx)->appliance_model();
  }
  std::vector<std::string> keys = {"idem/" + key, "customer/" + request.customer_id()};
  if (!domain::ModelKey(model).empty()) keys.push_back("model/" + domain::ModelKey(model));
  batch.HoldUntilDone(repo_.store().locks().Lock(keys));

  auto earlier = repo_.idempotency().Check(key, fingerprint);
  if (!earlier.ok()) return earlier.status();
  if (earlier->has_value()) {
    auto c = repo_.Get(**earlier);
    if (!c.ok()) return c.status();
    if (!c->has_value()) {
      return absl::InternalError("idempotency record points to a missing complaint");
    }
    return Filed{**c, false};
  }

  const absl::Time now = host_.clock().Now();
  auto facts = GatherFacts(request.customer_id(), request.order_id(), model, *policy, now);
  if (!facts.ok()) return facts.status();
  domain::GradeInput in;
  in.text = request.text();
  in.category = request.category();
  in.channel = request.channel();
  in.order = facts->order ? &*facts->order : nullptr;
  in.tier = ResolveTier(request.customer_tier(), in.order);
  in.appliance_model = facts->appliance_model;
  in.customer_history = facts->customer_history;
  in.same_model_history = facts->same_model_history;
  const v1::GradingResult grading = domain::Grade(in, *policy, now);

  domain::Context ctx{now, actor, policy.get()};
  domain::Change change = domain::FileNew(request, NewComplaintId(), grading, in.order, ctx);
  const v1::Complaint& c = change.complaint;
  if (absl::Status s = repo_.Stage(batch, nullptr, c, domain::NextSweep(c, *policy),
                                   change.events);
      !s.ok()) {
    return s;
  }
  repo_.idempotency().Remember(batch, key, fingerprint, c.complaint_id(), now);

  // Mass impact reaches back: the earlier complaints of the cluster get the
  // rule's floor too (applied under their own locks by RunBackground).
  for (const v1::GradingRule& rule : policy->rules()) {
    if (rule.kind() != v1::GRADING_RULE_KIND_SAME_MODEL_CLUSTER || rule.disabled() ||
        rule.effect() != v1::RULE_EFFECT_FLOOR) {
      continue;
    }
    for (const v1::FiredRule& fired : grading.rules()) {
      if (fired.rule_id() != rule.rule_id()) continue;
      const absl::Time since = now - rpc::FromProto(policy->same_model_window());
      for (const auto& other : facts->same_model_history) {
        if (other.created_at <= since || other.created_at > now) continue;
        // Queue nothing for a complaint the floor would not change (closed,
        // or already at the floor: usually from an earlier member of the
        // cluster). Otherwise every complaint of a cluster of n queues a
        // regrade of every earlier one: n^2/2 regrades, each a commit.
        auto target = repo_.GetSealed(other.complaint_id);
        if (!target.ok()) return target.status();
        if (target->has_value() && !domain::FloorRaises(**target, fired.floor())) continue;
        v1::FiredRule copy = fired;
        copy.clear_grade_after();
        if (copy.evidence_size() < 32) copy.add_evidence(c.complaint_id());
        repo_.QueueFloorRule(batch, other.complaint_id, c.complaint_id(), copy);
      }
    }
  }
  *change_out = change;
  return Filed{c, true};
}

absl::StatusOr<ComplaintCore::Filed> ComplaintCore::File(const v1::FileComplaintRequest& request,
                                                         const std::string& principal_id,
                                                         const v1::Actor& actor) {
  store::Batch batch;
  domain::Change change;
  auto filed = FileInto(batch, request, principal_id, actor, &change);
  if (!filed.ok()) return filed.status();
  if (!filed->created) return filed;
  if (absl::Status s = repo_.store().Commit(batch); !s.ok()) return s;
  metrics_.Observe(nullptr, change);
  return filed;
}

absl::StatusOr<ComplaintCore::Filed> ComplaintCore::StageFile(
    store::Batch& batch, const v1::FileComplaintRequest& request, const std::string& principal_id,
    const v1::Actor& actor) {
  domain::Change change;
  auto filed = FileInto(batch, request, principal_id, actor, &change);
  if (filed.ok() && filed->created) metrics_.Observe(nullptr, change);
  return filed;
}

absl::StatusOr<v1::Complaint> ComplaintCore::Update(
    const std::string& complaint_id, const ChangeFn& fn,
    const std::function<void(store::Batch&, const domain::Change&)>& extra) {
  auto policy = policy_->Current();
  auto guard = repo_.store().locks().Lock({"complaint/" + complaint_id});
  auto loaded = repo_.Get(complaint_id);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::NotFoundError("complaint_id: no such complaint");
  const v1::Complaint& before = **loaded;
  auto change = fn(before, *policy);
  if (!change.ok()) return change.status();
  store::Batch batch;
  if (change->changed) {
    if (absl::Status s = repo_.Stage(batch, &before, change->complaint,
                                     domain::NextSweep(change->complaint, *policy),
                                     change->events);
        !s.ok()) {
      return s;
    }
  }
  if (extra) extra(batch, *change);
  if (!batch.empty()) {
    if (absl::Status s = repo_.store().Commit(batch); !s.ok()) return s;
  }
  metrics_.Observe(&before, *change);
  return change->changed ? std::move(change->complaint) : before;
}

absl::Status ComplaintCore::SweepOne(const ComplaintRepository::DueRow& due) {
  auto policy = policy_->Current();
  auto guard = repo_.store().locks().Lock({"complaint/" + due.complaint_id});
  auto loaded = repo_.Get(due.complaint_id);
  if (!loaded.ok()) return loaded.status();
  store::Batch batch;
  // The processed row goes first: when the complaint's new row is the same
  // key, the later Put in the batch keeps it.
  repo_.DropSweepRow(batch, due.row);
  if (loaded->has_value()) {
    const v1::Complaint& before = **loaded;
    domain::Context ctx{host_.clock().Now(), SystemActor("timer:deadline-sweeper"),
                        policy.get()};
    domain::Change change = domain::Sweep(before, ctx);
    const v1::Complaint& after = change.changed ? change.complaint : before;
    if (absl::Status s = repo_.Stage(batch, &before, after, domain::NextSweep(after, *policy),
                                     change.events);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = repo_.store().Commit(batch); !s.ok()) return s;
    metrics_.Observe(&before, change);
    return absl::OkStatus();
  }
  return repo_.store().Commit(batch);
}

absl::Status ComplaintCore::InitMetrics() {
  auto counts = repo_.CountByState();
  if (!counts.ok()) return counts.status();
  for (const auto& [state, n] : *counts) metrics_.SetByState(state, static_cast<double>(n));
  return absl::OkStatus();
}

}  // namespace aftersales::complaint
