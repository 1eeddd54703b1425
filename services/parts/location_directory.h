#ifndef AFTERSALES_SERVICES_PARTS_LOCATION_DIRECTORY_H_
#define AFTERSALES_SERVICES_PARTS_LOCATION_DIRECTORY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "aftersales/v1/parts.pb.h"
#include "geo/geo.h"
#include "parts/parts_repository.h"

namespace aftersales::parts {

// Every stock location in memory, with a geo grid index of their points:
// Reserve ranks a SKU's locations without a read per location, and
// GetAvailability with a radius asks the grid which locations are near.
// Loaded once at start; Upsert after each committed UpsertLocation.
// Thread-safe; lookups return copies.
class LocationDirectory {
 public:
  absl::Status Load(const PartsRepository& repo);
  void Upsert(const v1::StockLocation& location);
  std::optional<v1::StockLocation> Get(const std::string& location_id) const;
  // Locations within `radius_km` of `near`, nearest first, with distances.
  std::vector<std::pair<v1::StockLocation, double>> Within(const v1::GeoPoint& near,
                                                           double radius_km) const;
  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, v1::StockLocation> by_id_ ABSL_GUARDED_BY(mu_);
  geo::GridIndex grid_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aftersales::parts

#endif  // AFTERSALES_SERVICES_PARTS_LOCATION_DIRECTORY_H_
