// The satisfaction service: surveys, CSAT/NPS scorecards, engineer ratings,
// churn risk and the Service Quality Index (SPEC §6).
#include <iostream>

#include "absl/flags/flag.h"
#include "satisfaction/domain/policy.h"
#include "satisfaction/satisfaction_core.h"
#include "satisfaction/satisfaction_service.h"
#include "privacy/key_flags.h"
#include "server/host.h"

ABSL_FLAG(std::string, policy_file, "",
          "Satisfaction policy (text-format aftersales.v1.SatisfactionPolicy); required. "
          "Reloaded on SIGHUP and by ReloadPolicy.");

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService(
      {.name = "satisfaction",
       .column_families = satisfaction::SatisfactionRepository::ColumnFamilies()},
      argc, argv, [](server::ServiceHost& host) -> absl::Status {
        const std::string path = absl::GetFlag(FLAGS_policy_file);
        if (path.empty()) return absl::InvalidArgumentError("--policy_file is required");
        auto policy = satisfaction::SatisfactionPolicyHolder::Load(
            path, satisfaction::domain::ParseSatisfactionPolicy, host.clock().Now());
        if (!policy.ok()) return policy.status();
        auto keys = privacy::OpenServiceKeys(host);
        if (!keys.ok()) return keys.status();
        auto* core = host.Own(std::make_unique<satisfaction::SatisfactionCore>(
            host, *std::move(policy), *keys));
        host.AddService(std::make_unique<satisfaction::SatisfactionServiceImpl>(core));
        host.OnReload([core, &host] {
          bool changed = false;
          absl::Status s = core->policy().Reload("", false, host.clock().Now(), &changed);
          std::cout << "satisfaction: policy reload: " << (s.ok() ? "ok" : s.ToString())
                    << (changed ? " (changed)" : "") << std::endl;
        });
        host.AddBackgroundLoop([core] { satisfaction::RunBackground(*core); });
        // Peers are optional: without intake no survey is scheduled; without
        // complaint, churn and SQI count no complaints.
        if (host.HasPeer("intake")) {
          absl::Status s = host.AddConsumer("intake", [core](const v1::Event& e, store::Batch& b) {
            return core->ApplyIntakeEvent(e, b);
          });
          if (!s.ok()) return s;
        }
        if (host.HasPeer("complaint")) {
          absl::Status s =
              host.AddConsumer("complaint", [core](const v1::Event& e, store::Batch& b) {
                return core->ApplyComplaintEvent(e, b);
              });
          if (!s.ok()) return s;
        }
        return absl::OkStatus();
      });
}
