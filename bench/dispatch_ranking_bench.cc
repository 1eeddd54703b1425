// One dispatch ranking decision (SPEC §3) with 1k, 10k and 100k engineers
// spread over a 50 km x 50 km city: the nearest 50 engineers that pass a
// cheap status/skill filter come out of a GridIndex built once, each is
// evaluated against every hard constraint and ranking factor, and the
// candidates are ranked. The cost should follow K (50), not the number of
// engineers. Results: docs/dispatch-benchmark.md.
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "dispatch/domain/ranking.h"
#include "geo/geo.h"
#include "rpc/rpc.h"

namespace aftersales::dispatch::domain {
namespace {

constexpr double kCenterLat = 31.2304;  // Shanghai, People's Square
constexpr double kCenterLng = 121.4737;
constexpr double kSpanKm = 50;
constexpr size_t kNearest = 50;
constexpr int kOrders = 64;  // order points cycled through by the iterations
const char* const kCategories[] = {"FRIDGE", "WASHER", "AC", "TV", "OVEN", "WATER_HEATER"};
constexpr int kCategoryCount = 6;
constexpr int kPartners = 10;

double KmToLatDeg(double km) { return km / (geo::kEarthRadiusKm * M_PI / 180.0); }
double KmToLngDeg(double km) { return KmToLatDeg(km) / std::cos(kCenterLat * M_PI / 180.0); }

// What the cheap index filter needs without touching the full record.
struct Summary {
  uint32_t index = 0;
  uint32_t skill_mask = 0;  // bit per category
  bool available = false;   // not OFF_DUTY / SUSPENDED
};

struct City {
  absl::Time now;
  v1::DispatchPolicy policy;
  std::vector<v1::Partner> partners;
  std::vector<v1::Engineer> engineers;
  std::vector<Load> loads;
  absl::flat_hash_map<std::string, Summary> summaries;
  std::unique_ptr<geo::GridIndex> index;
  // Per category, the engineers with a skill for it (as the dispatch service
  // keeps them): the filter rejects everyone else, so the walk skips them.
  std::vector<std::unique_ptr<geo::GridIndex>> category_index;
  std::vector<v1::DispatchOrder> orders;
};

v1::DispatchPolicy Policy() {
  absl::StatusOr<v1::DispatchPolicy> p = ParseDispatchPolicy(R"pb(
    ref { name: "dispatch" version: "bench" }
    offer_timeout_emergency { seconds: 300 }
    offer_timeout_default { seconds: 600 }
    weights { arrival_slack: 0.4 rating: 0.2 first_time_fix: 0.2 workload_balance: 0.1 partner_preference: 0.1 }
    road_factor: 1.3
    speed_kmh: 30
    default_capacity { max_active: 1 max_queued: 3 }
    location_stale_after { seconds: 1800 }
    on_site_job_estimate { seconds: 3600 }
    suspend_below_diagnosis_accuracy: 0.9
    max_attempts: 10
  )pb");
  if (!p.ok()) std::abort();
  return *p;
}

// Engineers uniformly over the square, deterministic (fixed seed).
std::unique_ptr<City> BuildCity(int engineers, double cell_deg) {
  auto city = std::make_unique<City>();
  absl::TimeZone shanghai;
  if (!absl::LoadTimeZone("Asia/Shanghai", &shanghai)) std::abort();
  city->now = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 10, 0, 0), shanghai);
  city->policy = Policy();
  for (int p = 0; p < kPartners; ++p) {
    v1::Partner partner;
    partner.set_partner_id(absl::StrCat("P", p));
    partner.set_name(absl::StrCat("Partner ", p));
    partner.set_preference(0.3 + 0.05 * p);
    city->partners.push_back(partner);
  }
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0, 1);
  const double half_lat = KmToLatDeg(kSpanKm / 2), half_lng = KmToLngDeg(kSpanKm / 2);
  auto point = [&] {
    v1::GeoPoint g;
    g.set_lat_deg(kCenterLat + (2 * unit(rng) - 1) * half_lat);
    g.set_lng_deg(kCenterLng + (2 * unit(rng) - 1) * half_lng);
    return g;
  };
  city->index = std::make_unique<geo::GridIndex>(cell_deg);
  for (int c = 0; c < kCategoryCount; ++c) {
    city->category_index.push_back(std::make_unique<geo::GridIndex>(cell_deg));
  }
  city->engineers.reserve(engineers);
  for (int i = 0; i < engineers; ++i) {
    v1::Engineer e;
    e.set_engineer_id(absl::StrCat("E", 1000000 + i));
    e.set_partner_id(absl::StrCat("P", i % kPartners));
    e.set_display_name("Engineer");
    Summary s;
    s.index = static_cast<uint32_t>(i);
    const int skills = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < skills; ++k) {
      const int c = static_cast<int>(rng() % kCategoryCount);
      if (s.skill_mask & (1u << c)) continue;
      s.skill_mask |= 1u << c;
      v1::Skill* skill = e.add_skills();
      skill->set_appliance_category(kCategories[c]);
      skill->set_level(static_cast<v1::CertificationLevel>(1 + rng() % 3));
    }
    e.set_cross_brand(unit(rng) < 0.3);
    e.mutable_coverage()->add_region_codes("CN-310000");
    *e.mutable_coverage()->mutable_center() = point();
    e.mutable_coverage()->set_radius_km(15);
    v1::ShiftCalendar* shifts = e.mutable_shifts();
    shifts->set_time_zone("Asia/Shanghai");
    for (int day = 1; day <= 7; ++day) {
      if (day == 1 + static_cast<int>(i % 7)) continue;  // one day off a week
      v1::WeeklyShift* w = shifts->add_weekly();
      w->set_iso_weekday(day);
      w->set_start_minute(8 * 60);
      w->set_end_minute(20 * 60);
    }
    *e.mutable_location() = point();
    *e.mutable_location_reported_at() =
        rpc::ToProto(city->now - absl::Seconds(static_cast<int>(rng() % 1500)));
    e.set_rating(1 + 4 * unit(rng));
    e.set_rating_count(static_cast<int>(rng() % 200));
    e.set_first_time_fix_rate(0.6 + 0.4 * unit(rng));
    const double r = unit(rng);
    e.set_status(r < 0.1   ? v1::ENGINEER_STATUS_OFF_DUTY
                 : r < 0.2 ? v1::ENGINEER_STATUS_BUSY
                           : v1::ENGINEER_STATUS_AVAILABLE);
    e.set_backup(unit(rng) < 0.05);
    s.available = e.status() != v1::ENGINEER_STATUS_OFF_DUTY &&
                  e.status() != v1::ENGINEER_STATUS_SUSPENDED;
    Load load;
    load.active = static_cast<int>(rng() % 2);
    load.queued = static_cast<int>(rng() % 3);
    load.jobs_today = static_cast<int>(rng() % 6);
    city->loads.push_back(load);
    city->index->Upsert(e.engineer_id(), {e.location().lat_deg(), e.location().lng_deg()});
    for (int c = 0; c < kCategoryCount; ++c) {
      if (s.skill_mask & (1u << c)) {
        city->category_index[c]->Upsert(e.engineer_id(),
                                        {e.location().lat_deg(), e.location().lng_deg()});
      }
    }
    city->summaries.emplace(e.engineer_id(), s);
    city->engineers.push_back(std::move(e));
  }
  for (int o = 0; o < kOrders; ++o) {
    v1::DispatchOrder order;
    order.set_order_id(absl::StrCat("WO", o));
    order.set_priority(o % 8 == 0 ? v1::PRIORITY_EMERGENCY : v1::PRIORITY_NORMAL);
    order.mutable_service_area()->set_region_code("CN-310000");
    order.mutable_service_area()->set_city_tier(1);
    *order.mutable_service_area()->mutable_location() = point();
    order.set_appliance_category(kCategories[o % kCategoryCount]);
    order.set_appliance_brand("Haier");
    order.set_complexity(o % 4 == 0 ? v1::FAULT_COMPLEXITY_COMPLEX : v1::FAULT_COMPLEXITY_MEDIUM);
    *order.mutable_order_created_at() = rpc::ToProto(city->now - absl::Minutes(1));
    *order.mutable_dispatch_deadline() = rpc::ToProto(city->now + absl::Minutes(14));
    *order.mutable_arrival_deadline() = rpc::ToProto(city->now + absl::Hours(2));
    city->orders.push_back(order);
  }
  return city;
}

