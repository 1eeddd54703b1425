#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "sla/sla.h"

namespace aftersales::sla {
namespace {

using absl::Hours;
using absl::Minutes;

absl::TimeZone Zone(const char* name) {
  absl::TimeZone zone;
  REQUIRE(absl::LoadTimeZone(name, &zone));
  return zone;
}

const absl::TimeZone& Shanghai() {
  static const absl::TimeZone zone = Zone("Asia/Shanghai");
  return zone;
}

// A local Shanghai instant (or in `zone`).
absl::Time T(int y, int mo, int d, int h, int mi,
             const absl::TimeZone& zone = Shanghai()) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), zone);
}

v1::CalendarDate Date(int y, int m, int d) {
  v1::CalendarDate date;
  date.set_year(y);
  date.set_month(m);
  date.set_day(d);
  return date;
}

// Labour-day holidays 2026-05-01..03 on the default 08:00-20:00 hours.
v1::RegionPolicy ShanghaiRegion() {
  v1::RegionPolicy region;
  region.set_region_code("CN-310000");
  region.set_city_tier(1);
  region.set_time_zone("Asia/Shanghai");
  *region.add_holidays() = Date(2026, 5, 3);  // unsorted on purpose
  *region.add_holidays() = Date(2026, 5, 1);
  *region.add_holidays() = Date(2026, 5, 2);
  return region;
}

Calendar ServiceHours() {
  auto calendar = Calendar::ForRegion(ShanghaiRegion());
  REQUIRE(calendar.ok());
  return *calendar;
}

const Calendar kWall = Calendar::Wall24x7();

v1::PolicyRef Policy() {
  v1::PolicyRef ref;
  ref.set_name("intake.sla");
  ref.set_version("2026-01-15.1");
  return ref;
}

v1::SlaClock Start(absl::Duration budget, absl::Time start,
                   const Calendar& calendar) {
  return StartClock(v1::SLA_CLOCK_KIND_ARRIVAL,
                    calendar.always_open() ? v1::SLA_CALENDAR_WALL_24X7
                                           : v1::SLA_CALENDAR_SERVICE_HOURS,
                    budget, start, Policy(), calendar);
}

absl::Time Deadline(const v1::SlaClock& c) { return rpc::FromProto(c.deadline()); }
absl::Duration Paused(const v1::SlaClock& c) { return rpc::FromProto(c.paused()); }

// ---------------------------------------------------------------------------
// Calendar construction
// ---------------------------------------------------------------------------

TEST_CASE("ForRegion rejects bad regions naming the field first") {
  struct Row {
    std::string name;
    v1::RegionPolicy region;
    std::string prefix;
  };
  std::vector<Row> rows;
  auto add = [&](std::string name, auto mutate, std::string prefix) {
    v1::RegionPolicy region = ShanghaiRegion();
    mutate(region);
    rows.push_back({std::move(name), region, std::move(prefix)});
  };
  add("unknown zone", [](v1::RegionPolicy& r) { r.set_time_zone("Mars/Base"); },
      "time_zone: unknown time zone \"Mars/Base\"");
  add("negative start",
      [](v1::RegionPolicy& r) {
        r.set_service_start_minute(-1);
        r.set_service_end_minute(600);
      },
      "service_start_minute: ");
  add("end past midnight",
      [](v1::RegionPolicy& r) {
        r.set_service_start_minute(480);
        r.set_service_end_minute(1441);
      },
      "service_end_minute: ");
  add("start == end",
      [](v1::RegionPolicy& r) {
        r.set_service_start_minute(600);
        r.set_service_end_minute(600);
      },
      "service_end_minute: ");
  add("start > end",
      [](v1::RegionPolicy& r) {
        r.set_service_start_minute(900);
        r.set_service_end_minute(600);
      },
      "service_end_minute: ");
  add("only start set (end 0 is not defaulted)",
      [](v1::RegionPolicy& r) { r.set_service_start_minute(600); },
      "service_end_minute: ");
  add("start 1440",
      [](v1::RegionPolicy& r) {
        r.set_service_start_minute(1440);
        r.set_service_end_minute(1440);
      },
      "service_end_minute: ");
  add("Feb 30", [](v1::RegionPolicy& r) { *r.add_holidays() = Date(2026, 2, 30); },
      "holidays[3]: invalid date");
  add("month 13", [](v1::RegionPolicy& r) { *r.mutable_holidays(0) = Date(2026, 13, 1); },
      "holidays[0]: invalid date");
  add("day 0", [](v1::RegionPolicy& r) { *r.mutable_holidays(1) = Date(2026, 1, 0); },
      "holidays[1]: invalid date");
  add("year 1800", [](v1::RegionPolicy& r) { *r.mutable_holidays(0) = Date(1800, 1, 1); },
      "holidays[0]: invalid date");
  add("Feb 29 in a common year",
      [](v1::RegionPolicy& r) { *r.add_holidays() = Date(2026, 2, 29); },
      "holidays[3]: invalid date");

  for (const Row& row : rows) {
    SECTION(row.name) {
      const auto calendar = Calendar::ForRegion(row.region);
      REQUIRE_FALSE(calendar.ok());
      CHECK(calendar.status().code() == absl::StatusCode::kInvalidArgument);
      INFO(calendar.status().message());
      CHECK(absl::StartsWith(calendar.status().message(), row.prefix));
    }
  }
}

TEST_CASE("ForRegion defaults: Asia/Shanghai, 08:00-20:00, leap day accepted") {
  v1::RegionPolicy region;  // everything empty
  *region.add_holidays() = Date(2028, 2, 29);
  const auto calendar = Calendar::ForRegion(region);
  REQUIRE(calendar.ok());
  CHECK_FALSE(calendar->always_open());
  CHECK_FALSE(calendar->IsOpen(T(2026, 3, 10, 7, 59)));
  CHECK(calendar->IsOpen(T(2026, 3, 10, 8, 0)));
  CHECK(calendar->IsOpen(T(2026, 3, 10, 19, 59)));
  CHECK_FALSE(calendar->IsOpen(T(2026, 3, 10, 20, 0)));
  CHECK_FALSE(calendar->IsOpen(T(2028, 2, 29, 12, 0)));
  CHECK(calendar->Elapsed(T(2026, 3, 10, 0, 0), T(2026, 3, 11, 0, 0)) == Hours(12));
}

