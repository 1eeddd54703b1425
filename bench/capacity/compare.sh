#!/usr/bin/env bash
# Faithfulness check of capacity_loader (docs/capacity.md): the same N records
# created (a) by the loader in-process and (b) through a real service process
# (capacity_replay sends the loader's recorded calls over gRPC, intake's
# events over a real event stream, on the service's manual clock), then the
# two data dirs' column families compared: keys and bytes per record.
# Records stay as created here (--nofollow_ups): the check covers the create
# path; the follow-up steps call the same core functions the handlers call.
# Usage: bench/capacity/compare.sh [--records N] [--services "..."] [--build-dir DIR]
#          [--days D: dates span D days; dispatch's replay sends ~1.2 position reports
#           per engineer and day, so a short span keeps it quick]
#          [--check: fail unless every family's rows per record match within 5%]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=$root/build
RECORDS=2000
SERVICES="complaint parts satisfaction dispatch"
CHECK=0
DAYS=90
while [[ $# -gt 0 ]]; do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --services) SERVICES=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    --days) DAYS=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$root/bench/loadgen/common.sh"
T=/dev/shm/aftersales-cap-compare-$$
trap 'kill ${PIDS[@]:-} 2>/dev/null || true; rm -rf "$T"' EXIT
PIDS=()
for svc in $SERVICES; do
  D=$T/$svc
  mkdir -p "$D"
  write_tokens "$D"
  policy=$root/deploy/policies/$svc.textproto
  "$BUILD/bench/capacity_loader" --service="$svc" --records="$RECORDS" --nofollow_ups \
    --record_ops="$D/ops" --data_dir="$D/loader" --tokens_file="$D/tokens.txt" \
    --engineers=200 --days="$DAYS" --policy_file="$policy" | grep -v "audit log head"
  # dispatch: the loader's policy (position reports accepted for 24 h).
  [[ $svc == dispatch ]] && policy=$D/loader.loader-dispatch-policy.textproto
  replay=(--service="$svc" --ops="$D/ops" --port_file="$D/real.port" --token_dir="$D")
  flags=()
  if [[ $svc == dispatch || $svc == satisfaction ]]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    replay+=(--intake_port="$port" --producer_dir="$D/intake")
    flags+=(--intake_addr="127.0.0.1:$port" --service_token_file="$D/service.token")
  fi
  "$BUILD/bench/capacity_replay" "${replay[@]}" &
  replay_pid=$!
  PIDS=("$replay_pid")
  sleep 0.3
  "$BUILD/services/$svc/$svc" --data_dir="$D/real" --tokens_file="$D/tokens.txt" --grpc_port=0 \
    --metrics_port=0 --port_file="$D/real.port" --clock=manual \
    --clock_start="$(date -u -d '-401 days' +%Y-%m-%dT%H:%M:%SZ)" --policy_file="$policy" \
    "${flags[@]}" >"$D/real.log" 2>&1 &
  svc_pid=$!
  PIDS+=("$svc_pid")
  status=0
  wait "$replay_pid" || status=$?
  kill -TERM "$svc_pid"
  wait "$svc_pid" || true
  PIDS=()
  if (( status != 0 )); then
    echo "$svc: replay failed; service log:" >&2
    tail -20 "$D/real.log" >&2
    exit 1
  fi
  echo "== $svc: $RECORDS records: left = loader (in-process), right = real service over gRPC"
  "$BUILD/bench/capacity_inspect" "$D/loader" "$RECORDS" "$D/real" "$RECORDS" >"$D/inspect"
  awk 'NR == 1 || $0 ~ /total/ { print; next } { if ($3 != 0 || $7 != 0) print }' "$D/inspect"
  if (( CHECK )); then
    # Every column family: rows per record within 5% (or 0.02 rows) of the
    # real service's. Not "audit" (one row per commit) nor the total: the
    # replay moves the clock faster than the service's sweeper wakes (250 ms
    # real), so the real service sometimes handles two due deadlines of a
    # record in one commit where the loader (a pass per clock step, like an
    # idle production service) makes two.
    awk -v svc="$svc" 'NR > 1 && $1 != "audit" && $1 != "total" {
      d = $4 - $8; if (d < 0) d = -d
      tol = 0.05 * $8; if (tol < 0.02) tol = 0.02
      if (d > tol) { printf "%s: %s differs: %s vs %s rows per record\n", svc, $1, $4, $8; bad = 1 }
    } END { exit bad }' "$D/inspect"
  fi
  rm -rf "$D"
done
