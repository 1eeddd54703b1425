#include "complaint/complaint_service.h"

#include <map>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "complaint/domain/grading.h"
#include "complaint/domain/stats.h"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::complaint {
namespace {

using auth::Role;

constexpr absl::Duration kMaxStatsWindow = absl::Hours(24 * 366);

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

v1::Actor ActorOf(const auth::Principal& p, const std::string& reason) {
  v1::Actor a;
  a.set_principal_id(p.id);
  a.set_role(RoleOf(p.role));
  a.set_reason(reason);
  return a;
}

bool NotBlank(const std::string& s) { return !absl::StripAsciiWhitespace(s).empty(); }

absl::Status ValidateTimeRange(absl::string_view field, const v1::TimeRange& r) {
  if (r.has_start() && r.has_end() && rpc::FromProto(r.end()) <= rpc::FromProto(r.start())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": end must be after start"));
  }
  return absl::OkStatus();
}

}  // namespace

bool MaySee(const auth::Principal& p, const v1::Complaint& c) {
  switch (p.role) {
    case Role::kPartner:
      return !c.partner_id().empty() && c.partner_id() == p.partner_id;
    case Role::kEngineer:
      return false;
    default:
      return true;
  }
}

v1::Complaint ViewFor(const auth::Principal& p, v1::Complaint c) {
  switch (p.role) {
    case Role::kAgent:
    case Role::kApp:
    case Role::kService:
    case Role::kAdmin:
      break;
    default:
      c.clear_text();
  }
  return c;
}

ComplaintServiceImpl::ComplaintServiceImpl(ComplaintCore* core) : core_(core) {}

absl::StatusOr<auth::Principal> ComplaintServiceImpl::Authorize(
    const grpc::ServerContext& context, std::initializer_list<Role> roles) const {
  return rpc::AuthorizeCall(context, core_->host().tokens(), roles);
}

grpc::Status ComplaintServiceImpl::FileComplaint(grpc::ServerContext* context,
                                                 const v1::FileComplaintRequest* request,
                                                 v1::FileComplaintResponse* response) {
  auto principal = Authorize(
      *context, {Role::kAgent, Role::kApp, Role::kPartner, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateFileRequest(*request));
  auto filed = core_->File(*request, principal->id, ActorOf(*principal, ""));
  RPC_RETURN_IF_ERROR(filed.status());
  *response->mutable_complaint() = ViewFor(*principal, std::move(filed->complaint));
  response->set_created(filed->created);
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::GetComplaint(grpc::ServerContext* context,
                                                const v1::GetComplaintRequest* request,
                                                v1::Complaint* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kPartner,
                                        Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("complaint_id", request->complaint_id(), 64).status());
  auto c = core_->repo().Get(request->complaint_id());
  RPC_RETURN_IF_ERROR(c.status());
  // Someone else's complaint answers like a missing one: no existence oracle.
  if (!c->has_value() || !MaySee(*principal, **c)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "complaint_id: no such complaint");
  }
  *response = ViewFor(*principal, **std::move(c));
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::ListComplaints(grpc::ServerContext* context,
                                                  const v1::ListComplaintsRequest* request,
                                                  v1::ListComplaintsResponse* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kPartner,
                                        Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  if (!request->order_id().empty()) v.Id("order_id", request->order_id(), 64);
  if (!request->customer_id().empty()) v.Id("customer_id", request->customer_id(), 64);
  v.Check("grade", v1::ComplaintGrade_IsValid(request->grade()), "unknown value")
      .Check("state", v1::ComplaintState_IsValid(request->state()), "unknown value")
      .Check("category", v1::ComplaintCategory_IsValid(request->category()), "unknown value");
  if (!request->region_code().empty()) v.Id("region_code", request->region_code(), 32);
  if (!request->partner_id().empty()) v.Id("partner_id", request->partner_id(), 64);
  RPC_RETURN_IF_ERROR(v.status());
  RPC_RETURN_IF_ERROR(ValidateTimeRange("created", request->created()));
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());

  v1::ListComplaintsRequest filter = *request;
  if (principal->role == Role::kPartner) {
    if (!filter.partner_id().empty() && filter.partner_id() != principal->partner_id) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "partner_id: another partner's complaints");
    }
    filter.set_partner_id(principal->partner_id);
  }
  const auth::Principal who = *principal;
  auto result = core_->repo().List(
      filter, [&who](const v1::Complaint& c) { return MaySee(who, c); }, page->after_key,
      page->size);
  RPC_RETURN_IF_ERROR(result.status());
  for (auto& c : result->complaints) {
    v1::Complaint view = ViewFor(who, std::move(c));
    view.clear_transitions();  // GetComplaint has them
    *response->add_complaints() = std::move(view);
  }
  response->set_next_page_token(rpc::NextPageToken(result->last_key));
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::Step(
    const auth::Principal& principal, const std::string& complaint_id, const std::string& reason,
    const std::function<absl::StatusOr<domain::Change>(const v1::Complaint&,
                                                       const domain::Context&)>& step,
    v1::Complaint* response) {
  auto updated = core_->Update(
      complaint_id,
      [&](const v1::Complaint& c,
          const v1::ComplaintPolicy& policy) -> absl::StatusOr<domain::Change> {
        if (!MaySee(principal, c)) return absl::NotFoundError("complaint_id: no such complaint");
        domain::Context ctx{core_->host().clock().Now(), ActorOf(principal, reason), &policy};
        return step(c, ctx);
      });
  RPC_RETURN_IF_ERROR(updated.status());
  *response = ViewFor(principal, *std::move(updated));
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::Acknowledge(grpc::ServerContext* context,
                                               const v1::AcknowledgeComplaintRequest* request,
                                               v1::Complaint* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  v.Id("complaint_id", request->complaint_id(), 64);
  if (!request->owner_id().empty()) v.Id("owner_id", request->owner_id(), 64);
  v.Text("note", request->note(), 2000, false);
  RPC_RETURN_IF_ERROR(v.status());
  return Step(*principal, request->complaint_id(), request->note(),
              [&](const v1::Complaint& c, const domain::Context& ctx) {
                return domain::Acknowledge(c, request->owner_id(), request->note(), ctx);
              },
              response);
}

grpc::Status ComplaintServiceImpl::StartInvestigation(
    grpc::ServerContext* context, const v1::StartInvestigationRequest* request,
    v1::Complaint* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("complaint_id", request->complaint_id(), 64)
                          .Text("note", request->note(), 2000, false)
                          .status());
  return Step(*principal, request->complaint_id(), request->note(),
              [&](const v1::Complaint& c, const domain::Context& ctx) {
                return domain::StartInvestigation(c, request->note(), ctx);
              },
              response);
}