TEST_CASE("ForRegion honours custom hours, whole-day hours and other zones") {
  v1::RegionPolicy region = ShanghaiRegion();
  region.set_service_start_minute(9 * 60 + 30);
  region.set_service_end_minute(18 * 60);
  auto calendar = Calendar::ForRegion(region);
  REQUIRE(calendar.ok());
  CHECK_FALSE(calendar->IsOpen(T(2026, 3, 10, 9, 29)));
  CHECK(calendar->IsOpen(T(2026, 3, 10, 9, 30)));
  CHECK_FALSE(calendar->IsOpen(T(2026, 3, 10, 18, 0)));
  CHECK(calendar->Elapsed(T(2026, 3, 10, 0, 0), T(2026, 3, 12, 0, 0)) ==
        Hours(17));

  region.set_service_start_minute(0);
  region.set_service_end_minute(1440);
  calendar = Calendar::ForRegion(region);
  REQUIRE(calendar.ok());
  CHECK_FALSE(calendar->always_open());  // holidays still close it
  CHECK(calendar->IsOpen(T(2026, 3, 10, 0, 0)));
  CHECK(calendar->IsOpen(T(2026, 3, 10, 23, 59)));
  CHECK_FALSE(calendar->IsOpen(T(2026, 5, 1, 12, 0)));
  CHECK(calendar->Elapsed(T(2026, 4, 30, 0, 0), T(2026, 5, 5, 0, 0)) == Hours(48));
  CHECK(calendar->Add(T(2026, 4, 30, 23, 0), Hours(2)) == T(2026, 5, 4, 1, 0));

  // UTC region: the same local hours are different instants.
  region = ShanghaiRegion();
  region.set_time_zone("UTC");
  calendar = Calendar::ForRegion(region);
  REQUIRE(calendar.ok());
  CHECK(calendar->IsOpen(T(2026, 3, 10, 8, 0, absl::UTCTimeZone())));
  CHECK_FALSE(calendar->IsOpen(T(2026, 3, 10, 8, 0)));  // 00:00 UTC
}

TEST_CASE("Calendar::For picks the calendar of the clock kind") {
  const auto wall = Calendar::For(v1::SLA_CALENDAR_WALL_24X7, ShanghaiRegion());
  REQUIRE(wall.ok());
  CHECK(wall->always_open());
  CHECK(wall->IsOpen(T(2026, 5, 1, 3, 0)));  // holiday night: 24x7 counts

  // A 24x7 clock does not depend on the region being valid.
  v1::RegionPolicy broken;
  broken.set_time_zone("Mars/Base");
  CHECK(Calendar::For(v1::SLA_CALENDAR_WALL_24X7, broken).ok());

  const auto service =
      Calendar::For(v1::SLA_CALENDAR_SERVICE_HOURS, ShanghaiRegion());
  REQUIRE(service.ok());
  CHECK_FALSE(service->always_open());
  CHECK_FALSE(service->IsOpen(T(2026, 5, 1, 12, 0)));

  const auto bad = Calendar::For(v1::SLA_CALENDAR_SERVICE_HOURS, broken);
  REQUIRE_FALSE(bad.ok());
  CHECK(absl::StartsWith(bad.status().message(), "time_zone: "));

  const auto unspecified =
      Calendar::For(v1::SLA_CALENDAR_UNSPECIFIED, ShanghaiRegion());
  REQUIRE_FALSE(unspecified.ok());
  CHECK(unspecified.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(unspecified.status().message(), "calendar: "));
}

// ---------------------------------------------------------------------------
// Calendar arithmetic
// ---------------------------------------------------------------------------

TEST_CASE("Calendar::Add on service hours and 24x7") {
  const Calendar service = ServiceHours();
  struct Row {
    const char* name;
    const Calendar* calendar;
    absl::Time start;
    absl::Duration budget;
    absl::Time want;
  };
  const Row rows[] = {
      {"inside hours", &service, T(2026, 3, 10, 10, 0), Hours(2), T(2026, 3, 10, 12, 0)},
      {"19:50 + 15 min spills to 08:05", &service, T(2026, 3, 10, 19, 50), Minutes(15),
       T(2026, 3, 11, 8, 5)},
      {"ending exactly at closing is closing", &service, T(2026, 3, 10, 19, 50),
       Minutes(10), T(2026, 3, 10, 20, 0)},
      {"starting at closing", &service, T(2026, 3, 10, 20, 0), Minutes(1),
       T(2026, 3, 11, 8, 1)},
      {"06:00 before opening + 2 h", &service, T(2026, 3, 10, 6, 0), Hours(2),
       T(2026, 3, 10, 10, 0)},
      {"23:30 after closing + 1 h", &service, T(2026, 3, 10, 23, 30), Hours(1),
       T(2026, 3, 11, 9, 0)},
      {"zero budget outside hours is the start", &service, T(2026, 3, 10, 23, 0),
       absl::ZeroDuration(), T(2026, 3, 10, 23, 0)},
      {"negative budget is the start", &service, T(2026, 3, 10, 23, 0), Minutes(-5),
       T(2026, 3, 10, 23, 0)},
      {"start on a holiday counts from the next open day", &service,
       T(2026, 5, 1, 10, 0), Minutes(30), T(2026, 5, 4, 8, 30)},
      {"spanning a holiday block", &service, T(2026, 4, 30, 19, 0), Hours(2),
       T(2026, 5, 4, 9, 0)},
      {"12 h = one full service day", &service, T(2026, 3, 10, 8, 0), Hours(12),
       T(2026, 3, 10, 20, 0)},
      {"24 h from noon", &service, T(2026, 3, 10, 12, 0), Hours(24),
       T(2026, 3, 12, 12, 0)},
      {"7 days = 14 service days", &service, T(2026, 3, 10, 8, 0), Hours(168),
       T(2026, 3, 23, 20, 0)},
      {"30 days = 60 service days", &service, T(2026, 3, 1, 8, 0), Hours(720),
       T(2026, 4, 29, 20, 0)},
      {"30 days across the holidays", &service, T(2026, 4, 1, 8, 0), Hours(720),
       T(2026, 6, 2, 20, 0)},
      {"24x7 ignores closing time", &kWall, T(2026, 3, 10, 19, 50), Minutes(15),
       T(2026, 3, 10, 20, 5)},
      {"24x7 ignores holidays", &kWall, T(2026, 5, 1, 10, 0), Hours(30),
       T(2026, 5, 2, 16, 0)},
      {"24x7 zero budget", &kWall, T(2026, 5, 1, 10, 0), absl::ZeroDuration(),
       T(2026, 5, 1, 10, 0)},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      const absl::Time got = row.calendar->Add(row.start, row.budget);
      CHECK(got == row.want);
      if (row.budget > absl::ZeroDuration()) {
        CHECK(row.calendar->Elapsed(row.start, got) == row.budget);
      }
    }
  }
}

TEST_CASE("Calendar::Add of an infinite budget is InfiniteFuture") {
  CHECK(ServiceHours().Add(T(2026, 3, 10, 9, 0), absl::InfiniteDuration()) ==
        absl::InfiniteFuture());
  CHECK(kWall.Add(T(2026, 3, 10, 9, 0), absl::InfiniteDuration()) ==
        absl::InfiniteFuture());
  CHECK(ServiceHours().Elapsed(T(2026, 3, 10, 9, 0), absl::InfiniteFuture()) ==
        absl::InfiniteDuration());
}

