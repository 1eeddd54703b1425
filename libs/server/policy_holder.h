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
#include "rpc/rpc.h"

namespace aftersales::server {

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

}  // namespace aftersales::server

#endif  // AFTERSALES_LIBS_SERVER_POLICY_HOLDER_H_
