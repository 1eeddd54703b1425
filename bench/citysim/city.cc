#include "citysim/city.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

#include "absl/strings/str_format.h"

namespace aftersales::citysim {

const char* const kCategories[kCategoryCount] = {"AIR_CONDITIONER", "WASHER", "FRIDGE",
                                                 "WATER_HEATER", "TV"};
const double kNormalMix[kCategoryCount] = {0.25, 0.25, 0.22, 0.18, 0.10};

namespace {

// The city: a 50 x 50 km square around Shanghai's centre with eight district
// centres where customers (and, less so, engineers) cluster.
constexpr double kLatLo = 31.00, kLatHi = 31.45, kLngLo = 121.20, kLngHi = 121.75;
constexpr double kDistricts[8][2] = {{31.23, 121.47}, {31.20, 121.44}, {31.27, 121.52},
                                     {31.30, 121.40}, {31.14, 121.39}, {31.22, 121.56},
                                     {31.10, 121.50}, {31.35, 121.48}};

// Repair minutes by category (before the 0.7..1.4 spread; COMPLEX x1.6).
constexpr int kRepairMinutes[kCategoryCount] = {55, 45, 50, 40, 35};

const char* const kFaults[kCategoryCount][3] = {
    {"空调不制冷 not cooling", "weak airflow from the indoor unit", "outdoor unit rattles"},
    {"won't drain after the cycle", "洗衣机不排水", "door lock light keeps blinking"},
    {"door seal is loose", "display shows error E5", "冰箱噪音大 loud humming"},
    {"temperature display flickers", "water temperature fluctuates", "stopped working"},
    {"no picture, sound only", "remote control does not respond", "screen flickers"},
};
const char* const kEmergencies[kCategoryCount] = {
    "burning smell from the indoor unit", "water leaking all over the floor",
    "fridge not cooling, food is spoiling", "gas smell near the water heater",
    "sparks from the power socket of the TV"};

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  double U(double lo = 0, double hi = 1) { return std::uniform_real_distribution<>(lo, hi)(g_); }
  int I(int lo, int hi) { return std::uniform_int_distribution<>(lo, hi)(g_); }
  bool P(double p) { return U() < p; }
  double N(double mean, double sd) { return std::normal_distribution<>(mean, sd)(g_); }
  int Pick(const double* weights, int n) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += weights[i];
    double x = U(0, total);
    for (int i = 0; i < n; ++i) {
      if ((x -= weights[i]) < 0) return i;
    }
    return n - 1;
  }
  // A point: near a district centre (sd in degrees) with probability p,
  // else anywhere in the city.
  std::pair<double, double> Place(double p_cluster, double sd) {
    if (P(p_cluster)) {
      const auto& d = kDistricts[I(0, 7)];
      return {std::clamp(N(d[0], sd), kLatLo, kLatHi), std::clamp(N(d[1], sd), kLngLo, kLngHi)};
    }
    return {U(kLatLo, kLatHi), U(kLngLo, kLngHi)};
  }

 private:
  std::mt19937_64 g_;
};

// Demand by local hour 08..19 (a late-morning and an early-evening peak).
constexpr double kHourly[12] = {0.6, 0.9, 1.2, 1.2, 0.8, 0.9, 1.0, 1.0, 1.0, 1.2, 1.1, 0.6};
// Extra heat-wave air-conditioner calls: the afternoon heat.
constexpr double kHeatHourly[12] = {0.3, 0.5, 0.8, 1.0, 1.2, 1.4, 1.5, 1.5, 1.3, 1.0, 0.7, 0.4};

