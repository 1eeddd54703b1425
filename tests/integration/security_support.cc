#include "integration/security_support.h"

#include "absl/strings/str_cat.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"

namespace aftersales::testing {

const absl::Time kSuiteStart = absl::FromUnixSeconds(1795399200);

namespace {

// Waits for the one outstanding operation; false if it failed.
bool Step(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  if (!cq.Next(&tag, &ok)) return false;
  return ok;
}

void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }

}  // namespace

ProbeResult Probe(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                  const std::string& request, const std::string& token,
                  absl::Duration deadline) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  ProbeResult result;
  call->StartCall(Tag(1));
  bool ok = Step(cq);
  if (ok) {
    grpc::Slice slice(request);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, Tag(2));
    ok = Step(cq);
  }
  if (ok) {
    call->WritesDone(Tag(3));
    ok = Step(cq);
  }
  if (ok) {
    grpc::ByteBuffer response;
    call->Read(&response, Tag(4));
    if (Step(cq)) {
      result.got_response = true;
      std::vector<grpc::Slice> slices;
      if (response.Dump(&slices).ok()) {
        for (const auto& s : slices) {
          result.response.append(reinterpret_cast<const char*>(s.begin()), s.size());
        }
      }
      ctx.TryCancel();  // a stream would go on; one message is the answer
    }
  }
  grpc::Status status;
  call->Finish(&status, Tag(5));
  Step(cq);
  cq.Shutdown();
  void* tag;
  bool ignored;
  while (cq.Next(&tag, &ignored)) {
  }
  result.code = status.error_code();
  result.message = status.error_message();
  // Our own cancel after the first message is not the server's answer.
  if (result.got_response && result.code == grpc::StatusCode::CANCELLED) {
    result.code = grpc::StatusCode::OK;
  }
  return result;
}

const google::protobuf::ServiceDescriptor* FindService(const std::string& full_name) {
  // Touch every contract so its descriptors are in the generated pool.
  static const bool linked = [] {
    (void)v1::IntakeService::service_full_name();
    (void)v1::DispatchService::service_full_name();
    (void)v1::PartsService::service_full_name();
    (void)v1::ComplaintService::service_full_name();
    (void)v1::SatisfactionService::service_full_name();
    (void)v1::EventStream::service_full_name();
    (void)v1::ClockAdmin::service_full_name();
    (void)v1::GetOrderRequest::descriptor();
    (void)v1::GetTimeRequest::descriptor();
    (void)v1::SubscribeRequest::descriptor();
    (void)v1::GetPartRequest::descriptor();
    (void)v1::GetComplaintRequest::descriptor();
    (void)v1::GetSurveyRequest::descriptor();
    (void)v1::GetEngineerRequest::descriptor();
    return true;
  }();
  (void)linked;
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_name);
}

const std::vector<std::string>& MatrixPrincipals() {
  static const std::vector<std::string> principals = {
      "partner-a", "partner-b", "engineer", "agent", "app",
      "service",   "admin",     "auditor",  "none",  "bad-token"};
  return principals;
}

std::string TokenOf(const TestTokens& tokens, const std::string& principal) {
  if (principal == "none") return "";
  if (principal == "bad-token") return "not-a-token-of-this-suite";
  return tokens.token.at(principal);
}

const std::vector<std::string>& ServiceNames() {
  static const std::vector<std::string> names = {"intake", "dispatch", "parts", "complaint",
                                                 "satisfaction"};
  return names;
}

Suite::Suite() {
  auto options = [&](const std::string& name) {
    ServiceProcess::Options o;
    o.name = name;
    o.data_dir = dir.Sub(name);
    o.tokens = &tokens;
    o.manual_clock = true;
    o.extra_flags = {"--clock_start=" +
                     absl::FormatTime(absl::RFC3339_full, kSuiteStart, absl::UTCTimeZone())};
    return o;
  };
  services["intake"] = std::make_unique<ServiceProcess>(options("intake"));
  auto d = options("dispatch");
  d.peers["intake"] = services["intake"]->address();
  services["dispatch"] = std::make_unique<ServiceProcess>(d);
  services["intake"]->SetPeer("dispatch", services["dispatch"]->address());
  services["intake"]->Restart();
  for (const char* name : {"parts", "complaint", "satisfaction"}) {
    services[name] = std::make_unique<ServiceProcess>(options(name));
  }
}

}  // namespace aftersales::testing
