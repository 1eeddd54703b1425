#include "dispatch/domain/ranking.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "geo/geo.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::dispatch::domain {
namespace {

constexpr int kMinutesPerDay = 1440;

// The SPEC §3 defaults, used only when a caller passes no policy (the
// service always passes its loaded, validated policy).
const v1::DispatchPolicy& BuiltInPolicy() {
  static const v1::DispatchPolicy* const policy = [] {
    auto* p = new v1::DispatchPolicy;
    p->mutable_ref()->set_name("dispatch");
    p->mutable_ref()->set_version("built-in");
    *p->mutable_offer_timeout_emergency() = rpc::ToProto(absl::Minutes(5));
    *p->mutable_offer_timeout_default() = rpc::ToProto(absl::Minutes(10));
    v1::RankingWeights* w = p->mutable_weights();
    w->set_arrival_slack(0.4);
    w->set_rating(0.2);
    w->set_first_time_fix(0.2);
    w->set_workload_balance(0.1);
    w->set_partner_preference(0.1);
    p->set_road_factor(1.3);
    p->set_speed_kmh(30);
    p->mutable_default_capacity()->set_max_active(1);
    p->mutable_default_capacity()->set_max_queued(3);
    *p->mutable_location_stale_after() = rpc::ToProto(absl::Minutes(30));
    *p->mutable_on_site_job_estimate() = rpc::ToProto(absl::Minutes(60));
    p->set_suspend_below_diagnosis_accuracy(0.9);
    p->set_max_attempts(10);
    return p;
  }();
  return *policy;
}

const v1::DispatchPolicy& PolicyOf(const Situation& situation) {
  return situation.policy != nullptr ? *situation.policy : BuiltInPolicy();
}

geo::Point ToPoint(const v1::GeoPoint& p) { return {p.lat_deg(), p.lng_deg()}; }

// Brands are free text at intake ("Haier", "haier "): compared trimmed and
// case-insensitively.
bool SameBrand(absl::string_view a, absl::string_view b) {
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(a),
                                absl::StripAsciiWhitespace(b));
}

bool ListHasBrand(const google::protobuf::RepeatedPtrField<std::string>& brands,
                  absl::string_view brand) {
  return std::any_of(brands.begin(), brands.end(),
                     [&](const std::string& b) { return SameBrand(b, brand); });
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
              absl::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The order's arrival deadline; an order without one is due now.
absl::Time ArrivalDeadline(const v1::DispatchOrder& order, absl::Time now) {
  return order.has_arrival_deadline() ? rpc::FromProto(order.arrival_deadline()) : now;
}

// Point on segment [a, b] (lat/lng plane, within rounding).
bool OnSegment(double x, double y, double ax, double ay, double bx, double by) {
  const double cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
  const double scale = std::max({std::abs(bx - ax), std::abs(by - ay), 1e-12});
  if (std::abs(cross) > 1e-12 * scale) return false;
  return x >= std::min(ax, bx) - 1e-12 && x <= std::max(ax, bx) + 1e-12 &&
         y >= std::min(ay, by) - 1e-12 && y <= std::max(ay, by) + 1e-12;
}

// Longitude of `lng` moved to within 180 degrees of `ref`.
double Unwrap(double lng, double ref) {
  if (!std::isfinite(lng) || !std::isfinite(ref)) return lng;
  while (lng - ref > 180) lng -= 360;
  while (lng - ref < -180) lng += 360;
  return lng;
}

// Ray casting on the lat/lng plane (exact enough for city-sized polygons);
// points on an edge or vertex are inside. Longitudes are unwrapped around
// the first vertex, so a polygon straddling the antimeridian stays whole.
bool InPolygon(const google::protobuf::RepeatedPtrField<v1::GeoPoint>& polygon,
               const v1::GeoPoint& point) {
  const int n = polygon.size();
  if (n < 3) return false;
  const double ref = polygon[0].lng_deg();
  const double x = Unwrap(point.lng_deg(), ref), y = point.lat_deg();
  bool inside = false;
  for (int i = 0, j = n - 1; i < n; j = i++) {
    const double xi = Unwrap(polygon[i].lng_deg(), ref), yi = polygon[i].lat_deg();
    const double xj = Unwrap(polygon[j].lng_deg(), ref), yj = polygon[j].lat_deg();
    if (OnSegment(x, y, xi, yi, xj, yj)) return true;
    if ((yi > y) != (yj > y)) {
      const double x_cross = xi + (y - yi) * (xj - xi) / (yj - yi);
      if (x < x_cross) inside = !inside;
    }
  }
  return inside;
}

int IsoWeekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::monday: return 1;
    case absl::Weekday::tuesday: return 2;
    case absl::Weekday::wednesday: return 3;
    case absl::Weekday::thursday: return 4;
    case absl::Weekday::friday: return 5;
    case absl::Weekday::saturday: return 6;
    case absl::Weekday::sunday: return 7;
  }
  return 0;
}

bool IsDay(const v1::CalendarDate& date, absl::CivilDay day) {
  return date.year() == day.year() && date.month() == day.month() && date.day() == day.day();
}

