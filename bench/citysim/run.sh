#!/usr/bin/env bash
# Simulated city day through the real services (docs/citysim.md).
# For each day (normal, heat wave) and each dispatch policy (the suite's,
# nearest-engineer baseline) it starts the five services fresh on free
# loopback ports with temporary data directories and manual clocks, runs
# build/bench/citysim against them, stops them, and finally prints the
# comparison table and writes results.json / results.md.
#
#   bench/citysim/run.sh [--engineers N] [--orders N] [--seed S] [--days "normal heatwave"]
#                        [--policies "suite nearest"] [--step MIN] [--threads N]
#                        [--out DIR] [--build-dir DIR] [--no-build] [--smoke]
#
#   --orders N   orders of a normal day (default 10000); a heat wave adds 2x its
#                air-conditioner orders (3x AC)
#   --smoke      the ctest smoke test: 50 engineers, 100 orders, normal day,
#                5-min steps, both policies, then report.py --check
# Data goes under $CITYSIM_DATA_ROOT (default /dev/shm when writable, else
# $TMPDIR): a fresh directory per run, removed afterwards.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
engineers=3000
orders=10000
seed=20260720
days="normal heatwave"
policies="suite nearest"
step=2
threads=8
out="$root/build/citysim"
build_dir="$root/build"
build=1
smoke=0
command_line="bench/citysim/run.sh $*"

while (($# > 0)); do
  case "$1" in
    --engineers) engineers="$2"; shift ;;
    --orders) orders="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --days) days="$2"; shift ;;
    --policies) policies="$2"; shift ;;
    --step) step="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --out) out="$2"; shift ;;
    --build-dir) build_dir="$2"; shift ;;
    --no-build) build=0 ;;
    --smoke) smoke=1 ;;
    -h | --help) sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "citysim: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
if ((smoke)); then
  engineers=50
  orders=100
  days="normal"
  policies="suite nearest"
  step=5
  threads=4
fi

services=(intake dispatch parts complaint satisfaction)
if ((build)); then
  lock=()
  command -v flock >/dev/null && lock=(flock /tmp/aftersales-build.lock)
  "${lock[@]}" cmake --build "$build_dir" --target citysim "${services[@]}"
fi
sim="$build_dir/bench/citysim"
[[ -x "$sim" ]] || { echo "citysim: missing $sim (build the citysim target)" >&2; exit 1; }
for s in "${services[@]}"; do
  [[ -x "$build_dir/services/$s/$s" ]] || { echo "citysim: missing $s binary" >&2; exit 1; }
done

data_root="${CITYSIM_DATA_ROOT:-}"
if [[ -z "$data_root" ]]; then
  if [[ -d /dev/shm && -w /dev/shm ]]; then data_root=/dev/shm; else data_root="${TMPDIR:-/tmp}"; fi
fi
work="$(mktemp -d "$data_root/citysim.XXXXXX")"
mkdir -p "$out"
declare -A pid_of
started=()

