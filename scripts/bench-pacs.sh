#!/usr/bin/env bash
# PACS retrieve benchmark (a command, not a test): RG1 from a local Orthanc
# through Overread (WADO-RS, C-GET) against curl and dcmtk's getscu, side
# by side in one run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
cargo build --release --locked -p overread-cli --bins
python3 "$root/scripts/bench/pacs.py" "$root/target/release/overread" "$root/.cache/corpus" "${1:-15}"