bool ValidDate(const v1::CalendarDate& d) {
  if (d.year() < 1900 || d.year() > 9999 || d.month() < 1 || d.month() > 12 || d.day() < 1) {
    return false;
  }
  // CivilDay normalizes out-of-range days (Feb 30 -> Mar 2).
  const absl::CivilDay day(d.year(), d.month(), d.day());
  return day.month() == d.month() && day.day() == d.day();
}

bool ShiftMinutesValid(int start, int end) {
  return start >= 0 && start < kMinutesPerDay && end > start && end <= kMinutesPerDay;
}

// Longest span ShiftsBetween expands day by day.
constexpr absl::Duration kMaxShiftSpan = absl::Hours(24 * 400);

v1::CertificationLevel NextLevel(v1::CertificationLevel level) {
  switch (level) {
    case v1::CERTIFICATION_LEVEL_SENIOR:
    case v1::CERTIFICATION_LEVEL_INTERMEDIATE:
      return v1::CERTIFICATION_LEVEL_SENIOR;
    default:  // JUNIOR, or unknown: one above the lowest level
      return v1::CERTIFICATION_LEVEL_INTERMEDIATE;
  }
}

// Capacity with the policy default for each unset (0) field.
std::pair<int, int> CapacityOf(const v1::Engineer& engineer, const v1::DispatchPolicy& policy) {
  const int active = engineer.capacity().max_active() > 0
                         ? engineer.capacity().max_active()
                         : policy.default_capacity().max_active();
  const int queued = engineer.capacity().max_queued() > 0
                         ? engineer.capacity().max_queued()
                         : policy.default_capacity().max_queued();
  return {active, queued};
}

bool PartnerAllows(const v1::Partner* partner, const v1::Engineer& engineer,
                   const v1::DispatchOrder& order) {
  if (partner == nullptr || partner->partner_id() != engineer.partner_id()) return false;
  const std::string& brand = order.appliance_brand();
  if (!partner->allowed_brands().empty() && !brand.empty() &&
      !ListHasBrand(partner->allowed_brands(), brand)) {
    return false;
  }
  if (!partner->allowed_regions().empty() &&
      !Contains(partner->allowed_regions(), order.service_area().region_code())) {
    return false;
  }
  return true;
}

// Some skill for the category admits the order's brand.
bool BrandAllowed(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                  const v1::Partner* partner) {
  const std::string& brand = order.appliance_brand();
  if (absl::StripAsciiWhitespace(brand).empty()) return true;  // no brand: no constraint
  for (const v1::Skill& skill : engineer.skills()) {
    if (skill.appliance_category() != order.appliance_category()) continue;
    if (skill.level() == v1::CERTIFICATION_LEVEL_SENIOR && engineer.cross_brand()) return true;
    if (!skill.brands().empty()) {
      if (ListHasBrand(skill.brands(), brand)) return true;
    } else if (partner == nullptr || partner->allowed_brands().empty() ||
               ListHasBrand(partner->allowed_brands(), brand)) {
      return true;
    }
  }
  return false;
}

const v1::RankingFactor* FindFactor(const v1::Candidate& c, v1::RankingFactorKind kind) {
  for (const v1::RankingFactor& f : c.factors()) {
    if (f.kind() == kind) return &f;
  }
  return nullptr;
}

double RawOr(const v1::Candidate& c, v1::RankingFactorKind kind, double fallback) {
  const v1::RankingFactor* f = FindFactor(c, kind);
  return f != nullptr ? f->raw_value() : fallback;
}

