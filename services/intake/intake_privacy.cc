#include "intake/intake_privacy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "intake/intake_service.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"
#include "store/keys.h"

namespace aftersales::intake {
namespace {

using auth::Role;

constexpr char kErasures[] = "erasures";  // (customer, request id) -> ErasureReport
// How far a client clock may be ahead when it dates a consent.
constexpr absl::Duration kClockSkew = absl::Minutes(5);
constexpr int kMaxConsents = 50;

store::Table<v1::ErasureReport> Erasures(IntakeCore& core) {
  return store::Table<v1::ErasureReport>(&core.repo().store(), kErasures);
}

std::string ErasureKey(absl::string_view customer, absl::string_view request_id) {
  return store::CompositeKey({customer, request_id});
}

// The report as answered: `overdue` is judged at `now`.
v1::ErasureReport Answer(v1::ErasureReport report, absl::Time now) {
  report.set_overdue(report.pending_services_size() > 0 &&
                     now > rpc::FromProto(report.deadline()));
  return report;
}

v1::Event ErasureEvent(const std::string& customer, absl::Time now) {
  v1::Event e;
  e.set_producer("intake");
  *e.mutable_occurred_at() = rpc::ToProto(now);
  e.set_subject_id(customer);
  return e;
}

absl::Status ValidateConsent(const v1::ConsentRecord& c, absl::Time now) {
  return rpc::Validator()
      .Enum("consent.purpose", c.purpose(), v1::ConsentPurpose_IsValid(c.purpose()))
      .Enum("consent.method", c.method(), v1::ConsentMethod_IsValid(c.method()))
      .Check("consent.given_at", c.has_given_at(), "required")
      .Check("consent.given_at", rpc::FromProto(c.given_at()) <= now + kClockSkew,
             "must not be in the future")
      .Text("consent.evidence_ref", c.evidence_ref(), 256, true)
      .Check("consent.withdrawn_at", !c.has_withdrawn_at(),
             "a new consent cannot be withdrawn; use WithdrawConsent")
      .status();
}

}  // namespace

std::vector<std::string> ErasurePeers(const server::ServiceHost& host) {
  std::vector<std::string> peers;
  for (const char* peer : {"complaint", "satisfaction"}) {
    if (host.HasPeer(peer)) peers.push_back(peer);
  }
  return peers;
}

absl::Status RequireMediaConsent(const v1::CreateOrderRequest& request) {
  if (request.fault().media_refs_size() == 0) return absl::OkStatus();
  for (const auto& c : request.consents()) {
    if (c.purpose() == v1::CONSENT_PURPOSE_PHOTO_VIDEO_CAPTURE && !c.has_withdrawn_at()) {
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(
      "fault.media_refs: photos/video need a PHOTO_VIDEO_CAPTURE consent (consents)");
}

absl::Status ApplyErasureConfirmation(IntakeCore& core, const v1::Event& e,
                                      store::Batch& batch) {
  const v1::CustomerErased& done = e.customer_erased();
  if (done.customer_id().empty() || done.request_id().empty() || done.service().empty()) {
    return absl::InvalidArgumentError("customer_erased: customer_id, request_id, service required");
  }
  batch.HoldUntilDone(
      core.repo().store().locks().Lock({absl::StrCat("erasure/", done.customer_id())}));
  auto table = Erasures(core);
  const std::string key = ErasureKey(done.customer_id(), done.request_id());
  auto report = table.Get(key);
  if (!report.ok()) return report.status();
  // Not requested here (another intake, or a scripted test): nothing to complete.
  if (!report->has_value()) return absl::NotFoundError("no such erasure request");
  v1::ErasureReport r = **report;
  auto* pending = r.mutable_pending_services();
  auto it = std::find(pending->begin(), pending->end(), done.service());
  if (it == pending->end()) return absl::OkStatus();  // confirmed already
  pending->erase(it);
  for (const auto& item : done.items()) *r.add_items() = item;
  if (r.pending_services_size() == 0) {
    *r.mutable_completed_at() = rpc::ToProto(core.host().clock().Now());
  }
  table.Put(batch, key, r);
  return absl::OkStatus();
}

grpc::Status IntakeServiceImpl::EraseCustomer(grpc::ServerContext* context,
                                              const v1::EraseCustomerRequest* request,
                                              v1::ErasureReport* response) {
  // Irreversible: operators only (an agent files the customer's request).
  auto principal = Authorize(*context, {Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("customer_id", request->customer_id(), 64)
                          .Id("request_id", request->request_id(), 128)
                          .Text("reason", request->reason(), 500, true)
                          .status());
  const std::string& customer = request->customer_id();
  store::Store& store = core_->repo().store();
  auto guard = store.locks().Lock({absl::StrCat("erasure/", customer)});
  auto table = Erasures(*core_);
  const std::string key = ErasureKey(customer, request->request_id());
  const absl::Time now = core_->host().clock().Now();
  auto existing = table.Get(key);
  RPC_RETURN_IF_ERROR(existing.status());
  if (existing->has_value()) {  // a retry: the same report
    *response = Answer(**existing, now);
    return grpc::Status::OK;
  }

  // What becomes unreadable here: every order of the customer with sealed PII.
  auto ids = core_->repo().OrderIdsOfCustomer(customer, 1000000);
  RPC_RETURN_IF_ERROR(ids.status());
  int64_t sealed = 0;
  for (const auto& id : *ids) {
    auto has = core_->repo().HasSealedPii(id);
    RPC_RETURN_IF_ERROR(has.status());
    sealed += *has ? 1 : 0;
  }
  store::Batch batch;
  RPC_RETURN_IF_ERROR(core_->repo().keys().Erase(batch, customer, now).status());

  v1::ErasureReport report;
  report.set_customer_id(customer);
  report.set_request_id(request->request_id());
  *report.mutable_requested_at() = rpc::ToProto(now);
  *report.mutable_deadline() = rpc::ToProto(now + kErasureDeadline);
  v1::ErasedItem* item = report.add_items();
  item->set_service("intake");
  item->set_record_kind("work_order.pii");
  item->set_count(sealed);
  for (const auto& peer : ErasurePeers(core_->host())) report.add_pending_services(peer);
  if (report.pending_services_size() == 0) *report.mutable_completed_at() = rpc::ToProto(now);
  table.Put(batch, key, report);

  v1::Event requested = ErasureEvent(customer, now);
  auto* r = requested.mutable_customer_erasure_requested();
  r->set_customer_id(customer);
  r->set_request_id(request->request_id());
  *r->mutable_requested_at() = rpc::ToProto(now);
  batch.AppendEvent(requested);
  v1::Event erased = ErasureEvent(customer, now);
  auto* d = erased.mutable_customer_erased();
  d->set_customer_id(customer);
  d->set_request_id(request->request_id());
  d->set_service("intake");
  *d->add_items() = *item;
  *d->mutable_erased_at() = rpc::ToProto(now);
  batch.AppendEvent(erased);
  RPC_RETURN_IF_ERROR(store.Commit(batch));
  *response = Answer(std::move(report), now);
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::GetErasureReport(grpc::ServerContext* context,
                                                 const v1::GetErasureReportRequest* request,
                                                 v1::ErasureReport* response) {
  auto principal = Authorize(*context, {Role::kAdmin, Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("customer_id", request->customer_id(), 64)
                          .Id("request_id", request->request_id(), 128)
                          .status());
  auto report = Erasures(*core_).Get(ErasureKey(request->customer_id(), request->request_id()));
  RPC_RETURN_IF_ERROR(report.status());
  if (!report->has_value()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "request_id: no such erasure request");
  }
  *response = Answer(**report, core_->host().clock().Now());
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::RecordConsent(grpc::ServerContext* context,
                                              const v1::RecordConsentRequest* request,
                                              v1::ConsentRecord* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kEngineer,
                                        Role::kPartner, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  const absl::Time now = core_->host().clock().Now();
  RPC_RETURN_IF_ERROR(rpc::Validator()
                          .Id("order_id", request->order_id(), 64)
                          .Id("request_id", request->request_id(), 128)
                          .Check("consent", request->has_consent(), "required")
                          .status());
  RPC_RETURN_IF_ERROR(ValidateConsent(request->consent(), now));
  v1::RecordConsentRequest body = *request;
  body.clear_request_id();
  const std::string fingerprint = store::IdempotencyKeys::Fingerprint(body);
  // Idempotent per (order, request id); checked under the order's lock.
  const std::string idem_key =
      store::IdempotencyKeys::Key(absl::StrCat("consent/", request->order_id()),
                                  request->request_id());
  std::optional<v1::ConsentRecord> earlier;
  v1::ConsentRecord recorded;
  auto order = core_->Update(
      request->order_id(),
      [&](const v1::WorkOrder& o,
          const v1::IntakePolicy&) -> absl::StatusOr<domain::Change> {
        if (!MaySee(*principal, o)) return absl::NotFoundError("order_id: no such order");
        auto seen = core_->repo().idempotency().Check(idem_key, fingerprint);
        if (!seen.ok()) return seen.status();
        if (seen->has_value()) {
          for (const auto& c : o.consents()) {
            if (c.consent_id() == **seen) earlier = c;
          }
          return absl::AbortedError("duplicate");
        }
        if (o.consents_size() >= kMaxConsents) {
          return absl::ResourceExhaustedError(
              absl::StrCat("consents: an order holds at most ", kMaxConsents));
        }
        domain::Change change;
        change.order = o;
        recorded = request->consent();
        recorded.set_consent_id(absl::StrCat(o.order_id(), "-C", o.consents_size() + 1));
        recorded.set_recorded_by(principal->id);
        *change.order.add_consents() = recorded;
        change.order.set_version(o.version() + 1);
        *change.order.mutable_updated_at() = rpc::ToProto(now);
        return change;
      },
      [&](store::Batch& batch, const v1::WorkOrder&) {
        core_->repo().idempotency().Remember(batch, idem_key, fingerprint,
                                             recorded.consent_id(), now);
      });
  if (earlier) {
    *response = *earlier;
    return grpc::Status::OK;
  }
  RPC_RETURN_IF_ERROR(order.status());
  *response = recorded;
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::WithdrawConsent(grpc::ServerContext* context,
                                                const v1::WithdrawConsentRequest* request,
                                                v1::ConsentRecord* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kEngineer,
                                        Role::kPartner, Role::kAdmin});
  RPC_RETURN_IF_ERROR(principal.status());
  const absl::Time now = core_->host().clock().Now();
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Id("order_id", request->order_id(), 64)
          .Id("consent_id", request->consent_id(), 64)
          .Check("withdrawn_at",
                 !request->has_withdrawn_at() ||
                     rpc::FromProto(request->withdrawn_at()) <= now + kClockSkew,
                 "must not be in the future")
          .status());
  const absl::Time when =
      request->has_withdrawn_at() ? rpc::FromProto(request->withdrawn_at()) : now;
  std::optional<v1::ConsentRecord> unchanged;
  v1::ConsentRecord withdrawn;
  auto order = core_->Update(
      request->order_id(),
      [&](const v1::WorkOrder& o,
          const v1::IntakePolicy&) -> absl::StatusOr<domain::Change> {
        if (!MaySee(*principal, o)) return absl::NotFoundError("order_id: no such order");
        domain::Change change;
        change.order = o;
        for (auto& c : *change.order.mutable_consents()) {
          if (c.consent_id() != request->consent_id()) continue;
          if (c.has_withdrawn_at()) {  // withdrawing twice: the same record
            unchanged = c;
            return absl::AbortedError("unchanged");
          }
          if (when < rpc::FromProto(c.given_at())) {
            return absl::InvalidArgumentError("withdrawn_at: before the consent was given");
          }
          *c.mutable_withdrawn_at() = rpc::ToProto(when);
          withdrawn = c;
          change.order.set_version(o.version() + 1);
          *change.order.mutable_updated_at() = rpc::ToProto(now);
          return change;
        }
        return absl::NotFoundError("consent_id: no such consent on this order");
      });
  if (unchanged) {
    *response = *unchanged;
    return grpc::Status::OK;
  }
  RPC_RETURN_IF_ERROR(order.status());
  *response = withdrawn;
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::ListConsents(grpc::ServerContext* context,
                                             const v1::ListConsentsRequest* request,
                                             v1::ListConsentsResponse* response) {
  auto principal = Authorize(*context, {Role::kAgent, Role::kApp, Role::kEngineer,
                                        Role::kPartner, Role::kService, Role::kAdmin,
                                        Role::kAuditor});
  RPC_RETURN_IF_ERROR(principal.status());
  RPC_RETURN_IF_ERROR(rpc::Validator().Id("order_id", request->order_id(), 64).status());
  auto order = LoadVisible(core_->repo(), *principal, request->order_id());
  RPC_RETURN_IF_ERROR(order.status());
  *response->mutable_consents() = order->consents();
  return grpc::Status::OK;
}

}  // namespace aftersales::intake