// Cities are built once per (size, cell) and shared by repetitions.
const City& CityOf(int engineers, double cell_deg) {
  static std::map<std::pair<int, double>, std::unique_ptr<City>> cities;
  auto& slot = cities[{engineers, cell_deg}];
  if (slot == nullptr) slot = BuildCity(engineers, cell_deg);
  return *slot;
}

// The K nearest engineers who are on duty and have a skill for the order's
// category: the cheap pre-filter, from the in-memory summaries. Adds the
// number of filter calls to `*visited`.
std::vector<geo::Hit> NearestFor(const City& city, const v1::DispatchOrder& order,
                                 size_t* visited, bool by_category = false) {
  int category = 0;
  while (category < kCategoryCount && order.appliance_category() != kCategories[category]) {
    ++category;
  }
  const uint32_t bit = 1u << category;
  const geo::GridIndex::Filter filter = [&](absl::string_view id, const geo::Point&) {
    ++*visited;
    auto it = city.summaries.find(id);
    return it != city.summaries.end() && it->second.available && (it->second.skill_mask & bit);
  };
  const v1::GeoPoint& at = order.service_area().location();
  const geo::GridIndex& index =
      by_category ? *city.category_index[std::min(category, kCategoryCount - 1)] : *city.index;
  return index.Nearest({at.lat_deg(), at.lng_deg()}, kNearest,
                       std::numeric_limits<double>::infinity(), filter);
}

