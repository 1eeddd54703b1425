// Traffic of the capacity benchmark (issue 10, docs/capacity.md): about
// --duration_s seconds of a service's everyday reads and writes at --rate
// calls per second (open loop, --threads workers), against records the
// loader stored (ids from its --ids_file). Prints each call kind's count,
// status codes and p50/p99 latency, and one RESULT line.
//
// Mix per service (reads of loaded records, plus the service's usual writes):
//   complaint     70% GetComplaint, 10% ListComplaints(customer), 20% FileComplaint
//   parts         60% ListOrderParts, 20% GetAvailability, 20% Reserve
//   satisfaction  70% GetSurvey, 15% GetScorecard(region, 30 d), 15% ListSurveys(customer)
//   dispatch      60% GetDispatchOrder, 10% ListOffers(order), 30% ReportLocation
// --check_id: instead, one read of that id; exit 0 iff it answers OK (smoke test).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, service, "", "dispatch, parts, complaint or satisfaction");
ABSL_FLAG(std::string, target, "", "host:port of the service");
ABSL_FLAG(std::string, token_file, "", "bearer token (admin or agent)");
ABSL_FLAG(std::string, ids_file, "", "ids the loader stored, one per line");
ABSL_FLAG(double, rate, 100, "calls per second");
ABSL_FLAG(int, duration_s, 10, "seconds of traffic");
ABSL_FLAG(int, threads, 8, "worker threads");
ABSL_FLAG(int, engineers, 10000, "dispatch: engineers the loader registered");
ABSL_FLAG(std::string, check_id, "", "read this one record and exit 0 iff OK");

namespace aftersales::capacity {
namespace {

using Clock = std::chrono::steady_clock;
const char* const kRegions[] = {"CN-310000", "CN-110000", "CN-440100", "CN-440300"};

struct Stats {
  std::mutex mu;
  std::map<std::string, std::vector<double>> micros;  // per call kind
  std::map<std::string, int> codes;                   // "kind code" -> count
  void Add(const std::string& kind, const grpc::Status& s, double us) {
    std::lock_guard<std::mutex> l(mu);
    micros[kind].push_back(us);
    ++codes[absl::StrCat(kind, " ", s.error_code())];
  }
};

class Client {
 public:
  Client(const std::string& service, std::shared_ptr<grpc::Channel> channel, std::string token,
         std::vector<std::string> ids)
      : service_(service), token_(std::move(token)), ids_(std::move(ids)),
        complaint_(v1::ComplaintService::NewStub(channel)),
        parts_(v1::PartsService::NewStub(channel)),
        satisfaction_(v1::SatisfactionService::NewStub(channel)),
        dispatch_(v1::DispatchService::NewStub(channel)) {}

  // One read of `id`.
  grpc::Status Read(const std::string& id) {
    auto ctx = Ctx();
    if (service_ == "complaint") {
      v1::GetComplaintRequest req;
      req.set_complaint_id(id);
      v1::Complaint out;
      return complaint_->GetComplaint(ctx.get(), req, &out);
    }
    if (service_ == "parts") {
      v1::ListOrderPartsRequest req;
      req.set_order_id(id);
      v1::OrderParts out;
      grpc::Status s = parts_->ListOrderParts(ctx.get(), req, &out);
      if (s.ok() && out.reservations().empty()) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no reservations");
      }
      return s;
    }
    if (service_ == "satisfaction") {
      v1::GetSurveyRequest req;
      req.set_survey_id(id);
      v1::Survey out;
      return satisfaction_->GetSurvey(ctx.get(), req, &out);
    }
    v1::GetDispatchOrderRequest req;
    req.set_order_id(id);
    v1::DispatchOrder out;
    return dispatch_->GetDispatchOrder(ctx.get(), req, &out);
  }

