#include "parts/parts_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "parts/domain/placement.h"
#include "parts/domain/reservation.h"
#include "parts/domain/stock.h"
#include "parts/domain/validate.h"
#include "rpc/paging.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::parts {
namespace {

using auth::Role;

// Everyone who works with stock; the customer app does not.
constexpr std::initializer_list<Role> kReaders = {Role::kPartner, Role::kEngineer, Role::kAgent,
                                                  Role::kService, Role::kAdmin,   Role::kAuditor};
constexpr std::initializer_list<Role> kBackOffice = {Role::kAgent, Role::kService, Role::kAdmin,
                                                     Role::kAuditor};

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

Caller CallerOf(const auth::Principal& p) {
  Caller c;
  c.principal_id = p.id;
  c.role = RoleOf(p.role);
  if (p.role == Role::kEngineer) c.engineer_id = p.engineer_id;
  return c;
}

// Partners change stock only at their own outlets and vans; engineers only
// in their own van. Internal roles everywhere.
absl::Status MayManage(const auth::Principal& p, const PartsCore& core,
                       const std::string& location_id, absl::string_view field) {
  const auto loc = core.locations().Get(location_id);
  if (!loc) return absl::NotFoundError(absl::StrCat(field, ": no such location"));
  switch (p.role) {
    case Role::kAdmin:
    case Role::kService:
      return absl::OkStatus();
    case Role::kPartner:
      if (!loc->partner_id().empty() && loc->partner_id() == p.partner_id) {
        return absl::OkStatus();
      }
      return absl::PermissionDeniedError(
          absl::StrCat(field, ": location belongs to another partner"));
    case Role::kEngineer:
      if (loc->kind() == v1::LOCATION_KIND_ENGINEER_VAN && loc->engineer_id() == p.engineer_id) {
        return absl::OkStatus();
      }
      return absl::PermissionDeniedError(absl::StrCat(field, ": not the engineer's own van"));
    default:
      return absl::PermissionDeniedError(absl::StrCat(field, ": role may not change stock"));
  }
}

// Partners and engineers see the stock of their own locations only.
bool MaySeeStock(const auth::Principal& p, const v1::StockLocation& loc) {
  switch (p.role) {
    case Role::kPartner:
      return !loc.partner_id().empty() && loc.partner_id() == p.partner_id;
    case Role::kEngineer:
      return loc.kind() == v1::LOCATION_KIND_ENGINEER_VAN && loc.engineer_id() == p.engineer_id;
    default:
      return true;
  }
}

bool Compatible(const v1::Part& part, const v1::ListPartsRequest& f) {
  if (!f.appliance_category().empty() &&
      std::find(part.compatible_categories().begin(), part.compatible_categories().end(),
                f.appliance_category()) == part.compatible_categories().end()) {
    return false;
  }
  if (!f.model().empty() &&
      std::find(part.compatible_models().begin(), part.compatible_models().end(), f.model()) ==
          part.compatible_models().end()) {
    return false;
  }
  return true;
}

}  // namespace

PartsServiceImpl::PartsServiceImpl(PartsCore* core, const auth::TokenRegistry* tokens)
    : core_(core), tokens_(tokens) {}

absl::StatusOr<auth::Principal> PartsServiceImpl::Authorize(
    const grpc::ServerContext& context, std::initializer_list<Role> roles) const {
  return rpc::AuthorizeCall(context, *tokens_, roles);
}

// ---- catalog and locations ----

