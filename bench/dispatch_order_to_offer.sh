#!/usr/bin/env bash
# Order created -> offer made at fixed rates, for one or more dispatch
# binaries interleaved (A/B in the same session): per rate and binary, a
# fresh intake + dispatch started as bench/loadgen/run_benchmarks.sh starts
# them, ENGINEERS seeded, then an open-loop run. Prints one line per run:
# offers / orders without an offer, ack -> OfferMade p50 / p99, and
# dispatch's CPU per order (its CPU in the measured window / orders).
# Usage: bench/dispatch_order_to_offer.sh [label=dispatch-binary ...]
#   (default: after=build/services/dispatch/dispatch)
# Environment: RATES (default "600 1200 2400"), WARMUP (3), DURATION (10),
#   CHANNELS (4), ENGINEERS (2000), BUILD (build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$root/build}
RATES=${RATES:-"600 1200 2400"}
WARMUP=${WARMUP:-3}
DURATION=${DURATION:-10}
CHANNELS=${CHANNELS:-4}
ENGINEERS=${ENGINEERS:-2000}
variants=("$@")
[[ ${#variants[@]} -gt 0 ]] || variants=("after=$BUILD/services/dispatch/dispatch")
source "$here/loadgen/common.sh"
TMP=$(mktemp -d /tmp/aftersales-o2o.XXXXXX)
TOKDIR=$TMP
trap 'stop_servers; rm -rf "$TMP"' EXIT
write_tokens "$TMP"

field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
ms() { awk -v u="$1" 'BEGIN{ if (u == "") print "-"; else printf "%.1f", u / 1000 }'; }

echo "== $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
printf '%-8s %6s %16s %10s %10s %14s %6s\n' variant rate "offers/without" "p50 ms" "p99 ms" \
  "dispatch us/order" load
n=0
for rate in $RATES; do
  for v in "${variants[@]}"; do
    label=${v%%=*} bin=${v#*=}
    n=$((n + 1))
    start_server intake "$BUILD/services/intake/intake" "$TMP/intake$n" \
      --policy_file="$root/deploy/policies/intake.textproto"
    start_server dispatch "$bin" "$TMP/dispatch$n" \
      --policy_file="$root/deploy/policies/dispatch.textproto" --intake_addr="$ADDR_intake" \
      --service_token_file="$TMP/service.token"
    out=$("$BUILD/bench/loadgen" --name="o2o_${label}_$rate" --target="$ADDR_intake" \
      --mode=open --rate="$rate" --warmup_s="$WARMUP" --duration_s="$DURATION" \
      --channels="$CHANNELS" --token_file="$TMP/agent.token" \
      --offers_from="$ADDR_dispatch" --service_token_file="$TMP/service.token" \
      --seed_engineers="$ENGINEERS" --admin_token_file="$TMP/admin.token" \
      --partner_token_file="$TMP/partner.token" \
      --server_pids="intake=$PID_intake,dispatch=$PID_dispatch")
    result=$(grep '^RESULT ' <<<"$out" | tail -1)
    printf '%-8s %6s %16s %10s %10s %14s %6s\n' "$label" "$rate" \
      "$(field "$result" offers) / $(field "$result" offers_missing)" \
      "$(ms "$(field "$result" offer_p50_us)")" "$(ms "$(field "$result" offer_p99_us)")" \
      "$(field "$result" dispatch_cpu_us_per_call)" "$(cut -d' ' -f1 /proc/loadavg)"
    stop_servers
    rm -rf "$TMP/intake$n" "$TMP/dispatch$n"
  done
done