  // One call of the mix; returns its kind.
  std::string Call(std::mt19937_64& gen, grpc::Status* status) {
    const double u = std::uniform_real_distribution<double>(0, 1)(gen);
    const std::string& id = ids_[std::uniform_int_distribution<size_t>(0, ids_.size() - 1)(gen)];
    const uint64_t n = gen();
    const std::string customer = absl::StrFormat("CU%010d", n % 600000 + 1);
    auto ctx = Ctx();
    if (service_ == "complaint") {
      if (u < 0.7) return *status = Read(id), "GetComplaint";
      if (u < 0.8) {
        v1::ListComplaintsRequest req;
        req.set_customer_id(customer);
        v1::ListComplaintsResponse out;
        *status = complaint_->ListComplaints(ctx.get(), req, &out);
        return "ListComplaints";
      }
      v1::FileComplaintRequest req;
      req.set_request_id(absl::StrCat("traffic-", n));
      req.set_customer_id(customer);
      req.set_channel(v1::COMPLAINT_CHANNEL_APP);
      req.set_text("The engineer did not come at the booked time and nobody called me.");
      req.set_region_code(kRegions[n % 4]);
      v1::FileComplaintResponse out;
      *status = complaint_->FileComplaint(ctx.get(), req, &out);
      return "FileComplaint";
    }
    if (service_ == "parts") {
      if (u < 0.6) return *status = Read(id), "ListOrderParts";
      const std::string sku = absl::StrFormat("SKU-%s-%02d", "FRIDGE", 1 + 5 * (n % 6));
      if (u < 0.8) {
        v1::GetAvailabilityRequest req;
        req.set_sku(sku);
        req.mutable_near()->set_lat_deg(31.2);
        req.mutable_near()->set_lng_deg(121.4);
        v1::GetAvailabilityResponse out;
        *status = parts_->GetAvailability(ctx.get(), req, &out);
        return "GetAvailability";
      }
      v1::ReserveRequest req;
      req.set_order_id(absl::StrFormat("WO%016x", n));
      req.set_sku(sku);
      req.set_quantity(1);
      req.mutable_near()->set_lat_deg(31.2);
      req.mutable_near()->set_lng_deg(121.4);
      req.set_priority(v1::PRIORITY_NORMAL);
      v1::ReserveResponse out;
      *status = parts_->Reserve(ctx.get(), req, &out);
      return "Reserve";
    }
    if (service_ == "satisfaction") {
      if (u < 0.7) return *status = Read(id), "GetSurvey";
      if (u < 0.85) {
        v1::GetScorecardRequest req;
        req.set_dimension(v1::SCORECARD_DIMENSION_REGION);
        req.set_key(kRegions[n % 4]);
        req.set_window(v1::AGGREGATION_WINDOW_ROLLING_30D);
        v1::Scorecard out;
        *status = satisfaction_->GetScorecard(ctx.get(), req, &out);
        return "GetScorecard";
      }
      v1::ListSurveysRequest req;
      req.set_customer_id(customer);
      v1::ListSurveysResponse out;
      *status = satisfaction_->ListSurveys(ctx.get(), req, &out);
      return "ListSurveys";
    }
    if (u < 0.6) return *status = Read(id), "GetDispatchOrder";
    if (u < 0.7) {
      v1::ListOffersRequest req;
      req.set_order_id(id);
      v1::ListOffersResponse out;
      *status = dispatch_->ListOffers(ctx.get(), req, &out);
      return "ListOffers";
    }
    v1::ReportLocationRequest req;
    req.set_engineer_id(absl::StrFormat("EN%010d", n % absl::GetFlag(FLAGS_engineers)));
    req.mutable_location()->set_lat_deg(31.2 + (n % 1000) * 1e-4);
    req.mutable_location()->set_lng_deg(121.4);
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    req.mutable_reported_at()->set_seconds(
        std::chrono::duration_cast<std::chrono::seconds>(now).count());
    v1::ReportLocationResponse out;
    *status = dispatch_->ReportLocation(ctx.get(), req, &out);
    return "ReportLocation";
  }

 private:
  std::unique_ptr<grpc::ClientContext> Ctx() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", "Bearer " + token_);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  std::string service_, token_;
  std::vector<std::string> ids_;
  std::unique_ptr<v1::ComplaintService::Stub> complaint_;
  std::unique_ptr<v1::PartsService::Stub> parts_;
  std::unique_ptr<v1::SatisfactionService::Stub> satisfaction_;
  std::unique_ptr<v1::DispatchService::Stub> dispatch_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string service = absl::GetFlag(FLAGS_service);
  if (service != "complaint" && service != "parts" && service != "satisfaction" &&
      service != "dispatch") {
    std::cerr << "--service=dispatch|parts|complaint|satisfaction" << std::endl;
    return 2;
  }
  const std::string token(absl::StripAsciiWhitespace(ReadFile(absl::GetFlag(FLAGS_token_file))));
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  if (const std::string id = absl::GetFlag(FLAGS_check_id); !id.empty()) {
    Client client(service, channel, token, {id});
    grpc::Status s = client.Read(id);
    std::cout << "read " << id << ": " << s.error_code() << " " << s.error_message() << std::endl;
    return s.ok() ? 0 : 1;
  }
  std::vector<std::string> ids;
  {
    std::ifstream in(absl::GetFlag(FLAGS_ids_file));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) ids.push_back(line);
    }
  }
  if (ids.empty()) {
    std::cerr << "--ids_file: no ids" << std::endl;
    return 2;
  }
  Client client(service, channel, token, ids);
  Stats stats;
  const double rate = absl::GetFlag(FLAGS_rate);
  const int threads = absl::GetFlag(FLAGS_threads);
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(absl::GetFlag(FLAGS_duration_s));
  std::atomic<int64_t> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937_64 gen(1000 + w);
      for (;;) {
        const int64_t k = next.fetch_add(1);
        const auto due = start + std::chrono::microseconds(static_cast<int64_t>(k * 1e6 / rate));
        if (due >= end) return;
        std::this_thread::sleep_until(due);
        const auto t0 = Clock::now();
        grpc::Status s;
        const std::string kind = client.Call(gen, &s);
        stats.Add(kind, s,
                  std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : workers) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t total = 0, failed = 0;
  for (auto& [kind, v] : stats.micros) {
    std::sort(v.begin(), v.end());
    total += static_cast<int64_t>(v.size());
    std::cout << absl::StrFormat("%-18s n=%6d  p50 %8.0f us  p99 %8.0f us\n", kind, v.size(),
                                 v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]);
  }
  for (const auto& [key, n] : stats.codes) {
    std::cout << "  status " << key << ": " << n << std::endl;
    if (key.substr(key.rfind(' ') + 1) != "0") failed += n;
  }
  std::cout << absl::StrFormat("RESULT service=%s calls=%d seconds=%.1f rate=%.0f/s errors=%d\n",
                               service, total, seconds, total / seconds, failed);
  return 0;
}

}  // namespace
}  // namespace aftersales::capacity

int main(int argc, char** argv) { return aftersales::capacity::Main(argc, argv); }
