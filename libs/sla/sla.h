#ifndef AFTERSALES_LIBS_SLA_SLA_H_
#define AFTERSALES_LIBS_SLA_SLA_H_

#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "aftersales/v1/common.pb.h"

// SLA clocks on service-hour calendars (SPEC §2.4, §5), shared by intake and
// complaint. Pure functions of records and a given time: no clock reads, no
// I/O. Budgets, pauses and lateness are measured in the clock's own calendar
// time (service time for SERVICE_HOURS, wall time for WALL_24X7); deadlines
// and timestamps are absolute instants.
namespace aftersales::sla {

// When service time counts: every second (24x7), or only inside the region's
// daily service hours in its time zone, skipping its holidays.
class Calendar {
 public:
  // Every second counts.
  static Calendar Wall24x7();

  // The region's service hours. INVALID_ARGUMENT naming the field for an
  // unknown time zone ("time_zone: ..."), minutes outside [0, 1440] or
  // start >= end ("service_start_minute: ..." / "service_end_minute: ..."), or
  // an invalid holiday date ("holidays[i]: ...", year 1900..9999). Defaults:
  // 08:00-20:00 when both minutes are 0; "Asia/Shanghai" when the time zone is
  // empty. Each local day's hours are [start, end) local time, converted per
  // day (DST-aware, absl::FromCivil); end 1440 is the next local midnight.
  static absl::StatusOr<Calendar> ForRegion(const v1::RegionPolicy& region);

  // The calendar a clock of kind `calendar` uses in `region`: WALL_24X7 ignores
  // the region (it is not validated); SERVICE_HOURS is ForRegion(region);
  // UNSPECIFIED is INVALID_ARGUMENT ("calendar: ...").
  static absl::StatusOr<Calendar> For(v1::SlaCalendar calendar,
                                      const v1::RegionPolicy& region);

  bool always_open() const { return always_open_; }

  // Calendar time inside [from, to); zero when to <= from. Cost: one step per
  // local day spanned (never per minute).
  absl::Duration Elapsed(absl::Time from, absl::Time to) const;

  // The earliest instant t >= start with Elapsed(start, t) == budget. For a
  // zero (or negative) budget that is `start` itself, even outside service
  // hours. A budget that ends exactly at closing time gives the closing
  // instant, not the next opening. InfiniteDuration gives InfiniteFuture.
  absl::Time Add(absl::Time start, absl::Duration budget) const;

  // True if `t` is inside service hours.
  bool IsOpen(absl::Time t) const;

 private:
  Calendar() = default;
  // Service interval [open, close) of the local day `day`, or nullopt on a
  // holiday.
  std::optional<std::pair<absl::Time, absl::Time>> ServiceInterval(
      absl::CivilDay day) const;
  bool IsHoliday(absl::CivilDay day) const;