// ---- validation helpers ----

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::string At(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

absl::Status CheckDuration(absl::string_view field, bool present,
                           const google::protobuf::Duration& d, absl::Duration lo,
                           absl::Duration hi, absl::string_view range_text) {
  if (!present) return Invalid(field, "required");
  const bool well_formed = d.nanos() > -1'000'000'000 && d.nanos() < 1'000'000'000 &&
                           !(d.seconds() > 0 && d.nanos() < 0) &&
                           !(d.seconds() < 0 && d.nanos() > 0);
  if (!well_formed) return Invalid(field, absl::StrCat("must be in ", range_text));
  const absl::Duration value = rpc::FromProto(d);
  if (value < lo || value > hi) return Invalid(field, absl::StrCat("must be in ", range_text));
  return absl::OkStatus();
}

absl::Status CheckPoint(const std::string& field, const v1::GeoPoint& p) {
  return rpc::Validator()
      .Range(field + ".lat_deg", p.lat_deg(), -90, 90)
      .Range(field + ".lng_deg", p.lng_deg(), -180, 180)
      .status();
}

absl::Status CheckCoverage(const std::string& path, const v1::CoverageArea& c) {
  rpc::Validator v;
  v.Check(path + ".region_codes", c.region_codes_size() <= 64, "at most 64 region codes");
  for (int i = 0; i < c.region_codes_size(); ++i) {
    v.Id(At(path + ".region_codes", i), c.region_codes(i), 32);
  }
  v.Range(path + ".radius_km", c.radius_km(), 0, 500);
  if (!v.status().ok()) return v.status();
  if (c.radius_km() > 0) {
    if (!c.has_center()) return Invalid(path + ".center", "required when radius_km > 0");
    if (absl::Status s = CheckPoint(path + ".center", c.center()); !s.ok()) return s;
  } else if (c.has_center()) {
    if (absl::Status s = CheckPoint(path + ".center", c.center()); !s.ok()) return s;
  }
  const int n = c.polygon_size();
  if (n == 0) return absl::OkStatus();
  if (n < 3 || n > 256) return Invalid(path + ".polygon", "0 or 3..256 vertices");
  for (int i = 0; i < n; ++i) {
    if (absl::Status s = CheckPoint(At(path + ".polygon", i), c.polygon(i)); !s.ok()) return s;
  }
  const v1::GeoPoint& first = c.polygon(0);
  const v1::GeoPoint& last = c.polygon(n - 1);
  if (first.lat_deg() == last.lat_deg() && first.lng_deg() == last.lng_deg()) {
    return Invalid(At(path + ".polygon", n - 1), "do not repeat the first vertex");
  }
  return absl::OkStatus();
}

absl::Status CheckShifts(const std::string& path, const v1::ShiftCalendar& shifts) {
  rpc::Validator v;
  v.Check(path + ".weekly", shifts.weekly_size() <= 21, "at most 21 shifts")
      .Check(path + ".exceptions", shifts.exceptions_size() <= 366, "at most 366 exceptions");
  const bool any = shifts.weekly_size() > 0 || shifts.exceptions_size() > 0;
  if (any) v.Check(path + ".time_zone", !shifts.time_zone().empty(), "required with shifts");
  if (!v.status().ok()) return v.status();
  if (!shifts.time_zone().empty()) {
    absl::TimeZone tz;
    if (shifts.time_zone().size() > 64 || !absl::LoadTimeZone(shifts.time_zone(), &tz)) {
      return Invalid(path + ".time_zone",
                     absl::StrCat("unknown time zone \"", absl::CEscape(shifts.time_zone()),
                                  "\" (use an IANA name such as Asia/Shanghai)"));
    }
  }
  for (int i = 0; i < shifts.weekly_size(); ++i) {
    const v1::WeeklyShift& w = shifts.weekly(i);
    const std::string p = At(path + ".weekly", i);
    v.Check(p + ".iso_weekday", w.iso_weekday() >= 1 && w.iso_weekday() <= 7,
            "must be 1 (Monday) .. 7 (Sunday)")
        .Check(p + ".start_minute", w.start_minute() >= 0 && w.start_minute() < kMinutesPerDay,
               "must be in [0, 1440)")
        .Check(p + ".end_minute", w.end_minute() > w.start_minute() && w.end_minute() <= kMinutesPerDay,
               "must be in (start_minute, 1440]");
  }
  if (!v.status().ok()) return v.status();
  absl::flat_hash_set<std::tuple<int, int, int>> dates;
  for (int i = 0; i < shifts.exceptions_size(); ++i) {
    const v1::ShiftException& e = shifts.exceptions(i);
    const std::string p = At(path + ".exceptions", i);
    if (!e.has_date()) return Invalid(p + ".date", "required");
    if (!ValidDate(e.date())) return Invalid(p + ".date", "not a valid calendar date");
    if (!dates.insert({e.date().year(), e.date().month(), e.date().day()}).second) {
      return Invalid(p + ".date", "duplicate date (one exception per local date)");
    }
    if (!e.off()) {
      v.Check(p + ".start_minute", e.start_minute() >= 0 && e.start_minute() < kMinutesPerDay,
              "must be in [0, 1440)")
          .Check(p + ".end_minute",
                 e.end_minute() > e.start_minute() && e.end_minute() <= kMinutesPerDay,
                 "must be in (start_minute, 1440]");
      if (!v.status().ok()) return v.status();
    }
  }
  return absl::OkStatus();
}

// Keeps the first text-format error with its 1-based position.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (error_.empty()) {
      error_ = absl::StrCat("policy: line ", line + 1, " column ", column + 1, ": ", message);
    }
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace

v1::CertificationLevel RequiredLevel(const v1::DispatchOrder& order) {
  v1::CertificationLevel level = v1::CERTIFICATION_LEVEL_JUNIOR;
  if (order.complexity() == v1::FAULT_COMPLEXITY_COMPLEX) {
    level = v1::CERTIFICATION_LEVEL_INTERMEDIATE;
  }
  if (order.is_rework()) level = std::max(level, NextLevel(order.rework_of_level()));
  return level;
}

v1::CertificationLevel LevelFor(const v1::Engineer& engineer,
                                const std::string& appliance_category) {
  v1::CertificationLevel level = v1::CERTIFICATION_LEVEL_UNSPECIFIED;
  for (const v1::Skill& skill : engineer.skills()) {
    if (skill.appliance_category() == appliance_category &&
        v1::CertificationLevel_IsValid(skill.level())) {
      level = std::max(level, skill.level());
    }
  }
  return level;
}

