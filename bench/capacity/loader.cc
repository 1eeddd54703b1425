// Bulk loader of the capacity benchmark (issue 10, docs/capacity.md): fills
// one service's data directory with N records (dispatch orders, parts
// reservations, complaints or surveys) by running the service's OWN code
// in-process — the same core objects main.cc builds, fed with the same
// requests and intake events the real RPCs and consumers hand them — on a
// manual clock that walks through the last --days days. Every table, index
// row, sweep row, event, consumer cursor and audit record is therefore the
// one the service writes itself; only the gRPC layer is skipped.
//
// Timeline: the first (1 - open_fraction) of the records are spread over
// [end - days, end - 1 day] and are driven to a terminal state by follow-up
// steps minutes to days later (accept/repair, consume/release/expire,
// acknowledge/investigate/resolve/close, answer/expire); the last
// open_fraction arrive during the final day and are left open (in progress).
// Background passes (offer timeouts, reservation expiry, complaint
// deadlines, survey sweeps) run every minute of the loader's clock, as the
// services' own loops would (kSweepPass). end = the real time when the loader
// starts.
//
// Usage (server flags are the services' own):
//   capacity_loader --service=complaint --records=1000000 --data_dir=DIR
//     --tokens_file=F --policy_file=deploy/policies/complaint.textproto
#include <cstdint>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "clock/clock.h"
#include "capacity/ops.h"
#include "complaint/complaint_background.h"
#include "complaint/complaint_core.h"
#include "complaint/domain/lifecycle.h"
#include "complaint/domain/policy.h"
#include "dispatch/dispatcher.h"
#include "parts/domain/policy.h"
#include "parts/parts_background.h"
#include "parts/parts_core.h"
#include "privacy/key_flags.h"
#include "rpc/rpc.h"
#include "satisfaction/domain/policy.h"
#include "satisfaction/domain/survey.h"
#include "satisfaction/satisfaction_core.h"
#include "server/flags.h"
#include "server/host.h"
#include "store/keys.h"
#include "store/principal_scope.h"

ABSL_FLAG(std::string, service, "", "dispatch, parts, complaint or satisfaction");
ABSL_FLAG(int64_t, records, 2000, "records to load");
ABSL_FLAG(double, open_fraction, 0.1, "share of records left open (the last day's)");
ABSL_FLAG(int, days, 90, "the records' dates span this many days before now");
ABSL_FLAG(uint64_t, seed, 20261122, "random seed");
ABSL_FLAG(int, engineers, 10000, "dispatch: engineers registered before the orders");
ABSL_FLAG(std::string, policy_file, "", "the service's policy file (as its main takes)");
ABSL_FLAG(double, max_failed_fraction, 0.01,
          "exit 1 if more follow-up steps than this share of the records failed");
ABSL_FLAG(bool, follow_ups, true,
          "drive records on (accept/repair, consume/release, lifecycle, answers); false: "
          "every record stays as created (the faithfulness check against the real RPCs)");
ABSL_FLAG(std::string, record_ops, "",
          "write every create/setup call (time, kind, request) here for capacity_replay");
ABSL_FLAG(std::string, ids_file, "", "append one loaded record id per line (reads of run.sh)");

namespace aftersales::capacity {
namespace {

constexpr int kRegions = 11;
struct Region {
  const char* code;        // intake / dispatch / complaint / satisfaction region
  const char* parts_code;  // parts policy region (provinces)
  double lat, lng;
};
const Region kRegionTable[kRegions] = {
    {"CN-310000", "CN-310000", 31.23, 121.47}, {"CN-110000", "CN-110000", 39.90, 116.40},
    {"CN-440100", "CN-440000", 23.13, 113.26}, {"CN-440300", "CN-440000", 22.54, 114.06},
    {"CN-320500", "CN-320000", 31.30, 120.58}, {"CN-330100", "CN-330000", 30.27, 120.15},
    {"CN-330700", "CN-330000", 29.08, 119.65}, {"CN-360700", "CN-360000", 25.83, 114.93},
    {"CN-411300", "CN-410000", 32.99, 112.53}, {"CN-420100", "CN-420000", 30.59, 114.31},
    {"CN-510100", "CN-510000", 30.57, 104.07}};
const char* const kCategories[] = {"AIR_CONDITIONER", "FRIDGE", "WASHER", "WATER_HEATER", "TV"};
const char* const kBrands[] = {"HAIER", "MIDEA", "GREE", "HISENSE", "TCL"};
const char* const kFaults[] = {
    "The unit stopped cooling yesterday evening and makes a loud clicking noise every few "
    "minutes; the display shows E4.",
    "Water leaks under the machine at the end of every wash cycle, the floor is wet.",
    "No hot water since this morning although the power light is on; it trips the breaker.",
    "The picture flickers and then the screen goes black after ten minutes of use.",
    "The door seal is torn and ice builds up on the back wall of the freezer."};
const char* const kComplaintTexts[] = {
    "The engineer came three hours late and did not call ahead, nobody told us about the "
    "delay. This is unacceptable, I took a day off work for this appointment.",
    "I was charged 380 yuan for a part that should be covered by the warranty. Nobody could "
    "explain the fee and the receipt does not list it.",
    "The technician was rude to my mother and left the kitchen dirty. I want an apology.",
    "The same fault came back two days after the repair. The machine leaks again and I have "
    "to call for the third time.",
    "I have been waiting for a spare part for eleven days and nobody can tell me when it "
    "arrives; the order status never changes.",
    "There is a burning smell from the unit after the repair, I am worried it is not safe."};

// How often the services' background passes run on the loader's clock: every
// minute of it, as the services' loops do (dispatch ticks at the next offer
// expiry, at most a minute away). A pass starts at its queue's floor
// (store/queue_index.h), so it costs the rows due since the last pass, not
// everything swept before (docs/capacity.md). The loader's clock only moves
// when a record arrives, so with fewer records than minutes a pass runs per
// record.
constexpr absl::Duration kSweepPass = absl::Minutes(1);
constexpr absl::Duration kDispatchTick = absl::Minutes(1);

std::string Fmt(const char* prefix, int64_t n) { return absl::StrFormat("%s%010d", prefix, n); }

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  double U() { return std::uniform_real_distribution<double>(0, 1)(gen_); }
  int64_t Int(int64_t lo, int64_t hi) {  // [lo, hi]
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }
  absl::Duration Minutes(double lo, double hi) {
    return absl::Seconds(60 * (lo + (hi - lo) * U()));
  }
  template <typename T, size_t N>
  const T& Pick(const T (&a)[N]) { return a[Int(0, N - 1)]; }

