#ifndef AFTERSALES_LIBS_RPC_ADMISSION_H_
#define AFTERSALES_LIBS_RPC_ADMISSION_H_

#include "absl/status/status.h"
#include "auth/auth.h"
#include "grpcpp/grpcpp.h"

namespace aftersales::rpc {

// Decides whether an authorised call may run now (rate limits, overload).
// rpc::AuthorizeCall asks it once the caller is known and allowed, so every
// handler passes it without knowing it exists. libs/server installs one per
// process (server::RateLimiter); without one every call is admitted.
class CallAdmission {
 public:
  virtual ~CallAdmission() = default;
  // OK to run the call; RESOURCE_EXHAUSTED (with the reason) to refuse it.
  virtual absl::Status Admit(const grpc::ServerContextBase& context,
                             const auth::Principal& principal) = 0;
};

// Installs `admission` for every later AuthorizeCall (nullptr: admit all).
// The caller keeps it alive until it installs nullptr again.
void SetCallAdmission(CallAdmission* admission);

}  // namespace aftersales::rpc

#endif  // AFTERSALES_LIBS_RPC_ADMISSION_H_
