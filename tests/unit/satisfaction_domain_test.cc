// Satisfaction scorecards on hand-computed fixtures (SPEC §6): CSAT%, NPS,
// satisfaction index, coverage and response rate; empty windows; a single
// response; rolling windows and calendar weeks whose edges are Monday 00:00
// in the region's own time zone (incl. a DST week); SQI parts and ranking.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "satisfaction/domain/aggregate.h"
#include "satisfaction/domain/policy.h"
#include "satisfaction/domain/sqi.h"
#include "satisfaction/domain/survey.h"

namespace aftersales::satisfaction::domain {
namespace {

const v1::SatisfactionPolicy& Shipped() {
  static const v1::SatisfactionPolicy policy = [] {
    std::ifstream in(std::string(AFTERSALES_SOURCE_DIR) +
                     "/deploy/policies/satisfaction.textproto");
    std::stringstream buf;
    buf << in.rdbuf();
    auto p = ParseSatisfactionPolicy(buf.str());
    if (!p.ok()) FAIL("shipped policy: " << p.status());
    return *p;
  }();
  return policy;
}

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone z;
  REQUIRE(absl::LoadTimeZone(name, &z));
  return z;
}

v1::SurveyResponse Response(int csat, int nps, std::vector<int> d, bool solved = true) {
  v1::SurveyResponse r;
  r.set_csat(csat);
  r.set_nps(nps);
  auto* s = r.mutable_dimensions();
  s->set_booking_convenience(d[0]);
  s->set_timeliness(d[1]);
  s->set_engineer_attitude(d[2]);
  s->set_professionalism(d[3]);
  s->set_fee_transparency(d[4]);
  s->set_site_etiquette(d[5]);
  r.set_problem_solved(solved);
  return r;
}

// Four answers, five eligible orders, four sent (one still waiting):
//   CSAT 5, NPS 10, dims 5 5 5 5 5 5
//   CSAT 4, NPS  8, dims 4 4 4 4 4 4
//   CSAT 2, NPS  3, dims 1 2 3 2 1 3
//   CSAT 3, NPS  6, dims 3 3 3 3 3 3
v1::SatisfactionBucket FourAnswers() {
  v1::SatisfactionBucket b;
  for (int i = 0; i < 5; ++i) CountScheduled(b);
  CountAnswer(b, Response(5, 10, {5, 5, 5, 5, 5, 5}), false, false, false, false, true);
  CountSent(b);
  CountAnswer(b, Response(4, 8, {4, 4, 4, 4, 4, 4}), true, false, false, false, false);
  CountSent(b);
  CountAnswer(b, Response(2, 3, {1, 2, 3, 2, 1, 3}), true, true, true, true, false);
  CountSent(b);
  CountAnswer(b, Response(3, 6, {3, 3, 3, 3, 3, 3}), true, false, true, false, false);
  return b;
}

TEST_CASE("CSAT, NPS and the satisfaction index on a hand-computed fixture") {
  v1::Scorecard card;
  FillScorecard(FourAnswers(), Shipped(), card);
  CHECK(card.eligible_orders() == 5);
  CHECK(card.surveys_sent() == 4);
  CHECK(card.responses() == 4);
  CHECK(card.promoters() == 1);
  CHECK(card.passives() == 1);
  CHECK(card.detractors() == 2);
  CHECK(card.csat_percent() == Approx(50.0));          // 2 of 4 answered 4-5
  CHECK(card.nps() == Approx(-25.0));                  // 25% promoters - 50% detractors
  CHECK(card.mean_csat() == Approx(3.5));              // 14 / 4
  CHECK(card.dimension_means().booking_convenience() == Approx(3.25));
  CHECK(card.dimension_means().timeliness() == Approx(3.5));
  CHECK(card.dimension_means().engineer_attitude() == Approx(3.75));
  CHECK(card.dimension_means().professionalism() == Approx(3.5));
  CHECK(card.dimension_means().fee_transparency() == Approx(3.25));
  CHECK(card.dimension_means().site_etiquette() == Approx(3.75));
  // Equal weights: mean of means 3.5 -> (3.5 - 1) / 4 * 100.
  CHECK(card.satisfaction_index() == Approx(62.5));
  CHECK(card.follow_up_coverage() == Approx(0.8));     // 4 answered / 5 eligible
  CHECK(card.response_rate() == Approx(1.0));          // 4 answered / 4 sent
}

TEST_CASE("the satisfaction index follows the policy's dimension weights") {
  v1::SatisfactionPolicy p = Shipped();
  p.clear_dimension_weights();
  for (double w : {2.0, 1.0, 1.0, 1.0, 1.0, 0.0}) p.add_dimension_weights(w);
  // (2*3.25 + 3.5 + 3.75 + 3.5 + 3.25 + 0*3.75) / 6 = 20.5 / 6
  const double mean = 20.5 / 6.0;
  CHECK(SatisfactionIndex(FourAnswers(), p) == Approx((mean - 1.0) / 4.0 * 100.0));
}

TEST_CASE("an empty window is all zeros, not NaN") {
  v1::Scorecard card;
  FillScorecard(v1::SatisfactionBucket(), Shipped(), card);
  CHECK(card.responses() == 0);
  CHECK(card.csat_percent() == 0);
  CHECK(card.nps() == 0);
  CHECK(card.satisfaction_index() == 0);
  CHECK(card.mean_csat() == 0);
  CHECK(card.follow_up_coverage() == 0);
  CHECK(card.response_rate() == 0);
  CHECK(card.dimension_means().timeliness() == 0);
  // Scheduled but not answered yet: coverage 0, nothing else.
  v1::SatisfactionBucket waiting;
  CountScheduled(waiting);
  CountScheduled(waiting);
  CountSent(waiting);
  FillScorecard(waiting, Shipped(), card);
  CHECK(card.eligible_orders() == 2);
  CHECK(card.surveys_sent() == 1);
  CHECK(card.follow_up_coverage() == 0);
  CHECK(card.response_rate() == 0);
  CHECK(card.satisfaction_index() == 0);
}

TEST_CASE("a single response") {
  v1::SatisfactionBucket b;
  CountScheduled(b);
  CountAnswer(b, Response(4, 9, {4, 4, 4, 4, 4, 4}), false, false, false, false, false);
  v1::Scorecard card;
  FillScorecard(b, Shipped(), card);
  CHECK(card.responses() == 1);
  CHECK(card.surveys_sent() == 1);  // answered while still scheduled: sent by answering
  CHECK(card.csat_percent() == Approx(100));
  CHECK(card.nps() == Approx(100));
  CHECK(card.satisfaction_index() == Approx(75));  // (4 - 1) / 4
  CHECK(card.mean_csat() == Approx(4));
  CHECK(card.follow_up_coverage() == Approx(1));
  CHECK(card.response_rate() == Approx(1));
  // A lone detractor: NPS -100, CSAT% 0, index 0 at all-ones.
  v1::SatisfactionBucket bad;
  CountScheduled(bad);
  CountAnswer(bad, Response(1, 0, {1, 1, 1, 1, 1, 1}), false, true, true, true, false);
  FillScorecard(bad, Shipped(), card);
  CHECK(card.nps() == Approx(-100));
  CHECK(card.csat_percent() == 0);
  CHECK(card.satisfaction_index() == Approx(0));
}

TEST_CASE("NPS class edges: 6 is a detractor, 7-8 passive, 9 a promoter") {
  v1::SatisfactionBucket b;
  for (int nps : {6, 7, 8, 9}) {
    CountAnswer(b, Response(3, nps, {3, 3, 3, 3, 3, 3}), true, false, false, false, false);
  }
  CHECK(b.detractors() == 1);
  CHECK(b.passives() == 2);
  CHECK(b.promoters() == 1);
  v1::Scorecard card;
  FillScorecard(b, Shipped(), card);
  CHECK(card.nps() == Approx(0));
  CHECK(card.csat_percent() == 0);  // CSAT 3 is not satisfied
}

TEST_CASE("summing buckets equals counting everything in one") {
  v1::SatisfactionBucket a = FourAnswers(), b, sum;
  CountScheduled(b);
  CountAnswer(b, Response(5, 9, {5, 4, 5, 4, 5, 4}), false, false, false, false, false);
  AddInto(sum, a);
  AddInto(sum, b);
  v1::SatisfactionBucket all = FourAnswers();
  CountScheduled(all);
  CountAnswer(all, Response(5, 9, {5, 4, 5, 4, 5, 4}), false, false, false, false, false);
  CHECK(sum.SerializeAsString() == all.SerializeAsString());
}

// ---- windows ----------------------------------------------------------------

TEST_CASE("a calendar week starts Monday 00:00 in the region's zone") {
  const absl::TimeZone sh = Zone("Asia/Shanghai");
  // Wednesday 2026-11-25 15:00 Shanghai -> week of Monday 2026-11-23.
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 11, 25, 15, 0, 0), sh);
  auto w = WindowFor(v1::AGGREGATION_WINDOW_CALENDAR_WEEK, nullptr, now, sh);
  REQUIRE(w.ok());
  CHECK(w->first == absl::CivilDay(2026, 11, 23));
  CHECK(w->end == absl::CivilDay(2026, 11, 30));
  // Monday 00:00 Shanghai is Sunday 16:00 UTC.
  CHECK(w->start == absl::FromCivil(absl::CivilSecond(2026, 11, 22, 16, 0, 0), absl::UTCTimeZone()));
  CHECK(w->stop - w->start == absl::Hours(168));

  // The edge itself: Monday 00:00:00 belongs to the new week, one second
  // earlier to the previous one.
  const absl::Time monday = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 0, 0, 0), sh);
  const int64_t first = DayNumber(w->first), end = DayNumber(w->end);
  const int64_t at_edge = DayNumber(LocalDay(monday, sh));
  const int64_t before_edge = DayNumber(LocalDay(monday - absl::Seconds(1), sh));
  CHECK(at_edge >= first);
  CHECK(at_edge < end);
  CHECK(before_edge < first);
  // ...but the same instant is still Sunday in Berlin (17:00 the day before).
  const absl::TimeZone be = Zone("Europe/Berlin");
  CHECK(LocalDay(monday, be) == absl::CivilDay(2026, 11, 22));
  auto berlin = WindowFor(v1::AGGREGATION_WINDOW_CALENDAR_WEEK, nullptr, monday, be);
  REQUIRE(berlin.ok());
  CHECK(berlin->first == absl::CivilDay(2026, 11, 16));
  // The next Monday 00:00 Berlin closes the week: exclusive.
  const absl::Time berlin_monday = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 0, 0, 0), be);
  CHECK(berlin->stop == berlin_monday);
  CHECK(DayNumber(LocalDay(berlin_monday, be)) == DayNumber(berlin->end));
  CHECK(DayNumber(LocalDay(berlin_monday - absl::Seconds(1), be)) == DayNumber(berlin->end) - 1);
}

