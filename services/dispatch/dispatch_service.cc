#include "dispatch/dispatch_service.h"

#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::dispatch {
namespace {

using auth::Role;

constexpr std::initializer_list<Role> kReaders = {Role::kAgent, Role::kService, Role::kAdmin,
                                                  Role::kAuditor};

// Partners act on their own engineers only; engineers on themselves.
absl::Status MayManageEngineer(const auth::Principal& p, const std::string& partner_id,
                               const std::string& engineer_id) {
  if (p.role == Role::kPartner && p.partner_id != partner_id) {
    return absl::PermissionDeniedError("engineer: belongs to another partner");
  }
  if (p.role == Role::kEngineer && p.engineer_id != engineer_id) {
    return absl::PermissionDeniedError("engineer_id: not the calling engineer");
  }
  return absl::OkStatus();
}

absl::Status ValidateGeo(absl::string_view field, const v1::GeoPoint& p) {
  return rpc::Validator()
      .Range(absl::StrCat(field, ".lat_deg"), p.lat_deg(), -90, 90)
      .Range(absl::StrCat(field, ".lng_deg"), p.lng_deg(), -180, 180)
      .status();
}

}  // namespace

DispatchServiceImpl::DispatchServiceImpl(Dispatcher* dispatcher) : d_(dispatcher) {}

absl::StatusOr<auth::Principal> DispatchServiceImpl::Authorize(
    const grpc::ServerContext& context, std::initializer_list<Role> roles) const {
  return rpc::AuthorizeCall(context, d_->host().tokens(), roles);
}

