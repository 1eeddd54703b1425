#include "server/maintenance_admin.h"

#include <filesystem>
#include <iostream>
#include <system_error>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

ABSL_FLAG(std::string, backup_dir, "",
          "Directory below which the Maintenance.Checkpoint RPC writes checkpoints; "
          "empty = checkpoints disabled. Put it on the data volume (RocksDB then "
          "hard-links instead of copying) but outside --data_dir");

namespace aftersales::server {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameLength = 200;

bool IsNameComponent(absl::string_view part) {
  if (part.empty() || part == "." || part == "..") return false;
  for (char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// True if `path` is `root` or below it, comparing whole components.
bool IsBelow(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing "/" of root
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

uint64_t DirectoryBytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

}  // namespace

MaintenanceService::MaintenanceService(std::string service_name, store::Store* store,
                                       const auth::TokenRegistry* tokens, Clock* clock,
                                       std::string backup_root)
    : service_name_(std::move(service_name)),
      store_(store),
      tokens_(tokens),
      clock_(clock),
      backup_root_(std::move(backup_root)) {}

std::string MaintenanceService::BackupRootFlag() { return absl::GetFlag(FLAGS_backup_dir); }

absl::StatusOr<std::string> MaintenanceService::TargetDirectory(
    const std::string& name) const {
  std::error_code ec;
  fs::create_directories(backup_root_, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("backup_dir ", backup_root_, ": ", ec.message()));
  }
  const fs::path root = fs::canonical(backup_root_, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("backup_dir ", backup_root_, ": ", ec.message()));
  }
  const fs::path target = root / name;
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: cannot create its parent: ", ec.message()));
  }
  // A symbolic link inside the root must not lead out of it.
  const fs::path parent = fs::canonical(target.parent_path(), ec);
  if (ec || !IsBelow(parent, root)) {
    return absl::InvalidArgumentError("name: leads outside the backup directory");
  }
  return (parent / target.filename()).string();
}

grpc::Status MaintenanceService::Checkpoint(grpc::ServerContext* context,
                                            const v1::CheckpointRequest* request,
                                            v1::CheckpointReply* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  const std::string& name = request->name();
  bool components_ok = !name.empty() && name.size() <= kMaxNameLength;
  if (components_ok) {
    for (absl::string_view part : absl::StrSplit(name, '/')) {
      components_ok = components_ok && IsNameComponent(part);
    }
  }
  RPC_RETURN_IF_ERROR(
      rpc::Validator()
          .Check("name", components_ok,
                 "a relative path of [A-Za-z0-9._-] components, no '.' or '..', "
                 "at most 200 characters")
          .status());
  if (backup_root_.empty()) {
    return rpc::ToGrpc(absl::FailedPreconditionError(
        "checkpoints are disabled: the service runs without --backup_dir"));
  }

  absl::MutexLock lock(&mu_);
  auto target = TargetDirectory(name);
  RPC_RETURN_IF_ERROR(target.status());
  std::error_code ec;
  if (fs::exists(fs::symlink_status(*target, ec))) {
    return rpc::ToGrpc(absl::AlreadyExistsError(absl::StrCat("name: ", name, " exists")));
  }
  const uint64_t head = store_->HeadSeq();
  const absl::Time started = clock_->Now();
  RPC_RETURN_IF_ERROR(store_->Checkpoint(*target));

  response->set_path(*target);
  response->set_head_seq(head);
  *response->mutable_created_at() = rpc::ToProto(started);
  response->set_size_bytes(DirectoryBytes(*target));
  std::cout << service_name_ << ": checkpoint " << *target << " (event head " << head
            << ", " << response->size_bytes() << " bytes) by " << who->id << std::endl;
  return grpc::Status::OK;
}

}  // namespace aftersales::server
