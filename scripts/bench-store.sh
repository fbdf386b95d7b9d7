#!/usr/bin/env bash
# Department store benchmark (a command, not a test): a private PostgreSQL
# 15; the initial sync of a ROWS-row log against \copy of the same rows;
# WORKSTATIONS logs synced at once; steady-state latency from a decision to
# the store; the governance report over every stored row against one
# GROUP BY. Defaults: 1,000,000 rows, 5 workstations (5,000,000 in the store).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source "$root/scripts/env.sh"
cargo build --release --locked -p overread-cli --bins
exec "$root/target/release/overread-bench" store "${1:-1000000}" "${2:-5}"
