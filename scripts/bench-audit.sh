#!/usr/bin/env bash
# Audit log benchmark (a command, not a test): 1,000,000 decisions exported to
# CSV against the 3 s goal, and COMMIT latency with synchronous=FULL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source "$root/scripts/env.sh"
cargo build --release --locked -p overread-cli --bins
exec "$root/target/release/overread-bench" audit "${1:-1000000}"