TEST_CASE("Calendar::Elapsed across days, nights and holidays") {
  const Calendar service = ServiceHours();
  struct Row {
    const char* name;
    const Calendar* calendar;
    absl::Time from;
    absl::Time to;
    absl::Duration want;
  };
  const Row rows[] = {
      {"inside one day", &service, T(2026, 3, 10, 9, 0), T(2026, 3, 10, 11, 30),
       Minutes(150)},
      {"over a night", &service, T(2026, 3, 10, 19, 0), T(2026, 3, 11, 9, 0), Hours(2)},
      {"entirely at night", &service, T(2026, 3, 10, 20, 30), T(2026, 3, 11, 7, 30),
       absl::ZeroDuration()},
      {"from before opening to after closing", &service, T(2026, 3, 10, 5, 0),
       T(2026, 3, 10, 23, 0), Hours(12)},
      {"several days", &service, T(2026, 3, 9, 22, 0), T(2026, 3, 12, 7, 0), Hours(24)},
      {"several days, partial ends", &service, T(2026, 3, 9, 18, 0),
       T(2026, 3, 12, 9, 15), Hours(2) + Hours(24) + Minutes(75)},
      {"over the holiday block", &service, T(2026, 4, 30, 12, 0), T(2026, 5, 4, 12, 0),
       Hours(12)},
      {"inside a holiday", &service, T(2026, 5, 1, 8, 0), T(2026, 5, 3, 20, 0),
       absl::ZeroDuration()},
      {"empty interval", &service, T(2026, 3, 10, 9, 0), T(2026, 3, 10, 9, 0),
       absl::ZeroDuration()},
      {"reversed interval", &service, T(2026, 3, 10, 11, 0), T(2026, 3, 10, 9, 0),
       absl::ZeroDuration()},
      {"a whole year (365 days minus 3 holidays)", &service, T(2026, 1, 1, 0, 0),
       T(2027, 1, 1, 0, 0), Hours(12 * 362)},
      {"24x7 three days", &kWall, T(2026, 4, 30, 12, 0), T(2026, 5, 3, 12, 0),
       Hours(72)},
      {"24x7 reversed", &kWall, T(2026, 5, 3, 12, 0), T(2026, 4, 30, 12, 0),
       absl::ZeroDuration()},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      CHECK(row.calendar->Elapsed(row.from, row.to) == row.want);
    }
  }
}

TEST_CASE("Calendar::Add is the earliest instant with the budget elapsed") {
  const Calendar service = ServiceHours();
  const absl::Duration budgets[] = {absl::Nanoseconds(1), Minutes(1), Minutes(15),
                                    Hours(2),  Hours(12),  Hours(13), Hours(168)};
  int checked = 0;
  for (absl::Time start = T(2026, 4, 29, 0, 0); start < T(2026, 5, 5, 0, 0);
       start += Minutes(37)) {
    for (const absl::Duration budget : budgets) {
      const absl::Time end = service.Add(start, budget);
      INFO("start " << start << " budget " << budget << " end " << end);
      REQUIRE(end > start);
      REQUIRE(service.Elapsed(start, end) == budget);
      REQUIRE(service.Elapsed(start, end - absl::Nanoseconds(1)) < budget);
      ++checked;
    }
  }
  CHECK(checked == 7 * ((6 * 24 * 60 + 36) / 37));
}

TEST_CASE("Calendar::IsOpen at the edges of service hours and holidays") {
  const Calendar service = ServiceHours();
  struct Row {
    absl::Time t;
    bool open;
  };
  const Row rows[] = {
      {T(2026, 3, 10, 0, 0), false},  {T(2026, 3, 10, 7, 59), false},
      {T(2026, 3, 10, 8, 0), true},   {T(2026, 3, 10, 12, 0), true},
      {T(2026, 3, 10, 20, 0) - absl::Nanoseconds(1), true},
      {T(2026, 3, 10, 20, 0), false}, {T(2026, 4, 30, 19, 0), true},
      {T(2026, 5, 1, 12, 0), false},  {T(2026, 5, 3, 8, 0), false},
      {T(2026, 5, 4, 8, 0), true},
  };
  for (const Row& row : rows) {
    INFO(row.t);
    CHECK(service.IsOpen(row.t) == row.open);
    CHECK(kWall.IsOpen(row.t));
  }
}

TEST_CASE("Calendar follows daylight-saving time per local day (Europe/Berlin)") {
  const absl::TimeZone berlin = Zone("Europe/Berlin");
  v1::RegionPolicy region;
  region.set_time_zone("Europe/Berlin");
  auto hours = Calendar::ForRegion(region);  // 08:00-20:00
  REQUIRE(hours.ok());

  // 2026-03-29: clocks jump 02:00 -> 03:00. Service hours stay 12 local hours.
  CHECK(hours->Elapsed(T(2026, 3, 28, 0, 0, berlin), T(2026, 3, 30, 0, 0, berlin)) ==
        Hours(24));
  CHECK(hours->Add(T(2026, 3, 28, 19, 0, berlin), Hours(2)) ==
        T(2026, 3, 29, 9, 0, berlin));
  CHECK(hours->IsOpen(T(2026, 3, 29, 8, 0, berlin)));
  CHECK_FALSE(hours->IsOpen(T(2026, 3, 29, 7, 59, berlin)));
  // The UTC offsets differ on the two days: 08:00 CET vs 08:00 CEST.
  CHECK(T(2026, 3, 30, 8, 0, berlin) - T(2026, 3, 28, 8, 0, berlin) == Hours(47));

  // Whole-day hours: the spring day has 23 hours, the autumn day 25.
  region.set_service_start_minute(0);
  region.set_service_end_minute(1440);
  auto allday = Calendar::ForRegion(region);
  REQUIRE(allday.ok());
  CHECK(allday->Elapsed(T(2026, 3, 29, 0, 0, berlin), T(2026, 3, 30, 0, 0, berlin)) ==
        Hours(23));
  CHECK(allday->Elapsed(T(2026, 10, 25, 0, 0, berlin),
                        T(2026, 10, 26, 0, 0, berlin)) == Hours(25));
  CHECK(allday->Add(T(2026, 3, 28, 12, 0, berlin), Hours(24)) ==
        T(2026, 3, 29, 13, 0, berlin));

  // Hours that fall inside the skipped hour do not exist that day.
  region.set_service_start_minute(120);
  region.set_service_end_minute(180);
  auto skipped = Calendar::ForRegion(region);
  REQUIRE(skipped.ok());
  CHECK(skipped->Elapsed(T(2026, 3, 29, 0, 0, berlin), T(2026, 3, 30, 0, 0, berlin)) ==
        absl::ZeroDuration());
  CHECK(skipped->Elapsed(T(2026, 3, 28, 0, 0, berlin), T(2026, 3, 29, 0, 0, berlin)) ==
        Hours(1));
  CHECK(skipped->Add(T(2026, 3, 28, 2, 30, berlin), Hours(1)) ==
        T(2026, 3, 30, 2, 30, berlin));
}

TEST_CASE("Calendar::Add and Elapsed step by day, not by minute") {
  const Calendar service = ServiceHours();
  const absl::Time start = T(2026, 1, 5, 9, 17);
  const absl::Time t0 = absl::Now();
  absl::Time end;
  for (int i = 0; i < 2000; ++i) {
    end = service.Add(start + absl::Seconds(i), Hours(720));
    REQUIRE(service.Elapsed(start + absl::Seconds(i), end) == Hours(720));
  }
  const absl::Duration spent = absl::Now() - t0;
  INFO("2000 x (Add + Elapsed) of 30 service days took " << spent);
  // A minute-by-minute loop would need ~170 million steps here.
  CHECK(spent < absl::Seconds(5));
}

// ---------------------------------------------------------------------------
// Clocks
// ---------------------------------------------------------------------------

