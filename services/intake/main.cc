// The intake service: work orders, their lifecycle and SLA clocks (SPEC §2).
#include "absl/flags/flag.h"
#include "intake/domain/policy.h"
#include "intake/intake_background.h"
#include "intake/intake_service.h"
#include "privacy/key_flags.h"
#include "server/host.h"

ABSL_FLAG(std::string, policy_file, "",
          "Intake policy (text-format aftersales.v1.IntakePolicy); required. "
          "Reloaded on SIGHUP and by ReloadPolicy.");

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService(
      {.name = "intake", .column_families = intake::OrderRepository::ColumnFamilies()},
      argc, argv, [](server::ServiceHost& host) -> absl::Status {
        const std::string path = absl::GetFlag(FLAGS_policy_file);
        if (path.empty()) return absl::InvalidArgumentError("--policy_file is required");
        auto policy = intake::IntakePolicyHolder::Load(
            path, intake::domain::ParseIntakePolicy, host.clock().Now());
        if (!policy.ok()) return policy.status();
        auto keys = privacy::OpenServiceKeys(host);
        if (!keys.ok()) return keys.status();
        auto* core = host.Own(
            std::make_unique<intake::IntakeCore>(host, *std::move(policy), *keys));
        if (absl::Status s = core->InitMetrics(); !s.ok()) return s;
        host.AddService(std::make_unique<intake::IntakeServiceImpl>(core));
        host.OnReload([core, &host] {
          bool changed = false;
          absl::Status s = core->policy().Reload("", false, host.clock().Now(), &changed);
          std::cout << "intake: policy reload: " << (s.ok() ? "ok" : s.ToString())
                    << (changed ? " (changed)" : "") << std::endl;
        });
        host.AddBackgroundLoop([core] { intake::RunSweeper(*core); });
        // Consume peers that are configured; each is optional so intake can
        // run alone (its own clocks and API work without them).
        const std::pair<const char*, absl::Status (*)(intake::IntakeCore&, const v1::Event&,
                                                     store::Batch&)>
            peers[] = {{"dispatch", intake::ApplyDispatchEvent},
                       {"parts", intake::ApplyPartsEvent},
                       {"complaint", intake::ApplyComplaintEvent},
                       {"satisfaction", intake::ApplySatisfactionEvent}};
        for (const auto& [peer, apply] : peers) {
          if (!host.HasPeer(peer)) continue;
          auto fn = apply;
          if (absl::Status s = host.AddConsumer(
                  peer, [core, fn](const v1::Event& e, store::Batch& b) {
                    return fn(*core, e, b);
                  });
              !s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      });
}
