// 1,000 surveys over 40 simulated days on the satisfaction service's manual
// clock: a scripted intake emits repairs (with SLA clocks and orders for the
// SQI), a scripted complaint service files complaints, the test answers most
// surveys on later days, lets others expire, and then checks every scorecard
// (engineer, partner, region, category; rolling 7/30/90 days; every calendar
// week) and every SQI score against a brute-force recomputation from the raw
// surveys and events. Confirmations are placed exactly on Monday 00:00 (and
// one second before) in Shanghai and in Berlin, so week edges are exercised
// in both zones.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_format.h"
#include "aftersales/v1/admin.grpc.pb.h"
#include "aftersales/v1/events.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "catch2/catch.hpp"
#include "rpc/rpc.h"
#include "support/event_producer.h"
#include "support/test_support.h"

namespace aftersales {
namespace {

using testing::Context;
using testing::Eventually;

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone z;
  absl::LoadTimeZone(name, &z);
  return z;
}

const absl::TimeZone kShanghaiZone = Zone("Asia/Shanghai");
const absl::TimeZone kBerlinZone = Zone("Europe/Berlin");
// Monday 2026-10-12 00:00 Shanghai; 40 days until Saturday 2026-11-21.
const absl::Time kT0 = absl::FromCivil(absl::CivilDay(2026, 10, 12), kShanghaiZone);
constexpr int kDays = 40;
constexpr int kSurveys = 1000;

const std::vector<std::string> kRegions = {"CN-310000", "CN-110000", "DE-BE"};
const std::vector<std::string> kEngineers = {"E1", "E2", "E3", "E4", "E5", "E6"};
const std::vector<std::string> kPartners = {"PA", "PB", "PC"};
const std::vector<std::string> kCategories = {"FRIDGE", "WASHER", "AC"};
const std::pair<v1::ScorecardDimension, std::vector<std::string>> kAllKeys[] = {
    {v1::SCORECARD_DIMENSION_ENGINEER, kEngineers},
    {v1::SCORECARD_DIMENSION_PARTNER, kPartners},
    {v1::SCORECARD_DIMENSION_REGION, kRegions},
    {v1::SCORECARD_DIMENSION_CATEGORY, kCategories}};

// What the shipped policy says about zones (deploy/policies/satisfaction.textproto).
const absl::TimeZone& RegionZone(const std::string& region) {
  return region == "DE-BE" ? kBerlinZone : kShanghaiZone;
}
const absl::TimeZone& ZoneFor(v1::ScorecardDimension d, const std::string& key) {
  return d == v1::SCORECARD_DIMENSION_REGION ? RegionZone(key) : kShanghaiZone;
}

const std::string& KeyOf(const v1::Survey& s, v1::ScorecardDimension d) {
  switch (d) {
    case v1::SCORECARD_DIMENSION_ENGINEER: return s.engineer_id();
    case v1::SCORECARD_DIMENSION_PARTNER: return s.partner_id();
    case v1::SCORECARD_DIMENSION_REGION: return s.region_code();
    default: return s.appliance_category();
  }
}

struct PlannedRepair {
  std::string order, customer, engineer, partner, region, category;
  absl::Time confirmed;
  bool parts = false, complaint = false, ftf = true, diag = true;
  int answer_day = -1;   // sim day on which the customer answers; -1 never
  bool late = false;     // answers after expiry (must be refused)
};

// The brute force: a scorecard straight from the raw surveys.
struct Brute {
  int64_t eligible = 0, sent = 0, responses = 0, sat = 0, csat_sum = 0, promoters = 0,
          passives = 0, detractors = 0, expired = 0;
  int64_t dims[6] = {0, 0, 0, 0, 0, 0};
};

Brute BruteForce(const std::vector<v1::Survey>& surveys, v1::ScorecardDimension d,
                 const std::string& key, absl::CivilDay first, absl::CivilDay end) {
  Brute b;
  const absl::TimeZone& zone = ZoneFor(d, key);
  for (const auto& s : surveys) {
    if (KeyOf(s, d) != key) continue;
    const absl::CivilDay day = absl::ToCivilDay(rpc::FromProto(s.scheduled_at()), zone);
    if (day < first || day >= end) continue;
    ++b.eligible;
    if (s.state() != v1::SURVEY_STATE_SCHEDULED) ++b.sent;
    if (s.state() == v1::SURVEY_STATE_EXPIRED) ++b.expired;
    if (s.state() != v1::SURVEY_STATE_ANSWERED) continue;
    const auto& r = s.response();
    ++b.responses;
    b.csat_sum += r.csat();
    if (r.csat() >= 4) ++b.sat;
    if (r.nps() >= 9) {
      ++b.promoters;
    } else if (r.nps() >= 7) {
      ++b.passives;
    } else {
      ++b.detractors;
    }
    const auto& m = r.dimensions();
    const int v[6] = {m.booking_convenience(), m.timeliness(),       m.engineer_attitude(),
                      m.professionalism(),     m.fee_transparency(), m.site_etiquette()};
    for (int i = 0; i < 6; ++i) b.dims[i] += v[i];
  }
  return b;
}

double Index(const Brute& b) {
  if (b.responses == 0) return 0;
  double mean_of_means = 0;
  for (int i = 0; i < 6; ++i) mean_of_means += static_cast<double>(b.dims[i]) / b.responses / 6;
  return (mean_of_means - 1) / 4 * 100;
}

void CompareCard(const v1::Scorecard& card, const Brute& b) {
  CHECK(card.eligible_orders() == b.eligible);
  CHECK(card.surveys_sent() == b.sent);
  CHECK(card.responses() == b.responses);
  CHECK(card.promoters() == b.promoters);
  CHECK(card.passives() == b.passives);
  CHECK(card.detractors() == b.detractors);
  CHECK(card.expired() == b.expired);
  const double n = static_cast<double>(b.responses);
  CHECK(card.csat_percent() == Approx(n ? 100.0 * b.sat / n : 0).margin(1e-9));
  CHECK(card.nps() == Approx(n ? 100.0 * (b.promoters - b.detractors) / n : 0).margin(1e-9));
  CHECK(card.mean_csat() == Approx(n ? b.csat_sum / n : 0).margin(1e-9));
  CHECK(card.satisfaction_index() == Approx(Index(b)).margin(1e-9));
  CHECK(card.dimension_means().timeliness() == Approx(n ? b.dims[1] / n : 0).margin(1e-9));
  CHECK(card.dimension_means().site_etiquette() == Approx(n ? b.dims[5] / n : 0).margin(1e-9));
  CHECK(card.follow_up_coverage() ==
        Approx(b.eligible ? static_cast<double>(b.responses) / b.eligible : 0).margin(1e-9));
  CHECK(card.response_rate() ==
        Approx(b.sent ? static_cast<double>(b.responses) / b.sent : 0).margin(1e-9));
}

struct AggregateSuite {
  testing::TempDir dir;
  testing::TestTokens tokens{dir.path()};
  auth::TokenRegistry registry = *auth::TokenRegistry::LoadFile(tokens.file);
  testing::EventProducer intake{dir.Sub("scripted-intake"), &registry};
  testing::EventProducer complaint{dir.Sub("scripted-complaint"), &registry};
  std::unique_ptr<testing::ServiceProcess> sat;
  std::unique_ptr<v1::SatisfactionService::Stub> stub;