bool Covers(const v1::CoverageArea& coverage, const v1::ServiceArea& area) {
  if (!area.region_code().empty() && Contains(coverage.region_codes(), area.region_code())) {
    return true;
  }
  if (!area.has_location()) return false;
  if (coverage.radius_km() > 0 && coverage.has_center() &&
      geo::DistanceKm(ToPoint(coverage.center()), ToPoint(area.location())) <=
          coverage.radius_km()) {
    return true;
  }
  return coverage.polygon_size() >= 3 && InPolygon(coverage.polygon(), area.location());
}

namespace {

// absl::LoadTimeZone takes a global lock and a map lookup per call; a
// decision asks for the same few zones dozens of times. Per-thread cache of
// the last zone loaded (zones are immutable once loaded).
bool CachedTimeZone(const std::string& name, absl::TimeZone* tz) {
  thread_local std::string last_name;
  thread_local absl::TimeZone last_tz;
  thread_local bool last_ok = false;
  if (last_ok && name == last_name) {
    *tz = last_tz;
    return true;
  }
  if (!absl::LoadTimeZone(name, tz)) return false;
  last_name = name;
  last_tz = *tz;
  last_ok = true;
  return true;
}

// Calls visit(start, end) for each shift piece overlapping [from, to),
// clipped to it, unsorted and unmerged, until visit returns false. Returns
// false if the calendar is unusable (no pieces). The empty calendar is one
// piece [from, to).
template <typename Visit>
void ForEachShiftPiece(const v1::ShiftCalendar& shifts, absl::Time from, absl::Time to,
                       const Visit& visit) {
  if (!(from < to) || from == absl::InfinitePast() || from == absl::InfiniteFuture()) return;
  if (shifts.weekly_size() == 0 && shifts.exceptions_size() == 0) {
    visit(from, to);  // no calendar: always on shift
    return;
  }
  to = std::min(to, from + kMaxShiftSpan);
  absl::TimeZone tz;
  if (shifts.time_zone().empty() || !CachedTimeZone(shifts.time_zone(), &tz)) {
    return;  // unusable calendar (rejected by ValidateEngineer): never on shift
  }
  // Local days that can hold a shift overlapping [from, to).
  const absl::CivilDay first = absl::ToCivilDay(from, tz) - 1;
  const absl::CivilDay last = absl::ToCivilDay(to, tz);
  bool more = true;
  auto add = [&](absl::CivilDay day, int start_minute, int end_minute) {
    if (!more || !ShiftMinutesValid(start_minute, end_minute)) return;
    const absl::Time start = absl::FromCivil(absl::CivilSecond(day) + 60 * start_minute, tz);
    const absl::Time end = absl::FromCivil(absl::CivilSecond(day) + 60 * end_minute, tz);
    const absl::Time s = std::max(start, from), e = std::min(end, to);
    if (s < e) more = visit(s, e);
  };
  for (absl::CivilDay day = first; more && day <= last; ++day) {
    bool excepted = false, off = false;
    for (const v1::ShiftException& e : shifts.exceptions()) {
      if (!IsDay(e.date(), day)) continue;
      excepted = true;
      off = off || e.off();
    }
    if (excepted) {
      if (off) continue;  // the day is cancelled
      for (const v1::ShiftException& e : shifts.exceptions()) {
        if (IsDay(e.date(), day)) add(day, e.start_minute(), e.end_minute());
      }
      continue;
    }
    const int weekday = IsoWeekday(day);
    for (const v1::WeeklyShift& w : shifts.weekly()) {
      if (w.iso_weekday() == weekday) add(day, w.start_minute(), w.end_minute());
    }
  }
}

}  // namespace

std::vector<std::pair<absl::Time, absl::Time>> ShiftsBetween(const v1::ShiftCalendar& shifts,
                                                             absl::Time from, absl::Time to) {
  std::vector<std::pair<absl::Time, absl::Time>> raw;
  ForEachShiftPiece(shifts, from, to, [&](absl::Time s, absl::Time e) {
    raw.emplace_back(s, e);
    return true;
  });
  std::sort(raw.begin(), raw.end());
  std::vector<std::pair<absl::Time, absl::Time>> out;
  for (const auto& interval : raw) {
    if (!out.empty() && interval.first <= out.back().second) {  // touching or overlapping
      out.back().second = std::max(out.back().second, interval.second);
    } else {
      out.push_back(interval);
    }
  }
  return out;
}

bool OnShiftWithin(const v1::ShiftCalendar& shifts, absl::Time now, absl::Time until) {
  // Non-empty merged intervals <=> some non-empty piece: stop at the first.
  bool any = false;
  ForEachShiftPiece(shifts, now, until, [&](absl::Time, absl::Time) {
    any = true;
    return false;
  });
  return any;
}

