#!/usr/bin/env bash
# Runs the whole suite on this machine: installs missing Debian packages,
# builds (./build, Ninja, Release at -O2), creates a local dev token set on
# first run, and starts the five services on loopback with their data under
# ./var. Ctrl-C or SIGTERM stops them all cleanly.
#
#   deploy/local/run.sh [--no-build] [--demo [--exit]] [-- SERVICE_FLAGS...]
#
#   --no-build        use the binaries already in the build directory
#   --demo            demo mode: a fresh suite on manual clocks with its data
#                     in <var>/demo (wiped first); aftersales_demo seeds a
#                     city, plays a simulated day and prints an SLA summary;
#                     then the suite keeps serving until Ctrl-C
#   --exit            with --demo: stop after the summary, exit with its status
#   -- FLAGS...       passed to every service, e.g. -- --clock=manual
#
# Ports (fixed, so partners and the CLI can find them): gRPC 7101..7105 and
# metrics 9101..9105 for intake, dispatch, parts, complaint, satisfaction.
# Environment overrides:
#   AFTERSALES_GRPC_PORT_BASE (7100), AFTERSALES_METRICS_PORT_BASE (9100):
#       service N (1..5 in the order above) gets BASE+N
#   AFTERSALES_<SERVICE>_GRPC_PORT, AFTERSALES_<SERVICE>_METRICS_PORT:
#       one service, e.g. AFTERSALES_INTAKE_GRPC_PORT=8101
#   AFTERSALES_LISTEN_HOST (127.0.0.1), AFTERSALES_VAR_DIR (./var),
#   AFTERSALES_BUILD_DIR (./build), AFTERSALES_START_TIMEOUT (60 s per service)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
services=(intake dispatch parts complaint satisfaction)

usage() { sed -n '2,27s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

build=1
demo=0
demo_exit=0
passthrough=()
while (($# > 0)); do
  case "$1" in
    --no-build) build=0 ;;
    --demo) demo=1 ;;
    --exit) demo_exit=1 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; passthrough=("$@"); break ;;
    *)
      echo "run.sh: unknown argument '$1' (service flags go after --, e.g. run.sh -- --clock=manual)" >&2
      exit 2
      ;;
  esac
  shift
done

((demo_exit == 0 || demo == 1)) || { echo "run.sh: --exit only goes with --demo" >&2; exit 2; }

build_dir="${AFTERSALES_BUILD_DIR:-$root/build}"
var="${AFTERSALES_VAR_DIR:-$root/var}"
if ((demo)); then
  # The demo never touches the normal data: its own directory, fresh each
  # time, its own token set, and manual clocks on every service.
  var="$var/demo"
  rm -rf "$var"
  passthrough=(--clock=manual "${passthrough[@]}")
fi
host="${AFTERSALES_LISTEN_HOST:-127.0.0.1}"
start_timeout="${AFTERSALES_START_TIMEOUT:-60}"
stop_timeout=30
grpc_base="${AFTERSALES_GRPC_PORT_BASE:-7100}"
metrics_base="${AFTERSALES_METRICS_PORT_BASE:-9100}"

