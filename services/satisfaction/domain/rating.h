#ifndef AFTERSALES_SERVICES_SATISFACTION_DOMAIN_RATING_H_
#define AFTERSALES_SERVICES_SATISFACTION_DOMAIN_RATING_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/satisfaction.pb.h"

// Engineer rating (SPEC §6): the Bayesian average of CSAT,
// (prior_weight * prior_mean + sum of CSAT) / (prior_weight + answers),
// published to dispatch whenever it changes. Pure functions.
namespace aftersales::satisfaction::domain {

double BayesianRating(int64_t responses, int64_t csat_sum, double prior_mean, double prior_weight);

struct RatingUpdate {
  v1::EngineerRating rating;  // after the answer
  bool changed = false;       // the published value moved (or is the first)
  double previous = 0;        // 0 when the engineer had no rating
};

// The engineer's rating after one more answer with `csat`.
RatingUpdate AddToRating(const std::optional<v1::EngineerRating>& before,
                         const std::string& engineer_id, int csat,
                         const v1::SatisfactionPolicy& policy, absl::Time now);

// The rating of an engineer with no answers yet: the prior mean.
v1::EngineerRating EmptyRating(const std::string& engineer_id, const v1::SatisfactionPolicy& policy);

// EngineerRatingChanged for dispatch.
v1::Event RatingChangedEvent(const RatingUpdate& update, absl::Time now);

}  // namespace aftersales::satisfaction::domain

#endif  // AFTERSALES_SERVICES_SATISFACTION_DOMAIN_RATING_H_
