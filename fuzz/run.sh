#!/usr/bin/env bash
# Runs the libFuzzer executables built by fuzz/build.sh, one target at a time
# (all targets, or only those named as arguments).
#
# Per target: seeds from fuzz/corpus/<target>/ (read only), new inputs kept in
# .build/fuzz/corpus/<target>/, the libFuzzer output in
# .build/fuzz/logs/<target>.log, and any crash, leak, timeout or OOM
# reproducer in .build/fuzz/crashes/<target>/ (-artifact_prefix). The script
# exits non-zero when any target fails; it prints each target's final stats
# (executions, exec/s, cov, ft).
#
# Environment:
#   FUZZ_SECONDS  time per target (default 60; -max_total_time)
#   FUZZ_RUNS     if set, stop after this many executions instead (-runs)
#   FUZZ_FLAGS    extra libFuzzer flags, e.g. -detect_leaks=0 (with ASAN_OPTIONS=detect_leaks=0
#                 for the check at exit too; see RELIABILITY.md:
#                 Foundation's Data(contentsOf:) leaks 4 KiB per empty file)
#   FUZZ_JOBS     not used: targets run one after the other (the machine is shared)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${FUZZ_BUILD_DIR:-.build/fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}

max_len() {
  case "$1" in
    checkpoint) echo 8192 ;;   # the library's seed checkpoint holds a run configuration (~2 KB)
    *) echo 4096 ;;            # a few CSV rows, a configuration, a few telemetry lines
  esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/harnesses/*.swift; do targets+=("$(basename "$f" .swift)"); done
fi

failed=()
for target in "${targets[@]}"; do
  exe=$OUT/$target
  [ -x "$exe" ] || { echo "missing $exe: run fuzz/build.sh (make fuzz-build)" >&2; exit 2; }
  mkdir -p "$OUT/corpus/$target" "$OUT/crashes/$target" "$OUT/logs"
  limit=(-max_total_time="$SECONDS_PER_TARGET")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  command=("$exe" "$OUT/corpus/$target" "fuzz/corpus/$target"
           "${limit[@]}" -max_len="$(max_len "$target")" -rss_limit_mb=2048 -timeout=30
           -print_final_stats=1 -artifact_prefix="$OUT/crashes/$target/" ${FUZZ_FLAGS:-})
  echo "== $target: ${command[*]}"
  start=$(date +%s)
  # One OpenBLAS thread: the harnesses do no large products, and spinning BLAS
  # threads would only take CPU from the fuzzer on a shared machine.
  # The known Foundation leak on empty files is suppressed (fuzz/lsan.supp);
  # any other leak still fails the target.
  LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
  OPENBLAS_NUM_THREADS=1 RANKER_ROOT=$PWD "${command[@]}" > "$OUT/logs/$target.log" 2>&1
  status=$?
  elapsed=$(( $(date +%s) - start ))
  stats=$(grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" "$OUT/logs/$target.log" | tr '\n' ' ')
  last=$(grep -E "^#[0-9]+.*(cov|ft):" "$OUT/logs/$target.log" | tail -1)
  echo "   exit $status after ${elapsed}s; $stats"
  echo "   last status line: $last"
  if [ $status -ne 0 ]; then
    failed+=("$target")
    echo "   FAILED: see $OUT/logs/$target.log; reproducer(s):" >&2
    ls -1 "$OUT/crashes/$target/" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
