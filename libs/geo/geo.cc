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
  std::string key(id);
  points_[key] = point;
  cells_[CellOf(point)].push_back(Entry{std::move(key), point});
  return true;
}

bool GridIndex::Remove(absl::string_view id) {
  auto it = points_.find(std::string(id));
  if (it == points_.end()) return false;
  auto cell = cells_.find(CellOf(it->second));
  if (cell != cells_.end()) {
    auto& entries = cell->second;
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const Entry& e) { return e.id == it->first; }),
                  entries.end());
    if (entries.empty()) cells_.erase(cell);
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

template <typename Visit>
void GridIndex::VisitRing(const Cell& center, int ring, const Visit& visit) const {
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

template <typename Done, typename Consider>
void GridIndex::Search(const Point& from, const Done& done, const Consider& consider) const {
  if (points_.empty()) return;
  const Cell center = CellOf(from);
  for (int ring = 0;; ++ring) {
    if (done(RingLowerBoundKm(from, ring))) return;
    // Past here rings either wrap around the globe (and would visit a cell
    // twice) or cost more cell probes than there are occupied cells: scan
    // the occupied cells not yet visited instead.
    const long long side = 2LL * ring + 1;
    if (2 * ring + 3 > cols_ || side * side > 2LL * static_cast<long long>(cells_.size()) + 64) {
      for (const auto& [cell, entries] : cells_) {
        int dc = std::abs(cell.col - center.col);
        dc = std::min(dc, cols_ - dc);
        const int dr = std::abs(cell.row - center.row);
        if (std::max(dr, dc) < ring) continue;  // visited already
        for (const Entry& e : entries) consider(e);
      }
      return;
    }
    VisitRing(center, ring, [&](const std::vector<Entry>& entries) {
      for (const Entry& e : entries) consider(e);
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
      [&](const Entry& e) {
        const double d = DistanceKm(from, e.point);
        if (d > max_km) return;
        if (best.size() == k) {
          // Not better than the worst kept hit: drop it before copying the
          // id or calling the filter.
          const Hit& worst = best.top();
          if (d > worst.distance_km || (d == worst.distance_km && !(e.id < worst.id))) return;
        }
        if (filter && !filter(e.id, e.point)) return;
        best.push(Hit{e.id, e.point, d});
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
      [&](const Entry& e) {
        const double d = DistanceKm(from, e.point);
        if (d > radius_km) return;
        if (filter && !filter(e.id, e.point)) return;
        out.push_back(Hit{e.id, e.point, d});
      });
  std::sort(out.begin(), out.end(), HitLess);
  return out;
}

}  // namespace aftersales::geo
