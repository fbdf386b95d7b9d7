"""Remote against on-device inference (issue #16): the model served by a
real Triton Inference Server on loopback (tests/triton/serve.py) and the
same model on the device, 1, 4 and 16 studies at once, side by side in one
run (`overread-bench remote`).

Usage: remote.py ROOT MODEL_DIR [IMAGES]
"""
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

root, model_dir = Path(sys.argv[1]), Path(sys.argv[2])
images = sys.argv[3] if len(sys.argv) > 3 else "48"
name = tomllib.loads((model_dir / "manifest.toml").read_text())["name"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


http = free_port()
server = subprocess.Popen(
    [root / ".cache/venv-triton/bin/python", root / "tests/triton/serve.py", model_dir, name,
     str(http), str(free_port()), str(free_port())],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    for line in server.stdout:
        if line.strip() == "ready":
            break
    out = subprocess.run([root / "target/release/overread-bench", "remote", model_dir, f"http://127.0.0.1:{http}", images],
                         capture_output=True, text=True)
    print(out.stdout, end="")
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        sys.exit(out.returncode)
finally:
    server.kill()
    server.wait()