grpc::Status PartsServiceImpl::UpsertPart(grpc::ServerContext* context,
                                          const v1::UpsertPartRequest* request,
                                          v1::Part* response) {
  auto principal = Authorize(*context, {Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  if (!request->has_part()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "part: required");
  }
  RPC_RETURN_IF_ERROR(domain::ValidatePart(request->part()));
  auto part = core_->UpsertPart(request->part());
  RPC_RETURN_IF_ERROR(part.status());
  *response = *std::move(part);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::GetPart(grpc::ServerContext* context,
                                       const v1::GetPartRequest* request, v1::Part* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("sku", request->sku(), 64).status());
  auto part = core_->repo().GetPart(request->sku());
  RPC_RETURN_IF_ERROR(part.status());
  if (!part->has_value()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "sku: no such part");
  *response = **part;
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::ListParts(grpc::ServerContext* context,
                                         const v1::ListPartsRequest* request,
                                         v1::ListPartsResponse* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateListParts(*request));
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  // Filters are applied while scanning; at most 5000 parts are examined per
  // call, and the token resumes after the last one examined.
  std::string last;
  bool more = false;
  size_t examined = 0;
  RPC_RETURN_IF_ERROR(core_->repo().ScanParts(page->after_key, [&](const v1::Part& p) {
    if (static_cast<size_t>(response->parts_size()) == page->size || examined == 5000) {
      more = true;
      return false;
    }
    ++examined;
    last = p.sku();
    if (Compatible(p, *request)) *response->add_parts() = p;
    return true;
  }));
  if (!more) last.clear();
  response->set_next_page_token(rpc::NextPageToken(last));
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::UpsertLocation(grpc::ServerContext* context,
                                              const v1::UpsertLocationRequest* request,
                                              v1::StockLocation* response) {
  auto principal = Authorize(*context, {Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  if (!request->has_location()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "location: required");
  }
  RPC_RETURN_IF_ERROR(domain::ValidateLocation(request->location()));
  auto location = core_->UpsertLocation(request->location());
  RPC_RETURN_IF_ERROR(location.status());
  *response = *std::move(location);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::GetLocation(grpc::ServerContext* context,
                                           const v1::GetLocationRequest* request,
                                           v1::StockLocation* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("location_id", request->location_id(), 64).status());
  auto loc = core_->locations().Get(request->location_id());
  if (!loc) return grpc::Status(grpc::StatusCode::NOT_FOUND, "location_id: no such location");
  *response = *loc;
  return grpc::Status::OK;
}

// ---- stock movements ----

grpc::Status PartsServiceImpl::Receive(grpc::ServerContext* context,
                                       const v1::ReceiveRequest* request,
                                       v1::ReceiveResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateReceive(*request));
  RPC_RETURN_IF_ERROR(MayManage(*principal, *core_, request->location_id(), "location_id"));
  auto result = core_->Receive(CallerOf(*principal), *request);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::Adjust(grpc::ServerContext* context,
                                      const v1::AdjustRequest* request,
                                      v1::AdjustResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateAdjust(*request));
  RPC_RETURN_IF_ERROR(MayManage(*principal, *core_, request->location_id(), "location_id"));
  auto result = core_->Adjust(CallerOf(*principal), *request);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::Transfer(grpc::ServerContext* context,
                                        const v1::TransferRequest* request,
                                        v1::StockTransfer* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateTransfer(*request));
  RPC_RETURN_IF_ERROR(
      MayManage(*principal, *core_, request->from_location_id(), "from_location_id"));
  if (!core_->locations().Get(request->to_location_id())) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "to_location_id: no such location");
  }
  auto result = core_->Transfer(CallerOf(*principal), *request);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::ReceiveTransfer(grpc::ServerContext* context,
                                               const v1::ReceiveTransferRequest* request,
                                               v1::StockTransfer* response) {
  auto principal =
      Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("transfer_id", request->transfer_id(), 64).status());
  auto transfer = core_->repo().GetTransfer(request->transfer_id());
  RPC_RETURN_IF_ERROR(transfer.status());
  if (!transfer->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "transfer_id: no such transfer");
  }
  RPC_RETURN_IF_ERROR(
      MayManage(*principal, *core_, (*transfer)->to_location_id(), "transfer_id"));
  auto result = core_->ReceiveTransfer(CallerOf(*principal), request->transfer_id());
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::SetReorderPolicy(grpc::ServerContext* context,
                                                const v1::SetReorderPolicyRequest* request,
                                                v1::StockLevel* response) {
  auto principal = Authorize(*context, {Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateSetReorder(*request));
  auto level = core_->SetReorder(*request);
  RPC_RETURN_IF_ERROR(level.status());
  *response = *std::move(level);
  return grpc::Status::OK;
}

// ---- reservations ----

grpc::Status PartsServiceImpl::Reserve(grpc::ServerContext* context,
                                       const v1::ReserveRequest* request,
                                       v1::ReserveResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateReserve(*request));
  v1::ReserveRequest req = *request;
  if (principal->role == Role::kEngineer) {
    // An engineer reserves for themselves: their own van may serve it.
    if (!req.engineer_id().empty() && req.engineer_id() != principal->engineer_id) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "engineer_id: not the calling engineer");
    }
    req.set_engineer_id(principal->engineer_id);
  }
  auto result = core_->Reserve(req);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::Consume(grpc::ServerContext* context,
                                       const v1::ConsumeRequest* request,
                                       v1::Consumption* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateConsume(*request));
  if (principal->role == Role::kEngineer && !request->engineer_id().empty() &&
      request->engineer_id() != principal->engineer_id) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "engineer_id: not the calling engineer");
  }
  auto result = core_->Consume(CallerOf(*principal), *request);
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::Release(grpc::ServerContext* context,
                                       const v1::ReleaseRequest* request,
                                       v1::ReleaseResponse* response) {
  auto principal = Authorize(*context, {Role::kPartner, Role::kEngineer, Role::kAgent,
                                        Role::kService, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateRelease(*request));
  auto result = core_->Release(request->order_id(), request->sku(), request->reason());
  RPC_RETURN_IF_ERROR(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

// ---- queries ----

grpc::Status PartsServiceImpl::GetAvailability(grpc::ServerContext* context,
                                               const v1::GetAvailabilityRequest* request,
                                               v1::GetAvailabilityResponse* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateAvailability(*request));
  const size_t limit = request->limit() == 0 ? 10 : request->limit();
  const std::string& sku = request->sku();
  std::vector<v1::LocationAvailability> found;
  auto add = [&](const v1::StockLocation& loc, const v1::StockLevel& level, double km) {
    if (!loc.active() || level.available() <= 0) return;
    v1::LocationAvailability a;
    *a.mutable_location() = loc;
    a.set_available(level.available());
    a.set_distance_km(km);
    found.push_back(std::move(a));
  };
  if (request->radius_km() > 0) {
    // The grid index names the locations near the point; one read each.
    for (const auto& [loc, km] : core_->locations().Within(request->near(), request->radius_km())) {
      auto level = core_->repo().GetStock(loc.location_id(), sku);
      RPC_RETURN_IF_ERROR(level.status());
      if (level->has_value()) add(loc, **level, km);
    }
  } else {
    auto levels = core_->repo().StockOfSku(sku);
    RPC_RETURN_IF_ERROR(levels.status());
    for (const auto& level : *levels) {
      auto loc = core_->locations().Get(level.location_id());
      if (loc) add(*loc, level, domain::DistanceKm(request->near(), loc->point()));
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    if (a.distance_km() != b.distance_km()) return a.distance_km() < b.distance_km();
    return a.location().location_id() < b.location().location_id();
  });
  if (found.size() > limit) found.resize(limit);
  response->set_sku(sku);
  for (auto& a : found) *response->add_locations() = std::move(a);
  auto ledger = core_->repo().GetLedger(sku);
  RPC_RETURN_IF_ERROR(ledger.status());
  if (ledger->has_value()) {
    response->set_total_available((*ledger)->available());
    response->set_total_in_transit((*ledger)->in_transit());
  }
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::GetStockByLocation(grpc::ServerContext* context,
                                                  const v1::GetStockByLocationRequest* request,
                                                  v1::GetStockByLocationResponse* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("location_id", request->location_id(), 64).status());
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  auto loc = core_->locations().Get(request->location_id());
  // Another partner's location answers like a missing one.
  if (!loc || !MaySeeStock(*principal, *loc)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "location_id: no such location");
  }
  auto levels = core_->repo().StockOfLocation(request->location_id(), page->after_key, page->size);
  RPC_RETURN_IF_ERROR(levels.status());
  for (auto& level : levels->levels) {
    level.set_location_kind(loc->kind());
    level.set_region_code(loc->region_code());
    *response->add_levels() = std::move(level);
  }
  response->set_next_page_token(rpc::NextPageToken(levels->last));
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::ListOrderParts(grpc::ServerContext* context,
                                              const v1::ListOrderPartsRequest* request,
                                              v1::OrderParts* response) {
  auto principal = Authorize(*context, kReaders);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  const std::string& order_id = request->order_id();
  const PartsRepository& repo = core_->repo();
  response->set_order_id(order_id);
  response->set_all_available(true);
  auto reservation_ids = repo.OrderRecords(order_id, 'r');
  RPC_RETURN_IF_ERROR(reservation_ids.status());
  for (const auto& id : *reservation_ids) {
    auto r = repo.GetReservation(id);
    RPC_RETURN_IF_ERROR(r.status());
    if (r->has_value()) *response->add_reservations() = **r;
  }
  auto backorder_ids = repo.OrderRecords(order_id, 'b');
  RPC_RETURN_IF_ERROR(backorder_ids.status());
  for (const auto& id : *backorder_ids) {
    auto b = repo.GetBackorder(id);
    RPC_RETURN_IF_ERROR(b.status());
    if (!b->has_value()) continue;
    if (domain::IsOpen(**b)) response->set_all_available(false);
    *response->add_backorders() = **b;
  }
  auto consumption_ids = repo.OrderRecords(order_id, 'c');
  RPC_RETURN_IF_ERROR(consumption_ids.status());
  for (const auto& id : *consumption_ids) {
    auto c = repo.GetConsumption(id);
    RPC_RETURN_IF_ERROR(c.status());
    if (c->has_value()) *response->add_consumptions() = **c;
  }
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::TraceLot(grpc::ServerContext* context,
                                        const v1::TraceLotRequest* request,
                                        v1::TraceLotResponse* response) {
  auto principal = Authorize(*context, kBackOffice);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateTraceLot(*request));
  auto rows = core_->repo().LotRows(request->lot_number(), request->sku(), 10000);
  RPC_RETURN_IF_ERROR(rows.status());
  std::set<std::string> orders;
  for (const auto& row : *rows) {
    if (row.kind == 'c') {
      auto c = core_->repo().GetConsumption(row.id);
      RPC_RETURN_IF_ERROR(c.status());
      if (!c->has_value()) continue;
      orders.insert((*c)->order_id());
      *response->add_consumptions() = **c;
    } else if (row.kind == 'r') {
      auto r = core_->repo().GetReceipt(row.id);
      RPC_RETURN_IF_ERROR(r.status());
      if (r->has_value()) *response->add_receipts() = **r;
    }
  }
  for (const auto& id : orders) response->add_order_ids(id);
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::ListLowStock(grpc::ServerContext* context,
                                            const v1::ListLowStockRequest* request,
                                            v1::ListLowStockResponse* response) {
  auto principal = Authorize(*context, kBackOffice);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(domain::ValidateListLowStock(*request));
  auto page = rpc::ParsePage(request->page());
  RPC_RETURN_IF_ERROR(page.status());
  std::string last;
  bool more = false;
  size_t examined = 0;
  RPC_RETURN_IF_ERROR(core_->repo().ScanLowStock(
      page->after_key, [&](const std::string& key, const v1::StockLevel& stored) {
        if (static_cast<size_t>(response->levels_size()) == page->size || examined == 5000) {
          more = true;
          return false;
        }
        ++examined;
        last = key;
        v1::StockLevel level = stored;
        if (auto loc = core_->locations().Get(level.location_id())) {
          level.set_location_kind(loc->kind());
          level.set_region_code(loc->region_code());
        }
        if (!request->region_code().empty() && level.region_code() != request->region_code()) {
          return true;
        }
        if (request->location_kind() != v1::LOCATION_KIND_UNSPECIFIED &&
            level.location_kind() != request->location_kind()) {
          return true;
        }
        *response->add_levels() = std::move(level);
        return true;
      }));
  response->set_next_page_token(rpc::NextPageToken(more ? last : ""));
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::GetSkuSummary(grpc::ServerContext* context,
                                             const v1::GetSkuSummaryRequest* request,
                                             v1::SkuSummary* response) {
  auto principal = Authorize(*context, kBackOffice);
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("sku", request->sku(), 64).status());
  auto ledger = core_->repo().GetLedger(request->sku());
  RPC_RETURN_IF_ERROR(ledger.status());
  if (ledger->has_value()) {
    *response = **ledger;
    return grpc::Status::OK;
  }
  auto part = core_->repo().GetPart(request->sku());
  RPC_RETURN_IF_ERROR(part.status());
  if (!part->has_value()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "sku: no such part");
  response->set_sku(request->sku());
  response->set_fill_rate(1.0);
  return grpc::Status::OK;
}

// ---- policy ----

grpc::Status PartsServiceImpl::GetPolicy(grpc::ServerContext* context,
                                         const v1::GetPolicyRequest* request,
                                         v1::PartsPolicySnapshot* response) {
  auto principal = Authorize(*context, {Role::kAdmin, Role::kAuditor, Role::kService});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerGetPolicy(core_->policy(), *request, response));
  return grpc::Status::OK;
}

grpc::Status PartsServiceImpl::ReloadPolicy(grpc::ServerContext* context,
                                            const v1::ReloadPolicyRequest* request,
                                            v1::ReloadPolicyResponse* response) {
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(server::AnswerReloadPolicy(core_->policy(), *request,
                                                 core_->clock().Now(), response));
  return grpc::Status::OK;
}

}  // namespace aftersales::parts
