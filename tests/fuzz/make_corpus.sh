#!/usr/bin/env bash
# Regenerates the checked-in seed corpora under tests/fuzz/corpus/ from the
# readable seeds in tests/fuzz/seeds/ (text-format requests, encoded with
# `protoc --encode`), the deployed policies and tests/fuzz/regressions/
# (inputs that once found a bug). Run after changing a seed or
# a contract; commit the result.   tests/fuzz/make_corpus.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/corpus"
rm -rf "$out"
mkdir -p "$out"

# <target> <selector byte in hex, or -> <message> <seed file>
table=(
  "fuzz_intake_create - CreateOrderRequest intake_create.CreateOrderRequest.txtpb"
  "fuzz_intake_progress - SyncOfflineReportsRequest intake_progress.SyncOfflineReportsRequest.txtpb"
  "fuzz_intake_progress - SyncOfflineReportsRequest intake_progress_cancel.SyncOfflineReportsRequest.txtpb"
  "fuzz_intake_events - Event intake_events_accepted.Event.txtpb"
  "fuzz_intake_events - Event intake_events_eta.Event.txtpb"
  "fuzz_intake_events - Event intake_events_parts.Event.txtpb"
  "fuzz_intake_events - Event intake_events_complaint.Event.txtpb"
  "fuzz_dispatch - RegisterEngineerRequest dispatch.RegisterEngineerRequest.txtpb"
  "fuzz_complaint 00 FileComplaintRequest complaint_file.FileComplaintRequest.txtpb"
  "fuzz_complaint 01 ResolveComplaintRequest complaint_resolve.ResolveComplaintRequest.txtpb"
  "fuzz_satisfaction 00 SubmitSurveyRequest satisfaction_submit.SubmitSurveyRequest.txtpb"
  "fuzz_satisfaction 01 Event satisfaction_event.Event.txtpb"
  "fuzz_parts 00 UpsertPartRequest parts_upsert_part.UpsertPartRequest.txtpb"
  "fuzz_parts 01 UpsertLocationRequest parts_upsert_location.UpsertLocationRequest.txtpb"
  "fuzz_parts 02 ListPartsRequest parts_list.ListPartsRequest.txtpb"
  "fuzz_parts 03 ReceiveRequest parts_receive.ReceiveRequest.txtpb"
  "fuzz_parts 04 AdjustRequest parts_adjust.AdjustRequest.txtpb"
  "fuzz_parts 05 TransferRequest parts_transfer.TransferRequest.txtpb"
  "fuzz_parts 06 ReserveRequest parts_reserve.ReserveRequest.txtpb"
  "fuzz_parts 07 ConsumeRequest parts_consume.ConsumeRequest.txtpb"
  "fuzz_parts 08 ReleaseRequest parts_release.ReleaseRequest.txtpb"
  "fuzz_parts 09 GetAvailabilityRequest parts_availability.GetAvailabilityRequest.txtpb"
  "fuzz_parts 0a SetReorderPolicyRequest parts_reorder.SetReorderPolicyRequest.txtpb"
  "fuzz_parts 0b TraceLotRequest parts_trace.TraceLotRequest.txtpb"
  "fuzz_parts 0c ListLowStockRequest parts_low.ListLowStockRequest.txtpb"
  "fuzz_parts 0d GeoPoint parts_geo.GeoPoint.txtpb"
)
for row in "${table[@]}"; do
  read -r target selector message seed <<<"$row"
  mkdir -p "$out/$target"
  file="$out/$target/${seed%.txtpb}"
  {
    [[ "$selector" == - ]] || printf "\\x$selector"
    protoc -I "$root/proto" --encode="aftersales.v1.$message" \
      "$root"/proto/aftersales/v1/*.proto <"$here/seeds/$seed"
  } >"$file"
done

# Text inputs.
mkdir -p "$out/fuzz_policies" "$out/fuzz_auth_tokens" "$out/fuzz_rpc_edge"
for svc in intake dispatch parts complaint satisfaction; do
  cp "$root/deploy/policies/$svc.textproto" "$out/fuzz_policies/$svc.textproto"
done
printf '%s' 'sha256:5994471abb01112afcc18159f6cc74b4f511b99806da59b3caf5a9c173cacfc5 agent agent
# comment
sha256:03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4 partner-a partner partner=PA
sha256:b3a8e0e1f9ab1bfe3a36f231f676f78bb30a519d2b21e6c530c0eee8ebb4a5d0 engineer engineer partner=PA engineer=E1' \
  >"$out/fuzz_auth_tokens/tokens.txt"
printf '%s' 'Bearer tok-agent' >"$out/fuzz_auth_tokens/bearer"
printf '%s' 'C100' >"$out/fuzz_rpc_edge/id"
printf '%s' '冰箱不制冷 fridge not cooling	tab
newline' >"$out/fuzz_rpc_edge/text"
printf '%s' 'V08wMDAwMDAwMDAwMDAwMDAx' >"$out/fuzz_rpc_edge/page_token"
# Inputs that once found a bug stay in the corpus for good.
for dir in "$here"/regressions/*/; do
  target="$(basename "$dir")"
  mkdir -p "$out/$target"
  cp "$dir"/* "$out/$target/"
done
echo "make_corpus.sh: $(find "$out" -type f | wc -l) seeds in $out"
