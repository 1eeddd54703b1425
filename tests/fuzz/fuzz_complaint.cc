// complaint FileComplaint / Resolve: the requests as gRPC decodes them. A
// FileComplaintRequest (first byte even) is validated
// (domain::ValidateFileRequest); a valid one is graded over its free text
// (keyword rules in Chinese and English, emotion, VIP, history) and filed,
// acknowledged and investigated. A ResolveComplaintRequest (first byte odd)
// is validated and, when valid, resolves a complaint under investigation.
//   - errors are INVALID_ARGUMENT naming the field;
//   - the grade is G1..G4 and every fired rule is explained;
//   - a complaint moves FILED -> ACKNOWLEDGED -> INVESTIGATING -> RESOLVED.
#include <cstdint>

#include "aftersales/v1/complaint.pb.h"
#include "complaint/domain/grading.h"
#include "complaint/domain/lifecycle.h"
#include "complaint/domain/policy.h"
#include "complaint/domain/text_match.h"
#include "fuzz_support.h"

using namespace aftersales;
namespace domain = aftersales::complaint::domain;

namespace {

const v1::ComplaintPolicy& Policy() {
  static const v1::ComplaintPolicy* policy = new v1::ComplaintPolicy(
      fuzz::DeployedPolicy<v1::ComplaintPolicy>("complaint", domain::ParseComplaintPolicy));
  return *policy;
}

domain::Context Ctx(absl::Duration after) {
  domain::Context ctx;
  ctx.now = fuzz::kNow + after;
  ctx.actor.set_principal_id("agent");
  ctx.actor.set_role(v1::ROLE_AGENT);
  ctx.policy = &Policy();
  return ctx;
}

// A valid request filed and taken to INVESTIGATING.
v1::Complaint Investigating(const v1::FileComplaintRequest& request) {
  domain::GradeInput in;
  in.text = request.text();
  in.category = request.category();
  in.channel = request.channel();
  in.tier = request.customer_tier();
  in.appliance_model = request.appliance_model();
  in.customer_history = {{"CP-1", fuzz::kNow - absl::Hours(30)},
                         {"CP-2", fuzz::kNow - absl::Hours(2)}};
  v1::GradingResult grading = domain::Grade(in, Policy(), fuzz::kNow);
  FUZZ_CHECK(grading.grade() >= v1::COMPLAINT_GRADE_G1_GENERAL &&
             grading.grade() <= v1::COMPLAINT_GRADE_G4_CRITICAL);
  domain::DecideCategory(request.text(), request.category(), Policy());
  domain::NormalizeForMatch(request.text());
  domain::ModelKey(request.appliance_model());
  domain::Change filed = domain::FileNew(request, "CP-FUZZ", grading, nullptr, Ctx(absl::ZeroDuration()));
  FUZZ_CHECK(filed.complaint.state() == v1::COMPLAINT_STATE_FILED);
  auto acked = domain::Acknowledge(filed.complaint, "owner-1", "", Ctx(absl::Minutes(30)));
  FUZZ_CHECK(acked.ok());
  auto investigating = domain::StartInvestigation(acked->complaint, "", Ctx(absl::Hours(1)));
  FUZZ_CHECK(investigating.ok());
  domain::Sweep(investigating->complaint, Ctx(absl::Hours(200)));
  return investigating->complaint;
}

v1::FileComplaintRequest SampleFile() {
  v1::FileComplaintRequest r;
  r.set_request_id("req-1");
  r.set_customer_id("C100");
  r.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
  r.set_text("engineer was late twice");
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool resolve = data[0] % 2 == 1;
  ++data;
  --size;
  Policy();
  if (!resolve) {
    v1::FileComplaintRequest request;
    if (!fuzz::Decode(data, size, &request)) return 0;
    absl::Status valid = domain::ValidateFileRequest(request);
    fuzz::CheckValidationError(valid);
    if (valid.ok()) Investigating(request);
    return 0;
  }
  v1::ResolveComplaintRequest request;
  if (!fuzz::Decode(data, size, &request)) return 0;
  absl::Status valid = domain::ValidateResolveRequest(request);
  fuzz::CheckValidationError(valid);
  if (!valid.ok()) return 0;
  static const v1::Complaint* open = new v1::Complaint(Investigating(SampleFile()));
  auto resolved =
      domain::Resolve(*open, request.investigation(), request.resolution(), Ctx(absl::Hours(5)));
  FUZZ_CHECK(resolved.ok());
  FUZZ_CHECK(resolved->complaint.state() == v1::COMPLAINT_STATE_RESOLVED);
  return 0;
}
