#include "satisfaction/domain/aggregate.h"

#include "absl/strings/str_cat.h"
#include "satisfaction/domain/survey.h"

namespace aftersales::satisfaction::domain {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

void EnsureDimensions(v1::SatisfactionBucket& b) {
  while (b.dimension_sums_size() < kDimensions) b.add_dimension_sums(0);
}

}  // namespace

int64_t DayNumber(absl::CivilDay day) { return day - kEpoch; }
absl::CivilDay DayFromNumber(int64_t n) { return kEpoch + n; }
absl::CivilDay LocalDay(absl::Time t, const absl::TimeZone& zone) {
  return absl::ToCivilDay(t, zone);
}

void CountScheduled(v1::SatisfactionBucket& b) { b.set_eligible_orders(b.eligible_orders() + 1); }
void CountSent(v1::SatisfactionBucket& b) { b.set_surveys_sent(b.surveys_sent() + 1); }
void CountExpired(v1::SatisfactionBucket& b) { b.set_expired(b.expired() + 1); }

void CountAnswer(v1::SatisfactionBucket& b, const v1::SurveyResponse& r, bool sent_before,
                 bool detractor_rule, bool deep_follow_up, bool not_solved, bool five_star) {
  if (!sent_before) CountSent(b);
  b.set_responses(b.responses() + 1);
  b.set_csat_sum(b.csat_sum() + r.csat());
  if (r.csat() >= 4) b.set_csat_satisfied(b.csat_satisfied() + 1);
  if (r.nps() >= 9) {
    b.set_promoters(b.promoters() + 1);
  } else if (r.nps() >= 7) {
    b.set_passives(b.passives() + 1);
  } else {
    b.set_detractors(b.detractors() + 1);
  }
  EnsureDimensions(b);
  const std::vector<int> dims = DimensionValues(r.dimensions());
  for (int i = 0; i < kDimensions; ++i) b.set_dimension_sums(i, b.dimension_sums(i) + dims[i]);
  if (detractor_rule) b.set_detractor_rule(b.detractor_rule() + 1);
  if (deep_follow_up) b.set_deep_follow_ups(b.deep_follow_ups() + 1);
  if (not_solved) b.set_not_solved(b.not_solved() + 1);
  if (five_star) b.set_five_star(b.five_star() + 1);
}

void AddInto(v1::SatisfactionBucket& s, const v1::SatisfactionBucket& b) {
  s.set_eligible_orders(s.eligible_orders() + b.eligible_orders());
  s.set_surveys_sent(s.surveys_sent() + b.surveys_sent());
  s.set_responses(s.responses() + b.responses());
  s.set_csat_sum(s.csat_sum() + b.csat_sum());
  s.set_csat_satisfied(s.csat_satisfied() + b.csat_satisfied());
  s.set_promoters(s.promoters() + b.promoters());
  s.set_passives(s.passives() + b.passives());
  s.set_detractors(s.detractors() + b.detractors());
  EnsureDimensions(s);
  for (int i = 0; i < b.dimension_sums_size() && i < kDimensions; ++i) {
    s.set_dimension_sums(i, s.dimension_sums(i) + b.dimension_sums(i));
  }
  s.set_expired(s.expired() + b.expired());
  s.set_detractor_rule(s.detractor_rule() + b.detractor_rule());
  s.set_deep_follow_ups(s.deep_follow_ups() + b.deep_follow_ups());
  s.set_not_solved(s.not_solved() + b.not_solved());
  s.set_five_star(s.five_star() + b.five_star());
}

absl::CivilDay MondayOf(absl::CivilDay day) {
  const int since_monday = (static_cast<int>(absl::GetWeekday(day)) -
                            static_cast<int>(absl::Weekday::monday) + 7) % 7;
  return day - since_monday;
}

