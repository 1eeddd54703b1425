// satisfaction SubmitSurvey and its event consumer. First byte even: a
// SubmitSurveyRequest as gRPC decodes it, validated
// (domain::ValidateResponse); a valid response answers a due survey (the
// SPEC §6 rules: deep follow-up, reopen, detractor, five-star) and is counted
// into an aggregate bucket. First byte odd: an intake event as decoded from
// its stream; an OrderConfirmedRepaired schedules a survey that is moved
// along its timers.
//   - errors are INVALID_ARGUMENT naming the field;
//   - an answered survey is ANSWERED; a scheduled one's timers only move forward.
#include <cstdint>

#include "aftersales/v1/events.pb.h"
#include "aftersales/v1/satisfaction.pb.h"
#include "fuzz_support.h"
#include "rpc/rpc.h"
#include "satisfaction/domain/aggregate.h"
#include "satisfaction/domain/policy.h"
#include "satisfaction/domain/survey.h"

using namespace aftersales;
namespace domain = aftersales::satisfaction::domain;

namespace {

const v1::SatisfactionPolicy& Policy() {
  static const v1::SatisfactionPolicy* policy =
      new v1::SatisfactionPolicy(fuzz::DeployedPolicy<v1::SatisfactionPolicy>(
          "satisfaction", domain::ParseSatisfactionPolicy));
  return *policy;
}

v1::OrderConfirmedRepaired SampleConfirmed() {
  v1::OrderConfirmedRepaired c;
  c.set_order_id("WO1");
  c.set_customer_id("C100");
  c.set_engineer_id("E1");
  c.set_partner_id("PA");
  c.set_region_code("CN-310000");
  c.set_city_tier(1);
  c.set_appliance_category("FRIDGE");
  *c.mutable_repaired_at() = rpc::ToProto(fuzz::kNow);
  *c.mutable_confirmed_at() = rpc::ToProto(fuzz::kNow + absl::Hours(1));
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool event = data[0] % 2 == 1;
  ++data;
  --size;
  Policy();
  if (event) {
    v1::Event e;
    if (!fuzz::Decode(data, size, &e) || !e.has_order_confirmed_repaired()) return 0;
    auto survey = domain::ScheduleSurvey(e.order_confirmed_repaired(),
                                         e.has_occurred_at() ? rpc::FromProto(e.occurred_at())
                                                             : fuzz::kNow,
                                         Policy());
    if (!survey.ok()) {
      fuzz::CheckValidationError(survey.status());
      return 0;
    }
    for (absl::Duration d : {absl::Hours(1), absl::Hours(30), absl::Hours(24 * 9)}) {
      const v1::SurveyState before = survey->state();
      domain::AdvanceSurvey(*survey, fuzz::kNow + d);
      FUZZ_CHECK(survey->state() >= before || before == v1::SURVEY_STATE_UNSPECIFIED);
      domain::NextTimer(*survey);
    }
    return 0;
  }
  v1::SubmitSurveyRequest request;
  if (!fuzz::Decode(data, size, &request)) return 0;
  absl::Status valid = domain::ValidateResponse(request.response());
  fuzz::CheckValidationError(valid);
  if (!valid.ok()) return 0;
  static const v1::Survey* due = [] {
    auto s = domain::ScheduleSurvey(SampleConfirmed(), fuzz::kNow + absl::Hours(1), Policy());
    FUZZ_CHECK(s.ok());
    return new v1::Survey(*s);
  }();
  domain::NegativeComment(request.response().comment(), Policy());
  auto answer = domain::AnswerSurvey(*due, request.response(), "req-1", Policy(),
                                     fuzz::kNow + absl::Hours(2));
  FUZZ_CHECK(answer.ok());
  FUZZ_CHECK(answer->survey.state() == v1::SURVEY_STATE_ANSWERED);
  domain::AnswerEvents(*answer, fuzz::kNow + absl::Hours(2));
  v1::SatisfactionBucket bucket;
  domain::CountAnswer(bucket, answer->survey.response(), answer->sent_before, answer->detractor,
                      !answer->low_dimensions.empty(), answer->not_solved, answer->five_star);
  return 0;
}
