#ifndef AFTERSALES_SERVICES_DISPATCH_DOMAIN_RANKING_H_
#define AFTERSALES_SERVICES_DISPATCH_DOMAIN_RANKING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/dispatch.pb.h"

// Who may take an order and who should (SPEC §3), as pure functions of
// records, the dispatch policy and `now`: no I/O, no clock reads.
namespace aftersales::dispatch::domain {

// The level an order needs: COMPLEX -> INTERMEDIATE; a rework -> one level
// above the engineer who did the reworked repair (SENIOR at most;
// INTERMEDIATE when that level is unknown); the higher of both; else JUNIOR.
v1::CertificationLevel RequiredLevel(const v1::DispatchOrder& order);

// The engineer's level for a category (UNSPECIFIED if no skill for it;
// the highest if several). Category codes compare exactly.
v1::CertificationLevel LevelFor(const v1::Engineer& engineer,
                                const std::string& appliance_category);

// True if the engineer's coverage (regions, circle, polygon: a union)
// contains the order's region code or its point.
bool Covers(const v1::CoverageArea& coverage, const v1::ServiceArea& area);

// The engineer's shift intervals (absolute, from weekly shifts and
// exceptions in the calendar's time zone) overlapping [from, to), earliest
// first, clipped to [from, to), touching or overlapping shifts merged (a
// night shift Sunday 22:00-24:00 + Monday 00:00-06:00 is one interval). An
// exception replaces (or, when `off`, cancels) its local date's weekly
// shifts. An empty calendar (no weekly shifts, no exceptions) means "always
// on shift"; a calendar whose time zone does not load has no shifts. At most
// 400 days after `from` are expanded.
std::vector<std::pair<absl::Time, absl::Time>> ShiftsBetween(
    const v1::ShiftCalendar& shifts, absl::Time from, absl::Time to);

// True if the engineer is on shift at some instant of [now, until).
bool OnShiftWithin(const v1::ShiftCalendar& shifts, absl::Time now, absl::Time until);

// Jobs the engineer holds or has been offered: active + queued + pending.
struct Load {
  int active = 0;
  int queued = 0;
  int pending_offers = 0;
  int jobs_today = 0;  // accepted today, for workload balance
};

// What ranking needs to know besides the engineer and the order.
struct Situation {
  absl::Time now;
  const v1::DispatchPolicy* policy = nullptr;
  const v1::Partner* partner = nullptr;  // the engineer's partner; null = unknown (not allowed)
  Load load;
  double peer_jobs_today = 0;     // mean jobs today of the order's candidates
  bool past_dispatch_deadline = false;  // backup pool and neighbour regions allowed
  bool neighbour_region = false;  // the engineer is considered from a neighbouring region
};

// Every hard constraint the engineer fails for the order (empty = eligible),
// in HardConstraint order:
//   SKILL_CATEGORY (no skill for the category; then level and brand are not
//   judged), CERTIFICATION_LEVEL (below RequiredLevel), BRAND (skill brands
//   — or, when empty, the partner's allowed brands — exclude the order's
//   brand, unless SENIOR and cross_brand; brands compare trimmed and
//   case-insensitively; an order without a brand passes), SHIFT (not on
//   shift within [now, arrival deadline); an order past its deadline, or
//   without one, needs the engineer on shift now),
//   COVERAGE (outside coverage; ignored for a neighbour-region candidate past
//   the dispatch deadline), CAPACITY (active + queued + pending offers >=
//   max_active + max_queued; policy default when unset), PREVIOUSLY_DECLINED
//   (in excluded_engineer_ids), PARTNER_NOT_ALLOWED (unknown partner, or its
//   allowed brands/regions exclude the order, or it is not the engineer's
//   partner_id), STATUS (SUSPENDED or
//   OFF_DUTY), REWORK_SAME_ENGINEER (the reworked repair's engineer),
//   BACKUP_POOL (a backup engineer before the dispatch deadline),
//   LOCATION_STALE (no location, or reported longer than
//   policy.location_stale_after before now).
// A null situation.policy means the SPEC §3 defaults.
std::vector<v1::HardConstraint> FailedConstraints(const v1::Engineer& engineer,
                                                  const v1::DispatchOrder& order,
                                                  const Situation& situation);

// Predicted arrival: now + queued work ((active + queued) x
// on_site_job_estimate; pending offers are not work) + travel (great-circle
// distance x road factor ÷ speed, libs/geo). Also fills distance. Without
// the engineer's or the order's point: distance 0, no travel.
struct Arrival {
  absl::Time at;
  double distance_km = 0;
  absl::Duration travel;
  absl::Duration queued_work;
};
Arrival PredictArrival(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                       const Situation& situation);

// The full explanation for one engineer: eligibility with the failed
// constraints, and for eligible ones every factor (raw value, unit,
// normalized [0,1], weight, contribution) and the total. Every candidate
// gets distance, predicted arrival and slack; only eligible ones factors:
//   ARRIVAL_SLACK: arrival deadline - predicted arrival in minutes (no
//     deadline = due now); normalized linearly from -60 min (0) to +120 min
//     (1), clamped.
//   RATING: (rating - 1) / 4; an unrated engineer (rating_count 0) counts as
//     the prior 4.0.
//   FIRST_TIME_FIX: the rate [0, 1].
//   WORKLOAD_BALANCE: 1 / (1 + max(0, jobs_today - peer_jobs_today)); raw
//     value = jobs_today.
//   PARTNER_PREFERENCE: partner.preference (0.5 when unset).
// rank is left 0 (Rank() sets it).
v1::Candidate Evaluate(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                       const Situation& situation);

// What Rank orders one candidate by, computed without building its
// explanation proto: a decision scores every candidate near the order and
// explains (Evaluate) only the ones it returns or offers. The numbers are
// exactly those Evaluate puts into the Candidate (same arithmetic, same
// order of summation), so RankedBefore orders Scores as Rank orders the
// Candidates they explain.
struct Score {
  const std::string* engineer_id = nullptr;  // points into the engineer record
  bool eligible = false;
  double total = 0;     // total_score (eligible only)
  absl::Duration slack;  // as the Candidate carries it (whole ns; 0 if arrival unknown)
  double rating = 0;     // raw factor values (eligible only)
  double first_time_fix = 0;
  double jobs_today = 0;
  double preference = 0;
};
Score ScoreOf(const v1::Engineer& engineer, const v1::DispatchOrder& order,
              const Situation& situation);
// True if every hard constraint passes (FailedConstraints(...).empty(), but
// stops at the first failure and allocates nothing).
bool Eligible(const v1::Engineer& engineer, const v1::DispatchOrder& order,
              const Situation& situation);
// Rank's order: eligible first; total desc; slack desc; rating, first-time
// fix desc; jobs today asc; preference desc; engineer id asc. Ineligible by id.
bool RankedBefore(const Score& a, const Score& b);

// Sorts candidates best first and numbers the eligible ones 1..n: eligible
// before ineligible; then total score desc; ties by slack desc, rating desc,
// first-time-fix desc, workload (raw jobs) asc, partner preference desc, and
// finally engineer id asc — so equal inputs always give the same order.
// Ineligible candidates follow by engineer id, rank 0.
void Rank(std::vector<v1::Candidate>& candidates);

// Which of two waiting orders gets capacity first: higher priority, then the
// earlier arrival deadline, then the earlier creation (unset instants last),
// then order id. A strict weak order: usable with std::sort.
bool ServedBefore(const v1::DispatchOrder& a, const v1::DispatchOrder& b);

// The offer timeout for the order's priority (policy: 5 min EMERGENCY, 10 min
// otherwise).
absl::Duration OfferTimeout(const v1::DispatchOrder& order,
                            const v1::DispatchPolicy& policy);

// Full validation of a dispatch policy document (INVALID_ARGUMENT naming the
// field), and parsing of its text format.
absl::Status ValidateDispatchPolicy(const v1::DispatchPolicy& policy);
absl::StatusOr<v1::DispatchPolicy> ParseDispatchPolicy(absl::string_view text);

// Validation of an engineer record as registered/updated by a partner
// (INVALID_ARGUMENT naming the field: "engineer.skills[0].level: required").
absl::Status ValidateEngineer(const v1::Engineer& engineer, absl::string_view field);

}  // namespace aftersales::dispatch::domain

#endif  // AFTERSALES_SERVICES_DISPATCH_DOMAIN_RANKING_H_
