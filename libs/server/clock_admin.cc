#include "server/clock_admin.h"

#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::server {
namespace {

// Ten years: far past any simulation, short of absl::Time overflow.
constexpr absl::Duration kMaxAdvance = absl::Hours(24 * 3660);

}  // namespace

ClockAdminService::ClockAdminService(ManualClock* clock,
                                     const auth::TokenRegistry* tokens)
    : clock_(clock), tokens_(tokens) {}

grpc::Status ClockAdminService::GetTime(grpc::ServerContext* context,
                                        const v1::GetTimeRequest*,
                                        v1::ClockTime* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  *response->mutable_now() = rpc::ToProto(clock_->Now());
  response->set_manual(true);
  return grpc::Status::OK;
}

grpc::Status ClockAdminService::SetTime(grpc::ServerContext* context,
                                        const v1::SetTimeRequest* request,
                                        v1::ClockTime* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  absl::Status valid =
      rpc::Validator()
          .Check("now", request->has_now(), "required")
          .Check("now", request->now().nanos() >= 0 &&
                            request->now().nanos() < 1000000000,
                 "nanos must be in [0, 1e9)")
          .status();
  RPC_RETURN_IF_ERROR(valid);
  RPC_RETURN_IF_ERROR(clock_->SetTime(rpc::FromProto(request->now())));
  *response->mutable_now() = rpc::ToProto(clock_->Now());
  response->set_manual(true);
  return grpc::Status::OK;
}

grpc::Status ClockAdminService::AdvanceTime(grpc::ServerContext* context,
                                            const v1::AdvanceTimeRequest* request,
                                            v1::ClockTime* response) {
  auto who = rpc::AuthorizeCall(*context, *tokens_, {auth::Role::kAdmin});
  RPC_RETURN_IF_ERROR(who.status());
  const absl::Duration by = rpc::FromProto(request->by());
  absl::Status valid =
      rpc::Validator()
          .Check("by", request->has_by(), "required")
          .Check("by", by >= absl::ZeroDuration() && by <= kMaxAdvance,
                 "must be in [0, 3660 days]")
          .status();
  RPC_RETURN_IF_ERROR(valid);
  RPC_RETURN_IF_ERROR(clock_->Advance(by));
  *response->mutable_now() = rpc::ToProto(clock_->Now());
  response->set_manual(true);
  return grpc::Status::OK;
}

}  // namespace aftersales::server
