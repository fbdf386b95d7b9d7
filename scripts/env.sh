# Sourced by the scripts after scripts/setup.sh: the toolchain on PATH and
# ONNX Runtime's library (from the project's Python environment) for `ort`.
export PATH="$HOME/.cargo/bin:$PATH"
ORT_DYLIB_PATH=$(ls "$root"/.cache/venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -n 1)
export ORT_DYLIB_PATH
