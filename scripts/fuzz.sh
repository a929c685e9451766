#!/bin/sh
# Builds the libFuzzer targets of fuzz/ with clang (AddressSanitizer, UndefinedBehaviorSanitizer)
# in BUILD_DIR and runs each for SECONDS from its seeds, one after another.
#   scripts/fuzz.sh BUILD_DIR SECONDS [CORPUS_DIR]
# CORPUS_DIR keeps what each target finds between runs (make fuzz); without it the corpus
# lives in BUILD_DIR/corpus-run and starts from the seeds each time (make test's brief run).
# A finding stops the run with the input saved as BUILD_DIR/crash-* (or leak-*, timeout-*)
# and a non-zero exit; each target's executions and coverage are printed as it ends.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$1"
seconds="$2"
corpus="${3:-$build/corpus-run}"
targets="sql_text pg_values scram statement request_body ws_message row_codec manifest pg_messages"

launcher=""
if command -v ccache >/dev/null 2>&1; then launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; fi
CXX=clang++ cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >/dev/null
cmake --build "$build" -j "${JOBS:-2}"

if [ -z "${3:-}" ]; then rm -rf "$corpus"; fi
for t in $targets; do
  mkdir -p "$corpus/$t"
  log="$build/fuzz_$t.log"
  if ! "$build/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$build/" "$corpus/$t" "$root/fuzz/seeds/$t" >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $t found an input that breaks it (saved under $build/)" >&2
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
  echo "fuzz: $t: ${runs:-?} executions in ${seconds} s, coverage ${cov:-?} edges, no finding"
done
