// Helpers shared by the reliability tests (crash loop, outages, overload):
// clients that reconnect fast, a partner-like order load that retries with
// the same request id, and readers of what intake and dispatch hold.
#ifndef AFTERSALES_TESTS_INTEGRATION_RELIABILITY_UTIL_H_
#define AFTERSALES_TESTS_INTEGRATION_RELIABILITY_UTIL_H_

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "support/fixtures.h"
#include "support/test_support.h"

namespace aftersales::reliability {

// A channel that tries to reconnect to a restarted server at least every
// ~0.5 s (gRPC's default reconnect backoff grows to two minutes). A retry
// attempt only completes while some thread polls gRPC, though: fail-fast calls
// on a channel in TRANSIENT_FAILURE return at once without polling, so a
// client that only makes those can stay disconnected for up to gRPC's 5 s
// backup poll. Clients that must get through soon after a restart make their
// calls wait_for_ready (as OrderLoad can) with a deadline.
inline std::shared_ptr<grpc::Channel> FastChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// The value of the first sample of `name` whose labels contain `labels`
// (e.g. "consumer=\"dispatch<-intake\""), or -1 if there is none.
inline double MetricValue(const std::string& text, const std::string& name,
                          const std::string& labels = "") {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next != '{' && next != ' ') continue;  // a longer metric name
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    double v = 0;
    const size_t space = line.rfind(' ');
    if (space != std::string::npos &&
        absl::SimpleAtod(absl::string_view(line).substr(space + 1), &v)) {
      return v;
    }
  }
  return -1;
}

// Sum of every sample of `name` whose labels contain `labels`.
inline double MetricSum(const std::string& text, const std::string& name,
                        const std::string& labels = "") {
  std::istringstream in(text);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size() + 1, name + "{") != 0 &&
        line.compare(0, name.size() + 1, name + " ") != 0) {
      continue;
    }
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    double v = 0;
    const size_t space = line.rfind(' ');
    if (space != std::string::npos &&
        absl::SimpleAtod(absl::string_view(line).substr(space + 1), &v)) {
      sum += v;
    }
  }
  return sum;
}

// Like a partner system: each thread creates orders one after another; a
// failed create is retried with the SAME request id (and body) until it is
// acknowledged. Each order has its own customer and serial, so intake never
// links two of them as duplicates, and the serial names the request.
// With `wait_for_ready` each call waits (up to its 3 s deadline) for the
// channel to reconnect instead of failing at once while intake is down; it
// is what makes the load reach a restarted intake within a backoff step
// (see FastChannel).
class OrderLoad {
 public:
  OrderLoad(std::string address, std::string token, std::string prefix, int threads,
            absl::Duration pause = absl::ZeroDuration(), bool wait_for_ready = false)
      : address_(std::move(address)),
        token_(std::move(token)),
        prefix_(std::move(prefix)),
        pause_(pause),
        wait_for_ready_(wait_for_ready) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
  ~OrderLoad() { Stop(); }

  // Lets each thread finish (acknowledge) the request it is on, then joins.
  void Stop() {
    stopping_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // request id -> order id of every acknowledged create.
  std::map<std::string, std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  size_t acknowledged_count() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }
  int failed_attempts() const { return failed_.load(); }
  int given_up() const { return given_up_.load(); }

