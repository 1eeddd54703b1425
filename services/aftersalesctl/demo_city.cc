// aftersales_demo: seeds a realistic city (two partner networks of engineers
// with shifts and skills, warehouses and stock) into a running suite whose
// five services use manual clocks, drives a simulated day of orders from
// Monday 08:00 to 20:00 Shanghai time in 10-minute steps, and prints a short
// SLA summary. Exit status 0 only if every service is still healthy at the
// end. Run by `deploy/local/run.sh --demo`.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersales/v1/parts.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "grpcpp/impl/codegen/rpc_method.h"
#include "rpc/rpc.h"
#include "suite_client.h"

ABSL_FLAG(std::string, intake, "127.0.0.1:7101", "intake address");
ABSL_FLAG(std::string, dispatch, "127.0.0.1:7102", "dispatch address");
ABSL_FLAG(std::string, parts, "127.0.0.1:7103", "parts address");
ABSL_FLAG(std::string, complaint, "127.0.0.1:7104", "complaint address");
ABSL_FLAG(std::string, satisfaction, "127.0.0.1:7105", "satisfaction address");
ABSL_FLAG(std::string, tokens, "var/secrets/tokens.plain",
          "plain tokens file of deploy/local/run.sh (name token per line)");
ABSL_FLAG(int, engineers, 40, "engineers to register, split across the two partners");
ABSL_FLAG(int, seed, 20261123, "random seed of the simulated city and its orders");
ABSL_FLAG(bool, verbose, false, "print every simulated step");