 private:
  std::mt19937_64 gen_;
};

// The manual clock plus the follow-up steps due later, run in time order.
class Timeline {
 public:
  explicit Timeline(ManualClock* clock) : clock_(clock) {}
  // `always`: also with --nofollow_ups (engineers' position reports).
  void At(absl::Time t, std::function<absl::Status()> step, bool always = false) {
    if (follow_ups_ || always) due_.emplace(t, std::move(step));
  }
  // Runs every step due at or before `t` (each at its own time), then moves
  // the clock to t. A failed step is counted, not fatal (the service would
  // have answered the client with that error).
  void AdvanceTo(absl::Time t) {
    while (!due_.empty() && due_.begin()->first <= t) {
      auto node = due_.extract(due_.begin());
      Set(node.key());
      if (absl::Status s = node.mapped()(); !s.ok()) {
        if (++failed_ <= 10) std::cerr << "step failed: " << s << std::endl;
      }
    }
    Set(t);
  }
  absl::Time Now() const { return clock_->Now(); }
  int64_t failed() const { return failed_; }
  size_t left() const { return due_.size(); }

 private:
  void Set(absl::Time t) {
    if (t > clock_->Now()) clock_->SetTime(t).IgnoreError();
  }
  ManualClock* clock_;
  const bool follow_ups_ = absl::GetFlag(FLAGS_follow_ups);
  std::multimap<absl::Time, std::function<absl::Status()>> due_;
  int64_t failed_ = 0;
};

// What every service loader shares: the host, the timeline, the record times.
struct Run {
  server::ServiceHost* host;
  Timeline* timeline;
  Rng* rng;
  int64_t records;
  int64_t closed;  // records [0, closed) are driven to a terminal state
  absl::Time end, begin;
  uint64_t intake_seq = 0;
  std::vector<std::string> ids;

