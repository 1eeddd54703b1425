#include "sla/sla.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "rpc/rpc.h"

namespace aftersales::sla {
namespace {

constexpr int kMinutesPerDay = 1440;
constexpr int kDefaultStartMinute = 8 * 60;
constexpr int kDefaultEndMinute = 20 * 60;
constexpr absl::string_view kDefaultTimeZone = "Asia/Shanghai";

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool ValidDate(const v1::CalendarDate& d) {
  if (d.year() < 1900 || d.year() > 9999) return false;
  if (d.month() < 1 || d.month() > 12) return false;
  if (d.day() < 1 || d.day() > 31) return false;
  // CivilDay normalizes out-of-range days (Feb 30 -> Mar 2): a round trip
  // that changes the fields means the date does not exist.
  const absl::CivilDay day(d.year(), d.month(), d.day());
  return day.year() == d.year() && day.month() == d.month() &&
         day.day() == d.day();
}

double NormalizeFraction(double fraction) {
  if (std::isnan(fraction)) return 1.0;
  return std::clamp(fraction, 0.0, 1.0);
}

absl::Time StartedAt(const v1::SlaClock& c) {
  return rpc::FromProto(c.started_at());
}
absl::Time DeadlineOf(const v1::SlaClock& c) {
  return rpc::FromProto(c.deadline());
}
absl::Duration BudgetOf(const v1::SlaClock& c) {
  return std::max(rpc::FromProto(c.budget()), absl::ZeroDuration());
}
absl::Duration PausedOf(const v1::SlaClock& c) {
  return std::max(rpc::FromProto(c.paused()), absl::ZeroDuration());
}

// Started and not yet stopped, whatever the judgement so far.
bool Live(const v1::SlaClock& c) {
  return !c.has_stopped_at() && (c.outcome() == v1::SLA_OUTCOME_RUNNING ||
                                 c.outcome() == v1::SLA_OUTCOME_BREACHED);
}
bool Running(const v1::SlaClock& c) {
  return !c.has_stopped_at() && c.outcome() == v1::SLA_OUTCOME_RUNNING;
}

// The deadline from the record's start, budget, accumulated pause and booked
// window: an appointment only ever makes the deadline later.
absl::Time ComputeDeadline(const v1::SlaClock& c, const Calendar& calendar) {
  absl::Time deadline =
      calendar.Add(StartedAt(c), BudgetOf(c) + PausedOf(c));
  if (c.has_window_end()) {
    deadline = std::max(deadline, rpc::FromProto(c.window_end()));
  }
  return deadline;
}

// The earliest instant at which the calendar time left to the deadline is at
// most (1 - fraction) x budget. Without a window extending the deadline this
// is calendar.Add(started_at, fraction x budget + paused).
absl::Time AtRiskInstant(const v1::SlaClock& c, double fraction,
                         const Calendar& calendar) {
  const absl::Time start = StartedAt(c);
  const absl::Duration total = calendar.Elapsed(start, DeadlineOf(c));
  const absl::Duration reserve = BudgetOf(c) * (1.0 - NormalizeFraction(fraction));
  const absl::Duration used =
      std::clamp(total - reserve, absl::ZeroDuration(), total);
  return calendar.Add(start, used);
}

// The instant the clock's own time stands at: `now`, or the start of an open
// pause (a paused clock is frozen).
absl::Time ClockNow(const v1::SlaClock& c, absl::Time now) {
  if (c.has_paused_since()) {
    return std::min(now, rpc::FromProto(c.paused_since()));
  }
  return now;
}

}  // namespace

// ---------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------

Calendar Calendar::Wall24x7() {
  Calendar calendar;
  calendar.always_open_ = true;
  calendar.zone_ = absl::UTCTimeZone();
  return calendar;
}

absl::StatusOr<Calendar> Calendar::ForRegion(const v1::RegionPolicy& region) {
  Calendar calendar;
  calendar.always_open_ = false;

  const std::string zone_name =
      region.time_zone().empty() ? std::string(kDefaultTimeZone)
                                 : region.time_zone();
  if (!absl::LoadTimeZone(absl::string_view(zone_name), &calendar.zone_)) {
    return Invalid("time_zone",
                   absl::StrCat("unknown time zone \"", zone_name, "\""));
  }

  int start = region.service_start_minute();
  int end = region.service_end_minute();
  if (start == 0 && end == 0) {
    start = kDefaultStartMinute;
    end = kDefaultEndMinute;
  }
  if (start < 0 || start > kMinutesPerDay) {
    return Invalid("service_start_minute",
                   absl::StrCat("must be in [0, 1440], got ", start));
  }
  if (end < 0 || end > kMinutesPerDay) {
    return Invalid("service_end_minute",
                   absl::StrCat("must be in [0, 1440], got ", end));
  }
  if (start >= end) {
    return Invalid("service_end_minute",
                   absl::StrCat("must be after service_start_minute (", end,
                                " <= ", start, ")"));
  }
  calendar.start_minute_ = start;
  calendar.end_minute_ = end;

  calendar.holidays_.reserve(region.holidays_size());
  for (int i = 0; i < region.holidays_size(); ++i) {
    const v1::CalendarDate& d = region.holidays(i);
    if (!ValidDate(d)) {
      return Invalid(absl::StrCat("holidays[", i, "]"),
                     absl::StrCat("invalid date ", d.year(), "-", d.month(),
                                  "-", d.day()));
    }
    calendar.holidays_.emplace_back(d.year(), d.month(), d.day());
  }
  std::sort(calendar.holidays_.begin(), calendar.holidays_.end());
  calendar.holidays_.erase(
      std::unique(calendar.holidays_.begin(), calendar.holidays_.end()),
      calendar.holidays_.end());
  return calendar;
}

absl::StatusOr<Calendar> Calendar::For(v1::SlaCalendar calendar,
                                       const v1::RegionPolicy& region) {
  switch (calendar) {
    case v1::SLA_CALENDAR_WALL_24X7:
      return Wall24x7();
    case v1::SLA_CALENDAR_SERVICE_HOURS:
      return ForRegion(region);
    default:
      return Invalid("calendar",
                     absl::StrCat("must be WALL_24X7 or SERVICE_HOURS, got ",
                                  static_cast<int>(calendar)));
  }
}

bool Calendar::IsHoliday(absl::CivilDay day) const {
  return std::binary_search(holidays_.begin(), holidays_.end(), day);
}

std::optional<std::pair<absl::Time, absl::Time>> Calendar::ServiceInterval(
    absl::CivilDay day) const {
  if (IsHoliday(day)) return std::nullopt;
  const absl::CivilMinute midnight(day);
  // FromCivil is order-preserving across DST gaps and overlaps, so
  // open <= close always holds; an end of 1440 is the next local midnight.
  const absl::Time open = absl::FromCivil(midnight + start_minute_, zone_);
  const absl::Time close = absl::FromCivil(midnight + end_minute_, zone_);
  return std::make_pair(open, close);
}

absl::Duration Calendar::Elapsed(absl::Time from, absl::Time to) const {
  if (to <= from) return absl::ZeroDuration();
  if (always_open_) return to - from;
  if (from == absl::InfinitePast() || to == absl::InfiniteFuture()) {
    return absl::InfiniteDuration();
  }
  absl::Duration total = absl::ZeroDuration();
  // Start one day early: a previous local day's hours may reach past midnight
  // in odd zones; the extra step costs nothing when they do not.
  const absl::CivilDay last = absl::ToCivilDay(to, zone_);
  for (absl::CivilDay day = absl::ToCivilDay(from, zone_) - 1; day <= last;
       ++day) {
    const auto interval = ServiceInterval(day);
    if (!interval) continue;
    const absl::Time lo = std::max(interval->first, from);
    const absl::Time hi = std::min(interval->second, to);
    if (hi > lo) total += hi - lo;
  }
  return total;
}

absl::Time Calendar::Add(absl::Time start, absl::Duration budget) const {
  if (budget <= absl::ZeroDuration()) return start;
  if (budget == absl::InfiniteDuration() || start == absl::InfiniteFuture()) {
    return absl::InfiniteFuture();
  }
  if (always_open_) return start + budget;
  if (start == absl::InfinitePast()) return start;
  absl::Duration remaining = budget;
  for (absl::CivilDay day = absl::ToCivilDay(start, zone_) - 1;; ++day) {
    const auto interval = ServiceInterval(day);
    if (!interval || interval->second <= start) continue;
    const absl::Time from = std::max(interval->first, start);
    const absl::Duration available = interval->second - from;
    if (remaining <= available) return from + remaining;
    remaining -= available;
  }
}

bool Calendar::IsOpen(absl::Time t) const {
  if (always_open_) return true;
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return false;
  const absl::CivilDay day = absl::ToCivilDay(t, zone_);
  for (absl::CivilDay d = day - 1; d <= day; ++d) {
    const auto interval = ServiceInterval(d);
    if (interval && interval->first <= t && t < interval->second) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------

v1::SlaClock StartClock(v1::SlaClockKind kind, v1::SlaCalendar calendar_kind,
                        absl::Duration budget, absl::Time start,
                        const v1::PolicyRef& policy, const Calendar& calendar) {
  budget = std::max(budget, absl::ZeroDuration());
  v1::SlaClock clock;
  clock.set_kind(kind);
  clock.set_calendar(calendar_kind);
  *clock.mutable_started_at() = rpc::ToProto(start);
  *clock.mutable_budget() = rpc::ToProto(budget);
  *clock.mutable_deadline() = rpc::ToProto(calendar.Add(start, budget));
  *clock.mutable_paused() = rpc::ToProto(absl::ZeroDuration());
  clock.set_outcome(v1::SLA_OUTCOME_RUNNING);
  *clock.mutable_policy() = policy;
  return clock;
}

void Pause(v1::SlaClock& clock, absl::Time now) {
  if (!Running(clock) || clock.has_paused_since()) return;
  *clock.mutable_paused_since() = rpc::ToProto(now);
}

void Resume(v1::SlaClock& clock, absl::Time now, const Calendar& calendar) {
  if (!clock.has_paused_since()) return;
  const absl::Time since = rpc::FromProto(clock.paused_since());
  *clock.mutable_paused() =
      rpc::ToProto(PausedOf(clock) + calendar.Elapsed(since, now));
  clock.clear_paused_since();
  if (Running(clock)) {
    *clock.mutable_deadline() = rpc::ToProto(ComputeDeadline(clock, calendar));
  }
}

void Stop(v1::SlaClock& clock, absl::Time now, const Calendar& calendar) {
  if (!Live(clock)) return;
  Resume(clock, now, calendar);
  *clock.mutable_stopped_at() = rpc::ToProto(now);
  const absl::Time deadline = DeadlineOf(clock);
  if (now <= deadline) {
    clock.set_outcome(v1::SLA_OUTCOME_MET);
    clock.clear_breached_at();
    *clock.mutable_lateness() = rpc::ToProto(absl::ZeroDuration());
    return;
  }
  clock.set_outcome(v1::SLA_OUTCOME_BREACHED);
  if (!clock.has_breached_at()) {
    *clock.mutable_breached_at() = rpc::ToProto(deadline);
  }
  *clock.mutable_lateness() = rpc::ToProto(calendar.Elapsed(deadline, now));
}

void Cancel(v1::SlaClock& clock, absl::Time now) {
  if (!Live(clock)) return;
  *clock.mutable_stopped_at() = rpc::ToProto(now);
  if (clock.outcome() == v1::SLA_OUTCOME_RUNNING) {
    clock.set_outcome(v1::SLA_OUTCOME_CANCELLED);
    clock.clear_paused_since();
  }
}

void Rebudget(v1::SlaClock& clock, absl::Duration budget, absl::Time now,
              double at_risk_fraction, const Calendar& calendar) {
  if (!Running(clock)) return;
  *clock.mutable_budget() =
      rpc::ToProto(std::max(budget, absl::ZeroDuration()));
  *clock.mutable_deadline() = rpc::ToProto(ComputeDeadline(clock, calendar));
  if (clock.at_risk() &&
      ClockNow(clock, now) < AtRiskInstant(clock, at_risk_fraction, calendar)) {
    clock.set_at_risk(false);
    clock.clear_at_risk_at();
  }
}

void SetWindowEnd(v1::SlaClock& clock, absl::Time window_end,
                  const Calendar& calendar) {
  if (!Live(clock)) return;
  *clock.mutable_window_end() = rpc::ToProto(window_end);
  if (Running(clock)) {
    *clock.mutable_deadline() = rpc::ToProto(ComputeDeadline(clock, calendar));
  }
}

Transition Evaluate(v1::SlaClock& clock, absl::Time now,
                    double at_risk_fraction, const Calendar& calendar) {
  Transition transition;
  if (!Live(clock)) return transition;
  if (clock.outcome() == v1::SLA_OUTCOME_BREACHED) {
    *clock.mutable_lateness() = rpc::ToProto(Lateness(clock, now, calendar));
    return transition;
  }
  if (clock.has_paused_since()) return transition;
  if (!clock.at_risk()) {
    const absl::Time at_risk = AtRiskInstant(clock, at_risk_fraction, calendar);
    if (now >= at_risk) {
      clock.set_at_risk(true);
      *clock.mutable_at_risk_at() = rpc::ToProto(at_risk);
      transition.became_at_risk = true;
    }
  }
  const absl::Time deadline = DeadlineOf(clock);
  if (now >= deadline) {
    clock.set_outcome(v1::SLA_OUTCOME_BREACHED);
    *clock.mutable_breached_at() = rpc::ToProto(deadline);
    *clock.mutable_lateness() =
        rpc::ToProto(calendar.Elapsed(deadline, now));
    transition.became_breached = true;
  }
  return transition;
}

absl::Time NextCheck(const v1::SlaClock& clock, double at_risk_fraction,
                     const Calendar& calendar) {
  if (!Running(clock) || clock.has_paused_since()) {
    return absl::InfiniteFuture();
  }
  if (!clock.at_risk()) return AtRiskInstant(clock, at_risk_fraction, calendar);
  return DeadlineOf(clock);
}

absl::Duration Lateness(const v1::SlaClock& clock, absl::Time now,
                        const Calendar& calendar) {
  if (clock.outcome() != v1::SLA_OUTCOME_RUNNING &&
      clock.outcome() != v1::SLA_OUTCOME_BREACHED) {
    return absl::ZeroDuration();
  }
  const absl::Time at = clock.has_stopped_at()
                            ? rpc::FromProto(clock.stopped_at())
                            : ClockNow(clock, now);
  return calendar.Elapsed(DeadlineOf(clock), at);
}

}  // namespace aftersales::sla