namespace {

// Visits each hard constraint the engineer fails, in HardConstraint order,
// until fail(h) returns false (FailedConstraints collects all; Eligible stops
// at the first).
template <typename Fail>
void VisitFailedConstraints(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                            const Situation& situation, const Fail& fail) {
  const v1::DispatchPolicy& policy = PolicyOf(situation);
  const absl::Time now = situation.now;

  const v1::CertificationLevel level = LevelFor(engineer, order.appliance_category());
  if (level == v1::CERTIFICATION_LEVEL_UNSPECIFIED) {
    // Level and brand are about the category's skill: not judged without one.
    if (!fail(v1::HARD_CONSTRAINT_SKILL_CATEGORY)) return;
  } else {
    if (level < RequiredLevel(order) && !fail(v1::HARD_CONSTRAINT_CERTIFICATION_LEVEL)) return;
    if (!BrandAllowed(engineer, order, situation.partner) && !fail(v1::HARD_CONSTRAINT_BRAND)) {
      return;
    }
  }

  // On shift at some instant between now and the arrival deadline (an
  // order already past it, or without one, needs the engineer on shift now).
  const absl::Time deadline = ArrivalDeadline(order, now);
  const absl::Time shift_until = std::max(deadline, now + absl::Nanoseconds(1));
  if (!OnShiftWithin(engineer.shifts(), now, shift_until) && !fail(v1::HARD_CONSTRAINT_SHIFT)) {
    return;
  }

  const bool coverage_waived = situation.neighbour_region && situation.past_dispatch_deadline;
  if (!coverage_waived && !Covers(engineer.coverage(), order.service_area()) &&
      !fail(v1::HARD_CONSTRAINT_COVERAGE)) {
    return;
  }

  const auto [max_active, max_queued] = CapacityOf(engineer, policy);
  const Load& load = situation.load;
  if (load.active + load.queued + load.pending_offers >= max_active + max_queued &&
      !fail(v1::HARD_CONSTRAINT_CAPACITY)) {
    return;
  }

  if (Contains(order.excluded_engineer_ids(), engineer.engineer_id()) &&
      !fail(v1::HARD_CONSTRAINT_PREVIOUSLY_DECLINED)) {
    return;
  }
  if (!PartnerAllows(situation.partner, engineer, order) &&
      !fail(v1::HARD_CONSTRAINT_PARTNER_NOT_ALLOWED)) {
    return;
  }
  if ((engineer.status() == v1::ENGINEER_STATUS_SUSPENDED ||
       engineer.status() == v1::ENGINEER_STATUS_OFF_DUTY) &&
      !fail(v1::HARD_CONSTRAINT_STATUS)) {
    return;
  }
  if (order.is_rework() && !order.rework_of_engineer_id().empty() &&
      order.rework_of_engineer_id() == engineer.engineer_id() &&
      !fail(v1::HARD_CONSTRAINT_REWORK_SAME_ENGINEER)) {
    return;
  }
  if (engineer.backup() && !situation.past_dispatch_deadline &&
      !fail(v1::HARD_CONSTRAINT_BACKUP_POOL)) {
    return;
  }
  const bool stale =
      !engineer.has_location() || !engineer.has_location_reported_at() ||
      now - rpc::FromProto(engineer.location_reported_at()) >
          rpc::FromProto(policy.location_stale_after());
  if (stale) fail(v1::HARD_CONSTRAINT_LOCATION_STALE);
}

// Every number of a candidate's explanation, computed once: Evaluate puts
// them into protos, ScoreOf keeps them for ranking.
struct Numbers {
  Arrival arrival;
  absl::Duration slack;
  bool eligible = false;
  // Factors in RankingFactorKind order, for eligible candidates only.
  double raw[5] = {0, 0, 0, 0, 0};
  double normalized[5] = {0, 0, 0, 0, 0};  // clamped to [0, 1]
  double weight[5] = {0, 0, 0, 0, 0};
  double contribution[5] = {0, 0, 0, 0, 0};
  double total = 0;
};

constexpr v1::RankingFactorKind kFactorKinds[5] = {
    v1::RANKING_FACTOR_KIND_ARRIVAL_SLACK, v1::RANKING_FACTOR_KIND_RATING,
    v1::RANKING_FACTOR_KIND_FIRST_TIME_FIX, v1::RANKING_FACTOR_KIND_WORKLOAD_BALANCE,
    v1::RANKING_FACTOR_KIND_PARTNER_PREFERENCE};
constexpr const char* kFactorUnits[5] = {"minutes", "rating", "ratio", "jobs today",
                                         "preference"};

Numbers Compute(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                const Situation& situation, bool eligible) {
  const v1::DispatchPolicy& policy = PolicyOf(situation);
  Numbers n;
  n.arrival = PredictArrival(engineer, order, situation);
  n.slack = ArrivalDeadline(order, situation.now) - n.arrival.at;
  n.eligible = eligible;
  if (!eligible) return n;
  const v1::RankingWeights& w = policy.weights();
  const double slack_min = absl::ToDoubleMinutes(n.slack);
  const double rating = engineer.rating_count() > 0 ? std::clamp(engineer.rating(), 1.0, 5.0) : 4.0;
  const double ftf = std::clamp(engineer.first_time_fix_rate(), 0.0, 1.0);
  const double jobs = situation.load.jobs_today;
  const double preference = situation.partner != nullptr && situation.partner->preference() != 0
                                ? std::clamp(situation.partner->preference(), 0.0, 1.0)
                                : 0.5;
  const double raw[5] = {slack_min, rating, ftf, jobs, preference};
  const double normalized[5] = {(slack_min + 60.0) / 180.0, (rating - 1.0) / 4.0, ftf,
                                1.0 / (1.0 + std::max(0.0, jobs - situation.peer_jobs_today)),
                                preference};
  const double weight[5] = {w.arrival_slack(), w.rating(), w.first_time_fix(),
                            w.workload_balance(), w.partner_preference()};
  for (int i = 0; i < 5; ++i) {
    n.raw[i] = raw[i];
    n.normalized[i] = std::clamp(normalized[i], 0.0, 1.0);
    n.weight[i] = weight[i];
    n.contribution[i] = n.normalized[i] * weight[i];
  }
  for (int i = 0; i < 5; ++i) n.total += n.contribution[i];
  return n;
}

}  // namespace