grpc::Status ComplaintServiceImpl::Resolve(grpc::ServerContext* context,
                                           const v1::ResolveComplaintRequest* request,
                                           v1::Complaint* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateResolveRequest(*request));
  return Step(*principal, request->complaint_id(), "",
              [&](const v1::Complaint& c, const domain::Context& ctx) {
                return domain::Resolve(c, request->investigation(), request->resolution(), ctx);
              },
              response);
}

grpc::Status ComplaintServiceImpl::Close(grpc::ServerContext* context,
                                         const v1::CloseComplaintRequest* request,
                                         v1::Complaint* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("complaint_id", request->complaint_id(), 64)
                          .Check("customer_confirmed", request->customer_confirmed(),
                                 "must be true: a complaint closes on the customer's "
                                 "confirmation")
                          .Text("note", request->note(), 2000, false)
                          .status());
  return Step(*principal, request->complaint_id(), request->note(),
              [&](const v1::Complaint& c, const domain::Context& ctx) {
                return domain::Close(c, request->note(), ctx);
              },
              response);
}

grpc::Status ComplaintServiceImpl::Reopen(grpc::ServerContext* context,
                                          const v1::ReopenComplaintRequest* request,
                                          v1::Complaint* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("complaint_id", request->complaint_id(), 64)
                          .Text("reason", request->reason(), 2000, true)
                          .Check("reason", request->reason().empty() || NotBlank(request->reason()),
                                 "must not be blank")
                          .status());
  return Step(*principal, request->complaint_id(), request->reason(),
              [&](const v1::Complaint& c, const domain::Context& ctx) {
                return domain::Reopen(c, request->reason(), ctx);
              },
              response);
}

