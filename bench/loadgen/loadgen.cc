// Load generator for the after-sales services (issue 10): asynchronous gRPC
// (CompletionQueue) CreateOrder calls against intake, or against the bare echo
// server (bench/loadgen/echo_server.cc), which serves the same method with no
// storage, so one client measures both with identical payloads.
//
// Modes:
//   --mode=closed --concurrency=N   N calls outstanding at all times (max
//                                   throughput; latency from the actual send).
//   --mode=open --rate=R            a call every 1/R s on a fixed schedule;
//                                   latency is measured from the INTENDED send
//                                   time, so a server that stalls is charged
//                                   for the calls it delayed (no coordinated
//                                   omission).
// Calls start during --warmup_s are not recorded; the measured window is the
// next --duration_s. Output: human-readable lines and one
// "RESULT key=value ..." line for scripts. --server_pids reports each
// server's CPU (utime+stime from /proc/<pid>/stat over the window) and RSS
// (VmRSS, VmHWM from /proc/<pid>/status at the end).
//
// --offers_from=<dispatch addr> additionally follows dispatch's event stream
// and measures, for each order created in the window, the time from its
// CreateOrder acknowledgement to the OfferMade event arriving here.
// --seed_engineers=N first registers N engineers (partner PA) in dispatch so
// those offers happen.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "loadgen/histogram.h"
#include "support/grpc_probe.h"

ABSL_FLAG(std::string, target, "", "host:port of the server (intake or echo)");
ABSL_FLAG(std::string, name, "create_order", "label for the RESULT line");
ABSL_FLAG(std::string, mode, "closed", "closed (N outstanding) or open (fixed rate)");
ABSL_FLAG(int, concurrency, 32, "closed loop: calls outstanding");
ABSL_FLAG(double, rate, 100, "open loop: calls per second");
ABSL_FLAG(int, channels, 4, "gRPC channels (separate TCP connections)");
ABSL_FLAG(int, client_threads, 1, "completion-queue threads");
ABSL_FLAG(double, warmup_s, 2, "seconds of load before measuring");
ABSL_FLAG(double, duration_s, 10, "seconds measured");
ABSL_FLAG(std::string, token_file, "", "file with the plain bearer token to send");
ABSL_FLAG(std::string, server_pids, "", "name=pid,... of servers to report CPU/RSS for");
ABSL_FLAG(std::string, offers_from, "", "dispatch host:port: measure ack -> OfferMade");
ABSL_FLAG(std::string, service_token_file, "", "token for dispatch's event stream");
ABSL_FLAG(double, offer_drain_s, 3, "seconds to wait for late offers after the run");
ABSL_FLAG(int, seed_engineers, 0, "register this many engineers in --offers_from first");
ABSL_FLAG(std::string, admin_token_file, "", "admin token (UpsertPartner) for seeding");
ABSL_FLAG(std::string, partner_token_file, "", "partner PA token for seeding");
ABSL_FLAG(std::string, run_id, "", "prefix of request ids/serials (default: pid+time)");
ABSL_FLAG(double, connect_timeout_s, 10, "seconds to wait for every channel to connect");
ABSL_FLAG(int64_t, max_calls, 0, "stop after this many calls (0 = none): bulk loading");
ABSL_FLAG(int64_t, wait_serving_since_ns, 0,
          "instead of load: poll --target's gRPC health until SERVING and print the "
          "time since this CLOCK_REALTIME instant (ns), e.g. $(date +%s%N) at exec");
ABSL_FLAG(int, max_outstanding, 20000, "open loop: pacing waits above this many in flight");

namespace aftersales::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

std::string ReadToken(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  std::string t;
  std::getline(in, t);
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) {
    std::cerr << "loadgen: cannot read token from " << path << std::endl;
    std::exit(2);
  }
  return t;
}

int64_t NowNs() {
  return std::chrono::duration_cast<Nanos>(Clock::now().time_since_epoch()).count();
}