TEST_CASE("StartClock records the start, budget and deadline") {
  const Calendar service = ServiceHours();
  const v1::SlaClock c = StartClock(
      v1::SLA_CLOCK_KIND_FIRST_CONTACT, v1::SLA_CALENDAR_SERVICE_HOURS,
      Minutes(15), T(2026, 3, 10, 19, 50), Policy(), service);
  CHECK(c.kind() == v1::SLA_CLOCK_KIND_FIRST_CONTACT);
  CHECK(c.calendar() == v1::SLA_CALENDAR_SERVICE_HOURS);
  CHECK(rpc::FromProto(c.started_at()) == T(2026, 3, 10, 19, 50));
  CHECK(rpc::FromProto(c.budget()) == Minutes(15));
  CHECK(Deadline(c) == T(2026, 3, 11, 8, 5));
  CHECK(Paused(c) == absl::ZeroDuration());
  CHECK(c.outcome() == v1::SLA_OUTCOME_RUNNING);
  CHECK(c.policy().name() == "intake.sla");
  CHECK(c.policy().version() == "2026-01-15.1");
  CHECK_FALSE(c.has_stopped_at());
  CHECK_FALSE(c.has_paused_since());
  CHECK_FALSE(c.at_risk());
  CHECK_FALSE(c.has_breached_at());
  CHECK_FALSE(c.has_window_end());

  const v1::SlaClock before_open = Start(Hours(2), T(2026, 3, 10, 6, 0), service);
  CHECK(Deadline(before_open) == T(2026, 3, 10, 10, 0));
  const v1::SlaClock holiday = Start(Hours(2), T(2026, 5, 2, 9, 0), service);
  CHECK(Deadline(holiday) == T(2026, 5, 4, 10, 0));
  const v1::SlaClock emergency = StartClock(
      v1::SLA_CLOCK_KIND_ARRIVAL, v1::SLA_CALENDAR_WALL_24X7, Minutes(30),
      T(2026, 5, 2, 23, 50), Policy(), kWall);
  CHECK(Deadline(emergency) == T(2026, 5, 3, 0, 20));
  const v1::SlaClock zero = Start(absl::ZeroDuration(), T(2026, 3, 10, 23, 0), service);
  CHECK(Deadline(zero) == T(2026, 3, 10, 23, 0));
}

TEST_CASE("Pause and Resume move the deadline by the paused calendar time") {
  const Calendar service = ServiceHours();
  struct Row {
    const char* name;
    const Calendar* calendar;
    absl::Time start;
    absl::Duration budget;
    absl::Time pause;
    absl::Time resume;
    absl::Duration want_paused;
    absl::Time want_deadline;
  };
  const Row rows[] = {
      {"an hour inside service hours", &service, T(2026, 3, 10, 9, 0), Hours(4),
       T(2026, 3, 10, 10, 0), T(2026, 3, 10, 11, 0), Hours(1), T(2026, 3, 10, 14, 0)},
      {"overnight outside service hours adds nothing", &service,
       T(2026, 3, 10, 18, 0), Hours(4), T(2026, 3, 10, 20, 30),
       T(2026, 3, 11, 7, 30), absl::ZeroDuration(), T(2026, 3, 11, 10, 0)},
      {"overnight across closing and opening", &service, T(2026, 3, 10, 18, 0),
       Hours(4), T(2026, 3, 10, 19, 30), T(2026, 3, 11, 8, 30), Hours(1),
       T(2026, 3, 11, 11, 0)},
      {"over the holidays", &service, T(2026, 4, 30, 12, 0), Hours(8),
       T(2026, 4, 30, 19, 0), T(2026, 5, 4, 9, 0), Hours(2), T(2026, 5, 4, 10, 0)},
      {"24x7 counts the whole pause", &kWall, T(2026, 3, 10, 10, 0), Hours(1),
       T(2026, 3, 10, 10, 10), T(2026, 3, 10, 10, 40), Minutes(30),
       T(2026, 3, 10, 11, 30)},
      {"24x7 overnight", &kWall, T(2026, 3, 10, 19, 0), Hours(2),
       T(2026, 3, 10, 20, 0), T(2026, 3, 11, 8, 0), Hours(12), T(2026, 3, 11, 9, 0)},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      v1::SlaClock c = Start(row.budget, row.start, *row.calendar);
      const absl::Time before = Deadline(c);
      Pause(c, row.pause);
      REQUIRE(c.has_paused_since());
      CHECK(rpc::FromProto(c.paused_since()) == row.pause);
      CHECK(Deadline(c) == before);  // moves only on resume
      Resume(c, row.resume, *row.calendar);
      CHECK_FALSE(c.has_paused_since());
      CHECK(Paused(c) == row.want_paused);
      CHECK(Deadline(c) == row.want_deadline);
      CHECK(c.outcome() == v1::SLA_OUTCOME_RUNNING);
    }
  }
}

TEST_CASE("Pauses accumulate and a second Pause or a stray Resume changes nothing") {
  const Calendar service = ServiceHours();
  v1::SlaClock c = Start(Hours(4), T(2026, 3, 10, 9, 0), service);

  Resume(c, T(2026, 3, 10, 9, 30), service);  // not paused: no-op
  CHECK(Paused(c) == absl::ZeroDuration());
  CHECK(Deadline(c) == T(2026, 3, 10, 13, 0));

  Pause(c, T(2026, 3, 10, 10, 0));
  Pause(c, T(2026, 3, 10, 10, 30));  // already paused: keeps the first
  CHECK(rpc::FromProto(c.paused_since()) == T(2026, 3, 10, 10, 0));
  Resume(c, T(2026, 3, 10, 11, 0), service);
  Pause(c, T(2026, 3, 10, 12, 0));
  Resume(c, T(2026, 3, 10, 12, 15), service);
  CHECK(Paused(c) == Minutes(75));
  CHECK(Deadline(c) == T(2026, 3, 10, 14, 15));
}

TEST_CASE("Pause leaves breached, stopped and cancelled clocks alone") {
  v1::SlaClock breached = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  REQUIRE(Evaluate(breached, T(2026, 3, 10, 11, 0), 0.75, kWall).became_breached);
  Pause(breached, T(2026, 3, 10, 11, 5));
  CHECK_FALSE(breached.has_paused_since());
  CHECK(breached.outcome() == v1::SLA_OUTCOME_BREACHED);

  v1::SlaClock met = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  Stop(met, T(2026, 3, 10, 10, 30), kWall);
  Pause(met, T(2026, 3, 10, 10, 40));
  CHECK_FALSE(met.has_paused_since());

  v1::SlaClock cancelled = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  Cancel(cancelled, T(2026, 3, 10, 10, 30));
  Pause(cancelled, T(2026, 3, 10, 10, 40));
  CHECK_FALSE(cancelled.has_paused_since());

  v1::SlaClock never_started;
  Pause(never_started, T(2026, 3, 10, 10, 40));
  CHECK_FALSE(never_started.has_paused_since());
}

