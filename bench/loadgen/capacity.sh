#!/usr/bin/env bash
# Issue 10: intake with 1 million orders stored. Loads the orders through the
# real CreateOrder RPC (64 concurrent calls over 4 connections; every order is
# a new customer's fridge with its own serial, so every index row is new),
# then measures the data directory's size, the time from exec to gRPC health
# SERVING on a restart, and the RSS after the restart and after 10 s of
# traffic. The data directory is kept (DATA) so a second run skips the load.
# Usage: bench/loadgen/capacity.sh [build-dir]
# Environment: DATA (default /tmp/aftersales-capacity), RECORDS (1000000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${1:-$root/build}
DATA=${DATA:-/tmp/aftersales-capacity}
RECORDS=${RECORDS:-1000000}
LOADGEN=$BUILD/bench/loadgen
source "$here/common.sh"
mkdir -p "$DATA"
TOKDIR=$DATA
[[ -s $DATA/tokens.txt ]] || write_tokens "$DATA"
trap 'stop_servers' EXIT
INTAKE=("$BUILD/services/intake/intake" --policy_file="$root/deploy/policies/intake.textproto")

rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MB  ", $1, $2 / 1024}' "/proc/$1/status"; }

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
if [[ ! -e $DATA/intake.loaded-$RECORDS ]]; then
  rm -rf "$DATA/intake"
  start_server intake "${INTAKE[@]:0:1}" "$DATA/intake" "${INTAKE[@]:1}"
  start=$(date +%s)
  "$LOADGEN" --target="$ADDR_intake" --token_file="$DATA/agent.token" --mode=closed \
    --concurrency=64 --channels=4 --warmup_s=0 --duration_s=36000 --max_calls="$RECORDS" \
    --run_id=cap --name=load --server_pids="intake=$PID_intake" | grep -E "ok |RESULT"
  echo "loaded $RECORDS orders in $(( $(date +%s) - start )) s; RSS at the end: $(rss "$PID_intake")"
  stop_servers
  touch "$DATA/intake.loaded-$RECORDS"
fi
bytes=$(du -sb "$DATA/intake" | cut -f1)
echo "data dir: $(du -sh "$DATA/intake" | cut -f1) = $(( bytes / RECORDS )) bytes per order (RocksDB, compressed, incl. events, indexes, idempotency keys, sealed PII, WAL)"

for attempt in 1 2; do
  rm -f "$DATA/intake.port"
  t0=$(date +%s%N)
  start_server intake "${INTAKE[@]:0:1}" "$DATA/intake" "${INTAKE[@]:1}"
  "$LOADGEN" --target="$ADDR_intake" --wait_serving_since_ns="$t0" --name="restart_$attempt"
  echo "restart $attempt: after start: $(rss "$PID_intake")"
  "$LOADGEN" --target="$ADDR_intake" --token_file="$DATA/agent.token" --mode=open --rate=200 \
    --channels=4 --warmup_s=1 --duration_s=10 --run_id="cap-q$attempt-$t0" \
    --name="queries_$attempt" --server_pids="intake=$PID_intake" | grep -E "RESULT"
  echo "restart $attempt: after 11 s of CreateOrder at 200/s: $(rss "$PID_intake")"
  stop_servers
done
