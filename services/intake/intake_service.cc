#include "intake/intake_service.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "intake/domain/compensation.h"
#include "intake/domain/order.h"
#include "intake/domain/policy.h"
#include "intake/domain/priority.h"
#include "intake/intake_privacy.h"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::intake {
namespace {

using auth::Role;
using v1::ProgressMilestone;

constexpr std::initializer_list<Role> kEveryRole = {
    Role::kPartner, Role::kEngineer, Role::kAgent,  Role::kApp,
    Role::kService, Role::kAdmin,    Role::kAuditor};

// Random 64-bit ids: unique without a shared counter that every create would
// contend on.
std::string NewOrderId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("WO%016x", absl::Uniform<uint64_t>(gen));
}

v1::Role RoleOf(Role role) {
  switch (role) {
    case Role::kPartner: return v1::ROLE_PARTNER;
    case Role::kEngineer: return v1::ROLE_ENGINEER;
    case Role::kAgent: return v1::ROLE_AGENT;
    case Role::kApp: return v1::ROLE_APP;
    case Role::kService: return v1::ROLE_SERVICE;
    case Role::kAdmin: return v1::ROLE_ADMIN;
    case Role::kAuditor: return v1::ROLE_AUDITOR;
  }
  return v1::ROLE_UNSPECIFIED;
}

bool Contains(std::initializer_list<ProgressMilestone> list, ProgressMilestone m) {
  return std::find(list.begin(), list.end(), m) != list.end();
}

// Milestones field staff (engineers, partner systems) report.
constexpr std::initializer_list<ProgressMilestone> kFieldMilestones = {
    v1::PROGRESS_MILESTONE_CONTACTED,
    v1::PROGRESS_MILESTONE_DEPARTED,
    v1::PROGRESS_MILESTONE_ARRIVED,
    v1::PROGRESS_MILESTONE_REMOTE_SESSION_STARTED,
    v1::PROGRESS_MILESTONE_REMOTE_SESSION_FAILED,
    v1::PROGRESS_MILESTONE_DIAGNOSED,
    v1::PROGRESS_MILESTONE_QUOTED,
    v1::PROGRESS_MILESTONE_FEE_CONFIRMED,
    v1::PROGRESS_MILESTONE_FEE_DECLINED,
    v1::PROGRESS_MILESTONE_REPAIR_STARTED,
    v1::PROGRESS_MILESTONE_WAITING_PARTS,
    v1::PROGRESS_MILESTONE_REPAIRED,
    v1::PROGRESS_MILESTONE_CUSTOMER_CONFIRMED,
    v1::PROGRESS_MILESTONE_CUSTOMER_UNAVAILABLE,
    v1::PROGRESS_MILESTONE_HOLD_RELEASED,
    v1::PROGRESS_MILESTONE_RESCHEDULED};

// Milestones the customer takes through the brand app.
constexpr std::initializer_list<ProgressMilestone> kCustomerMilestones = {
    v1::PROGRESS_MILESTONE_FEE_CONFIRMED, v1::PROGRESS_MILESTONE_FEE_DECLINED,
    v1::PROGRESS_MILESTONE_CUSTOMER_CONFIRMED, v1::PROGRESS_MILESTONE_RESCHEDULED,
    v1::PROGRESS_MILESTONE_CANCELLED};

v1::OrderUpdate UpdateOf(const v1::WorkOrder& o) {
  v1::OrderUpdate u;
  u.set_order_id(o.order_id());
  u.set_version(o.version());
  u.set_state(o.state());
  if (o.transitions_size() > 0) {
    u.set_milestone(o.transitions(o.transitions_size() - 1).milestone());
  }
  *u.mutable_changed_at() = o.updated_at();
  u.set_priority(o.priority());
  u.set_handling_mode(o.handling_mode());
  if (o.assignment().has_eta()) {
    *u.mutable_eta() = o.assignment().eta();
  } else if (o.has_promised_eta()) {
    *u.mutable_eta() = o.promised_eta();
  }
  if (o.has_assignment()) *u.mutable_engineer() = o.assignment().engineer();
  if (o.has_appointment()) *u.mutable_appointment() = o.appointment();
  if (o.has_proposed_window()) *u.mutable_proposed_window() = o.proposed_window();
  for (const auto& c : o.sla_clocks()) {
    if (c.outcome() == v1::SLA_OUTCOME_RUNNING && c.at_risk()) u.set_at_risk(true);
  }
  return u;
}