stop_services() {
  local s rc=0
  for s in "${started[@]}"; do kill -TERM "${pid_of[$s]}" 2>/dev/null || true; done
  for s in "${started[@]}"; do
    local pid="${pid_of[$s]}" n=0
    while kill -0 "$pid" 2>/dev/null && ((n < 300)); do sleep 0.1; n=$((n + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      echo "citysim: $s (pid $pid) did not stop; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=1
  done
  started=()
  return "$rc"
}
cleanup() {
  local rc=$?
  ((${#started[@]} == 0)) || stop_services || true
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tokens (hashes for the services, plain for the driver) -----------------
tokens_plain="$work/tokens.plain"
tokens_file="$work/tokens.txt"
service_token="$work/service.token"
: >"$tokens_plain"
: >"$tokens_file"
for line in "admin admin" "agent agent" "app app" "service service"; do
  read -r id role <<<"$line"
  token="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  echo "$id $token" >>"$tokens_plain"
  echo "sha256:$(printf '%s' "$token" | sha256sum | cut -d' ' -f1) $id $role" >>"$tokens_file"
  [[ "$id" == service ]] && echo "$token" >"$service_token"
done

python3 "$here/policies.py" "$root/deploy/policies/dispatch.textproto" "$work"

free_ports() {  # N free loopback ports, held together while chosen
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

start_suite() {  # policy name, run directory
  local policy="$1" dir="$2" i=0 s
  local -a ports
  read -r -a ports <<<"$(free_ports 10)"
  declare -gA grpc_port
  for s in "${services[@]}"; do grpc_port[$s]="${ports[i]}"; i=$((i + 1)); done
  for s in "${services[@]}"; do
    local args=(
      --listen_host=127.0.0.1 --grpc_port="${grpc_port[$s]}" --metrics_port="${ports[i]}"
      --data_dir="$dir/$s" --tokens_file="$tokens_file" --service_token_file="$service_token"
      --port_file="$dir/$s.ports" --clock=manual --clock_start=2026-07-20T07:00:00+08:00
    )
    i=$((i + 1))
    if [[ "$s" == dispatch ]]; then
      args+=(--policy_file="$work/$policy.textproto")
    elif [[ -f "$root/deploy/policies/$s.textproto" ]]; then
      args+=(--policy_file="$root/deploy/policies/$s.textproto")
    fi
    local peer
    for peer in "${services[@]}"; do
      [[ "$peer" == "$s" ]] || args+=(--"${peer}_addr=127.0.0.1:${grpc_port[$peer]}")
    done
    mkdir -p "$dir/$s"
    # A shared build tree may be relinking a binary right now: wait for it.
    local w=0
    while [[ ! -x "$build_dir/services/$s/$s" ]] && ((w < 300)); do sleep 1; w=$((w + 1)); done
    "$build_dir/services/$s/$s" "${args[@]}" >"$dir/$s.log" 2>&1 </dev/null &
    pid_of[$s]=$!
    started+=("$s")
  done
  for s in "${services[@]}"; do
    local n=0
    until [[ -f "$dir/$s.ports" ]] && grep -q "serving gRPC on" "$dir/$s.log" 2>/dev/null; do
      if ! kill -0 "${pid_of[$s]}" 2>/dev/null || ((n > 600)); then
        echo "citysim: $s did not start; its log:" >&2
        tail -n 30 "$dir/$s.log" >&2
        return 1
      fi
      sleep 0.1
      n=$((n + 1))
    done
  done
}

echo "citysim: $engineers engineers, $orders orders on a normal day, seed $seed, days [$days]," \
  "policies [$policies], ${step}-min steps, data under $work"
results=()
for day in $days; do
  for policy in $policies; do
    dir="$work/$day-$policy"
    mkdir -p "$dir"
    start_suite "$policy" "$dir"
    json="$out/$day-$policy.json"
    rc=0
    "$sim" --intake="127.0.0.1:${grpc_port[intake]}" --dispatch="127.0.0.1:${grpc_port[dispatch]}" \
      --parts="127.0.0.1:${grpc_port[parts]}" --complaint="127.0.0.1:${grpc_port[complaint]}" \
      --satisfaction="127.0.0.1:${grpc_port[satisfaction]}" --tokens="$tokens_plain" \
      --engineers="$engineers" --orders="$orders" --seed="$seed" --day="$day" \
      --step_minutes="$step" --threads="$threads" --label="$policy" --out="$json" --verbose \
      >"$dir/citysim.log" 2>&1 || rc=$?
    cp "$dir/citysim.log" "$out/$day-$policy.log"
    head -n 1 "$dir/citysim.log"
    if ((rc != 0)); then
      echo "citysim: the $day/$policy run failed (status $rc):" >&2
      tail -n 40 "$dir/citysim.log" >&2
      for s in "${services[@]}"; do grep -i "error\|fail" "$dir/$s.log" | tail -n 5 >&2 || true; done
      exit 1
    fi
    if ! stop_services; then
      echo "citysim: a service did not stop cleanly after $day/$policy" >&2
      exit 1
    fi
    rm -rf "$dir"
    results+=("$json")
  done
done

check=()
((smoke)) && check=(--check)
python3 "$here/report.py" "$out" "${results[@]}" "${check[@]}" --command "$command_line"
echo "citysim: results in $out/results.md and $out/results.json"
