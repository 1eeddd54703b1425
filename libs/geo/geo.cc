#include "geo/geo.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>

namespace aftersales::geo {
namespace {

constexpr double kPi = 3.14159265358979323846;

double Radians(double deg) { return deg * kPi / 180.0; }

// haversine(x) = sin^2(x / 2), x in radians.
double Hav(double x) {
  const double s = std::sin(x / 2);
  return s * s;
}

// Central angle (radians) from a haversine value, clamped against rounding.
double AngleOfHav(double h) {
  return 2 * std::asin(std::sqrt(std::clamp(h, 0.0, 1.0)));
}

bool HitLess(const Hit& a, const Hit& b) {
  if (a.distance_km != b.distance_km) return a.distance_km < b.distance_km;
  return a.id < b.id;
}

}  // namespace

bool IsValid(const Point& p) {
  return std::isfinite(p.lat_deg) && std::isfinite(p.lng_deg) && p.lat_deg >= -90 &&
         p.lat_deg <= 90 && p.lng_deg >= -180 && p.lng_deg <= 180;
}

double DistanceKm(const Point& a, const Point& b) {
  const double phi1 = Radians(a.lat_deg), phi2 = Radians(b.lat_deg);
  const double h = Hav(phi2 - phi1) +
                   std::cos(phi1) * std::cos(phi2) * Hav(Radians(b.lng_deg - a.lng_deg));
  return kEarthRadiusKm * AngleOfHav(h);
}

absl::Duration EstimateTravelTime(double distance_km, const TravelModel& model) {
  if (!(model.speed_kmh > 0) || !std::isfinite(distance_km)) {
    return absl::InfiniteDuration();
  }
  const double hours = std::max(0.0, distance_km) * std::max(1.0, model.road_factor) /
                       model.speed_kmh;
  return absl::Seconds(hours * 3600.0);
}

absl::Duration EstimateTravelTime(const Point& from, const Point& to,
                                  const TravelModel& model) {
  return EstimateTravelTime(DistanceKm(from, to), model);
}

// ---- GridIndex ----

GridIndex::GridIndex(double cell_deg)
    : cell_deg_(cell_deg > 0 && cell_deg <= 90 ? cell_deg : 0.25),
      rows_(static_cast<int>(std::ceil(180.0 / cell_deg_))),
      cols_(static_cast<int>(std::ceil(360.0 / cell_deg_))) {}

GridIndex::Cell GridIndex::CellOf(const Point& p) const {
  int row = static_cast<int>(std::floor((p.lat_deg + 90.0) / cell_deg_));
  row = std::clamp(row, 0, rows_ - 1);
  int col = static_cast<int>(std::floor((p.lng_deg + 180.0) / cell_deg_)) % cols_;
  if (col < 0) col += cols_;
  return {row, col};
}

bool GridIndex::Upsert(absl::string_view id, const Point& point) {
  if (!IsValid(point)) return false;
  Remove(id);
  const std::string key(id);
  points_[key] = point;
  cells_[CellOf(point)].push_back(key);
  return true;
}

bool GridIndex::Remove(absl::string_view id) {
  auto it = points_.find(std::string(id));
  if (it == points_.end()) return false;
  auto cell = cells_.find(CellOf(it->second));
  if (cell != cells_.end()) {
    auto& ids = cell->second;
    ids.erase(std::remove(ids.begin(), ids.end(), it->first), ids.end());
    if (ids.empty()) cells_.erase(cell);
  }
  points_.erase(it);
  return true;
}

std::optional<Point> GridIndex::Find(absl::string_view id) const {
  auto it = points_.find(std::string(id));
  if (it == points_.end()) return std::nullopt;
  return it->second;
}

double GridIndex::RingLowerBoundKm(const Point& from, int ring) const {
  if (ring <= 1) return 0;
  // A point `ring` rings out lies at least (ring - 1) cells away in latitude
  // or in longitude. haversine(d) = hav(dlat) + cos(lat1) cos(lat2) hav(dlng)
  // >= cos(lat1) cos(lat2) hav(dlng), with |lat2| at most the ring's
  // farthest-from-equator row; that longitude bound is also below the
  // latitude one, so it bounds both cases.
  const double gap = Radians((ring - 1) * cell_deg_);
  const double max_lat =
      std::min(90.0, std::fabs(from.lat_deg) + (ring + 1) * cell_deg_);
  const double h =
      std::cos(Radians(from.lat_deg)) * std::cos(Radians(max_lat)) * Hav(gap);
  return kEarthRadiusKm * AngleOfHav(h);
}

void GridIndex::VisitRing(
    const Cell& center, int ring,
    const std::function<void(const std::vector<std::string>&)>& visit) const {
  auto at = [&](int dr, int dc) {
    const int row = center.row + dr;
    if (row < 0 || row >= rows_) return;
    int col = (center.col + dc) % cols_;
    if (col < 0) col += cols_;
    auto it = cells_.find(Cell{row, col});
    if (it != cells_.end()) visit(it->second);
  };
  if (ring == 0) {
    at(0, 0);
    return;
  }
  for (int dc = -ring; dc <= ring; ++dc) {
    at(-ring, dc);
    at(ring, dc);
  }
  for (int dr = -ring + 1; dr <= ring - 1; ++dr) {
    at(dr, -ring);
    at(dr, ring);
  }
}

void GridIndex::Search(const Point& from, const std::function<bool(double)>& done,
                       const std::function<void(const std::string&)>& consider) const {
  if (points_.empty()) return;
  const Cell center = CellOf(from);
  for (int ring = 0;; ++ring) {
    if (done(RingLowerBoundKm(from, ring))) return;
    // Past here rings either wrap around the globe (and would visit a cell
    // twice) or cost more cell probes than there are occupied cells: scan
    // the occupied cells not yet visited instead.
    const long long side = 2LL * ring + 1;
    if (2 * ring + 3 > cols_ || side * side > 2LL * static_cast<long long>(cells_.size()) + 64) {
      for (const auto& [cell, ids] : cells_) {
        int dc = std::abs(cell.col - center.col);
        dc = std::min(dc, cols_ - dc);
        const int dr = std::abs(cell.row - center.row);
        if (std::max(dr, dc) < ring) continue;  // visited already
        for (const auto& id : ids) consider(id);
      }
      return;
    }
    VisitRing(center, ring, [&](const std::vector<std::string>& ids) {
      for (const auto& id : ids) consider(id);
    });
  }
}

std::vector<Hit> GridIndex::Nearest(const Point& from, size_t k, double max_km,
                                    const Filter& filter) const {
  if (k == 0 || !IsValid(from)) return {};
  // Max-heap of the k best so far: top is the worst kept hit.
  auto worse = [](const Hit& a, const Hit& b) { return HitLess(a, b); };
  std::priority_queue<Hit, std::vector<Hit>, decltype(worse)> best(worse);
  Search(
      from,
      [&](double lower_bound) {
        if (lower_bound > max_km) return true;
        return best.size() == k && lower_bound > best.top().distance_km;
      },
      [&](const std::string& id) {
        const Point& p = points_.at(id);
        Hit hit{id, p, DistanceKm(from, p)};
        if (hit.distance_km > max_km) return;
        if (best.size() == k && !HitLess(hit, best.top())) return;
        if (filter && !filter(id, p)) return;
        best.push(std::move(hit));
        if (best.size() > k) best.pop();
      });
  std::vector<Hit> out;
  out.reserve(best.size());
  while (!best.empty()) {
    out.push_back(best.top());
    best.pop();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<Hit> GridIndex::Within(const Point& from, double radius_km,
                                   const Filter& filter) const {
  std::vector<Hit> out;
  if (!IsValid(from) || !(radius_km >= 0)) return out;
  Search(
      from, [&](double lower_bound) { return lower_bound > radius_km; },
      [&](const std::string& id) {
        const Point& p = points_.at(id);
        const double d = DistanceKm(from, p);
        if (d > radius_km) return;
        if (filter && !filter(id, p)) return;
        out.push_back(Hit{id, p, d});
      });
  std::sort(out.begin(), out.end(), HitLess);
  return out;
}

}  // namespace aftersales::geo
