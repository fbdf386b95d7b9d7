"""Builds models/demo/model.onnx: a small, transparent opacity detector.

It is not a trained network and is not for clinical use. Every weight is
written here, for a 1×1×256×256 input in [0, 1] (display values, bone white):
  1. reflect padding, then two fixed filters: a difference of Gaussians
     (σ 3 px minus σ 9 px), which answers to round bright blobs of about
     5–15 px radius more than to thin ribs or large organs, and a σ 9 px
     Gaussian of the surroundings;
  2. f = DoG − 0.8 · max(surroundings − 0.4, 0): blobs in dark lung fields
     keep their response, edges of the bright mediastinum and heart lose it;
  3. heatmap = sigmoid(120 · (f − 0.085)) (1×1×256×256), and its global
     maximum is the "opacity" probability (1×1).
The constants were set on synthetic phantoms (overread demo generate).

Usage: python make_demo_model.py OUT_DIR   (prints the model's sha256)
"""
import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 256


def gaussian(sigma: float, radius: int) -> np.ndarray:
    ax = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def build() -> onnx.ModelProto:
    r = 27
    w = np.stack([gaussian(3.0, r) - gaussian(9.0, r), gaussian(9.0, r)])[:, None, :, :].astype(np.float32)
    bias = np.array([0.0, -0.4], dtype=np.float32)
    consts = {
        "pads": np.array([0, 0, r, r, 0, 0, r, r], dtype=np.int64),
        "c0": np.array([0], dtype=np.int64),
        "c1": np.array([1], dtype=np.int64),
        "c2": np.array([2], dtype=np.int64),
        "axis1": np.array([1], dtype=np.int64),
        "k": np.array(0.8, dtype=np.float32),
        "offset": np.array(0.085, dtype=np.float32),
        "gain": np.array(120.0, dtype=np.float32),
    }
    nodes = [
        helper.make_node("Pad", ["image", "pads"], ["padded"], mode="reflect"),
        helper.make_node("Conv", ["padded", "w", "bias"], ["features"]),
        helper.make_node("Slice", ["features", "c0", "c1", "axis1"], ["dog"]),
        helper.make_node("Slice", ["features", "c1", "c2", "axis1"], ["surround"]),
        helper.make_node("Relu", ["surround"], ["bright"]),
        helper.make_node("Mul", ["bright", "k"], ["penalty"]),
        helper.make_node("Sub", ["dog", "penalty"], ["f"]),
        helper.make_node("Sub", ["f", "offset"], ["centred"]),
        helper.make_node("Mul", ["centred", "gain"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["heatmap"]),
        helper.make_node("GlobalMaxPool", ["heatmap"], ["peak"]),
        helper.make_node("Flatten", ["peak"], ["scores"], axis=1),
    ]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(bias, "bias")]
    inits += [numpy_helper.from_array(v, k) for k, v in consts.items()]
    graph = helper.make_graph(
        nodes,
        "overread-demo-opacity",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, SIZE, SIZE])],
        [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info("heatmap", TensorProto.FLOAT, [1, 1, SIZE, SIZE]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="overread make_demo_model.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    data = build().SerializeToString()
    (out / "model.onnx").write_bytes(data)
    print(hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
