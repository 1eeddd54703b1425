// Outages (issue 11): all five services run with every event stream wired,
// under a partner-like order load; one of them is killed and stays down for
// a minute (AFTERSALES_OUTAGE_SECONDS, default 60). Meanwhile the other four
// keep answering; the outage shows in metrics (the producer's lag for the
// missing consumer grows, consumers of the missing producer report
// connected=0 and how long they have been without it). When it returns,
// every consumer catches up, every lag gauge returns to zero and nothing
// acknowledged is lost. One TEST_CASE (= one ctest test) per service.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include "catch2/catch.hpp"
#include "integration/reliability_util.h"
#include "support/grpc_probe.h"

namespace aftersales {
namespace {

using reliability::IntakeOrdersBySerial;
using reliability::MetricValue;
using reliability::OrderLoad;
using testing::ServiceProcess;

const char* const kServices[] = {"intake", "dispatch", "parts", "complaint", "satisfaction"};

std::string ServiceFullName(const std::string& name) {
  if (name == "intake") return "aftersales.v1.IntakeService";
  if (name == "dispatch") return "aftersales.v1.DispatchService";
  if (name == "parts") return "aftersales.v1.PartsService";
  if (name == "complaint") return "aftersales.v1.ComplaintService";
  return "aftersales.v1.SatisfactionService";
}

// Every `consumer="..."` label value of `metric` in a scrape.
std::vector<std::string> ConsumerLabels(const std::string& text, const std::string& metric) {
  std::vector<std::string> out;
  const std::regex re(metric + R"(\{[^}]*consumer="([^"]+)\"[^}]*\} )");
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

// Calls GetPolicy (a read every service has) on each service every 200 ms
// and counts successes and failures per service while `window` is on.
class Prober {
 public:
  Prober(std::map<std::string, std::shared_ptr<grpc::Channel>> channels, std::string token)
      : channels_(std::move(channels)), token_(std::move(token)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Prober() {
    stop_ = true;
    thread_.join();
  }
  void SetWindow(bool on) { window_ = on; }
  struct Count {
    int ok = 0, failed = 0;
    std::string last_error;
  };
  std::map<std::string, Count> counts() {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }

 private:
  void Run() {
    while (!stop_) {
      for (const auto& [name, channel] : channels_) {
        std::string response;
        grpc::Status s = testing::RawUnaryCall(
            channel, "/" + ServiceFullName(name) + "/GetPolicy", "", token_, &response);
        if (!window_) continue;
        std::lock_guard<std::mutex> lock(mu_);
        Count& c = counts_[name];
        if (s.ok()) {
          ++c.ok;
        } else {
          ++c.failed;
          c.last_error = s.error_message();
        }
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  }
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  const std::string token_;
  std::atomic<bool> stop_{false}, window_{false};
  std::mutex mu_;
  std::map<std::string, Count> counts_;
  std::thread thread_;
};

void RunOutage(const std::string& down) {
  const int outage_seconds = reliability::EnvInt("AFTERSALES_OUTAGE_SECONDS", 60);
  std::cout << "outage of " << down << " for " << outage_seconds << " s" << std::endl;
  testing::TempDir dir;
  testing::TestTokens tokens(dir.path());
  std::map<std::string, std::unique_ptr<ServiceProcess>> svc;
  for (const char* name : kServices) {
    ServiceProcess::Options o;
    o.name = name;
    o.data_dir = dir.Sub(name);
    o.tokens = &tokens;
    if (std::string(name) == "dispatch") o.peers["intake"] = svc["intake"]->address();
    svc[name] = std::make_unique<ServiceProcess>(o);
  }
  // Everyone follows everyone it consumes: point each at every peer.
  for (auto& [name, p] : svc) {
    for (auto& [peer, q] : svc) {
      if (peer != name) p->SetPeer(peer, q->address());
    }
    p->Kill();  // faster than a drained stop, and the same data comes back
    p->Restart();
  }
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  for (auto& [name, p] : svc) channels[name] = reliability::FastChannel(p->address());

  OrderLoad load(svc["intake"]->address(), tokens.token["partner-a"], "out-" + down,
                 /*threads=*/2, /*pause=*/absl::Milliseconds(40));
  Prober prober(channels, tokens.token["admin"]);
  absl::SleepFor(absl::Seconds(3));
  REQUIRE(load.acknowledged_count() > 0);

  // Down: a crash, not a clean stop.
  ServiceProcess& victim = *svc[down];
  victim.Kill();
  prober.SetWindow(true);
  const absl::Time back_at = absl::Now() + absl::Seconds(outage_seconds);
  absl::SleepFor(std::max(absl::Seconds(outage_seconds) - absl::Seconds(2),
                          absl::Seconds(outage_seconds) / 2));

  // The outage is visible in metrics while it lasts.
  int visible = 0;
  if (down != "intake") {
    // Intake (under load) sees its consumer fall behind.
    const std::string m = svc["intake"]->ScrapeMetrics();
    const std::string label = "consumer=\"" + down + "<-intake\"";
    const double lag = MetricValue(m, "aftersales_event_stream_consumer_lag_events", label);
    INFO("intake's lag for " << down << ": " << lag);
    CHECK(lag > 0);
    CHECK(MetricValue(m, "aftersales_event_stream_consumer_connected", label) == 0);
    ++visible;
  }
  for (auto& [name, p] : svc) {
    if (name == down) continue;
    const std::string m = p->ScrapeMetrics();
    const std::string label = "consumer=\"" + name + "<-" + down + "\"";
    if (MetricValue(m, "aftersales_event_consumer_connected", label) < 0) continue;
    INFO(name << " consuming " << down);
    CHECK(MetricValue(m, "aftersales_event_consumer_connected", label) == 0);
    CHECK(MetricValue(m, "aftersales_event_consumer_disconnected_seconds", label) >
          std::min(5, outage_seconds / 3));
    ++visible;
  }
  CHECK(visible > 0);

  absl::SleepFor(std::max(absl::ZeroDuration(), back_at - absl::Now()));
  prober.SetWindow(false);
  victim.Restart();
  channels[down] = reliability::FastChannel(victim.address());

  // The others kept serving throughout.
  for (const auto& [name, c] : prober.counts()) {
    if (name == down) continue;
    INFO(name << " during the outage of " << down << ": " << c.ok << " ok, " << c.failed
              << " failed (" << c.last_error << ")");
    CHECK(c.failed == 0);
    CHECK(c.ok >= outage_seconds);  // ~5 probes a second
  }
  // The load went on while the outage lasted (unless intake itself was down).
  const size_t acked_at_return = load.acknowledged_count();

  absl::SleepFor(absl::Seconds(3));
  load.Stop();
  REQUIRE(load.given_up() == 0);
  CHECK(load.acknowledged_count() > acked_at_return);
  const auto acked = load.acknowledged();

  // Every consumer catches up: every lag gauge, on the consumer's side and
  // on the producer's, returns to zero with the stream connected again.
  std::string not_caught_up;
  const bool caught_up = testing::Eventually(
      [&] {
        not_caught_up.clear();
        for (auto& [name, p] : svc) {
          const std::string m = p->ScrapeMetrics();
          for (const std::string& c :
               ConsumerLabels(m, "aftersales_event_consumer_lag_events")) {
            const std::string label = "consumer=\"" + c + "\"";
            if (MetricValue(m, "aftersales_event_consumer_lag_events", label) != 0 ||
                MetricValue(m, "aftersales_event_consumer_connected", label) != 1) {
              not_caught_up += " " + c;
            }
          }
          for (const std::string& c :
               ConsumerLabels(m, "aftersales_event_stream_consumer_lag_events")) {
            const std::string label = "consumer=\"" + c + "\"";
            if (MetricValue(m, "aftersales_event_stream_consumer_lag_events", label) != 0) {
              not_caught_up += " " + c + "(at " + name + ")";
            }
          }
        }
        return not_caught_up.empty();
      },
      absl::Seconds(60));
  INFO("still behind:" << not_caught_up);
  CHECK(caught_up);
  // Each service follows what it should (the gauges above were not vacuous).
  const std::string intake_metrics = svc["intake"]->ScrapeMetrics();
  CHECK(ConsumerLabels(intake_metrics, "aftersales_event_stream_consumer_lag_events").size() >=
        4);
  CHECK(ConsumerLabels(intake_metrics, "aftersales_event_consumer_lag_events").size() == 4);

  // Nothing acknowledged was lost: each acknowledged order is in intake
  // exactly once and dispatch knows it.
  const auto by_serial = IntakeOrdersBySerial(channels["intake"], tokens.token["agent"]);
  REQUIRE(by_serial.count("<error>") == 0);
  size_t lost = 0, duplicated = 0;
  std::set<std::string> expected;
  for (const auto& [request_id, order_id] : acked) {
    auto it = by_serial.find(request_id);
    if (it == by_serial.end()) {
      ++lost;
    } else if (it->second.size() != 1 || it->second.front() != order_id) {
      ++duplicated;
    }
    expected.insert(order_id);
  }
  CHECK(lost == 0);
  CHECK(duplicated == 0);
  std::vector<std::string> unknown;
  testing::Eventually(
      [&] {
        unknown = reliability::UnknownToDispatch(channels["dispatch"], tokens.token["agent"],
                                                 expected);
        return unknown.empty();
      },
      absl::Seconds(30));
  INFO("orders dispatch does not know: " << unknown.size() << " of " << expected.size()
                                         << (unknown.empty() ? "" : ", e.g. " + unknown[0]));
  CHECK(unknown.empty());
  std::cout << down << " outage: " << acked.size() << " orders acknowledged, "
            << load.failed_attempts() << " failed attempts retried" << std::endl;

  // The service that was down serves again.
  CHECK(testing::HealthStatus(victim.channel(), "") == 1);
  for (auto& [name, p] : svc) p->Kill();  // no need to drain at the end
}

TEST_CASE("Outage of intake for a minute under load") { RunOutage("intake"); }
TEST_CASE("Outage of dispatch for a minute under load") { RunOutage("dispatch"); }
TEST_CASE("Outage of parts for a minute under load") { RunOutage("parts"); }
TEST_CASE("Outage of complaint for a minute under load") { RunOutage("complaint"); }
TEST_CASE("Outage of satisfaction for a minute under load") { RunOutage("satisfaction"); }

}  // namespace
}  // namespace aftersales