say() { echo "run.sh: $*"; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ---- ports ------------------------------------------------------------------
declare -A grpc_port metrics_port
i=0
for s in "${services[@]}"; do
  i=$((i + 1))
  up="${s^^}"
  g="AFTERSALES_${up}_GRPC_PORT"
  m="AFTERSALES_${up}_METRICS_PORT"
  grpc_port[$s]="${!g:-$((grpc_base + i))}"
  metrics_port[$s]="${!m:-$((metrics_base + i))}"
  for p in "${grpc_port[$s]}" "${metrics_port[$s]}"; do
    # Peers are wired to each other's fixed addresses, so 0 (any port) won't do.
    if ! [[ "$p" =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
      die "$s: bad port '$p'"
    fi
  done
done

# ---- build ------------------------------------------------------------------
if ((build)); then
  bash "$root/deploy/local/install-deps.sh"
  generator=()
  [[ -f "$build_dir/CMakeCache.txt" ]] || generator=(-G Ninja)
  cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${AFTERSALES_BUILD_TYPE:-Release}"
  build_start=$SECONDS
  targets=("${services[@]}")
  ((demo)) && targets+=(aftersales_demo)
  cmake --build "$build_dir" --target "${targets[@]}"
  say "build took $((SECONDS - build_start)) s"
fi
for s in "${services[@]}"; do
  [[ -x "$build_dir/services/$s/$s" ]] ||
    die "missing $build_dir/services/$s/$s; run without --no-build first"
done
demo_bin="$build_dir/services/aftersalesctl/aftersales_demo"
if ((demo)) && [[ ! -x "$demo_bin" ]]; then
  die "missing $demo_bin; run without --no-build first"
fi

# ---- local dev tokens ---------------------------------------------------------
secrets="$var/secrets"
tokens_plain="$secrets/tokens.plain"
tokens_file="$secrets/tokens.txt"
service_token="$secrets/service.token"

new_token() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 32
  else
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
    echo
  fi
}

generate_tokens() {
  # principal id, role, attributes
  local principals=(
    "admin admin"
    "agent agent"
    "service service"
    "partner-demo partner partner=PDEMO"
    "partner-east partner partner=PEAST"
    "auditor auditor"
  )
  local tmp="$secrets/.new"
  rm -rf "$tmp"
  (
    umask 077
    mkdir -p "$tmp"
    {
      echo "# Local dev tokens of deploy/local/run.sh: name and plain bearer token."
      echo "# Keep secret. Send as the gRPC metadata 'authorization: Bearer <token>'."
    } >"$tmp/tokens.plain"
    {
      echo "# Tokens the local services accept, as SHA-256 hashes (libs/auth/auth.h)."
      echo "# The plain tokens are in tokens.plain beside this file."
    } >"$tmp/tokens.txt"
    local line id role attrs token hash
    for line in "${principals[@]}"; do
      read -r id role attrs <<<"$line"
      token="$(new_token)"
      hash="$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)"
      echo "$id $token" >>"$tmp/tokens.plain"
      echo "sha256:$hash $id $role${attrs:+ $attrs}" >>"$tmp/tokens.txt"
      [[ "$id" == service ]] && echo "$token" >"$tmp/service.token"
    done
    mv "$tmp/tokens.plain" "$tmp/tokens.txt" "$tmp/service.token" "$secrets/"
    rmdir "$tmp"
  )
  say "created local dev tokens in $secrets (plain tokens: $tokens_plain)"
}

mkdir -p "$var" "$var/log" "$var/run"
if [[ ! -e "$tokens_plain" && ! -e "$tokens_file" && ! -e "$service_token" ]]; then
  mkdir -p "$secrets"
  chmod 700 "$secrets"
  generate_tokens
elif [[ ! -f "$tokens_plain" || ! -f "$tokens_file" || ! -f "$service_token" ]]; then
  die "$secrets is incomplete (want tokens.plain, tokens.txt, service.token); remove it to create a new token set"
fi

# Key-encryption key for PII at rest (docs/security.md "Keys"): created once,
# beside the tokens, never in a data directory. The services refuse to start
# with another key than the one that wrapped their customer keys.
pii_key="$secrets/pii.key"
if [[ ! -f "$pii_key" ]]; then
  (umask 077 && new_token >"$pii_key.new" && mv "$pii_key.new" "$pii_key")
  say "created the PII key-encryption key $pii_key"
fi

# ---- process supervision ------------------------------------------------------
declare -A pid_of
started=()   # services in start order
demo_pid=""
stopping=0
all_up=0

alive() {  # pid -> running (not exited, not a zombie awaiting wait)
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

log_tail() {
  local s="$1"
  echo "----- last 30 lines of $var/log/$s.log -----" >&2
  tail -n 30 "$var/log/$s.log" >&2 || true
  echo "-----" >&2
}

# SIGTERM to every running service (consumers first), wait for all, SIGKILL
# after $stop_timeout s. Returns non-zero if any service did not exit 0.
stop_all() {
  local s pid rc ok=0 idx
  ((${#started[@]} > 0)) || return 0
  for ((idx = ${#started[@]} - 1; idx >= 0; idx--)); do
    s="${started[idx]}"
    kill -TERM "${pid_of[$s]}" 2>/dev/null || true
  done
  local deadline=$((SECONDS + stop_timeout))
  for s in "${started[@]}"; do
    pid="${pid_of[$s]}"
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      echo "run.sh: $s (pid $pid) still running after ${stop_timeout}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    if ((rc == 0)); then
      say "$s stopped"
    else
      echo "run.sh: $s exited with status $rc (log: $var/log/$s.log)" >&2
      ok=1
    fi
  done
  started=()
  return "$ok"
}

stop_demo() {
  [[ -n "$demo_pid" ]] || return 0
  kill -TERM "$demo_pid" 2>/dev/null || true
  wait "$demo_pid" 2>/dev/null || true
  demo_pid=""
}

on_signal() {
  trap '' INT TERM HUP
  stopping=1
  stop_demo
  echo
  if ((!all_up)); then  # interrupted while starting
    say "interrupted; stopping the services already started"
    stop_all || true
    exit 130
  fi
  say "stopping all services"
  if stop_all; then exit 0; else exit 1; fi
}

on_exit() {
  local rc=$?
  trap '' INT TERM HUP
  stop_demo
  if ((${#started[@]} > 0)); then
    stop_all || true
  fi
  exit "$rc"
}
trap on_signal INT TERM HUP
trap on_exit EXIT

listening() { (: <>"/dev/tcp/$1/$2") 2>/dev/null; }

start_service() {
  local s="$1"
  local log="$var/log/$s.log" ports="$var/run/$s.ports" p
  for p in "${grpc_port[$s]}" "${metrics_port[$s]}"; do
    if listening "$host" "$p"; then
      echo "run.sh: $s: port $host:$p is already in use (another run.sh?)" >&2
      return 1
    fi
  done
  [[ -f "$log" ]] && mv -f "$log" "$log.1"
  rm -f "$ports" "$ports.tmp"
  # Checkpoints (aftersalesctl backup SERVICE NAME) go to backups/<service>,
  # on the same filesystem as the data, so their files are hard-linked.
  mkdir -p "$var/$s" "$var/backups/$s"

  local args=(
    --listen_host="$host"
    --grpc_port="${grpc_port[$s]}"
    --metrics_port="${metrics_port[$s]}"
    --data_dir="$var/$s"
    --backup_dir="$var/backups/$s"
    --tokens_file="$tokens_file"
    --service_token_file="$service_token"
    --port_file="$ports"
  )
  # The services that keep customer PII seal it with the key from secrets/.
  case "$s" in intake | complaint | satisfaction) args+=(--pii_key_file="$pii_key") ;; esac
  # Services with a versioned policy load it from deploy/policies/.
  local policy="$root/deploy/policies/$s.textproto"
  [[ -f "$policy" ]] && args+=(--policy_file="$policy")
  # Per-principal rate limits, the same file for every service
  # (docs/reliability.md); the demo's simulated day runs unthrottled.
  ((demo)) || args+=(--rate_limit_file="$root/deploy/policies/rate_limits.txt")
  local peer
  for peer in "${services[@]}"; do
    [[ "$peer" == "$s" ]] || args+=(--"${peer}_addr=$host:${grpc_port[$peer]}")
  done
  args+=("${passthrough[@]}")

  "$build_dir/services/$s/$s" "${args[@]}" >"$log" 2>&1 </dev/null &
  pid_of[$s]=$!
  started+=("$s")

  # Up once the port file exists (written when gRPC is listening) and the
  # service printed its "serving" line.
  local deadline=$((SECONDS + start_timeout))
  while :; do
    if [[ -f "$ports" ]] && grep -q "serving gRPC on" "$log" 2>/dev/null; then
      break
    fi
    if ! alive "${pid_of[$s]}"; then
      local rc=0
      wait "${pid_of[$s]}" 2>/dev/null || rc=$?
      unset 'started[-1]'
      echo "run.sh: $s exited with status $rc during start" >&2
      log_tail "$s"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "run.sh: $s did not start within ${start_timeout}s" >&2
      log_tail "$s"
      return 1
    fi
    sleep 0.1
  done
  local g m
  g="$(sed -n 's/^grpc_port=//p' "$ports")"
  m="$(sed -n 's/^metrics_port=//p' "$ports")"
  grpc_port[$s]="$g"
  metrics_port[$s]="$m"
  say "$s serving gRPC on $host:$g (pid ${pid_of[$s]})"
}

start_failed() {
  ((${#started[@]} == 0)) || echo "run.sh: stopping the services already started" >&2
  trap '' INT TERM HUP
  stop_all || true
  exit 1
}

# intake first: dispatch consumes intake's event stream.
start_service intake || start_failed
listening "$host" "${grpc_port[intake]}" || {
  echo "run.sh: intake is not listening on $host:${grpc_port[intake]}" >&2
  start_failed
}
for s in "${services[@]:1}"; do
  start_service "$s" || start_failed
done

# ---- table --------------------------------------------------------------------
all_up=1
echo
fmt='%-13s %-16s %-31s %-*s %s\n'
w=$((${#var} + 14))
printf "$fmt" SERVICE GRPC METRICS "$w" "DATA DIR" "LOG FILE"
for s in "${services[@]}"; do
  printf "$fmt" "$s" "$host:${grpc_port[$s]}" \
    "http://$host:${metrics_port[$s]}/metrics" "$w" "$var/$s" "$var/log/$s.log"
done
echo
say "tokens: $tokens_plain (plain, for clients) / $tokens_file (hashes, loaded by the services)"
((${#passthrough[@]} == 0)) || say "service flags: ${passthrough[*]}"
say "all ${#services[@]} services are up; Ctrl-C (or SIGTERM to pid $$) stops them"

# ---- demo -----------------------------------------------------------------------
if ((demo)); then
  say "demo: seeding a city and playing a simulated day (log: $var/log/demo.log)"
  demo_args=(--tokens="$tokens_plain")
  for s in "${services[@]}"; do demo_args+=(--"$s=$host:${grpc_port[$s]}"); done
  # In the background so that Ctrl-C / SIGTERM reach the trap at once.
  "$demo_bin" "${demo_args[@]}" </dev/null > >(tee "$var/log/demo.log") 2>&1 &
  demo_pid=$!
  demo_status=0
  wait "$demo_pid" || demo_status=$?
  demo_pid=""
  sleep 0.2  # let tee flush the summary
  if ((demo_exit)); then
    trap '' INT TERM HUP
    stop_ok=0
    stop_all || stop_ok=1
    if ((demo_status == 0 && stop_ok == 0)); then
      say "demo ok, all services stopped cleanly"
      exit 0
    fi
    echo "run.sh: demo failed (demo status $demo_status, clean stop $((!stop_ok)))" >&2
    exit $((demo_status != 0 ? demo_status : 1))
  fi
  if ((demo_status != 0)); then
    echo "run.sh: demo exited with status $demo_status; the services keep running" >&2
  else
    say "demo done; the services keep serving the demo day (Ctrl-C stops them)"
  fi
fi

# ---- supervise ----------------------------------------------------------------
# wait -n returns when a service exits or a trapped signal arrives (the trap
# then stops everything and exits).
while :; do
  exited=""
  status=0
  wait -n -p exited "${pid_of[@]}" 2>/dev/null || status=$?
  ((stopping)) && break
  [[ -n "$exited" ]] || continue
  for s in "${started[@]}"; do
    if [[ "${pid_of[$s]}" == "$exited" ]]; then
      echo "run.sh: $s (pid $exited) exited unexpectedly with status $status" >&2
      log_tail "$s"
      # Already reaped by wait -n: take it off the list, stop the rest.
      remaining=()
      for r in "${started[@]}"; do [[ "$r" == "$s" ]] || remaining+=("$r"); done
      started=("${remaining[@]}")
      trap '' INT TERM HUP
      stop_all || true
      exit 1
    fi
  done
done
