#!/usr/bin/env bash
# Inference benchmarks (commands, not tests): Overread's overhead on RG1
# against a raw Python ONNX Runtime session on the same DenseNet-121 @224,
# background triage of 150 phantom studies against the 60 s goal, and a
# local validation of 1,000 phantom studies (`overread model validate`)
# against `overread infer` over the same studies, and the same model on a real
# Triton Inference Server against the device, 1, 4 and 16 studies at once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
cargo build --release --locked -p overread-cli --bins
"$root/.cache/venv/bin/python" "$root/scripts/bench/infer.py" "$root" "$root/.cache/models/xrv-style-densenet121" "$root/.cache/corpus/pydicom-data/RG1_UNCR.dcm"
"$root/target/release/overread-bench" triage "$root/models/demo" "${1:-150}"
echo
"$root/target/release/overread-bench" evaluate "$root/models/demo" 100
echo
"$root/.cache/venv/bin/python" "$root/scripts/bench/validate.py" "$root" 1000
echo
"$root/.cache/venv/bin/python" "$root/scripts/bench/remote.py" "$root" "$root/.cache/models/xrv-style-densenet121" 48
echo
# CPU against CUDA: only where `scripts/setup.sh --gpu` found a GPU.
if [ -n "${OVERREAD_EXPECT_GPU:-}" ]; then
    "$root/.cache/venv-gpu/bin/python" "$root/scripts/bench/gpu.py" "$root" "$root/.cache/models/xrv-style-densenet121"
else
    echo "CPU against CUDA: skipped, no GPU here (scripts/setup.sh --gpu installs the CUDA runtime where nvidia-smi lists one)"
fi