void SleepUntilNs(int64_t t) {
  // steady_clock is CLOCK_MONOTONIC on Linux; an absolute sleep does not drift.
  timespec ts{static_cast<time_t>(t / 1000000000), static_cast<long>(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// ---- server CPU and memory from /proc ----
struct ProcSample {
  double cpu_s = 0;  // utime + stime
  double rss_mb = 0, hwm_mb = 0;
  bool ok = false;
};

ProcSample SampleProc(int pid) {
  ProcSample s;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Fields after the ")" that ends the command name: state is field 3, so
  // utime (14) and stime (15) are the 12th and 13th after it.
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  s.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  while (std::getline(status, line)) {
    auto kb = [&](const char* key, double* out) {
      if (line.rfind(key, 0) == 0) *out = std::stod(line.substr(std::strlen(key))) / 1024.0;
    };
    kb("VmRSS:", &s.rss_mb);
    kb("VmHWM:", &s.hwm_mb);
  }
  s.ok = true;
  return s;
}

struct Server {
  std::string name;
  int pid = 0;
  ProcSample start, end;
};

// ---- requests ----
class RequestMaker {
 public:
  explicit RequestMaker(std::string run_id) : run_id_(std::move(run_id)) {
    base_.set_channel(v1::CHANNEL_PARTNER_API);
    auto* area = base_.mutable_service_area();
    area->set_region_code("CN-310000");
    area->set_city_tier(1);
    base_.mutable_appliance()->set_category("FRIDGE");
    base_.mutable_appliance()->set_brand("Haier");
    base_.mutable_appliance()->set_model("BCD-470WDPG");
    base_.mutable_fault()->set_description("冰箱不制冷 fridge not cooling, door seal is loose");
    base_.mutable_contact()->set_name("张三");
    base_.mutable_contact()->set_phone("13812345678");
    base_.mutable_contact()->set_full_address("上海市浦东新区世纪大道100号 1201室");
  }

  // Call i: a new customer's fridge at a point in central Shanghai.
  v1::CreateOrderRequest Make(uint64_t i) const {
    v1::CreateOrderRequest r = base_;
    const std::string id = absl::StrCat(run_id_, "-", i);
    r.set_request_id(id);
    r.set_customer_id(absl::StrCat("C", id));
    r.mutable_appliance()->set_serial(absl::StrCat("SN", id));
    // A cheap deterministic spread over a 0.26° x 0.36° box.
    const uint64_t h = (i + 1) * 0x9E3779B97F4A7C15ull;
    r.mutable_service_area()->mutable_location()->set_lat_deg(31.10 + 0.26 * ((h >> 11) % 10000) / 1e4);
    r.mutable_service_area()->mutable_location()->set_lng_deg(121.30 + 0.36 * ((h >> 31) % 10000) / 1e4);
    return r;
  }

 private:
  std::string run_id_;
  v1::CreateOrderRequest base_;
};

// ---- the run ----
struct Call {
  grpc::ClientContext ctx;
  v1::CreateOrderResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::CreateOrderResponse>> reader;
  int64_t start_ns = 0;  // intended (open) or actual (closed) send time
  int channel = 0;
};

struct ThreadStats {
  LogLinearHistogram latency;
  uint64_t ok = 0;
  std::map<int, uint64_t> errors;
  std::string first_error;
};

class OfferWatcher;

class LoadRun {
 public:
  LoadRun(const std::string& target, std::string token, RequestMaker maker)
      : token_(std::move(token)), maker_(std::move(maker)) {
    const int channels = std::max(1, absl::GetFlag(FLAGS_channels));
    const int threads = std::max(1, absl::GetFlag(FLAGS_client_threads));
    for (int i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      // A distinct argument per channel: gRPC would otherwise share one
      // subchannel (one TCP connection) among identical channels.
      args.SetInt("aftersales.loadgen.channel", i);
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      auto ch = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
      stubs_.push_back(v1::IntakeService::NewStub(ch));
      channels_.push_back(ch);
    }
    for (int i = 0; i < threads; ++i) {
      cqs_.push_back(std::make_unique<grpc::CompletionQueue>());
      stats_.push_back(std::make_unique<ThreadStats>());
    }
  }

  bool WaitReady() {
    for (auto& ch : channels_) {
      const auto timeout = std::chrono::milliseconds(
          static_cast<int64_t>(absl::GetFlag(FLAGS_connect_timeout_s) * 1000));
      if (!ch->WaitForConnected(std::chrono::system_clock::now() + timeout)) {
        return false;
      }
    }
    return true;
  }

  void set_offer_watcher(OfferWatcher* w) { offers_ = w; }

  // Runs the whole warm-up + measured window; returns when every call ended.
  void Run(const std::string& mode, int concurrency, double rate, double warmup_s,
           double duration_s) {
    t0_ = NowNs();
    measure_from_ = t0_ + static_cast<int64_t>(warmup_s * 1e9);
    measure_to_ = measure_from_ + static_cast<int64_t>(duration_s * 1e9);
    closed_ = mode == "closed";
    std::vector<std::thread> workers;
    for (size_t i = 0; i < cqs_.size(); ++i) {
      workers.emplace_back([this, i] { Drain(i); });
    }
    if (closed_) {
      for (int i = 0; i < concurrency; ++i) Start(i % stubs_.size(), NowNs());
    } else {
      const double period_ns = 1e9 / rate;
      const int max_out = absl::GetFlag(FLAGS_max_outstanding);
      for (uint64_t i = 0;; ++i) {
        const int64_t intended = t0_ + static_cast<int64_t>(static_cast<double>(i) * period_ns);
        if (intended >= measure_to_) break;
        SleepUntilNs(intended);
        while (outstanding_.load() >= max_out) SleepUntilNs(NowNs() + 100000);
        if (!Start(i % stubs_.size(), intended)) break;
      }
      stopping_ = true;
    }
    // Closed loop: completions stop re-issuing once the window ends.
    while (!stopping_ && NowNs() < measure_to_) SleepUntilNs(std::min(measure_to_, NowNs() + 20000000));
    stopping_ = true;
    while (outstanding_.load() > 0) SleepUntilNs(NowNs() + 1000000);
    for (auto& cq : cqs_) cq->Shutdown();
    for (auto& t : workers) t.join();
  }

  ThreadStats Totals() const {
    ThreadStats all;
    for (const auto& s : stats_) {
      all.latency.Merge(s->latency);
      all.ok += s->ok;
      for (auto [code, n] : s->errors) all.errors[code] += n;
      if (all.first_error.empty()) all.first_error = s->first_error;
    }
    return all;
  }
  int64_t measure_from() const { return measure_from_; }
  int64_t measure_to() const { return measure_to_; }

 private:
  // False once --max_calls calls were started.
  bool Start(size_t channel, int64_t start_ns) {
    const uint64_t i = next_id_.fetch_add(1);
    if (max_calls_ > 0 && i >= max_calls_) {
      stopping_ = true;
      return false;
    }
    auto* call = new Call;
    call->start_ns = start_ns;
    call->channel = static_cast<int>(channel);
    call->ctx.AddMetadata("authorization", "Bearer " + token_);
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::CompletionQueue* cq = cqs_[channel % cqs_.size()].get();
    outstanding_.fetch_add(1);
    call->reader = stubs_[channel]->PrepareAsyncCreateOrder(&call->ctx, maker_.Make(i), cq);
    call->reader->StartCall();
    call->reader->Finish(&call->resp, &call->status, call);
    return true;
  }

  void Drain(size_t index);

  std::string token_;
  RequestMaker maker_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::IntakeService::Stub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs_;
  std::vector<std::unique_ptr<ThreadStats>> stats_;
  std::atomic<uint64_t> next_id_{0};
  std::atomic<int> outstanding_{0};
  std::atomic<bool> stopping_{false};
  bool closed_ = true;
  int64_t t0_ = 0, measure_from_ = 0, measure_to_ = 0;
  OfferWatcher* offers_ = nullptr;
  uint64_t max_calls_ = static_cast<uint64_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_max_calls)));
};

