#ifndef AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_BACKGROUND_H_
#define AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_BACKGROUND_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aftersales/v1/events.pb.h"
#include "complaint/complaint_core.h"
#include "store/store.h"

namespace aftersales::complaint {

// intake's stream -> the per-order context grading reads (region, partner,
// engineer, model, tier, rework, breached clocks) and the order-count rows
// behind "per 1,000 orders"; CustomerErasureRequested overwrites the texts of
// the customer's complaints (SPEC §8). Other events are ignored.
absl::Status ApplyIntakeEvent(ComplaintCore& core, const v1::Event& e, store::Batch& batch);

// satisfaction's stream -> DetractorDetected files a complaint on the order
// (channel SURVEY_AUTO, idempotent per the event's complaint_request_id),
// with the survey comment as text when satisfaction serves it (GetSurvey).
// A satisfaction that cannot answer right now makes the event retry; one
// that does not know the survey (or does not implement GetSurvey yet) gets a
// text stating the scores.
absl::Status ApplySatisfactionEvent(ComplaintCore& core, const v1::Event& e,
                                    store::Batch& batch);

// One pass of the background work: deadline rows due now (at most `limit`),
// then pending mass-impact regrades. Returns how many deadline rows it swept.
absl::StatusOr<int> RunBackgroundOnce(ComplaintCore& core, size_t limit = 500);

// Runs RunBackgroundOnce until the host stops, waiting on the injectable
// clock between passes (a manual clock moved forward wakes it at once).
void RunBackground(ComplaintCore& core);

}  // namespace aftersales::complaint

#endif  // AFTERSALES_SERVICES_COMPLAINT_COMPLAINT_BACKGROUND_H_