grpc::Status DispatchServiceImpl::GetDispatchOrder(grpc::ServerContext* context,
                                                   const v1::GetDispatchOrderRequest* request,
                                                   v1::DispatchOrder* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto order = d_->GetOrder(request->order_id());
  RPC_RETURN_IF_ERROR(order.status());
  if (!order->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "order_id: dispatch has no such order");
  }
  *response = **order;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ListDispatchOrders(
    grpc::ServerContext* context, const v1::ListDispatchOrdersRequest* request,
    v1::ListDispatchOrdersResponse* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  if (!v1::DispatchState_IsValid(request->state())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "state: unknown value");
  }
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  auto result = d_->ListOrders(request->state(), page->after_key, page->size);
  RPC_RETURN_IF_ERROR(result.status());
  for (auto& o : result->records) *response->add_orders() = std::move(o);
  response->set_next_page_token(rpc::NextPageToken(result->last_key));
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::UpsertPartner(grpc::ServerContext* context,
                                                const v1::UpsertPartnerRequest* request,
                                                v1::Partner* response) {
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  const v1::Partner& p = request->partner();
  rpc::Validator v;
  v.Check("partner", request->has_partner(), "required")
      .Id("partner.partner_id", p.partner_id(), 64)
      .Text("partner.name", p.name(), 128, true)
      .Check("partner.allowed_brands", p.allowed_brands_size() <= 200, "at most 200")
      .Check("partner.allowed_regions", p.allowed_regions_size() <= 2000, "at most 2000")
      .Range("partner.preference", p.preference(), 0, 1);
  for (int i = 0; i < p.allowed_brands_size(); ++i) {
    v.Text(absl::StrCat("partner.allowed_brands[", i, "]"), p.allowed_brands(i), 64, true);
  }
  for (int i = 0; i < p.allowed_regions_size(); ++i) {
    v.Id(absl::StrCat("partner.allowed_regions[", i, "]"), p.allowed_regions(i), 32);
  }
  RPC_RETURN_IF_ERROR(v.status());
  auto saved = d_->UpsertPartner(p);
  RPC_RETURN_IF_ERROR(saved.status());
  *response = *saved;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::GetPartner(grpc::ServerContext* context,
                                             const v1::GetPartnerRequest* request,
                                             v1::Partner* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kAgent, Role::kService,
                                        Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("partner_id", request->partner_id(), 64).status());
  auto partner = d_->GetPartner(request->partner_id());
  RPC_RETURN_IF_ERROR(partner.status());
  if (!partner->has_value() ||
      (principal->role == Role::kPartner && principal->partner_id != request->partner_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "partner_id: no such partner");
  }
  *response = **partner;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::RegisterEngineer(grpc::ServerContext* context,
                                                   const v1::RegisterEngineerRequest* request,
                                                   v1::Engineer* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  if (!request->has_engineer()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "engineer: required");
  }
  RPC_RETURN_IF_ERROR(domain::ValidateEngineer(request->engineer(), "engineer"));
  if (request->engineer().has_location()) {
    RPC_RETURN_IF_ERROR(ValidateGeo("engineer.location", request->engineer().location()));
  }
  RPC_RETURN_IF_ERROR(MayManageEngineer(*principal, request->engineer().partner_id(),
                                        request->engineer().engineer_id()));
  auto engineer = d_->RegisterEngineer(request->engineer());
  RPC_RETURN_IF_ERROR(engineer.status());
  *response = *engineer;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::UpdateEngineer(grpc::ServerContext* context,
                                                 const v1::UpdateEngineerRequest* request,
                                                 v1::Engineer* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  if (!request->has_engineer()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "engineer: required");
  }
  RPC_RETURN_IF_ERROR(domain::ValidateEngineer(request->engineer(), "engineer"));
  auto current = d_->GetEngineer(request->engineer().engineer_id());
  RPC_RETURN_IF_ERROR(current.status());
  if (!current->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "engineer.engineer_id: no such engineer");
  }
  RPC_RETURN_IF_ERROR(MayManageEngineer(*principal, (*current)->partner_id(),
                                        request->engineer().engineer_id()));
  auto engineer = d_->UpdateEngineer(*request);
  RPC_RETURN_IF_ERROR(engineer.status());
  *response = *engineer;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::SuspendEngineer(grpc::ServerContext* context,
                                                  const v1::SuspendEngineerRequest* request,
                                                  v1::Engineer* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("engineer_id", request->engineer_id(), 64)
                          .Text("reason", request->reason(), 500, true)
                          .status());
  auto engineer = d_->SuspendEngineer(request->engineer_id(), request->reinstate(),
                                      request->reason());
  RPC_RETURN_IF_ERROR(engineer.status());
  *response = *engineer;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::GetEngineer(grpc::ServerContext* context,
                                              const v1::GetEngineerRequest* request,
                                              v1::Engineer* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("engineer_id", request->engineer_id(), 64).status());
  auto engineer = d_->GetEngineer(request->engineer_id());
  RPC_RETURN_IF_ERROR(engineer.status());
  if (!engineer->has_value() ||
      !MayManageEngineer(*principal, (*engineer)->partner_id(), request->engineer_id()).ok()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "engineer_id: no such engineer");
  }
  *response = **engineer;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ListEngineers(grpc::ServerContext* context,
                                                const v1::ListEngineersRequest* request,
                                                v1::ListEngineersResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kAgent, Role::kService,
                                        Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Text("partner_id", request->partner_id(), 64, false)
          .Text("region_code", request->region_code(), 32, false)
          .Text("appliance_category", request->appliance_category(), 32, false)
          .Check("status", v1::EngineerStatus_IsValid(request->status()), "unknown value")
          .status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  v1::ListEngineersRequest filter = *request;
  if (principal->role == Role::kPartner) {
    if (!filter.partner_id().empty() && filter.partner_id() != principal->partner_id) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "partner_id: another partner's engineers");
    }
    filter.set_partner_id(principal->partner_id);
  }
  std::string last;
  for (auto& e : d_->ListEngineers(filter, page->after_key, page->size, &last)) {
    *response->add_engineers() = std::move(e);
  }
  response->set_next_page_token(rpc::NextPageToken(last));
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ReportLocation(grpc::ServerContext* context,
                                                 const v1::ReportLocationRequest* request,
                                                 v1::ReportLocationResponse* response) {
  auto principal = Authorize(*context, {Role::kEngineer, Role::kPartner, Role::kService,
                                        Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  const absl::Time now = d_->host().clock().Now();
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Id("engineer_id", request->engineer_id(), 64)
          .Check("location", request->has_location(), "required")
          .Check("reported_at", request->has_reported_at(), "required")
          .Check("reported_at",
                 rpc::FromProto(request->reported_at()) <= now + absl::Minutes(5),
                 "more than 5 minutes in the future")
          .Range("accuracy_m", request->accuracy_m(), 0, 1e6)
          .status());
  RPC_RETURN_IF_ERROR(ValidateGeo("location", request->location()));
  auto engineer = d_->GetEngineer(request->engineer_id());
  RPC_RETURN_IF_ERROR(engineer.status());
  if (!engineer->has_value() ||
      !MayManageEngineer(*principal, (*engineer)->partner_id(), request->engineer_id()).ok()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "engineer_id: no such engineer");
  }
  auto applied = d_->ReportLocation(*request);
  RPC_RETURN_IF_ERROR(applied.status());
  response->set_applied(*applied);
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::Recommend(grpc::ServerContext* context,
                                            const v1::RecommendRequest* request,
                                            v1::RecommendResponse* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("order_id", request->order_id(), 64)
                          .Range("limit", request->limit(), 0, 100)
                          .status());
  auto result = d_->Recommend(request->order_id(), request->limit(),
                              request->include_ineligible());
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::AcceptOffer(grpc::ServerContext* context,
                                              const v1::AcceptOfferRequest* request,
                                              v1::Offer* response) {
  auto principal = Authorize(*context, {Role::kEngineer, Role::kPartner, Role::kAgent,
                                        Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("offer_id", request->offer_id(), 64)
                          .Id("engineer_id", request->engineer_id(), 64)
                          .status());
  auto offer = d_->AcceptOffer(*principal, *request);
  RPC_RETURN_IF_ERROR(offer.status());
  *response = *offer;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::RejectOffer(grpc::ServerContext* context,
                                              const v1::RejectOfferRequest* request,
                                              v1::Offer* response) {
  auto principal = Authorize(*context, {Role::kEngineer, Role::kPartner, Role::kAgent,
                                        Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Id("offer_id", request->offer_id(), 64)
          .Id("engineer_id", request->engineer_id(), 64)
          .Enum("reason", request->reason(), v1::OfferRejectReason_IsValid(request->reason()))
          .Text("note", request->note(), 500, false)
          .status());
  auto offer = d_->RejectOffer(*principal, *request);
  RPC_RETURN_IF_ERROR(offer.status());
  *response = *offer;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::OverrideAssignment(
    grpc::ServerContext* context, const v1::OverrideAssignmentRequest* request,
    v1::DispatchOrder* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("order_id", request->order_id(), 64)
                          .Id("engineer_id", request->engineer_id(), 64)
                          .Text("reason", request->reason(), 1000, true)
                          .status());
  auto order = d_->OverrideAssignment(*principal, *request);
  RPC_RETURN_IF_ERROR(order.status());
  *response = *order;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::GetEta(grpc::ServerContext* context,
                                         const v1::GetEtaRequest* request,
                                         v1::EtaEstimate* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kService,
                                        Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto eta = d_->Eta(request->order_id());
  RPC_RETURN_IF_ERROR(eta.status());
  *response = *eta;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::RequestRemoteExpert(
    grpc::ServerContext* context, const v1::RequestRemoteExpertRequest* request,
    v1::RemoteExpertRequest* response) {
  auto principal = Authorize(*context, {Role::kEngineer, Role::kPartner, Role::kAgent,
                                        Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  rpc::Validator v;
  v.Id("order_id", request->order_id(), 64)
      .Id("request_id", request->request_id(), 128)
      .Text("reason", request->reason(), 1000, true);
  if (!request->engineer_id().empty()) v.Id("engineer_id", request->engineer_id(), 64);
  RPC_RETURN_IF_ERROR(v.status());
  if (principal->role == Role::kEngineer && request->engineer_id() != principal->engineer_id) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "engineer_id: not the calling engineer");
  }
  auto req = d_->RequestRemoteExpert(*request);
  RPC_RETURN_IF_ERROR(req.status());
  *response = *req;
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ListOffers(grpc::ServerContext* context,
                                             const v1::ListOffersRequest* request,
                                             v1::ListOffersResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kService, Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  v1::ListOffersRequest filter = *request;
  if (principal->role == Role::kPartner) {
    if (!filter.partner_id().empty() && filter.partner_id() != principal->partner_id) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "partner_id: another partner's offers");
    }
    filter.set_partner_id(principal->partner_id);
  } else if (principal->role == Role::kEngineer) {
    if (!filter.engineer_id().empty() && filter.engineer_id() != principal->engineer_id) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "engineer_id: another engineer's offers");
    }
    filter.set_engineer_id(principal->engineer_id);
  }
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Text("order_id", filter.order_id(), 64, false)
          .Text("engineer_id", filter.engineer_id(), 64, false)
          .Text("partner_id", filter.partner_id(), 64, false)
          .Check("order_id", !filter.order_id().empty() || !filter.engineer_id().empty() ||
                                 !filter.partner_id().empty(),
                 "one of order_id, engineer_id, partner_id is required")
          .Check("state", v1::OfferState_IsValid(filter.state()), "unknown value")
          .status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  std::string last;
  auto offers = d_->ListOffers(filter, page->after_key, page->size, &last);
  RPC_RETURN_IF_ERROR(offers.status());
  for (auto& o : *offers) *response->add_offers() = std::move(o);
  response->set_next_page_token(rpc::NextPageToken(last));
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ListUnassigned(grpc::ServerContext* context,
                                                 const v1::ListUnassignedRequest* request,
                                                 v1::ListUnassignedResponse* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(
      rpc::Validator().Text("region_code", request->region_code(), 32, false).status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  std::string last;
  auto entries = d_->ListUnassigned(request->region_code(), page->after_key, page->size, &last);
  RPC_RETURN_IF_ERROR(entries.status());
  for (auto& e : *entries) *response->add_entries() = std::move(e);
  response->set_next_page_token(rpc::NextPageToken(last));
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::WatchOffers(grpc::ServerContext* context,
                                              const v1::WatchOffersRequest* request,
                                              grpc::ServerWriter<v1::OfferFeedMessage>* writer) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("partner_id", request->partner_id(), 64)
                          .Text("engineer_id", request->engineer_id(), 64, false)
                          .status());
  if (principal->role == Role::kPartner && principal->partner_id != request->partner_id()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "partner_id: another partner's offers");
  }
  uint64_t cursor = request->after_cursor();
  if (cursor == 0) cursor = d_->FeedHead(request->partner_id());  // from now
  store::Store& store = d_->host().store();
  absl::Time last_send = absl::Now();
  while (!context->IsCancelled() && !d_->host().stop().stopped()) {
    const uint64_t head = store.HeadSeq();
    auto items = d_->Feed(request->partner_id(), cursor, 100);
    RPC_RETURN_IF_ERROR(items.status());
    // Offers made while applying intake's events are written before their
    // WAL sync (Store::CommitDeferred); a partner must never hold a cursor
    // that a machine crash could take back, so sync what was read first (a
    // no-op when nothing is pending).
    if (!items->empty()) RPC_RETURN_IF_ERROR(store.SyncDeferred());
    for (const auto& item : *items) {
      cursor = item.cursor();
      if (!request->engineer_id().empty() &&
          item.offer().engineer_id() != request->engineer_id()) {
        continue;
      }
      if (!writer->Write(item)) return grpc::Status::OK;
      last_send = absl::Now();
    }
    if (!items->empty()) continue;
    if (absl::Now() - last_send >= absl::Seconds(15)) {
      v1::OfferFeedMessage beat;
      beat.set_heartbeat(true);
      *beat.mutable_server_time() = rpc::ToProto(d_->host().clock().Now());
      if (!writer->Write(beat)) return grpc::Status::OK;
      last_send = absl::Now();
    }
    // Offer changes commit with an event, so a new event is the cue to look;
    // withdrawals have none, so look again after a short wait anyway.
    store.WaitForEvents(head, absl::Milliseconds(300));
  }
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::GetPolicy(grpc::ServerContext* context,
                                            const v1::GetPolicyRequest* request,
                                            v1::DispatchPolicySnapshot* response) {
  auto principal = Authorize(*context, {Role::kAdmin, Role::kAuditor, Role::kService});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerGetPolicy(d_->policy(), *request, response));
  return grpc::Status::OK;
}

grpc::Status DispatchServiceImpl::ReloadPolicy(grpc::ServerContext* context,
                                               const v1::ReloadPolicyRequest* request,
                                               v1::ReloadPolicyResponse* response) {
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerReloadPolicy(d_->policy(), *request,
                                                 d_->host().clock().Now(), response));
  return grpc::Status::OK;
}

}  // namespace aftersales::dispatch
