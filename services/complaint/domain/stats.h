#ifndef AFTERSALES_SERVICES_COMPLAINT_DOMAIN_STATS_H_
#define AFTERSALES_SERVICES_COMPLAINT_DOMAIN_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aftersales/v1/complaint.pb.h"

// Complaint KPIs (SPEC §5): complaints per 1,000 orders by category, region
// or partner, acknowledge and resolution times, reopen rate, missed
// deadlines. Pure aggregation over records the caller selected.
namespace aftersales::complaint::domain {

// The key a complaint counts under when no region/partner is known.
inline constexpr char kNoKey[] = "(none)";

struct StatsEntry {
  const v1::Complaint* complaint;
  std::string key;  // category name (e.g. "FEE_DISPUTE"), region code or partner id
};

// One row per key, complaints descending (then key ascending). For each key:
// orders = orders_by_key[key] (0 if absent), per_thousand_orders =
// complaints x 1000 / orders (0 without orders), by_grade = G1..G4 counts,
// mean_acknowledge over acknowledged complaints (acknowledge clock start to
// stop), mean_resolve and p90_resolve (nearest rank) over complaints with a
// stopped first resolve clock (filing to first resolution), reopen_rate =
// complaints reopened at least once / complaints ever resolved (0 when none),
// breaches = clocks that missed their deadline.
std::vector<v1::ComplaintStatsRow> ComputeStats(
    const std::vector<StatsEntry>& entries, const std::map<std::string, int64_t>& orders_by_key);

// The category's short name used as a stats key: "FEE_DISPUTE".
std::string CategoryKey(v1::ComplaintCategory category);

}  // namespace aftersales::complaint::domain

#endif  // AFTERSALES_SERVICES_COMPLAINT_DOMAIN_STATS_H_
