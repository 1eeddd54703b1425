// The complaint service: complaint intake, explainable grading, lifecycle,
// deadlines and escalation (SPEC §5).
#include <iostream>

#include "absl/flags/flag.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "complaint/complaint_background.h"
#include "complaint/complaint_service.h"
#include "complaint/domain/policy.h"
#include "rpc/rpc.h"
#include "server/flags.h"
#include "privacy/key_flags.h"
#include "server/host.h"

ABSL_FLAG(std::string, policy_file, "",
          "Complaint policy (text-format aftersales.v1.ComplaintPolicy); required. "
          "Reloaded on SIGHUP and by ReloadPolicy.");

namespace {

using namespace aftersales;

// Reads a detractor survey's comment from satisfaction (GetSurvey).
complaint::ComplaintCore::SurveyCommentFn SurveyComments(server::ServiceHost& host) {
  auto channel = grpc::CreateChannel(server::PeerAddressFlag("satisfaction"),
                                     host.PeerCredentials());
  std::shared_ptr<v1::SatisfactionService::Stub> stub =
      v1::SatisfactionService::NewStub(channel);
  const std::string token = host.service_token();
  return [stub, token](const std::string& survey_id) -> absl::StatusOr<std::string> {
    grpc::ClientContext context;
    rpc::SetBearerToken(context, token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetSurveyRequest request;
    request.set_survey_id(survey_id);
    v1::Survey survey;
    grpc::Status s = stub->GetSurvey(&context, request, &survey);
    if (!s.ok()) return rpc::FromGrpc(s);
    return survey.response().comment();
  };
}

}  // namespace

int main(int argc, char** argv) {
  return server::RunService(
      {.name = "complaint", .column_families = complaint::ComplaintRepository::ColumnFamilies()},
      argc, argv, [](server::ServiceHost& host) -> absl::Status {
        const std::string path = absl::GetFlag(FLAGS_policy_file);
        if (path.empty()) return absl::InvalidArgumentError("--policy_file is required");
        auto policy = complaint::ComplaintPolicyHolder::Load(
            path, complaint::domain::ParseComplaintPolicy, host.clock().Now());
        if (!policy.ok()) return policy.status();
        auto keys = privacy::OpenServiceKeys(host);
        if (!keys.ok()) return keys.status();
        auto* core = host.Own(
            std::make_unique<complaint::ComplaintCore>(host, *std::move(policy), *keys));
        if (absl::Status s = core->InitMetrics(); !s.ok()) return s;
        host.AddService(std::make_unique<complaint::ComplaintServiceImpl>(core));
        host.OnReload([core, &host] {
          bool changed = false;
          absl::Status s = core->policy().Reload("", false, host.clock().Now(), &changed);
          std::cout << "complaint: policy reload: " << (s.ok() ? "ok" : s.ToString())
                    << (changed ? " (changed)" : "") << std::endl;
        });
        host.AddBackgroundLoop([core] { complaint::RunBackground(*core); });
        // Peers are optional: complaint files and grades on its own; intake's
        // stream adds order context, satisfaction's adds detractor complaints.
        if (host.HasPeer("intake")) {
          if (absl::Status s = host.AddConsumer(
                  "intake", [core](const v1::Event& e, store::Batch& b) {
                    return complaint::ApplyIntakeEvent(*core, e, b);
                  });
              !s.ok()) {
            return s;
          }
        }
        if (host.HasPeer("satisfaction")) {
          core->set_survey_comment(SurveyComments(host));
          if (absl::Status s = host.AddConsumer(
                  "satisfaction", [core](const v1::Event& e, store::Batch& b) {
                    return complaint::ApplySatisfactionEvent(*core, e, b);
                  });
              !s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      });
}
