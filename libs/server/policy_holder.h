#ifndef AFTERSALES_LIBS_SERVER_POLICY_HOLDER_H_
#define AFTERSALES_LIBS_SERVER_POLICY_HOLDER_H_

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "aftersales/v1/common.pb.h"
#include "auth/auth.h"
#include "google/protobuf/message.h"
#include "rpc/rpc.h"

namespace aftersales::server {

// Parses text-format protobuf into `policy`. The first syntax error is
// INVALID_ARGUMENT "policy: line L column C: <parser message>" (1-based), so
// an operator finds the typo; validating the values is the caller's job.
absl::Status ParseTextPolicy(absl::string_view text, google::protobuf::Message* policy);

// A service's versioned policy (SPEC: every number is a policy default):
// loaded from a text-format file at start, replaced atomically by Reload (the
// ReloadPolicy RPC or SIGHUP). A policy that does not validate changes
// nothing. Readers take a snapshot, so a decision never sees half of a
// reload; every record keeps the PolicyRef it was judged by. Earlier versions
// stay retrievable by version. Thread-safe.
template <typename Policy>
class PolicyHolder {
 public:
  // Parses and fully validates policy text (INVALID_ARGUMENT naming the field).
  using Parser = std::function<absl::StatusOr<Policy>(absl::string_view)>;

  static absl::StatusOr<std::unique_ptr<PolicyHolder>> Load(std::string path,
                                                            Parser parse,
                                                            absl::Time now) {
    std::unique_ptr<PolicyHolder> holder(new PolicyHolder(std::move(path), std::move(parse)));
    bool changed = false;
    absl::Status s = holder->Reload("", false, now, &changed);
    if (!s.ok()) return s;
    return holder;
  }

  std::shared_ptr<const Policy> Current() const {
    absl::MutexLock lock(&mu_);
    return current_;
  }
  v1::PolicyInfo Info() const {
    absl::MutexLock lock(&mu_);
    return info_;
  }
  // An earlier (or the current) version, or nullptr.
  std::shared_ptr<const Policy> Version(const std::string& version) const {
    absl::MutexLock lock(&mu_);
    auto it = versions_.find(version);
    return it == versions_.end() ? nullptr : it->second;
  }

  // Re-reads the file (inline_text empty) or takes `inline_text`; validates;
  // activates unless dry_run. `changed` is false when nothing was activated.
  absl::Status Reload(const std::string& inline_text, bool dry_run, absl::Time now,
                      bool* changed) {
    *changed = false;
    std::string text = inline_text;
    std::string source = "rpc";
    if (text.empty()) {
      std::ifstream in(path_);
      if (!in) return absl::NotFoundError(absl::StrCat("policy file: cannot read ", path_));
      std::stringstream buf;
      buf << in.rdbuf();
      text = buf.str();
      source = path_;
    }
    auto parsed = parse_(text);
    if (!parsed.ok()) return parsed.status();
    const std::string hash = auth::Sha256Hex(text);
    absl::MutexLock lock(&mu_);
    if (dry_run || hash == info_.content_sha256()) return absl::OkStatus();
    auto policy = std::make_shared<const Policy>(*std::move(parsed));
    v1::PolicyInfo info;
    *info.mutable_ref() = policy->ref();
    *info.mutable_loaded_at() = rpc::ToProto(now);
    info.set_source(source);
    info.set_content_sha256(hash);
    versions_[policy->ref().version()] = policy;
    current_ = std::move(policy);
    info_ = std::move(info);
    *changed = true;
    return absl::OkStatus();
  }

  const std::string& path() const { return path_; }

 private:
  PolicyHolder(std::string path, Parser parse)
      : path_(std::move(path)), parse_(std::move(parse)) {}

  const std::string path_;
  const Parser parse_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Policy> current_ ABSL_GUARDED_BY(mu_);
  v1::PolicyInfo info_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const Policy>> versions_ ABSL_GUARDED_BY(mu_);
};

// The GetPolicy RPC every service serves: the active policy, or a retained
// earlier version (NOT_FOUND "version: ..." if unknown).
template <typename Policy, typename Snapshot>
absl::Status AnswerGetPolicy(const PolicyHolder<Policy>& holder,
                             const v1::GetPolicyRequest& request, Snapshot* response) {
  if (request.version().size() > 64) {
    return absl::InvalidArgumentError("version: at most 64 characters");
  }
  if (request.version().empty()) {
    *response->mutable_info() = holder.Info();
    *response->mutable_policy() = *holder.Current();
    return absl::OkStatus();
  }
  auto policy = holder.Version(request.version());
  if (policy == nullptr) return absl::NotFoundError("version: no such policy version");
  *response->mutable_policy() = *policy;
  *response->mutable_info()->mutable_ref() = policy->ref();
  return absl::OkStatus();
}

// The ReloadPolicy RPC every service serves (ADMIN is checked by the caller):
// re-read the file or take inline text, validate, activate unless dry_run.
template <typename Policy>
absl::Status AnswerReloadPolicy(PolicyHolder<Policy>& holder,
                                const v1::ReloadPolicyRequest& request, absl::Time now,
                                v1::ReloadPolicyResponse* response) {
  if (request.inline_text().size() > (1 << 20)) {
    return absl::InvalidArgumentError("inline_text: at most 1 MiB");
  }
  *response->mutable_previous() = holder.Info();
  bool changed = false;
  if (absl::Status s = holder.Reload(request.inline_text(), request.dry_run(), now, &changed);
      !s.ok()) {
    return s;
  }
  *response->mutable_active() = holder.Info();
  response->set_changed(changed);
  return absl::OkStatus();
}

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_POLICY_HOLDER_H_