TEST_CASE("Stop judges the clock against its deadline") {
  const Calendar service = ServiceHours();
  struct Row {
    const char* name;
    const Calendar* calendar;
    absl::Time start;
    absl::Duration budget;
    absl::Time stop;
    v1::SlaOutcome want;
    absl::Duration want_lateness;
  };
  const Row rows[] = {
      {"well before", &kWall, T(2026, 3, 10, 10, 0), Hours(1), T(2026, 3, 10, 10, 20),
       v1::SLA_OUTCOME_MET, absl::ZeroDuration()},
      {"exactly at the deadline", &kWall, T(2026, 3, 10, 10, 0), Hours(1),
       T(2026, 3, 10, 11, 0), v1::SLA_OUTCOME_MET, absl::ZeroDuration()},
      {"one nanosecond late", &kWall, T(2026, 3, 10, 10, 0), Hours(1),
       T(2026, 3, 10, 11, 0) + absl::Nanoseconds(1), v1::SLA_OUTCOME_BREACHED,
       absl::Nanoseconds(1)},
      {"service hours, at the 08:05 deadline", &service, T(2026, 3, 10, 19, 50),
       Minutes(15), T(2026, 3, 11, 8, 5), v1::SLA_OUTCOME_MET, absl::ZeroDuration()},
      {"service hours, at night before the deadline", &service,
       T(2026, 3, 10, 19, 50), Minutes(15), T(2026, 3, 10, 23, 0),
       v1::SLA_OUTCOME_MET, absl::ZeroDuration()},
      {"service hours, late across the night", &service, T(2026, 3, 10, 18, 0),
       Hours(1) + Minutes(50), T(2026, 3, 11, 8, 20), v1::SLA_OUTCOME_BREACHED,
       Minutes(30)},
      {"zero budget stopped at once", &service, T(2026, 3, 10, 23, 0),
       absl::ZeroDuration(), T(2026, 3, 10, 23, 0), v1::SLA_OUTCOME_MET,
       absl::ZeroDuration()},
      {"zero budget stopped at night: breached, nothing late yet", &service,
       T(2026, 3, 10, 23, 0), absl::ZeroDuration(), T(2026, 3, 10, 23, 30),
       v1::SLA_OUTCOME_BREACHED, absl::ZeroDuration()},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      v1::SlaClock c = Start(row.budget, row.start, *row.calendar);
      Stop(c, row.stop, *row.calendar);
      CHECK(c.outcome() == row.want);
      CHECK(rpc::FromProto(c.stopped_at()) == row.stop);
      CHECK(rpc::FromProto(c.lateness()) == row.want_lateness);
      CHECK(Lateness(c, row.stop + Hours(100), *row.calendar) == row.want_lateness);
      if (row.want == v1::SLA_OUTCOME_BREACHED) {
        CHECK(rpc::FromProto(c.breached_at()) == Deadline(c));
      } else {
        CHECK_FALSE(c.has_breached_at());
      }
    }
  }
}

TEST_CASE("Stop of a paused clock counts the pause first") {
  const Calendar service = ServiceHours();
  v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);  // 11:00
  Pause(c, T(2026, 3, 10, 10, 0));
  Stop(c, T(2026, 3, 10, 11, 30), service);
  CHECK_FALSE(c.has_paused_since());
  CHECK(Paused(c) == Minutes(90));
  CHECK(Deadline(c) == T(2026, 3, 10, 12, 30));
  CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
}

TEST_CASE("Stop keeps an earlier breach and is applied once") {
  const Calendar service = ServiceHours();
  v1::SlaClock c = Start(Hours(2) + Minutes(50), T(2026, 3, 10, 18, 0), service);
  REQUIRE(Deadline(c) == T(2026, 3, 11, 8, 50));
  REQUIRE(Evaluate(c, T(2026, 3, 11, 9, 0), 0.75, service).became_breached);
  Stop(c, T(2026, 3, 11, 9, 30), service);
  CHECK(c.outcome() == v1::SLA_OUTCOME_BREACHED);
  CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 11, 8, 50));
  CHECK(rpc::FromProto(c.lateness()) == Minutes(40));
  const v1::SlaClock stopped = c;

  Stop(c, T(2026, 3, 11, 12, 0), service);  // already stopped
  CHECK(c.SerializeAsString() == stopped.SerializeAsString());
  Cancel(c, T(2026, 3, 11, 12, 0));
  CHECK(c.SerializeAsString() == stopped.SerializeAsString());
}

TEST_CASE("Stop at the deadline after a sweep marked the breach at that instant is MET") {
  v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  REQUIRE(Evaluate(c, T(2026, 3, 10, 11, 0), 0.75, kWall).became_breached);
  Stop(c, T(2026, 3, 10, 11, 0), kWall);
  CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
  CHECK_FALSE(c.has_breached_at());
  CHECK(rpc::FromProto(c.lateness()) == absl::ZeroDuration());
}

TEST_CASE("Stop leaves cancelled and never-started clocks unchanged") {
  v1::SlaClock cancelled = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  Cancel(cancelled, T(2026, 3, 10, 10, 30));
  const v1::SlaClock before = cancelled;
  Stop(cancelled, T(2026, 3, 10, 12, 0), kWall);
  CHECK(cancelled.SerializeAsString() == before.SerializeAsString());

  v1::SlaClock never_started;
  Stop(never_started, T(2026, 3, 10, 12, 0), kWall);
  CHECK_FALSE(never_started.has_stopped_at());
  CHECK(never_started.outcome() == v1::SLA_OUTCOME_UNSPECIFIED);
}

TEST_CASE("Cancel of RUNNING, paused, BREACHED and MET clocks") {
  SECTION("running becomes CANCELLED") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Cancel(c, T(2026, 3, 10, 12, 0));
    CHECK(c.outcome() == v1::SLA_OUTCOME_CANCELLED);
    CHECK(rpc::FromProto(c.stopped_at()) == T(2026, 3, 10, 12, 0));
    CHECK_FALSE(c.has_breached_at());
    CHECK(Lateness(c, T(2026, 3, 10, 13, 0), kWall) == absl::ZeroDuration());
    CHECK(NextCheck(c, 0.75, kWall) == absl::InfiniteFuture());
    const Transition t = Evaluate(c, T(2026, 3, 10, 13, 0), 0.75, kWall);
    CHECK_FALSE(t.became_at_risk);
    CHECK_FALSE(t.became_breached);
    CHECK(c.outcome() == v1::SLA_OUTCOME_CANCELLED);
  }
  SECTION("a paused clock ends its pause") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Pause(c, T(2026, 3, 10, 10, 30));
    Cancel(c, T(2026, 3, 10, 11, 0));
    CHECK(c.outcome() == v1::SLA_OUTCOME_CANCELLED);
    CHECK_FALSE(c.has_paused_since());
  }
  SECTION("breached stays BREACHED and its lateness stops growing") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    REQUIRE(Evaluate(c, T(2026, 3, 10, 11, 10), 0.75, kWall).became_breached);
    Cancel(c, T(2026, 3, 10, 11, 20));
    CHECK(c.outcome() == v1::SLA_OUTCOME_BREACHED);
    CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 10, 11, 0));
    CHECK(rpc::FromProto(c.stopped_at()) == T(2026, 3, 10, 11, 20));
    CHECK(Lateness(c, T(2026, 3, 10, 18, 0), kWall) == Minutes(20));
  }
  SECTION("met is left unchanged") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Stop(c, T(2026, 3, 10, 10, 30), kWall);
    const v1::SlaClock before = c;
    Cancel(c, T(2026, 3, 10, 11, 0));
    CHECK(c.SerializeAsString() == before.SerializeAsString());
  }
}

