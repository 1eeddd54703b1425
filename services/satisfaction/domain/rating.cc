#include "satisfaction/domain/rating.h"

#include <cmath>

#include "rpc/rpc.h"
#include "satisfaction/domain/survey.h"

namespace aftersales::satisfaction::domain {

double BayesianRating(int64_t responses, int64_t csat_sum, double prior_mean,
                      double prior_weight) {
  const double denominator = prior_weight + static_cast<double>(responses);
  if (denominator <= 0) return prior_mean;
  return (prior_weight * prior_mean + static_cast<double>(csat_sum)) / denominator;
}

v1::EngineerRating EmptyRating(const std::string& engineer_id,
                               const v1::SatisfactionPolicy& policy) {
  v1::EngineerRating r;
  r.set_engineer_id(engineer_id);
  r.set_rating(policy.rating_prior_mean());
  r.set_prior_mean(policy.rating_prior_mean());
  r.set_prior_weight(policy.rating_prior_weight());
  *r.mutable_policy() = policy.ref();
  return r;
}

RatingUpdate AddToRating(const std::optional<v1::EngineerRating>& before,
                         const std::string& engineer_id, int csat,
                         const v1::SatisfactionPolicy& policy, absl::Time now) {
  RatingUpdate u;
  int64_t n = 0, sum = 0;
  if (before) {
    n = before->response_count();
    // raw_mean * n is an integer sum of CSAT scores; llround undoes the division.
    sum = std::llround(before->raw_mean_csat() * static_cast<double>(n));
    u.previous = before->rating();
  }
  n += 1;
  sum += csat;
  u.rating = EmptyRating(engineer_id, policy);
  u.rating.set_response_count(n);
  u.rating.set_raw_mean_csat(static_cast<double>(sum) / static_cast<double>(n));
  u.rating.set_rating(
      BayesianRating(n, sum, policy.rating_prior_mean(), policy.rating_prior_weight()));
  *u.rating.mutable_updated_at() = rpc::ToProto(now);
  u.changed = !before || std::fabs(u.rating.rating() - u.previous) > 1e-12;
  if (!u.changed) *u.rating.mutable_updated_at() = before->updated_at();
  return u;
}

v1::Event RatingChangedEvent(const RatingUpdate& u, absl::Time now) {
  v1::Event e = NewEvent(u.rating.engineer_id(), now);
  auto* b = e.mutable_engineer_rating_changed();
  b->set_engineer_id(u.rating.engineer_id());
  b->set_rating(u.rating.rating());
  b->set_response_count(u.rating.response_count());
  b->set_previous_rating(u.previous);
  *b->mutable_policy() = u.rating.policy();
  return e;
}

}  // namespace aftersales::satisfaction::domain
