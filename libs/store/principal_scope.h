#ifndef AFTERSALES_LIBS_STORE_PRINCIPAL_SCOPE_H_
#define AFTERSALES_LIBS_STORE_PRINCIPAL_SCOPE_H_

#include <string>
#include <utility>

// Who the current thread writes for, recorded as actor.principal_id of the
// audit record of every commit whose Batch has no principal of its own
// (Batch::SetPrincipal wins). Header-only (an inline thread_local), so
// libs/rpc can set it without linking the store. docs/audit.md.
//
// Who sets it:
// - rpc::AuthorizeCall, on every call, before the handler does anything:
//   the authenticated principal's id, or "" when authorization fails. gRPC's
//   sync server reuses its threads for many calls; since every handler starts
//   with AuthorizeCall, a call never commits under its predecessor's name.
// - the event consumer, around applying one event: "consumer:<producer>".
// - anything else (background loops, startup) runs on its own threads, where
//   it is "" unless the code opens a PrincipalScope ("system:<loop>").
namespace aftersales::store {

inline thread_local std::string current_principal;

inline const std::string& CurrentPrincipal() { return current_principal; }

// Sets the thread's principal for one RPC call; no restore (the next call on
// the thread sets its own). Prefer PrincipalScope elsewhere.
inline void SetCurrentPrincipal(std::string principal) {
  current_principal = std::move(principal);
}

// Sets the thread's principal until the end of the scope, then restores it.
class PrincipalScope {
 public:
  explicit PrincipalScope(std::string principal)
      : previous_(std::exchange(current_principal, std::move(principal))) {}
  ~PrincipalScope() { current_principal = std::move(previous_); }
  PrincipalScope(const PrincipalScope&) = delete;
  PrincipalScope& operator=(const PrincipalScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace aftersales::store

#endif  // AFTERSALES_LIBS_STORE_PRINCIPAL_SCOPE_H_
