// Text policies (SPEC: every number is a versioned policy reloaded at run
// time through ReloadPolicy's inline_text or SIGHUP): the generic
// text-format parser of libs/server and each service's full parser and
// validator. Every input goes through all five parsers; an error must be
// INVALID_ARGUMENT naming a line or a field; a policy that parses must
// re-parse from its own text form to the same policy (nothing lost).
#include <cstdint>

#include "aftersales/v1/complaint.pb.h"
#include "complaint/domain/policy.h"
#include "dispatch/domain/ranking.h"
#include "fuzz_support.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "intake/domain/policy.h"
#include "parts/domain/policy.h"
#include "satisfaction/domain/policy.h"
#include "server/policy_holder.h"

using namespace aftersales;

namespace {

template <typename Policy, typename Parser>
void Check(absl::string_view text, Parser parse) {
  absl::StatusOr<Policy> policy = parse(text);
  if (!policy.ok()) {
    fuzz::CheckValidationError(policy.status());
    return;
  }
  std::string again;
  FUZZ_CHECK(google::protobuf::TextFormat::PrintToString(*policy, &again));
  absl::StatusOr<Policy> reparsed = parse(again);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*policy, *reparsed));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = fuzz::AsText(data, size);
  v1::ComplaintPolicy generic;
  fuzz::CheckValidationError(server::ParseTextPolicy(text, &generic));
  Check<v1::IntakePolicy>(text, intake::domain::ParseIntakePolicy);
  Check<v1::DispatchPolicy>(text, dispatch::domain::ParseDispatchPolicy);
  Check<v1::PartsPolicy>(text, parts::domain::ParsePartsPolicy);
  Check<v1::ComplaintPolicy>(text, complaint::domain::ParseComplaintPolicy);
  Check<v1::SatisfactionPolicy>(text, satisfaction::domain::ParseSatisfactionPolicy);
  return 0;
}
