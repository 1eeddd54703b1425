#ifndef AFTERSALES_SERVICES_SATISFACTION_DOMAIN_SQI_H_
#define AFTERSALES_SERVICES_SATISFACTION_DOMAIN_SQI_H_

#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/satisfaction.pb.h"

// The Service Quality Index per region and local month (SPEC §6):
//   timeliness  (policy weight, 30%): on-time arrival rate, response
//               (first_contact) compliance rate — from SlaClockStopped;
//   technical   (25%): first-time-fix rate, diagnosis accuracy — from
//               OrderConfirmedRepaired;
//   experience  (35%): satisfaction index of the month's surveys, complaint
//               rate = complaints filed / orders created, scored
//               100 * (1 - rate / sqi_complaint_rate_at_zero), floored at 0;
//   data security (10%): 100 - incidents * sqi_incident_penalty, floored at
//               0 (no incident producer exists yet: always 100).
// A rate scores rate * 100; a part's score is the mean of its inputs that
// have data; a part without any is no_data and left out, the other weights
// renormalised. Pure functions.
namespace aftersales::satisfaction::domain {

// Counter updates from peer events; false when the event does not count.
bool CountSlaStopped(v1::SqiMonthCounters& c, const v1::SlaClockStopped& stopped);
void CountRepair(v1::SqiMonthCounters& c, const v1::OrderConfirmedRepaired& repaired);
void CountOrderCreated(v1::SqiMonthCounters& c);
void CountComplaint(v1::SqiMonthCounters& c);

// The region-month's SQI. `satisfaction` is the sum of the region's survey
// buckets over the month's local days (its index feeds experience).
v1::SqiScore ComputeSqi(const v1::SqiMonthCounters& counters,
                        const v1::SatisfactionBucket& satisfaction,
                        const v1::SatisfactionPolicy& policy, absl::Time now);

// Sorts by total descending (ties: region code ascending) and sets rank
// (1 = best) and ranked_regions.
void RankSqi(std::vector<v1::SqiScore>& scores);

// The local month containing `t`.
absl::CivilMonth LocalMonth(absl::Time t, const absl::TimeZone& zone);

}  // namespace aftersales::satisfaction::domain

#endif  // AFTERSALES_SERVICES_SATISFACTION_DOMAIN_SQI_H_
