#include "parts/domain/policy.h"

#include <cmath>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::parts::domain {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

absl::StatusOr<v1::PartsPolicy> ParsePartsPolicy(absl::string_view text_proto) {
  v1::PartsPolicy policy;
  if (absl::Status s = server::ParseTextPolicy(text_proto, &policy); !s.ok()) return s;
  if (absl::Status s = ValidatePartsPolicy(policy); !s.ok()) return s;
  return policy;
}

absl::Status ValidatePartsPolicy(const v1::PartsPolicy& policy) {
  absl::Status s = rpc::Validator()
                       .Id("ref.name", policy.ref().name(), 64)
                       .Id("ref.version", policy.ref().version(), 64)
                       .status();
  if (!s.ok()) return s;
  if (!policy.has_reservation_ttl()) return Invalid("reservation_ttl", "required");
  const auto& ttl = policy.reservation_ttl();
  const bool well_formed = ttl.nanos() > -1000000000 && ttl.nanos() < 1000000000 &&
                           !(ttl.seconds() > 0 && ttl.nanos() < 0) &&
                           !(ttl.seconds() < 0 && ttl.nanos() > 0);
  if (!well_formed || rpc::FromProto(ttl) < absl::Minutes(1) ||
      rpc::FromProto(ttl) > absl::Hours(24 * 30)) {
    return Invalid("reservation_ttl", "must be in [1 min, 30 days]");
  }
  if (policy.search_order_size() == 0) return Invalid("search_order", "required");
  if (policy.search_order_size() > 4) return Invalid("search_order", "at most 4 kinds");
  absl::flat_hash_set<int> kinds;
  for (int i = 0; i < policy.search_order_size(); ++i) {
    const int k = policy.search_order(i);
    const std::string field = absl::StrCat("search_order[", i, "]");
    if (k == v1::LOCATION_KIND_UNSPECIFIED || !v1::LocationKind_IsValid(k)) {
      return Invalid(field, "must be a known location kind");
    }
    if (!kinds.insert(k).second) return Invalid(field, "duplicate kind");
  }
  const double radius = policy.max_search_radius_km();
  if (!std::isfinite(radius) || radius < 0 || radius > 20100) {
    return Invalid("max_search_radius_km", "must be in [0, 20100] km (0 = unlimited)");
  }
  if (policy.regions_size() > 10000) return Invalid("regions", "at most 10000 regions");
  absl::flat_hash_set<std::string> codes;
  for (int i = 0; i < policy.regions_size(); ++i) {
    const auto& r = policy.regions(i);
    const std::string field = absl::StrCat("regions[", i, "]");
    rpc::Validator v;
    v.Id(field + ".region_code", r.region_code(), 32)
        .Check(field + ".neighbour_regions", r.neighbour_regions_size() <= 32,
               "at most 32 regions");
    for (int j = 0; j < r.neighbour_regions_size(); ++j) {
      v.Id(absl::StrCat(field, ".neighbour_regions[", j, "]"), r.neighbour_regions(j), 32);
    }
    if (!v.status().ok()) return v.status();
    if (!codes.insert(r.region_code()).second) {
      return Invalid(field + ".region_code",
                     absl::StrCat("duplicate region \"", r.region_code(), "\""));
    }
  }
  return absl::OkStatus();
}

absl::Duration ReservationTtl(const v1::PartsPolicy& policy) {
  return rpc::FromProto(policy.reservation_ttl());
}

std::set<std::string> SearchRegions(const v1::PartsPolicy& policy,
                                    absl::string_view region_code) {
  std::set<std::string> out = {std::string(region_code)};
  for (const auto& r : policy.regions()) {
    if (r.region_code() != region_code) continue;
    out.insert(r.neighbour_regions().begin(), r.neighbour_regions().end());
  }
  return out;
}

}  // namespace aftersales::parts::domain