int LocalMonth(const v1::RegionPolicy& region, absl::Time now) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(region.time_zone().empty() ? "Asia/Shanghai"
                                                      : region.time_zone(),
                          &zone)) {
    zone = absl::UTCTimeZone();
  }
  return absl::ToCivilMonth(now, zone).month();
}

absl::Status ValidateTimeRange(absl::string_view field, const v1::TimeRange& r) {
  if (r.has_start() && r.has_end() &&
      rpc::FromProto(r.end()) <= rpc::FromProto(r.start())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": end must be after start"));
  }
  return absl::OkStatus();
}

}  // namespace

bool MaySee(const auth::Principal& p, const v1::WorkOrder& o) {
  switch (p.role) {
    case Role::kPartner:
      return (o.has_assignment() && o.assignment().partner_id() == p.partner_id) ||
             o.created_by() == p.id;
    case Role::kEngineer:
      return o.has_assignment() && o.assignment().engineer_id() == p.engineer_id &&
             o.assignment().partner_id() == p.partner_id;
    default:
      return true;
  }
}

absl::StatusOr<v1::WorkOrder> LoadVisible(const OrderRepository& repo,
                                          const auth::Principal& principal,
                                          const std::string& order_id) {
  auto order = repo.Get(order_id);
  if (!order.ok()) return order.status();
  if (!order->has_value() || !MaySee(principal, **order)) {
    return absl::NotFoundError("order_id: no such order");
  }
  return **std::move(order);
}

v1::WorkOrder ViewFor(const auth::Principal& p, v1::WorkOrder o) {
  const bool assigned_engineer = p.role == Role::kEngineer && o.has_assignment() &&
                                 o.assignment().engineer_id() == p.engineer_id &&
                                 o.state() != v1::ORDER_STATE_CREATED;
  if (!assigned_engineer) o.clear_contact();
  return o;
}

absl::Status MayReport(const auth::Principal& p, const v1::WorkOrder& o,
                       ProgressMilestone m) {
  auto deny = [&] {
    return absl::PermissionDeniedError(absl::StrCat(
        "role ", auth::RoleName(p.role), " may not report ",
        v1::ProgressMilestone_Name(m), " on this order"));
  };
  switch (p.role) {
    case Role::kAdmin:
    case Role::kService:
    case Role::kAgent:
      return absl::OkStatus();
    case Role::kApp:
      return Contains(kCustomerMilestones, m) ? absl::OkStatus() : deny();
    case Role::kEngineer:
      return MaySee(p, o) && Contains(kFieldMilestones, m) ? absl::OkStatus() : deny();
    case Role::kPartner: {
      const bool assigned =
          o.has_assignment() && o.assignment().partner_id() == p.partner_id;
      const bool submitted = o.created_by() == p.id;
      if (assigned && (Contains(kFieldMilestones, m) ||
                       m == v1::PROGRESS_MILESTONE_CANCELLED)) {
        return absl::OkStatus();
      }
      if (submitted && (m == v1::PROGRESS_MILESTONE_CONTACTED ||
                        m == v1::PROGRESS_MILESTONE_CANCELLED)) {
        return absl::OkStatus();
      }
      return deny();
    }
    case Role::kAuditor:
      return deny();
  }
  return deny();
}

IntakeServiceImpl::IntakeServiceImpl(IntakeCore* core) : core_(core) {}

absl::StatusOr<auth::Principal> IntakeServiceImpl::Authorize(
    const grpc::ServerContextBase& context, std::initializer_list<Role> roles) const {
  return rpc::AuthorizeCall(context, core_->host().tokens(), roles);
}