absl::StatusOr<Window> WindowFor(v1::AggregationWindow kind, const v1::CalendarDate* week_start,
                                 absl::Time now, const absl::TimeZone& zone) {
  const absl::CivilDay today = LocalDay(now, zone);
  Window w;
  switch (kind) {
    case v1::AGGREGATION_WINDOW_ROLLING_7D:
      w.first = today - 6;
      break;
    case v1::AGGREGATION_WINDOW_ROLLING_30D:
      w.first = today - 29;
      break;
    case v1::AGGREGATION_WINDOW_ROLLING_90D:
      w.first = today - 89;
      break;
    case v1::AGGREGATION_WINDOW_CALENDAR_WEEK:
      if (week_start != nullptr) {
        const v1::CalendarDate& d = *week_start;
        const absl::CivilDay day(d.year(), d.month(), d.day());
        if (d.year() < 1900 || d.year() > 9999 || day.year() != d.year() ||
            day.month() != d.month() || day.day() != d.day()) {
          return absl::InvalidArgumentError("week_start: not a valid date");
        }
        if (absl::GetWeekday(day) != absl::Weekday::monday) {
          return absl::InvalidArgumentError("week_start: must be a Monday");
        }
        w.first = day;
      } else {
        w.first = MondayOf(today);
      }
      w.end = w.first + 7;
      w.start = absl::FromCivil(w.first, zone);
      w.stop = absl::FromCivil(w.end, zone);
      return w;
    default:
      return absl::InvalidArgumentError("window: required (ROLLING_7D, ROLLING_30D, "
                                        "ROLLING_90D or CALENDAR_WEEK)");
  }
  w.end = today + 1;
  w.start = absl::FromCivil(w.first, zone);
  w.stop = absl::FromCivil(w.end, zone);
  return w;
}

double SatisfactionIndex(const v1::SatisfactionBucket& s, const v1::SatisfactionPolicy& p) {
  if (s.responses() <= 0) return 0;
  double weighted = 0, weights = 0;
  for (int i = 0; i < kDimensions && i < p.dimension_weights_size(); ++i) {
    const double sum = i < s.dimension_sums_size() ? static_cast<double>(s.dimension_sums(i)) : 0;
    weighted += p.dimension_weights(i) * (sum / static_cast<double>(s.responses()));
    weights += p.dimension_weights(i);
  }
  if (weights <= 0) return 0;
  return (weighted / weights - 1.0) / 4.0 * 100.0;
}

void FillScorecard(const v1::SatisfactionBucket& s, const v1::SatisfactionPolicy& p,
                   v1::Scorecard& card) {
  card.set_eligible_orders(s.eligible_orders());
  card.set_surveys_sent(s.surveys_sent());
  card.set_responses(s.responses());
  card.set_promoters(s.promoters());
  card.set_passives(s.passives());
  card.set_detractors(s.detractors());
  card.set_expired(s.expired());
  const double n = static_cast<double>(s.responses());
  if (s.responses() > 0) {
    card.set_csat_percent(100.0 * static_cast<double>(s.csat_satisfied()) / n);
    card.set_nps(100.0 * static_cast<double>(s.promoters()) / n -
                 100.0 * static_cast<double>(s.detractors()) / n);
    card.set_satisfaction_index(SatisfactionIndex(s, p));
    card.set_mean_csat(static_cast<double>(s.csat_sum()) / n);
    auto mean = [&](int i) {
      return i < s.dimension_sums_size() ? static_cast<double>(s.dimension_sums(i)) / n : 0.0;
    };
    v1::DimensionMeans* m = card.mutable_dimension_means();
    m->set_booking_convenience(mean(0));
    m->set_timeliness(mean(1));
    m->set_engineer_attitude(mean(2));
    m->set_professionalism(mean(3));
    m->set_fee_transparency(mean(4));
    m->set_site_etiquette(mean(5));
  }
  if (s.eligible_orders() > 0) {
    card.set_follow_up_coverage(std::min(
        1.0, static_cast<double>(s.responses()) / static_cast<double>(s.eligible_orders())));
  }
  if (s.surveys_sent() > 0) {
    card.set_response_rate(std::min(
        1.0, static_cast<double>(s.responses()) / static_cast<double>(s.surveys_sent())));
  }
}

}  // namespace aftersales::satisfaction::domain