  AggregateSuite() {
    intake.Up();
    complaint.Up();
    testing::ServiceProcess::Options o;
    o.name = "satisfaction";
    o.data_dir = dir.Sub("satisfaction");
    o.tokens = &tokens;
    o.manual_clock = true;
    o.peers["intake"] = intake.address();
    o.peers["complaint"] = complaint.address();
    o.extra_flags = {"--clock_start=" +
                     absl::FormatTime(absl::RFC3339_full, kT0, absl::UTCTimeZone())};
    sat = std::make_unique<testing::ServiceProcess>(o);
    stub = v1::SatisfactionService::NewStub(sat->channel());
  }
  const std::string& token(const std::string& who) { return tokens.token.at(who); }

  void SetTime(absl::Time t) {
    v1::SetTimeRequest req;
    *req.mutable_now() = rpc::ToProto(t);
    v1::ClockTime now;
    REQUIRE(v1::ClockAdmin::NewStub(sat->channel())
                ->SetTime(Context(token("admin")).get(), req, &now)
                .ok());
  }

  std::vector<v1::Survey> AllSurveys(const v1::TimeRange* scheduled = nullptr) {
    std::vector<v1::Survey> out;
    v1::ListSurveysRequest req;
    req.mutable_page()->set_page_size(500);
    if (scheduled) *req.mutable_scheduled() = *scheduled;
    while (true) {
      v1::ListSurveysResponse resp;
      grpc::Status s = stub->ListSurveys(Context(token("agent")).get(), req, &resp);
      REQUIRE(s.ok());
      out.insert(out.end(), resp.surveys().begin(), resp.surveys().end());
      if (resp.next_page_token().empty()) return out;
      req.mutable_page()->set_page_token(resp.next_page_token());
    }
  }
};

v1::Event Envelope(const std::string& producer, const std::string& subject, absl::Time at) {
  v1::Event e;
  e.set_producer(producer);
  e.set_subject_id(subject);
  *e.mutable_occurred_at() = rpc::ToProto(at);
  return e;
}

// SQI counters of one region-month, recomputed from what the test emitted.
struct BruteSqi {
  int64_t arrival = 0, arrival_met = 0, fc = 0, fc_met = 0, repairs = 0, ftf = 0, diag = 0,
          orders = 0, complaints = 0;
};

std::string MonthKey(absl::Time t, const std::string& region) {
  return absl::FormatCivilTime(absl::ToCivilMonth(t, RegionZone(region))) + "/" + region;
}

TEST_CASE("1000 surveys over 40 days: every scorecard equals a brute-force recomputation") {
  AggregateSuite s;
  std::mt19937 rng(20261012);
  auto pick = [&](const std::vector<std::string>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
  };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };

