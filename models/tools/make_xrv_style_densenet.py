"""Builds a torchxrayvision-convention DenseNet-121 as ONNX, with random
weights, plus a manifest: the path a real torchxrayvision export takes,
exercised without any weights whose licence or download we lack.

The convention (torchxrayvision "densenet121-res224-all"): one channel,
224×224, pixel values scaled to [-1024, 1024], 18 pathology logits through
a sigmoid. The extra "cam" output is the class activation map, the
classifier applied to the last feature map before pooling:
cam[k, h, w] = Σ_c W[k, c] · relu(features)[c, h, w] + b[k] (1×18×7×7);
its spatial mean equals the logit.

The graph is written with onnx.helper (no torch needed), layer for layer as
torchvision's DenseNet-121 (growth 32, blocks 6/12/24/16, bottleneck 4×,
compression 0.5). Exporting real torchxrayvision weights (torch.onnx.export
with the same two outputs) is the next step; no such weights can be fetched
here.

Usage: python make_xrv_style_densenet.py OUT_DIR [SEED]
"""
import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LABELS = [
    "Atelectasis", "Consolidation", "Infiltration", "Pneumothorax", "Edema", "Emphysema",
    "Fibrosis", "Effusion", "Pneumonia", "Pleural_Thickening", "Cardiomegaly", "Nodule",
    "Mass", "Hernia", "Lung Lesion", "Fracture", "Lung Opacity", "Enlarged Cardiomediastinum",
]


class Builder:
    def __init__(self, rng):
        self.rng, self.nodes, self.inits, self.n = rng, [], [], 0

    def name(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    def const(self, array, prefix="w"):
        n = self.name(prefix)
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), n))
        return n

    def conv(self, x, cin, cout, k, stride=1, pad=0):
        w = self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        y = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [x, self.const(w)], [y], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4))
        return y

    def bn_relu(self, x, c):
        scale, bias = self.const(np.ones(c)), self.const(np.zeros(c))
        mean, var = self.const(self.rng.standard_normal(c) * 0.01), self.const(np.ones(c))
        y, z = self.name("bn"), self.name("relu")
        self.nodes.append(helper.make_node("BatchNormalization", [x, scale, bias, mean, var], [y], epsilon=1e-5))
        self.nodes.append(helper.make_node("Relu", [y], [z]))
        return z

    def op(self, kind, inputs, **attrs):
        y = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [y], **attrs))
        return y


def build(seed: int) -> onnx.ModelProto:
    b = Builder(np.random.default_rng(seed))
    growth, blocks = 32, [6, 12, 24, 16]
    x = b.conv("image", 1, 64, 7, stride=2, pad=3)
    x = b.bn_relu(x, 64)
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c = 64
    for i, layers in enumerate(blocks):
        for _ in range(layers):
            y = b.bn_relu(x, c)
            y = b.conv(y, c, 4 * growth, 1)
            y = b.bn_relu(y, 4 * growth)
            y = b.conv(y, 4 * growth, growth, 3, pad=1)
            x = b.op("Concat", [x, y], axis=1)
            c += growth
        if i < len(blocks) - 1:
            y = b.bn_relu(x, c)
            y = b.conv(y, c, c // 2, 1)
            x = b.op("AveragePool", [y], kernel_shape=[2, 2], strides=[2, 2])
            c //= 2
    features = b.bn_relu(x, c)  # 1×1024×7×7, relu applied
    k = len(LABELS)
    w = b.rng.standard_normal((k, c)) * 0.01
    bias = np.zeros(k)
    # Logits: global average pooling, then the linear classifier.
    pooled = b.op("GlobalAveragePool", [features])
    flat = b.op("Flatten", [pooled], axis=1)
    b.nodes.append(helper.make_node("Gemm", [flat, b.const(w), b.const(bias)], ["scores"], transB=1))
    # CAM: the classifier as a 1×1 convolution on the feature map.
    b.nodes.append(helper.make_node("Conv", [features, b.const(w.reshape(k, c, 1, 1)), b.const(bias)], ["cam"]))
    graph = helper.make_graph(
        b.nodes,
        "xrv-style-densenet121",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 224, 224])],
        [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, k]),
            helper.make_tensor_value_info("cam", TensorProto.FLOAT, [1, k, 7, 7]),
        ],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="overread make_xrv_style_densenet.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


MANIFEST = """# A torchxrayvision-convention DenseNet-121 with RANDOM weights, built by
# models/tools/make_xrv_style_densenet.py: it tests the path, it finds nothing.
name = "xrv-style-densenet121-random"
version = "0.0.0-random"
licence = "Apache-2.0 (generated, random weights)"
clinical = false
sha256 = "{sha}"
description = "torchxrayvision convention (1x224x224, [-1024, 1024], 18 labels, sigmoid) with a CAM output; random weights."

[intended_use]
modalities = ["CR", "DX"]
views = ["PA", "AP"]
body_parts = ["CHEST"]
min_age_years = 18

[input]
name = "image"
height = 224
width = 224
channels = 1
layout = "NCHW"
dtype = "float32"
range = [-1024.0, 1024.0]
voi = true
resize = "stretch"
interpolation = "bilinear"

[output.scores]
name = "scores"
labels = [{labels}]
activation = "sigmoid"

[output.heatmap]
name = "cam"
kind = "cam"
activation = "sigmoid"

[thresholds]
{thresholds}
"""


def main() -> None:
    out = Path(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 121
    out.mkdir(parents=True, exist_ok=True)
    data = build(seed).SerializeToString()
    (out / "model.onnx").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    labels = ", ".join(f'"{l}"' for l in LABELS)
    thresholds = "\n".join(f'"{l}" = 0.5' for l in LABELS)
    (out / "manifest.toml").write_text(MANIFEST.format(sha=sha, labels=labels, thresholds=thresholds))
    print(sha)


if __name__ == "__main__":
    main()
