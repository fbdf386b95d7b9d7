# Sourced by the scripts after scripts/setup.sh: the toolchain on PATH and
# ONNX Runtime's library (from the project's Python environment) for `ort`.
export PATH="$HOME/.cargo/bin:$PATH"
ORT_DYLIB_PATH=$(ls "$root"/.cache/venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -n 1)
export ORT_DYLIB_PATH
# With `scripts/setup.sh --gpu` done and a GPU present: the CUDA build of the
# same runtime, the NVIDIA libraries its wheels brought, and the tests told
# to expect the GPU (the execution-provider test then runs there).
gpu_ort=$(ls "$root"/.cache/venv-gpu/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n 1 || true)
if [ -n "$gpu_ort" ] && command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q "^GPU "; then
    ORT_DYLIB_PATH=$gpu_ort
    for lib in "$root"/.cache/venv-gpu/lib/python3*/site-packages/nvidia/*/lib; do
        LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    done
    export LD_LIBRARY_PATH OVERREAD_EXPECT_GPU=1
fi