TEST_CASE("Evaluate marks at-risk once and breached once (24x7)") {
  v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  struct Step {
    absl::Time now;
    bool at_risk;
    bool breached;
  };
  const Step steps[] = {
      {T(2026, 3, 10, 10, 0), false, false},
      {T(2026, 3, 10, 10, 44), false, false},
      {T(2026, 3, 10, 10, 45), true, false},
      {T(2026, 3, 10, 10, 50), false, false},
      {T(2026, 3, 10, 11, 0) - absl::Nanoseconds(1), false, false},
      {T(2026, 3, 10, 11, 0), false, true},
      {T(2026, 3, 10, 11, 5), false, false},
      {T(2026, 3, 10, 12, 0), false, false},
  };
  for (const Step& step : steps) {
    INFO("now " << step.now);
    const Transition t = Evaluate(c, step.now, 0.75, kWall);
    CHECK(t.became_at_risk == step.at_risk);
    CHECK(t.became_breached == step.breached);
  }
  CHECK(c.at_risk());
  CHECK(rpc::FromProto(c.at_risk_at()) == T(2026, 3, 10, 10, 45));
  CHECK(c.outcome() == v1::SLA_OUTCOME_BREACHED);
  CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 10, 11, 0));
  CHECK(rpc::FromProto(c.lateness()) == Hours(1));  // refreshed at 12:00
  CHECK_FALSE(c.has_stopped_at());
}

TEST_CASE("Evaluate: a late sweep reports both transitions at their own instants") {
  v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  const Transition t = Evaluate(c, T(2026, 3, 10, 12, 0), 0.75, kWall);
  CHECK(t.became_at_risk);
  CHECK(t.became_breached);
  CHECK(rpc::FromProto(c.at_risk_at()) == T(2026, 3, 10, 10, 45));
  CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 10, 11, 0));
  CHECK(rpc::FromProto(c.lateness()) == Hours(1));
}

TEST_CASE("Evaluate on service hours counts only open time") {
  const Calendar service = ServiceHours();
  // 19:00 + 2 h service time: deadline next day 09:00, at risk after 1.5 h
  // of service time = next day 08:30.
  v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 19, 0), service);
  REQUIRE(Deadline(c) == T(2026, 3, 11, 9, 0));
  CHECK(NextCheck(c, 0.75, service) == T(2026, 3, 11, 8, 30));
  Transition t = Evaluate(c, T(2026, 3, 10, 23, 0), 0.75, service);
  CHECK_FALSE(t.became_at_risk);
  CHECK_FALSE(t.became_breached);
  t = Evaluate(c, T(2026, 3, 11, 8, 29), 0.75, service);
  CHECK_FALSE(t.became_at_risk);
  t = Evaluate(c, T(2026, 3, 11, 8, 30), 0.75, service);
  CHECK(t.became_at_risk);
  CHECK(rpc::FromProto(c.at_risk_at()) == T(2026, 3, 11, 8, 30));
  CHECK(NextCheck(c, 0.75, service) == T(2026, 3, 11, 9, 0));
  t = Evaluate(c, T(2026, 3, 11, 9, 0), 0.75, service);
  CHECK(t.became_breached);
  CHECK(rpc::FromProto(c.lateness()) == absl::ZeroDuration());
  CHECK(NextCheck(c, 0.75, service) == absl::InfiniteFuture());
}

TEST_CASE("Evaluate uses the fraction it is given") {
  struct Row {
    double fraction;
    absl::Time want_at_risk;
  };
  const absl::Time start = T(2026, 3, 10, 10, 0);
  const Row rows[] = {
      {0.75, start + Minutes(45)}, {0.5, start + Minutes(30)},
      {0.9, start + Minutes(54)},  {1.0, start + Hours(1)},
      {0.0, start},                {-1.0, start},
      {2.0, start + Hours(1)},     {std::nan(""), start + Hours(1)},
  };
  for (const Row& row : rows) {
    INFO("fraction " << row.fraction);
    v1::SlaClock c = Start(Hours(1), start, kWall);
    CHECK(NextCheck(c, row.fraction, kWall) == row.want_at_risk);
    CHECK_FALSE(Evaluate(c, row.want_at_risk - absl::Nanoseconds(1), row.fraction,
                         kWall)
                    .became_at_risk);
    CHECK(Evaluate(c, row.want_at_risk, row.fraction, kWall).became_at_risk);
    CHECK(rpc::FromProto(c.at_risk_at()) == row.want_at_risk);
  }
}

TEST_CASE("Evaluate leaves paused, stopped and zero-budget clocks right") {
  SECTION("a paused clock is frozen, even past its deadline") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Pause(c, T(2026, 3, 10, 10, 30));
    const Transition t = Evaluate(c, T(2026, 3, 10, 13, 0), 0.75, kWall);
    CHECK_FALSE(t.became_at_risk);
    CHECK_FALSE(t.became_breached);
    CHECK(c.outcome() == v1::SLA_OUTCOME_RUNNING);
    CHECK(NextCheck(c, 0.75, kWall) == absl::InfiniteFuture());
    Resume(c, T(2026, 3, 10, 13, 0), kWall);
    CHECK(Deadline(c) == T(2026, 3, 10, 13, 30));
    CHECK(NextCheck(c, 0.75, kWall) == T(2026, 3, 10, 13, 15));
  }
  SECTION("a met clock") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Stop(c, T(2026, 3, 10, 10, 50), kWall);
    const Transition t = Evaluate(c, T(2026, 3, 10, 13, 0), 0.75, kWall);
    CHECK_FALSE(t.became_at_risk);
    CHECK_FALSE(t.became_breached);
    CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
    CHECK_FALSE(c.at_risk());
  }
  SECTION("a zero budget is at risk and breached at its start") {
    v1::SlaClock c = Start(absl::ZeroDuration(), T(2026, 3, 10, 23, 0), ServiceHours());
    CHECK(NextCheck(c, 0.75, ServiceHours()) == T(2026, 3, 10, 23, 0));
    const Transition t = Evaluate(c, T(2026, 3, 10, 23, 0), 0.75, ServiceHours());
    CHECK(t.became_at_risk);
    CHECK(t.became_breached);
    CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 10, 23, 0));
  }
}

TEST_CASE("NextCheck follows the clock through its life") {
  const Calendar service = ServiceHours();
  v1::SlaClock c = Start(Hours(4), T(2026, 3, 10, 17, 0), service);
  REQUIRE(Deadline(c) == T(2026, 3, 11, 9, 0));
  // 3 h used by closing time: the earliest instant is that evening.
  CHECK(NextCheck(c, 0.75, service) == T(2026, 3, 10, 20, 0));
  CHECK(NextCheck(c, 0.5, service) == T(2026, 3, 10, 19, 0));
  Pause(c, T(2026, 3, 10, 18, 0));
  CHECK(NextCheck(c, 0.75, service) == absl::InfiniteFuture());
  Resume(c, T(2026, 3, 10, 19, 0), service);  // +1 h
  CHECK(Deadline(c) == T(2026, 3, 11, 10, 0));
  CHECK(NextCheck(c, 0.75, service) == T(2026, 3, 11, 9, 0));
  REQUIRE(Evaluate(c, T(2026, 3, 11, 9, 0), 0.75, service).became_at_risk);
  CHECK(NextCheck(c, 0.75, service) == T(2026, 3, 11, 10, 0));
  Stop(c, T(2026, 3, 11, 9, 30), service);
  CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
  CHECK(NextCheck(c, 0.75, service) == absl::InfiniteFuture());

  v1::SlaClock never_started;
  CHECK(NextCheck(never_started, 0.75, service) == absl::InfiniteFuture());
}