  // Confirmation instants: every Monday 00:00 (and one second before) in
  // Shanghai and in Berlin, the rest uniformly over the 40 days.
  std::vector<std::pair<absl::Time, std::string>> instants;
  for (absl::CivilDay d(2026, 10, 12); d < absl::CivilDay(2026, 11, 21); d += 7) {
    for (const auto& [zone, region] : {std::pair{kShanghaiZone, std::string("CN-310000")},
                                       std::pair{kBerlinZone, std::string("DE-BE")}}) {
      const absl::Time monday = absl::FromCivil(d, zone);
      for (absl::Time t : {monday, monday - absl::Seconds(1)}) {
        if (t >= kT0 && t < kT0 + absl::Hours(24 * kDays)) instants.emplace_back(t, region);
      }
    }
  }
  while (instants.size() < kSurveys) {
    const int64_t sec = std::uniform_int_distribution<int64_t>(0, 24 * 3600 * kDays - 1)(rng);
    instants.emplace_back(kT0 + absl::Seconds(sec), pick(kRegions));
  }
  std::sort(instants.begin(), instants.end());

  std::vector<PlannedRepair> plan;
  std::map<std::string, BruteSqi> sqi;  // "YYYY-MM/region"
  for (size_t i = 0; i < instants.size(); ++i) {
    PlannedRepair p;
    p.order = absl::StrFormat("O%04d", i);
    p.customer = absl::StrFormat("C%03d", std::uniform_int_distribution<int>(0, 299)(rng));
    const int e = std::uniform_int_distribution<int>(0, 5)(rng);
    p.engineer = kEngineers[e];
    p.partner = kPartners[e % 3];
    p.region = instants[i].second;
    p.category = pick(kCategories);
    p.confirmed = instants[i].first;
    p.parts = chance(0.3);
    p.complaint = chance(0.1);
    p.ftf = chance(0.85);
    p.diag = chance(0.9);
    const int day = static_cast<int>((p.confirmed - kT0) / absl::Hours(24));
    const double r = std::uniform_real_distribution<double>(0, 1)(rng);
    if (r < 0.70) {
      p.answer_day = day + std::uniform_int_distribution<int>(0, 5)(rng);
    } else if (r < 0.80) {
      p.answer_day = day + 8;
      p.late = true;
    }
    plan.push_back(p);
  }

