"""Inference overhead: Overread end to end on RG1 (decode, display,
preprocess, infer, post) against a raw ONNX Runtime session in Python on the
same DenseNet-121 @224 model and a ready tensor, one intra-op thread each,
measured in one run. Goal: ≤ 1.1× for the inference path.
"""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

root, model_dir, dicom = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
N = 15
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
session = ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
x = np.random.default_rng(0).uniform(-1024, 1024, (1, 1, 224, 224)).astype(np.float32)
session.run(None, {"image": x})
raw = []
ours = {}
for _ in range(3):  # interleave the two sides
    for _ in range(N // 3):
        t = time.perf_counter()
        session.run(None, {"image": x})
        raw.append((time.perf_counter() - t) * 1000)
    out = subprocess.run([str(root / "target/release/overread-bench"), "overhead", str(model_dir), str(dicom), str(N // 3)],
                         capture_output=True, text=True, check=True).stdout
    for k, v in json.loads(out).items():
        ours.setdefault(k, []).append(v)
r = statistics.median(raw)
o = {k: statistics.median(v) for k, v in ours.items()}
path = o["preprocess_ms"] + o["infer_ms"] + o["post_ms"]
print(f"### Inference overhead: {model_dir.name} on {dicom.name}, 1 intra-op thread, CPU\n")
print("| measure | ms | ratio to raw session |")
print("|---|---:|---:|")
print(f"| raw onnxruntime session.run (Python, ready tensor) | {r:.1f} | 1.00 |")
print(f"| Overread session run | {o['infer_ms']:.1f} | {o['infer_ms'] / r:.2f} |")
print(f"| Overread preprocess + run + post (goal ≤ 1.1×) | {path:.1f} | {path / r:.2f} |")
print(f"| Overread end to end incl. DICOM decode ({o['decode_ms']:.1f} ms) | {o['e2e_ms']:.1f} | {o['e2e_ms'] / r:.2f} |")
print()

# Triage per study by transfer syntax (#17): RG1 in each syntax through the
# same model, end to end (read, decode, display values, preprocess, infer,
# post), against the same study stored uncompressed, in the same run.
corpus = dicom.parent.parent
files = [
    ("uncompressed", dicom),
    ("JPEG lossless (SV1)", corpus / "rg1/RG1_jpeg_lossless_sv1.dcm"),
    ("12-bit JPEG", corpus / "rg1/RG1_jpeg_extended_12bit.dcm"),
    ("JPEG-LS lossless", corpus / "rg1/RG1_jpegls_lossless.dcm"),
    ("JPEG 2000 lossless", corpus / "rg1/RG1_j2k_lossless.dcm"),
    ("JPEG 2000 lossy", corpus / "rg1/RG1_j2k_lossy.dcm"),
    ("HTJ2K lossless", corpus / "rg1/RG1_htj2k_lossless.dcm"),
]
per = {name: [] for name, _ in files}
for _ in range(3):
    for name, path in files:
        out = subprocess.run([str(root / "target/release/overread-bench"), "overhead", str(model_dir), str(path), "3"],
                             capture_output=True, text=True, check=True).stdout
        per[name].append(json.loads(out))
print(f"### Triage per study by transfer syntax: {model_dir.name} on RG1, 1 intra-op thread, CPU, median of 9 (ms)\n")
print("| RG1 stored as | read + decode | triage end to end | ÷ uncompressed |")
print("|---|---:|---:|---:|")
base = statistics.median(r["e2e_ms"] for r in per["uncompressed"])
for name, _ in files:
    d = statistics.median(r["decode_ms"] for r in per[name])
    e = statistics.median(r["e2e_ms"] for r in per[name])
    print(f"| {name} | {d:.1f} | {e:.1f} | {e / base:.2f}× |")
print()
