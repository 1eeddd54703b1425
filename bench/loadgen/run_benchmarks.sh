#!/usr/bin/env bash
# Issue 10 benchmarks in ONE run, so every business figure has its echo
# baseline measured minutes apart on the same (shared) machine:
#   1. max throughput (closed loop, a few concurrencies) of the bare echo
#      server and of intake CreateOrder (durable, synced, with its event);
#   2. latency at half of intake's max rate (open loop, latency from the
#      intended send time) for both, at the same offered rate;
#   3. order created -> offer made: a fresh intake + dispatch (engineers
#      seeded), open loop at half of intake's max rate, time from CreateOrder's
#      acknowledgement to dispatch's OfferMade event.
# Every server runs in a temp dir on free loopback ports and is stopped at
# the end. Usage: bench/loadgen/run_benchmarks.sh [build-dir]
# Environment: WARMUP (s, default 3), DURATION (s, default 10),
#   CONCURRENCIES (default "16 64 128"), CHANNELS (default 4), ENGINEERS (2000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${1:-$root/build}
WARMUP=${WARMUP:-3}
DURATION=${DURATION:-10}
CONCURRENCIES=${CONCURRENCIES:-"16 64 128"}
CHANNELS=${CHANNELS:-4}
ENGINEERS=${ENGINEERS:-2000}
LOADGEN=$BUILD/bench/loadgen
source "$here/common.sh"
TMP=$(mktemp -d /tmp/aftersales-bench.XXXXXX)
TOKDIR=$TMP
trap 'stop_servers; rm -rf "$TMP"' EXIT
write_tokens "$TMP"
LOG=$TMP/results.txt

field() {  # field KEY: from the last RESULT line in $LOG
  grep '^RESULT ' "$LOG" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}
run() {  # run ARGS...: one loadgen run, output kept in $LOG
  echo "+ loadgen $*" | sed "s|$TMP|\$TMP|g"
  "$LOADGEN" --warmup_s="$WARMUP" --duration_s="$DURATION" --channels="$CHANNELS" \
    --token_file="$TMP/agent.token" "$@" | tee -a "$LOG" | sed 's/^/    /'
}

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
# The echo serves CreateOrder through the same gRPC API as intake (a raw
# callback method); ECHO_API=sync measures the synchronous API instead.
start_server echo "$BUILD/bench/echo_server" "$TMP/echo" --echo_api="${ECHO_API:-callback}"
start_server intake "$BUILD/services/intake/intake" "$TMP/intake" \
  --policy_file="$root/deploy/policies/intake.textproto"

declare -A MAX MAXC
for target in echo intake; do
  addr_var=ADDR_$target pid_var=PID_$target
  MAX[$target]=0
  for c in $CONCURRENCIES; do
    run --name="${target}_closed_c$c" --target="${!addr_var}" --mode=closed --concurrency="$c" \
      --server_pids="$target=${!pid_var}"
    t=$(field throughput)
    if awk -v a="$t" -v b="${MAX[$target]}" 'BEGIN{exit !(a > b)}'; then
      MAX[$target]=$t
      MAXC[$target]=$c
      declare "P99MAX_$target=$(field p99_us)"
      declare "CPU_$target=$(field "${target}_cpu_us_per_call")"
      declare "RSS_$target=$(field "${target}_hwm_mb")"
    fi
  done
done
half=$(awk -v m="${MAX[intake]}" 'BEGIN{printf "%.0f", m / 2}')
echohalf=$(awk -v m="${MAX[echo]}" 'BEGIN{printf "%.0f", m / 2}')
for target in echo intake; do
  addr_var=ADDR_$target pid_var=PID_$target
  run --name="${target}_open_${half}" --target="${!addr_var}" --mode=open --rate="$half" \
    --server_pids="$target=${!pid_var}"
  declare "P99HALF_$target=$(field p99_us)"
  declare "P50HALF_$target=$(field p50_us)"
done
run --name="echo_open_${echohalf}" --target="$ADDR_echo" --mode=open --rate="$echohalf" \
  --server_pids="echo=$PID_echo"
