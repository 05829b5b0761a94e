#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang-14 (-fsanitize=fuzzer,address,undefined)
# into build-fuzz/ (or $OBX_FUZZ_BUILD_DIR), a build of its own, and runs each one for a bounded
# number of runs from its committed seed corpus (tests/fuzz/corpus/<target>/). New inputs go to a scratch
# folder, never into the committed corpus. A crash, leak, sanitizer report or broken property
# fails the script and leaves the reproducer in build-fuzz/artifacts/<target>/ (replay it with
# build-fuzz/<target> <file>).
#   (default)             30,000 runs per target with seed 1: reproducible, what the test command runs
#   OBX_FUZZ_RUNS=N OBX_FUZZ_SEED=S   another reproducible budget
#   OBX_FUZZ_SECONDS=60   exploration: that many seconds per target, random seed
#   OBX_FUZZ_TARGETS="fuzz_redact fuzz_config"   only these
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${OBX_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
SECONDS_PER_TARGET="${OBX_FUZZ_SECONDS:-15}"
TARGETS=(${OBX_FUZZ_TARGETS:-fuzz_config fuzz_duration fuzz_connection_string fuzz_redact fuzz_record_validation})

start=$SECONDS
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$ROOT/tests/fuzz" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 ${launcher[@]+"${launcher[@]}"} >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]}" >/dev/null
echo "run-fuzz: built ${#TARGETS[@]} targets in $((SECONDS - start)) s"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# The test command's run is reproducible: a fixed seed and a fixed number of runs per target from
# the committed corpus, so the same tree always gives the same verdict (a CI run never turns red on
# a finding the previous one did not make). Exploration is time-bounded and random:
# OBX_FUZZ_SECONDS=60 (any value) runs each target that long with a random seed.
if [ -n "${OBX_FUZZ_SECONDS:-}" ]; then
  BUDGET=(-max_total_time="$SECONDS_PER_TARGET")
  BUDGET_TEXT="${SECONDS_PER_TARGET} s, random seed"
else
  BUDGET=(-runs="${OBX_FUZZ_RUNS:-30000}" -seed="${OBX_FUZZ_SEED:-1}")
  BUDGET_TEXT="seed ${OBX_FUZZ_SEED:-1}"
fi
failed=()
for t in "${TARGETS[@]}"; do
  corpus="$ROOT/tests/fuzz/corpus/$t"
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/obx-fuzz-$t.XXXXXX")"
  artifacts="$BUILD/artifacts/$t"
  mkdir -p "$artifacts"
  dict=()
  if [ -f "$ROOT/tests/fuzz/$t.dict" ]; then dict=(-dict="$ROOT/tests/fuzz/$t.dict"); fi
  if "$BUILD/$t" "${BUDGET[@]}" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
      "$scratch" "$corpus" >"$BUILD/$t.log" 2>&1; then
    echo "run-fuzz: $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/$t.log" \
      | grep -o '[0-9]*$') runs ($BUDGET_TEXT), no finding"
  else
    echo "run-fuzz: $t FAILED (log: $BUILD/$t.log, reproducer in $artifacts/):"
    grep -E -m5 'ERROR|SUMMARY|secret|runtime error|abort' "$BUILD/$t.log" || tail -20 "$BUILD/$t.log"
    failed+=("$t")
  fi
  rm -rf "$scratch"
done
echo "run-fuzz: done in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-fuzz: failing targets: ${failed[*]}"
  exit 1
fi
