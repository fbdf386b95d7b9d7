"""Builds the small example models in models/examples/, one per model shape
radiology AI ships beyond the demo's one-channel classifier. Every weight is
written here; none is trained and none is for clinical use. Each folder gets
model.onnx and its manifest.toml (with the weights' sha256), which
docs/models.md shows.

  imagenet-3ch    a 3-channel input normalised per channel with ImageNet's
                  mean and std (CheXpert / MONAI-style): scores [1, 3] are the
                  input's per-channel means, so a test can check the
                  normalisation exactly.
  detection       boxes after non-maximum suppression: a 4×4 grid of 32-px
                  cells of a 128×128 input, each cell's mean brightness its
                  score ("nodule"); boxes [1, 16, 4] xyxy in input pixels,
                  scores [1, 16, 1].
  detection-raw   the same before suppression: every cell twice, the second
                  box shifted 4 px and scored 0.9×, so the manifest asks
                  Overread for NMS (IoU 0.5).
  segmentation    a mask [1, 1, 64, 64] = sigmoid(20·(x − 0.6)) of a 64×64
                  input ("bright" regions), and its maximum as the score: the
                  viewer draws the mask as a contour at the threshold.

Usage: python make_shape_models.py MODELS_DIR   (writes MODELS_DIR/examples/*)
"""
import hashlib
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def finish(graph) -> bytes:
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="overread make_shape_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def value(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def imagenet_3ch() -> bytes:
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["scores"], axis=1),
    ]
    return finish(helper.make_graph(nodes, "imagenet-3ch", [value("image", [1, 3, 64, 64])], [value("scores", [1, 3])]))


def grid_boxes(shift: float) -> np.ndarray:
    cells = [(x * 32.0 + shift, y * 32.0 + shift) for y in range(4) for x in range(4)]
    return np.array([[x, y, x + 32.0, y + 32.0] for x, y in cells], dtype=np.float32)


def detection(raw: bool) -> bytes:
    boxes = grid_boxes(0.0)
    if raw:
        boxes = np.concatenate([boxes, grid_boxes(4.0)])
    n = len(boxes)
    consts = [
        numpy_helper.from_array(boxes[None], "anchors"),
        numpy_helper.from_array(np.array([1, 16, 1], dtype=np.int64), "shape"),
        numpy_helper.from_array(np.array(0.9, dtype=np.float32), "shifted"),
    ]
    nodes = [
        helper.make_node("AveragePool", ["image"], ["cells"], kernel_shape=[32, 32], strides=[32, 32]),
        helper.make_node("Reshape", ["cells", "shape"], ["cell_scores"]),
        helper.make_node("Identity", ["anchors"], ["boxes"]),
    ]
    if raw:
        nodes += [
            helper.make_node("Mul", ["cell_scores", "shifted"], ["shifted_scores"]),
            helper.make_node("Concat", ["cell_scores", "shifted_scores"], ["scores"], axis=1),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["cell_scores"], ["scores"]))
    name = "detection-raw" if raw else "detection"
    graph = helper.make_graph(nodes, name, [value("image", [1, 1, 128, 128])],
                              [value("boxes", [1, n, 4]), value("scores", [1, n, 1])], consts)
    return finish(graph)


def segmentation() -> bytes:
    consts = [
        numpy_helper.from_array(np.array(0.6, dtype=np.float32), "level"),
        numpy_helper.from_array(np.array(20.0, dtype=np.float32), "gain"),
    ]
    nodes = [
        helper.make_node("Sub", ["image", "level"], ["centred"]),
        helper.make_node("Mul", ["centred", "gain"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["mask"]),
        helper.make_node("GlobalMaxPool", ["mask"], ["peak"]),
        helper.make_node("Flatten", ["peak"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(nodes, "segmentation", [value("image", [1, 1, 64, 64])],
                              [value("scores", [1, 1]), value("mask", [1, 1, 64, 64])], consts)
    return finish(graph)


COMMON = """licence = "Apache-2.0"
clinical = false
sha256 = "{sha}"
description = "{description} An example of a model shape, built by models/tools/make_shape_models.py; not a trained model, not for clinical use."

[intended_use]
modalities = ["CR", "DX"]
views = ["PA", "AP"]
body_parts = ["CHEST"]
min_age_years = 16
"""

MANIFESTS = {
    "imagenet-3ch": ("Per-channel means of an ImageNet-normalised 3-channel input.", """
[input]
name = "image"
height = 64
width = 64
channels = 3
layout = "NCHW"
dtype = "float32"
range = [0.0, 1.0]
# ImageNet's per-channel normalisation, after the range: (value - mean) / std.
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
voi = true
resize = "stretch"
interpolation = "bilinear"

[output.scores]
name = "scores"
labels = ["red", "green", "blue"]
activation = "none"

[thresholds]
red = 0.5
green = 0.5
blue = 0.5
"""),
    "detection": ("Boxes after non-maximum suppression.", """
[input]
name = "image"
height = 128
width = 128
channels = 1
layout = "NCHW"
dtype = "float32"
range = [0.0, 1.0]
voi = true
resize = "letterbox"
interpolation = "bilinear"

# No image-level score output: a finding's score is its best box's.
[output.scores]
labels = ["nodule"]
activation = "none"

[output.boxes]
name = "boxes"
scores = "scores"
format = "xyxy"
normalized = false

[thresholds]
nodule = 0.5
"""),
    "detection-raw": ("Candidate boxes before non-maximum suppression, which Overread applies.", """
[input]
name = "image"
height = 128
width = 128
channels = 1
layout = "NCHW"
dtype = "float32"
range = [0.0, 1.0]
voi = true
resize = "letterbox"
interpolation = "bilinear"

[output.scores]
labels = ["nodule"]
activation = "none"

[output.boxes]
name = "boxes"
scores = "scores"
format = "xyxy"
normalized = false
# The model's boxes are candidates: Overread suppresses, per label, every
# box overlapping a higher-scored one by IoU 0.5 or more.
nms_iou = 0.5

[thresholds]
nodule = 0.5
"""),
    "segmentation": ("A segmentation mask, drawn as a contour at the threshold.", """
[input]
name = "image"
height = 64
width = 64
channels = 1
layout = "NCHW"
dtype = "float32"
range = [0.0, 1.0]
voi = true
resize = "letterbox"
interpolation = "bilinear"

[output.scores]
name = "scores"
labels = ["bright"]
activation = "none"

[output.heatmap]
name = "mask"
kind = "segmentation"
activation = "none"

[thresholds]
bright = 0.5
"""),
}

BUILD = {
    "imagenet-3ch": imagenet_3ch,
    "detection": lambda: detection(False),
    "detection-raw": lambda: detection(True),
    "segmentation": segmentation,
}


def main() -> None:
    root = Path(sys.argv[1]) / "examples"
    for name, build in BUILD.items():
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        data = build()
        (out / "model.onnx").write_bytes(data)
        description, body = MANIFESTS[name]
        sha = hashlib.sha256(data).hexdigest()
        head = f'# Built by models/tools/make_shape_models.py: an example of a model shape.\nname = "example-{name}"\nversion = "0.1.0"\n'
        (out / "manifest.toml").write_text(head + COMMON.format(sha=sha, description=description) + body)
        print(name, sha)


if __name__ == "__main__":
    main()