TEST_CASE("Rebudget recomputes from the original start and keeps the pause") {
  const Calendar service = ServiceHours();
  SECTION("shorter budget after a pause") {
    v1::SlaClock c = Start(Hours(4), T(2026, 3, 10, 9, 0), service);
    Pause(c, T(2026, 3, 10, 10, 0));
    Resume(c, T(2026, 3, 10, 11, 0), service);
    REQUIRE(Deadline(c) == T(2026, 3, 10, 14, 0));
    Rebudget(c, Hours(2), T(2026, 3, 10, 11, 0), 0.75, service);
    CHECK(rpc::FromProto(c.budget()) == Hours(2));
    CHECK(Paused(c) == Hours(1));
    CHECK(Deadline(c) == T(2026, 3, 10, 12, 0));
  }
  SECTION("longer budget across the night") {
    v1::SlaClock c = Start(Minutes(15), T(2026, 3, 10, 19, 0), service);
    Rebudget(c, Hours(2), T(2026, 3, 10, 19, 5), 0.75, service);
    CHECK(Deadline(c) == T(2026, 3, 11, 9, 0));
  }
  SECTION("while paused: the open pause is added on resume") {
    v1::SlaClock c = Start(Hours(4), T(2026, 3, 10, 9, 0), service);
    Pause(c, T(2026, 3, 10, 10, 0));
    Rebudget(c, Hours(2), T(2026, 3, 10, 10, 30), 0.75, service);
    CHECK(Deadline(c) == T(2026, 3, 10, 11, 0));
    CHECK(c.has_paused_since());
    Resume(c, T(2026, 3, 10, 11, 0), service);
    CHECK(Deadline(c) == T(2026, 3, 10, 12, 0));
  }
  SECTION("a deadline moved into the past breaches at the next sweep") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    Rebudget(c, Minutes(15), T(2026, 3, 10, 10, 0), 0.75, service);
    CHECK(Deadline(c) == T(2026, 3, 10, 9, 15));
    CHECK(c.outcome() == v1::SLA_OUTCOME_RUNNING);  // Evaluate reports it
    const Transition t = Evaluate(c, T(2026, 3, 10, 10, 0), 0.75, service);
    CHECK(t.became_at_risk);
    CHECK(t.became_breached);
    CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 10, 9, 15));
    CHECK(rpc::FromProto(c.lateness()) == Minutes(45));
  }
  SECTION("a booked later window is kept") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    SetWindowEnd(c, T(2026, 3, 10, 16, 0), service);
    Rebudget(c, Hours(4), T(2026, 3, 10, 10, 0), 0.75, service);
    CHECK(Deadline(c) == T(2026, 3, 10, 16, 0));
    Rebudget(c, Hours(8), T(2026, 3, 10, 10, 0), 0.75, service);
    CHECK(Deadline(c) == T(2026, 3, 10, 17, 0));
  }
}

TEST_CASE("Rebudget clears at-risk only when back under the threshold") {
  v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
  REQUIRE(Evaluate(c, T(2026, 3, 10, 10, 50), 0.75, kWall).became_at_risk);

  SECTION("same threshold still passed: stays at risk") {
    Rebudget(c, Minutes(64), T(2026, 3, 10, 10, 50), 0.75, kWall);  // at 10:48
    CHECK(c.at_risk());
    CHECK(rpc::FromProto(c.at_risk_at()) == T(2026, 3, 10, 10, 45));
    CHECK(NextCheck(c, 0.75, kWall) == T(2026, 3, 10, 11, 4));
  }
  SECTION("longer budget: cleared, and at risk again later") {
    Rebudget(c, Hours(2), T(2026, 3, 10, 10, 50), 0.75, kWall);  // at 11:30
    CHECK_FALSE(c.at_risk());
    CHECK_FALSE(c.has_at_risk_at());
    CHECK(Deadline(c) == T(2026, 3, 10, 12, 0));
    CHECK(NextCheck(c, 0.75, kWall) == T(2026, 3, 10, 11, 30));
    CHECK(Evaluate(c, T(2026, 3, 10, 11, 30), 0.75, kWall).became_at_risk);
    CHECK(rpc::FromProto(c.at_risk_at()) == T(2026, 3, 10, 11, 30));
  }
  SECTION("exactly at the new threshold: stays at risk") {
    Rebudget(c, Minutes(66) + absl::Seconds(40), T(2026, 3, 10, 10, 50), 0.75,
             kWall);  // 0.75 x 66m40s = 50 min
    CHECK(c.at_risk());
  }
}

TEST_CASE("Rebudget leaves stopped and breached clocks alone") {
  SECTION("met") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Stop(c, T(2026, 3, 10, 10, 30), kWall);
    const v1::SlaClock before = c;
    Rebudget(c, Minutes(5), T(2026, 3, 10, 10, 40), 0.75, kWall);
    CHECK(c.SerializeAsString() == before.SerializeAsString());
  }
  SECTION("breached, not yet stopped") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    REQUIRE(Evaluate(c, T(2026, 3, 10, 11, 0), 0.75, kWall).became_breached);
    const v1::SlaClock before = c;
    Rebudget(c, Hours(4), T(2026, 3, 10, 11, 10), 0.75, kWall);
    CHECK(c.SerializeAsString() == before.SerializeAsString());
  }
  SECTION("cancelled") {
    v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 10, 0), kWall);
    Cancel(c, T(2026, 3, 10, 10, 30));
    const v1::SlaClock before = c;
    Rebudget(c, Hours(4), T(2026, 3, 10, 10, 40), 0.75, kWall);
    CHECK(c.SerializeAsString() == before.SerializeAsString());
  }
}