// The nearest engineers' indexes and their mean jobs today.
std::vector<uint32_t> NearestIndexes(const City& city, const v1::DispatchOrder& order,
                                     size_t* visited, double* peer_jobs,
                                     bool by_category = false) {
  const std::vector<geo::Hit> hits = NearestFor(city, order, visited, by_category);
  *peer_jobs = 0;
  std::vector<uint32_t> indexes;
  indexes.reserve(hits.size());
  for (const geo::Hit& hit : hits) {
    const uint32_t i = city.summaries.find(hit.id)->second.index;
    indexes.push_back(i);
    *peer_jobs += city.loads[i].jobs_today;
  }
  if (!indexes.empty()) *peer_jobs /= static_cast<double>(indexes.size());
  return indexes;
}

Situation SituationOf(const City& city, uint32_t i, double peer_jobs) {
  Situation s;
  s.now = city.now;
  s.policy = &city.policy;
  s.partner = &city.partners[i % kPartners];
  s.load = city.loads[i];
  s.peer_jobs_today = peer_jobs;
  return s;
}

// One decision: candidates near the order, explained and ranked.
std::vector<v1::Candidate> Decide(const City& city, const v1::DispatchOrder& order,
                                  size_t* visited) {
  double peer_jobs = 0;
  const std::vector<uint32_t> indexes = NearestIndexes(city, order, visited, &peer_jobs);
  std::vector<v1::Candidate> candidates;
  candidates.reserve(indexes.size());
  for (uint32_t i : indexes) {
    candidates.push_back(Evaluate(city.engineers[i], order, SituationOf(city, i, peer_jobs)));
  }
  Rank(candidates);
  return candidates;
}

// One decision as the dispatch service makes it now: every candidate scored
// (no protos), the best one explained (the offer's Candidate).
v1::Candidate DecideBest(const City& city, const v1::DispatchOrder& order, size_t* visited,
                         size_t* eligible) {
  double peer_jobs = 0;
  const std::vector<uint32_t> indexes =
      NearestIndexes(city, order, visited, &peer_jobs, /*by_category=*/true);
  Score best;
  uint32_t best_index = 0;
  for (uint32_t i : indexes) {
    const Score score = ScoreOf(city.engineers[i], order, SituationOf(city, i, peer_jobs));
    *eligible += score.eligible ? 1 : 0;
    if (best.engineer_id == nullptr || RankedBefore(score, best)) {
      best = score;
      best_index = i;
    }
  }
  if (best.engineer_id == nullptr || !best.eligible) return {};
  v1::Candidate c =
      Evaluate(city.engineers[best_index], order, SituationOf(city, best_index, peer_jobs));
  c.set_rank(1);
  return c;
}

void BestDecision(benchmark::State& state, double cell_deg) {
  const City& city = CityOf(static_cast<int>(state.range(0)), cell_deg);
  size_t n = 0, eligible = 0, visited = 0, offered = 0;
  for (auto _ : state) {
    v1::Candidate best = DecideBest(city, city.orders[n++ % kOrders], &visited, &eligible);
    offered += best.eligible() ? 1 : 0;
    benchmark::DoNotOptimize(best);
  }
  state.counters["eligible"] =
      benchmark::Counter(static_cast<double>(eligible) / static_cast<double>(n));
  state.counters["offered"] =
      benchmark::Counter(static_cast<double>(offered) / static_cast<double>(n));
  state.counters["engineers"] = static_cast<double>(state.range(0));
  state.counters["filter_calls"] =
      benchmark::Counter(static_cast<double>(visited) / static_cast<double>(n));
}

void RankingDecision(benchmark::State& state, double cell_deg) {
  const City& city = CityOf(static_cast<int>(state.range(0)), cell_deg);
  size_t n = 0, candidates = 0, eligible = 0, visited = 0;
  for (auto _ : state) {
    std::vector<v1::Candidate> ranked = Decide(city, city.orders[n++ % kOrders], &visited);
    candidates += ranked.size();
    for (const v1::Candidate& c : ranked) eligible += c.eligible() ? 1 : 0;
    benchmark::DoNotOptimize(ranked.data());
  }
  state.counters["candidates"] =
      benchmark::Counter(static_cast<double>(candidates) / static_cast<double>(n));
  state.counters["eligible"] =
      benchmark::Counter(static_cast<double>(eligible) / static_cast<double>(n));
  state.counters["engineers"] = static_cast<double>(state.range(0));
  // Engineers that reached the filter per decision (nearer than the K-th
  // best so far): deterministic, unlike times on a shared machine.
  state.counters["filter_calls"] =
      benchmark::Counter(static_cast<double>(visited) / static_cast<double>(n));
}