  absl::Time start_real = absl::Now();
  absl::Time TimeOf(int64_t i) const {
    if (i > 0 && i % std::max<int64_t>(1, records / 10) == 0) {
      std::cout << "capacity_loader: " << i << " records, "
                << absl::ToInt64Seconds(absl::Now() - start_real) << " s, head seq "
                << host->store().HeadSeq() << std::endl;
    }
    if (i < closed) {
      return begin + (end - absl::Hours(24) - begin) * (static_cast<double>(i) / closed);
    }
    return end - absl::Hours(24) +
           absl::Hours(24) * (static_cast<double>(i - closed) / std::max<int64_t>(1, records - closed));
  }
  bool Open(int64_t i) const { return i >= closed; }

};

// The consumer's cursor row: meta "consumer_cursor/<svc><-intake" = seq.
absl::Status ConsumeIntake(Run& run, const std::string& service, v1::Event event,
                           const std::function<absl::Status(const v1::Event&, store::Batch&)>& apply) {
  event.set_seq(++run.intake_seq);
  event.set_producer("intake");
  *event.mutable_occurred_at() = rpc::ToProto(run.timeline->Now());
  store::PrincipalScope principal("consumer:intake");
  store::Batch batch;
  absl::Status effect = apply(event, batch);
  if (!effect.ok()) batch = store::Batch();  // skipped, no partial effect
  run.host->store().PutMeta(batch, absl::StrCat("consumer_cursor/", service, "<-intake"),
                            store::EncodeU64(event.seq()));
  if (absl::Status s = run.host->store().Commit(batch); !s.ok()) return s;
  return effect;
}

// --record_ops: the calls that create records, for capacity_replay to send
// the same requests through the real service (ops.h).
OpWriter* g_ops = nullptr;
void RecordOp(const Run& run, OpKind kind, const google::protobuf::Message& m,
              const std::string& await_id = "") {
  if (g_ops != nullptr) g_ops->Write({run.timeline->Now(), kind, m.SerializeAsString(), await_id});
}

v1::Actor Agent(const std::string& id) {
  v1::Actor a;
  a.set_principal_id(id);
  a.set_role(v1::ROLE_AGENT);
  return a;
}

// ---- dispatch ----------------------------------------------------------------

v1::WorkOrder MakeWorkOrder(Run& run, int64_t i, const std::string& id, const Region& region) {
  Rng& r = *run.rng;
  const absl::Time now = run.timeline->Now();
  v1::WorkOrder o;
  o.set_order_id(id);
  o.set_state(v1::ORDER_STATE_CREATED);
  const double p = r.U();
  o.set_priority(p < 0.1 ? v1::PRIORITY_EMERGENCY : p < 0.3 ? v1::PRIORITY_URGENT
                                                            : v1::PRIORITY_NORMAL);
  o.set_channel(v1::CHANNEL_APP);
  o.set_customer_id(Fmt("CU", r.Int(1, run.records * 6 / 10)));
  auto* area = o.mutable_service_area();
  area->set_region_code(region.code);
  area->set_city_tier(static_cast<int32_t>(r.Int(1, 3)));
  area->mutable_location()->set_lat_deg(region.lat + (r.U() - 0.5) * 0.3);
  area->mutable_location()->set_lng_deg(region.lng + (r.U() - 0.5) * 0.3);
  auto* a = o.mutable_appliance();
  a->set_category(r.Pick(kCategories));
  a->set_brand(r.Pick(kBrands));
  a->set_model(absl::StrCat(a->brand(), "-M", r.Int(100, 299)));
  a->set_serial(Fmt("SN", i));
  a->set_warranty_status(r.U() < 0.6 ? v1::WARRANTY_STATUS_IN : v1::WARRANTY_STATUS_OUT);
  auto* f = o.mutable_fault();
  f->set_description(r.Pick(kFaults));
  f->set_kind(v1::FAULT_KIND_HARDWARE);
  f->set_complexity(r.U() < 0.8 ? v1::FAULT_COMPLEXITY_SIMPLE : v1::FAULT_COMPLEXITY_MEDIUM);
  *o.mutable_created_at() = rpc::ToProto(now);
  o.set_created_by("agent-1");
  o.mutable_customer()->set_tier(r.U() < 0.05 ? v1::CUSTOMER_TIER_VIP : v1::CUSTOMER_TIER_STANDARD);
  o.set_order_type(r.U() < 0.9 ? v1::ORDER_TYPE_REPAIR : v1::ORDER_TYPE_INSTALL);
  o.set_handling_mode(v1::HANDLING_MODE_ON_SITE);
  const bool emergency = o.priority() == v1::PRIORITY_EMERGENCY;
  for (auto [kind, budget] : {std::pair{v1::SLA_CLOCK_KIND_DISPATCH,
                                        emergency ? absl::Minutes(30) : absl::Hours(2)},
                              std::pair{v1::SLA_CLOCK_KIND_ARRIVAL,
                                        emergency ? absl::Hours(4) : absl::Hours(24)}}) {
    auto* c = o.add_sla_clocks();
    c->set_kind(kind);
    *c->mutable_started_at() = rpc::ToProto(now);
    *c->mutable_budget() = rpc::ToProto(budget);
    *c->mutable_deadline() = rpc::ToProto(now + budget);
  }
  *o.mutable_updated_at() = rpc::ToProto(now);
  o.set_version(1);
  o.set_request_id(absl::StrCat("cap-", i));
  return o;
}

v1::Event StateChanged(const std::string& order, v1::OrderState from, v1::OrderState to,
                       const std::string& engineer) {
  v1::Event e;
  e.set_subject_id(order);
  auto* c = e.mutable_order_state_changed();
  c->set_order_id(order);
  c->set_from_state(from);
  c->set_to_state(to);
  c->set_engineer_id(engineer);
  return e;
}

// The deployed dispatch policy with location_stale_after = 24 h (the largest
// the policy allows) instead of 30 min: the loader replays each engineer's
// position report about once a day, not every few minutes over 90 days (tens
// of millions of ReportLocation calls). It changes which engineer gets an
// offer, not what is stored. Written next to the data dir.
absl::StatusOr<std::string> LoaderDispatchPolicy(const std::string& data_dir) {
  std::ifstream in(absl::GetFlag(FLAGS_policy_file));
  if (!in) return absl::NotFoundError("--policy_file: cannot read");
  std::stringstream text;
  text << in.rdbuf();
  const std::string policy =
      std::regex_replace(text.str(), std::regex(R"(location_stale_after\s*\{[^}]*\})"),
                         "location_stale_after { seconds: 86400 }");
  const std::string path = data_dir + ".loader-dispatch-policy.textproto";
  std::ofstream out(path);
  out << policy;
  if (!out) return absl::UnavailableError(path);
  return path;
}

absl::Status LoadDispatch(Run& run) {
  auto path = LoaderDispatchPolicy(absl::GetFlag(FLAGS_data_dir));
  if (!path.ok()) return path.status();
  auto policy = dispatch::DispatchPolicyHolder::Load(
      *path, dispatch::domain::ParseDispatchPolicy, run.timeline->Now());
  if (!policy.ok()) return policy.status();
  auto* d = run.host->Own(std::make_unique<dispatch::Dispatcher>(*run.host, *std::move(policy)));
  if (absl::Status s = d->Load(); !s.ok()) return s;
  Rng& r = *run.rng;
  for (int p = 1; p <= 8; ++p) {
    v1::Partner partner;
    partner.set_partner_id(absl::StrCat("P", p));
    partner.set_name(absl::StrCat("Service partner ", p));
    partner.set_preference(0.3 + 0.1 * (p % 5));
    RecordOp(run, OpKind::kUpsertPartner, partner);
    if (auto s = d->UpsertPartner(partner); !s.ok()) return s.status();
  }
  const int engineers = absl::GetFlag(FLAGS_engineers);
  for (int n = 0; n < engineers; ++n) {
    const Region& region = kRegionTable[n % kRegions];
    v1::Engineer e;
    e.set_engineer_id(Fmt("EN", n));
    e.set_partner_id(absl::StrCat("P", 1 + n % 8));
    e.set_home_outlet_id(absl::StrCat("OUT-", region.code, "-", n % 40));
    e.set_display_name(absl::StrCat("Engineer ", n));
    e.set_phone(absl::StrFormat("+86138%08d", n));
    for (const char* category : kCategories) {
      auto* skill = e.add_skills();
      skill->set_appliance_category(category);
      skill->set_level(r.U() < 0.4 ? v1::CERTIFICATION_LEVEL_SENIOR
                                   : v1::CERTIFICATION_LEVEL_INTERMEDIATE);
    }
    e.mutable_coverage()->add_region_codes(region.code);
    auto* shifts = e.mutable_shifts();
    shifts->set_time_zone("Asia/Shanghai");
    for (int day = 1; day <= 7; ++day) {
      auto* w = shifts->add_weekly();
      w->set_iso_weekday(day);
      w->set_start_minute(0);
      w->set_end_minute(1440);
    }
    e.mutable_capacity()->set_max_active(3);
    e.mutable_capacity()->set_max_queued(10);
    e.mutable_location()->set_lat_deg(region.lat + (r.U() - 0.5) * 0.3);
    e.mutable_location()->set_lng_deg(region.lng + (r.U() - 0.5) * 0.3);
    e.set_first_time_fix_rate(0.75 + 0.2 * r.U());
    e.set_diagnosis_accuracy(0.92 + 0.07 * r.U());
    e.set_status(v1::ENGINEER_STATUS_AVAILABLE);
    e.set_home_region_code(region.code);
    RecordOp(run, OpKind::kRegisterEngineer, e);
    if (auto s = d->RegisterEngineer(e); !s.ok()) return s.status();
    // The engineer's app reports its position at least daily (dispatch
    // ignores positions older than the policy's location_stale_after).
    const v1::GeoPoint home = e.location();
    auto report = std::make_shared<std::function<absl::Status()>>();
    *report = [&run, d, home, id = e.engineer_id(), report]() -> absl::Status {
      const absl::Time now = run.timeline->Now();
      v1::ReportLocationRequest req;
      req.set_engineer_id(id);
      req.mutable_location()->set_lat_deg(home.lat_deg() + (run.rng->U() - 0.5) * 0.05);
      req.mutable_location()->set_lng_deg(home.lng_deg() + (run.rng->U() - 0.5) * 0.05);
      *req.mutable_reported_at() = rpc::ToProto(now);
      req.set_accuracy_m(15);
      run.timeline->At(now + run.rng->Minutes(16 * 60, 23 * 60), *report, true);
      RecordOp(run, OpKind::kReportLocation, req);
      store::PrincipalScope principal("engineer-app");
      return d->ReportLocation(req).status();
    };
    run.timeline->At(run.begin - r.Minutes(0, 50), *report, true);
  }
  auth::Principal service{.id = "svc-bench", .role = auth::Role::kService};
  auto apply = [d](const v1::Event& e, store::Batch& b) { return d->ApplyIntakeEvent(e, b); };
  absl::Time next_tick = absl::InfinitePast();
  for (int64_t i = 0; i < run.records; ++i) {
    run.timeline->AdvanceTo(run.TimeOf(i));
    if (run.timeline->Now() >= next_tick) {  // the service's tick loop (kDispatchTick)
      store::PrincipalScope system("system:background");
      if (absl::Status s = d->Tick(); !s.ok()) return s;
      next_tick = run.timeline->Now() + kDispatchTick;
    }
    const std::string id = absl::StrFormat("WO%016x", static_cast<uint64_t>(r.Int(0, INT64_MAX)));
    run.ids.push_back(id);
    v1::Event created;
    created.set_subject_id(id);
    *created.mutable_order_created()->mutable_order() =
        MakeWorkOrder(run, i, id, kRegionTable[r.Int(0, kRegions - 1)]);
    RecordOp(run, OpKind::kIntakeEvent, created, id);
    if (absl::Status s = ConsumeIntake(run, "dispatch", created, apply); !s.ok()) return s;
    const bool open = run.Open(i);
    const bool cancel = !open && r.U() < 0.04;
    const absl::Time t = run.timeline->Now();
    if (cancel) {
      run.timeline->At(t + r.Minutes(2, 120), [&run, apply, id] {
        v1::Event e;
        e.set_subject_id(id);
        e.mutable_order_cancelled()->set_order_id(id);
        e.mutable_order_cancelled()->set_reason(v1::CANCEL_REASON_CUSTOMER_REQUEST);
        return ConsumeIntake(run, "dispatch", e, apply);
      });
      continue;
    }
    // The engineer accepts within the offer timeout (5 or 10 min).
    const absl::Duration repair = r.Minutes(60, 360);
    const bool on_site = !open || r.U() < 0.5;
    run.timeline->At(t + r.Minutes(0.5, 4), [&run, d, apply, service, id, open, repair, on_site] {
      auto order = d->GetOrder(id);
      if (!order.ok()) return order.status();
      if (!order->has_value() || (*order)->current_offer_id().empty()) {
        return absl::NotFoundError(absl::StrCat(id, ": no offer (UNASSIGNABLE)"));
      }
      auto offer = d->GetOffer((*order)->current_offer_id());
      if (!offer.ok() || !offer->has_value()) return absl::NotFoundError("offer gone");
      v1::AcceptOfferRequest accept;
      accept.set_offer_id((*offer)->offer_id());
      accept.set_engineer_id((*offer)->engineer_id());
      store::PrincipalScope principal(service.id);
      auto accepted = d->AcceptOffer(service, accept);
      if (!accepted.ok()) return accepted.status();
      const std::string engineer = accepted->engineer_id();
      const absl::Time now = run.timeline->Now();
      if (on_site) {
        run.timeline->At(now + repair / 3, [&run, apply, id, engineer] {
          return ConsumeIntake(run, "dispatch",
                               StateChanged(id, v1::ORDER_STATE_ASSIGNED,
                                            v1::ORDER_STATE_ON_SITE, engineer),
                               apply);
        });
      }
      if (!open) {
        run.timeline->At(now + repair, [&run, apply, id, engineer] {
          return ConsumeIntake(run, "dispatch",
                               StateChanged(id, v1::ORDER_STATE_ON_SITE,
                                            v1::ORDER_STATE_REPAIRED, engineer),
                               apply);
        });
      }
      return absl::OkStatus();
    });
  }
  return absl::OkStatus();
}

// ---- parts -------------------------------------------------------------------

constexpr int kSkus = 30;
std::string Sku(int n) { return absl::StrFormat("SKU-%s-%02d", kCategories[n % 5], n); }

absl::Status LoadParts(Run& run) {
  auto policy = parts::PartsPolicyHolder::Load(absl::GetFlag(FLAGS_policy_file),
                                               parts::domain::ParsePartsPolicy,
                                               run.timeline->Now());
  if (!policy.ok()) return policy.status();
  auto* core = run.host->Own(std::make_unique<parts::PartsCore>(
      run.host->store(), run.host->clock(), run.host->registry(), *std::move(policy)));
  if (absl::Status s = core->Init(); !s.ok()) return s;
  Rng& r = *run.rng;
  const parts::Caller admin{.principal_id = "admin-1", .role = v1::ROLE_ADMIN};
  store::PrincipalScope admin_scope("admin-1");
  for (int n = 0; n < kSkus; ++n) {
    v1::Part part;
    part.set_sku(Sku(n));
    part.set_name(absl::StrCat("Spare part ", n, " for ", kCategories[n % 5]));
    part.add_compatible_categories(kCategories[n % 5]);
    part.mutable_unit_price()->set_currency_code("CNY");
    part.mutable_unit_price()->set_amount_minor(5000 + 700 * n);
    part.set_warranty_days(180);
    part.set_active(true);
    RecordOp(run, OpKind::kUpsertPart, part);
    if (auto s = core->UpsertPart(part); !s.ok()) return s.status();
  }
  std::vector<std::string> locations;
  for (int g = 0; g < kRegions; ++g) {
    const Region& region = kRegionTable[g];
    for (int k = 0; k < 4; ++k) {
      v1::StockLocation l;
      l.set_location_id(absl::StrCat(k == 0 ? "WH-" : "OUT-", region.code, "-", k));
      l.set_kind(k == 0 ? v1::LOCATION_KIND_REGIONAL_WAREHOUSE : v1::LOCATION_KIND_OUTLET);
      l.set_name(absl::StrCat(k == 0 ? "Regional warehouse " : "Outlet ", region.code, " ", k));
      l.mutable_point()->set_lat_deg(region.lat + (r.U() - 0.5) * 0.2);
      l.mutable_point()->set_lng_deg(region.lng + (r.U() - 0.5) * 0.2);
      l.set_region_code(region.parts_code);
      l.set_active(true);
      RecordOp(run, OpKind::kUpsertLocation, l);
      if (auto s = core->UpsertLocation(l); !s.ok()) return s.status();
      locations.push_back(l.location_id());
    }
  }
  // Enough stock that reservations are RESERVED (not backordered).
  for (const std::string& loc : locations) {
    for (int n = 0; n < kSkus; ++n) {
      v1::ReceiveRequest receive;
      receive.set_request_id(absl::StrCat("stock-", loc, "-", n));
      receive.set_location_id(loc);
      receive.set_sku(Sku(n));
      receive.set_quantity(100000);
      receive.set_supplier_ref("initial stock");
      RecordOp(run, OpKind::kReceive, receive);
      if (auto s = core->Receive(admin, receive); !s.ok()) return s.status();
    }
  }
  const parts::Caller engineer_caller{.principal_id = "engineer-1", .role = v1::ROLE_ENGINEER,
                                      .engineer_id = "E1"};
  absl::Time next_pass = absl::InfinitePast();
  for (int64_t i = 0; i < run.records; ++i) {
    run.timeline->AdvanceTo(run.TimeOf(i));
    if (run.timeline->Now() >= next_pass) {  // the expiry sweeper (kSweepPass)
      store::PrincipalScope system("system:background");
      if (auto s = core->ExpireDue(500); !s.ok()) return s.status();
      next_pass = run.timeline->Now() + kSweepPass;
    }
    const Region& region = kRegionTable[r.Int(0, kRegions - 1)];
    v1::ReserveRequest reserve;
    const std::string order = absl::StrFormat("WO%016x", static_cast<uint64_t>(r.Int(0, INT64_MAX)));
    reserve.set_order_id(order);
    reserve.set_sku(Sku(static_cast<int>(r.Int(0, kSkus - 1))));
    reserve.set_quantity(r.U() < 0.85 ? 1 : 2);
    reserve.mutable_near()->set_lat_deg(region.lat + (r.U() - 0.5) * 0.3);
    reserve.mutable_near()->set_lng_deg(region.lng + (r.U() - 0.5) * 0.3);
    reserve.set_priority(r.U() < 0.1 ? v1::PRIORITY_EMERGENCY : v1::PRIORITY_NORMAL);
    reserve.set_region_code(region.parts_code);
    store::PrincipalScope principal("svc-bench");
    RecordOp(run, OpKind::kReserve, reserve);
    auto reserved = core->Reserve(reserve);
    if (!reserved.ok()) return reserved.status();
    if (!reserved->has_reservation()) continue;  // backordered
    const std::string id = reserved->reservation().reservation_id();
    run.ids.push_back(order);  // run.sh reads an order's parts (ListOrderParts)
    if (run.Open(i)) continue;
    const double u = r.U();
    const absl::Time t = run.timeline->Now();
    if (u < 0.75) {  // the engineer uses the part
      run.timeline->At(t + r.Minutes(60, 40 * 60), [core, engineer_caller, id] {
        v1::ConsumeRequest consume;
        consume.set_request_id(absl::StrCat("use-", id));
        consume.set_reservation_id(id);
        consume.set_engineer_id("E1");
        store::PrincipalScope principal(engineer_caller.principal_id);
        return core->Consume(engineer_caller, consume).status();
      });
    } else if (u < 0.92) {  // not needed after all
      run.timeline->At(t + r.Minutes(30, 30 * 60), [core, order] {
        store::PrincipalScope principal("svc-bench");
        return core->Release(order, "", v1::RELEASE_REASON_NOT_NEEDED).status();
      });
    }  // else: left to expire after the reservation TTL (the sweeper)
  }
  return absl::OkStatus();
}

// ---- complaint -----------------------------------------------------------------

absl::Status LoadComplaint(Run& run) {
  auto policy = complaint::ComplaintPolicyHolder::Load(
      absl::GetFlag(FLAGS_policy_file), complaint::domain::ParseComplaintPolicy,
      run.timeline->Now());
  if (!policy.ok()) return policy.status();
  auto keys = privacy::OpenServiceKeys(*run.host);
  if (!keys.ok()) return keys.status();
  auto* core = run.host->Own(
      std::make_unique<complaint::ComplaintCore>(*run.host, *std::move(policy), *keys));
  Rng& r = *run.rng;
  using Step = std::function<absl::StatusOr<complaint::domain::Change>(
      const v1::Complaint&, const complaint::domain::Context&)>;
  // A lifecycle step the way ComplaintServiceImpl::Step runs it.
  auto step = [core](const std::string& id, const std::string& agent, const Step& fn) {
    store::PrincipalScope principal(agent);
    return core->Update(id, [&](const v1::Complaint& c, const v1::ComplaintPolicy& policy)
                                -> absl::StatusOr<complaint::domain::Change> {
                          complaint::domain::Context ctx{core->host().clock().Now(), Agent(agent),
                                                         &policy};
                          return fn(c, ctx);
                        })
        .status();
  };
  absl::Time next_pass = absl::InfinitePast();
  for (int64_t i = 0; i < run.records; ++i) {
    run.timeline->AdvanceTo(run.TimeOf(i));
    if (run.timeline->Now() >= next_pass) {  // the deadline sweeper (kSweepPass)
      store::PrincipalScope system("system:background");
      if (auto s = complaint::RunBackgroundOnce(*core, 500); !s.ok()) return s.status();
      next_pass = run.timeline->Now() + kSweepPass;
    }
    const Region& region = kRegionTable[r.Int(0, kRegions - 1)];
    v1::FileComplaintRequest req;
    req.set_request_id(absl::StrCat("cap-", i));
    req.set_customer_id(Fmt("CU", r.Int(1, run.records * 8 / 10)));
    if (r.U() < 0.8) {
      req.set_order_id(absl::StrFormat("WO%016x", static_cast<uint64_t>(r.Int(0, INT64_MAX))));
    }
    req.set_channel(r.U() < 0.6 ? v1::COMPLAINT_CHANNEL_PHONE : v1::COMPLAINT_CHANNEL_APP);
    req.set_text(r.Pick(kComplaintTexts));
    req.set_customer_tier(r.U() < 0.05 ? v1::CUSTOMER_TIER_VIP : v1::CUSTOMER_TIER_STANDARD);
    req.set_appliance_model(absl::StrCat(r.Pick(kBrands), "-M", r.Int(100, 299)));
    req.set_region_code(region.code);
    const std::string agent = absl::StrCat("agent-", r.Int(1, 300));
    store::PrincipalScope principal(agent);
    RecordOp(run, OpKind::kFileComplaint, req);
    auto filed = core->File(req, agent, Agent(agent));
    if (!filed.ok()) return filed.status();
    const std::string id = filed->complaint.complaint_id();
    run.ids.push_back(id);
    const bool open = run.Open(i);
    const absl::Time t = run.timeline->Now();
    const absl::Time ack = t + r.Minutes(10, 20 * 60);
    if (open && r.U() < 0.4) continue;  // still FILED
    run.timeline->At(ack, [step, id, agent] {
      return step(id, agent, [&](const v1::Complaint& c, const complaint::domain::Context& ctx) {
        return complaint::domain::Acknowledge(c, agent, "called the customer back", ctx);
      });
    });
    if (open && r.U() < 0.5) continue;  // ACKNOWLEDGED
    const absl::Time investigate = ack + r.Minutes(30, 24 * 60);
    run.timeline->At(investigate, [step, id, agent] {
      return step(id, agent, [&](const v1::Complaint& c, const complaint::domain::Context& ctx) {
        return complaint::domain::StartInvestigation(c, "checking the visit record", ctx);
      });
    });
    if (open) continue;  // INVESTIGATING
    const absl::Time resolve = investigate + r.Minutes(60, 4 * 24 * 60);
    const int kind = static_cast<int>(r.Int(0, 3));
    run.timeline->At(resolve, [step, id, agent, kind] {
      return step(id, agent, [&](const v1::Complaint& c, const complaint::domain::Context& ctx) {
        v1::ComplaintInvestigation findings;
        findings.set_root_cause("The visit was late because the previous job overran.");
        findings.set_responsible_party(kind == 0 ? v1::RESPONSIBLE_PARTY_ENGINEER
                                                 : v1::RESPONSIBLE_PARTY_PARTNER);
        findings.set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
        v1::ComplaintResolution resolution;
        resolution.set_type(kind == 1 ? v1::RESOLUTION_TYPE_REPAIR : v1::RESOLUTION_TYPE_EXPLAIN);
        resolution.set_description("Apologised, explained the delay and re-checked the repair.");
        return complaint::domain::Resolve(c, findings, resolution, ctx);
      });
    });
    run.timeline->At(resolve + r.Minutes(60, 3 * 24 * 60), [step, id, agent] {
      return step(id, agent, [&](const v1::Complaint& c, const complaint::domain::Context& ctx) {
        return complaint::domain::Close(c, "customer confirmed", ctx);
      });
    });
  }
  return absl::OkStatus();
}

// ---- satisfaction ------------------------------------------------------------

absl::Status LoadSatisfaction(Run& run) {
  auto policy = satisfaction::SatisfactionPolicyHolder::Load(
      absl::GetFlag(FLAGS_policy_file), satisfaction::domain::ParseSatisfactionPolicy,
      run.timeline->Now());
  if (!policy.ok()) return policy.status();
  auto keys = privacy::OpenServiceKeys(*run.host);
  if (!keys.ok()) return keys.status();
  auto* core = run.host->Own(
      std::make_unique<satisfaction::SatisfactionCore>(*run.host, *std::move(policy), *keys));
  Rng& r = *run.rng;
  auto apply = [core](const v1::Event& e, store::Batch& b) { return core->ApplyIntakeEvent(e, b); };
  const int engineers = absl::GetFlag(FLAGS_engineers);
  absl::Time next_pass = absl::InfinitePast();
  for (int64_t i = 0; i < run.records; ++i) {
    run.timeline->AdvanceTo(run.TimeOf(i));
    if (run.timeline->Now() >= next_pass) {  // the survey sweeper (kSweepPass)
      store::PrincipalScope system("system:background");
      for (;;) {
        auto swept = core->SweepDueSurveys(500);
        if (!swept.ok()) return swept.status();
        if (*swept < 500) break;
      }
      next_pass = run.timeline->Now() + kSweepPass;
    }
    const Region& region = kRegionTable[r.Int(0, kRegions - 1)];
    const int engineer = static_cast<int>(r.Int(0, engineers - 1));
    const absl::Time now = run.timeline->Now();
    const std::string order = absl::StrFormat("WO%016x", static_cast<uint64_t>(r.Int(0, INT64_MAX)));
    v1::Event e;
    e.set_subject_id(order);
    auto* c = e.mutable_order_confirmed_repaired();
    c->set_order_id(order);
    c->set_customer_id(Fmt("CU", r.Int(1, run.records * 6 / 10)));
    c->set_engineer_id(Fmt("EN", engineer));
    c->set_partner_id(absl::StrCat("P", 1 + engineer % 8));
    c->set_region_code(region.code);
    c->set_city_tier(static_cast<int32_t>(r.Int(1, 3)));
    c->set_appliance_category(r.Pick(kCategories));
    c->set_appliance_model(absl::StrCat(r.Pick(kBrands), "-M", r.Int(100, 299)));
    c->set_parts_replaced(r.U() < 0.3);
    c->set_warranty(r.U() < 0.6);
    c->set_first_visit_fix(r.U() < 0.85);
    c->set_diagnosis_matched(r.U() < 0.9);
    c->set_fault_kind(v1::FAULT_KIND_HARDWARE);
    const absl::Time repaired = now - r.Minutes(20, 180);
    *c->mutable_repaired_at() = rpc::ToProto(repaired);
    *c->mutable_confirmed_at() = rpc::ToProto(now);
    const absl::Duration follow_up =
        c->parts_replaced() || c->warranty() ? absl::Hours(72) : absl::Hours(24);
    *c->mutable_follow_up_deadline() = rpc::ToProto(repaired + follow_up);
    c->set_priority(v1::PRIORITY_NORMAL);
    const std::string survey = satisfaction::domain::SurveyIdFor(order, now);
    RecordOp(run, OpKind::kIntakeEvent, e, survey);
    if (absl::Status s = ConsumeIntake(run, "satisfaction", e, apply); !s.ok()) return s;
    run.ids.push_back(survey);
    if (run.Open(i) || r.U() < 0.3) continue;  // open, or expires unanswered
    const int csat = r.U() < 0.08 ? static_cast<int>(r.Int(1, 2)) : static_cast<int>(r.Int(4, 5));
    const bool solved = r.U() < 0.95;
    run.timeline->At(repaired + follow_up + r.Minutes(10, 3 * 24 * 60), [core, survey, csat, solved] {
      v1::SubmitSurveyRequest submit;
      submit.set_survey_id(survey);
      submit.set_request_id(absl::StrCat("answer-", survey));
      auto* a = submit.mutable_response();
      a->set_csat(csat);
      a->set_nps(csat >= 4 ? 9 : 4);
      auto* d = a->mutable_dimensions();
      for (auto set : {&v1::DimensionScores::set_booking_convenience,
                       &v1::DimensionScores::set_timeliness,
                       &v1::DimensionScores::set_engineer_attitude,
                       &v1::DimensionScores::set_professionalism,
                       &v1::DimensionScores::set_fee_transparency,
                       &v1::DimensionScores::set_site_etiquette}) {
        (d->*set)(csat);
      }
      a->set_problem_solved(solved);
      if (csat <= 2) a->set_comment("The engineer was late and the fault came back.");
      store::PrincipalScope principal("app-1");
      return core->Submit(submit).status();
    });
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  const std::string service_name = [&] {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--service=", 0) == 0) return a.substr(10);
    }
    return std::string();
  }();
  std::vector<std::string> families;
  if (service_name == "dispatch") families = dispatch::Dispatcher::ColumnFamilies();
  else if (service_name == "parts") families = parts::PartsRepository::ColumnFamilies();
  else if (service_name == "complaint") families = complaint::ComplaintRepository::ColumnFamilies();
  else if (service_name == "satisfaction") {
    families = satisfaction::SatisfactionRepository::ColumnFamilies();
  } else {
    std::cerr << "--service=dispatch|parts|complaint|satisfaction is required" << std::endl;
    return 2;
  }
  const absl::Time end = absl::Now();
  std::vector<std::string> args(argv, argv + argc);
  args.push_back("--clock=manual");
  args.push_back(absl::StrCat("--clock_start=",
                              absl::FormatTime(absl::RFC3339_full, end - absl::Hours(24 * 400),
                                               absl::UTCTimeZone())));
  args.push_back("--grpc_port=0");
  args.push_back("--metrics_port=0");
  std::vector<char*> raw;
  for (auto& a : args) raw.push_back(a.data());
  auto host = server::ServiceHost::Create({.name = service_name, .column_families = families},
                                          static_cast<int>(raw.size()), raw.data());
  if (!host.ok()) {
    std::cerr << "capacity_loader: " << host.status() << std::endl;
    return 1;
  }
  auto* clock = static_cast<ManualClock*>(&(*host)->clock());
  Timeline timeline(clock);
  Rng rng(absl::GetFlag(FLAGS_seed));
  Run run{.host = host->get(), .timeline = &timeline, .rng = &rng};
  run.records = absl::GetFlag(FLAGS_records);
  run.closed = run.records - static_cast<int64_t>(run.records * absl::GetFlag(FLAGS_open_fraction));
  run.end = end;
  run.begin = end - absl::Hours(24) * absl::GetFlag(FLAGS_days);
  timeline.AdvanceTo(run.begin - absl::Hours(1));
  std::unique_ptr<OpWriter> ops;
  if (const std::string f = absl::GetFlag(FLAGS_record_ops); !f.empty()) {
    ops = std::make_unique<OpWriter>(f);
    g_ops = ops.get();
  }
  const absl::Time t0 = absl::Now();
  absl::Status s;
  if (service_name == "dispatch") s = LoadDispatch(run);
  else if (service_name == "parts") s = LoadParts(run);
  else if (service_name == "complaint") s = LoadComplaint(run);
  else s = LoadSatisfaction(run);
  if (s.ok()) timeline.AdvanceTo(end);  // follow-ups due by now; later ones stay open
  if (!s.ok()) {
    std::cerr << "capacity_loader: " << s << std::endl;
    return 1;
  }
  if (const std::string f = absl::GetFlag(FLAGS_ids_file); !f.empty()) {
    FILE* out = fopen(f.c_str(), "w");
    if (out == nullptr) return 1;
    for (const auto& id : run.ids) fprintf(out, "%s\n", id.c_str());
    fclose(out);
  }
  std::cout << "capacity_loader: " << service_name << ": " << run.records << " records ("
            << run.ids.size() << " ids) in " << absl::ToDoubleSeconds(absl::Now() - t0)
            << " s; failed follow-up steps " << timeline.failed() << ", left open "
            << timeline.left() << ", head seq " << (*host)->store().HeadSeq() << std::endl;
  if (timeline.failed() > absl::GetFlag(FLAGS_max_failed_fraction) * run.records) {
    std::cerr << "capacity_loader: too many failed steps" << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace aftersales::capacity

int main(int argc, char** argv) { return aftersales::capacity::Main(argc, argv); }