  // Emits each day's peer events after moving the clock to the day's end,
  // then answers what is planned for that day.
  std::map<std::string, std::string> survey_of;  // order -> survey id
  std::map<std::string, v1::SurveyResponse> answered;
  int refused_late = 0;
  size_t next = 0;

  // Once the sweeper caught up with the clock, every survey is in the state
  // its plan implies; returns all surveys then.
  auto consistent_surveys = [&](absl::Time now, size_t count) {
    std::vector<v1::Survey> surveys;
    REQUIRE(Eventually(
        [&] {
          surveys = s.AllSurveys();
          if (surveys.size() != count) return false;
          for (const auto& sv : surveys) {
            const v1::SurveyState want =
                answered.count(sv.order_id()) ? v1::SURVEY_STATE_ANSWERED
                : now >= rpc::FromProto(sv.expires_at()) ? v1::SURVEY_STATE_EXPIRED
                : now >= rpc::FromProto(sv.due_at())     ? v1::SURVEY_STATE_DUE
                                                         : v1::SURVEY_STATE_SCHEDULED;
            if (sv.state() != want) return false;
          }
          return true;
        },
        absl::Seconds(60)));
    return surveys;
  };
  // Rolling 7/30/90-day scorecards of every key at `now` against the brute force.
  auto check_rolling = [&](const std::vector<v1::Survey>& surveys, absl::Time now) {
    int compared = 0;
    for (const auto& [dim, keys] : kAllKeys) {
      for (const auto& key : keys) {
        const absl::TimeZone& zone = ZoneFor(dim, key);
        const absl::CivilDay today = absl::ToCivilDay(now, zone);
        for (auto [window, days] : {std::pair{v1::AGGREGATION_WINDOW_ROLLING_7D, 7},
                                    std::pair{v1::AGGREGATION_WINDOW_ROLLING_30D, 30},
                                    std::pair{v1::AGGREGATION_WINDOW_ROLLING_90D, 90}}) {
          v1::GetScorecardRequest req;
          req.set_dimension(dim);
          req.set_key(key);
          req.set_window(window);
          v1::Scorecard card;
          REQUIRE(s.stub->GetScorecard(Context(s.token("agent")).get(), req, &card).ok());
          INFO(v1::ScorecardDimension_Name(dim) << " " << key << " "
                                               << v1::AggregationWindow_Name(window));
          CHECK(rpc::FromProto(card.window_start()) == absl::FromCivil(today - (days - 1), zone));
          CHECK(rpc::FromProto(card.window_end()) == absl::FromCivil(today + 1, zone));
          CompareCard(card, BruteForce(surveys, dim, key, today - (days - 1), today + 1));
          ++compared;
        }
      }
    }
    return compared;
  };
  bool mid_run_checked = false;
  for (int day = 0; day <= kDays + 9; ++day) {
    const absl::Time day_end = kT0 + absl::Hours(24 * (day + 1));
    s.SetTime(day_end);
    store::Batch intake_batch, complaint_batch;
    const size_t first = next;
    for (; next < plan.size() && plan[next].confirmed < day_end; ++next) {
      const PlannedRepair& p = plan[next];
      v1::Event created = Envelope("intake", p.order, p.confirmed - absl::Hours(30));
      auto* o = created.mutable_order_created()->mutable_order();
      o->set_order_id(p.order);
      o->set_customer_id(p.customer);
      o->mutable_service_area()->set_region_code(p.region);
      *o->mutable_created_at() = created.occurred_at();
      intake_batch.AppendEvent(created);
      ++sqi[MonthKey(p.confirmed - absl::Hours(30), p.region)].orders;

      v1::Event stopped = Envelope("intake", p.order, p.confirmed - absl::Hours(20));
      auto* c = stopped.mutable_sla_clock_stopped();
      c->set_order_id(p.order);
      c->set_region_code(p.region);
      const bool arrival = chance(0.5), met = chance(0.85);
      c->set_clock(arrival ? v1::SLA_CLOCK_KIND_ARRIVAL : v1::SLA_CLOCK_KIND_FIRST_CONTACT);
      c->set_outcome(met ? v1::SLA_OUTCOME_MET : v1::SLA_OUTCOME_BREACHED);
      intake_batch.AppendEvent(stopped);
      BruteSqi& stop_month = sqi[MonthKey(p.confirmed - absl::Hours(20), p.region)];
      (arrival ? stop_month.arrival : stop_month.fc) += 1;
      if (met) (arrival ? stop_month.arrival_met : stop_month.fc_met) += 1;

      v1::Event repaired = Envelope("intake", p.order, p.confirmed);
      auto* r = repaired.mutable_order_confirmed_repaired();
      r->set_order_id(p.order);
      r->set_customer_id(p.customer);
      r->set_engineer_id(p.engineer);
      r->set_partner_id(p.partner);
      r->set_region_code(p.region);
      r->set_appliance_category(p.category);
      r->set_parts_replaced(p.parts);
      r->set_complaint_linked(p.complaint);
      r->set_first_visit_fix(p.ftf);
      r->set_diagnosis_matched(p.diag);
      *r->mutable_repaired_at() = rpc::ToProto(p.confirmed - absl::Hours(2));
      *r->mutable_confirmed_at() = rpc::ToProto(p.confirmed);
      *r->mutable_follow_up_deadline() = rpc::ToProto(
          p.confirmed - absl::Hours(2) +
          absl::Hours(p.parts ? 72 : p.complaint ? 48 : 24));
      intake_batch.AppendEvent(repaired);
      BruteSqi& repair_month = sqi[MonthKey(p.confirmed, p.region)];
      ++repair_month.repairs;
      if (p.ftf) ++repair_month.ftf;
      if (p.diag) ++repair_month.diag;

      if (chance(0.04)) {
        v1::Event filed = Envelope("complaint", "K" + p.order, p.confirmed + absl::Hours(1));
        auto* f = filed.mutable_complaint_filed();
        f->set_complaint_id("K" + p.order);
        f->set_order_id(p.order);
        f->set_customer_id(p.customer);
        f->set_region_code(p.region);
        complaint_batch.AppendEvent(filed);
        ++sqi[MonthKey(p.confirmed + absl::Hours(1), p.region)].complaints;
      }
    }
    if (!intake_batch.empty()) REQUIRE(s.intake.store().Commit(intake_batch).ok());
    if (!complaint_batch.empty()) REQUIRE(s.complaint.store().Commit(complaint_batch).ok());
    if (next > first) {
      // Wait until satisfaction consumed the day's repairs; learn their survey ids.
      v1::TimeRange range;
      *range.mutable_start() = rpc::ToProto(plan[first].confirmed);
      *range.mutable_end() = rpc::ToProto(day_end);
      std::vector<v1::Survey> today;
      REQUIRE(Eventually([&] {
        today = s.AllSurveys(&range);
        return today.size() == next - first;
      }));
      for (const auto& sv : today) survey_of[sv.order_id()] = sv.survey_id();
    }
    for (const auto& p : plan) {
      if (p.answer_day != day) continue;
      v1::SubmitSurveyRequest req;
      req.set_survey_id(survey_of.at(p.order));
      req.set_request_id("answer-" + p.order);
      v1::SurveyResponse* r = req.mutable_response();
      const int base = std::uniform_int_distribution<int>(1, 5)(rng);
      r->set_csat(std::clamp(base + std::uniform_int_distribution<int>(-1, 1)(rng), 1, 5));
      r->set_nps(std::uniform_int_distribution<int>(0, 10)(rng));
      auto* d = r->mutable_dimensions();
      auto dim = [&] { return std::clamp(base + std::uniform_int_distribution<int>(-1, 2)(rng), 1, 5); };
      d->set_booking_convenience(dim());
      d->set_timeliness(dim());
      d->set_engineer_attitude(dim());
      d->set_professionalism(dim());
      d->set_fee_transparency(dim());
      d->set_site_etiquette(dim());
      r->set_problem_solved(chance(0.9));
      if (chance(0.2)) r->set_comment(chance(0.5) ? "too slow, disappointed" : "fine");
      v1::SubmitSurveyResponse resp;
      grpc::Status st = s.stub->SubmitSurvey(Context(s.token("app")).get(), req, &resp);
      if (p.late) {
        CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
        ++refused_late;
      } else {
        INFO(p.order << ": " << st.error_message());
        REQUIRE(st.ok());
        answered[p.order] = *r;
      }
    }
    if (day == 25) {  // mid-run: the rolling windows are full of fresh data
      const auto surveys = consistent_surveys(day_end, next);
      CHECK(check_rolling(surveys, day_end) == 15 * 3);
      mid_run_checked = true;
    }
  }
  REQUIRE(next == plan.size());
  CHECK(refused_late > 0);
  CHECK(mid_run_checked);
  const absl::Time now = kT0 + absl::Hours(24 * (kDays + 10));
  const std::vector<v1::Survey> surveys = consistent_surveys(now, kSurveys);
  for (const auto& sv : surveys) {
    if (!answered.count(sv.order_id())) continue;
    CHECK(sv.response().csat() == answered[sv.order_id()].csat());
  }

