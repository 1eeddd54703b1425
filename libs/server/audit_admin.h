#ifndef AFTERSALES_LIBS_SERVER_AUDIT_ADMIN_H_
#define AFTERSALES_LIBS_SERVER_AUDIT_ADMIN_H_

#include <string>

#include "aftersales/v1/events.grpc.pb.h"
#include "auth/auth.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "store/store.h"

namespace aftersales::server {

// aftersales.v1.AuditLog over the service's own store (store/audit_log.h,
// docs/audit.md): list the hash-chained records, verify the chain, read the
// head to anchor it elsewhere. AUDITOR and ADMIN only. Every service serves it
// (ServiceHost registers it). Metrics: aftersales_audit_records_total,
// aftersales_audit_head_seq, aftersales_audit_verify_failures_total.
class AuditLogService final : public v1::AuditLog::Service {
 public:
  // `store` must have its audit log on. Prints the chain head on start and
  // stop, so the service's own log carries anchors too.
  AuditLogService(std::string service_name, store::Store* store,
                  const auth::TokenRegistry* tokens, prometheus::Registry* registry);
  ~AuditLogService() override;

  grpc::Status ListAuditRecords(grpc::ServerContext* context,
                                const v1::ListAuditRecordsRequest* request,
                                v1::ListAuditRecordsResponse* response) override;
  grpc::Status VerifyAuditChain(grpc::ServerContext* context,
                                const v1::VerifyAuditChainRequest* request,
                                v1::VerifyAuditChainResponse* response) override;
  grpc::Status GetAuditHead(grpc::ServerContext* context,
                            const v1::GetAuditHeadRequest* request,
                            v1::AuditHead* response) override;

 private:
  void LogHead(const char* when) const;

  const std::string service_name_;
  store::Store* store_;
  const auth::TokenRegistry* tokens_;
  prometheus::Counter* records_total_;
  prometheus::Gauge* head_seq_;
  prometheus::Counter* verifications_;
  prometheus::Counter* verify_failures_;
};

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_AUDIT_ADMIN_H_
