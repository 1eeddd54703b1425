#include "suite_client.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "aftersales/v1/admin.grpc.pb.h"
#include "rpc/rpc.h"

namespace aftersales::suite {

std::map<std::string, std::string> ReadPlainTokens(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string name, token;
    if (s >> name >> token) out[name] = token;
  }
  return out;
}

std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)));
  return ctx;
}

grpc::Status SetAllClocks(const NamedChannels& services, const std::string& admin_token,
                          absl::Time now, std::string* failed) {
  for (const auto& [name, channel] : services) {
    v1::SetTimeRequest req;
    *req.mutable_now() = rpc::ToProto(now);
    v1::ClockTime out;
    grpc::Status s = v1::ClockAdmin::NewStub(channel)->SetTime(
        BearerContext(admin_token).get(), req, &out);
    if (!s.ok()) {
      if (failed != nullptr) *failed = name;
      return s;
    }
  }
  return grpc::Status::OK;
}

grpc::Status AdvanceAllClocks(const NamedChannels& services, const std::string& admin_token,
                              absl::Duration by, std::string* failed) {
  for (const auto& [name, channel] : services) {
    v1::AdvanceTimeRequest req;
    *req.mutable_by() = rpc::ToProto(by);
    v1::ClockTime out;
    grpc::Status s = v1::ClockAdmin::NewStub(channel)->AdvanceTime(
        BearerContext(admin_token).get(), req, &out);
    if (!s.ok()) {
      if (failed != nullptr) *failed = name;
      return s;
    }
  }
  return grpc::Status::OK;
}

}  // namespace aftersales::suite