grpc::Status ComplaintServiceImpl::ExplainGrade(grpc::ServerContext* context,
                                                const v1::ExplainGradeRequest* request,
                                                v1::GradingResult* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kPartner, Role::kService,
                                        Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("complaint_id", request->complaint_id(), 64).status());
  auto c = core_->repo().Get(request->complaint_id());
  RPC_RETURN_IF_ERROR(c.status());
  if (!c->has_value() || !MaySee(*principal, **c)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "complaint_id: no such complaint");
  }
  *response = (*c)->grading();
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::GradeText(grpc::ServerContext* context,
                                             const v1::GradeTextRequest* request,
                                             v1::GradingResult* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  v.Text("text", request->text(), 8000, true)
      .Check("text", request->text().empty() || NotBlank(request->text()), "must not be blank")
      .Check("category", v1::ComplaintCategory_IsValid(request->category()), "unknown value")
      .Check("customer_tier", v1::CustomerTier_IsValid(request->customer_tier()),
             "unknown value")
      .Check("channel", v1::ComplaintChannel_IsValid(request->channel()), "unknown value");
  if (!request->customer_id().empty()) v.Id("customer_id", request->customer_id(), 64);
  if (!request->order_id().empty()) v.Id("order_id", request->order_id(), 64);
  v.Text("appliance_model", request->appliance_model(), 64, false);
  RPC_RETURN_IF_ERROR(v.status());
  auto result = core_->GradePreview(*request);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::GetComplaintStats(grpc::ServerContext* context,
                                                     const v1::GetComplaintStatsRequest* request,
                                                     v1::GetComplaintStatsResponse* response) {
  auto principal =
      Authorize(*context, {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  const auto& w = request->window();
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Enum("dimension", request->dimension(),
                v1::ComplaintStatsDimension_IsValid(request->dimension()))
          .Check("window", request->has_window(), "required")
          .Check("window.start", !request->has_window() || w.has_start(), "required")
          .Check("window.end", !request->has_window() || w.has_end(), "required")
          .status());
  const absl::Time start = rpc::FromProto(w.start());
  const absl::Time end = rpc::FromProto(w.end());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Check("window.end", end > start, "must be after window.start")
                          .Check("window", end - start <= kMaxStatsWindow, "at most 366 days")
                          .status());

  // Region and partner come from the order as complaint knows it now (a
  // partner is often assigned after the complaint was filed).
  std::map<std::string, std::optional<v1::LinkedOrderContext>> orders;
  auto order_of = [&](const v1::Complaint& c) -> absl::StatusOr<const v1::LinkedOrderContext*> {
    if (c.order_id().empty()) return nullptr;
    auto it = orders.find(c.order_id());
    if (it == orders.end()) {
      auto ctx = core_->repo().OrderContext(c.order_id());
      if (!ctx.ok()) return ctx.status();
      it = orders.emplace(c.order_id(), *std::move(ctx)).first;
    }
    return it->second ? &*it->second : nullptr;
  };
  std::vector<v1::Complaint> complaints;
  std::vector<domain::StatsEntry> entries;
  RPC_RETURN_IF_ERROR(core_->repo().ForEachCreated(start, end, [&](const v1::Complaint& c) {
    complaints.push_back(c);
    return true;
  }));
  for (const v1::Complaint& c : complaints) {
    std::string key;
    switch (request->dimension()) {
      case v1::COMPLAINT_STATS_DIMENSION_CATEGORY:
        key = domain::CategoryKey(c.category());
        break;
      case v1::COMPLAINT_STATS_DIMENSION_REGION:
      case v1::COMPLAINT_STATS_DIMENSION_PARTNER: {
        auto order = order_of(c);
        RPC_RETURN_IF_ERROR(order.status());
        const bool region = request->dimension() == v1::COMPLAINT_STATS_DIMENSION_REGION;
        if (*order != nullptr) key = region ? (*order)->region_code() : (*order)->partner_id();
        if (key.empty()) key = region ? c.region_code() : c.partner_id();
        if (key.empty()) key = domain::kNoKey;
        break;
      }
      default:
        break;
    }
    entries.push_back({&c, key});
  }
  std::map<std::string, int64_t> order_counts;
  for (const auto& e : entries) {
    if (order_counts.count(e.key) || e.key == domain::kNoKey) continue;
    absl::StatusOr<int64_t> n;
    switch (request->dimension()) {
      case v1::COMPLAINT_STATS_DIMENSION_CATEGORY:
        n = core_->repo().CountOrders("all", "", start, end);
        break;
      case v1::COMPLAINT_STATS_DIMENSION_REGION:
        n = core_->repo().CountOrders("region", e.key, start, end);
        break;
      default:
        n = core_->repo().CountOrders("partner", e.key, start, end);
        break;
    }
    RPC_RETURN_IF_ERROR(n.status());
    order_counts[e.key] = *n;
  }
  for (auto& row : domain::ComputeStats(entries, order_counts)) {
    *response->add_rows() = std::move(row);
  }
  *response->mutable_computed_at() = rpc::ToProto(core_->host().clock().Now());
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::GetPolicy(grpc::ServerContext* context,
                                             const v1::GetPolicyRequest* request,
                                             v1::ComplaintPolicySnapshot* response) {
  auto principal =
      Authorize(*context, {Role::kAgent, Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerGetPolicy(core_->policy(), *request, response));
  return grpc::Status::OK;
}

grpc::Status ComplaintServiceImpl::ReloadPolicy(grpc::ServerContext* context,
                                                const v1::ReloadPolicyRequest* request,
                                                v1::ReloadPolicyResponse* response) {
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerReloadPolicy(core_->policy(), *request,
                                                 core_->host().clock().Now(), response));
  return grpc::Status::OK;
}

}  // namespace aftersales::complaint
