#ifndef AFTERSALES_SERVICES_SATISFACTION_DOMAIN_AGGREGATE_H_
#define AFTERSALES_SERVICES_SATISFACTION_DOMAIN_AGGREGATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aftersales/v1/satisfaction.pb.h"

// Scorecards (SPEC §6) from daily bucket counters. A survey counts in the
// bucket of the local day its order was confirmed repaired, for each of its
// four keys (engineer, partner, region, category); windows are sums of whole
// local days: rolling N days = today and the N-1 days before it, a calendar
// week = Monday 00:00 to the next Monday 00:00. Pure functions.
namespace aftersales::satisfaction::domain {

// Days since 1970-01-01 of a civil day (the bucket key).
int64_t DayNumber(absl::CivilDay day);
absl::CivilDay DayFromNumber(int64_t n);
absl::CivilDay LocalDay(absl::Time t, const absl::TimeZone& zone);

// Bucket updates, one per survey event.
void CountScheduled(v1::SatisfactionBucket& b);
void CountSent(v1::SatisfactionBucket& b);
void CountExpired(v1::SatisfactionBucket& b);
// An answer; `sent_before` false means it was answered while SCHEDULED and
// is sent now as well.
void CountAnswer(v1::SatisfactionBucket& b, const v1::SurveyResponse& response, bool sent_before,
                 bool detractor_rule, bool deep_follow_up, bool not_solved, bool five_star);
// Adds `b` into `sum`.
void AddInto(v1::SatisfactionBucket& sum, const v1::SatisfactionBucket& b);

// A window as local days [first, end) and the instants of its edges.
struct Window {
  absl::CivilDay first;
  absl::CivilDay end;  // exclusive
  absl::Time start;    // local midnight starting `first`
  absl::Time stop;     // local midnight starting `end`
};

// The window `kind` at `now` in `zone`. CALENDAR_WEEK takes `week_start`
// (a Monday) when set, else the week containing now. INVALID_ARGUMENT
// "week_start: ..." for a date that is not a valid Monday, or
// "window: ..." for UNSPECIFIED/unknown kinds.
absl::StatusOr<Window> WindowFor(v1::AggregationWindow kind, const v1::CalendarDate* week_start,
                                 absl::Time now, const absl::TimeZone& zone);

// The Monday on or before `day`.
absl::CivilDay MondayOf(absl::CivilDay day);

// Satisfaction index 0..100 of dimension sums over `responses` answers:
// the weighted mean of the six means, scaled 1 -> 0 and 5 -> 100. 0 when
// there are no responses.
double SatisfactionIndex(const v1::SatisfactionBucket& sum, const v1::SatisfactionPolicy& policy);

// Fills the counts and ratios of `card` from `sum` (CSAT% = share of 4..5,
// NPS = %promoters - %detractors, coverage = responses / eligible, response
// rate = responses / sent; all 0 without a denominator).
void FillScorecard(const v1::SatisfactionBucket& sum, const v1::SatisfactionPolicy& policy,
                   v1::Scorecard& card);

}  // namespace aftersales::satisfaction::domain

#endif  // AFTERSALES_SERVICES_SATISFACTION_DOMAIN_AGGREGATE_H_