OrderSpec NewOrder(Rng& r, int index, int category, const double* hourly, uint64_t seed,
                   absl::Time day_start) {
  OrderSpec o;
  o.index = index;
  o.request_id = absl::StrFormat("cs%llu-%06d", static_cast<unsigned long long>(seed), index);
  o.customer_id = absl::StrFormat("C%07d", r.I(1, 9999999));
  o.serial = absl::StrFormat("SN-CS-%llu-%06d", static_cast<unsigned long long>(seed), index);
  const int hour = r.Pick(hourly, 12);
  // 08:00 .. 19:30: the last half hour takes no new calls.
  const int minute = std::min(hour * 60 + r.I(0, 59), 11 * 60 + 30);
  o.at = day_start + absl::Minutes(minute);
  o.category = category;
  std::tie(o.lat, o.lng) = r.Place(0.75, 0.035);
  o.emergency = r.P(0.03);
  o.vip = r.P(0.05);
  const double c = r.U();
  o.complex = c < 0.12;
  o.needs_part = r.P(0.30);
  o.in_warranty = r.P(0.6);
  o.fault_text = o.emergency ? kEmergencies[category] : kFaults[category][r.I(0, 2)];
  o.traffic = std::exp(r.N(0, 0.25));
  o.contact_min = r.I(1, 3);  // then the call centre's queue
  o.diagnose_min = r.I(10, 25);
  o.repair_min = static_cast<int>(kRepairMinutes[category] * r.U(0.7, 1.4) * (o.complex ? 1.6 : 1));
  o.confirm_min = r.I(5, 30);
  o.survey = r.P(0.4);
  o.follow_up_min = o.survey ? r.I(30, 240) : r.I(60, 360);
  const double csat[5] = {0.01, 0.04, 0.10, 0.35, 0.50};
  o.csat = 1 + r.Pick(csat, 5);
  o.complaint_u = r.U();
  o.reject_u = r.U();
  return o;
}

}  // namespace

City MakeCity(uint64_t seed, int engineers) {
  Rng r(seed * 0x9E3779B97F4A7C15ull + 1);
  City city;
  for (int p = 0; p < 8; ++p) {
    city.partners.push_back({absl::StrFormat("P%02d", p + 1), 0.3 + 0.08 * p});
  }
  // Engineers' skills: their first category by this mix, 0..2 more.
  const double primary[kCategoryCount] = {0.28, 0.22, 0.22, 0.18, 0.10};
  const double levels[3] = {0.30, 0.45, 0.25};
  for (int i = 0; i < engineers; ++i) {
    EngineerSpec e;
    e.partner = r.I(0, 7);
    e.id = absl::StrFormat("%s-E%05d", city.partners[e.partner].id, i + 1);
    std::tie(e.lat, e.lng) = r.Place(0.5, 0.06);
    const int first = r.Pick(primary, kCategoryCount);
    const int extra = r.Pick(std::array<double, 3>{0.4, 0.4, 0.2}.data(), 3);
    e.skills.push_back({first, 1 + r.Pick(levels, 3)});
    for (int k = 1; k <= extra; ++k) {
      const int cat = (first + k * 2) % kCategoryCount;
      e.skills.push_back({cat, 1 + r.Pick(levels, 3)});
    }
    // Early (08-17), late (11-20) or long (08-20) shifts.
    const int kind = r.Pick(std::array<double, 3>{0.35, 0.35, 0.30}.data(), 3);
    e.shift_start_min = kind == 1 ? 11 * 60 : 8 * 60;
    e.shift_end_min = kind == 0 ? 17 * 60 : 20 * 60;
    e.first_time_fix = r.U(0.75, 0.98);
    city.engineers.push_back(std::move(e));
  }
  return city;
}

std::vector<OrderSpec> MakeOrders(uint64_t seed, int orders, DayKind day, absl::Time day_start) {
  Rng r(seed);
  std::vector<OrderSpec> out;
  int ac = 0;
  for (int i = 0; i < orders; ++i) {
    const int category = r.Pick(kNormalMix, kCategoryCount);
    ac += category == kAirConditioner;
    out.push_back(NewOrder(r, i, category, kHourly, seed, day_start));
  }
  if (day == DayKind::kHeatWave) {
    // Same normal orders, plus 2 more air-conditioner calls per normal one.
    Rng heat(seed ^ 0x5EA50Full);
    for (int k = 0; k < 2 * ac; ++k) {
      out.push_back(NewOrder(heat, orders + k, kAirConditioner, kHeatHourly, seed, day_start));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const OrderSpec& a, const OrderSpec& b) { return a.at < b.at; });
  return out;
}

uint64_t Digest(const std::vector<OrderSpec>& orders) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      h ^= b[i];
      h *= 1099511628211ull;
    }
  };
  for (const OrderSpec& o : orders) {
    mix(o.request_id.data(), o.request_id.size());
    const int64_t t = absl::ToUnixSeconds(o.at);
    mix(&t, sizeof t);
    mix(&o.category, sizeof o.category);
    const int64_t lat = std::llround(o.lat * 1e6), lng = std::llround(o.lng * 1e6);
    mix(&lat, sizeof lat);
    mix(&lng, sizeof lng);
    const int flags = o.emergency | o.vip << 1 | o.complex << 2 | o.needs_part << 3;
    mix(&flags, sizeof flags);
  }
  return h;
}

}  // namespace aftersales::citysim