 private:
  void Run(int thread) {
    auto stub = v1::IntakeService::NewStub(FastChannel(address_));
    for (int i = 0; !stopping_; ++i) {
      const std::string id = absl::StrCat(prefix_, "-t", thread, "-", i);
      v1::CreateOrderRequest request = testing::SampleOrderRequest(id, id);
      request.set_customer_id("C-" + id);
      // Retry until acknowledged; after Stop() give it at most 60 s more.
      absl::Time give_up = absl::InfiniteFuture();
      while (true) {
        if (stopping_ && give_up == absl::InfiniteFuture()) {
          give_up = absl::Now() + absl::Seconds(60);
        }
        v1::CreateOrderResponse response;
        auto context = testing::Context(token_, absl::Seconds(3));
        if (wait_for_ready_) context->set_wait_for_ready(true);
        grpc::Status s = stub->CreateOrder(context.get(), request, &response);
        if (s.ok()) {
          std::lock_guard<std::mutex> lock(mu_);
          acked_[id] = response.order().order_id();
          break;
        }
        failed_.fetch_add(1);
        if (absl::Now() > give_up) {
          given_up_.fetch_add(1);
          break;
        }
        absl::SleepFor(absl::Milliseconds(50));
      }
      if (pause_ > absl::ZeroDuration()) absl::SleepFor(pause_);
    }
  }

  const std::string address_, token_, prefix_;
  const absl::Duration pause_;
  const bool wait_for_ready_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> failed_{0}, given_up_{0};
  std::mutex mu_;
  std::map<std::string, std::string> acked_;
  std::vector<std::thread> threads_;
};

// Every order intake holds: serial (= request id of the load) -> order ids.
inline std::map<std::string, std::vector<std::string>> IntakeOrdersBySerial(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& token) {
  auto stub = v1::IntakeService::NewStub(channel);
  std::map<std::string, std::vector<std::string>> out;
  std::string page_token;
  do {
    v1::ListOrdersRequest request;
    request.mutable_page()->set_page_size(500);
    request.mutable_page()->set_page_token(page_token);
    v1::ListOrdersResponse response;
    grpc::Status s = stub->ListOrders(testing::Context(token).get(), request, &response);
    if (!s.ok()) {
      out.clear();
      out["<error>"] = {s.error_message()};
      return out;
    }
    for (const auto& o : response.orders()) {
      out[o.appliance().serial()].push_back(o.order_id());
    }
    page_token = response.next_page_token();
  } while (!page_token.empty());
  return out;
}

// Every order dispatch knows (it learns them from intake's events).
inline std::set<std::string> DispatchOrderIds(const std::shared_ptr<grpc::Channel>& channel,
                                              const std::string& token) {
  auto stub = v1::DispatchService::NewStub(channel);
  std::set<std::string> out;
  std::string page_token;
  do {
    v1::ListDispatchOrdersRequest request;
    request.mutable_page()->set_page_size(500);
    request.mutable_page()->set_page_token(page_token);
    v1::ListDispatchOrdersResponse response;
    if (!stub->ListDispatchOrders(testing::Context(token).get(), request, &response).ok()) {
      return {};
    }
    for (const auto& o : response.orders()) out.insert(o.order_id());
    page_token = response.next_page_token();
  } while (!page_token.empty());
  return out;
}

// Which of `order_ids` dispatch does not know: one listing, then a
// GetDispatchOrder for each order the listing missed (a page walk can skip
// an order that dispatch's own timers move while we read).
inline std::vector<std::string> UnknownToDispatch(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
    const std::set<std::string>& order_ids) {
  const std::set<std::string> listed = DispatchOrderIds(channel, token);
  auto stub = v1::DispatchService::NewStub(channel);
  std::vector<std::string> unknown;
  for (const std::string& id : order_ids) {
    if (listed.count(id)) continue;
    v1::GetDispatchOrderRequest request;
    request.set_order_id(id);
    v1::DispatchOrder order;
    if (!stub->GetDispatchOrder(testing::Context(token).get(), request, &order).ok()) {
      unknown.push_back(id);
    }
  }
  return unknown;
}

// Integer environment setting with a default (e.g. AFTERSALES_OUTAGE_SECONDS).
inline int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  int out = 0;
  if (v != nullptr && absl::SimpleAtoi(v, &out)) return out;
  return fallback;
}

}  // namespace aftersales::reliability

#endif  // AFTERSALES_TESTS_INTEGRATION_RELIABILITY_UTIL_H_
