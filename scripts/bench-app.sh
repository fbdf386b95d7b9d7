#!/usr/bin/env bash
# Desktop app benchmarks on the release build (tests/e2e/bench.py): cold
# start, click → first pixels of RG1, window/level frame rate, memory with
# 20 studies opened; printed as ratios against the app issue's goals.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
(cd ui && npx vite build --logLevel warn)
cargo build --release --locked -p overread-cli -p overread-app --features overread-app/custom-protocol
python3 tests/e2e/bench.py --app target/release/overread-app --cli target/release/overread "$@"