// Follows dispatch's event stream; for each order acknowledged in the
// measured window, the time from the acknowledgement to its first OfferMade.
class OfferWatcher {
 public:
  OfferWatcher(const std::string& target, std::string token) : token_(std::move(token)) {
    stub_ = v1::EventStream::NewStub(
        grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }

  void Start() {
    thread_ = std::thread([this] { Follow(); });
  }

  void Acked(const std::string& order_id, int64_t ack_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    // The offer may (rarely) have been seen before the ack reached us.
    if (auto it = early_.find(order_id); it != early_.end()) {
      latency_.Record(0);
      early_.erase(it);
      return;
    }
    acked_[order_id] = ack_ns;
  }

  // Waits up to `drain` for offers of acknowledged orders, then stops.
  void Finish(double drain_s) {
    const int64_t until = NowNs() + static_cast<int64_t>(drain_s * 1e9);
    while (NowNs() < until) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (acked_.empty()) break;
      }
      SleepUntilNs(NowNs() + 20000000);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (ctx_) ctx_->TryCancel();
      done_ = true;
    }
    thread_.join();
  }

  LogLinearHistogram latency() {
    std::lock_guard<std::mutex> lock(mu_);
    return latency_;
  }
  size_t missing() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }

 private:
  void Follow() {
    uint64_t cursor = 0;
    while (true) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + token_);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (done_) return;
        ctx_ = &ctx;
      }
      v1::SubscribeRequest req;
      req.set_after_seq(cursor);
      req.set_max_batch(1000);
      req.set_consumer("loadgen");
      auto reader = stub_->Subscribe(&ctx, req);
      v1::SubscribeResponse resp;
      while (reader->Read(&resp)) {
        const int64_t now = NowNs();
        std::lock_guard<std::mutex> lock(mu_);
        for (const v1::Event& e : resp.events()) {
          cursor = e.seq();
          if (!e.has_offer_made() || e.offer_made().attempt() != 1) continue;
          auto it = acked_.find(e.offer_made().order_id());
          if (it == acked_.end()) {
            if (watching_) early_[e.offer_made().order_id()] = now;
            continue;
          }
          latency_.Record(static_cast<uint64_t>(std::max<int64_t>(0, now - it->second)));
          acked_.erase(it);
        }
      }
      grpc::Status s = reader->Finish();
      std::lock_guard<std::mutex> lock(mu_);
      ctx_ = nullptr;
      if (done_) return;
      std::cerr << "loadgen: dispatch event stream ended: " << s.error_message()
                << "; resubscribing" << std::endl;
    }
  }

 public:
  void set_watching(bool w) {
    std::lock_guard<std::mutex> lock(mu_);
    watching_ = w;
  }

 private:
  std::string token_;
  std::unique_ptr<v1::EventStream::Stub> stub_;
  std::thread thread_;
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;
  bool done_ = false;
  bool watching_ = false;
  std::unordered_map<std::string, int64_t> acked_;
  std::unordered_map<std::string, int64_t> early_;
  LogLinearHistogram latency_;
};

