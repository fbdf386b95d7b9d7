"""Serves an Overread model folder through a real Triton Inference Server
(the nvidia-pytriton wheel) on loopback, for the remote-inference tests and
benchmark: the Open Inference Protocol v2 (KServe v2) over HTTP, with the
binary tensor extension, answered by ONNX Runtime running model.onnx.

Usage: serve.py MODEL_DIR NAME HTTP_PORT GRPC_PORT METRICS_PORT
Prints "ready" on stdout once the model answers; runs until killed or until
its standard input closes (the test process that started it has ended).
"""
import os
import sys
import tomllib
import urllib.request
from pathlib import Path
import time
import threading

import numpy as np
import onnxruntime as ort
from pytriton.decorators import batch
from pytriton.model_config import ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig

model_dir, name = Path(sys.argv[1]), sys.argv[2]
http, grpc, metrics = (int(p) for p in sys.argv[3:6])
manifest = tomllib.loads((model_dir / "manifest.toml").read_text())
options = ort.SessionOptions()
options.intra_op_num_threads = 1
# One model instance (an ONNX Runtime session, one thread) per core, at most
# four: Triton runs concurrent requests on separate instances.
instances = max(1, min(4, os.cpu_count() or 1))
sessions = [ort.InferenceSession(str(model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
            for _ in range(instances)]
input_name = manifest["input"]["name"]
o = manifest["output"]
outputs = [o["scores"]["name"]] if "name" in o["scores"] else []
if "heatmap" in o:
    outputs.append(o["heatmap"]["name"])
if "boxes" in o:
    outputs += [o["boxes"][k] for k in ("name", "scores", "classes") if k in o["boxes"]]
shapes = {o.name: o.shape for o in sessions[0].get_outputs()}
i = manifest["input"]


def instance(session):
    @batch
    def infer(**inputs):
        x = inputs[input_name].astype(np.float32)
        # One image at a time: the graph's batch dimension is fixed at 1.
        results = [session.run(outputs, {input_name: x[k:k + 1]}) for k in range(x.shape[0])]
        return {n: np.concatenate([r[j] for r in results]) for j, n in enumerate(outputs)}
    return infer


config = TritonConfig(http_address="127.0.0.1", http_port=http, grpc_address="127.0.0.1", grpc_port=grpc,
                      metrics_port=metrics, log_verbose=0)


def announce():
    url = f"http://127.0.0.1:{http}/v2/models/{name}/ready"
    while True:
        try:
            if urllib.request.urlopen(url, timeout=1).status == 200:
                print("ready", flush=True)
                return
        except Exception:
            time.sleep(0.5)


with Triton(config=config) as triton:
    triton.bind(
        model_name=name,
        infer_func=[instance(s) for s in sessions],
        inputs=[Tensor(name=input_name, dtype=np.float32, shape=(i["channels"], i["height"], i["width"]))],
        outputs=[Tensor(name=n, dtype=np.float32, shape=tuple(shapes[n][1:])) for n in outputs],
        config=ModelConfig(max_batch_size=16),
    )
    threading.Thread(target=announce, daemon=True).start()

    def watch_parent():
        sys.stdin.read()
        triton.stop()

    threading.Thread(target=watch_parent, daemon=True).start()
    triton.serve()