TEST_CASE("a week with a daylight-saving change is 167 hours, still Monday to Monday") {
  const absl::TimeZone be = Zone("Europe/Berlin");
  v1::CalendarDate monday;
  monday.set_year(2026);
  monday.set_month(3);
  monday.set_day(23);  // clocks go forward on Sunday 2026-03-29
  auto w = WindowFor(v1::AGGREGATION_WINDOW_CALENDAR_WEEK, &monday,
                     absl::FromCivil(absl::CivilDay(2026, 6, 1), be), be);
  REQUIRE(w.ok());
  CHECK(w->first == absl::CivilDay(2026, 3, 23));
  CHECK(w->stop - w->start == absl::Hours(167));
  CHECK(absl::ToCivilSecond(w->start, be) == absl::CivilSecond(2026, 3, 23, 0, 0, 0));
  CHECK(absl::ToCivilSecond(w->stop, be) == absl::CivilSecond(2026, 3, 30, 0, 0, 0));
}

TEST_CASE("week_start must be a valid Monday") {
  const absl::TimeZone sh = Zone("Asia/Shanghai");
  const absl::Time now = absl::FromCivil(absl::CivilDay(2026, 11, 25), sh);
  v1::CalendarDate d;
  d.set_year(2026);
  d.set_month(11);
  d.set_day(24);  // a Tuesday
  auto w = WindowFor(v1::AGGREGATION_WINDOW_CALENDAR_WEEK, &d, now, sh);
  CHECK(w.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(w.status().message() == "week_start: must be a Monday");
  d.set_month(2);
  d.set_day(30);
  CHECK(WindowFor(v1::AGGREGATION_WINDOW_CALENDAR_WEEK, &d, now, sh).status().message() ==
        "week_start: not a valid date");
  CHECK(WindowFor(v1::AGGREGATION_WINDOW_UNSPECIFIED, nullptr, now, sh).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("rolling windows are today and the days before, local midnight to midnight") {
  const absl::TimeZone sh = Zone("Asia/Shanghai");
  // Monday 2026-11-23 00:00 exactly: "today" is that Monday.
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 0, 0, 0), sh);
  auto w7 = WindowFor(v1::AGGREGATION_WINDOW_ROLLING_7D, nullptr, now, sh);
  auto w30 = WindowFor(v1::AGGREGATION_WINDOW_ROLLING_30D, nullptr, now, sh);
  auto w90 = WindowFor(v1::AGGREGATION_WINDOW_ROLLING_90D, nullptr, now, sh);
  REQUIRE(w7.ok());
  REQUIRE(w30.ok());
  REQUIRE(w90.ok());
  CHECK(w7->first == absl::CivilDay(2026, 11, 17));
  CHECK(w7->end == absl::CivilDay(2026, 11, 24));
  CHECK(w7->end - w7->first == 7);
  CHECK(w30->end - w30->first == 30);
  CHECK(w90->end - w90->first == 90);
  CHECK(w7->start == absl::FromCivil(absl::CivilDay(2026, 11, 17), sh));
  CHECK(w7->stop == absl::FromCivil(absl::CivilDay(2026, 11, 24), sh));
  // One second before: Sunday is today, the window moves back a day.
  auto before = WindowFor(v1::AGGREGATION_WINDOW_ROLLING_7D, nullptr, now - absl::Seconds(1), sh);
  REQUIRE(before.ok());
  CHECK(before->first == absl::CivilDay(2026, 11, 16));
}

TEST_CASE("MondayOf and day numbers") {
  CHECK(MondayOf(absl::CivilDay(2026, 11, 23)) == absl::CivilDay(2026, 11, 23));
  CHECK(MondayOf(absl::CivilDay(2026, 11, 29)) == absl::CivilDay(2026, 11, 23));
  CHECK(MondayOf(absl::CivilDay(2026, 11, 30)) == absl::CivilDay(2026, 11, 30));
  CHECK(DayNumber(absl::CivilDay(1970, 1, 2)) == 1);
  CHECK(DayFromNumber(DayNumber(absl::CivilDay(2026, 2, 28)) + 1) == absl::CivilDay(2026, 3, 1));
}

// ---- SQI --------------------------------------------------------------------

v1::SqiMonthCounters Counters(const std::string& region) {
  v1::SqiMonthCounters c;
  c.set_region_code(region);
  c.mutable_month()->set_year(2026);
  c.mutable_month()->set_month(11);
  c.mutable_month()->set_day(1);
  return c;
}

const v1::SqiComponent& Part(const v1::SqiScore& s, v1::SqiComponentKind kind) {
  for (const auto& c : s.components()) {
    if (c.kind() == kind) return c;
  }
  FAIL("no component " << v1::SqiComponentKind_Name(kind));
  return s.components(0);
}

TEST_CASE("SQI: four weighted parts on a hand-computed fixture") {
  v1::SqiMonthCounters c = Counters("CN-310000");
  c.set_arrival_clocks(10);
  c.set_arrival_met(9);
  c.set_first_contact_clocks(20);
  c.set_first_contact_met(19);
  c.set_repairs_confirmed(8);
  c.set_first_visit_fixes(6);
  c.set_diagnosis_matched(7);
  c.set_orders_created(100);
  c.set_complaints_filed(2);
  const v1::SqiScore s = ComputeSqi(c, FourAnswers(), Shipped(), absl::UnixEpoch());
  REQUIRE(s.components_size() == 4);
  // timeliness: (90 + 95) / 2
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_TIMELINESS).score() == Approx(92.5));
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_TIMELINESS).weight() == Approx(0.30));
  // technical: (75 + 87.5) / 2
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_TECHNICAL).score() == Approx(81.25));
  // experience: index 62.5; complaint rate 2% of 5% -> 60; mean 61.25
  const auto& exp = Part(s, v1::SQI_COMPONENT_KIND_EXPERIENCE);
  CHECK(exp.score() == Approx(61.25));
  REQUIRE(exp.inputs_size() == 2);
  CHECK(exp.inputs(1).name() == "complaint_rate");
  CHECK(exp.inputs(1).value() == Approx(0.02));
  CHECK(exp.inputs(1).score() == Approx(60));
  // data security: no incident recorded -> full score
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_DATA_SECURITY).score() == Approx(100));
  // 0.3*92.5 + 0.25*81.25 + 0.35*61.25 + 0.1*100
  CHECK(s.total() == Approx(79.5));
  CHECK(s.policy().name() == "satisfaction");
}