  // At the end: the rolling windows at `now` (10 days after the last repair,
  // so the 7-day window is empty), and every calendar week by its Monday.
  std::vector<absl::CivilDay> mondays;
  for (absl::CivilDay d(2026, 10, 12); d <= absl::CivilDay(2026, 11, 30); d += 7) {
    mondays.push_back(d);
  }
  mondays.push_back(absl::CivilDay(2026, 10, 5));  // Berlin's Sunday 23:59:59 falls here
  int compared = check_rolling(surveys, now);
  int64_t week_total = 0;
  for (const auto& [dim, keys] : kAllKeys) {
    for (const auto& key : keys) {
      const absl::TimeZone& zone = ZoneFor(dim, key);
      for (const absl::CivilDay monday : mondays) {
        v1::GetScorecardRequest req;
        req.set_dimension(dim);
        req.set_key(key);
        req.set_window(v1::AGGREGATION_WINDOW_CALENDAR_WEEK);
        req.mutable_week_start()->set_year(static_cast<int32_t>(monday.year()));
        req.mutable_week_start()->set_month(monday.month());
        req.mutable_week_start()->set_day(monday.day());
        v1::Scorecard card;
        REQUIRE(s.stub->GetScorecard(Context(s.token("agent")).get(), req, &card).ok());
        INFO(v1::ScorecardDimension_Name(dim) << " " << key << " week of "
                                             << absl::FormatCivilTime(monday));
        CHECK(rpc::FromProto(card.window_start()) == absl::FromCivil(monday, zone));
        CHECK(rpc::FromProto(card.window_end()) == absl::FromCivil(monday + 7, zone));
        const Brute b = BruteForce(surveys, dim, key, monday, monday + 7);
        CompareCard(card, b);
        if (dim == v1::SCORECARD_DIMENSION_REGION) week_total += b.eligible;
        ++compared;
      }
    }
  }
  CHECK(compared == 15 * (3 + static_cast<int>(mondays.size())));
  // The weeks partition the data: every survey is in exactly one region week.
  CHECK(week_total == kSurveys);

