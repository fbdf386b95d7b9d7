#!/usr/bin/env bash
# Installs what Overread needs on Debian 12 (as root), only what is missing:
# build tools and codecs' build dependencies from apt, WebKitGTK for the
# desktop window, Xvfb and WebKitWebDriver for its end-to-end test, the Rust
# toolchain if absent, the frontend's npm packages, and the test corpus
# (public samples from PyPI, transcoded).
# Usage: scripts/setup.sh [--corpus | --gpu]
#   --gpu: also ONNX Runtime's CUDA execution provider (onnxruntime-gpu and
#   the NVIDIA CUDA and cuDNN wheels it needs, from PyPI) when an NVIDIA
#   driver is present; without one it says so and skips.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

apt_packages=(
    build-essential pkg-config cmake nasm   # CharLS, OpenJPEG, libjpeg-turbo
    python3 python3-venv python3-pip        # the reference decoder for tests
    dcmtk libgdcm-tools                     # transcoding the test corpus, benchmark anchors
    openjph-tools                           # HTJ2K for the test corpus (ojph_compress)
    libreoffice-calc-nogui                  # opening audit exports as a spreadsheet would
    ca-certificates curl
    # The desktop app (Tauri 2 on WebKitGTK 4.1)
    libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
    libssl-dev libxdo-dev file
    # Its end-to-end test: a virtual display and WebKit's WebDriver
    xvfb xauth webkit2gtk-driver
    # The PACS tests: a real Orthanc with its DICOMweb plugin (started by the
    # tests themselves on 127.0.0.1 ports of their own), and its PostgreSQL
    # index for the department's shared PACS
    orthanc orthanc-dicomweb orthanc-postgresql
    # The department store's tests: PostgreSQL 15 (a private cluster started
    # by each test binary that needs one, as the postgres system user)
    postgresql-15
    # The Debian package (scripts/package.sh): its manual pages, its
    # shared-library dependencies, and lintian's check of it
    help2man dpkg-dev lintian
)
# Installs the Debian packages named that are not installed yet.
apt_install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
    fi
}
# Node.js only when there is none: a newer one (NodeSource) must not be replaced.
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs npm)
apt_install_missing "${apt_packages[@]}"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy \
        || { echo "setup: cannot install Rust; install rustup (https://rustup.rs) and rerun" >&2; exit 1; }
    export PATH="$HOME/.cargo/bin:$PATH"
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

# ONNX Runtime (libonnxruntime.so from the PyPI wheel) and the model tools,
# in the project's own Python environment.
venv="$root/.cache/venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/models/requirements.txt"
# A torchxrayvision-convention DenseNet-121 with random weights (28 MB, outside git).
xrv="$root/.cache/models/xrv-style-densenet121"
if [ ! -f "$xrv/manifest.toml" ] || [ "$root/models/tools/make_xrv_style_densenet.py" -nt "$xrv/manifest.toml" ]; then
    "$venv/bin/python" "$root/models/tools/make_xrv_style_densenet.py" "$xrv" >/dev/null
fi

# The frontend: Node.js 20.19 or newer (Vite 7). Debian 12's own nodejs is 18;
# a machine with an older one needs Node from nodejs.org or NodeSource.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "setup: Node.js $(node --version 2>/dev/null || echo missing) is too old for the frontend (20.19+ needed)" >&2
    exit 1
fi
ui="$root/ui"
if [ ! -d "$ui/node_modules" ] || [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
    echo "setup: installing the frontend's npm packages"
    (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "${1:-}" = "--corpus" ]; then
    bash "$root/tests/corpus/setup.sh"
    # The results objects' validators: dicom3tools' dciodvfy, PixelMed's SR
    # validator (Java), and highdicom in the test venv; scikit-learn for
    # `overread model validate`'s statistics.
    apt_install_missing dicom3tools pixelmed-apps
    "$root/.cache/venv/bin/pip" install --quiet --disable-pip-version-check \
        -r "$root/tests/results/requirements.txt" -r "$root/tests/validation/requirements.txt"
    # A real Triton Inference Server for the remote-inference tests (the
    # nvidia-pytriton wheel, about 400 MB), in a venv of Debian's own Python:
    # the pyenv Python's threading breaks Triton's Python backend stub.
    triton="$root/.cache/venv-triton"
    if [ ! -x "$triton/bin/python" ]; then
        /usr/bin/python3 -m venv "$triton"
    fi
    "$triton/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/tests/triton/requirements.txt"
    # The test command's dependency check (scripts/deny.sh); about 4 minutes
    # to build once.
    if ! cargo deny --version 2>/dev/null | grep -q "^cargo-deny 0\.20\."; then
        echo "setup: installing cargo-deny"
        cargo install --quiet --locked cargo-deny@0.20.2
    fi
fi

if [ "${1:-}" = "--gpu" ]; then
    if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q "^GPU "; then
        echo "setup: --gpu: no NVIDIA GPU and driver here (nvidia-smi lists none): skipped; inference runs on the CPU"
    else
        # A venv of its own: the CUDA runtime's wheels are about 3 GB and
        # the CPU-only environment stays as it is.
        gpu="$root/.cache/venv-gpu"
        if [ ! -x "$gpu/bin/python" ]; then
            python3 -m venv "$gpu"
        fi
        "$gpu/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/models/requirements-gpu.txt"
        echo "setup: --gpu: ONNX Runtime with CUDA in $gpu; scripts/env.sh uses it while nvidia-smi lists a GPU"
    fi
fi