grpc::ServerUnaryReactor* IntakeServiceImpl::CreateOrder(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The decoded request and the reply live until the call is finished.
  struct Call {
    v1::CreateOrderRequest request;
    v1::CreateOrderResponse response;
  };
  auto call = std::make_shared<Call>();
  grpc::ByteBuffer bytes(*request_bytes);  // shares the slices; Deserialize consumes it
  if (!grpc::SerializationTraits<v1::CreateOrderRequest>::Deserialize(&bytes, &call->request)
           .ok()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "request: does not decode as aftersales.v1.CreateOrderRequest"));
    return reactor;
  }
  // The reply is encoded on this thread, before the commit: the commit's
  // completion runs on the store's single committer thread, which then only
  // counts the order and sends.
  auto encode = [&call, response_bytes](const grpc::Status& status) {
    if (!status.ok()) return status;
    bool own_buffer = false;
    return grpc::SerializationTraits<v1::CreateOrderResponse>::Serialize(
        call->response, response_bytes, &own_buffer);
  };
  std::unique_ptr<NewOrderCommit> commit;
  const grpc::Status prepared =
      encode(PrepareCreateOrder(*context, call->request, &call->response, &commit));
  if (!prepared.ok() || commit == nullptr) {
    reactor->Finish(prepared);
    return reactor;
  }
  // The reply goes out only once the batch is synced (nothing acknowledged is
  // lost); the batch's key locks are held until then.
  std::function<void()> on_committed = std::move(commit->on_committed);
  core_->repo().store().CommitAsync(
      std::move(commit->batch),
      [reactor, call, on_committed = std::move(on_committed)](absl::Status status,
                                                              store::Batch&) {
        if (status.ok()) on_committed();
        reactor->Finish(rpc::ToGrpc(status));
      });
  return reactor;
}

