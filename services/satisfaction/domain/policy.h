#ifndef AFTERSALES_SERVICES_SATISFACTION_DOMAIN_POLICY_H_
#define AFTERSALES_SERVICES_SATISFACTION_DOMAIN_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aftersales/v1/satisfaction.pb.h"

// The satisfaction policy document (SPEC §6): survey timing, answer rules,
// scorecard weights and time zones, the rating prior, churn rules and SQI
// weights. Pure functions. The shipped default is
// deploy/policies/satisfaction.textproto.
namespace aftersales::satisfaction::domain {

// Parses a text-format SatisfactionPolicy and validates it completely. A
// syntax error is INVALID_ARGUMENT "policy: line L column C: <message>"; a
// bad value is INVALID_ARGUMENT naming the field first. No hidden defaults:
// every number must be written.
absl::StatusOr<v1::SatisfactionPolicy> ParseSatisfactionPolicy(absl::string_view text_proto);

// OK, or INVALID_ARGUMENT naming the first bad field. Checks:
//   ref.name / ref.version: 1..64 printable ASCII;
//   survey_expiry [1 h, 90 days]; follow_up budgets [1 h, 30 days];
//   deep_follow_up_within and win_back_within [1 h, 30 days];
//   deep_follow_up_below 1..6 (6 = always); detractor_csat_max 0..5;
//   detractor_nps_max 0..10 (0..-1 not expressible: 0 = NPS 0 only);
//   negative_comment_keywords <= 512, each 1..64 characters, not blank;
//   dimension_weights: exactly six, each in [0, 100], sum > 0;
//   rating_prior_mean [1, 5]; rating_prior_weight [0, 10000];
//   the four SQI weights each [0, 1], summing to 1 (±1e-9);
//   churn_complaints_threshold 1..100; churn_complaints_window [1 day, 365 days];
//   time_zone and every region_time_zones value loadable; <= 10000 regions,
//   region codes 1..32 printable ASCII;
//   sqi_complaint_rate_at_zero (0, 1]; sqi_incident_penalty (0, 100].
absl::Status ValidateSatisfactionPolicy(const v1::SatisfactionPolicy& policy);

// The zone whose local days bound `dimension`/`key` scorecards: a region's
// own zone for REGION, the policy zone otherwise. Validation guarantees it
// loads; UTC if it somehow does not.
std::string ZoneNameFor(const v1::SatisfactionPolicy& policy,
                        v1::ScorecardDimension dimension, absl::string_view key);
absl::TimeZone LoadZone(const std::string& name);
// A region's zone (SQI months, REGION scorecards).
std::string RegionZoneName(const v1::SatisfactionPolicy& policy, absl::string_view region);

}  // namespace aftersales::satisfaction::domain

#endif  // AFTERSALES_SERVICES_SATISFACTION_DOMAIN_POLICY_H_
