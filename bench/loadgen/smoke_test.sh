#!/usr/bin/env bash
# ctest loadgen_smoke: ~2 s of closed-loop and open-loop load against the echo
# server. Checks that the output is sane (calls succeeded, throughput > 0,
# p50 <= p90 <= p99 <= p99.9 <= max, server CPU/RSS read). Asserts no speed.
set -euo pipefail
LOADGEN=$1
ECHO=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
TMP=$(mktemp -d)
TOKDIR=$TMP
trap 'stop_servers; rm -rf "$TMP"' EXIT
write_tokens "$TMP"
start_server echo "$ECHO" "$TMP/echo"

fail() { echo "FAIL: $*"; exit 1; }
check() {  # check OUTPUT: the RESULT line's fields
  local out=$1
  local line
  line=$(grep '^RESULT ' <<<"$out") || fail "no RESULT line"
  local -A f
  local kv
  for kv in ${line#RESULT }; do f[${kv%%=*}]=${kv#*=}; done
  [[ ${f[errors]} == 0 ]] || fail "errors=${f[errors]}"
  awk -v t="${f[throughput]}" 'BEGIN{exit !(t > 0)}' || fail "throughput ${f[throughput]}"
  [[ ${f[ok]} -gt 0 ]] || fail "ok=${f[ok]}"
  awk -v a="${f[p50_us]}" -v b="${f[p90_us]}" -v c="${f[p99_us]}" -v d="${f[p999_us]}" \
      -v m="${f[max_us]}" 'BEGIN{exit !(a > 0 && a <= b && b <= c && c <= d && d <= m)}' \
    || fail "percentiles not ordered: $line"
  awk -v r="${f[echo_rss_mb]:-0}" 'BEGIN{exit !(r > 0)}' || fail "no server RSS: $line"
  echo "ok: $line"
}

out=$("$LOADGEN" --target="$ADDR_echo" --mode=closed --concurrency=8 --channels=2 \
  --warmup_s=0.5 --duration_s=1 --server_pids="echo=$PID_echo" --name=echo_closed)
echo "$out"
check "$out"
out=$("$LOADGEN" --target="$ADDR_echo" --mode=open --rate=200 --channels=2 \
  --warmup_s=0.2 --duration_s=1 --server_pids="echo=$PID_echo" --name=echo_open)
echo "$out"
check "$out"
# A wrong target must fail, not report numbers.
if "$LOADGEN" --target=127.0.0.1:1 --connect_timeout_s=1 --duration_s=0.2 --warmup_s=0 >/dev/null 2>&1; then
  fail "loadgen succeeded against a closed port"
fi
echo "loadgen smoke: all checks passed"
