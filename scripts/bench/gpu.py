"""CPU against CUDA on this machine's GPU (issue #16), side by side in one run:
the DenseNet-121 @224 model's session throughput at batch 1 and 16 in the
GPU build of ONNX Runtime (the same library Overread loads), and Overread's
own `overread infer` over 16 phantom studies with `--ep cpu` and `--ep cuda`.
Run by scripts/bench-infer.sh after `scripts/setup.sh --gpu`, only where
nvidia-smi lists a GPU.

Usage: gpu.py ROOT MODEL_DIR
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

root, model_dir = Path(sys.argv[1]), Path(sys.argv[2])
onnxruntime_preload = getattr(ort, "preload_dlls", None)
if onnxruntime_preload:
    onnxruntime_preload()


def session(provider):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=[provider])


def throughput(s, batch, runs=20):
    name = s.get_inputs()[0].name
    x = np.random.default_rng(0).uniform(-1024, 1024, (batch, 1, 224, 224)).astype(np.float32)
    s.run(None, {name: x})
    t = time.perf_counter()
    for _ in range(runs):
        s.run(None, {name: x})
    return runs * batch / (time.perf_counter() - t)


cpu, cuda = session("CPUExecutionProvider"), session("CUDAExecutionProvider")
assert cuda.get_providers()[0] == "CUDAExecutionProvider", cuda.get_providers()
print(f"### CPU against CUDA ({subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True).stdout.strip()})\n")
print("| measure | CPU (1 thread) | CUDA | ratio |")
print("|---|---:|---:|---:|")
for batch in (1, 16):
    c, g = throughput(cpu, batch), throughput(cuda, batch)
    print(f"| session run, batch {batch} (images/s) | {c:.1f} | {g:.1f} | {g / c:.1f}× |")

overread = root / "target/release/overread"
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([overread, "demo", "generate", tmp, "--count", "16", "--size", "1024"], check=True,
                   capture_output=True)
    secs = {}
    for ep in ("cpu", "cuda"):
        t = time.perf_counter()
        out = subprocess.run([overread, "infer", "--model", model_dir, "--ep", ep, "--json", tmp],
                             check=True, capture_output=True, text=True)
        secs[ep] = time.perf_counter() - t
        assert f'"ep":"{ep}"' in out.stdout, out.stdout[:300]
    print(f"| `overread infer` over 16 phantom studies (s) | {secs['cpu']:.2f} | {secs['cuda']:.2f} | "
          f"{secs['cpu'] / secs['cuda']:.1f}× |")