grpc::Status IntakeServiceImpl::PrepareCreateOrder(const grpc::ServerContextBase& context,
                                                   const v1::CreateOrderRequest& request_ref,
                                                   v1::CreateOrderResponse* response,
                                                   std::unique_ptr<NewOrderCommit>* commit) {
  const v1::CreateOrderRequest* request = &request_ref;
  auto principal = Authorize(
      context, {Role::kPartner, Role::kAgent, Role::kApp, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  const absl::Time now = core_->host().clock().Now();
  RPC_RETURN_IF_ERROR(domain::ValidateCreateOrder(*request, now));
  RPC_RETURN_IF_ERROR(RequireMediaConsent(*request));

  v1::CreateOrderRequest body = *request;
  body.clear_request_id();
  const std::string fingerprint = store::IdempotencyKeys::Fingerprint(body);
  const std::string key =
      store::IdempotencyKeys::Key(principal->id, request->request_id());
  OrderRepository& repo = core_->repo();
  auto idem_guard = repo.store().locks().Lock({"idem/" + key});

  auto earlier = repo.idempotency().Check(key, fingerprint);
  RPC_RETURN_IF_ERROR(earlier.status());
  if (earlier->has_value()) {
    auto order = repo.Get(**earlier);
    RPC_RETURN_IF_ERROR(order.status());
    if (!order->has_value()) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "idempotency record points to a missing order");
    }
    *response->mutable_order() = ViewFor(*principal, **order);
    response->set_created(false);
    response->set_linked_to_open_order((*order)->request_id() != request->request_id() ||
                                       (*order)->created_by() != principal->id);
    return grpc::Status::OK;
  }

  auto policy = core_->policy().Current();
  auto same_serial = repo.BySerial(request->appliance().serial(), 50);
  RPC_RETURN_IF_ERROR(same_serial.status());
  if (auto open = domain::OpenOrderOf(*same_serial)) {
    auto linked = LinkToOpenOrder(open->order_id(), *request, *principal, key, fingerprint);
    RPC_RETURN_IF_ERROR(linked.status());
    *response->mutable_order() = ViewFor(*principal, *linked);
    response->set_created(false);
    response->set_linked_to_open_order(true);
    return grpc::Status::OK;
  }

  v1::WorkOrder order = domain::NewOrder(*request, NewOrderId(), principal->id, now);
  std::optional<v1::WorkOrder> reworked = domain::ReworkOf(
      *same_serial, now, rpc::FromProto(policy->rework_window()));
  if (reworked) {
    order.set_is_rework(true);
    order.set_rework_of_order_id(reworked->order_id());
    order.set_rework_of_engineer_id(reworked->assignment().engineer_id());
  }

  // A five-star right the customer holds raises this order one level.
  std::optional<v1::CompensationEntry> right;
  auto rights = repo.ListLedger(order.customer_id(), "", "", 200);
  RPC_RETURN_IF_ERROR(rights.status());
  for (const auto& e : rights->entries) {
    if (e.reason() == v1::COMPENSATION_REASON_PRIORITY_SERVICE_RIGHT &&
        e.state() == v1::COMPENSATION_STATE_GRANTED) {
      right = e;
    }
  }
  const v1::RegionPolicy region = domain::RegionFor(*policy, order.service_area().region_code());
  domain::PriorityInput input;
  input.fault_text = order.fault().description();
  input.fault_code = order.fault().fault_code();
  input.appliance_category = order.appliance().category();
  input.tier = order.customer().tier();
  input.is_rework = order.is_rework();
  input.local_month = LocalMonth(region, now);
  input.has_priority_right = right.has_value();
  v1::PriorityDecision decision = domain::DecidePriority(input, policy->priority(), policy->ref());
  *decision.mutable_decided_by()->mutable_server_time() = rpc::ToProto(now);
  order.set_priority(decision.priority());
  *order.mutable_priority_decision() = decision;
  *order.add_priority_changes() = decision;
  RPC_RETURN_IF_ERROR(domain::StartClocks(order, *policy, now));

  store::Batch batch;
  std::vector<v1::Event> events;  // not `= {...}`: an initializer list copies
  events.push_back(domain::OrderCreatedEvent(order, now));
  std::vector<v1::CompensationEntry> ledger;
  if (right && domain::UsesPriorityRight(decision)) {
    right->set_state(v1::COMPENSATION_STATE_CONSUMED);
    right->set_consumed_by_order_id(order.order_id());
    ledger.push_back(*right);
  }
  RPC_RETURN_IF_ERROR(
      repo.Stage(batch, nullptr, order, domain::NextSweep(order, *policy), std::move(events),
                 ledger));
  repo.idempotency().Remember(batch, key, fingerprint, order.order_id(), now);

  // The reworked order learns of its rework and the repair's warranty doubles.
  std::optional<store::KeyLocks::Guard> reworked_guard;
  std::optional<v1::WorkOrder> reworked_before;
  v1::WorkOrder reworked_after;
  std::vector<v1::Event> reworked_events;
  if (reworked) {
    reworked_guard.emplace(repo.Lock(reworked->order_id()));
    auto fresh = repo.Get(reworked->order_id());
    RPC_RETURN_IF_ERROR(fresh.status());
    if (fresh->has_value()) {
      reworked_before = **fresh;
      reworked_after = **fresh;
      reworked_after.add_rework_order_ids(order.order_id());
      const int32_t days = reworked_after.service_report().repair_warranty_days();
      std::vector<v1::CompensationEntry> grant;
      if (days > 0) {
        v1::CompensationEntry entry = domain::ReworkWarrantyCompensation(
            reworked_after, days, policy->compensation(), policy->ref(), now);
        bool known = false;
        for (const auto& c : reworked_after.compensations()) {
          known |= c.idempotency_key() == entry.idempotency_key();
        }
        if (!known) {
          *reworked_after.add_compensations() = entry;
          reworked_after.mutable_service_report()->set_repair_warranty_days(
              days * policy->compensation().rework_warranty_multiplier());
          v1::Event e = domain::OrderCreatedEvent(reworked_after, now);
          e.clear_order_created();
          e.set_subject_id(reworked_after.order_id());
          *e.mutable_compensation_granted()->mutable_entry() = entry;
          reworked_events.push_back(e);
          grant.push_back(entry);
        }
      }
      reworked_after.set_version(reworked_after.version() + 1);
      *reworked_after.mutable_updated_at() = rpc::ToProto(now);
      RPC_RETURN_IF_ERROR(repo.Stage(batch, &*reworked_before, reworked_after,
                                     domain::NextSweep(reworked_after, *policy),
                                     reworked_events, grant));
    }
  }
  batch.HoldUntilDone(std::move(idem_guard));
  if (reworked_guard) batch.HoldUntilDone(std::move(*reworked_guard));
  auto pending = std::make_unique<NewOrderCommit>();
  pending->batch = std::move(batch);
  *response->mutable_order() = ViewFor(*principal, std::move(order));
  response->set_created(true);
  // Runs once the batch is durable. OrderCreated, the new order's only event
  // (moved into the batch, not copied: it holds the whole order), counts in
  // no metric; Observe counts the new order itself, from the reply's view of
  // it (which lacks only the contact, which Observe does not read).
  pending->on_committed = [this, response, reworked_before = std::move(reworked_before),
                           reworked_after = std::move(reworked_after),
                           reworked_events = std::move(reworked_events)]() {
    core_->metrics().Observe(nullptr, response->order(), {});
    if (reworked_before) {
      core_->metrics().Observe(&*reworked_before, reworked_after, reworked_events);
    }
  };
  *commit = std::move(pending);
  return grpc::Status::OK;
}

