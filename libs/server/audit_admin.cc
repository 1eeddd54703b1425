#include "server/audit_admin.h"

#include <iostream>

#include "absl/strings/escaping.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"
#include "store/audit_log.h"

namespace aftersales::server {
namespace {

constexpr int kDefaultList = 100;
constexpr int kMaxList = 1000;
// A subject_id filter looks at this many records per call at most.
constexpr size_t kFilterScan = 10000;

}  // namespace

AuditLogService::AuditLogService(std::string service_name, store::Store* store,
                                 const auth::TokenRegistry* tokens,
                                 prometheus::Registry* registry)
    : service_name_(std::move(service_name)), store_(store), tokens_(tokens) {
  records_total_ = &prometheus::BuildCounter()
                        .Name("aftersales_audit_records_total")
                        .Help("Audit log records appended since the process started")
                        .Register(*registry)
                        .Add({});
  head_seq_ = &prometheus::BuildGauge()
                   .Name("aftersales_audit_head_seq")
                   .Help("Seq of the newest audit log record")
                   .Register(*registry)
                   .Add({});
  verifications_ = &prometheus::BuildCounter()
                        .Name("aftersales_audit_verifications_total")
                        .Help("VerifyAuditChain calls that walked the chain")
                        .Register(*registry)
                        .Add({});
  verify_failures_ = &prometheus::BuildCounter()
                          .Name("aftersales_audit_verify_failures_total")
                          .Help("VerifyAuditChain calls that found a broken chain")
                          .Register(*registry)
                          .Add({});
  store::AuditLog* log = store_->audit();
  head_seq_->Set(static_cast<double>(log->Head().seq));
  log->SetOnAppend([this, log](uint64_t records) {
    records_total_->Increment(static_cast<double>(records));
    head_seq_->Set(static_cast<double>(log->Head().seq));
  });
  LogHead("start");
}

AuditLogService::~AuditLogService() {
  store_->audit()->SetOnAppend(nullptr);
  LogHead("stop");
}

void AuditLogService::LogHead(const char* when) const {
  const store::AuditHead head = store_->audit()->Head();
  std::cout << service_name_ << ": audit log head at " << when << ": seq=" << head.seq
            << " sha256=" << absl::BytesToHexString(head.hash) << std::endl;
}

grpc::Status AuditLogService::ListAuditRecords(grpc::ServerContext* context,
                                               const v1::ListAuditRecordsRequest* request,
                                               v1::ListAuditRecordsResponse* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAuditor, auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  rpc::Validator v;
  v.Check("max_records", request->max_records() >= 0 && request->max_records() <= kMaxList,
          "must be in [0, 1000]");
  if (!request->subject_id().empty()) v.Id("subject_id", request->subject_id(), 128);
  RPC_RETURN_IF_ERROR(v.status());
  const size_t max = request->max_records() == 0 ? kDefaultList : request->max_records();
  const uint64_t head = store_->audit()->Head().seq;
  uint64_t scanned = 0;
  auto records = store_->audit()->List(request->after_seq(), max, request->subject_id(),
                                       request->subject_id().empty() ? 0 : kFilterScan,
                                       &scanned);
  RPC_RETURN_IF_ERROR(records.status());
  for (auto& r : *records) *response->add_records() = std::move(r);
  response->set_head_seq(head);
  response->set_scanned_through_seq(scanned);
  return grpc::Status::OK;
}

grpc::Status AuditLogService::VerifyAuditChain(grpc::ServerContext* context,
                                               const v1::VerifyAuditChainRequest* request,
                                               v1::VerifyAuditChainResponse* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAuditor, auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  const uint64_t from = request->from_seq() == 0 ? 1 : request->from_seq();
  const bool anchored = request->anchor_seq() != 0;
  absl::Status valid =
      rpc::Validator()
          .Check("to_seq", request->to_seq() == 0 || request->to_seq() >= from,
                 "must be 0 (the head) or >= from_seq")
          .Check("trusted_prev_hash",
                 request->trusted_prev_hash().empty() ||
                     request->trusted_prev_hash().size() == store::kAuditHashBytes,
                 "must be empty or 32 bytes")
          .Check("anchor_hash",
                 anchored ? request->anchor_hash().size() == store::kAuditHashBytes
                          : request->anchor_hash().empty(),
                 "32 bytes with anchor_seq, empty without")
          .Check("anchor_seq",
                 !anchored || (request->anchor_seq() >= from &&
                               (request->to_seq() == 0 ||
                                request->anchor_seq() <= request->to_seq())),
                 "must lie in [from_seq, to_seq]")
          .status();
  RPC_RETURN_IF_ERROR(valid);

  store::AuditVerifyOptions options;
  options.from_seq = from;
  options.trusted_prev_hash = request->trusted_prev_hash();
  options.anchor_seq = request->anchor_seq();
  options.anchor_hash = request->anchor_hash();
  if (request->to_seq() != 0) options.max_records = request->to_seq() - from + 1;
  const store::AuditVerifyResult r = store_->audit()->Verify(options);

  verifications_->Increment();
  if (!r.ok) {
    verify_failures_->Increment();
    std::cerr << service_name_ << ": audit chain broken at seq " << r.bad_seq << ": "
              << r.detail << std::endl;
  }
  response->set_ok(r.ok);
  response->set_verified_through_seq(r.last_seq);
  response->set_first_bad_seq(r.bad_seq);
  response->set_head_hash(r.last_hash);
  response->set_failure(r.failure);
  response->set_detail(r.detail);
  response->set_records_checked(r.records_checked);
  return grpc::Status::OK;
}

grpc::Status AuditLogService::GetAuditHead(grpc::ServerContext* context,
                                           const v1::GetAuditHeadRequest*,
                                           v1::AuditHead* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAuditor, auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  const store::AuditHead head = store_->audit()->Head();
  response->set_service(service_name_);
  response->set_seq(head.seq);
  response->set_hash(head.hash);
  if (head.seq != 0) *response->mutable_recorded_at() = rpc::ToProto(head.commit_time);
  return grpc::Status::OK;
}

}  // namespace aftersales::server