// City-scale cells: 0.01 degrees ~ 1.1 km (about 1 km2 at Shanghai's
// latitude), the size recommended for the dispatch service's index.
constexpr double kCityCellDeg = 0.01;

void BM_RankingDecision(benchmark::State& state) { RankingDecision(state, kCityCellDeg); }
BENCHMARK(BM_RankingDecision)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// The decision as dispatch makes it: score all, explain the offered one.
void BM_OfferDecision(benchmark::State& state) { BestDecision(state, kCityCellDeg); }
BENCHMARK(BM_OfferDecision)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// The index query alone (same cells and filter), to split the cost.
void BM_NearestOnly(benchmark::State& state) {
  const City& city = CityOf(static_cast<int>(state.range(0)), kCityCellDeg);
  size_t n = 0, visited = 0;
  for (auto _ : state) {
    std::vector<geo::Hit> hits = NearestFor(city, city.orders[n++ % kOrders], &visited);
    benchmark::DoNotOptimize(hits.data());
  }
  state.counters["filter_calls"] =
      benchmark::Counter(static_cast<double>(visited) / static_cast<double>(n));
}
BENCHMARK(BM_NearestOnly)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// The same query on the order category's index (the same hits).
void BM_NearestByCategory(benchmark::State& state) {
  const City& city = CityOf(static_cast<int>(state.range(0)), kCityCellDeg);
  size_t n = 0, visited = 0, same = 0;
  for (auto _ : state) {
    const v1::DispatchOrder& order = city.orders[n++ % kOrders];
    std::vector<geo::Hit> hits = NearestFor(city, order, &visited, true);
    benchmark::DoNotOptimize(hits.data());
    if (n <= kOrders) {  // once per order, outside the hot loop's interest
      size_t ignored = 0;
      const std::vector<geo::Hit> full = NearestFor(city, order, &ignored, false);
      bool equal = full.size() == hits.size();
      for (size_t i = 0; equal && i < full.size(); ++i) equal = full[i].id == hits[i].id;
      same += equal ? 1 : 0;
    }
  }
  if (same != std::min<size_t>(n, kOrders)) state.SkipWithError("category index hits differ");
  state.counters["filter_calls"] =
      benchmark::Counter(static_cast<double>(visited) / static_cast<double>(n));
}
BENCHMARK(BM_NearestByCategory)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

// The GridIndex default (0.25 degrees ~ 28 km): a 50 km city is a handful of
// cells, so a query walks a large share of all engineers. For comparison.
void BM_RankingDecisionDefaultCells(benchmark::State& state) { RankingDecision(state, 0.25); }
BENCHMARK(BM_RankingDecisionDefaultCells)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

// Scoring alone (what a decision does per candidate now): ScoreOf of the
// same 50 fixed candidates and the best picked.
void BM_Score50(benchmark::State& state) {
  const City& city = CityOf(1000, kCityCellDeg);
  const v1::DispatchOrder& order = city.orders[1];
  for (auto _ : state) {
    Score best;
    for (uint32_t i = 0; i < kNearest; ++i) {
      const Score score = ScoreOf(city.engineers[i], order, SituationOf(city, i, 2.5));
      if (best.engineer_id == nullptr || RankedBefore(score, best)) best = score;
    }
    benchmark::DoNotOptimize(best);
  }
}
BENCHMARK(BM_Score50)->Unit(benchmark::kMicrosecond);

// The ranking alone, for scale: Evaluate + Rank of 50 fixed candidates.
void BM_EvaluateAndRank50(benchmark::State& state) {
  const City& city = CityOf(1000, kCityCellDeg);
  const v1::DispatchOrder& order = city.orders[1];
  for (auto _ : state) {
    std::vector<v1::Candidate> candidates;
    candidates.reserve(kNearest);
    for (uint32_t i = 0; i < kNearest; ++i) {
      candidates.push_back(Evaluate(city.engineers[i], order, SituationOf(city, i, 2.5)));
    }
    Rank(candidates);
    benchmark::DoNotOptimize(candidates.data());
  }
}
BENCHMARK(BM_EvaluateAndRank50)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace aftersales::dispatch::domain

BENCHMARK_MAIN();