absl::StatusOr<v1::WorkOrder> IntakeServiceImpl::LinkToOpenOrder(
    const std::string& order_id, const v1::CreateOrderRequest& request,
    const auth::Principal& principal, const std::string& idempotency_key,
    const std::string& fingerprint) {
  const absl::Time now = core_->host().clock().Now();
  return core_->Update(
      order_id,
      [&](const v1::WorkOrder& order,
          const v1::IntakePolicy&) -> absl::StatusOr<domain::Change> {
        domain::Change change;
        change.order = order;
        if (change.order.linked_requests_size() < 100) {
          v1::LinkedRequest* link = change.order.add_linked_requests();
          link->set_request_id(request.request_id());
          link->set_principal_id(principal.id);
          link->set_channel(request.channel());
          *link->mutable_received_at() = rpc::ToProto(now);
        }
        change.order.set_version(order.version() + 1);
        *change.order.mutable_updated_at() = rpc::ToProto(now);
        return change;
      },
      [&](store::Batch& batch, const v1::WorkOrder&) {
        core_->repo().idempotency().Remember(batch, idempotency_key, fingerprint,
                                             order_id, now);
      });
}

grpc::Status IntakeServiceImpl::GetOrder(grpc::ServerContext* context,
                                         const v1::GetOrderRequest* request,
                                         v1::WorkOrder* response) {
  auto principal = Authorize(*context, kEveryRole);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto order = LoadVisible(core_->repo(), *principal, request->order_id());
  RPC_RETURN_IF_ERROR(order.status());
  *response = ViewFor(*principal, *std::move(order));
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::ListOrders(grpc::ServerContext* context,
                                           const v1::ListOrdersRequest* request,
                                           v1::ListOrdersResponse* response) {
  auto principal = Authorize(*context, kEveryRole);
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  v.Check("states", request->states_size() <= 17, "at most 17");
  for (int i = 0; i < request->states_size(); ++i) {
    v.Enum(absl::StrCat("states[", i, "]"), request->states(i),
           v1::OrderState_IsValid(request->states(i)));
  }
  v.Check("priority", v1::Priority_IsValid(request->priority()), "unknown value")
      .Check("order_type", v1::OrderType_IsValid(request->order_type()), "unknown value")
      .Text("region_code", request->region_code(), 32, false)
      .Text("customer_id", request->customer_id(), 64, false)
      .Text("engineer_id", request->engineer_id(), 64, false)
      .Text("partner_id", request->partner_id(), 64, false);
  RPC_RETURN_IF_ERROR(v.status());
  RPC_RETURN_IF_ERROR(ValidateTimeRange("created", request->created()));
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());

  v1::ListOrdersRequest filter = *request;
  // Partners and engineers list only their own orders.
  if (principal->role == Role::kPartner) {
    if (!filter.partner_id().empty() && filter.partner_id() != principal->partner_id) {
      core_->metrics().SecurityIncident("scope_violation");
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "partner_id: another partner's orders");
    }
    filter.set_partner_id(principal->partner_id);
  } else if (principal->role == Role::kEngineer) {
    if (!filter.engineer_id().empty() && filter.engineer_id() != principal->engineer_id) {
      core_->metrics().SecurityIncident("scope_violation");
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "engineer_id: another engineer's orders");
    }
    filter.set_engineer_id(principal->engineer_id);
  }
  const auth::Principal who = *principal;
  auto result = core_->repo().List(
      filter, [&who](const v1::WorkOrder& o) { return MaySee(who, o); }, page->after_key,
      page->size);
  RPC_RETURN_IF_ERROR(result.status());
  for (auto& o : result->orders) {
    v1::WorkOrder view = ViewFor(who, std::move(o));
    view.clear_transitions();  // GetOrder / GetOrderTimeline have them
    *response->add_orders() = std::move(view);
  }
  response->set_next_page_token(rpc::NextPageToken(result->last_key));
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::ChangePriority(grpc::ServerContext* context,
                                               const v1::ChangePriorityRequest* request,
                                               v1::WorkOrder* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Id("order_id", request->order_id(), 64)
          .Enum("priority", request->priority(), v1::Priority_IsValid(request->priority()))
          .Text("reason", request->reason(), 1000, true)
          .status());
  auto order = core_->Update(
      request->order_id(),
      [&](const v1::WorkOrder& o,
          const v1::IntakePolicy& policy) -> absl::StatusOr<domain::Change> {
        if (request->expected_version() != 0 && o.version() != request->expected_version()) {
          return absl::AbortedError(absl::StrCat("expected_version: order is at version ",
                                                 o.version()));
        }
        domain::Context ctx;
        ctx.now = core_->host().clock().Now();
        ctx.actor.set_principal_id(principal->id);
        ctx.actor.set_role(RoleOf(principal->role));
        ctx.actor.set_reason(request->reason());
        ctx.policy = &policy;
        return domain::ChangePriority(o, request->priority(),
                                      v1::PRIORITY_REASON_MANUAL_CHANGE, ctx);
      });
  RPC_RETURN_IF_ERROR(order.status());
  *response = ViewFor(*principal, *std::move(order));
  return grpc::Status::OK;
}

