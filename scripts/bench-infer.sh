#!/usr/bin/env bash
# Inference benchmark (a command, not a test): background triage of 150
# phantom studies on this machine's cores with the demo model, against the
# 60 s goal.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
ORT_DYLIB_PATH=$(ls "$root"/.cache/venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -n 1)
export ORT_DYLIB_PATH
cargo build --release --locked -p overread-cli --bins
exec "$root/target/release/overread-bench" triage "$root/models/demo" "${1:-150}"
