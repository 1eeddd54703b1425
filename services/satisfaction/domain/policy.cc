#include "satisfaction/domain/policy.h"

#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "rpc/rpc.h"
#include "server/policy_holder.h"
#include "rpc/validate.h"

namespace aftersales::satisfaction::domain {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

std::optional<absl::Duration> DurationOf(const google::protobuf::Duration& d) {
  if (d.nanos() <= -1'000'000'000 || d.nanos() >= 1'000'000'000) return std::nullopt;
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return std::nullopt;
  }
  return rpc::FromProto(d);
}

absl::Status CheckDuration(absl::string_view field, bool present,
                           const google::protobuf::Duration& d, absl::Duration lo,
                           absl::Duration hi, absl::string_view range_text) {
  if (!present) return Invalid(field, "required");
  std::optional<absl::Duration> value = DurationOf(d);
  if (!value || *value < lo || *value > hi) {
    return Invalid(field, absl::StrCat("must be in ", range_text));
  }
  return absl::OkStatus();
}

bool ZoneLoads(const std::string& name) {
  absl::TimeZone zone;
  return !name.empty() && absl::LoadTimeZone(name, &zone);
}

bool InRange(double v, double lo, double hi) { return std::isfinite(v) && v >= lo && v <= hi; }

}  // namespace

absl::StatusOr<v1::SatisfactionPolicy> ParseSatisfactionPolicy(absl::string_view text_proto) {
  v1::SatisfactionPolicy policy;
  if (absl::Status s = server::ParseTextPolicy(text_proto, &policy); !s.ok()) return s;
  if (absl::Status s = ValidateSatisfactionPolicy(policy); !s.ok()) return s;
  return policy;
}