TEST_CASE("SetWindowEnd never makes the promise stricter") {
  const Calendar service = ServiceHours();
  // Arrival: 2 h service time from 09:00 -> 11:00.
  SECTION("a later window becomes the deadline") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    SetWindowEnd(c, T(2026, 3, 10, 16, 0), service);
    CHECK(rpc::FromProto(c.window_end()) == T(2026, 3, 10, 16, 0));
    CHECK(Deadline(c) == T(2026, 3, 10, 16, 0));
    // At risk when only (1 - 0.75) x 2 h = 30 min of service time is left.
    CHECK(NextCheck(c, 0.75, service) == T(2026, 3, 10, 15, 30));
    Stop(c, T(2026, 3, 10, 15, 59), service);
    CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
  }
  SECTION("an earlier window is recorded but changes nothing") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    SetWindowEnd(c, T(2026, 3, 10, 10, 30), service);
    CHECK(rpc::FromProto(c.window_end()) == T(2026, 3, 10, 10, 30));
    CHECK(Deadline(c) == T(2026, 3, 10, 11, 0));
    Stop(c, T(2026, 3, 10, 10, 45), service);
    CHECK(c.outcome() == v1::SLA_OUTCOME_MET);
  }
  SECTION("a rebooked earlier window replaces the later one") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    SetWindowEnd(c, T(2026, 3, 10, 16, 0), service);
    SetWindowEnd(c, T(2026, 3, 10, 12, 0), service);
    CHECK(Deadline(c) == T(2026, 3, 10, 12, 0));
    SetWindowEnd(c, T(2026, 3, 10, 10, 0), service);
    CHECK(Deadline(c) == T(2026, 3, 10, 11, 0));
  }
  SECTION("a window next day, stopped late") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    SetWindowEnd(c, T(2026, 3, 11, 10, 0), service);
    Stop(c, T(2026, 3, 11, 10, 20), service);
    CHECK(c.outcome() == v1::SLA_OUTCOME_BREACHED);
    CHECK(rpc::FromProto(c.breached_at()) == T(2026, 3, 11, 10, 0));
    CHECK(rpc::FromProto(c.lateness()) == Minutes(20));
  }
  SECTION("a pause still moves a deadline that is not held by the window") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    SetWindowEnd(c, T(2026, 3, 10, 12, 0), service);
    Pause(c, T(2026, 3, 10, 9, 30));
    Resume(c, T(2026, 3, 10, 11, 0), service);  // computed: 12:30
    CHECK(Deadline(c) == T(2026, 3, 10, 12, 30));
  }
  SECTION("a breached clock keeps its deadline") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    REQUIRE(Evaluate(c, T(2026, 3, 10, 11, 0), 0.75, service).became_breached);
    SetWindowEnd(c, T(2026, 3, 10, 16, 0), service);
    CHECK(rpc::FromProto(c.window_end()) == T(2026, 3, 10, 16, 0));
    CHECK(Deadline(c) == T(2026, 3, 10, 11, 0));
    CHECK(c.outcome() == v1::SLA_OUTCOME_BREACHED);
  }
  SECTION("a stopped clock is left unchanged") {
    v1::SlaClock c = Start(Hours(2), T(2026, 3, 10, 9, 0), service);
    Stop(c, T(2026, 3, 10, 10, 0), service);
    const v1::SlaClock before = c;
    SetWindowEnd(c, T(2026, 3, 10, 16, 0), service);
    CHECK(c.SerializeAsString() == before.SerializeAsString());
  }
}

TEST_CASE("Lateness on a 24x7 calendar") {
  const absl::Time start = T(2026, 3, 10, 9, 0);
  const absl::Time deadline = T(2026, 3, 10, 10, 0);
  const absl::Duration rows[] = {Minutes(14), Minutes(15), Minutes(44), Minutes(200),
                                 absl::ZeroDuration()};
  for (const absl::Duration past : rows) {
    INFO("past " << past);
    v1::SlaClock c = Start(Hours(1), start, kWall);
    REQUIRE(Deadline(c) == deadline);
    CHECK(Lateness(c, deadline + past, kWall) == past);
    Stop(c, deadline + past, kWall);
    CHECK(rpc::FromProto(c.lateness()) == past);
    CHECK(Lateness(c, deadline + past + Hours(5), kWall) == past);
  }
  v1::SlaClock early = Start(Hours(1), start, kWall);
  CHECK(Lateness(early, deadline - Minutes(5), kWall) == absl::ZeroDuration());
}

TEST_CASE("Lateness on service hours counts only open time past the deadline") {
  const Calendar service = ServiceHours();
  struct Row {
    const char* name;
    absl::Time start;
    absl::Duration budget;
    absl::Time deadline;
    absl::Time now;
    absl::Duration want;
  };
  const Row rows[] = {
      {"deadline 19:50, now 08:20 next day", T(2026, 3, 10, 18, 0), Minutes(110),
       T(2026, 3, 10, 19, 50), T(2026, 3, 11, 8, 20), Minutes(30)},
      {"deadline 19:50, now 08:30 next day", T(2026, 3, 10, 18, 0), Minutes(110),
       T(2026, 3, 10, 19, 50), T(2026, 3, 11, 8, 30), Minutes(40)},
      {"deadline 19:50, now 23:00", T(2026, 3, 10, 18, 0), Minutes(110),
       T(2026, 3, 10, 19, 50), T(2026, 3, 10, 23, 0), Minutes(10)},
      {"14 min inside hours", T(2026, 3, 10, 9, 0), Hours(1), T(2026, 3, 10, 10, 0),
       T(2026, 3, 10, 10, 14), Minutes(14)},
      {"15 min inside hours", T(2026, 3, 10, 9, 0), Hours(1), T(2026, 3, 10, 10, 0),
       T(2026, 3, 10, 10, 15), Minutes(15)},
      {"44 min inside hours", T(2026, 3, 10, 9, 0), Hours(1), T(2026, 3, 10, 10, 0),
       T(2026, 3, 10, 10, 44), Minutes(44)},
      {"200 min inside hours", T(2026, 3, 10, 9, 0), Hours(1), T(2026, 3, 10, 10, 0),
       T(2026, 3, 10, 13, 20), Minutes(200)},
      {"across the holidays", T(2026, 4, 30, 18, 0), Minutes(110),
       T(2026, 4, 30, 19, 50), T(2026, 5, 4, 8, 20), Minutes(30)},
      {"before the deadline", T(2026, 3, 10, 9, 0), Hours(1), T(2026, 3, 10, 10, 0),
       T(2026, 3, 10, 9, 59), absl::ZeroDuration()},
  };
  for (const Row& row : rows) {
    SECTION(row.name) {
      v1::SlaClock c = Start(row.budget, row.start, service);
      REQUIRE(Deadline(c) == row.deadline);
      CHECK(Lateness(c, row.now, service) == row.want);
      Evaluate(c, row.now, 0.75, service);
      CHECK(rpc::FromProto(c.lateness()) == row.want);
      Stop(c, row.now, service);
      CHECK(rpc::FromProto(c.lateness()) == row.want);
    }
  }
}

TEST_CASE("Lateness freezes while paused and is zero for met clocks") {
  v1::SlaClock c = Start(Hours(1), T(2026, 3, 10, 9, 0), kWall);
  Pause(c, T(2026, 3, 10, 10, 20));  // 20 min late, sweep did not run yet
  CHECK(Lateness(c, T(2026, 3, 10, 12, 0), kWall) == Minutes(20));

  v1::SlaClock met = Start(Hours(1), T(2026, 3, 10, 9, 0), kWall);
  Stop(met, T(2026, 3, 10, 9, 30), kWall);
  CHECK(Lateness(met, T(2026, 3, 10, 12, 0), kWall) == absl::ZeroDuration());

  v1::SlaClock never_started;
  CHECK(Lateness(never_started, T(2026, 3, 10, 12, 0), kWall) ==
        absl::ZeroDuration());
}

TEST_CASE("A complaint clock on 24x7 across a holiday night") {
  // G4 acknowledge: 1 h, wall time, filed on a holiday night.
  const auto calendar =
      Calendar::For(v1::SLA_CALENDAR_WALL_24X7, ShanghaiRegion());
  REQUIRE(calendar.ok());
  v1::SlaClock c = StartClock(v1::SLA_CLOCK_KIND_COMPLAINT_ACKNOWLEDGE,
                              v1::SLA_CALENDAR_WALL_24X7, Hours(1),
                              T(2026, 5, 1, 23, 30), Policy(), *calendar);
  CHECK(Deadline(c) == T(2026, 5, 2, 0, 30));
  CHECK(NextCheck(c, 0.75, *calendar) == T(2026, 5, 2, 0, 15));
  Stop(c, T(2026, 5, 2, 0, 45), *calendar);
  CHECK(c.outcome() == v1::SLA_OUTCOME_BREACHED);
  CHECK(rpc::FromProto(c.lateness()) == Minutes(15));
}

}  // namespace
}  // namespace aftersales::sla