std::vector<v1::HardConstraint> FailedConstraints(const v1::Engineer& engineer,
                                                  const v1::DispatchOrder& order,
                                                  const Situation& situation) {
  std::vector<v1::HardConstraint> failed;
  VisitFailedConstraints(engineer, order, situation, [&](v1::HardConstraint h) {
    failed.push_back(h);
    return true;
  });
  return failed;
}

bool Eligible(const v1::Engineer& engineer, const v1::DispatchOrder& order,
              const Situation& situation) {
  bool eligible = true;
  VisitFailedConstraints(engineer, order, situation, [&](v1::HardConstraint) {
    eligible = false;
    return false;
  });
  return eligible;
}

Arrival PredictArrival(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                       const Situation& situation) {
  const v1::DispatchPolicy& policy = PolicyOf(situation);
  Arrival arrival;
  const int jobs_ahead = std::max(0, situation.load.active) + std::max(0, situation.load.queued);
  arrival.queued_work = jobs_ahead * rpc::FromProto(policy.on_site_job_estimate());
  arrival.travel = absl::ZeroDuration();
  if (engineer.has_location() && order.service_area().has_location()) {
    arrival.distance_km =
        geo::DistanceKm(ToPoint(engineer.location()), ToPoint(order.service_area().location()));
    arrival.travel = geo::EstimateTravelTime(
        arrival.distance_km, geo::TravelModel{policy.road_factor(), policy.speed_kmh()});
  }
  arrival.at = situation.now + arrival.queued_work + arrival.travel;
  return arrival;
}

v1::Candidate Evaluate(const v1::Engineer& engineer, const v1::DispatchOrder& order,
                       const Situation& situation) {
  v1::Candidate c;
  c.set_engineer_id(engineer.engineer_id());
  c.set_partner_id(engineer.partner_id());
  c.set_level(LevelFor(engineer, order.appliance_category()));
  c.set_from_backup_pool(engineer.backup());
  c.set_neighbour_region(situation.neighbour_region);

  const std::vector<v1::HardConstraint> failed = FailedConstraints(engineer, order, situation);
  const Numbers n = Compute(engineer, order, situation, failed.empty());
  c.set_distance_km(n.arrival.distance_km);
  if (n.arrival.at != absl::InfiniteFuture()) {
    *c.mutable_predicted_arrival() = rpc::ToProto(n.arrival.at);
    *c.mutable_slack() = rpc::ToProto(n.slack);
  }
  for (v1::HardConstraint h : failed) c.add_failed_constraints(h);
  c.set_eligible(n.eligible);
  if (!c.eligible()) return c;
  for (int i = 0; i < 5; ++i) {
    v1::RankingFactor* f = c.add_factors();
    f->set_kind(kFactorKinds[i]);
    f->set_raw_value(n.raw[i]);
    f->set_unit(kFactorUnits[i]);
    f->set_normalized(n.normalized[i]);
    f->set_weight(n.weight[i]);
    f->set_contribution(n.contribution[i]);
  }
  c.set_total_score(n.total);
  return c;
}

Score ScoreOf(const v1::Engineer& engineer, const v1::DispatchOrder& order,
              const Situation& situation) {
  Score s;
  s.engineer_id = &engineer.engineer_id();
  s.eligible = Eligible(engineer, order, situation);
  if (!s.eligible) return s;  // ranked by id only
  const Numbers n = Compute(engineer, order, situation, true);
  // The Candidate carries slack in whole nanoseconds, and none when the
  // arrival is unknown; Rank compares what the Candidate carries.
  if (n.arrival.at != absl::InfiniteFuture()) s.slack = rpc::FromProto(rpc::ToProto(n.slack));
  s.total = n.total;
  s.rating = n.raw[1];
  s.first_time_fix = n.raw[2];
  s.jobs_today = n.raw[3];
  s.preference = n.raw[4];
  return s;
}