void LoadRun::Drain(size_t index) {
  ThreadStats& stats = *stats_[index];
  void* tag;
  bool ok;
  while (cqs_[index]->Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    const int64_t now = NowNs();
    const bool measured = call->start_ns >= measure_from_ && call->start_ns < measure_to_;
    if (measured) {
      if (call->status.ok()) {
        ++stats.ok;
        stats.latency.Record(static_cast<uint64_t>(now - call->start_ns));
        if (offers_) offers_->Acked(call->resp.order().order_id(), now);
      } else {
        ++stats.errors[call->status.error_code()];
        if (stats.first_error.empty()) {
          stats.first_error = absl::StrCat(call->status.error_code(), ": ",
                                           call->status.error_message());
        }
      }
    }
    if (closed_ && !stopping_ && now < measure_to_) Start(call->channel, now);
    outstanding_.fetch_sub(1);
  }
}

void SeedEngineers(const std::string& target, int n) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto stub = v1::DispatchService::NewStub(channel);
  const std::string admin = ReadToken(absl::GetFlag(FLAGS_admin_token_file));
  const std::string partner = ReadToken(absl::GetFlag(FLAGS_partner_token_file));
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + admin);
    v1::UpsertPartnerRequest req;
    req.mutable_partner()->set_partner_id("PA");
    req.mutable_partner()->set_name("Partner A");
    req.mutable_partner()->set_preference(0.5);
    req.mutable_partner()->add_allowed_regions("CN-310000");
    v1::Partner out;
    grpc::Status s = stub->UpsertPartner(&ctx, req, &out);
    if (!s.ok()) {
      std::cerr << "loadgen: UpsertPartner: " << s.error_message() << std::endl;
      std::exit(1);
    }
  }
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      std::mt19937_64 rng(next.load() + 17);
      for (int i; (i = next.fetch_add(1)) < n;) {
        v1::RegisterEngineerRequest req;
        auto* e = req.mutable_engineer();
        e->set_engineer_id(absl::StrFormat("LG-E%06d", i));
        e->set_partner_id("PA");
        e->set_display_name(absl::StrFormat("Engineer %d", i));
        e->set_home_region_code("CN-310000");
        auto* skill = e->add_skills();
        skill->set_appliance_category("FRIDGE");
        skill->set_level(v1::CERTIFICATION_LEVEL_SENIOR);
        e->mutable_coverage()->add_region_codes("CN-310000");
        e->mutable_capacity()->set_max_active(10);
        e->mutable_capacity()->set_max_queued(20);
        const uint64_t h = (i + 7) * 0xD1B54A32D192ED03ull;
        e->mutable_location()->set_lat_deg(31.10 + 0.26 * ((h >> 11) % 10000) / 1e4);
        e->mutable_location()->set_lng_deg(121.30 + 0.36 * ((h >> 31) % 10000) / 1e4);
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + partner);
        v1::Engineer out;
        grpc::Status s = stub->RegisterEngineer(&ctx, req, &out);
        if (!s.ok() && failed.fetch_add(1) == 0) {
          std::cerr << "loadgen: RegisterEngineer: " << s.error_message() << std::endl;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed > 0) {
    std::cerr << "loadgen: " << failed << " engineers not registered" << std::endl;
    std::exit(1);
  }
  std::cout << "seeded " << n << " engineers in dispatch" << std::endl;
}

