#!/usr/bin/env bash
# Decoding and scanning benchmark (a command, not a test): RG1 in every
# transfer syntax to display-ready pixels, Overread against dcmtk and pydicom
# (with pylibjpeg) measured side by side in one run, plus scan throughput on a
# 10,000-file tree. Prints markdown tables with medians and ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
cargo build --release --locked -p overread-cli --bins
exec "$root/.cache/venv/bin/python" "$root/scripts/bench/decode.py" "$root" "$@"