  // The Monday 00:00 edges explicitly: Berlin's Monday 2026-10-19 00:00
  // starts a week in DE-BE's scorecard, one second earlier is the week before.
  {
    int at_edge = 0, before_edge = 0;
    const absl::Time edge = absl::FromCivil(absl::CivilDay(2026, 10, 19), kBerlinZone);
    for (const auto& sv : surveys) {
      if (sv.region_code() != "DE-BE") continue;
      if (rpc::FromProto(sv.scheduled_at()) == edge) ++at_edge;
      if (rpc::FromProto(sv.scheduled_at()) == edge - absl::Seconds(1)) ++before_edge;
    }
    CHECK(at_edge == 1);
    CHECK(before_edge == 1);
    const Brute week = BruteForce(surveys, v1::SCORECARD_DIMENSION_REGION, "DE-BE",
                                  absl::CivilDay(2026, 10, 19), absl::CivilDay(2026, 10, 26));
    // Berlin leaves summer time on Sunday 2026-10-25: this week lasts 169 h.
    const absl::Time next_edge = absl::FromCivil(absl::CivilDay(2026, 10, 26), kBerlinZone);
    CHECK(next_edge - edge == absl::Hours(169));
    int64_t in_week = 0;
    for (const auto& sv : surveys) {
      const absl::Time t = rpc::FromProto(sv.scheduled_at());
      if (sv.region_code() == "DE-BE" && t >= edge && t < next_edge) ++in_week;
    }
    CHECK(week.eligible == in_week);
  }