absl::StatusOr<v1::ReportProgressResponse> IntakeServiceImpl::Report(
    const auth::Principal& principal, const v1::ProgressReport& report) {
  if (absl::Status s = domain::ValidateProgressReport(report); !s.ok()) return s;
  if (principal.role == Role::kEngineer && !report.engineer_id().empty() &&
      report.engineer_id() != principal.engineer_id) {
    return absl::PermissionDeniedError("report.engineer_id: not the calling engineer");
  }
  v1::ReportProgressResponse response;
  v1::ProgressResult* result = response.mutable_result();
  result->set_client_event_id(report.client_event_id());
  result->set_order_id(report.order_id());

  bool duplicate = false;
  auto order = core_->Update(
      report.order_id(),
      [&](const v1::WorkOrder& o,
          const v1::IntakePolicy& policy) -> absl::StatusOr<domain::Change> {
        if (!MaySee(principal, o)) return absl::NotFoundError("report.order_id: no such order");
        auto applied = core_->repo().ProgressResultOf(o.order_id(), report.client_event_id());
        if (!applied.ok()) return applied.status();
        if (applied->has_value()) {
          // Already applied (a retry or a replayed offline batch): no change.
          duplicate = true;
          return absl::AbortedError("duplicate");
        }
        if (absl::Status s = MayReport(principal, o, domain::MilestoneOf(report)); !s.ok()) {
          return s;
        }
        domain::Context ctx;
        ctx.now = core_->host().clock().Now();
        ctx.actor.set_principal_id(principal.id);
        ctx.actor.set_role(RoleOf(principal.role));
        if (report.has_device_time()) {
          *ctx.actor.mutable_device_time() = report.device_time();
        }
        ctx.policy = &policy;
        return domain::ApplyProgress(o, report, ctx);
      },
      [&](store::Batch& batch, const v1::WorkOrder& after) {
        result->set_code(v1::PROGRESS_RESULT_CODE_APPLIED);
        result->set_state_after(after.state());
        result->set_order_version(after.version());
        core_->repo().StageProgressResult(batch, *result);
      });
  if (duplicate) {
    auto current = core_->repo().Get(report.order_id());
    if (!current.ok()) return current.status();
    if (!current->has_value()) return absl::NotFoundError("report.order_id: no such order");
    result->set_code(v1::PROGRESS_RESULT_CODE_DUPLICATE);
    result->set_state_after((*current)->state());
    result->set_order_version((*current)->version());
    *response.mutable_order() = ViewFor(principal, **current);
    return response;
  }
  if (!order.ok()) {
    if (order.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("report.order_id: no such order");
    }
    return order.status();
  }
  *response.mutable_order() = ViewFor(principal, *std::move(order));
  return response;
}