bool RankedBefore(const Score& a, const Score& b) {
  if (a.eligible != b.eligible) return a.eligible;
  if (!a.eligible) return *a.engineer_id < *b.engineer_id;  // ineligible: by id
  if (a.total != b.total) return a.total > b.total;
  if (a.slack != b.slack) return a.slack > b.slack;
  if (a.rating != b.rating) return a.rating > b.rating;
  if (a.first_time_fix != b.first_time_fix) return a.first_time_fix > b.first_time_fix;
  if (a.jobs_today != b.jobs_today) return a.jobs_today < b.jobs_today;
  if (a.preference != b.preference) return a.preference > b.preference;
  return *a.engineer_id < *b.engineer_id;
}

void Rank(std::vector<v1::Candidate>& candidates) {
  auto better = [](const v1::Candidate& a, const v1::Candidate& b) {
    if (a.eligible() != b.eligible()) return a.eligible();
    if (!a.eligible()) return a.engineer_id() < b.engineer_id();  // ineligible: by id
    if (a.total_score() != b.total_score()) return a.total_score() > b.total_score();
    const absl::Duration sa = rpc::FromProto(a.slack()), sb = rpc::FromProto(b.slack());
    if (sa != sb) return sa > sb;
    using K = v1::RankingFactorKind;
    for (K kind : {v1::RANKING_FACTOR_KIND_RATING, v1::RANKING_FACTOR_KIND_FIRST_TIME_FIX}) {
      const double ra = RawOr(a, kind, 0), rb = RawOr(b, kind, 0);
      if (ra != rb) return ra > rb;
    }
    const double ja = RawOr(a, v1::RANKING_FACTOR_KIND_WORKLOAD_BALANCE, 0);
    const double jb = RawOr(b, v1::RANKING_FACTOR_KIND_WORKLOAD_BALANCE, 0);
    if (ja != jb) return ja < jb;
    const double pa = RawOr(a, v1::RANKING_FACTOR_KIND_PARTNER_PREFERENCE, 0);
    const double pb = RawOr(b, v1::RANKING_FACTOR_KIND_PARTNER_PREFERENCE, 0);
    if (pa != pb) return pa > pb;
    return a.engineer_id() < b.engineer_id();
  };
  std::stable_sort(candidates.begin(), candidates.end(), better);
  int rank = 0;
  for (v1::Candidate& c : candidates) c.set_rank(c.eligible() ? ++rank : 0);
}

bool ServedBefore(const v1::DispatchOrder& a, const v1::DispatchOrder& b) {
  if (a.priority() != b.priority()) return a.priority() > b.priority();
  // An unset instant sorts last.
  auto instant = [](bool present, const google::protobuf::Timestamp& ts) {
    return present ? rpc::FromProto(ts) : absl::InfiniteFuture();
  };
  const absl::Time da = instant(a.has_arrival_deadline(), a.arrival_deadline());
  const absl::Time db = instant(b.has_arrival_deadline(), b.arrival_deadline());
  if (da != db) return da < db;
  const absl::Time ca = instant(a.has_order_created_at(), a.order_created_at());
  const absl::Time cb = instant(b.has_order_created_at(), b.order_created_at());
  if (ca != cb) return ca < cb;
  return a.order_id() < b.order_id();
}

absl::Duration OfferTimeout(const v1::DispatchOrder& order, const v1::DispatchPolicy& policy) {
  return rpc::FromProto(order.priority() == v1::PRIORITY_EMERGENCY
                            ? policy.offer_timeout_emergency()
                            : policy.offer_timeout_default());
}

absl::Status ValidateDispatchPolicy(const v1::DispatchPolicy& policy) {
  absl::Status s = rpc::Validator()
                       .Id("ref.name", policy.ref().name(), 64)
                       .Id("ref.version", policy.ref().version(), 64)
                       .status();
  if (!s.ok()) return s;
  if (s = CheckDuration("offer_timeout_emergency", policy.has_offer_timeout_emergency(),
                        policy.offer_timeout_emergency(), absl::Minutes(1), absl::Hours(2),
                        "[1 min, 2 h]");
      !s.ok()) {
    return s;
  }
  if (s = CheckDuration("offer_timeout_default", policy.has_offer_timeout_default(),
                        policy.offer_timeout_default(), absl::Minutes(1), absl::Hours(2),
                        "[1 min, 2 h]");
      !s.ok()) {
    return s;
  }
  if (!policy.has_weights()) return Invalid("weights", "required");
  const v1::RankingWeights& w = policy.weights();
  const std::pair<const char*, double> weights[] = {
      {"weights.arrival_slack", w.arrival_slack()},
      {"weights.rating", w.rating()},
      {"weights.first_time_fix", w.first_time_fix()},
      {"weights.workload_balance", w.workload_balance()},
      {"weights.partner_preference", w.partner_preference()},
  };
  double sum = 0;
  for (const auto& [field, value] : weights) {
    if (!(std::isfinite(value) && value >= 0)) return Invalid(field, "must be a finite number >= 0");
    sum += value;
  }
  if (!(sum > 0)) return Invalid("weights", "at least one weight must be > 0");
  s = rpc::Validator()
          .Range("road_factor", policy.road_factor(), 1, 3)
          .Check("speed_kmh", policy.speed_kmh() > 0 && policy.speed_kmh() <= 150,
                 "must be in (0, 150]")
          .Check("default_capacity", policy.has_default_capacity(), "required")
          .Range("default_capacity.max_active", policy.default_capacity().max_active(), 1, 10)
          .Range("default_capacity.max_queued", policy.default_capacity().max_queued(), 0, 20)
          .status();
  if (!s.ok()) return s;
  if (s = CheckDuration("location_stale_after", policy.has_location_stale_after(),
                        policy.location_stale_after(), absl::Minutes(1), absl::Hours(24),
                        "[1 min, 24 h]");
      !s.ok()) {
    return s;
  }
  if (s = CheckDuration("on_site_job_estimate", policy.has_on_site_job_estimate(),
                        policy.on_site_job_estimate(), absl::Minutes(5), absl::Hours(8),
                        "[5 min, 8 h]");
      !s.ok()) {
    return s;
  }
  return rpc::Validator()
      .Range("suspend_below_diagnosis_accuracy", policy.suspend_below_diagnosis_accuracy(), 0, 1)
      .Range("max_attempts", policy.max_attempts(), 1, 100)
      .status();
}

