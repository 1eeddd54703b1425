// citysim: one simulated city day through the real services on manual
// clocks (bench/citysim/run.sh starts them). It registers the city's
// engineers, plays the day's order stream in fixed clock steps — customers
// call, agents contact them, dispatch offers, simulated engineers accept,
// travel (time from distance), arrive, diagnose, reserve parts, repair,
// customers confirm, answer surveys or get a follow-up call, some complain —
// and at the end reads the orders' SLA clocks back from intake and writes a
// JSON report. The engineers' behaviour is the same whoever dispatch picks,
// so two runs with the same seed and different dispatch policies are a
// like-for-like comparison of dispatch.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "citysim/city.h"
#include "geo/geo.h"
#include "grpcpp/grpcpp.h"
#include "rpc/rpc.h"
#include "suite_client.h"

ABSL_FLAG(std::string, intake, "127.0.0.1:7101", "intake address");
ABSL_FLAG(std::string, dispatch, "127.0.0.1:7102", "dispatch address");
ABSL_FLAG(std::string, parts, "127.0.0.1:7103", "parts address");
ABSL_FLAG(std::string, complaint, "127.0.0.1:7104", "complaint address");
ABSL_FLAG(std::string, satisfaction, "127.0.0.1:7105", "satisfaction address");
ABSL_FLAG(std::string, tokens, "", "plain tokens file: 'name token' per line (admin, agent, app)");
ABSL_FLAG(int, engineers, 3000, "engineers in the city");
ABSL_FLAG(int, orders, 10000, "orders of a normal day (a heat wave adds 2x its AC orders)");
ABSL_FLAG(std::string, day, "normal", "normal | heatwave");
ABSL_FLAG(uint64_t, seed, 20260720, "seed of the city and of the order stream");
ABSL_FLAG(int, step_minutes, 2, "simulated minutes per clock step");
ABSL_FLAG(int, threads, 8, "client threads issuing the simulated field's calls");
ABSL_FLAG(std::string, label, "suite", "name of the dispatch policy under test (for the report)");
ABSL_FLAG(std::string, out, "", "JSON report path (empty: stdout only)");
ABSL_FLAG(bool, verbose, false, "print progress every simulated hour");