  bool always_open_ = true;
  absl::TimeZone zone_;
  int start_minute_ = 0;
  int end_minute_ = 1440;
  std::vector<absl::CivilDay> holidays_;  // sorted
};

// Starts a clock of `kind` at `start` with `budget` on `calendar`: outcome
// RUNNING, deadline = calendar.Add(start, budget), paused = 0. A negative
// budget is stored as zero. `calendar` must match `calendar_kind` (see For).
v1::SlaClock StartClock(v1::SlaClockKind kind, v1::SlaCalendar calendar_kind,
                        absl::Duration budget, absl::Time start,
                        const v1::PolicyRef& policy, const Calendar& calendar);

// Customer-caused pause (only those pause clocks). No-op unless RUNNING, not
// stopped and not already paused (BREACHED clocks keep their outcome and are
// not paused). While paused the clock is frozen: Evaluate skips it, NextCheck
// is InfiniteFuture and Lateness stays at its value at paused_since.
void Pause(v1::SlaClock& clock, absl::Time now);

// Ends a pause: adds the calendar time of [paused_since, now) to `paused`
// and moves the deadline: deadline = calendar.Add(started_at, budget + paused)
// (or window_end when set and later). No-op when not paused. A pause spent
// entirely outside service hours adds nothing.
void Resume(v1::SlaClock& clock, absl::Time now, const Calendar& calendar);

// The stop event: resumes if paused, sets stopped_at; outcome MET if the stop
// is at or before the deadline (which already includes a later booked
// window_end, see SetWindowEnd), else BREACHED (breached_at = deadline,
// keeping breached_at if already set); lateness = calendar time from deadline
// to stop (zero when met). The outcome is judged by the stop time alone: a
// clock a sweep already marked BREACHED becomes MET (breached_at cleared) when
// the stop is at or before the deadline (e.g. exactly at it, or an offline
// report's earlier device time). A clock that already stopped (stopped_at set,
// or MET/CANCELLED/never started) is left unchanged.
void Stop(v1::SlaClock& clock, absl::Time now, const Calendar& calendar);

// The order/complaint was cancelled before the stop event: a RUNNING clock
// becomes CANCELLED (stopped_at = now; an open pause is closed without being
// measured: a cancelled clock is not judged). A BREACHED clock stays BREACHED
// but gets stopped_at = now, so its lateness stops growing (the stored
// `lateness` field is left as the last Evaluate wrote it; Lateness() gives the
// final value). A clock that already stopped is left unchanged.
void Cancel(v1::SlaClock& clock, absl::Time now);

// A priority change: new budget, deadline recomputed from started_at with the
// accumulated pause kept (and a later window_end kept). Only RUNNING clocks
// change: stopped and BREACHED clocks keep budget, deadline and outcome (a
// breach is never undone by a priority change). at_risk (and at_risk_at) is
// cleared if the new deadline puts the clock back under the threshold at
// `now` (at paused_since while paused); it is never set here: the next
// Evaluate reports at-risk and breach transitions. The calendar kind and the
// policy ref are not changed: a caller moving a clock to or from EMERGENCY
// (24x7) sets `calendar`/`policy` itself and passes the matching Calendar.
void Rebudget(v1::SlaClock& clock, absl::Duration budget, absl::Time now,
              double at_risk_fraction, const Calendar& calendar);

// Arrival judged against a booked appointment window: the deadline becomes the
// window end if later than the computed deadline (an appointment never makes
// the promise stricter). window_end is recorded on the clock. The computed
// deadline is recomputed from started_at, budget and pauses, so booking a new
// (earlier) window replaces an older one. A BREACHED clock records window_end
// but keeps its deadline and outcome; a stopped clock is left unchanged.
void SetWindowEnd(v1::SlaClock& clock, absl::Time window_end,
                  const Calendar& calendar);

// What a sweep at `now` found on one clock.
struct Transition {
  bool became_at_risk = false;   // crossed at_risk_fraction of its budget
  bool became_breached = false;  // crossed its deadline
};

// Marks a RUNNING, unpaused clock at risk (used calendar time >=
// at_risk_fraction x budget; at_risk_at = the instant that happened) and
// BREACHED (now >= deadline; breached_at = deadline, lateness = calendar time
// from the deadline to now). Each happens once; a sweep that is late past the
// deadline reports both transitions at once. Precisely, "at risk" means the
// calendar time left to the deadline is <= (1 - fraction) x budget; without a
// booked window that is the same as used >= fraction x budget, with a window
// that moved the deadline later it warns relative to the window end. The
// fraction is clamped to [0, 1] (NaN = 1). On a BREACHED clock that has not
// stopped, Evaluate only refreshes `lateness` to `now` (no transition).
Transition Evaluate(v1::SlaClock& clock, absl::Time now, double at_risk_fraction,
                    const Calendar& calendar);

// When a sweeper must next look at this clock: its at-risk instant if not yet
// at risk, else its deadline; absl::InfiniteFuture() if stopped, paused or
// breached. The instant may be in the past (a sweep is due now). Evaluate at
// exactly the returned instant makes the transition.
absl::Time NextCheck(const v1::SlaClock& clock, double at_risk_fraction,
                     const Calendar& calendar);

// Calendar time past the deadline at `now` (or at stopped_at if stopped, or at
// paused_since while paused), minus nothing: pauses already moved the
// deadline. Zero if not late, and for MET, CANCELLED and never-started clocks.
absl::Duration Lateness(const v1::SlaClock& clock, absl::Time now,
                        const Calendar& calendar);

}  // namespace aftersales::sla

#endif  // AFTERSALES_LIBS_SLA_SLA_H_
