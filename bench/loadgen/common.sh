# Shared helpers of the benchmark scripts (sourced).
# tokens_file DIR: writes DIR/tokens.txt (hashed, like the services expect)
# and plain tokens DIR/{admin,agent,service,partner}.token.
write_tokens() {
  local dir=$1
  : >"$dir/tokens.txt"
  local entry name line tok
  for entry in "admin:admin-1 admin" "agent:agent-1 agent" "service:svc-bench service" \
               "partner:partner-a partner partner=PA"; do
    name=${entry%%:*}
    line=${entry#*:}
    tok="bench-$name-$$-$RANDOM$RANDOM"
    printf '%s\n' "$tok" >"$dir/$name.token"
    printf 'sha256:%s %s\n' "$(printf '%s' "$tok" | sha256sum | cut -d' ' -f1)" "$line" \
      >>"$dir/tokens.txt"
  done
}

# start_server NAME BINARY DATA_DIR EXTRA_FLAGS...: starts it on free ports,
# waits for its port file; sets PID_<NAME> and ADDR_<NAME>.
start_server() {
  local name=$1 bin=$2 data=$3
  shift 3
  mkdir -p "$data"
  rm -f "$data.port"
  "$bin" --data_dir="$data" --tokens_file="$TOKDIR/tokens.txt" --grpc_port=0 \
    --metrics_port=0 --port_file="$data.port" "$@" >"$data.log" 2>&1 &
  local pid=$!
  local i
  for i in $(seq 1 300); do
    [[ -s "$data.port" ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name failed to start:" >&2
      cat "$data.log" >&2
      return 1
    fi
    sleep 0.05
  done
  [[ -s "$data.port" ]] || { echo "$name: no port file" >&2; return 1; }
  local port
  port=$(sed -n 's/^grpc_port=//p' "$data.port")
  printf -v "PID_$name" '%s' "$pid"
  printf -v "ADDR_$name" '%s' "127.0.0.1:$port"
  STARTED_PIDS+=("$pid")
}

stop_servers() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  STARTED_PIDS=()
}
STARTED_PIDS=()
