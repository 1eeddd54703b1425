#ifndef AFTERSALES_SERVICES_SATISFACTION_DOMAIN_SURVEY_H_
#define AFTERSALES_SERVICES_SATISFACTION_DOMAIN_SURVEY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/satisfaction.pb.h"

// A survey's life (SPEC §6): scheduled when intake confirms a repair, due at
// the follow_up deadline, answered once or expired after survey_expiry, and
// the rules an answer triggers. Pure functions over the Survey record.
namespace aftersales::satisfaction::domain {

inline constexpr int kDimensions = 6;

// Deterministic id of the survey of one confirmation of an order, so a
// re-delivered event finds the survey it already made; a second
// confirmation (after a reopen) gets a new survey. "SV" + 16 hex digits.
std::string SurveyIdFor(const std::string& order_id, absl::Time confirmed_at);

// The survey for intake's OrderConfirmedRepaired. scheduled_at = the
// confirmation time (event time if absent); due_at = follow_up_deadline, or
// repaired_at + the policy's follow-up budget (72 h parts/warranty, 48 h
// complaint, 24 h otherwise); expires_at = scheduled_at + survey_expiry.
// INVALID_ARGUMENT naming the event field when a required id is missing.
absl::StatusOr<v1::Survey> ScheduleSurvey(const v1::OrderConfirmedRepaired& repaired,
                                          absl::Time event_time,
                                          const v1::SatisfactionPolicy& policy);

// Moves a survey along its timers at `now`: SCHEDULED -> DUE at due_at,
// SCHEDULED/DUE -> EXPIRED at expires_at. Returns the states entered, in
// order (empty when nothing changed).
std::vector<v1::SurveyState> AdvanceSurvey(v1::Survey& survey, absl::Time now);

// When the survey's next timer fires (InfiniteFuture when none).
absl::Time NextTimer(const v1::Survey& survey);

// A submitted response: csat 1..5, nps 0..10, the six dimensions 1..5,
// problem_solved present, comment <= 4000 characters of UTF-8 text.
// INVALID_ARGUMENT naming the field under `field` ("response.csat: ...").
absl::Status ValidateResponse(const v1::SurveyResponse& response,
                              absl::string_view field = "response");

// Negative-sentiment words (policy) in `comment`, ASCII case-insensitive.
bool NegativeComment(absl::string_view comment, const v1::SatisfactionPolicy& policy);

// The six dimension scores in SurveyDimension order.
std::vector<int> DimensionValues(const v1::DimensionScores& d);

// What an answer did and triggered.
struct Answer {
  v1::Survey survey;                                 // ANSWERED, with the response
  bool sent_before = false;                          // it had become DUE before
  bool detractor = false;                            // CSAT <= max, or NPS <= max with negative comment
  bool not_solved = false;                           // -> reopen at intake
  bool five_star = false;                            // -> priority-service right
  std::vector<v1::SurveyDimension> low_dimensions;   // scored below the threshold
};

// Answers `survey`. FAILED_PRECONDITION when it is ANSWERED (the caller
// handles same-request retries before), EXPIRED, or past expires_at.
absl::StatusOr<Answer> AnswerSurvey(const v1::Survey& survey, const v1::SurveyResponse& response,
                                    const std::string& request_id,
                                    const v1::SatisfactionPolicy& policy, absl::Time now);

// The events of an answer, in the order consumers should see them:
// SurveyAnswered, then ProblemNotSolved, DetractorDetected, FiveStarGranted.
std::vector<v1::Event> AnswerEvents(const Answer& answer, absl::Time now);

// SurveyScheduled for a new survey.
v1::Event ScheduledEvent(const v1::Survey& survey, absl::Time now);

// An event envelope from satisfaction.
v1::Event NewEvent(const std::string& subject_id, absl::Time now);

}  // namespace aftersales::satisfaction::domain

#endif  // AFTERSALES_SERVICES_SATISFACTION_DOMAIN_SURVEY_H_
