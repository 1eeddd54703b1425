// The simulated city of bench/citysim: engineers and one day's order stream,
// generated from a seed only (no I/O), so two runs with the same seed see
// exactly the same engineers and the same orders whatever dispatch decides.
#ifndef AFTERSALES_BENCH_CITYSIM_CITY_H_
#define AFTERSALES_BENCH_CITYSIM_CITY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace aftersales::citysim {

inline constexpr int kCategoryCount = 5;
// Appliance categories and their share of a normal day's orders.
extern const char* const kCategories[kCategoryCount];
extern const double kNormalMix[kCategoryCount];
inline constexpr int kAirConditioner = 0;

struct Partner {
  std::string id;
  double preference;
};

struct SkillSpec {
  int category;
  int level;  // 1 JUNIOR, 2 INTERMEDIATE, 3 SENIOR (v1::CertificationLevel values)
};

struct EngineerSpec {
  std::string id;
  int partner;
  double lat, lng;  // home, where the day starts
  std::vector<SkillSpec> skills;
  int shift_start_min, shift_end_min;  // local minutes of the day, Monday..Saturday
  double first_time_fix;
};

enum class DayKind { kNormal, kHeatWave };

struct OrderSpec {
  int index;
  std::string request_id, customer_id, serial;
  absl::Time at;  // when the customer calls
  int category;
  double lat, lng;
  bool emergency, vip, complex, needs_part, in_warranty;
  std::string fault_text;
  double traffic;         // travel-time factor of this job (traffic, parking)
  int contact_min;        // earliest first call (then the call centre queue)
  int diagnose_min, repair_min, confirm_min;
  bool survey;            // answers the app survey (else an agent's follow-up call)
  int follow_up_min;      // after confirmation
  int csat;               // 1..5 when on time (one point less when late)
  double complaint_u;     // uniform [0,1): files a complaint below a threshold
  double reject_u;        // uniform [0,1): declines its first offer below a threshold
};

struct City {
  std::vector<Partner> partners;
  std::vector<EngineerSpec> engineers;
};

// `engineers` engineers in 8 partner networks over a 50 x 50 km city.
City MakeCity(uint64_t seed, int engineers);

// One day's orders, sorted by `at`, from day_start (08:00 local) to 19:30.
// A normal day has `orders` orders with kNormalMix; a heat wave has the same
// orders plus twice as many extra air-conditioner orders (3x AC), skewed to
// the afternoon.
std::vector<OrderSpec> MakeOrders(uint64_t seed, int orders, DayKind day, absl::Time day_start);

// FNV-1a digest of the stream (ids, times, categories, places, flags): equal
// digests mean the same orders.
uint64_t Digest(const std::vector<OrderSpec>& orders);

}  // namespace aftersales::citysim

#endif  // AFTERSALES_BENCH_CITYSIM_CITY_H_
