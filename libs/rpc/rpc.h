#ifndef AFTERSALES_LIBS_RPC_RPC_H_
#define AFTERSALES_LIBS_RPC_RPC_H_

#include <initializer_list>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auth/auth.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"

// The gRPC edge: what every handler needs to turn a call into a domain
// operation and back. Handlers stay thin: authorize, validate, call domain.
// In a gRPC handler: returns the gRPC form of the absl::Status `expr` if it
// is not OK. Keeps handlers to their steps: authorize, validate, load, apply.
#define RPC_RETURN_IF_ERROR(expr)                                    \
  do {                                                               \
    if (const ::absl::Status rpc_status_ = (expr); !rpc_status_.ok()) \
      return ::aftersales::rpc::ToGrpc(rpc_status_);                 \
  } while (0)

namespace aftersales::rpc {

// absl and gRPC share the canonical status codes, so the mapping is 1:1.
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

// Resolves the caller from the call's "authorization: Bearer <token>" header.
// UNAUTHENTICATED without a valid token; PERMISSION_DENIED for other roles.
absl::StatusOr<auth::Principal> AuthorizeCall(
    const grpc::ServerContextBase& context, const auth::TokenRegistry& tokens,
    std::initializer_list<auth::Role> allowed);

// Adds the bearer token to an outgoing call.
void SetBearerToken(grpc::ClientContext& context, const std::string& token);

google::protobuf::Timestamp ToProto(absl::Time t);
absl::Time FromProto(const google::protobuf::Timestamp& ts);
google::protobuf::Duration ToProto(absl::Duration d);
absl::Duration FromProto(const google::protobuf::Duration& d);

}  // namespace aftersales::rpc

#endif  // AFTERSALES_LIBS_RPC_RPC_H_