P99OWNHALF_echo=$(field p99_us)
stop_servers

# Order created -> offer made, on a fresh pair.
start_server intake "$BUILD/services/intake/intake" "$TMP/intake2" \
  --policy_file="$root/deploy/policies/intake.textproto"
start_server dispatch "$BUILD/services/dispatch/dispatch" "$TMP/dispatch" \
  --policy_file="$root/deploy/policies/dispatch.textproto" --intake_addr="$ADDR_intake" \
  --service_token_file="$TMP/service.token"
# First at a low rate (LOW_RATE, default 100/s) that dispatch's consumer
# sustains, then at half of intake's max rate.
run --name="order_to_offer_${LOW_RATE:=100}" --target="$ADDR_intake" --mode=open --rate="$LOW_RATE" \
  --offers_from="$ADDR_dispatch" --service_token_file="$TMP/service.token" \
  --seed_engineers="$ENGINEERS" --admin_token_file="$TMP/admin.token" \
  --partner_token_file="$TMP/partner.token" \
  --server_pids="intake=$PID_intake,dispatch=$PID_dispatch"
OFFER_LOW_P50=$(field offer_p50_us) OFFER_LOW_P99=$(field offer_p99_us)
OFFER_LOW_N="$(field offers) / $(field offers_missing)"
run --name="order_to_offer_${half}" --target="$ADDR_intake" --mode=open --rate="$half" \
  --offers_from="$ADDR_dispatch" --service_token_file="$TMP/service.token" \
  --server_pids="intake=$PID_intake,dispatch=$PID_dispatch"
OFFER_P50=$(field offer_p50_us) OFFER_P99=$(field offer_p99_us) OFFERS=$(field offers)
OFFERS_MISSING=$(field offers_missing)
stop_servers

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "== Results (same run; latencies in microseconds)"
printf '%-44s %12s %12s %10s\n' "figure" "echo" "intake" "ratio"
printf '%-44s %12s %12s %10s\n' "max throughput, calls/s (best concurrency)" \
  "${MAX[echo]} (c${MAXC[echo]})" "${MAX[intake]} (c${MAXC[intake]})" \
  "$(ratio "${MAX[intake]}" "${MAX[echo]}")"
printf '%-44s %12s %12s %10s\n' "server CPU per call at max, us" "$CPU_echo" "$CPU_intake" \
  "$(ratio "$CPU_intake" "$CPU_echo")"
printf '%-44s %12s %12s %10s\n' "p99 at max throughput" "$P99MAX_echo" "$P99MAX_intake" \
  "$(ratio "$P99MAX_intake" "$P99MAX_echo")"
printf '%-44s %12s %12s %10s\n' "p50 at ${half}/s (half of intake max)" "$P50HALF_echo" \
  "$P50HALF_intake" "$(ratio "$P50HALF_intake" "$P50HALF_echo")"
printf '%-44s %12s %12s %10s\n' "p99 at ${half}/s (half of intake max)" "$P99HALF_echo" \
  "$P99HALF_intake" "$(ratio "$P99HALF_intake" "$P99HALF_echo")"
printf '%-44s %12s\n' "echo p99 at ${echohalf}/s (half of echo max)" "$P99OWNHALF_echo"
printf '%-44s %12s\n' "server peak RSS, MB" "$RSS_echo / $RSS_intake"
printf '%-44s %12s\n' "order -> offer p50 at ${LOW_RATE}/s" "$OFFER_LOW_P50"
printf '%-44s %12s\n' "order -> offer p99 at ${LOW_RATE}/s" "$OFFER_LOW_P99"
printf '%-44s %12s\n' "offers seen / without offer at ${LOW_RATE}/s" "$OFFER_LOW_N"
printf '%-44s %12s\n' "order -> offer p50 at ${half}/s" "$OFFER_P50"
printf '%-44s %12s\n' "order -> offer p99 at ${half}/s" "$OFFER_P99"
printf '%-44s %12s\n' "offers seen / orders without offer" "$OFFERS / $OFFERS_MISSING"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
