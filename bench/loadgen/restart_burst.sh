#!/usr/bin/env bash
# Restart after a write burst: on a data dir loaded by capacity.sh, 15 s of
# CreateOrder at 64 outstanding (filling the memtables), then a clean stop
# (SIGTERM) or a crash (SIGKILL), then exec -> gRPC health SERVING.
# Usage: bench/loadgen/restart_burst.sh [build-dir]; DATA as for capacity.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${1:-$root/build}
DATA=${DATA:-/tmp/aftersales-capacity}
LOADGEN=$BUILD/bench/loadgen
source "$here/common.sh"
TOKDIR=$DATA
[[ -s $DATA/tokens.txt ]] || { echo "no loaded data in $DATA: run capacity.sh first" >&2; exit 1; }
trap 'stop_servers' EXIT
INTAKE=("$BUILD/services/intake/intake" --policy_file="$root/deploy/policies/intake.textproto")
for mode in term kill; do
  start_server intake "${INTAKE[0]}" "$DATA/intake" "${INTAKE[@]:1}"
  "$LOADGEN" --target="$ADDR_intake" --token_file="$DATA/agent.token" --mode=closed \
    --concurrency=64 --channels=4 --warmup_s=0 --duration_s=15 --name="burst_$mode" \
    --server_pids="intake=$PID_intake" | grep RESULT
  t=$(date +%s%N)
  if [[ $mode == kill ]]; then kill -KILL "$PID_intake"; else kill -TERM "$PID_intake"; fi
  wait "$PID_intake" 2>/dev/null || true
  STARTED_PIDS=()
  echo "stop ($mode) took $(( ($(date +%s%N) - t) / 1000000 )) ms"
  t0=$(date +%s%N)
  start_server intake "${INTAKE[0]}" "$DATA/intake" "${INTAKE[@]:1}"
  "$LOADGEN" --target="$ADDR_intake" --wait_serving_since_ns="$t0" --name="restart_after_$mode"
  stop_servers
done
