// What the drivers that play a simulated day against a running suite share
// (aftersales_demo and bench/citysim): the plain tokens file of the local
// run scripts, bearer-token client contexts, and moving every service's
// manual clock together.
#ifndef AFTERSALES_SERVICES_AFTERSALESCTL_SUITE_CLIENT_H_
#define AFTERSALES_SERVICES_AFTERSALESCTL_SUITE_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace aftersales::suite {

// "name token" per line; '#' lines and blank lines are skipped. A missing
// file gives an empty map.
std::map<std::string, std::string> ReadPlainTokens(const std::string& path);

// A client context sending `authorization: Bearer <token>`, with a deadline.
std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   absl::Duration timeout = absl::Seconds(10));

using NamedChannels = std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>>;

// Sets / advances the manual clock of every service (ClockAdmin, admin
// token). On failure: the failing service's name in `failed` and its status.
grpc::Status SetAllClocks(const NamedChannels& services, const std::string& admin_token,
                          absl::Time now, std::string* failed);
grpc::Status AdvanceAllClocks(const NamedChannels& services, const std::string& admin_token,
                              absl::Duration by, std::string* failed);

}  // namespace aftersales::suite

#endif  // AFTERSALES_SERVICES_AFTERSALESCTL_SUITE_CLIENT_H_
