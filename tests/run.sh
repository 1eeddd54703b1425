#!/usr/bin/env bash
# Installs missing Debian packages, configures and builds the whole suite into
# ./build (Ninja, Release at -O2) and runs every test through ctest.
# Exits with ctest's status.
#
#   tests/run.sh [CTEST_ARGS...]      e.g. tests/run.sh -R intake
#
# Environment: AFTERSALES_BUILD_DIR (default ./build), AFTERSALES_CTEST_JOBS
# (parallel tests, default 2), AFTERSALES_TEST_TIMEOUT (seconds per test,
# default 600).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build_dir="${AFTERSALES_BUILD_DIR:-$root/build}"

bash deploy/local/install-deps.sh

# -G only on the first configure: an existing cache keeps its generator.
generator=()
[[ -f "$build_dir/CMakeCache.txt" ]] || generator=(-G Ninja)
cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${AFTERSALES_BUILD_TYPE:-Release}"

start=$SECONDS
cmake --build "$build_dir"
echo "tests/run.sh: build took $((SECONDS - start)) s"

status=0
ctest --test-dir "$build_dir" --output-on-failure \
  -j "${AFTERSALES_CTEST_JOBS:-2}" --timeout "${AFTERSALES_TEST_TIMEOUT:-600}" \
  "$@" || status=$?
echo "tests/run.sh: ctest exited with status $status"
exit "$status"
