#include "parts/domain/placement.h"

#include <algorithm>

#include "geo/geo.h"
#include "parts/domain/policy.h"

namespace aftersales::parts::domain {
namespace {

int KindRank(const v1::PartsPolicy& policy, v1::LocationKind kind) {
  for (int i = 0; i < policy.search_order_size(); ++i) {
    if (policy.search_order(i) == kind) return i;
  }
  return -1;
}

}  // namespace

double DistanceKm(const v1::GeoPoint& a, const v1::GeoPoint& b) {
  return geo::DistanceKm({a.lat_deg(), a.lng_deg()}, {b.lat_deg(), b.lng_deg()});
}

bool Eligible(const v1::StockLocation& loc, const Need& need, const v1::PartsPolicy& policy,
              double distance_km) {
  if (!loc.active()) return false;
  if (KindRank(policy, loc.kind()) < 0) return false;
  if (loc.kind() == v1::LOCATION_KIND_ENGINEER_VAN &&
      (need.engineer_id.empty() || loc.engineer_id() != need.engineer_id)) {
    return false;
  }
  if (loc.kind() == v1::LOCATION_KIND_CENTRAL_WAREHOUSE) return true;
  if (!need.region_code.empty() &&
      !SearchRegions(policy, need.region_code).count(loc.region_code())) {
    return false;
  }
  if (policy.max_search_radius_km() > 0 && distance_km > policy.max_search_radius_km()) {
    return false;
  }
  return true;
}

std::vector<Ranked> RankLocations(const std::vector<Candidate>& candidates, const Need& need,
                                  const v1::PartsPolicy& policy) {
  std::vector<Ranked> out;
  for (const Candidate& c : candidates) {
    if (c.available < need.quantity || c.available <= 0) continue;
    const double d = DistanceKm(need.near, c.location.point());
    if (!Eligible(c.location, need, policy, d)) continue;
    out.push_back({c.location, c.available, d, KindRank(policy, c.location.kind())});
  }
  std::sort(out.begin(), out.end(), [](const Ranked& a, const Ranked& b) {
    if (a.kind_rank != b.kind_rank) return a.kind_rank < b.kind_rank;
    if (a.distance_km != b.distance_km) return a.distance_km < b.distance_km;
    return a.location.location_id() < b.location.location_id();
  });
  return out;
}

}  // namespace aftersales::parts::domain