absl::Status ValidateSatisfactionPolicy(const v1::SatisfactionPolicy& p) {
  const absl::Duration hour = absl::Hours(1), day = absl::Hours(24);
  absl::Status s = rpc::Validator()
                       .Id("ref.name", p.ref().name(), 64)
                       .Id("ref.version", p.ref().version(), 64)
                       .status();
  if (!s.ok()) return s;
  struct D {
    const char* field;
    bool present;
    const google::protobuf::Duration& value;
    absl::Duration lo, hi;
    const char* text;
  };
  const D durations[] = {
      {"survey_expiry", p.has_survey_expiry(), p.survey_expiry(), hour, 90 * day, "[1 h, 90 days]"},
      {"follow_up_budget", p.has_follow_up_budget(), p.follow_up_budget(), hour, 30 * day,
       "[1 h, 30 days]"},
      {"follow_up_budget_parts_or_warranty", p.has_follow_up_budget_parts_or_warranty(),
       p.follow_up_budget_parts_or_warranty(), hour, 30 * day, "[1 h, 30 days]"},
      {"follow_up_budget_complaint", p.has_follow_up_budget_complaint(),
       p.follow_up_budget_complaint(), hour, 30 * day, "[1 h, 30 days]"},
      {"deep_follow_up_within", p.has_deep_follow_up_within(), p.deep_follow_up_within(), hour,
       30 * day, "[1 h, 30 days]"},
      {"win_back_within", p.has_win_back_within(), p.win_back_within(), hour, 30 * day,
       "[1 h, 30 days]"},
      {"churn_complaints_window", p.has_churn_complaints_window(), p.churn_complaints_window(),
       day, 365 * day, "[1 day, 365 days]"},
  };
  for (const auto& d : durations) {
    if (s = CheckDuration(d.field, d.present, d.value, d.lo, d.hi, d.text); !s.ok()) return s;
  }
  rpc::Validator v;
  v.Check("deep_follow_up_below", p.deep_follow_up_below() >= 1 && p.deep_follow_up_below() <= 6,
          "must be in [1, 6]")
      .Check("detractor_csat_max", p.detractor_csat_max() >= 0 && p.detractor_csat_max() <= 5,
             "must be in [0, 5]")
      .Check("detractor_nps_max", p.detractor_nps_max() >= 0 && p.detractor_nps_max() <= 10,
             "must be in [0, 10]")
      .Check("negative_comment_keywords", p.negative_comment_keywords_size() <= 512,
             "at most 512 entries");
  for (int i = 0; i < p.negative_comment_keywords_size(); ++i) {
    const std::string field = absl::StrCat("negative_comment_keywords[", i, "]");
    const std::string& k = p.negative_comment_keywords(i);
    v.Text(field, k, 64, true);
    v.Check(field, !absl::StripAsciiWhitespace(k).empty(), "must not be blank");
  }
  v.Check("dimension_weights", p.dimension_weights_size() == 6,
          "exactly six weights, in SurveyDimension order");
  if (!v.status().ok()) return v.status();
  double weight_sum = 0;
  for (int i = 0; i < 6; ++i) {
    v.Check(absl::StrCat("dimension_weights[", i, "]"), InRange(p.dimension_weights(i), 0, 100),
            "must be in [0, 100]");
    weight_sum += p.dimension_weights(i);
  }
  v.Check("dimension_weights", weight_sum > 0, "must not all be 0")
      .Check("rating_prior_mean", InRange(p.rating_prior_mean(), 1, 5), "must be in [1, 5]")
      .Check("rating_prior_weight", InRange(p.rating_prior_weight(), 0, 10000),
             "must be in [0, 10000]");
  const double sqi[] = {p.sqi_weight_timeliness(), p.sqi_weight_technical(),
                        p.sqi_weight_experience(), p.sqi_weight_data_security()};
  const char* sqi_names[] = {"sqi_weight_timeliness", "sqi_weight_technical",
                             "sqi_weight_experience", "sqi_weight_data_security"};
  double sqi_sum = 0;
  for (int i = 0; i < 4; ++i) {
    v.Check(sqi_names[i], InRange(sqi[i], 0, 1), "must be in [0, 1]");
    sqi_sum += sqi[i];
  }
  v.Check("sqi_weight_timeliness", std::fabs(sqi_sum - 1.0) < 1e-9,
          "the four SQI weights must sum to 1")
      .Check("churn_complaints_threshold",
             p.churn_complaints_threshold() >= 1 && p.churn_complaints_threshold() <= 100,
             "must be in [1, 100]")
      .Check("sqi_complaint_rate_at_zero",
             std::isfinite(p.sqi_complaint_rate_at_zero()) &&
                 p.sqi_complaint_rate_at_zero() > 0 && p.sqi_complaint_rate_at_zero() <= 1,
             "must be in (0, 1]")
      .Check("sqi_incident_penalty",
             std::isfinite(p.sqi_incident_penalty()) && p.sqi_incident_penalty() > 0 &&
                 p.sqi_incident_penalty() <= 100,
             "must be in (0, 100]")
      .Check("time_zone", ZoneLoads(p.time_zone()),
             absl::StrCat("unknown time zone \"", p.time_zone(), "\""))
      .Check("region_time_zones", p.region_time_zones_size() <= 10000,
             "at most 10000 regions");
  if (!v.status().ok()) return v.status();
  for (const auto& [region, zone] : p.region_time_zones()) {
    const std::string field = absl::StrCat("region_time_zones[\"", region, "\"]");
    v.Id(field, region, 32).Check(field, ZoneLoads(zone),
                                  absl::StrCat("unknown time zone \"", zone, "\""));
  }
  return v.status();
}

absl::TimeZone LoadZone(const std::string& name) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(name, &zone)) return absl::UTCTimeZone();
  return zone;
}

std::string RegionZoneName(const v1::SatisfactionPolicy& policy, absl::string_view region) {
  auto it = policy.region_time_zones().find(std::string(region));
  return it == policy.region_time_zones().end() ? policy.time_zone() : it->second;
}

std::string ZoneNameFor(const v1::SatisfactionPolicy& policy, v1::ScorecardDimension dimension,
                        absl::string_view key) {
  if (dimension == v1::SCORECARD_DIMENSION_REGION) return RegionZoneName(policy, key);
  return policy.time_zone();
}

}  // namespace aftersales::satisfaction::domain
