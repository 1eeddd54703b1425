#ifndef AFTERSALES_LIBS_SERVER_CLOCK_ADMIN_H_
#define AFTERSALES_LIBS_SERVER_CLOCK_ADMIN_H_

#include "aftersales/v1/admin.grpc.pb.h"
#include "auth/auth.h"
#include "clock/clock.h"

namespace aftersales::server {

// Moves a service's ManualClock (tests, simulations). The host registers it
// only under --clock=manual; only ADMIN principals may call it.
class ClockAdminService final : public v1::ClockAdmin::Service {
 public:
  ClockAdminService(ManualClock* clock, const auth::TokenRegistry* tokens);

  grpc::Status GetTime(grpc::ServerContext* context,
                       const v1::GetTimeRequest* request,
                       v1::ClockTime* response) override;
  grpc::Status SetTime(grpc::ServerContext* context,
                       const v1::SetTimeRequest* request,
                       v1::ClockTime* response) override;
  grpc::Status AdvanceTime(grpc::ServerContext* context,
                           const v1::AdvanceTimeRequest* request,
                           v1::ClockTime* response) override;

 private:
  ManualClock* clock_;
  const auth::TokenRegistry* tokens_;
};

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_CLOCK_ADMIN_H_
