#include "parts/location_directory.h"

namespace aftersales::parts {

absl::Status LocationDirectory::Load(const PartsRepository& repo) {
  std::vector<v1::StockLocation> all;
  absl::Status s = repo.ScanLocations([&](const v1::StockLocation& l) {
    all.push_back(l);
    return true;
  });
  if (!s.ok()) return s;
  for (const auto& l : all) Upsert(l);
  return absl::OkStatus();
}

void LocationDirectory::Upsert(const v1::StockLocation& l) {
  absl::MutexLock lock(&mu_);
  by_id_[l.location_id()] = l;
  grid_.Upsert(l.location_id(), {l.point().lat_deg(), l.point().lng_deg()});
}

std::optional<v1::StockLocation> LocationDirectory::Get(const std::string& id) const {
  absl::MutexLock lock(&mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<v1::StockLocation, double>> LocationDirectory::Within(
    const v1::GeoPoint& near, double radius_km) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<v1::StockLocation, double>> out;
  for (const geo::Hit& hit : grid_.Within({near.lat_deg(), near.lng_deg()}, radius_km)) {
    auto it = by_id_.find(hit.id);
    if (it != by_id_.end()) out.emplace_back(it->second, hit.distance_km);
  }
  return out;
}

size_t LocationDirectory::size() const {
  absl::MutexLock lock(&mu_);
  return by_id_.size();
}

}  // namespace aftersales::parts
