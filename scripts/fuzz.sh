#!/usr/bin/env bash
# Fuzzes what hostile files and peers send Overread, time-boxed: each target
# of src-tauri/fuzz runs FUZZ_SECONDS (default 60) under libFuzzer (one per
# core at a time), starting
# from its corpus in the repo (src-tauri/fuzz/corpus/TARGET) and the crashes
# found before (src-tauri/fuzz/regressions/TARGET, replayed first). Built on
# the stable toolchain with libFuzzer's coverage flags (no sanitizer: the
# code is safe Rust plus the codecs; panics, hangs past -timeout and
# allocations past -rss_limit_mb are what is found). New inputs go under
# target/fuzz, never into the repo.
# Usage: scripts/fuzz.sh [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/src-tauri/fuzz"
seconds=${FUZZ_SECONDS:-60}
work="$root/target/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(open_decode palette_lut dicom_json multipart pdus manifest pacs_config)
fi
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps the flags off build scripts and proc macros.
host=$(rustc -vV | sed -n 's/^host: //p')
(cd "$fuzz" && cargo build --quiet --locked --release --target "$host" --target-dir "$work/build" --bins)
# One libFuzzer process per core, each on its own target.
jobs=$(nproc 2>/dev/null || echo 2)
run_one() {
    local t=$1
    mkdir -p "$work/corpus/$t" "$work/artifacts" "$fuzz/corpus/$t" "$fuzz/regressions/$t"
    if "$work/build/$host/release/$t" "$work/corpus/$t" "$fuzz/corpus/$t" "$fuzz/regressions/$t" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
        -artifact_prefix="$work/artifacts/$t-" -print_final_stats=1 2> "$work/$t.log"; then
        echo "fuzz: $t ${seconds}s: $(grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$work/$t.log" | tr -s ' ' | tr '\n' ' ')"
    else
        tail -40 "$work/$t.log" >&2
        touch "$work/$t.failed"
    fi
}
rm -f "$work"/*.failed
running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait
failed=()
for t in "${targets[@]}"; do
    if [ -f "$work/$t.failed" ]; then failed+=("$t"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: ${failed[*]} found a crash: the input is in $work/artifacts/; fix it and add it to src-tauri/fuzz/regressions/TARGET/" >&2
    exit 1
fi
