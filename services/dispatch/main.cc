// The dispatch service: engineers and assignment (SPEC §3).
#include <iostream>

#include "absl/flags/flag.h"
#include "dispatch/dispatch_service.h"
#include "dispatch/dispatcher.h"
#include "server/host.h"

ABSL_FLAG(std::string, policy_file, "",
          "Dispatch policy (text-format aftersales.v1.DispatchPolicy); required. "
          "Reloaded on SIGHUP and by ReloadPolicy.");

int main(int argc, char** argv) {
  using namespace aftersales;
  return server::RunService(
      {.name = "dispatch", .column_families = dispatch::Dispatcher::ColumnFamilies()}, argc,
      argv, [](server::ServiceHost& host) -> absl::Status {
        const std::string path = absl::GetFlag(FLAGS_policy_file);
        if (path.empty()) return absl::InvalidArgumentError("--policy_file is required");
        auto policy = dispatch::DispatchPolicyHolder::Load(
            path, dispatch::domain::ParseDispatchPolicy, host.clock().Now());
        if (!policy.ok()) return policy.status();
        auto* d = host.Own(std::make_unique<dispatch::Dispatcher>(host, *std::move(policy)));
        if (absl::Status s = d->Load(); !s.ok()) return s;
        host.AddService(std::make_unique<dispatch::DispatchServiceImpl>(d));
        host.OnReload([d, &host] {
          bool changed = false;
          absl::Status s = d->policy().Reload("", false, host.clock().Now(), &changed);
          std::cout << "dispatch: policy reload: " << (s.ok() ? "ok" : s.ToString())
                    << (changed ? " (changed)" : "") << std::endl;
        });
        // Offer timeouts and queue retries follow the service clock.
        host.AddBackgroundLoop([d, &host] {
          while (!host.stop().stopped()) {
            if (absl::Status s = d->Tick(); !s.ok()) {
              std::cerr << "dispatch: tick failed: " << s << std::endl;
            }
            host.clock().WaitUntil(d->NextTick(), absl::Milliseconds(250));
          }
        });
        if (host.HasPeer("satisfaction")) {
          if (absl::Status s = host.AddConsumer(
                  "satisfaction", [d](const v1::Event& e, store::Batch& b) {
                    return d->ApplySatisfactionEvent(e, b);
                  });
              !s.ok()) {
            return s;
          }
        }
        return host.AddConsumer("intake", [d](const v1::Event& e, store::Batch& b) {
          return d->ApplyIntakeEvent(e, b);
        });
      });
}