  // ListScorecards: the same cards, by satisfaction index descending.
  v1::ListScorecardsRequest list;
  list.set_dimension(v1::SCORECARD_DIMENSION_ENGINEER);
  list.set_window(v1::AGGREGATION_WINDOW_ROLLING_90D);
  v1::ListScorecardsResponse listed;
  REQUIRE(s.stub->ListScorecards(Context(s.token("agent")).get(), list, &listed).ok());
  REQUIRE(listed.scorecards_size() == 6);
  const absl::CivilDay today = absl::ToCivilDay(now, kShanghaiZone);
  for (int i = 0; i < listed.scorecards_size(); ++i) {
    const auto& card = listed.scorecards(i);
    INFO(card.key());
    CompareCard(card, BruteForce(surveys, v1::SCORECARD_DIMENSION_ENGINEER, card.key(),
                                 today - 89, today + 1));
    if (i > 0) CHECK(listed.scorecards(i - 1).satisfaction_index() >= card.satisfaction_index());
  }

  // Engineer ratings: Bayesian (10 * 4.0 + sum CSAT) / (10 + n), and the last
  // EngineerRatingChanged of each engineer on the stream carries it.
  std::map<std::string, std::pair<int64_t, int64_t>> csat;  // engineer -> (n, sum)
  for (const auto& sv : surveys) {
    if (sv.state() != v1::SURVEY_STATE_ANSWERED) continue;
    auto& [n, sum] = csat[sv.engineer_id()];
    ++n;
    sum += sv.response().csat();
  }
  std::map<std::string, double> published;
  {
    auto es = v1::EventStream::NewStub(s.sat->channel());
    auto ctx = Context(s.token("service"), absl::Seconds(30));
    v1::SubscribeRequest sub;
    sub.set_max_batch(1000);
    auto reader = es->Subscribe(ctx.get(), sub);
    v1::SubscribeResponse resp;
    uint64_t seen = 0;
    while (reader->Read(&resp)) {
      for (const auto& e : resp.events()) {
        seen = e.seq();
        if (e.has_engineer_rating_changed()) {
          published[e.engineer_rating_changed().engineer_id()] = e.engineer_rating_changed().rating();
        }
      }
      if (seen >= resp.head_seq()) break;
    }
    ctx->TryCancel();
    reader->Finish();
  }
  for (const auto& [engineer, ns] : csat) {
    v1::GetEngineerRatingRequest rr;
    rr.set_engineer_id(engineer);
    v1::EngineerRating rating;
    REQUIRE(s.stub->GetEngineerRating(Context(s.token("agent")).get(), rr, &rating).ok());
    const double expected = (10 * 4.0 + ns.second) / (10.0 + ns.first);
    INFO(engineer);
    CHECK(rating.response_count() == ns.first);
    CHECK(rating.rating() == Approx(expected).margin(1e-9));
    CHECK(published[engineer] == Approx(expected).margin(1e-9));
  }