namespace aftersales::citysim {
namespace {

// Monday 20 July 2026, 08:00 in Shanghai: the services start at 07:00 on
// their manual clocks (run.sh --clock_start).
const absl::TimeZone kZone = absl::FixedTimeZone(8 * 3600);
const absl::Time kDayStart = absl::FromCivil(absl::CivilHour(2026, 7, 20, 8), kZone);
const absl::Time kSimEnd = kDayStart + absl::Hours(13);  // 21:00
const geo::TravelModel kTravel{1.3, 30};                 // the dispatch policy's model
constexpr double kRejectFirstOffer = 0.04;  // "busy with a customer"
constexpr char kRegion[] = "CN-310000";
constexpr double kOrdersPerAgent = 140;
constexpr double kFirstCallMinutes = 4;

std::string Local(absl::Time t) { return absl::FormatTime("%H:%M", t, kZone); }

// Runs fn(0..n-1) on `threads` threads.
void ParallelFor(int n, int threads, const std::function<void(int)>& fn) {
  if (n <= 0) return;
  std::atomic<int> next{0};
  auto work = [&] {
    for (int i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  const int t = std::min(n, std::max(1, threads));
  std::vector<std::thread> pool;
  for (int k = 1; k < t; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
}

double Gini(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double sum = 0, weighted = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    weighted += (2.0 * (i + 1) - v.size() - 1) * v[i];
  }
  return sum > 0 ? weighted / (v.size() * sum) : 0;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

// ---------------------------------------------------------------------------

enum class Field { kTravel, kDiagnose, kRepair, kRevisitTravel };

struct OrderRun {
  const OrderSpec* spec = nullptr;
  std::string id;  // intake's order id
  bool created = false, contacted = false, assigned = false, departed = false,
       arrived = false, repaired = false, confirmed = false, followed_up = false,
       complained = false, waiting_parts = false;
  int engineer = -1;
  std::string reservation_id;
  bool diagnosed = false, reserve_tried = false, repair_started = false;
  absl::Time created_at, arrived_at, repaired_at, confirmed_at;
  double travel_km = 0;
  absl::Duration travel;
  int events = 0;
};

struct EngineerRun {
  const EngineerSpec* spec = nullptr;
  double lat = 0, lng = 0;
  std::deque<int> queue;    // accepted orders, in acceptance order
  std::deque<int> revisit;  // orders whose backordered part arrived
  int current = -1;
  Field field = Field::kTravel;
  absl::Time next, started;
  absl::Duration busy;
  int jobs = 0;
  absl::Time shift_start, shift_end;
};

class Sim {
 public:
  Sim()
      : day_(absl::GetFlag(FLAGS_day) == "heatwave" ? DayKind::kHeatWave : DayKind::kNormal),
        threads_(absl::GetFlag(FLAGS_threads)),
        step_(absl::Minutes(std::max(1, absl::GetFlag(FLAGS_step_minutes)))) {
    tokens_ = suite::ReadPlainTokens(absl::GetFlag(FLAGS_tokens));
    for (const char* n : {"admin", "agent", "app"}) {
      if (!tokens_.count(n)) {
        std::cerr << "citysim: no '" << n << "' token in " << absl::GetFlag(FLAGS_tokens) << "\n";
        std::exit(2);
      }
    }
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    auto ch = [&](const std::string& addr) {
      return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
    };
    const std::pair<const char*, std::string> addrs[] = {
        {"intake", absl::GetFlag(FLAGS_intake)},       {"dispatch", absl::GetFlag(FLAGS_dispatch)},
        {"parts", absl::GetFlag(FLAGS_parts)},         {"complaint", absl::GetFlag(FLAGS_complaint)},
        {"satisfaction", absl::GetFlag(FLAGS_satisfaction)}};
    for (const auto& [name, addr] : addrs) channels_.emplace_back(name, ch(addr));
    intake_ = v1::IntakeService::NewStub(channels_[0].second);
    dispatch_ = v1::DispatchService::NewStub(channels_[1].second);
    parts_ = v1::PartsService::NewStub(channels_[2].second);
    complaints_ = v1::ComplaintService::NewStub(channels_[3].second);
    surveys_ = v1::SatisfactionService::NewStub(channels_[4].second);

    const uint64_t seed = absl::GetFlag(FLAGS_seed);
    city_ = MakeCity(seed, absl::GetFlag(FLAGS_engineers));
    specs_ = MakeOrders(seed, absl::GetFlag(FLAGS_orders), day_, kDayStart);
    orders_.resize(specs_.size());
    agents_ = std::max(1, static_cast<int>(std::ceil(specs_.size() / kOrdersPerAgent)));
    for (size_t i = 0; i < specs_.size(); ++i) orders_[i].spec = &specs_[i];
    engineers_.resize(city_.engineers.size());
    for (size_t i = 0; i < engineers_.size(); ++i) {
      EngineerRun& e = engineers_[i];
      e.spec = &city_.engineers[i];
      e.lat = e.spec->lat;
      e.lng = e.spec->lng;
      e.shift_start = kDayStart - absl::Hours(8) + absl::Minutes(e.spec->shift_start_min);
      e.shift_end = kDayStart - absl::Hours(8) + absl::Minutes(e.spec->shift_end_min);
      e.next = e.shift_start;
      index_of_engineer_[e.spec->id] = static_cast<int>(i);
    }
  }

  int Run() {
    const absl::Time real_start = absl::Now();
    SetClocks(kDayStart - absl::Hours(1));
    Seed();
    const absl::Time seeded = absl::Now();
    std::cout << absl::StrFormat(
                     "citysim[%s/%s]: %d engineers in %d partner networks registered in %s; "
                     "%d orders in the day's stream (digest %016x)",
                     absl::GetFlag(FLAGS_label), DayName(), engineers_.size(), city_.partners.size(),
                     absl::FormatDuration(absl::Trunc(seeded - real_start, absl::Milliseconds(10))),
                     specs_.size(), Digest(specs_))
              << std::endl;
    AdvanceAll(kDayStart - now_);
    size_t next_order = 0;
    while (now_ < kSimEnd) {
      AdvanceAll(step_);
      std::vector<int> fresh;
      while (next_order < specs_.size() && specs_[next_order].at <= now_) {
        fresh.push_back(static_cast<int>(next_order++));
      }
      CreateOrders(fresh);
      AwaitDispatch(fresh);
      if (now_ == kDayStart + absl::Hours(5)) MiddayDelivery();
      HandleOffers();
      CustomerSide();
      CheckParts();
      FieldWork();
      if (absl::GetFlag(FLAGS_verbose) && absl::ToInt64Minutes(now_ - kDayStart) % 60 == 0) {
        std::cout << absl::StrFormat("citysim: %s created %d assigned %d arrived %d repaired %d"
                                     " (%.0f s real)",
                                     Local(now_), created_.load(), assigned_, arrived_.load(),
                                     repaired_.load(), absl::ToDoubleSeconds(absl::Now() - real_start))
                  << std::endl;
      }
    }
    absl::SleepFor(absl::Milliseconds(500));  // the last events settle
    const absl::Duration day_time = absl::Now() - seeded;
    return WriteReport(absl::Now() - real_start, day_time);
  }

 private:
  const char* DayName() const { return day_ == DayKind::kHeatWave ? "heatwave" : "normal"; }

  std::unique_ptr<grpc::ClientContext> Ctx(const char* who) {
    rpcs_.fetch_add(1, std::memory_order_relaxed);
    return suite::BearerContext(tokens_.at(who), absl::Seconds(60));
  }

  void Error(const std::string& what, const grpc::Status& s) {
    errors_.fetch_add(1);
    std::lock_guard<std::mutex> l(log_mu_);
    if (errors_.load() <= 20) {
      std::cerr << "citysim: " << what << ": " << s.error_code() << " " << s.error_message()
                << std::endl;
    }
  }

  [[noreturn]] void Fatal(const std::string& what, const grpc::Status& s) {
    std::cerr << "citysim: " << what << ": " << s.error_code() << " " << s.error_message()
              << std::endl;
    std::exit(1);
  }

  // --- clocks -----------------------------------------------------------------
  void SetClocks(absl::Time t) {
    std::string failed;
    grpc::Status s = suite::SetAllClocks(channels_, tokens_.at("admin"), t, &failed);
    if (!s.ok()) Fatal(absl::StrCat(failed, " SetTime (is it on --clock=manual?)"), s);
    now_ = t;
  }

  void AdvanceAll(absl::Duration by) {
    std::string failed;
    grpc::Status s = suite::AdvanceAllClocks(channels_, tokens_.at("admin"), by, &failed);
    if (!s.ok()) Fatal(absl::StrCat(failed, " AdvanceTime"), s);
    now_ += by;
    absl::SleepFor(absl::Milliseconds(15));  // timers wake on the moved clocks
  }

  // --- seeding ----------------------------------------------------------------
  void Seed() {
    for (const Partner& p : city_.partners) {
      v1::UpsertPartnerRequest req;
      req.mutable_partner()->set_partner_id(p.id);
      req.mutable_partner()->set_name("citysim partner " + p.id);
      req.mutable_partner()->set_preference(p.preference);
      req.mutable_partner()->add_allowed_regions(kRegion);
      v1::Partner out;
      grpc::Status s = dispatch_->UpsertPartner(Ctx("admin").get(), req, &out);
      if (!s.ok()) Fatal("UpsertPartner " + p.id, s);
    }
    ParallelFor(static_cast<int>(engineers_.size()), threads_, [&](int i) {
      const EngineerSpec& spec = city_.engineers[i];
      v1::RegisterEngineerRequest req;
      v1::Engineer* e = req.mutable_engineer();
      e->set_engineer_id(spec.id);
      e->set_partner_id(city_.partners[spec.partner].id);
      e->set_home_outlet_id("OUT-" + city_.partners[spec.partner].id);
      e->set_display_name("engineer " + spec.id);
      e->set_home_region_code(kRegion);
      for (const SkillSpec& k : spec.skills) {
        auto* skill = e->add_skills();
        skill->set_appliance_category(kCategories[k.category]);
        skill->set_level(static_cast<v1::CertificationLevel>(k.level));
      }
      e->mutable_coverage()->add_region_codes(kRegion);
      auto* shifts = e->mutable_shifts();
      shifts->set_time_zone("Asia/Shanghai");
      for (int d = 1; d <= 6; ++d) {
        auto* w = shifts->add_weekly();
        w->set_iso_weekday(d);
        w->set_start_minute(spec.shift_start_min);
        w->set_end_minute(spec.shift_end_min);
      }
      // Capacity left unset: the policy's default (1 active + 3 queued).
      e->set_first_time_fix_rate(spec.first_time_fix);
      e->set_diagnosis_accuracy(0.95);
      e->mutable_location()->set_lat_deg(spec.lat);
      e->mutable_location()->set_lng_deg(spec.lng);
      v1::Engineer out;
      grpc::Status s = dispatch_->RegisterEngineer(Ctx("admin").get(), req, &out);
      if (!s.ok()) Fatal("RegisterEngineer " + spec.id, s);
    });

    for (int c = 0; c < kCategoryCount; ++c) {
      v1::UpsertPartRequest req;
      v1::Part* part = req.mutable_part();
      part->set_sku(Sku(c));
      part->set_name(absl::StrCat("spare part for ", kCategories[c]));
      part->add_compatible_categories(kCategories[c]);
      part->mutable_unit_price()->set_currency_code("CNY");
      part->mutable_unit_price()->set_amount_minor(10000 + 2000 * c);
      part->set_warranty_days(180);
      part->set_active(true);
      v1::Part out;
      grpc::Status s = parts_->UpsertPart(Ctx("admin").get(), req, &out);
      if (!s.ok()) Fatal("UpsertPart", s);
    }
    // A central warehouse and one outlet per partner; a thin morning stock
    // (about 60% of the day's part needs) so some repairs wait for the
    // 13:00 delivery.
    const int per_sku = std::max(1, static_cast<int>(specs_.size() * 0.3 * 0.6 /
                                                     kCategoryCount / (1 + city_.partners.size())));
    std::vector<std::pair<std::string, std::pair<double, double>>> locs = {
        {"WH-CENTRAL", {31.05, 121.25}}};
    for (size_t p = 0; p < city_.partners.size(); ++p) {
      locs.push_back({"OUT-" + city_.partners[p].id,
                      {31.12 + 0.03 * (p % 4), 121.35 + 0.08 * static_cast<double>(p / 4 + p % 3)}});
    }
    for (size_t i = 0; i < locs.size(); ++i) {
      v1::UpsertLocationRequest req;
      v1::StockLocation* l = req.mutable_location();
      l->set_location_id(locs[i].first);
      l->set_kind(i == 0 ? v1::LOCATION_KIND_CENTRAL_WAREHOUSE : v1::LOCATION_KIND_OUTLET);
      l->set_name(locs[i].first);
      l->mutable_point()->set_lat_deg(locs[i].second.first);
      l->mutable_point()->set_lng_deg(locs[i].second.second);
      l->set_region_code(kRegion);
      if (i > 0) l->set_partner_id(city_.partners[i - 1].id);
      l->set_active(true);
      v1::StockLocation out;
      grpc::Status s = parts_->UpsertLocation(Ctx("admin").get(), req, &out);
      if (!s.ok()) Fatal("UpsertLocation " + locs[i].first, s);
      stock_locations_.push_back(locs[i].first);
      for (int c = 0; c < kCategoryCount; ++c) Receive(locs[i].first, Sku(c), per_sku);
    }
  }

  static std::string Sku(int category) { return absl::StrCat("CS-", kCategories[category]); }

  void Receive(const std::string& loc, const std::string& sku, int qty) {
    v1::ReceiveRequest req;
    req.set_request_id(absl::StrCat("citysim-receipt-", ++receipts_));
    req.set_location_id(loc);
    req.set_sku(sku);
    req.set_quantity(qty);
    req.set_supplier_ref("citysim delivery");
    v1::ReceiveResponse out;
    grpc::Status s = parts_->Receive(Ctx("admin").get(), req, &out);
    if (!s.ok()) Fatal("Receive " + loc, s);
  }

  void MiddayDelivery() {
    const int per_sku = std::max(1, static_cast<int>(specs_.size() * 0.3 * 0.5 / kCategoryCount /
                                                     stock_locations_.size()));
    for (const auto& l : stock_locations_) {
      for (int c = 0; c < kCategoryCount; ++c) Receive(l, Sku(c), per_sku);
    }
  }

  // --- orders -----------------------------------------------------------------
  void CreateOrders(const std::vector<int>& fresh) {
    ParallelFor(static_cast<int>(fresh.size()), threads_, [&](int k) {
      OrderRun& o = orders_[fresh[k]];
      const OrderSpec& s = *o.spec;
      v1::CreateOrderRequest r;
      r.set_request_id(s.request_id);
      r.set_channel(s.index % 3 == 0 ? v1::CHANNEL_APP : v1::CHANNEL_PHONE);
      r.set_customer_id(s.customer_id);
      r.set_customer_tier(s.vip ? v1::CUSTOMER_TIER_VIP : v1::CUSTOMER_TIER_STANDARD);
      auto* area = r.mutable_service_area();
      area->set_region_code(kRegion);
      area->set_city_tier(1);
      area->mutable_location()->set_lat_deg(s.lat);
      area->mutable_location()->set_lng_deg(s.lng);
      r.mutable_appliance()->set_category(kCategories[s.category]);
      r.mutable_appliance()->set_serial(s.serial);
      r.mutable_appliance()->set_warranty_status(s.in_warranty ? v1::WARRANTY_STATUS_IN
                                                               : v1::WARRANTY_STATUS_OUT);
      r.mutable_fault()->set_description(s.fault_text);
      r.mutable_fault()->set_kind(v1::FAULT_KIND_HARDWARE);
      r.mutable_fault()->set_complexity(s.complex ? v1::FAULT_COMPLEXITY_COMPLEX
                                                  : v1::FAULT_COMPLEXITY_SIMPLE);
      r.mutable_contact()->set_name(absl::StrFormat("客户%06d", s.index));
      r.mutable_contact()->set_phone(absl::StrFormat("139%08d", s.index));
      r.mutable_contact()->set_full_address(absl::StrFormat("上海市 城市路%d号", s.index));
      v1::CreateOrderResponse resp;
      grpc::Status st = intake_->CreateOrder(Ctx("agent").get(), r, &resp);
      if (!st.ok()) {
        Error("CreateOrder " + s.request_id, st);
        return;
      }
      o.id = resp.order().order_id();
      o.created = true;
      o.created_at = now_;
      created_.fetch_add(1);
    });
    std::lock_guard<std::mutex> l(index_mu_);
    for (int i : fresh) {
      if (orders_[i].created) index_of_order_[orders_[i].id] = i;
    }
  }

  // Waits until dispatch has taken each new order from intake's stream.
  void AwaitDispatch(const std::vector<int>& fresh) {
    ParallelFor(static_cast<int>(fresh.size()), threads_, [&](int k) {
      const OrderRun& o = orders_[fresh[k]];
      if (!o.created) return;
      for (int attempt = 0; attempt < 400; ++attempt) {
        v1::GetDispatchOrderRequest req;
        req.set_order_id(o.id);
        v1::DispatchOrder d;
        grpc::Status s = dispatch_->GetDispatchOrder(Ctx("admin").get(), req, &d);
        if (s.ok() && d.state() != v1::DISPATCH_STATE_AWAITING_ASSIGNMENT) return;
        absl::SleepFor(absl::Milliseconds(10));
      }
    });
  }

  // The simulated engineers answer every pending offer: a few decline their
  // first offer (busy with a customer), the rest accept.
  void HandleOffers() {
    for (int round = 0; round < 4; ++round) {
      std::vector<v1::Offer> pending;
      for (const Partner& p : city_.partners) {
        std::string page;
        do {
          v1::ListOffersRequest req;
          req.set_partner_id(p.id);
          req.set_state(v1::OFFER_STATE_PENDING);
          req.mutable_page()->set_page_size(500);
          req.mutable_page()->set_page_token(page);
          v1::ListOffersResponse resp;
          grpc::Status s = dispatch_->ListOffers(Ctx("admin").get(), req, &resp);
          if (!s.ok()) {
            Error("ListOffers " + p.id, s);
            break;
          }
          for (const auto& o : resp.offers()) {
            if (o.state() == v1::OFFER_STATE_PENDING) pending.push_back(o);
          }
          page = resp.next_page_token();
        } while (!page.empty());
      }
      if (pending.empty()) return;
      std::vector<int> accepted(pending.size(), -1);
      std::atomic<int> rejected{0};
      ParallelFor(static_cast<int>(pending.size()), threads_, [&](int k) {
        const v1::Offer& offer = pending[k];
        int idx;
        {
          std::lock_guard<std::mutex> l(index_mu_);
          auto it = index_of_order_.find(offer.order_id());
          if (it == index_of_order_.end()) return;
          idx = it->second;
        }
        v1::Offer out;
        if (offer.attempt() == 1 && orders_[idx].spec->reject_u < kRejectFirstOffer) {
          v1::RejectOfferRequest rej;
          rej.set_offer_id(offer.offer_id());
          rej.set_engineer_id(offer.engineer_id());
          rej.set_reason(v1::OFFER_REJECT_REASON_BUSY);
          rej.set_note("busy with another customer");
          grpc::Status s = dispatch_->RejectOffer(Ctx("admin").get(), rej, &out);
          if (s.ok()) rejected.fetch_add(1);
          return;
        }
        v1::AcceptOfferRequest acc;
        acc.set_offer_id(offer.offer_id());
        acc.set_engineer_id(offer.engineer_id());
        grpc::Status s = dispatch_->AcceptOffer(Ctx("admin").get(), acc, &out);
        if (s.ok()) {
          accepted[k] = idx;
        } else if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
          Error("AcceptOffer " + offer.offer_id(), s);
        }
      });
      declined_ += rejected.load();
      for (size_t k = 0; k < pending.size(); ++k) {
        if (accepted[k] < 0) continue;
        auto it = index_of_engineer_.find(pending[k].engineer_id());
        if (it == index_of_engineer_.end()) continue;
        OrderRun& o = orders_[accepted[k]];
        o.assigned = true;
        o.engineer = it->second;
        engineers_[it->second].queue.push_back(accepted[k]);
        ++assigned_;
      }
      if (rejected.load() == 0) return;  // rejections make new offers at once
    }
  }

  // One milestone as the back office reports it; false when refused.
  bool Report(OrderRun& o, const std::function<void(v1::ProgressReport*)>& fill,
              bool quiet_refusal = false, v1::WorkOrder* after = nullptr) {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(o.id);
    req.mutable_report()->set_client_event_id(absl::StrCat("cs-", ++o.events));
    *req.mutable_report()->mutable_device_time() = rpc::ToProto(now_);
    fill(req.mutable_report());
    v1::ReportProgressResponse resp;
    grpc::Status s = intake_->ReportProgress(Ctx("agent").get(), req, &resp);
    if (!s.ok()) {
      if (s.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
        Error("ReportProgress " + o.id, s);
      } else if (!quiet_refusal && refused_.fetch_add(1) < 10) {
        std::lock_guard<std::mutex> l(log_mu_);
        std::cerr << "citysim: refused " << o.id << ": " << s.error_message() << std::endl;
      }
      return false;
    }
    if (resp.result().code() != v1::PROGRESS_RESULT_CODE_APPLIED &&
        resp.result().code() != v1::PROGRESS_RESULT_CODE_DUPLICATE) {
      if (!quiet_refusal && refused_.fetch_add(1) < 10) {
        std::lock_guard<std::mutex> l(log_mu_);
        std::cerr << "citysim: refused " << o.id << ": " << resp.result().message() << std::endl;
      }
      return false;
    }
    if (after != nullptr) *after = resp.order();
    return true;
  }

  v1::OrderState StateOf(const OrderRun& o) {
    v1::GetOrderRequest req;
    req.set_order_id(o.id);
    v1::WorkOrder w;
    grpc::Status s = intake_->GetOrder(Ctx("agent").get(), req, &w);
    if (!s.ok()) {
      Error("GetOrder " + o.id, s);
      return v1::ORDER_STATE_UNSPECIFIED;
    }
    return w.state();
  }

  // Agents' first call, customers' confirmation, surveys, follow-up calls
  // and complaints.
  //
  // The call centre staffs one agent per kOrdersPerAgent orders of the day
  // (it staffs up for a forecast heat wave); a first call takes
  // kFirstCallMinutes; emergencies and VIPs are called first, then the
  // oldest.
  void CustomerSide() {
    std::vector<int> callers;
    for (size_t i = 0; i < orders_.size(); ++i) {
      const OrderRun& o = orders_[i];
      if (o.created && !o.contacted && o.created_at + absl::Minutes(o.spec->contact_min) <= now_) {
        callers.push_back(static_cast<int>(i));
      }
    }
    std::stable_sort(callers.begin(), callers.end(), [&](int a, int b) {
      const bool ua = orders_[a].spec->emergency || orders_[a].spec->vip;
      const bool ub = orders_[b].spec->emergency || orders_[b].spec->vip;
      if (ua != ub) return ua;
      return orders_[a].created_at < orders_[b].created_at;
    });
    const double per_step = agents_ * absl::ToDoubleMinutes(step_) / kFirstCallMinutes;
    call_credit_ = std::min(call_credit_ + per_step, per_step);
    const size_t calls = std::min(callers.size(), static_cast<size_t>(call_credit_));
    call_credit_ -= calls;
    std::set<int> calling(callers.begin(), callers.begin() + calls);

    std::vector<int> due;
    for (size_t i = 0; i < orders_.size(); ++i) {
      const OrderRun& o = orders_[i];
      if (!o.created) continue;
      const OrderSpec& s = *o.spec;
      if (calling.count(static_cast<int>(i)) ||
          (o.repaired && !o.confirmed && o.repaired_at + absl::Minutes(s.confirm_min) <= now_) ||
          (o.confirmed && !o.followed_up &&
           o.confirmed_at + absl::Minutes(s.follow_up_min) <= now_)) {
        due.push_back(static_cast<int>(i));
      }
    }
    ParallelFor(static_cast<int>(due.size()), threads_, [&](int k) {
      OrderRun& o = orders_[due[k]];
      const OrderSpec& s = *o.spec;
      if (calling.count(due[k])) {
        o.contacted = Report(o, [](v1::ProgressReport* r) {
          r->mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
        });
      }
      if (o.repaired && !o.confirmed && o.repaired_at + absl::Minutes(s.confirm_min) <= now_) {
        if (Report(o, [](v1::ProgressReport* r) {
              r->mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
            })) {
          o.confirmed = true;
          o.confirmed_at = now_;
        }
      }
      if (o.confirmed && !o.followed_up && o.confirmed_at + absl::Minutes(s.follow_up_min) <= now_) {
        const bool late = o.arrived_at - o.created_at > absl::Hours(2);
        o.followed_up = s.survey ? AnswerSurvey(o, late) : FollowUpCall(o);
        if (o.followed_up) MaybeComplain(o, late);
      }
    });
  }

  bool AnswerSurvey(OrderRun& o, bool late) {
    v1::ListSurveysRequest list;
    list.set_order_id(o.id);
    list.mutable_page()->set_page_size(5);
    v1::ListSurveysResponse found;
    grpc::Status s = surveys_->ListSurveys(Ctx("agent").get(), list, &found);
    if (!s.ok()) {
      Error("ListSurveys " + o.id, s);
      return false;
    }
    if (found.surveys().empty()) return false;  // not scheduled yet: next step
    const int score = std::max(1, o.spec->csat - (late ? 1 : 0));
    v1::SubmitSurveyRequest req;
    req.set_survey_id(found.surveys(0).survey_id());
    req.set_request_id("cs-survey-" + o.id);
    auto* r = req.mutable_response();
    r->set_csat(score);
    r->set_nps(score >= 5 ? 10 : score == 4 ? 8 : score * 2);
    auto* d = r->mutable_dimensions();
    d->set_booking_convenience(score);
    d->set_timeliness(late ? std::max(1, score - 1) : score);
    d->set_engineer_attitude(score);
    d->set_professionalism(score);
    d->set_fee_transparency(score);
    d->set_site_etiquette(score);
    r->set_problem_solved(true);
    r->set_comment(score <= 2 ? "师傅迟到了，很失望 the engineer was late" : "ok");
    v1::SubmitSurveyResponse out;
    s = surveys_->SubmitSurvey(Ctx("app").get(), req, &out);
    if (!s.ok()) {
      Error("SubmitSurvey " + o.id, s);
      return false;
    }
    surveys_answered_.fetch_add(1);
    return true;
  }

  bool FollowUpCall(OrderRun& o) {
    const bool ok = Report(o, [](v1::ProgressReport* r) {
      r->mutable_followed_up()->set_problem_solved(true);
      r->mutable_followed_up()->set_note("follow-up call: customer satisfied");
    }, true);
    if (ok) follow_up_calls_.fetch_add(1);
    return ok;
  }

  void MaybeComplain(OrderRun& o, bool late) {
    if (o.spec->complaint_u >= (late ? 0.10 : 0.01)) return;
    v1::FileComplaintRequest req;
    req.set_request_id("cs-complaint-" + o.id);
    req.set_customer_id(o.spec->customer_id);
    req.set_order_id(o.id);
    req.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
    req.set_text(late ? "师傅来得太晚了 the engineer came far too late" : "the repair took too long");
    v1::FileComplaintResponse out;
    grpc::Status s = complaints_->FileComplaint(Ctx("agent").get(), req, &out);
    if (!s.ok()) {
      Error("FileComplaint " + o.id, s);
      return;
    }
    o.complained = true;
    complaints_filed_.fetch_add(1);
  }

  // Orders waiting for a backordered part: back to their engineer once
  // parts has allocated stock (intake leaves WAITING_PARTS).
  void CheckParts() {
    std::vector<int> waiting;
    for (size_t i = 0; i < orders_.size(); ++i) {
      if (orders_[i].waiting_parts) waiting.push_back(static_cast<int>(i));
    }
    std::vector<char> ready(waiting.size(), 0);
    ParallelFor(static_cast<int>(waiting.size()), threads_, [&](int k) {
      const v1::OrderState st = StateOf(orders_[waiting[k]]);
      ready[k] = st != v1::ORDER_STATE_WAITING_PARTS && st != v1::ORDER_STATE_UNSPECIFIED;
    });
    for (size_t k = 0; k < waiting.size(); ++k) {
      if (!ready[k]) continue;
      OrderRun& o = orders_[waiting[k]];
      o.waiting_parts = false;
      engineers_[o.engineer].revisit.push_back(waiting[k]);
    }
  }

  // --- the field --------------------------------------------------------------
  void FieldWork() {
    std::vector<int> due;
    for (size_t i = 0; i < engineers_.size(); ++i) {
      const EngineerRun& e = engineers_[i];
      if (e.current >= 0 ? e.next <= now_ : !e.queue.empty() || !e.revisit.empty()) {
        due.push_back(static_cast<int>(i));
      }
    }
    ParallelFor(static_cast<int>(due.size()), threads_, [&](int k) { Work(engineers_[due[k]]); });
  }

  absl::Duration TravelTo(EngineerRun& e, OrderRun& o) {
    const double km = geo::DistanceKm({e.lat, e.lng}, {o.spec->lat, o.spec->lng});
    o.travel_km += km;
    const absl::Duration t = geo::EstimateTravelTime(km, kTravel) * o.spec->traffic;
    o.travel += t;
    return t;
  }

  void Work(EngineerRun& e) {
    for (int guard = 0; guard < 20; ++guard) {
      if (e.current < 0) {
        // A new job only on shift; a revisit first.
        if (now_ < e.shift_start || now_ >= e.shift_end) return;
        const bool revisit = !e.revisit.empty();
        if (!revisit && e.queue.empty()) return;
        const int idx = revisit ? e.revisit.front() : e.queue.front();
        OrderRun& o = orders_[idx];
        if (!revisit) {
          if (!o.contacted) return;  // the customer has not been called yet
          // Intake latches the assignment from dispatch's stream: a moment.
          bool ok = false;
          for (int attempt = 0; attempt < 50 && !ok; ++attempt) {
            ok = Report(o, [](v1::ProgressReport* r) { r->mutable_departed(); }, true);
            if (!ok) absl::SleepFor(absl::Milliseconds(20));
          }
          if (!ok) return;
          o.departed = true;
          e.queue.pop_front();
          e.field = Field::kTravel;
        } else {
          e.revisit.pop_front();
          e.field = Field::kRevisitTravel;
        }
        e.current = idx;
        e.started = now_;
        e.next = now_ + TravelTo(e, o);
      }
      if (e.next > now_) return;
      OrderRun& o = orders_[e.current];
      switch (e.field) {
        case Field::kTravel: {
          if (!Report(o, [](v1::ProgressReport* r) { r->mutable_arrived(); })) return;
          o.arrived = true;
          o.arrived_at = now_;
          arrived_.fetch_add(1);
          e.lat = o.spec->lat;
          e.lng = o.spec->lng;
          ReportLocation(e);
          e.field = Field::kDiagnose;
          e.next = now_ + absl::Minutes(o.spec->diagnose_min);
          break;
        }
        case Field::kDiagnose: {
          const bool part = o.spec->needs_part;
          const std::string cause = absl::StrCat(kCategories[o.spec->category],
                                                 part ? "_PART_WORN" : "_ADJUSTMENT");
          if (!o.diagnosed) {
            o.diagnosed = Report(o, [&](v1::ProgressReport* r) {
              auto* d = r->mutable_diagnosed()->mutable_diagnosis();
              d->set_initial_cause_code(cause);
              d->set_parts_needed(part);
            });
            if (!o.diagnosed) return;
          }
          if (part && !o.reserve_tried && !Reserve(o, e)) {
            // Backordered: the engineer leaves and comes back with the part.
            o.waiting_parts = true;
            e.busy += now_ - e.started;
            e.current = -1;
            break;
          }
          if (part && !StartRepair(o)) return;
          e.field = Field::kRepair;
          e.next = now_ + absl::Minutes(o.spec->repair_min);
          break;
        }
        case Field::kRevisitTravel: {
          e.lat = o.spec->lat;
          e.lng = o.spec->lng;
          if (StateOf(o) == v1::ORDER_STATE_DIAGNOSED && !StartRepair(o)) return;
          e.field = Field::kRepair;
          e.next = now_ + absl::Minutes(o.spec->repair_min);
          break;
        }
        case Field::kRepair: {
          if (!Repaired(o, e)) return;
          e.busy += now_ - e.started;
          ++e.jobs;
          e.current = -1;
          break;
        }
      }
    }
  }

  void ReportLocation(EngineerRun& e) {
    v1::ReportLocationRequest req;
    req.set_engineer_id(e.spec->id);
    req.mutable_location()->set_lat_deg(e.lat);
    req.mutable_location()->set_lng_deg(e.lng);
    *req.mutable_reported_at() = rpc::ToProto(now_);
    req.set_accuracy_m(15);
    v1::ReportLocationResponse out;
    grpc::Status s = dispatch_->ReportLocation(Ctx("admin").get(), req, &out);
    if (!s.ok()) Error("ReportLocation " + e.spec->id, s);
  }

  // True when reserved at once; false when backordered.
  bool Reserve(OrderRun& o, const EngineerRun& e) {
    o.reserve_tried = true;
    v1::ReserveRequest req;
    req.set_order_id(o.id);
    req.set_sku(Sku(o.spec->category));
    req.set_quantity(1);
    req.mutable_near()->set_lat_deg(o.spec->lat);
    req.mutable_near()->set_lng_deg(o.spec->lng);
    req.set_region_code(kRegion);
    req.set_engineer_id(e.spec->id);
    v1::ReserveResponse resp;
    grpc::Status s = parts_->Reserve(Ctx("admin").get(), req, &resp);
    reservations_.fetch_add(1);
    if (!s.ok()) {
      Error("Reserve " + o.id, s);
      return true;  // repair without the part rather than stall
    }
    if (resp.outcome() == v1::RESERVE_OUTCOME_RESERVED) {
      o.reservation_id = resp.reservation().reservation_id();
      return true;
    }
    backorders_.fetch_add(1);
    return false;
  }

  // Repair with a part: in warranty it just starts; out of warranty the
  // engineer quotes the part and the customer (on site) accepts the fee.
  bool StartRepair(OrderRun& o) {
    if (o.repair_started) return true;
    if (o.spec->in_warranty) {
      o.repair_started = Report(o, [](v1::ProgressReport* r) { r->mutable_repair_started(); });
      return o.repair_started;
    }
    v1::WorkOrder after;
    const int category = o.spec->category;
    if (!Report(o, [&](v1::ProgressReport* r) {
          auto* part = r->mutable_quoted()->add_lines();
          part->set_kind(v1::QUOTE_LINE_KIND_PART);
          part->set_sku(Sku(category));
          part->set_description("replacement part");
          part->set_quantity(1);
          part->mutable_unit_price()->set_currency_code("CNY");
          part->mutable_unit_price()->set_amount_minor(10000 + 2000 * category);
          auto* labour = r->mutable_quoted()->add_lines();
          labour->set_kind(v1::QUOTE_LINE_KIND_LABOR);
          labour->set_description("labour");
          labour->set_quantity(1);
          labour->mutable_unit_price()->set_currency_code("CNY");
          labour->mutable_unit_price()->set_amount_minor(8000);
        }, false, &after)) {
      return false;
    }
    const std::string quote = after.quote().quote_id();
    o.repair_started = Report(o, [&](v1::ProgressReport* r) {
      auto* d = r->mutable_fee_decision();
      d->set_quote_id(quote);
      d->set_accepted(true);
      d->set_method(v1::CONSENT_METHOD_TEXT);
      d->set_evidence_ref("citysim-signature-" + o.id);
    });
    return o.repair_started;
  }

  bool Repaired(OrderRun& o, const EngineerRun& e) {
    if (o.spec->needs_part && o.reservation_id.empty()) {
      // A backorder allocated by the delivery: find its reservation.
      v1::ListOrderPartsRequest req;
      req.set_order_id(o.id);
      v1::OrderParts p;
      if (parts_->ListOrderParts(Ctx("admin").get(), req, &p).ok()) {
        for (const auto& r : p.reservations()) {
          if (r.state() == v1::RESERVATION_STATE_ACTIVE) o.reservation_id = r.reservation_id();
        }
      }
    }
    bool part_used = false;
    if (!o.reservation_id.empty()) {
      v1::ConsumeRequest req;
      req.set_request_id("cs-use-" + o.id);
      req.set_reservation_id(o.reservation_id);
      req.set_quantity(1);
      req.set_engineer_id(e.spec->id);
      v1::Consumption used;
      grpc::Status s = parts_->Consume(Ctx("admin").get(), req, &used);
      part_used = s.ok();
      if (s.ok()) consumed_.fetch_add(1);
    }
    const std::string cause = absl::StrCat(kCategories[o.spec->category],
                                           o.spec->needs_part ? "_PART_WORN" : "_ADJUSTMENT");
    const std::string sku = Sku(o.spec->category), reservation = o.reservation_id;
    if (!Report(o, [&](v1::ProgressReport* r) {
          auto* res = r->mutable_repaired()->mutable_result();
          res->set_final_cause_code(cause);
          res->set_first_visit_fix(!o.spec->needs_part || !reservation.empty());
          res->set_visit_count(1);
          if (part_used) {
            auto* p = res->add_parts_used();
            p->set_sku(sku);
            p->set_quantity(1);
            p->set_reservation_id(reservation);
            p->set_warranty_days(180);
          }
        })) {
      return false;
    }
    o.repaired = true;
    o.repaired_at = now_;
    repaired_.fetch_add(1);
    return true;
  }

  // --- report -----------------------------------------------------------------
  struct ClockCount {
    int met = 0, breached = 0, running = 0, other = 0;
  };

  int WriteReport(absl::Duration real, absl::Duration day_time) {
    std::map<v1::SlaClockKind, ClockCount> clocks;
    std::map<std::string, int> states;
    std::map<std::string, int> priorities;
    std::map<std::string, int> breach_causes;
    int listed = 0, known = 0;
    std::string page;
    const std::set<v1::OrderState> known_states = {
        v1::ORDER_STATE_CREATED,   v1::ORDER_STATE_CONTACTED,     v1::ORDER_STATE_ASSIGNED,
        v1::ORDER_STATE_EN_ROUTE,  v1::ORDER_STATE_ON_SITE,       v1::ORDER_STATE_DIAGNOSED,
        v1::ORDER_STATE_IN_REPAIR, v1::ORDER_STATE_WAITING_PARTS, v1::ORDER_STATE_REPAIRED,
        v1::ORDER_STATE_CONFIRMED, v1::ORDER_STATE_FOLLOWED_UP,   v1::ORDER_STATE_CLOSED};
    std::set<std::string> seen_ids;
    do {
      v1::ListOrdersRequest req;
      req.mutable_page()->set_page_size(500);
      req.mutable_page()->set_page_token(page);
      v1::ListOrdersResponse resp;
      grpc::Status s = intake_->ListOrders(Ctx("agent").get(), req, &resp);
      if (!s.ok()) Fatal("ListOrders", s);
      for (const v1::WorkOrder& o : resp.orders()) {
        ++listed;
        seen_ids.insert(o.order_id());
        known += known_states.count(o.state());
        ++states[v1::OrderState_Name(o.state())];
        ++priorities[v1::Priority_Name(o.priority())];
        for (const v1::SlaClock& c : o.sla_clocks()) {
          ClockCount& k = clocks[c.kind()];
          switch (c.outcome()) {
            case v1::SLA_OUTCOME_MET: ++k.met; break;
            case v1::SLA_OUTCOME_BREACHED:
              ++k.breached;
              ++breach_causes[absl::StrCat(v1::SlaClockKind_Name(c.kind()), "/",
                                           v1::BreachCause_Name(c.breach_cause()))];
              break;
            case v1::SLA_OUTCOME_RUNNING: ++k.running; break;
            default: ++k.other; break;
          }
        }
      }
      page = resp.next_page_token();
    } while (!page.empty());
    int tracked_in_intake = 0;
    for (const OrderRun& o : orders_) tracked_in_intake += o.created && seen_ids.count(o.id);

    int offers = 0, offers_accepted = 0, offers_timed_out = 0, offers_rejected = 0,
        first_offer_accepts = 0;
    for (const Partner& p : city_.partners) {
      std::string token;
      do {
        v1::ListOffersRequest req;
        req.set_partner_id(p.id);
        req.mutable_page()->set_page_size(500);
        req.mutable_page()->set_page_token(token);
        v1::ListOffersResponse resp;
        grpc::Status s = dispatch_->ListOffers(Ctx("admin").get(), req, &resp);
        if (!s.ok()) Fatal("ListOffers " + p.id, s);
        for (const v1::Offer& o : resp.offers()) {
          ++offers;
          offers_accepted += o.state() == v1::OFFER_STATE_ACCEPTED;
          offers_timed_out += o.state() == v1::OFFER_STATE_TIMED_OUT;
          offers_rejected += o.state() == v1::OFFER_STATE_REJECTED;
          first_offer_accepts += o.state() == v1::OFFER_STATE_ACCEPTED && o.attempt() == 1;
        }
        token = resp.next_page_token();
      } while (!token.empty());
    }
    int unassigned_queue = 0;
    {
      std::string token;
      do {
        v1::ListUnassignedRequest req;
        req.mutable_page()->set_page_size(500);
        req.mutable_page()->set_page_token(token);
        v1::ListUnassignedResponse resp;
        grpc::Status s = dispatch_->ListUnassigned(Ctx("admin").get(), req, &resp);
        if (!s.ok()) Fatal("ListUnassigned", s);
        unassigned_queue += resp.entries_size();
        token = resp.next_page_token();
      } while (!token.empty());
    }
    int complaints_total = 0;
    {
      std::string token;
      do {
        v1::ListComplaintsRequest req;
        req.mutable_page()->set_page_size(500);
        req.mutable_page()->set_page_token(token);
        v1::ListComplaintsResponse resp;
        grpc::Status s = complaints_->ListComplaints(Ctx("agent").get(), req, &resp);
        if (!s.ok()) Fatal("ListComplaints", s);
        complaints_total += resp.complaints_size();
        token = resp.next_page_token();
      } while (!token.empty());
    }

    // The field's own measurements.
    std::vector<double> km, minutes, jobs, busy, util;
    int never_assigned = 0, assigned_not_reached = 0;
    for (const OrderRun& o : orders_) {
      if (!o.created) continue;
      if (!o.assigned) ++never_assigned;
      if (o.assigned && !o.arrived) ++assigned_not_reached;
      if (o.arrived) {
        km.push_back(o.travel_km);
        minutes.push_back(absl::ToDoubleMinutes(o.travel));
      }
    }
    for (const EngineerRun& e : engineers_) {
      jobs.push_back(e.jobs);
      busy.push_back(absl::ToDoubleHours(e.busy));
      util.push_back(absl::ToDoubleHours(e.busy) /
                     absl::ToDoubleHours(e.shift_end - e.shift_start));
    }
    int idle_engineers = 0;
    std::vector<double> busy_working;  // engineers with at least one job
    for (size_t i = 0; i < jobs.size(); ++i) {
      idle_engineers += jobs[i] == 0;
      if (jobs[i] > 0) busy_working.push_back(busy[i]);
    }
    auto mean = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return v.empty() ? 0 : s / v.size();
    };

    const std::pair<v1::SlaClockKind, const char*> kinds[] = {
        {v1::SLA_CLOCK_KIND_FIRST_CONTACT, "first_contact"},
        {v1::SLA_CLOCK_KIND_DISPATCH, "dispatch"},
        {v1::SLA_CLOCK_KIND_ARRIVAL, "arrival"},
        {v1::SLA_CLOCK_KIND_RESOLUTION, "resolution"},
        {v1::SLA_CLOCK_KIND_FOLLOW_UP, "follow_up"}};
    std::ostringstream j;
    j << "{\n";
    j << absl::StrFormat("  \"label\": \"%s\",\n  \"day\": \"%s\",\n  \"seed\": %d,\n",
                         absl::GetFlag(FLAGS_label), DayName(), absl::GetFlag(FLAGS_seed));
    j << absl::StrFormat(
        "  \"engineers\": %d,\n  \"partners\": %d,\n  \"step_minutes\": %d,\n"
        "  \"orders_in_stream\": %d,\n  \"order_stream_digest\": \"%016x\",\n"
        "  \"orders_created\": %d,\n  \"orders_in_intake\": %d,\n"
        "  \"orders_tracked_in_intake\": %d,\n  \"orders_in_known_state\": %d,\n",
        engineers_.size(), city_.partners.size(), absl::ToInt64Minutes(step_), specs_.size(),
        Digest(specs_), created_.load(), listed, tracked_in_intake, known);
    auto map_json = [](const std::map<std::string, int>& m) {
      std::vector<std::string> parts;
      for (const auto& [k, v] : m) parts.push_back(absl::StrFormat("\"%s\": %d", k, v));
      return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
    };
    j << "  \"states\": " << map_json(states) << ",\n";
    j << "  \"priorities\": " << map_json(priorities) << ",\n";
    j << "  \"breach_causes\": " << map_json(breach_causes) << ",\n";
    j << "  \"sla\": {\n";
    for (size_t i = 0; i < std::size(kinds); ++i) {
      const ClockCount& c = clocks[kinds[i].first];
      const int decided = c.met + c.breached;
      j << absl::StrFormat(
          "    \"%s\": {\"met\": %d, \"breached\": %d, \"running\": %d, \"other\": %d, "
          "\"compliance\": %.4f}%s\n",
          kinds[i].second, c.met, c.breached, c.running, c.other,
          decided > 0 ? static_cast<double>(c.met) / decided : 0.0,
          i + 1 < std::size(kinds) ? "," : "");
    }
    j << "  },\n";
    j << absl::StrFormat(
        "  \"offers\": {\"made\": %d, \"accepted\": %d, \"rejected\": %d, \"timed_out\": %d, "
        "\"first_offer_accepted\": %d, \"declined_by_sim\": %d},\n",
        offers, offers_accepted, offers_rejected, offers_timed_out, first_offer_accepts, declined_);
    j << absl::StrFormat(
        "  \"unassigned\": {\"never_assigned\": %d, \"assigned_not_reached\": %d, "
        "\"dispatch_queue_at_end\": %d},\n",
        never_assigned, assigned_not_reached, unassigned_queue);
    j << absl::StrFormat(
        "  \"travel\": {\"orders\": %d, \"km_mean\": %.3f, \"km_p50\": %.3f, \"km_p90\": %.3f, "
        "\"km_total\": %.1f, \"minutes_mean\": %.2f, \"minutes_p90\": %.2f},\n",
        km.size(), mean(km), Quantile(km, 0.5), Quantile(km, 0.9), mean(km) * km.size(),
        mean(minutes), Quantile(minutes, 0.9));
    const double busy_p10 = Quantile(busy, 0.1), busy_p90 = Quantile(busy, 0.9);
    j << absl::StrFormat(
        "  \"utilisation\": {\"jobs_mean\": %.3f, \"jobs_p10\": %.1f, \"jobs_p90\": %.1f, "
        "\"jobs_gini\": %.4f, \"busy_hours_mean\": %.3f, \"busy_hours_p10\": %.3f, "
        "\"busy_hours_p90\": %.3f, \"busy_gini\": %.4f, \"busy_share_of_shift_mean\": %.4f, "
        "\"engineers_without_jobs\": %d, \"busy_hours_p10_working\": %.3f, "
        "\"busy_hours_p90_working\": %.3f},\n",
        mean(jobs), Quantile(jobs, 0.1), Quantile(jobs, 0.9), Gini(jobs), mean(busy), busy_p10,
        busy_p90, Gini(busy), mean(util), idle_engineers, Quantile(busy_working, 0.1),
        Quantile(busy_working, 0.9));
    j << absl::StrFormat(
        "  \"field\": {\"arrived\": %d, \"repaired\": %d, \"reservations\": %d, "
        "\"backorders\": %d, \"parts_consumed\": %d, \"surveys_answered\": %d, "
        "\"follow_up_calls\": %d, \"complaints_filed\": %d, \"complaints_in_service\": %d, "
        "\"reports_refused\": %d},\n",
        arrived_.load(), repaired_.load(), reservations_.load(), backorders_.load(),
        consumed_.load(), surveys_answered_.load(), follow_up_calls_.load(),
        complaints_filed_.load(), complaints_total, refused_.load());
    j << absl::StrFormat(
        "  \"run\": {\"rpcs\": %d, \"rpc_errors\": %d, \"real_seconds\": %.1f, "
        "\"day_real_seconds\": %.1f, \"threads\": %d}\n",
        rpcs_.load(), errors_.load(), absl::ToDoubleSeconds(real), absl::ToDoubleSeconds(day_time),
        threads_);
    j << "}\n";
    const std::string json = j.str();
    if (const std::string out = absl::GetFlag(FLAGS_out); !out.empty()) {
      std::ofstream f(out);
      f << json;
      if (!f) {
        std::cerr << "citysim: cannot write " << out << std::endl;
        return 1;
      }
    }
    std::cout << json;
    return created_.load() > 0 && errors_.load() == 0 ? 0 : 1;
  }

  DayKind day_;
  int threads_;
  absl::Duration step_;
  std::map<std::string, std::string> tokens_;
  std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> channels_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::DispatchService::Stub> dispatch_;
  std::unique_ptr<v1::PartsService::Stub> parts_;
  std::unique_ptr<v1::ComplaintService::Stub> complaints_;
  std::unique_ptr<v1::SatisfactionService::Stub> surveys_;
  City city_;
  std::vector<OrderSpec> specs_;
  std::vector<OrderRun> orders_;
  std::vector<EngineerRun> engineers_;
  std::map<std::string, int> index_of_engineer_;
  std::mutex index_mu_, log_mu_;
  std::map<std::string, int> index_of_order_;
  std::vector<std::string> stock_locations_;
  absl::Time now_;
  int assigned_ = 0, declined_ = 0, receipts_ = 0;
  int agents_ = 1;
  double call_credit_ = 0;
  std::atomic<int> rpcs_{0}, errors_{0}, created_{0}, arrived_{0}, repaired_{0}, refused_{0},
      reservations_{0}, backorders_{0}, consumed_{0}, surveys_answered_{0}, follow_up_calls_{0},
      complaints_filed_{0};
};

}  // namespace
}  // namespace aftersales::citysim

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Plays one simulated city day through the five services on manual clocks and writes a\n"
      "JSON report. Usually started by bench/citysim/run.sh.");
  absl::ParseCommandLine(argc, argv);
  aftersales::citysim::Sim sim;
  return sim.Run();
}