std::vector<Server> ParseServers(const std::string& spec) {
  std::vector<Server> out;
  for (absl::string_view part : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    Server s;
    s.name = kv.second.empty() ? "server" : kv.first;
    s.pid = std::atoi((kv.second.empty() ? kv.first : kv.second).c_str());
    out.push_back(s);
  }
  return out;
}

double Us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

int Main() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (target.empty() || (mode != "closed" && mode != "open")) {
    std::cerr << "usage: loadgen --target=host:port [--mode=closed|open] ..." << std::endl;
    return 2;
  }
  std::string run_id = absl::GetFlag(FLAGS_run_id);
  if (run_id.empty()) run_id = absl::StrCat("lg", getpid(), "x", time(nullptr));

  if (const int64_t since = absl::GetFlag(FLAGS_wait_serving_since_ns); since > 0) {
    auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (testing::HealthStatus(channel, "") != 1) {
      if (Clock::now() > give_up) {
        std::cerr << "loadgen: " << target << " not SERVING after 60 s" << std::endl;
        return 1;
      }
      SleepUntilNs(NowNs() + 2000000);
    }
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const int64_t ns = int64_t{now.tv_sec} * 1000000000 + now.tv_nsec - since;
    std::cout << absl::StrFormat("RESULT name=%s serving_after_ms=%.0f\n",
                                 absl::GetFlag(FLAGS_name), ns / 1e6);
    return 0;
  }
  const std::string offers_target = absl::GetFlag(FLAGS_offers_from);
  if (absl::GetFlag(FLAGS_seed_engineers) > 0) {
    SeedEngineers(offers_target, absl::GetFlag(FLAGS_seed_engineers));
  }

  LoadRun run(target, ReadToken(absl::GetFlag(FLAGS_token_file)), RequestMaker(run_id));
  if (!run.WaitReady()) {
    std::cerr << "loadgen: cannot connect to " << target << std::endl;
    return 1;
  }
  std::unique_ptr<OfferWatcher> offers;
  if (!offers_target.empty()) {
    offers = std::make_unique<OfferWatcher>(
        offers_target, ReadToken(absl::GetFlag(FLAGS_service_token_file)));
    offers->set_watching(true);
    offers->Start();
    run.set_offer_watcher(offers.get());
  }

  std::vector<Server> servers = ParseServers(absl::GetFlag(FLAGS_server_pids));
  const double warmup = absl::GetFlag(FLAGS_warmup_s);
  const double duration = absl::GetFlag(FLAGS_duration_s);
  // Sample the servers' CPU exactly at the window's edges.
  // (A --max_calls run may end before the window does.)
  std::atomic<bool> run_done{false};
  std::thread sampler([&] {
    const int64_t from = NowNs() + static_cast<int64_t>(warmup * 1e9);
    const int64_t to = from + static_cast<int64_t>(duration * 1e9);
    while (!run_done && NowNs() < from) SleepUntilNs(std::min(from, NowNs() + 10000000));
    for (Server& s : servers) s.start = SampleProc(s.pid);
    while (!run_done && NowNs() < to) SleepUntilNs(std::min(to, NowNs() + 10000000));
    for (Server& s : servers) s.end = SampleProc(s.pid);
  });
  run.Run(mode, absl::GetFlag(FLAGS_concurrency), absl::GetFlag(FLAGS_rate), warmup, duration);
  const double measured_s =
      std::max(1e-3, (std::min(NowNs(), run.measure_to()) - run.measure_from()) / 1e9);
  run_done = true;
  sampler.join();
  if (offers) offers->Finish(absl::GetFlag(FLAGS_offer_drain_s));

  const ThreadStats t = run.Totals();
  uint64_t errors = 0;
  for (auto [code, n] : t.errors) errors += n;
  const double throughput = static_cast<double>(t.ok) / measured_s;
  const auto& h = t.latency;

  std::cout << absl::StrFormat(
      "%s: %s loop%s, %d channels, warm-up %.1f s, measured %.1f s\n", absl::GetFlag(FLAGS_name),
      mode,
      mode == "closed" ? absl::StrCat(", ", absl::GetFlag(FLAGS_concurrency), " outstanding")
                       : absl::StrFormat(", %.0f/s offered", absl::GetFlag(FLAGS_rate)),
      absl::GetFlag(FLAGS_channels), warmup, duration);
  std::cout << absl::StrFormat(
      "  ok %d, errors %d, throughput %.1f/s\n  latency us: p50 %.0f  p90 %.0f  p99 %.0f  "
      "p99.9 %.0f  max %.0f  mean %.0f\n",
      t.ok, errors, throughput, Us(h.Quantile(0.5)), Us(h.Quantile(0.9)), Us(h.Quantile(0.99)),
      Us(h.Quantile(0.999)), Us(h.max()), h.mean() / 1000.0);
  if (!t.first_error.empty()) std::cout << "  first error: " << t.first_error << "\n";

  std::string result = absl::StrFormat(
      "RESULT name=%s mode=%s concurrency=%d rate=%.0f channels=%d ok=%d errors=%d "
      "throughput=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f",
      absl::GetFlag(FLAGS_name), mode, absl::GetFlag(FLAGS_concurrency),
      absl::GetFlag(FLAGS_rate), absl::GetFlag(FLAGS_channels), t.ok, errors, throughput,
      Us(h.Quantile(0.5)), Us(h.Quantile(0.9)), Us(h.Quantile(0.99)), Us(h.Quantile(0.999)),
      Us(h.max()));
  for (const Server& s : servers) {
    if (!s.start.ok || !s.end.ok) {
      std::cout << "  server " << s.name << " (pid " << s.pid << "): not readable\n";
      continue;
    }
    const double cpu = s.end.cpu_s - s.start.cpu_s;
    const double per_req_us = t.ok ? cpu * 1e6 / static_cast<double>(t.ok) : 0;
    std::cout << absl::StrFormat(
        "  server %s: cpu %.2f s = %.0f%% of one core, %.0f us/call; RSS %.1f MB, peak %.1f MB\n",
        s.name, cpu, 100 * cpu / measured_s, per_req_us, s.end.rss_mb, s.end.hwm_mb);
    absl::StrAppendFormat(&result, " %s_cpu_pct=%.0f %s_cpu_us_per_call=%.0f %s_rss_mb=%.1f %s_hwm_mb=%.1f",
                          s.name, 100 * cpu / measured_s, s.name, per_req_us, s.name,
                          s.end.rss_mb, s.name, s.end.hwm_mb);
  }
  if (offers) {
    const LogLinearHistogram o = offers->latency();
    std::cout << absl::StrFormat(
        "  ack -> offer (%d offers, %d without offer): p50 %.0f us  p90 %.0f  p99 %.0f  p99.9 %.0f  "
        "max %.0f\n",
        o.count(), offers->missing(), Us(o.Quantile(0.5)), Us(o.Quantile(0.9)),
        Us(o.Quantile(0.99)), Us(o.Quantile(0.999)), Us(o.max()));
    absl::StrAppendFormat(&result,
                          " offers=%d offers_missing=%d offer_p50_us=%.0f offer_p90_us=%.0f "
                          "offer_p99_us=%.0f offer_p999_us=%.0f offer_max_us=%.0f",
                          o.count(), offers->missing(), Us(o.Quantile(0.5)),
                          Us(o.Quantile(0.9)), Us(o.Quantile(0.99)), Us(o.Quantile(0.999)),
                          Us(o.max()));
  }
  std::cout << result << std::endl;
  return t.ok > 0 ? 0 : 1;
}

}  // namespace
}  // namespace aftersales::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return aftersales::bench::Main();
}
