#include "rpc/rpc.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "rpc/admission.h"
#include "store/principal_scope.h"

namespace aftersales::rpc {
namespace {
std::atomic<CallAdmission*> g_admission{nullptr};
}  // namespace

void SetCallAdmission(CallAdmission* admission) { g_admission.store(admission); }

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

absl::StatusOr<auth::Principal> AuthorizeCall(
    const grpc::ServerContextBase& context, const auth::TokenRegistry& tokens,
    std::initializer_list<auth::Role> allowed) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  std::optional<absl::string_view> header;
  if (it != metadata.end()) {
    header = absl::string_view(it->second.data(), it->second.size());
  }
  auto principal = auth::Authorize(tokens, header, allowed);
  // Every commit of this call is audited under its principal (the thread
  // served other calls before: always overwrite, "" when refused).
  store::SetCurrentPrincipal(principal.ok() ? principal->id : std::string());
  if (!principal.ok()) return principal;
  // Rate limits and the in-flight bound apply to every RPC of the service.
  if (CallAdmission* admission = g_admission.load(); admission != nullptr) {
    if (absl::Status s = admission->Admit(context, *principal); !s.ok()) return s;
  }
  return principal;
}

void SetBearerToken(grpc::ClientContext& context, const std::string& token) {
  context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t ns = absl::ToUnixNanos(t);
  int64_t secs = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int32_t>(nanos));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Duration ToProto(absl::Duration d) {
  google::protobuf::Duration out;
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  out.set_seconds(ns / 1000000000);
  out.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return out;
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

}  // namespace aftersales::rpc