TEST_CASE("SQI: a part without data is left out and the weights renormalised") {
  v1::SqiMonthCounters c = Counters("CN-110000");
  const v1::SqiScore s = ComputeSqi(c, FourAnswers(), Shipped(), absl::UnixEpoch());
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_TIMELINESS).no_data());
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_TECHNICAL).no_data());
  CHECK_FALSE(Part(s, v1::SQI_COMPONENT_KIND_EXPERIENCE).no_data());
  CHECK(Part(s, v1::SQI_COMPONENT_KIND_EXPERIENCE).score() == Approx(62.5));
  CHECK(s.total() == Approx((0.35 * 62.5 + 0.10 * 100) / 0.45));
  // Complaints far above the zero point score 0, never negative; incidents too.
  c.set_orders_created(10);
  c.set_complaints_filed(5);
  c.set_security_incidents(7);
  const v1::SqiScore worse = ComputeSqi(c, v1::SatisfactionBucket(), Shipped(), absl::UnixEpoch());
  CHECK(Part(worse, v1::SQI_COMPONENT_KIND_EXPERIENCE).score() == 0);
  CHECK(Part(worse, v1::SQI_COMPONENT_KIND_DATA_SECURITY).score() == 0);
  CHECK(worse.total() == 0);
}

TEST_CASE("SQI: timeliness counts only met or breached arrival and first-contact clocks") {
  v1::SqiMonthCounters c = Counters("CN-310000");
  v1::SlaClockStopped s;
  s.set_clock(v1::SLA_CLOCK_KIND_ARRIVAL);
  s.set_outcome(v1::SLA_OUTCOME_MET);
  CHECK(CountSlaStopped(c, s));
  s.set_outcome(v1::SLA_OUTCOME_BREACHED);
  CHECK(CountSlaStopped(c, s));
  s.set_outcome(v1::SLA_OUTCOME_CANCELLED);
  CHECK_FALSE(CountSlaStopped(c, s));
  s.set_clock(v1::SLA_CLOCK_KIND_FIRST_CONTACT);
  s.set_outcome(v1::SLA_OUTCOME_MET);
  CHECK(CountSlaStopped(c, s));
  s.set_clock(v1::SLA_CLOCK_KIND_RESOLUTION);
  CHECK_FALSE(CountSlaStopped(c, s));
  CHECK(c.arrival_clocks() == 2);
  CHECK(c.arrival_met() == 1);
  CHECK(c.first_contact_clocks() == 1);
  CHECK(c.first_contact_met() == 1);
}

TEST_CASE("SQI ranking: best total first, ties by region code") {
  std::vector<v1::SqiScore> scores(3);
  scores[0].set_region_code("B");
  scores[0].set_total(70);
  scores[1].set_region_code("C");
  scores[1].set_total(90);
  scores[2].set_region_code("A");
  scores[2].set_total(70);
  RankSqi(scores);
  CHECK(scores[0].region_code() == "C");
  CHECK(scores[0].rank() == 1);
  CHECK(scores[1].region_code() == "A");
  CHECK(scores[1].rank() == 2);
  CHECK(scores[2].region_code() == "B");
  CHECK(scores[2].rank() == 3);
  CHECK(scores[2].ranked_regions() == 3);
}

}  // namespace
}  // namespace aftersales::satisfaction::domain
