#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 30 s each) on the machine's nightly
# toolchain, seeded from fuzz/seeds (the shipped scenarios, their values, calc requests).
#   fuzz/run.sh            # 30 s per target
#   FUZZ_SECONDS=3600 fuzz/run.sh parsers calc
# Prints each target's executions; exits non-zero on the first crash (its input is kept in
# fuzz/artifacts/<target>/ — turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-30}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parsers scenario scenario_mutations calc transactions)
fi
cargo +nightly fuzz build -O 2>&1 | tail -1
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log="$(mktemp)"
  if ! cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $t: CRASH (input in fuzz/artifacts/$t/)"
    exit 1
  fi
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  echo "fuzz target $t: ${execs} executions in ${secs} s, no crash"
  rm -f "$log"
done