grpc::Status IntakeServiceImpl::ReportProgress(grpc::ServerContext* context,
                                               const v1::ReportProgressRequest* request,
                                               v1::ReportProgressResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kApp, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  if (!request->has_report()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "report: required");
  }
  auto result = Report(*principal, request->report());
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::SyncOfflineReports(
    grpc::ServerContext* context, const v1::SyncOfflineReportsRequest* request,
    v1::SyncOfflineReportsResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("device_id", request->device_id(), 64)
                          .Check("reports",
                                 request->reports_size() >= 1 &&
                                     request->reports_size() <= 500,
                                 "1..500 reports")
                          .status());
  // Every report must at least be well-formed before any applies: a batch
  // with garbage in it is the client's bug, not a partial sync.
  for (int i = 0; i < request->reports_size(); ++i) {
    RPC_RETURN_IF_ERROR(domain::ValidateProgressReport(
        request->reports(i), absl::StrCat("reports[", i, "]")));
  }
  std::set<std::string> rejected_orders;
  for (const auto& report : request->reports()) {
    v1::ProgressResult* r = response->add_results();
    r->set_client_event_id(report.client_event_id());
    r->set_order_id(report.order_id());
    if (rejected_orders.count(report.order_id())) {
      r->set_code(v1::PROGRESS_RESULT_CODE_SKIPPED);
      r->set_status_code(static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
      r->set_message("an earlier report of this order in the batch was rejected");
      continue;
    }
    auto applied = Report(*principal, report);
    if (applied.ok()) {
      *r = applied->result();
      continue;
    }
    rejected_orders.insert(report.order_id());
    r->set_code(v1::PROGRESS_RESULT_CODE_REJECTED);
    r->set_status_code(static_cast<int>(applied.status().code()));
    r->set_message(std::string(applied.status().message()));
  }
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::WatchOrder(grpc::ServerContext* context,
                                           const v1::WatchOrderRequest* request,
                                           grpc::ServerWriter<v1::OrderUpdate>* writer) {
  auto principal = Authorize(*context, {Role::kApp, Role::kAgent, Role::kPartner,
                                        Role::kEngineer, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  uint64_t sent = request->after_version();
  store::Store& store = core_->repo().store();
  const absl::Duration heartbeat =
      std::max(absl::Seconds(1), rpc::FromProto(core_->policy().Current()->watch_heartbeat()));
  absl::Time last_send = absl::Now();
  while (!context->IsCancelled() && !core_->host().stop().stopped()) {
    const uint64_t head = store.HeadSeq();
    auto order = LoadVisible(core_->repo(), *principal, request->order_id());
    RPC_RETURN_IF_ERROR(order.status());
    if (order->version() > sent) {
      if (!writer->Write(UpdateOf(*order))) break;
      sent = order->version();
      last_send = absl::Now();
      if (domain::IsTerminal(order->state())) break;
    } else if (absl::Now() - last_send >= heartbeat) {
      v1::OrderUpdate beat;
      beat.set_order_id(request->order_id());
      beat.set_heartbeat(true);
      if (!writer->Write(beat)) break;
      last_send = absl::Now();
    }
    // Every change of an order commits an event, so a new event is the cue
    // to look again.
    store.WaitForEvents(head, absl::Milliseconds(500));
  }
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::GetOrderTimeline(grpc::ServerContext* context,
                                                 const v1::GetOrderTimelineRequest* request,
                                                 v1::OrderTimeline* response) {
  auto principal = Authorize(*context, kEveryRole);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto order = LoadVisible(core_->repo(), *principal, request->order_id());
  RPC_RETURN_IF_ERROR(order.status());
  const v1::WorkOrder& o = *order;
  response->set_order_id(o.order_id());
  *response->mutable_transitions() = o.transitions();
  *response->mutable_priority_changes() = o.priority_changes();
  *response->mutable_sla_clocks() = o.sla_clocks();

  // The five steps, from the first transition that ends each.
  auto first = [&](std::initializer_list<v1::OrderState> states)
      -> std::optional<google::protobuf::Timestamp> {
    for (const auto& t : o.transitions()) {
      if (t.from_state() == t.to_state()) continue;
      for (auto s : states) {
        if (t.to_state() == s) return t.actor().server_time();
      }
    }
    return std::nullopt;
  };
  auto add_step = [&](v1::LoopStep step, std::optional<google::protobuf::Timestamp> start,
                      std::optional<google::protobuf::Timestamp> end) {
    if (!start) return;
    v1::LoopStepDuration* d = response->add_steps();
    d->set_step(step);
    *d->mutable_started_at() = *start;
    const absl::Time until = end ? rpc::FromProto(*end) : core_->host().clock().Now();
    if (end) *d->mutable_ended_at() = *end;
    *d->mutable_elapsed() = rpc::ToProto(
        std::max(absl::ZeroDuration(), until - rpc::FromProto(*start)));
  };
  const auto created = std::optional<google::protobuf::Timestamp>(o.created_at());
  const auto contacted = first({v1::ORDER_STATE_CONTACTED});
  std::optional<google::protobuf::Timestamp> assigned;
  if (o.assignment().has_assigned_at()) assigned = o.assignment().assigned_at();
  const auto on_site = first({v1::ORDER_STATE_ON_SITE, v1::ORDER_STATE_REMOTE_SESSION});
  const auto repaired = first({v1::ORDER_STATE_REPAIRED});
  const auto followed = first({v1::ORDER_STATE_FOLLOWED_UP});
  add_step(v1::LOOP_STEP_INTAKE, created, contacted);
  add_step(v1::LOOP_STEP_DISPATCH, created, assigned);
  add_step(v1::LOOP_STEP_ON_SITE, assigned, on_site);
  add_step(v1::LOOP_STEP_REPAIR, on_site, repaired);
  add_step(v1::LOOP_STEP_FOLLOW_UP, repaired, followed);
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::ListCompensations(
    grpc::ServerContext* context, const v1::ListCompensationsRequest* request,
    v1::ListCompensationsResponse* response) {
  auto principal = Authorize(
      *context, {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Text("customer_id", request->customer_id(), 64, false)
          .Text("order_id", request->order_id(), 64, false)
          .Check("reason", v1::CompensationReason_IsValid(request->reason()),
                 "unknown value")
          .status());
  RPC_RETURN_IF_ERROR(ValidateTimeRange("granted", request->granted()));
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  auto entries = core_->repo().ListLedger(request->customer_id(), request->order_id(),
                                          page->after_key, page->size);
  RPC_RETURN_IF_ERROR(entries.status());
  for (const auto& e : entries->entries) {
    if (request->reason() != v1::COMPENSATION_REASON_UNSPECIFIED &&
        e.reason() != request->reason()) {
      continue;
    }
    if (!request->customer_id().empty() && e.customer_id() != request->customer_id()) {
      continue;
    }
    const absl::Time t = rpc::FromProto(e.granted_at());
    if (request->granted().has_start() && t < rpc::FromProto(request->granted().start())) {
      continue;
    }
    if (request->granted().has_end() && t >= rpc::FromProto(request->granted().end())) {
      continue;
    }
    *response->add_entries() = e;
  }
  response->set_next_page_token(rpc::NextPageToken(entries->last_key));
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::GetCustomerLedger(
    grpc::ServerContext* context, const v1::GetCustomerLedgerRequest* request,
    v1::CustomerLedger* response) {
  auto principal = Authorize(
      *context, {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      rpc::Validator().Id("customer_id", request->customer_id(), 64).status());
  auto entries = core_->repo().ListLedger(request->customer_id(), "", "", 1000);
  RPC_RETURN_IF_ERROR(entries.status());
  response->set_customer_id(request->customer_id());
  std::map<std::string, int64_t> money;
  for (const auto& e : entries->entries) {
    *response->add_entries() = e;
    if (e.state() != v1::COMPENSATION_STATE_GRANTED &&
        e.state() != v1::COMPENSATION_STATE_CONSUMED) {
      continue;
    }
    const auto& v = e.value();
    response->set_points_total(response->points_total() + v.points());
    response->set_extended_warranty_days_total(response->extended_warranty_days_total() +
                                               v.extended_warranty_days());
    if (v.has_money()) money[v.money().currency_code()] += v.money().amount_minor();
    if (e.reason() == v1::COMPENSATION_REASON_PRIORITY_SERVICE_RIGHT &&
        e.state() == v1::COMPENSATION_STATE_GRANTED) {
      response->set_open_priority_rights(response->open_priority_rights() + 1);
    }
  }
  for (const auto& [currency, amount] : money) {
    v1::Money* m = response->add_money_totals();
    m->set_currency_code(currency);
    m->set_amount_minor(amount);
  }
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::GetPolicy(grpc::ServerContext* context,
                                          const v1::GetPolicyRequest* request,
                                          v1::IntakePolicySnapshot* response) {
  auto principal = Authorize(*context, {Role::kAdmin, Role::kAuditor, Role::kService});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerGetPolicy(core_->policy(), *request, response));
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::ReloadPolicy(grpc::ServerContext* context,
                                             const v1::ReloadPolicyRequest* request,
                                             v1::ReloadPolicyResponse* response) {
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerReloadPolicy(core_->policy(), *request,
                                                 core_->host().clock().Now(), response));
  return grpc::Status::OK;
}

}  // namespace aftersales::intake
