#!/usr/bin/env bash
# Desktop app benchmarks on the release build (tests/e2e/bench.py): cold
# start, click → first pixels of RG1, window/level frame rate, memory with
# 20 studies opened; printed as ratios against the app issue's goals; then
# by transfer syntax and by studies opened (tests/e2e/bench_syntax.py), and
# the worklist command under load (tests/e2e/bench_worklist.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
(cd ui && npx vite build --logLevel warn)
cargo build --release --locked -p overread-cli -p overread-app --features overread-app/custom-protocol
python3 tests/e2e/bench.py --app target/release/overread-app --cli target/release/overread "$@"
# Click → pixels for RG1 in each transfer syntax; memory at 1, 5, 20 and 50 studies.
python3 tests/e2e/bench_syntax.py --app target/release/overread-app --cli target/release/overread
# The worklist command while 150 studies triage and a PACS sync runs (a
# local Orthanc), and the same with 1,000 studies and no PACS.
python3 tests/e2e/bench_worklist.py --app target/release/overread-app --cli target/release/overread
python3 tests/e2e/bench_worklist.py --app target/release/overread-app --cli target/release/overread \
    --studies 1000 --pacs-studies 0 --size 512
