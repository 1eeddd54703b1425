#!/usr/bin/env bash
# Capacity benchmark of dispatch, parts, complaint and satisfaction (issue 10,
# docs/capacity.md). Per service:
#   1. once: capacity_loader fills the data dir with RECORDS records through
#      the service's own code (on tmpfs, where a synced commit costs nothing;
#      the finished dir is then copied to DATA_ROOT on disk), and keeps it;
#   2. twice: start the real service on it, time exec -> gRPC health SERVING
#      (loadgen --wait_serving_since_ns), read RSS, read one loaded record,
#      run ~10 s of the service's everyday traffic (capacity_traffic), read
#      RSS again, stop it.
# Usage: bench/capacity/run.sh [--records N] [--services "dispatch parts ..."]
#          [--build-dir DIR] [--data-root DIR] [--traffic-s S] [--rate R] [--smoke]
# --smoke: small and fast (a ctest): data on tmpfs, no copy, one restart, no
#          traffic; fails unless the service serves the loaded data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=$root/build
RECORDS=1000000
SERVICES="complaint parts satisfaction dispatch"
DATA_ROOT=/tmp
TRAFFIC_S=10
RATE=100
SMOKE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --services) SERVICES=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --data-root) DATA_ROOT=$2; shift 2 ;;
    --traffic-s) TRAFFIC_S=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --smoke) SMOKE=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$root/bench/loadgen/common.sh"
trap 'stop_servers' EXIT

rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MB  ", $1, $2 / 1024}' "/proc/$1/status"; }
# Engineers registered in dispatch: one per 100 orders (10,000 for 1M), at least 200.
engineers() { local n=$(( RECORDS / 100 )); (( n < 200 )) && n=200; (( n > 10000 )) && n=10000; echo $n; }

echo "== $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), $RECORDS records"
for svc in $SERVICES; do
  DATA=$DATA_ROOT/aftersales-cap-$svc
  (( SMOKE )) && DATA=$DATA_ROOT/aftersales-cap-smoke-$svc-$$
  flags=(--policy_file="$root/deploy/policies/$svc.textproto")
  # dispatch follows intake's stream: point it at a closed port (the
  # consumer retries in the background; nothing else depends on it).
  [[ $svc == dispatch ]] && flags+=(--intake_addr=127.0.0.1:1 --service_token_file="$DATA/service.token")
  token=$DATA/agent.token
  [[ $svc == dispatch ]] && token=$DATA/admin.token

  if [[ ! -e $DATA/loaded-$RECORDS ]]; then
    stage=/dev/shm/aftersales-cap-$svc-$$
    (( SMOKE )) && stage=$DATA
    rm -rf "$DATA" "$stage"
    mkdir -p "$stage"
    write_tokens "$stage"
    echo "== $svc: loading $RECORDS records ($(date -u +%T))"
    /usr/bin/time -f "loader: %e s elapsed, %U s user, %S s sys, max RSS %M KB" \
      "$BUILD/bench/capacity_loader" --service="$svc" --records="$RECORDS" \
      --data_dir="$stage/store" --tokens_file="$stage/tokens.txt" \
      --ids_file="$stage/ids" --engineers="$(engineers)" "${flags[0]}"
    rm -f "$stage/store.loader-dispatch-policy.textproto"
    if [[ $stage != "$DATA" ]]; then
      mkdir -p "$DATA"
      cp -a "$stage/." "$DATA/"
      rm -rf "$stage"
    fi
    touch "$DATA/loaded-$RECORDS"
  fi
  TOKDIR=$DATA
  bytes=$(du -sb "$DATA/store" | cut -f1)
  echo "== $svc: data dir $(du -sh "$DATA/store" | cut -f1) = $(( bytes / RECORDS )) bytes per record"
  first=$(head -1 "$DATA/ids")
  last=$(tail -1 "$DATA/ids")
  attempts="1 2"
  (( SMOKE )) && attempts="1"
  for attempt in $attempts; do
    t0=$(date +%s%N)
    start_server "$svc" "$BUILD/services/$svc/$svc" "$DATA/store" "${flags[@]}"
    pid_var=PID_$svc addr_var=ADDR_$svc
    "$BUILD/bench/loadgen" --target="${!addr_var}" --wait_serving_since_ns="$t0" \
      --name="${svc}_restart_$attempt"
    echo "$svc restart $attempt: after start: $(rss "${!pid_var}")"
    for id in "$first" "$last"; do
      "$BUILD/bench/capacity_traffic" --service="$svc" --target="${!addr_var}" \
        --token_file="$token" --check_id="$id"
    done
    if (( SMOKE )); then
      # The read check can fail: a record that was never loaded is not found.
      if "$BUILD/bench/capacity_traffic" --service="$svc" --target="${!addr_var}" \
           --token_file="$token" --check_id="${first}x"; then
        echo "$svc: a record that was never loaded was found" >&2
        exit 1
      fi
    else
      "$BUILD/bench/capacity_traffic" --service="$svc" --target="${!addr_var}" \
        --token_file="$token" --ids_file="$DATA/ids" --rate="$RATE" --duration_s="$TRAFFIC_S" \
        --engineers="$(engineers)"
      echo "$svc restart $attempt: after ${TRAFFIC_S} s of traffic at $RATE/s: $(rss "${!pid_var}")"
    fi
    stop_servers
  done
  (( SMOKE )) && rm -rf "$DATA"
done
echo "== done $(date -u +%T)"
