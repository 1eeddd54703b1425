#ifndef AFTERSALES_LIBS_SERVER_MAINTENANCE_ADMIN_H_
#define AFTERSALES_LIBS_SERVER_MAINTENANCE_ADMIN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "auth/auth.h"
#include "clock/clock.h"
#include "store/store.h"

namespace aftersales::server {

// Online backups: Checkpoint writes a consistent copy of the service's RocksDB
// into a directory below the backup root (--backup_dir) while the service
// keeps serving. ADMIN only. A client names the checkpoint, never a path: the
// name is confined to the root, so a token cannot make the service write
// anywhere else on its host.
class MaintenanceService final : public v1::Maintenance::Service {
 public:
  // `backup_root` "" = checkpoints are disabled (FAILED_PRECONDITION).
  MaintenanceService(std::string service_name, store::Store* store,
                     const auth::TokenRegistry* tokens, Clock* clock,
                     std::string backup_root);

  // The --backup_dir flag (or AFTERSALES_BACKUP_DIR).
  static std::string BackupRootFlag();

  grpc::Status Checkpoint(grpc::ServerContext* context,
                          const v1::CheckpointRequest* request,
                          v1::CheckpointReply* response) override;

 private:
  // The directory `name` denotes below the root: INVALID_ARGUMENT unless it is
  // a relative path of [A-Za-z0-9._-] components that stays below the root
  // also after following symbolic links. Creates the missing parents.
  absl::StatusOr<std::string> TargetDirectory(const std::string& name) const;

  const std::string service_name_;
  store::Store* store_;
  const auth::TokenRegistry* tokens_;
  Clock* clock_;
  const std::string backup_root_;
  absl::Mutex mu_;  // one checkpoint at a time
};

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_MAINTENANCE_ADMIN_H_
