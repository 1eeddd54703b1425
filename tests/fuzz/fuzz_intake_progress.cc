// intake ReportProgress / SyncOfflineReports: a batch of buffered reports as
// gRPC decodes it. Each report is validated (domain::ValidateProgressReport,
// as the handler does before applying any) and the valid ones are applied in
// order to an order assigned to E1, ten minutes apart, with a sweep between
// them — the fuzzer explores sequences through the five-step lifecycle.
//   - errors are statuses (INVALID_ARGUMENT naming the field for bad input,
//     FAILED_PRECONDITION for an illegal transition), never a crash;
//   - a change keeps the order id and never lowers the version;
//   - a terminal order (CLOSED, CANCELLED) accepts no further milestone.
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "aftersales/v1/intake.pb.h"
#include "intake_fixture.h"

using namespace aftersales;
namespace domain = aftersales::intake::domain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::SyncOfflineReportsRequest batch;
  if (!fuzz::Decode(data, size, &batch)) return 0;
  if (batch.reports_size() > 64) return 0;  // the handler's bound is 500; keep runs fast
  v1::WorkOrder order = size % 2 == 0 ? fuzz::AssignedOrder() : fuzz::CreatedOrder();
  absl::Time now = fuzz::kNow + absl::Minutes(5);
  for (int i = 0; i < batch.reports_size(); ++i) {
    const v1::ProgressReport& report = batch.reports(i);
    absl::Status valid =
        domain::ValidateProgressReport(report, absl::StrCat("reports[", i, "]"));
    fuzz::CheckValidationError(valid);
    if (!valid.ok()) continue;
    domain::MilestoneOf(report);
    now += absl::Minutes(10);
    const bool terminal = domain::IsTerminal(order.state());
    auto change = domain::ApplyProgress(
        order, report, fuzz::IntakeContext(now, i % 3 == 0 ? v1::ROLE_ENGINEER : v1::ROLE_AGENT));
    if (!change.ok()) {
      FUZZ_CHECK(change.status().code() != absl::StatusCode::kOk);
      continue;
    }
    FUZZ_CHECK(!terminal);
    FUZZ_CHECK(change->order.order_id() == order.order_id());
    FUZZ_CHECK(change->order.version() >= order.version());
    order = std::move(change->order);
    domain::Change swept =
        domain::Sweep(order, fuzz::IntakeContext(now, v1::ROLE_SERVICE));
    order = std::move(swept.order);
    domain::NextSweep(order, fuzz::IntakePolicy());
  }
  return 0;
}