absl::StatusOr<v1::DispatchPolicy> ParseDispatchPolicy(absl::string_view text) {
  v1::DispatchPolicy policy;
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &policy)) {
    return absl::InvalidArgumentError(errors.error().empty()
                                          ? "policy: not a valid text-format DispatchPolicy"
                                          : errors.error());
  }
  if (absl::Status s = ValidateDispatchPolicy(policy); !s.ok()) return s;
  return policy;
}

absl::Status ValidateEngineer(const v1::Engineer& engineer, absl::string_view field) {
  const std::string path(field);
  auto f = [&](absl::string_view name) { return absl::StrCat(path, ".", name); };
  rpc::Validator v;
  v.Id(f("engineer_id"), engineer.engineer_id(), 64)
      .Id(f("partner_id"), engineer.partner_id(), 64);
  if (!engineer.home_outlet_id().empty()) v.Id(f("home_outlet_id"), engineer.home_outlet_id(), 64);
  if (!engineer.home_region_code().empty()) {
    v.Id(f("home_region_code"), engineer.home_region_code(), 32);
  }
  v.Text(f("display_name"), engineer.display_name(), 64, true)
      .Text(f("phone"), engineer.phone(), 32, false)
      .Text(f("photo_ref"), engineer.photo_ref(), 512, false)
      .Text(f("suspension_reason"), engineer.suspension_reason(), 500, false)
      .Check(f("status"), v1::EngineerStatus_IsValid(engineer.status()),
             absl::StrCat("unknown value ", engineer.status()))
      .Check(f("skills"), engineer.skills_size() >= 1, "at least one skill")
      .Check(f("skills"), engineer.skills_size() <= 50, "at most 50 skills");
  if (!v.status().ok()) return v.status();

  absl::flat_hash_set<std::string> categories;
  for (int i = 0; i < engineer.skills_size(); ++i) {
    const v1::Skill& skill = engineer.skills(i);
    const std::string p = At(f("skills"), i);
    v.Id(p + ".appliance_category", skill.appliance_category(), 32)
        .Enum(p + ".level", skill.level(), v1::CertificationLevel_IsValid(skill.level()))
        .Check(p + ".brands", skill.brands_size() <= 200, "at most 200 brands");
    for (int b = 0; b < skill.brands_size(); ++b) {
      v.Text(At(p + ".brands", b), skill.brands(b), 64, true)
          .Check(At(p + ".brands", b), !absl::StripAsciiWhitespace(skill.brands(b)).empty(),
                 "must not be blank");
    }
    if (!v.status().ok()) return v.status();
    if (!categories.insert(skill.appliance_category()).second) {
      return Invalid(p + ".appliance_category",
                     absl::StrCat("duplicate category \"", skill.appliance_category(),
                                  "\" (one skill per category)"));
    }
  }

  if (absl::Status s = CheckCoverage(f("coverage"), engineer.coverage()); !s.ok()) return s;
  if (absl::Status s = CheckShifts(f("shifts"), engineer.shifts()); !s.ok()) return s;

  v.Range(f("capacity.max_active"), engineer.capacity().max_active(), 0, 10)
      .Range(f("capacity.max_queued"), engineer.capacity().max_queued(), 0, 20);
  if (engineer.rating() != 0) v.Range(f("rating"), engineer.rating(), 1, 5);
  v.Check(f("rating_count"), engineer.rating_count() >= 0, "must be >= 0")
      .Range(f("first_time_fix_rate"), engineer.first_time_fix_rate(), 0, 1)
      .Range(f("diagnosis_accuracy"), engineer.diagnosis_accuracy(), 0, 1);
  if (!v.status().ok()) return v.status();
  if (engineer.has_location()) return CheckPoint(f("location"), engineer.location());
  return absl::OkStatus();
}

}  // namespace aftersales::dispatch::domain
