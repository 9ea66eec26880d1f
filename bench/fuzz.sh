#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder (fuzz/: one target each) with libFuzzer, on the
# stable toolchain: libfuzzer-sys builds libFuzzer with the system's C++ compiler, and rustc's
# stable SanitizerCoverage flags (the ones cargo-fuzz passes, without its nightly-only
# sanitizers) instrument the code. Each target runs SECONDS on a copy of its corpus; then
# fuzz/corpus/TARGET becomes the smallest set of inputs with all the edges covered (the
# seed-* inputs kept; commit it: the test command replays it); a crash or hang is left in target/fuzz/artifacts/TARGET/ (make it a
# regression input: copy it into the corpus once fixed).
# Usage: bench/fuzz.sh [SECONDS] [TARGET...]   (default: 60 seconds, every target)
# Prints, per target: runs, runs/s, edges covered at the start and at the end, the change in
# the corpus' size, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2; }
secs=60
case "${1:-}" in
  "") ;;
  -*) usage ;;
  *[!0-9]*) ;;
  *) secs=$1; shift ;;
esac
for t in "$@"; do
  [ -d "fuzz/corpus/$t" ] || { echo "bench/fuzz.sh: no target $t (fuzz/corpus/$t)" >&2; usage; }
done
triple=$(rustc -vV | sed -n 's/^host: //p')
# instrumentation for the target only (not build scripts or proc-macros: --target); checks
# on as in the test builds (and off where they are, see Cargo.toml)
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
cargo build -q --release -p fuzz --features libfuzzer --bin fuzz-target --target "$triple" \
  --target-dir target/fuzz --config 'profile.release.lto=false' \
  --config 'profile.release.debug-assertions=true' --config 'profile.release.overflow-checks=true' \
  --config 'profile.release.package.serde_amqp.overflow-checks=false'
bin=target/fuzz/$triple/release/fuzz-target
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(ls fuzz/corpus)
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/msgtk-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf '# libFuzzer, %s s per target, %s\n' "$secs" "$(date -u +%Y-%m-%d)"
printf '%-20s %12s %10s %10s %10s %8s %8s\n' target runs runs/s cov-start cov-end corpus+ crashes
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  [ -d "$corpus" ] || { echo "bench/fuzz.sh: no target $t (fuzz/corpus/$t)" >&2; exit 2; }
  mkdir -p "$work/$t" "target/fuzz/artifacts/$t"
  cp "$corpus"/* "$work/$t/"
  before=$(ls "$corpus" | wc -l)
  log=$work/$t.log
  MSGTK_FUZZ_TARGET=$t "$bin" "$work/$t" -max_total_time="$secs" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="target/fuzz/artifacts/$t/" \
    > "$log" 2>&1 || true
  # the repository's corpus becomes the smallest set with all the coverage (the seeds kept)
  mkdir -p "$work/$t.min"
  MSGTK_FUZZ_TARGET=$t "$bin" -merge=1 -use_counters=0 -use_cmp=0 -use_value_profile=0 \
    "$work/$t.min" "$corpus" "$work/$t" > "$work/$t.merge" 2>&1 || true
  if [ -n "$(ls "$work/$t.min")" ]; then
    find "$corpus" -type f ! -name 'seed-*' -delete
    cp -n "$work/$t.min"/* "$corpus"/
  fi
  after=$(ls "$corpus" | wc -l)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  start=$(grep -m1 -o 'INITED cov: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  end=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  crashes=$(ls "target/fuzz/artifacts/$t" | wc -l)
  printf '%-20s %12s %10s %10s %10s %8s %8s\n' "$t" "${runs:-0}" "$(( ${runs:-0} / secs ))" \
    "$start" "$end" "$((after - before))" "$crashes"
done
