#include "satisfaction/satisfaction_metrics.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace aftersales::satisfaction {

SatisfactionMetrics::SatisfactionMetrics(prometheus::Registry& registry)
    : surveys_(prometheus::BuildCounter()
                   .Name("aftersales_surveys_total")
                   .Help("Surveys by outcome: scheduled, sent (due or answered early), "
                         "answered, expired")
                   .Register(registry)),
      answers_(prometheus::BuildCounter()
                   .Name("aftersales_survey_answers_total")
                   .Help("Survey answers by NPS class (promoter 9-10, passive 7-8, "
                         "detractor 0-6)")
                   .Register(registry)),
      deep_follow_ups_(prometheus::BuildCounter()
                           .Name("aftersales_deep_follow_ups_opened_total")
                           .Help("Deep follow-up tasks opened (a dimension scored below 4)")
                           .Register(registry)
                           .Add({})),
      recoveries_(prometheus::BuildCounter()
                      .Name("aftersales_detractor_recoveries_total")
                      .Help("Detractor recovery steps: opened (complaint filed, win-back "
                            "task), contacted (win-back contact made)")
                      .Register(registry)),
      churn_(prometheus::BuildCounter()
                 .Name("aftersales_churn_risks_flagged_total")
                 .Help("Churn-risk flags by reason")
                 .Register(registry)),
      ratings_(prometheus::BuildCounter()
                   .Name("aftersales_engineer_rating_changes_total")
                   .Help("EngineerRatingChanged events published to dispatch")
                   .Register(registry)
                   .Add({})),
      not_solved_(prometheus::BuildCounter()
                      .Name("aftersales_survey_problem_not_solved_total")
                      .Help("Answers saying the problem was not solved (order reopened)")
                      .Register(registry)
                      .Add({})),
      five_star_(prometheus::BuildCounter()
                     .Name("aftersales_five_star_rights_granted_total")
                     .Help("All-five answers that granted a priority-service right")
                     .Register(registry)
                     .Add({})),
      csat_(prometheus::BuildGauge()
                .Name("aftersales_csat_percent")
                .Help("Share of CSAT 4-5 answers, per region and window, [0, 100]")
                .Register(registry)),
      nps_(prometheus::BuildGauge()
               .Name("aftersales_nps_score")
               .Help("Net promoter score per region and window, [-100, 100]")
               .Register(registry)),
      index_(prometheus::BuildGauge()
                 .Name("aftersales_satisfaction_index")
                 .Help("Satisfaction index (weighted dimension mean) per region and window, "
                       "[0, 100]")
                 .Register(registry)),
      coverage_(prometheus::BuildGauge()
                    .Name("aftersales_follow_up_coverage_ratio")
                    .Help("Surveyed / eligible completed orders per region and window, [0, 1]")
                    .Register(registry)),
      response_rate_(prometheus::BuildGauge()
                         .Name("aftersales_survey_response_ratio")
                         .Help("Answered / sent surveys per region and window, [0, 1]")
                         .Register(registry)),
      responses_(prometheus::BuildGauge()
                     .Name("aftersales_survey_responses")
                     .Help("Answered surveys per region and window")
                     .Register(registry)) {}

void SatisfactionMetrics::Survey(const std::string& outcome) {
  surveys_.Add({{"outcome", outcome}}).Increment();
}

void SatisfactionMetrics::Answer(int nps) {
  const char* c = nps >= 9 ? "promoter" : nps >= 7 ? "passive" : "detractor";
  answers_.Add({{"nps_class", c}}).Increment();
}

void SatisfactionMetrics::DeepFollowUpOpened() { deep_follow_ups_.Increment(); }

void SatisfactionMetrics::DetractorRecovery(const std::string& stage) {
  recoveries_.Add({{"stage", stage}}).Increment();
}

void SatisfactionMetrics::ChurnFlagged(v1::ChurnReason reason) {
  std::string label(absl::StripPrefix(v1::ChurnReason_Name(reason), "CHURN_REASON_"));
  churn_.Add({{"reason", absl::AsciiStrToLower(label)}}).Increment();
}

void SatisfactionMetrics::RatingPublished() { ratings_.Increment(); }
void SatisfactionMetrics::ProblemNotSolved() { not_solved_.Increment(); }
void SatisfactionMetrics::FiveStar() { five_star_.Increment(); }

void SatisfactionMetrics::SetRegion(const std::string& region, const std::string& window,
                                    const v1::Scorecard& card) {
  const std::map<std::string, std::string> labels = {{"region", region}, {"window", window}};
  csat_.Add(labels).Set(card.csat_percent());
  nps_.Add(labels).Set(card.nps());
  index_.Add(labels).Set(card.satisfaction_index());
  coverage_.Add(labels).Set(card.follow_up_coverage());
  response_rate_.Add(labels).Set(card.response_rate());
  responses_.Add(labels).Set(static_cast<double>(card.responses()));
}

}  // namespace aftersales::satisfaction
