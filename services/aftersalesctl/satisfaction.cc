// scorecards get | list, sqi ranking (SatisfactionService).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "aftersalesctl/cli.h"

namespace aftersales::ctl {
namespace {

std::string Percent(double ratio) { return Number(ratio * 100, 1) + "%"; }

// Means are 0 when there is no data.
std::string Mean(double v) { return v == 0 ? "" : Number(v, 2); }

int GetScorecard(Connection& c, const Options& o) {
  o.ExpectPositional({});
  if (!o.Has("dimension") || !o.Has("key") || !o.Has("window")) {
    throw UsageError("give --dimension, --key and --window");
  }
  v1::GetScorecardRequest req;
  req.set_dimension(ParseEnum<v1::ScorecardDimension>("dimension", o.Get("dimension")));
  req.set_key(o.Get("key"));
  req.set_window(ParseEnum<v1::AggregationWindow>("window", o.Get("window")));
  if (o.Has("week_start")) *req.mutable_week_start() = ParseDateArg("week_start", o.Get("week_start"));
  auto stub = v1::SatisfactionService::NewStub(c.Channel("satisfaction"));
  v1::Scorecard sc;
  grpc::Status s = stub->GetScorecard(c.NewContext().get(), req, &sc);
  if (!s.ok()) return CallFailed(c, "satisfaction", s);
  if (c.json) {
    PrintJson(sc, std::cout);
    return 0;
  }
  const absl::TimeZone& z = c.zone;
  KeyValues kv;
  kv.Add("dimension", Enum(sc.dimension()));
  kv.Add("key", sc.key());
  kv.Add("window", Enum(sc.window()) + (sc.has_week_start() ? " " + Date(sc.week_start()) : ""));
  kv.Add("from", Time(sc.window_start(), z));
  kv.Add("to", Time(sc.window_end(), z));
  kv.Add("days in zone", sc.time_zone());
  kv.Add("eligible orders", absl::StrCat(sc.eligible_orders()));
  kv.Add("surveys sent", absl::StrCat(sc.surveys_sent()));
  kv.Add("responses", absl::StrCat(sc.responses()));
  kv.Add("expired", absl::StrCat(sc.expired()));
  kv.Add("CSAT %", Number(sc.csat_percent(), 1));
  kv.Add("mean CSAT", Mean(sc.mean_csat()));
  kv.Add("NPS", Number(sc.nps(), 1));
  kv.Add("promoters/passives/detractors",
         absl::StrCat(sc.promoters(), "/", sc.passives(), "/", sc.detractors()));
  kv.Add("satisfaction index", Number(sc.satisfaction_index(), 1));
  kv.Add("follow-up coverage", Percent(sc.follow_up_coverage()));
  kv.Add("response rate", Percent(sc.response_rate()));
  kv.Add("computed", Time(sc.computed_at(), z));
  kv.Add("policy", absl::StrCat(sc.policy().name(), " ", sc.policy().version()));
  kv.Print(std::cout);
  std::cout << "\nDimension means\n";
  const auto& m = sc.dimension_means();
  Table t({"DIMENSION", "MEAN"});
  t.Add({"BOOKING_CONVENIENCE", Mean(m.booking_convenience())});
  t.Add({"TIMELINESS", Mean(m.timeliness())});
  t.Add({"ENGINEER_ATTITUDE", Mean(m.engineer_attitude())});
  t.Add({"PROFESSIONALISM", Mean(m.professionalism())});
  t.Add({"FEE_TRANSPARENCY", Mean(m.fee_transparency())});
  t.Add({"SITE_ETIQUETTE", Mean(m.site_etiquette())});
  t.Print(std::cout);
  return 0;
}

int ListScorecards(Connection& c, const Options& o) {
  o.ExpectPositional({});
  if (!o.Has("dimension") || !o.Has("window")) throw UsageError("give --dimension and --window");
  v1::ListScorecardsRequest req;
  req.set_dimension(ParseEnum<v1::ScorecardDimension>("dimension", o.Get("dimension")));
  req.set_window(ParseEnum<v1::AggregationWindow>("window", o.Get("window")));
  if (o.Has("week_start")) *req.mutable_week_start() = ParseDateArg("week_start", o.Get("week_start"));
  req.set_min_responses(o.Int("min_responses", 0, 0, 1000000000));
  const ListLimits limits = LimitsOf(o);
  auto stub = v1::SatisfactionService::NewStub(c.Channel("satisfaction"));
  v1::ListScorecardsResponse all;
  grpc::Status s = FetchPages(
      req, limits,
      [&](const v1::ListScorecardsRequest& r, v1::ListScorecardsResponse* page) {
        return stub->ListScorecards(c.NewContext().get(), r, page);
      },
      [](v1::ListScorecardsResponse* r) { return r->mutable_scorecards(); }, &all);
  if (!s.ok()) return CallFailed(c, "satisfaction", s);
  if (c.json) {
    PrintJson(all, std::cout);
    return 0;
  }
  Table t({"KEY", "ELIGIBLE", "SENT", "RESPONSES", "CSAT_%", "MEAN_CSAT", "NPS", "INDEX",
           "COVERAGE", "RESPONSE_RATE", "EXPIRED"});
  for (const auto& sc : all.scorecards()) {
    t.Add({sc.key(), absl::StrCat(sc.eligible_orders()), absl::StrCat(sc.surveys_sent()),
           absl::StrCat(sc.responses()), Number(sc.csat_percent(), 1), Mean(sc.mean_csat()),
           Number(sc.nps(), 1), Number(sc.satisfaction_index(), 1),
           Percent(sc.follow_up_coverage()), Percent(sc.response_rate()),
           absl::StrCat(sc.expired())});
  }
  t.Print(std::cout);
  PrintMoreNote(all.next_page_token(), limits, std::cout);
  return 0;
}

int SqiRanking(Connection& c, const Options& o) {
  o.ExpectPositional({});
  v1::GetSqiRankingRequest req;
  if (o.Has("month")) *req.mutable_month() = ParseMonthArg("month", o.Get("month"));
  auto stub = v1::SatisfactionService::NewStub(c.Channel("satisfaction"));
  v1::GetSqiRankingResponse resp;
  grpc::Status s = stub->GetSqiRanking(c.NewContext().get(), req, &resp);
  if (!s.ok()) return CallFailed(c, "satisfaction", s);
  if (c.json) {
    PrintJson(resp, std::cout);
    return 0;
  }
  if (resp.scores_size() > 0) {
    const auto& first = resp.scores(0);
    std::cout << "SQI " << Date(first.month()).substr(0, 7) << " (policy "
              << first.policy().name() << " " << first.policy().version() << ")\n";
  }
  Table t({"RANK", "REGION", "TOTAL", "TIMELINESS", "TECHNICAL", "EXPERIENCE", "DATA_SECURITY"});
  Table inputs({"REGION", "PART", "WEIGHT", "INPUT", "VALUE", "SCORE"});
  for (const auto& sc : resp.scores()) {
    std::map<v1::SqiComponentKind, std::string> part;
    for (const auto& comp : sc.components()) {
      part[comp.kind()] = comp.no_data() ? "n/a" : Number(comp.score(), 1);
      for (const auto& in : comp.inputs()) {
        inputs.Add({sc.region_code(), Enum(comp.kind()), Number(comp.weight(), 2), in.name(),
                    Number(in.value(), 4), Number(in.score(), 1)});
      }
    }
    t.Add({absl::StrCat(sc.rank(), "/", sc.ranked_regions()), sc.region_code(),
           Number(sc.total(), 1), part[v1::SQI_COMPONENT_KIND_TIMELINESS],
           part[v1::SQI_COMPONENT_KIND_TECHNICAL], part[v1::SQI_COMPONENT_KIND_EXPERIENCE],
           part[v1::SQI_COMPONENT_KIND_DATA_SECURITY]});
  }
  t.Print(std::cout);
  if (o.Switch("inputs")) {
    std::cout << "\nInputs\n";
    inputs.Print(std::cout);
  }
  return 0;
}

}  // namespace

void AddSatisfactionCommands(std::vector<Command>& out) {
  out.push_back({"scorecards", "get",
                 "--dimension=D --key=K --window=W [--week-start=YYYY-MM-DD]",
                 "one scorecard (D: ENGINEER, PARTNER, REGION, CATEGORY; W: ROLLING_7D, "
                 "ROLLING_30D, ROLLING_90D, CALENDAR_WEEK)",
                 {{"dimension", true}, {"key", true}, {"window", true}, {"week_start", true}},
                 GetScorecard});
  out.push_back({"scorecards", "list",
                 "--dimension=D --window=W [--week-start=YYYY-MM-DD] [--min-responses=N] "
                 "[--limit=N] [--page-size=N]",
                 "every key's scorecard, best satisfaction index first",
                 {{"dimension", true},
                  {"window", true},
                  {"week_start", true},
                  {"min_responses", true},
                  {"limit", true},
                  {"page_size", true}},
                 ListScorecards});
  out.push_back({"sqi", "ranking", "[--month=YYYY-MM] [--inputs]",
                 "regions ranked by Service Quality Index (default: the previous month)",
                 {{"month", true}, {"inputs", false}},
                 SqiRanking});
}

}  // namespace aftersales::ctl