  // SQI per region and month, from intake's and complaint's streams and the surveys.
  for (const auto& [month, label] : {std::pair{absl::CivilMonth(2026, 10), "2026-10"},
                                     std::pair{absl::CivilMonth(2026, 11), "2026-11"}}) {
    v1::GetSqiRankingRequest req;
    req.mutable_month()->set_year(static_cast<int32_t>(month.year()));
    req.mutable_month()->set_month(month.month());
    v1::GetSqiRankingResponse ranking;
    REQUIRE(s.stub->GetSqiRanking(Context(s.token("agent")).get(), req, &ranking).ok());
    REQUIRE(ranking.scores_size() == 3);
    for (int i = 0; i < ranking.scores_size(); ++i) {
      const v1::SqiScore& score = ranking.scores(i);
      const std::string& region = score.region_code();
      INFO(label << " " << region);
      const BruteSqi& b = sqi[std::string(label) + "/" + region];
      const Brute sat = BruteForce(surveys, v1::SCORECARD_DIMENSION_REGION, region,
                                   absl::CivilDay(month.year(), month.month(), 1),
                                   absl::CivilDay((month + 1).year(), (month + 1).month(), 1));
      std::vector<double> timeliness, technical, experience;
      if (b.arrival) timeliness.push_back(100.0 * b.arrival_met / b.arrival);
      if (b.fc) timeliness.push_back(100.0 * b.fc_met / b.fc);
      if (b.repairs) {
        technical.push_back(100.0 * b.ftf / b.repairs);
        technical.push_back(100.0 * b.diag / b.repairs);
      }
      if (sat.responses) experience.push_back(Index(sat));
      if (b.orders) {
        experience.push_back(
            100.0 * std::max(0.0, 1.0 - (static_cast<double>(b.complaints) / b.orders) / 0.05));
      }
      auto mean = [](const std::vector<double>& v) {
        double s = 0;
        for (double x : v) s += x;
        return v.empty() ? 0.0 : s / v.size();
      };
      double weighted = 0, weights = 0;
      const std::pair<double, const std::vector<double>*> parts[] = {
          {0.30, &timeliness}, {0.25, &technical}, {0.35, &experience}};
      REQUIRE(score.components_size() == 4);
      for (int k = 0; k < 3; ++k) {
        CHECK(score.components(k).no_data() == parts[k].second->empty());
        CHECK(score.components(k).score() == Approx(mean(*parts[k].second)).margin(1e-9));
        if (!parts[k].second->empty()) {
          weighted += parts[k].first * mean(*parts[k].second);
          weights += parts[k].first;
        }
      }
      CHECK(score.components(3).score() == Approx(100));  // no incidents recorded
      weighted += 0.10 * 100;
      weights += 0.10;
      CHECK(score.total() == Approx(weighted / weights).margin(1e-9));
      CHECK(score.rank() == i + 1);
      if (i > 0) CHECK(ranking.scores(i - 1).total() >= score.total());
    }
  }
}

}  // namespace
}  // namespace aftersales
