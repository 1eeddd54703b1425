#ifndef AFTERSALES_LIBS_GEO_GEO_H_
#define AFTERSALES_LIBS_GEO_GEO_H_

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// Geography the services share (dispatch: engineers near an order; parts:
// stock near a service address). Pure computation on a spherical Earth: no
// I/O, no clock, no protobuf types, so any caller can convert its own points.
namespace aftersales::geo {

// Mean Earth radius (IUGG), km. A sphere is within 0.5% of the ellipsoid,
// far below the error of any road-distance estimate built on it.
inline constexpr double kEarthRadiusKm = 6371.0088;

// A WGS-84 position in degrees.
struct Point {
  double lat_deg = 0;  // [-90, 90]
  double lng_deg = 0;  // [-180, 180]
};

// True when both coordinates are finite and in range.
bool IsValid(const Point& p);

// Great-circle (haversine) distance in km; exact for the sphere and stable
// for tiny and antipodal distances. Longitudes wrap (179.9 and -179.9 are
// 0.2 degrees apart).
double DistanceKm(const Point& a, const Point& b);

// How roads and traffic stretch a straight line. Defaults: roads 1.3x the
// great-circle distance, 30 km/h average urban speed.
struct TravelModel {
  double road_factor = 1.3;  // >= 1
  double speed_kmh = 30.0;   // > 0
};

// distance_km * road_factor / speed_kmh, as a duration (never negative;
// absl::InfiniteDuration() if the model's speed is not positive).
absl::Duration EstimateTravelTime(double distance_km, const TravelModel& model = {});
absl::Duration EstimateTravelTime(const Point& from, const Point& to,
                                  const TravelModel& model = {});

// A point found by a GridIndex query, with its distance from the query point.
struct Hit {
  std::string id;
  Point point;
  double distance_km = 0;
};

// An in-memory spatial index of named points on a lat/lng grid, answering
// nearest-K and within-radius queries exactly (same results as a scan of
// every point, ordered by distance then id) while visiting only the grid
// cells near the query. Cells are `cell_deg` degrees square (default 0.25°,
// ~28 km north-south); the search walks square rings of cells outwards and
// stops once a lower bound on the distance of the next ring exceeds what is
// still needed, falling back to a scan when rings would cost more. Each cell
// stores its points' positions next to their ids, so a query reads cells
// sequentially and rejects far points without a per-id lookup; Nearest calls
// `filter` only on points nearer than the k-th best found so far (so a
// filter that fetches per-id data pays for that only near the query). Ids
// are unique: Upsert moves a point. Not thread-safe: callers guard it.
class GridIndex {
 public:
  explicit GridIndex(double cell_deg = 0.25);

  // Adds or moves `id`. Invalid points are ignored (returns false).
  bool Upsert(absl::string_view id, const Point& point);
  // Removes `id`; false if it was not indexed.
  bool Remove(absl::string_view id);
  std::optional<Point> Find(absl::string_view id) const;
  size_t size() const { return points_.size(); }

  // Keeps a candidate in a query's results when it returns true.
  using Filter = std::function<bool(absl::string_view id, const Point& point)>;

  // The `k` points nearest to `from` (at most `max_km` away; infinity = no
  // limit) that pass `filter`, nearest first (ties by id).
  std::vector<Hit> Nearest(const Point& from, size_t k,
                           double max_km = std::numeric_limits<double>::infinity(),
                           const Filter& filter = nullptr) const;

  // Every point within `radius_km` of `from` (inclusive) that passes
  // `filter`, nearest first (ties by id).
  std::vector<Hit> Within(const Point& from, double radius_km,
                          const Filter& filter = nullptr) const;

 private:
  struct Cell {
    int row = 0;  // latitude band
    int col = 0;  // longitude band (wraps)
    bool operator==(const Cell& o) const { return row == o.row && col == o.col; }
  };
  struct CellHash {
    size_t operator()(const Cell& c) const {
      return std::hash<long long>()((static_cast<long long>(c.row) << 32) ^
                                    static_cast<unsigned>(c.col));
    }
  };

  Cell CellOf(const Point& p) const;
  // Lower bound, in km, on the distance from `from` to any point in a cell
  // `ring` rings away from the query's cell.
  double RingLowerBoundKm(const Point& from, int ring) const;
  // One indexed point as a cell stores it: the position travels with the id
  // so a query never looks the id up elsewhere.
  struct Entry {
    std::string id;
    Point point;
  };
  // Visits the cells of one ring (ring 0 = the query's own cell); templates
  // defined and instantiated in geo.cc only (no std::function in the walk).
  template <typename Visit>
  void VisitRing(const Cell& center, int ring, const Visit& visit) const;
  // Walks rings until `done(lower_bound_of_next_ring)` or the grid is covered;
  // `consider` sees each candidate Entry once.
  template <typename Done, typename Consider>
  void Search(const Point& from, const Done& done, const Consider& consider) const;

  double cell_deg_;
  int rows_, cols_;
  std::unordered_map<std::string, Point> points_;  // Find / Remove / size
  std::unordered_map<Cell, std::vector<Entry>, CellHash> cells_;
};

}  // namespace aftersales::geo

#endif  // AFTERSALES_LIBS_GEO_GEO_H_
