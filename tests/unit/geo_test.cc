// libs/geo: great-circle distances against known values, the travel-time
// estimate, and the grid index against a brute-force scan of every point
// (random points world-wide, dense clusters, the poles and the antimeridian,
// and after many moves and removals).
#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "catch2/catch.hpp"
#include "geo/geo.h"

namespace aftersales::geo {
namespace {

using Catch::Matchers::WithinAbs;

std::vector<Hit> BruteNearest(const std::vector<std::pair<std::string, Point>>& pts,
                              const Point& from, size_t k, double max_km,
                              const GridIndex::Filter& filter) {
  std::vector<Hit> all;
  for (const auto& [id, p] : pts) {
    const double d = DistanceKm(from, p);
    if (d > max_km) continue;
    if (filter && !filter(id, p)) continue;
    all.push_back({id, p, d});
  }
  std::sort(all.begin(), all.end(), [](const Hit& a, const Hit& b) {
    return a.distance_km != b.distance_km ? a.distance_km < b.distance_km : a.id < b.id;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

std::vector<std::string> Ids(const std::vector<Hit>& hits) {
  std::vector<std::string> ids;
  for (const auto& h : hits) ids.push_back(h.id);
  return ids;
}

TEST_CASE("great-circle distances match known values") {
  // One degree of a great circle.
  CHECK_THAT(DistanceKm({0, 0}, {0, 1}), WithinAbs(111.19508, 1e-4));
  CHECK_THAT(DistanceKm({0, 0}, {1, 0}), WithinAbs(111.19508, 1e-4));
  // Shanghai People's Square to Beijing Tiananmen: 1067.3 km on the sphere.
  CHECK_THAT(DistanceKm({31.2304, 121.4737}, {39.9042, 116.4074}), WithinAbs(1067.3, 0.5));
  // Symmetric, zero on the same point.
  CHECK(DistanceKm({31.2304, 121.4737}, {39.9042, 116.4074}) ==
        DistanceKm({39.9042, 116.4074}, {31.2304, 121.4737}));
  CHECK(DistanceKm({31.2, 121.4}, {31.2, 121.4}) == 0);
  // Across the antimeridian the short way, not around the globe.
  CHECK_THAT(DistanceKm({0, 179.9}, {0, -179.9}), WithinAbs(22.239, 1e-3));
  // Antipodes and pole to pole: half the circumference.
  CHECK_THAT(DistanceKm({0, 0}, {0, 180}), WithinAbs(20015.114, 1e-2));
  CHECK_THAT(DistanceKm({90, 0}, {-90, 0}), WithinAbs(20015.114, 1e-2));
  // All longitudes meet at the pole.
  CHECK_THAT(DistanceKm({90, 10}, {90, -170}), WithinAbs(0, 1e-9));
}

TEST_CASE("point validity") {
  CHECK(IsValid({31.2, 121.4}));
  CHECK(IsValid({-90, -180}));
  CHECK(IsValid({90, 180}));
  CHECK_FALSE(IsValid({90.0001, 0}));
  CHECK_FALSE(IsValid({0, -180.5}));
  CHECK_FALSE(IsValid({std::nan(""), 0}));
  CHECK_FALSE(IsValid({0, INFINITY}));
}

TEST_CASE("travel time is distance times road factor over speed") {
  // 10 km * 1.3 / 30 km/h = 26 min.
  CHECK(EstimateTravelTime(10.0) == absl::Minutes(26));
  CHECK(EstimateTravelTime(10.0, {.road_factor = 1.0, .speed_kmh = 60}) == absl::Minutes(10));
  CHECK(EstimateTravelTime(0.0) == absl::ZeroDuration());
  CHECK(EstimateTravelTime(-5.0) == absl::ZeroDuration());
  CHECK(EstimateTravelTime(10.0, {.road_factor = 1.3, .speed_kmh = 0}) ==
        absl::InfiniteDuration());
  // From points: one degree on the equator at 111.19508 km/h with no detour.
  const absl::Duration one_hour =
      EstimateTravelTime(Point{0, 0}, Point{0, 1}, {.road_factor = 1.0, .speed_kmh = 111.19508});
  CHECK(absl::AbsDuration(one_hour - absl::Hours(1)) < absl::Seconds(1));
}

TEST_CASE("grid index upsert, move and remove") {
  GridIndex index;
  CHECK(index.Upsert("a", {31.2, 121.4}));
  CHECK(index.Upsert("b", {31.3, 121.5}));
  CHECK_FALSE(index.Upsert("bad", {91, 0}));
  CHECK(index.size() == 2);
  // Moving a point: it is found at its new place only.
  CHECK(index.Upsert("a", {39.9, 116.4}));
  CHECK(index.size() == 2);
  REQUIRE(index.Find("a").has_value());
  CHECK(index.Find("a")->lat_deg == 39.9);
  auto near_shanghai = index.Within({31.25, 121.45}, 50);
  CHECK(Ids(near_shanghai) == std::vector<std::string>{"b"});
  CHECK(index.Remove("b"));
  CHECK_FALSE(index.Remove("b"));
  CHECK(index.Within({31.25, 121.45}, 50).empty());
  CHECK(Ids(index.Nearest({31.25, 121.45}, 5)) == std::vector<std::string>{"a"});
  CHECK(index.Nearest({31.25, 121.45}, 0).empty());
}

TEST_CASE("grid index answers exactly like a scan of every point") {
  std::mt19937_64 rng(20261123);
  std::uniform_real_distribution<double> lat(-90, 90), lng(-180, 180), unit(0, 1);
  for (double cell : {0.25, 1.0, 5.0}) {
    GridIndex index(cell);
    std::vector<std::pair<std::string, Point>> pts;
    auto add = [&](const Point& p) {
      const std::string id = absl::StrCat("p", pts.size());
      REQUIRE(index.Upsert(id, p));
      pts.emplace_back(id, p);
    };
    for (int i = 0; i < 400; ++i) add({lat(rng), lng(rng)});
    // A dense city cluster, points near both poles and on the antimeridian.
    for (int i = 0; i < 300; ++i) {
      add({31.2 + unit(rng) * 0.5, 121.2 + unit(rng) * 0.5});
    }
    for (int i = 0; i < 40; ++i) add({89.5 + unit(rng) * 0.5, lng(rng)});
    for (int i = 0; i < 40; ++i) add({-89.5 - unit(rng) * 0.5, lng(rng)});
    for (int i = 0; i < 40; ++i) add({lat(rng) / 10, unit(rng) < 0.5 ? 179.9 : -179.9});
    // Duplicate positions: ties break by id.
    add({31.3, 121.3});
    add({31.3, 121.3});

    std::vector<Point> queries = {{31.35, 121.45}, {90, 0},    {-90, 45}, {0, 180},
                                  {0, -180},       {89.9, 10}, {31.3, 121.3}};
    for (int i = 0; i < 60; ++i) queries.push_back({lat(rng), lng(rng)});
    const GridIndex::Filter even = [](absl::string_view id, const Point&) {
      return id.back() % 2 == 0;
    };
    for (const Point& q : queries) {
      INFO("cell " << cell << " query " << q.lat_deg << "," << q.lng_deg);
      for (size_t k : {1u, 5u, 37u}) {
        CHECK(Ids(index.Nearest(q, k)) ==
              Ids(BruteNearest(pts, q, k, INFINITY, nullptr)));
        CHECK(Ids(index.Nearest(q, k, 500)) == Ids(BruteNearest(pts, q, k, 500, nullptr)));
        CHECK(Ids(index.Nearest(q, k, INFINITY, even)) ==
              Ids(BruteNearest(pts, q, k, INFINITY, even)));
      }
      for (double radius : {0.0, 10.0, 80.0, 1500.0}) {
        auto got = index.Within(q, radius);
        auto want = BruteNearest(pts, q, pts.size(), radius, nullptr);
        CHECK(Ids(got) == Ids(want));
        for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
          CHECK(got[i].distance_km == want[i].distance_km);
        }
      }
    }
  }
}

TEST_CASE("grid index after many moves and removals still answers like a scan") {
  // Cells keep each point's position next to its id: a move or removal must
  // update that copy too, or queries would see stale positions.
  std::mt19937_64 rng(20261122);
  std::uniform_real_distribution<double> unit(0, 1);
  GridIndex index(0.01);
  std::map<std::string, Point> now;
  auto city = [&] { return Point{31.0 + unit(rng) * 0.4, 121.2 + unit(rng) * 0.4}; };
  for (int i = 0; i < 2000; ++i) {
    const std::string id = absl::StrCat("e", i % 500);
    if (unit(rng) < 0.15) {
      CHECK(index.Remove(id) == (now.erase(id) == 1));
    } else {
      const Point p = city();
      REQUIRE(index.Upsert(id, p));
      now[id] = p;
    }
  }
  REQUIRE(index.size() == now.size());
  std::vector<std::pair<std::string, Point>> pts(now.begin(), now.end());
  size_t filter_calls = 0;
  const GridIndex::Filter current = [&](absl::string_view id, const Point& p) {
    ++filter_calls;
    const Point& want = now.at(std::string(id));
    CHECK(p.lat_deg == want.lat_deg);
    CHECK(p.lng_deg == want.lng_deg);
    return true;
  };
  for (int q = 0; q < 40; ++q) {
    const Point from = city();
    for (size_t k : {1u, 10u, 50u}) {
      const auto got = index.Nearest(from, k, INFINITY, current);
      const auto want = BruteNearest(pts, from, k, INFINITY, nullptr);
      REQUIRE(Ids(got) == Ids(want));
      for (size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].point.lat_deg == want[i].point.lat_deg);
        CHECK(got[i].point.lng_deg == want[i].point.lng_deg);
        CHECK(got[i].distance_km == want[i].distance_km);
      }
    }
    CHECK(Ids(index.Within(from, 3.0, current)) ==
          Ids(BruteNearest(pts, from, pts.size(), 3.0, nullptr)));
  }
  // Nearest filters only points nearer than the k-th best so far, not every
  // point in the visited cells.
  filter_calls = 0;
  index.Nearest({31.2, 121.4}, 5, INFINITY, current);
  CHECK(filter_calls >= 5);
  CHECK(filter_calls < now.size() / 4);
}

TEST_CASE("an empty index and invalid queries find nothing") {
  GridIndex index;
  CHECK(index.Nearest({0, 0}, 3).empty());
  CHECK(index.Within({0, 0}, 100).empty());
  index.Upsert("a", {0, 0});
  CHECK(index.Nearest({100, 0}, 3).empty());
  CHECK(index.Within({0, 0}, -1).empty());
  CHECK(index.Within({0, 0}, std::nan("")).empty());
}

}  // namespace
}  // namespace aftersales::geo
