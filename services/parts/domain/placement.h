#ifndef AFTERSALES_SERVICES_PARTS_DOMAIN_PLACEMENT_H_
#define AFTERSALES_SERVICES_PARTS_DOMAIN_PLACEMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aftersales/v1/common.pb.h"
#include "aftersales/v1/parts.pb.h"

// Where a reservation is taken from (SPEC §4 "nearest location with
// available stock: van -> outlet -> regional -> central").
//
// Decision — kind first, then distance: locations are ranked by the
// position of their kind in the policy's search_order (default VAN,
// OUTLET, REGIONAL, CENTRAL), then by great-circle distance from the
// service point, then by id. A nearer regional warehouse never beats an
// outlet that has the part: the kinds express how fast and how cheaply the
// part reaches the engineer, the distance breaks ties inside a kind.
//
// Eligibility (all must hold):
//   - the location is active and its kind is in search_order;
//   - an ENGINEER_VAN serves only its own engineer's orders (the request's
//     engineer_id): another engineer's van is their working stock;
//   - with a region_code, the location is in that region or one of its
//     policy neighbours; CENTRAL warehouses serve every region;
//   - with policy max_search_radius_km > 0, the location is within it;
//     CENTRAL warehouses ship nationwide and are exempt.
// A reservation is taken whole from one location: if no single eligible
// location has the full quantity available, the request is backordered.
namespace aftersales::parts::domain {

// What a reservation or backorder needs from a location.
struct Need {
  v1::GeoPoint near;
  std::string region_code;  // empty = any region
  std::string engineer_id;  // whose van may serve it; empty = no van
  int64_t quantity = 0;
};

// A location holding the SKU, with its available units there.
struct Candidate {
  v1::StockLocation location;
  int64_t available = 0;
};

struct Ranked {
  v1::StockLocation location;
  int64_t available = 0;
  double distance_km = 0;
  int kind_rank = 0;  // index in search_order
};

// Whether `location` may serve `need` under `policy` (quantity not checked).
// `distance_km` is the great-circle distance from need.near.
bool Eligible(const v1::StockLocation& location, const Need& need,
              const v1::PartsPolicy& policy, double distance_km);

// Eligible candidates with available >= need.quantity, best first.
std::vector<Ranked> RankLocations(const std::vector<Candidate>& candidates, const Need& need,
                                  const v1::PartsPolicy& policy);

// Great-circle km between two proto points.
double DistanceKm(const v1::GeoPoint& a, const v1::GeoPoint& b);

}  // namespace aftersales::parts::domain

#endif  // AFTERSALES_SERVICES_PARTS_DOMAIN_PLACEMENT_H_
