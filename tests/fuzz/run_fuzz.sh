#!/usr/bin/env bash
# Runs one libFuzzer target over its seed corpus (read-only) for a bounded
# time. New inputs go to a scratch corpus, crashes to <workdir>/artifacts/.
#   run_fuzz.sh <fuzzer binary> <seed corpus dir> <work dir> [libFuzzer flags...]
# Exit status: libFuzzer's (0 = no crash, leak, UB or timeout found).
set -euo pipefail
fuzzer="$1" seeds="$2" work="$3"
shift 3
[[ -x "$fuzzer" ]] || { echo "run_fuzz.sh: $fuzzer not built" >&2; exit 1; }
[[ -d "$seeds" ]] || { echo "run_fuzz.sh: no seed corpus $seeds" >&2; exit 1; }
rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts"
# The seeds alone must pass first: a regression on a known input is the
# clearest failure.
"$fuzzer" -runs=0 "$seeds"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
"$fuzzer" "$@" -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" || status=$?
if [[ $status -ne 0 ]]; then
  echo "run_fuzz.sh: $(basename "$fuzzer") found a problem; reproducer(s):" >&2
  ls -1 "$work/artifacts/" >&2 || true
  echo "re-run one with: $fuzzer <file>   (docs/fuzzing.md, crash triage)" >&2
fi
exit "$status"
