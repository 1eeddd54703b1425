#ifndef AFTERSALES_SERVICES_PARTS_DOMAIN_POLICY_H_
#define AFTERSALES_SERVICES_PARTS_DOMAIN_POLICY_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aftersales/v1/parts.pb.h"

// The parts policy document (SPEC §4): reservation TTL, the location kind
// search order, the search radius and region neighbourhoods. Pure functions.
// The shipped default is deploy/policies/parts.textproto.
namespace aftersales::parts::domain {

// Parses text-format PartsPolicy and validates it completely: a syntax error
// is INVALID_ARGUMENT "policy: line L column C: ..."; a bad value names the
// field first, as ValidatePartsPolicy does. No hidden defaults.
absl::StatusOr<v1::PartsPolicy> ParsePartsPolicy(absl::string_view text_proto);

// OK, or INVALID_ARGUMENT naming the first bad field:
//   ref.name / ref.version: 1..64 printable ASCII;
//   reservation_ttl: [1 min, 30 days];
//   search_order: 1..4 distinct known kinds (kinds not listed are never
//     searched);
//   max_search_radius_km: finite, [0, 20100] (0 = unlimited);
//   regions: <= 10000, codes unique ids of 1..32 chars, <= 32 neighbours each.
absl::Status ValidatePartsPolicy(const v1::PartsPolicy& policy);

absl::Duration ReservationTtl(const v1::PartsPolicy& policy);

// The region itself and its neighbours from the policy (only the region
// when the policy does not list it).
std::set<std::string> SearchRegions(const v1::PartsPolicy& policy,
                                    absl::string_view region_code);

}  // namespace aftersales::parts::domain

#endif  // AFTERSALES_SERVICES_PARTS_DOMAIN_POLICY_H_
