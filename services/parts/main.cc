// The parts service: spare-parts inventory (SPEC §4).
#include <iostream>

#include "absl/flags/flag.h"
#include "parts/domain/policy.h"
#include "parts/parts_background.h"
#include "parts/parts_core.h"
#include "parts/parts_service.h"
#include "server/host.h"

ABSL_FLAG(std::string, policy_file, "",
          "Parts policy (text-format aftersales.v1.PartsPolicy); required. "
          "Reloaded on SIGHUP and by ReloadPolicy.");

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService(
      {.name = "parts", .column_families = parts::PartsRepository::ColumnFamilies()}, argc,
      argv, [](server::ServiceHost& host) -> absl::Status {
        const std::string path = absl::GetFlag(FLAGS_policy_file);
        if (path.empty()) return absl::InvalidArgumentError("--policy_file is required");
        auto policy = parts::PartsPolicyHolder::Load(path, parts::domain::ParsePartsPolicy,
                                                     host.clock().Now());
        if (!policy.ok()) return policy.status();
        auto* core = host.Own(std::make_unique<parts::PartsCore>(
            host.store(), host.clock(), host.registry(), *std::move(policy)));
        if (absl::Status s = core->Init(); !s.ok()) return s;
        // Reservations that expired while the service was down are released
        // before it serves anything (the sweeper's first pass).
        if (absl::Status s = parts::ExpireAllDue(*core); !s.ok()) return s;
        host.AddService(std::make_unique<parts::PartsServiceImpl>(core, &host.tokens()));
        host.OnReload([core, &host] {
          bool changed = false;
          absl::Status s = core->policy().Reload("", false, host.clock().Now(), &changed);
          std::cout << "parts: policy reload: " << (s.ok() ? "ok" : s.ToString())
                    << (changed ? " (changed)" : "") << std::endl;
        });
        host.AddBackgroundLoop([core, &host] { parts::RunExpirySweeper(*core, host.stop()); });
        // Intake's stream is optional: parts runs alone (requests then carry
        // the priority), and follows intake's orders when it is configured.
        if (host.HasPeer("intake")) {
          if (absl::Status s = host.AddConsumer(
                  "intake",
                  [core](const v1::Event& e, store::Batch& b) {
                    return core->ApplyIntakeEvent(e, b);
                  });
              !s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      });
}