namespace aftersales {
namespace {

using v1::OrderState;

struct Partner {
  std::string id, name, token_name;
  double preference;
};

const Partner kPartners[] = {
    {"PDEMO", "浦东家电服务 Pudong Home Service", "partner-demo", 0.6},
    {"PEAST", "东方维修网 East Repair Network", "partner-east", 0.5},
};
const char* kCategories[] = {"FRIDGE", "WASHER", "AIR_CONDITIONER", "WATER_HEATER"};

struct Fault {
  const char* category;
  const char* text;
};
// Mostly NORMAL and URGENT faults; the safety ones are drawn separately.
const Fault kFaults[] = {
    {"FRIDGE", "door seal is loose"},
    {"FRIDGE", "ice maker makes a rattling noise"},
    {"FRIDGE", "冰箱噪音大 loud humming at night"},
    {"FRIDGE", "display shows error E5"},
    {"WASHER", "drum makes a loud noise while washing"},
    {"WASHER", "won't drain after the cycle"},
    {"WASHER", "door lock light keeps blinking"},
    {"WASHER", "洗衣机不排水"},
    {"AIR_CONDITIONER", "weak airflow from the indoor unit"},
    {"AIR_CONDITIONER", "remote control does not respond"},
    {"AIR_CONDITIONER", "空调不制热"},
    {"AIR_CONDITIONER", "outdoor unit vibrates and rattles"},
    {"WATER_HEATER", "temperature display flickers"},
    {"WATER_HEATER", "water temperature fluctuates"},
    {"WATER_HEATER", "stopped working this morning"},
};
const Fault kEmergencies[] = {
    {"WATER_HEATER", "gas smell near the water heater"},
    {"AIR_CONDITIONER", "burning smell from the indoor unit"},
    {"FRIDGE", "fridge not cooling, food is spoiling"},
    {"WASHER", "water leaking all over the floor"},
};
struct Sku {
  const char* sku;
  const char* name;
  const char* category;
  int64_t price_minor;
};
const Sku kSkus[] = {
    {"FRIDGE-SEAL-01", "fridge door seal", "FRIDGE", 12000},
    {"WASHER-PUMP-02", "washer drain pump", "WASHER", 18000},
    {"AC-FAN-03", "AC indoor fan motor", "AIR_CONDITIONER", 26000},
    {"WH-SENSOR-04", "water heater temperature sensor", "WATER_HEATER", 9000},
};

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  return suite::BearerContext(token);
}

[[noreturn]] void Fail(const std::string& what, const grpc::Status& s) {
  std::cerr << "aftersales_demo: " << what << ": " << s.error_code() << " " << s.error_message()
            << std::endl;
  std::exit(1);
}

// One order as the simulated field sees it.
enum class Step { kContact, kDepart, kArrive, kDiagnose, kRepair, kConfirm, kDone };
struct Tracked {
  std::string id;
  std::string category;
  bool emergency = false;
  bool needs_part = false;
  std::string reservation_id;
  bool repair_started = false;
  Step step = Step::kContact;
  absl::Time due;
  int events = 0;
};

class Demo {
 public:
  Demo() : rng_(absl::GetFlag(FLAGS_seed)) {
    tokens_ = suite::ReadPlainTokens(absl::GetFlag(FLAGS_tokens));
    for (const char* n : {"admin", "agent"}) {
      if (!tokens_.count(n)) {
        std::cerr << "aftersales_demo: no '" << n << "' token in " << absl::GetFlag(FLAGS_tokens)
                  << std::endl;
        std::exit(2);
      }
    }
    const std::pair<const char*, std::string> addrs[] = {
        {"intake", absl::GetFlag(FLAGS_intake)},
        {"dispatch", absl::GetFlag(FLAGS_dispatch)},
        {"parts", absl::GetFlag(FLAGS_parts)},
        {"complaint", absl::GetFlag(FLAGS_complaint)},
        {"satisfaction", absl::GetFlag(FLAGS_satisfaction)}};
    for (const auto& [name, addr] : addrs) {
      channels_.emplace_back(name, grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    }
    intake_ = v1::IntakeService::NewStub(channels_[0].second);
    dispatch_ = v1::DispatchService::NewStub(channels_[1].second);
    parts_ = v1::PartsService::NewStub(channels_[2].second);
    for (const Partner& p : kPartners) {
      if (tokens_.count(p.token_name)) partners_.push_back(p);
    }
    if (partners_.empty()) {
      std::cerr << "aftersales_demo: no partner token (partner-demo / partner-east)" << std::endl;
      std::exit(2);
    }
  }

  int Run() {
    const absl::Time real_start = absl::Now();
    StartClocks();
    Seed();
    std::cout << "demo: seeded " << engineers_.size() << " engineers in " << partners_.size()
              << " partner networks, " << std::size(kSkus) << " SKUs at "
              << 1 + partners_.size() * 2 << " stock locations" << std::endl;
    const absl::Time end = day_start_ + absl::Hours(12);
    while (now_ < end) {
      Tick();
      AdvanceAll(absl::Minutes(10));
      if (absl::GetFlag(FLAGS_verbose) || absl::ToUnixSeconds(now_) % 7200 == 0) {
        std::cout << "demo: " << Local(now_) << "  orders " << created_ << ", open "
                  << OpenCount() << ", offers accepted " << accepted_ << std::endl;
      }
    }
    // Let the last events settle before reading the results.
    absl::SleepFor(absl::Milliseconds(500));
    const int rc = Summary();
    std::cout << "real runtime: " << absl::FormatDuration(absl::Trunc(absl::Now() - real_start,
                                                                       absl::Milliseconds(100)))
              << std::endl;
    return rc;
  }

 private:
  const std::string& Token(const std::string& name) { return tokens_.at(name); }

  std::string Local(absl::Time t) {
    static const absl::TimeZone tz = [] {
      absl::TimeZone z;
      if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
      return z;
    }();
    return absl::FormatTime("%a %Y-%m-%d %H:%M", t, tz);
  }

  double Uniform(double lo, double hi) { return std::uniform_real_distribution<>(lo, hi)(rng_); }
  int Int(int lo, int hi) { return std::uniform_int_distribution<>(lo, hi)(rng_); }
  bool Chance(double p) { return Uniform(0, 1) < p; }

  // --- clocks -----------------------------------------------------------------
  void StartClocks() {
    // The next Monday 08:00 in Shanghai after the latest of the five clocks.
    absl::Time latest = absl::InfinitePast();
    for (auto& [name, ch] : channels_) {
      v1::ClockTime t;
      grpc::Status s = v1::ClockAdmin::NewStub(ch)->GetTime(Ctx(Token("admin")).get(),
                                                           v1::GetTimeRequest(), &t);
      if (!s.ok()) Fail(absl::StrCat(name, " GetTime"), s);
      if (!t.manual()) {
        std::cerr << "aftersales_demo: " << name
                  << " runs on the real clock; start the suite with -- --clock=manual"
                  << std::endl;
        std::exit(2);
      }
      latest = std::max(latest, rpc::FromProto(t.now()));
    }
    const absl::TimeZone tz = absl::FixedTimeZone(8 * 3600);
    absl::CivilDay day = absl::ToCivilDay(latest, tz) + 1;
    while (absl::GetWeekday(day) != absl::Weekday::monday) day += 1;
    day_start_ = absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), 8), tz);
    std::string failed;
    grpc::Status s = suite::SetAllClocks(channels_, Token("admin"), day_start_, &failed);
    if (!s.ok()) Fail(absl::StrCat(failed, " SetTime"), s);
    now_ = day_start_;
    std::cout << "demo: all five clocks set to " << Local(now_) << " (Asia/Shanghai)" << std::endl;
  }

  void AdvanceAll(absl::Duration by) {
    std::string failed;
    grpc::Status s = suite::AdvanceAllClocks(channels_, Token("admin"), by, &failed);
    if (!s.ok()) Fail(absl::StrCat(failed, " AdvanceTime"), s);
    now_ += by;
    // Sweepers and consumers wake on the moved clock; give them a moment.
    absl::SleepFor(absl::Milliseconds(60));
  }

  // --- seeding ----------------------------------------------------------------
  void Seed() {
    for (const Partner& p : partners_) {
      v1::UpsertPartnerRequest req;
      req.mutable_partner()->set_partner_id(p.id);
      req.mutable_partner()->set_name(p.name);
      req.mutable_partner()->set_preference(p.preference);
      req.mutable_partner()->add_allowed_regions("CN-310000");
      v1::Partner out;
      grpc::Status s = dispatch_->UpsertPartner(Ctx(Token("admin")).get(), req, &out);
      if (!s.ok()) Fail("UpsertPartner " + p.id, s);
    }
    const int n = absl::GetFlag(FLAGS_engineers);
    const v1::CertificationLevel levels[] = {v1::CERTIFICATION_LEVEL_JUNIOR,
                                             v1::CERTIFICATION_LEVEL_INTERMEDIATE,
                                             v1::CERTIFICATION_LEVEL_INTERMEDIATE,
                                             v1::CERTIFICATION_LEVEL_SENIOR};
    for (int i = 0; i < n; ++i) {
      const Partner& p = partners_[i % partners_.size()];
      v1::RegisterEngineerRequest req;
      v1::Engineer* e = req.mutable_engineer();
      e->set_engineer_id(absl::StrFormat("%s-E%02d", p.id, i + 1));
      e->set_partner_id(p.id);
      e->set_home_outlet_id("OUT-" + p.id + (i % 4 < 2 ? "-PD" : "-PX"));
      e->set_display_name(absl::StrFormat("师傅 %s %02d", p.id, i + 1));
      e->set_home_region_code("CN-310000");
      // Two or three categories each; every category covered at every level.
      const int first = i % 4;
      const int count = 2 + (i % 3 == 0);
      for (int k = 0; k < count; ++k) {
        auto* skill = e->add_skills();
        skill->set_appliance_category(kCategories[(first + k) % 4]);
        skill->set_level(levels[(i + k) % 4]);
      }
      e->mutable_coverage()->add_region_codes("CN-310000");
      // Shifts Monday..Saturday: early (08-17), late (11-20) or long (08-20).
      auto* shifts = e->mutable_shifts();
      shifts->set_time_zone("Asia/Shanghai");
      const int kind = i % 5;
      const int start = kind < 2 ? 480 : kind < 4 ? 660 : 480;
      const int stop = kind < 2 ? 1020 : 1200;
      for (int d = 1; d <= 6; ++d) {
        auto* w = shifts->add_weekly();
        w->set_iso_weekday(d);
        w->set_start_minute(start);
        w->set_end_minute(stop);
      }
      e->mutable_capacity()->set_max_active(2);
      e->mutable_capacity()->set_max_queued(3);
      const double lat = Uniform(31.10, 31.36), lng = Uniform(121.30, 121.66);
      e->mutable_location()->set_lat_deg(lat);
      e->mutable_location()->set_lng_deg(lng);
      *e->mutable_location_reported_at() = rpc::ToProto(now_);
      v1::Engineer out;
      grpc::Status s = dispatch_->RegisterEngineer(Ctx(Token(p.token_name)).get(), req, &out);
      if (!s.ok()) Fail("RegisterEngineer " + e->engineer_id(), s);
      engineers_.push_back({e->engineer_id(), p.token_name, lat, lng});
    }

    for (const Sku& k : kSkus) {
      v1::UpsertPartRequest req;
      v1::Part* part = req.mutable_part();
      part->set_sku(k.sku);
      part->set_name(k.name);
      part->add_compatible_categories(k.category);
      part->mutable_unit_price()->set_currency_code("CNY");
      part->mutable_unit_price()->set_amount_minor(k.price_minor);
      part->set_warranty_days(180);
      part->set_lot_tracked(false);
      part->set_active(true);
      v1::Part out;
      grpc::Status s = parts_->UpsertPart(Ctx(Token("admin")).get(), req, &out);
      if (!s.ok()) Fail(absl::StrCat("UpsertPart ", k.sku), s);
    }
    std::vector<Loc> locs = {{"WH-SH-CENTRAL", v1::LOCATION_KIND_CENTRAL_WAREHOUSE, 31.05, 121.25,
                              "", 1}};
    for (const Partner& p : partners_) {
      locs.push_back({"OUT-" + p.id + "-PD", v1::LOCATION_KIND_OUTLET, Uniform(31.18, 31.26),
                      Uniform(121.50, 121.60), p.id, 1});
      locs.push_back({"OUT-" + p.id + "-PX", v1::LOCATION_KIND_OUTLET, Uniform(31.18, 31.30),
                      Uniform(121.38, 121.46), p.id, 0});
    }
    for (const Loc& l : locs) {
      v1::UpsertLocationRequest req;
      v1::StockLocation* s = req.mutable_location();
      s->set_location_id(l.id);
      s->set_kind(l.kind);
      s->set_name(l.id);
      s->mutable_point()->set_lat_deg(l.lat);
      s->mutable_point()->set_lng_deg(l.lng);
      s->set_region_code("CN-310000");
      s->set_partner_id(l.partner);
      s->set_active(true);
      v1::StockLocation out;
      grpc::Status st = parts_->UpsertLocation(Ctx(Token("admin")).get(), req, &out);
      if (!st.ok()) Fail("UpsertLocation " + l.id, st);
      // A thin morning stock: some orders wait for the midday delivery.
      for (const Sku& k : kSkus) {
        if (l.stock > 0) Receive(l.id, k.sku, l.stock);
      }
    }
    outlets_ = locs;
  }

  void Receive(const std::string& loc, const std::string& sku, int qty) {
    v1::ReceiveRequest req;
    req.set_request_id(absl::StrCat("demo-receipt-", ++requests_));
    req.set_location_id(loc);
    req.set_sku(sku);
    req.set_quantity(qty);
    req.set_supplier_ref("demo delivery");
    v1::ReceiveResponse out;
    grpc::Status s = parts_->Receive(Ctx(Token("admin")).get(), req, &out);
    if (!s.ok()) Fail("Receive " + loc + " " + sku, s);
    parts_allocated_ += out.allocated_size();
  }

  // Engineers' phones report positions; dispatch wants a fresh location.
  void ReportLocations() {
    for (auto& e : engineers_) {
      e.lat = std::clamp(e.lat + Uniform(-0.01, 0.01), 31.0, 31.45);
      e.lng = std::clamp(e.lng + Uniform(-0.01, 0.01), 121.2, 121.8);
      v1::ReportLocationRequest req;
      req.set_engineer_id(e.id);
      req.mutable_location()->set_lat_deg(e.lat);
      req.mutable_location()->set_lng_deg(e.lng);
      *req.mutable_reported_at() = rpc::ToProto(now_);
      req.set_accuracy_m(15);
      v1::ReportLocationResponse out;
      grpc::Status s = dispatch_->ReportLocation(Ctx(Token(e.token)).get(), req, &out);
      if (!s.ok()) Fail("ReportLocation " + e.id, s);
    }
  }

  // --- the day ----------------------------------------------------------------
  void Tick() {
    if (absl::ToInt64Seconds(now_ - day_start_) % 1800 == 0) ReportLocations();
    // A midday delivery refills the outlets (and serves any backorders).
    if (now_ == day_start_ + absl::Hours(6)) {
      for (const auto& l : outlets_) {
        for (const Sku& k : kSkus) Receive(l.id, k.sku, 3);
      }
      std::cout << "demo: " << Local(now_) << "  midday parts delivery to " << outlets_.size()
                << " locations: " << parts_allocated_ << " backorders allocated" << std::endl;
    }
    // Demand peaks late morning and early evening.
    const double hour = absl::ToDoubleHours(now_ - day_start_) + 8;
    const int base = (hour >= 10 && hour < 12) || (hour >= 17 && hour < 19) ? 4 : 2;
    const int n = Int(base - 1, base + 1);
    for (int i = 0; i < n; ++i) CreateOrder(Chance(0.04));
    // Exactly a couple of emergencies at fixed times of the day.
    if (now_ == day_start_ + absl::Minutes(150) || now_ == day_start_ + absl::Minutes(520)) {
      CreateOrder(true);
    }
    absl::SleepFor(absl::Milliseconds(120));  // dispatch follows intake's stream
    AcceptOffers();
    Progress();
    absl::SleepFor(absl::Milliseconds(60));
    AcceptOffers();
  }

  void CreateOrder(bool emergency) {
    const Fault f = emergency ? kEmergencies[Int(0, std::size(kEmergencies) - 1)]
                              : kFaults[Int(0, std::size(kFaults) - 1)];
    const int n = ++created_;
    v1::CreateOrderRequest r;
    r.set_request_id(absl::StrFormat("demo-%s-%04d", absl::FormatTime("%Y%m%d", now_,
                                                                      absl::UTCTimeZone()), n));
    const v1::Channel channels[] = {v1::CHANNEL_PHONE, v1::CHANNEL_APP, v1::CHANNEL_PHONE,
                                    v1::CHANNEL_VOICE_ASSISTANT};
    r.set_channel(channels[n % 4]);
    r.set_customer_id(absl::StrFormat("C%05d", Int(1, 99999)));
    auto* area = r.mutable_service_area();
    area->set_region_code("CN-310000");
    area->set_city_tier(1);
    area->mutable_location()->set_lat_deg(Uniform(31.12, 31.34));
    area->mutable_location()->set_lng_deg(Uniform(121.32, 121.64));
    r.mutable_appliance()->set_category(f.category);
    r.mutable_appliance()->set_serial(absl::StrFormat("SN-DEMO-%08d", Int(1, 99999999)));
    const bool in_warranty = Chance(0.6);
    r.mutable_appliance()->set_warranty_status(in_warranty ? v1::WARRANTY_STATUS_IN
                                                           : v1::WARRANTY_STATUS_OUT);
    r.mutable_fault()->set_description(f.text);
    r.mutable_contact()->set_name(absl::StrFormat("客户%03d", n));
    r.mutable_contact()->set_phone(absl::StrFormat("138%08d", Int(0, 99999999)));
    r.mutable_contact()->set_full_address(
        absl::StrFormat("上海市浦东新区世纪大道%d号 %d室", Int(1, 2000), Int(101, 2808)));
    v1::CreateOrderResponse resp;
    grpc::Status s = intake_->CreateOrder(Ctx(Token("agent")).get(), r, &resp);
    if (!s.ok()) Fail("CreateOrder " + r.request_id(), s);
    if (!resp.created()) return;  // linked to an open order on the serial
    Tracked t;
    t.id = resp.order().order_id();
    t.category = f.category;
    t.emergency = resp.order().priority() == v1::PRIORITY_EMERGENCY;
    ++by_priority_[resp.order().priority()];
    t.needs_part = in_warranty && Chance(0.35);
    t.step = Step::kContact;
    t.due = now_ + (t.emergency ? absl::ZeroDuration() : absl::Minutes(Int(0, 1) * 10));
    orders_.push_back(t);
    if (absl::GetFlag(FLAGS_verbose)) {
      std::cout << "  " << Local(now_) << " new " << v1::Priority_Name(resp.order().priority())
                << " " << t.id << " " << f.category << ": " << f.text << std::endl;
    }
  }

  void AcceptOffers() {
    for (const Partner& p : partners_) {
      v1::ListOffersRequest req;
      req.set_partner_id(p.id);
      req.set_state(v1::OFFER_STATE_PENDING);
      req.mutable_page()->set_page_size(200);
      v1::ListOffersResponse offers;
      grpc::Status s = dispatch_->ListOffers(Ctx(Token(p.token_name)).get(), req, &offers);
      if (!s.ok()) Fail("ListOffers " + p.id, s);
      for (const v1::Offer& o : offers.offers()) {
        if (o.state() != v1::OFFER_STATE_PENDING) continue;
        v1::Offer out;
        // Now and then an engineer declines (busy with a customer).
        if (Chance(0.05)) {
          v1::RejectOfferRequest rej;
          rej.set_offer_id(o.offer_id());
          rej.set_engineer_id(o.engineer_id());
          rej.set_reason(v1::OFFER_REJECT_REASON_BUSY);
          rej.set_note("busy with another customer");
          if (dispatch_->RejectOffer(Ctx(Token(p.token_name)).get(), rej, &out).ok()) ++rejected_;
          continue;
        }
        v1::AcceptOfferRequest acc;
        acc.set_offer_id(o.offer_id());
        acc.set_engineer_id(o.engineer_id());
        grpc::Status st = dispatch_->AcceptOffer(Ctx(Token(p.token_name)).get(), acc, &out);
        if (st.ok()) {
          ++accepted_;
        } else if (st.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
          Fail("AcceptOffer " + o.offer_id(), st);
        }
      }
    }
  }

  v1::WorkOrder Get(const std::string& id) {
    v1::GetOrderRequest req;
    req.set_order_id(id);
    v1::WorkOrder o;
    grpc::Status s = intake_->GetOrder(Ctx(Token("agent")).get(), req, &o);
    if (!s.ok()) Fail("GetOrder " + id, s);
    return o;
  }

  // Reports one milestone as the back office (agents may report all of
  // them); returns the state after, or UNSPECIFIED when refused.
  OrderState Report(Tracked& t, const std::function<void(v1::ProgressReport*)>& fill) {
    v1::ReportProgressRequest req;
    req.mutable_report()->set_order_id(t.id);
    req.mutable_report()->set_client_event_id(absl::StrCat("demo-", t.id, "-", ++t.events));
    *req.mutable_report()->mutable_device_time() = rpc::ToProto(now_);
    fill(req.mutable_report());
    v1::ReportProgressResponse resp;
    grpc::Status s = intake_->ReportProgress(Ctx(Token("agent")).get(), req, &resp);
    if (!s.ok()) {
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
        ++refused_;
        return v1::ORDER_STATE_UNSPECIFIED;
      }
      Fail("ReportProgress " + t.id, s);
    }
    if (resp.result().code() != v1::PROGRESS_RESULT_CODE_APPLIED &&
        resp.result().code() != v1::PROGRESS_RESULT_CODE_DUPLICATE) {
      ++refused_;
      if (absl::GetFlag(FLAGS_verbose)) {
        std::cout << "  refused " << t.id << ": " << resp.result().message() << std::endl;
      }
      return v1::ORDER_STATE_UNSPECIFIED;
    }
    return resp.order().state();
  }

  void Progress() {
    for (Tracked& t : orders_) {
      if (t.step == Step::kDone || t.due > now_) continue;
      switch (t.step) {
        case Step::kContact:
          if (Report(t, [](v1::ProgressReport* r) {
                r->mutable_contacted()->set_method(v1::CONTACT_METHOD_PHONE_CALL);
              }) != v1::ORDER_STATE_UNSPECIFIED) {
            t.step = Step::kDepart;
            t.due = now_ + (t.emergency ? absl::ZeroDuration() : absl::Minutes(10 * Int(1, 3)));
          }
          break;
        case Step::kDepart: {
          const OrderState st = Get(t.id).state();
          if (st == v1::ORDER_STATE_CONTACTED || st == v1::ORDER_STATE_CREATED) break;  // no engineer yet
          if (st != v1::ORDER_STATE_ASSIGNED) {
            t.step = Step::kDone;
            break;
          }
          if (Report(t, [](v1::ProgressReport* r) { r->mutable_departed(); }) !=
              v1::ORDER_STATE_UNSPECIFIED) {
            t.step = Step::kArrive;
            t.due = now_ + absl::Minutes(t.emergency ? 10 * Int(1, 3) : 10 * Int(2, 6));
          }
          break;
        }
        case Step::kArrive:
          if (Report(t, [](v1::ProgressReport* r) { r->mutable_arrived(); }) !=
              v1::ORDER_STATE_UNSPECIFIED) {
            t.step = Step::kDiagnose;
            t.due = now_ + absl::Minutes(10 * Int(1, 3));
          }
          break;
        case Step::kDiagnose: {
          const bool part = t.needs_part;
          const std::string cause = t.category + (part ? "_PART_WORN" : "_ADJUSTMENT");
          if (Report(t, [&](v1::ProgressReport* r) {
                auto* d = r->mutable_diagnosed()->mutable_diagnosis();
                d->set_initial_cause_code(cause);
                d->set_parts_needed(part);
              }) == v1::ORDER_STATE_UNSPECIFIED) {
            break;
          }
          if (part) ReservePart(t);
          t.step = Step::kRepair;
          t.due = now_ + absl::Minutes(10 * Int(2, 6));
          break;
        }
        case Step::kRepair: {
          const OrderState st = Get(t.id).state();
          if (st == v1::ORDER_STATE_WAITING_PARTS) break;  // backordered: wait for stock
          if (t.needs_part && st == v1::ORDER_STATE_DIAGNOSED && !t.repair_started) {
            if (Report(t, [](v1::ProgressReport* r) { r->mutable_repair_started(); }) ==
                v1::ORDER_STATE_UNSPECIFIED) {
              break;
            }
            t.repair_started = true;
          }
          if (t.needs_part) ConsumePart(t);
          const bool part = t.needs_part && !t.reservation_id.empty();
          const std::string cause = t.category + (t.needs_part ? "_PART_WORN" : "_ADJUSTMENT");
          const Tracked copy = t;
          if (Report(t, [&](v1::ProgressReport* r) {
                auto* res = r->mutable_repaired()->mutable_result();
                res->set_final_cause_code(cause);
                res->set_first_visit_fix(true);
                res->set_visit_count(1);
                if (part) {
                  auto* used = res->add_parts_used();
                  used->set_sku(SkuFor(copy.category));
                  used->set_quantity(1);
                  used->set_reservation_id(copy.reservation_id);
                  used->set_warranty_days(180);
                }
              }) != v1::ORDER_STATE_UNSPECIFIED) {
            ++repaired_;
            t.step = Step::kConfirm;
            t.due = now_ + absl::Minutes(10);
          }
          break;
        }
        case Step::kConfirm:
          if (Report(t, [](v1::ProgressReport* r) {
                r->mutable_customer_confirmed()->set_method(v1::CONSENT_METHOD_TEXT);
              }) != v1::ORDER_STATE_UNSPECIFIED) {
            ++confirmed_;
          }
          t.step = Step::kDone;
          break;
        case Step::kDone:
          break;
      }
    }
  }

  static std::string SkuFor(const std::string& category) {
    for (const Sku& k : kSkus) {
      if (category == k.category) return k.sku;
    }
    return kSkus[0].sku;
  }

  void ReservePart(Tracked& t) {
    v1::ReserveRequest req;
    req.set_order_id(t.id);
    req.set_sku(SkuFor(t.category));
    req.set_quantity(1);
    req.mutable_near()->set_lat_deg(31.23);
    req.mutable_near()->set_lng_deg(121.47);
    req.set_region_code("CN-310000");
    v1::ReserveResponse resp;
    grpc::Status s = parts_->Reserve(Ctx(Token("admin")).get(), req, &resp);
    if (!s.ok()) Fail("Reserve " + t.id, s);
    ++reservations_;
    if (resp.outcome() == v1::RESERVE_OUTCOME_RESERVED) {
      t.reservation_id = resp.reservation().reservation_id();
    } else {
      ++backorders_;
    }
  }

  void ConsumePart(Tracked& t) {
    if (t.reservation_id.empty()) {
      // A backorder allocated by a delivery: find its reservation.
      v1::ListOrderPartsRequest req;
      req.set_order_id(t.id);
      v1::OrderParts p;
      if (parts_->ListOrderParts(Ctx(Token("admin")).get(), req, &p).ok()) {
        for (const auto& r : p.reservations()) {
          if (r.state() == v1::RESERVATION_STATE_ACTIVE) t.reservation_id = r.reservation_id();
        }
      }
      if (t.reservation_id.empty()) return;
    }
    v1::ConsumeRequest req;
    req.set_request_id("demo-use-" + t.id);
    req.set_reservation_id(t.reservation_id);
    req.set_quantity(1);
    v1::Consumption used;
    grpc::Status s = parts_->Consume(Ctx(Token("admin")).get(), req, &used);
    if (s.ok()) {
      ++consumed_;
    } else if (absl::GetFlag(FLAGS_verbose)) {
      std::cout << "  consume " << t.id << ": " << s.error_message() << std::endl;
    }
  }

  int OpenCount() const {
    int n = 0;
    for (const auto& t : orders_) n += t.step != Step::kDone;
    return n;
  }

  // --- summary ----------------------------------------------------------------
  int Summary() {
    struct Counts {
      int met = 0, breached = 0, running = 0, other = 0;
    };
    std::map<v1::SlaClockKind, Counts> clocks;
    std::map<v1::OrderState, int> states;
    std::map<v1::Priority, int> priorities;
    int orders = 0;
    std::string page;
    do {
      v1::ListOrdersRequest req;
      req.mutable_page()->set_page_size(100);
      req.mutable_page()->set_page_token(page);
      v1::ListOrdersResponse resp;
      grpc::Status s = intake_->ListOrders(Ctx(Token("agent")).get(), req, &resp);
      if (!s.ok()) Fail("ListOrders", s);
      for (const v1::WorkOrder& o : resp.orders()) {
        ++orders;
        ++states[o.state()];
        ++priorities[o.priority()];
        for (const v1::SlaClock& c : o.sla_clocks()) {
          Counts& k = clocks[c.kind()];
          switch (c.outcome()) {
            case v1::SLA_OUTCOME_MET: ++k.met; break;
            case v1::SLA_OUTCOME_BREACHED: ++k.breached; break;
            case v1::SLA_OUTCOME_RUNNING: ++k.running; break;
            default: ++k.other; break;
          }
        }
      }
      page = resp.next_page_token();
    } while (!page.empty());

    int offers = 0, offers_accepted = 0, offers_timed_out = 0;
    for (const Partner& p : partners_) {
      std::string token;
      do {
        v1::ListOffersRequest req;
        req.set_partner_id(p.id);
        req.mutable_page()->set_page_size(200);
        req.mutable_page()->set_page_token(token);
        v1::ListOffersResponse resp;
        grpc::Status s = dispatch_->ListOffers(Ctx(Token("admin")).get(), req, &resp);
        if (!s.ok()) Fail("ListOffers " + p.id, s);
        for (const v1::Offer& o : resp.offers()) {
          ++offers;
          offers_accepted += o.state() == v1::OFFER_STATE_ACCEPTED;
          offers_timed_out += o.state() == v1::OFFER_STATE_TIMED_OUT;
        }
        token = resp.next_page_token();
      } while (!token.empty());
    }

    std::cout << "\n==== Demo day SLA summary: " << Local(day_start_) << " .. "
              << absl::FormatTime("%H:%M", now_, absl::FixedTimeZone(8 * 3600))
              << " Asia/Shanghai ====\n";
    std::cout << absl::StrFormat("orders created   %d  (EMERGENCY %d, URGENT %d, NORMAL %d)\n",
                                 orders, priorities[v1::PRIORITY_EMERGENCY],
                                 priorities[v1::PRIORITY_URGENT], priorities[v1::PRIORITY_NORMAL]);
    std::cout << absl::StrFormat(
        "orders now       confirmed %d, in progress %d, waiting parts %d, unassigned %d\n",
        states[v1::ORDER_STATE_CONFIRMED],
        orders - states[v1::ORDER_STATE_CONFIRMED] - states[v1::ORDER_STATE_WAITING_PARTS] -
            states[v1::ORDER_STATE_CREATED] - states[v1::ORDER_STATE_CONTACTED],
        states[v1::ORDER_STATE_WAITING_PARTS],
        states[v1::ORDER_STATE_CREATED] + states[v1::ORDER_STATE_CONTACTED]);
    std::cout << absl::StrFormat("offers           made %d, accepted %d, declined %d, timed out %d\n",
                                 offers, offers_accepted, rejected_, offers_timed_out);
    std::cout << absl::StrFormat("parts            reservations %d (backordered %d), consumed %d\n",
                                 reservations_, backorders_, consumed_);
    std::cout << absl::StrFormat("%-15s %6s %9s %8s\n", "SLA clock", "met", "breached",
                                 "running");
    const std::pair<v1::SlaClockKind, const char*> kinds[] = {
        {v1::SLA_CLOCK_KIND_FIRST_CONTACT, "first_contact"},
        {v1::SLA_CLOCK_KIND_DISPATCH, "dispatch"},
        {v1::SLA_CLOCK_KIND_ARRIVAL, "arrival"},
        {v1::SLA_CLOCK_KIND_RESOLUTION, "resolution"}};
    for (const auto& [kind, name] : kinds) {
      const Counts& c = clocks[kind];
      std::cout << absl::StrFormat("%-15s %6d %9d %8d\n", name, c.met, c.breached, c.running);
    }

    // Every service must still answer its health check.
    bool healthy = true;
    std::cout << "health          ";
    for (auto& [name, ch] : channels_) {
      const bool ok = Healthy(ch);
      healthy &= ok;
      std::cout << " " << name << "=" << (ok ? "SERVING" : "NOT SERVING");
    }
    std::cout << std::endl;
    if (orders == 0 || offers_accepted == 0) {
      std::cout << "demo: FAILED: no orders or no accepted offers" << std::endl;
      return 1;
    }
    if (!healthy) {
      std::cout << "demo: FAILED: a service is not healthy" << std::endl;
      return 1;
    }
    std::cout << "demo: all five services healthy" << std::endl;
    return 0;
  }

  // grpc.health.v1.Health/Check for the whole server: the request is empty,
  // the response is field 1 (status) = 1 (SERVING), i.e. bytes 08 01.
  static bool Healthy(const std::shared_ptr<grpc::Channel>& ch) {
    static const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                                   grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty;
    grpc::ByteBuffer req(&empty, 1), resp;
    grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        ch.get(), method, &ctx, req, &resp);
    if (!s.ok()) return false;
    std::vector<grpc::Slice> slices;
    if (!resp.Dump(&slices).ok()) return false;
    std::string bytes;
    for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    return bytes == std::string("\x08\x01", 2);
  }

  struct Eng {
    std::string id, token;
    double lat, lng;
  };
  struct Loc {
    std::string id;
    v1::LocationKind kind;
    double lat, lng;
    std::string partner;
    int stock;
  };

  std::mt19937 rng_;
  std::map<std::string, std::string> tokens_;
  std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> channels_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::DispatchService::Stub> dispatch_;
  std::unique_ptr<v1::PartsService::Stub> parts_;
  std::vector<Partner> partners_;
  std::vector<Eng> engineers_;
  std::vector<Loc> outlets_;
  std::vector<Tracked> orders_;
  std::map<v1::Priority, int> by_priority_;
  absl::Time day_start_, now_;
  int created_ = 0, accepted_ = 0, rejected_ = 0, refused_ = 0, repaired_ = 0, confirmed_ = 0;
  int reservations_ = 0, backorders_ = 0, consumed_ = 0, parts_allocated_ = 0, requests_ = 0;
};

}  // namespace
}  // namespace aftersales

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Seeds a demo city into a suite running on manual clocks and plays one simulated day.\n"
      "Usually started by deploy/local/run.sh --demo.");
  absl::ParseCommandLine(argc, argv);
  aftersales::Demo demo;
  return demo.Run();
}
