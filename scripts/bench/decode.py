"""Side-by-side decoding benchmark; see scripts/bench-decode.sh.

Whole process: each tool turns one file into a display-ready image (first VOI
window, MONOCHROME1 inverted) written as binary PGM; runs are interleaved
round-robin so machine load hits all tools alike. In process: Overread's
open → decode → 16-bit display against pydicom's dcmread → pixel_array →
modality LUT → VOI LUT → 16-bit, both without process start-up.
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut

warnings.simplefilter("ignore")
ROUNDS = 7

PYDICOM_SCRIPT = r"""
import sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut
ds = pydicom.dcmread(sys.argv[1])
a = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds).astype(np.float64)
lo, hi = a.min(), a.max()
a = (a - lo) / max(hi - lo, 1e-9)
if ds.PhotometricInterpretation == "MONOCHROME1":
    a = 1.0 - a
img = (a * 255 + 0.5).astype(np.uint8)
with open(sys.argv[2], "wb") as f:
    f.write(b"P5\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
    f.write(img.tobytes())
"""


def pydicom_display16(path):
    ds = pydicom.dcmread(path)
    a = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds).astype(np.float64)
    lo, hi = a.min(), a.max()
    a = (a - lo) / max(hi - lo, 1e-9)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        a = 1.0 - a
    return (a * 65535 + 0.5).astype(np.uint16)


def run(cmd):
    start = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed if r.returncode == 0 else None


def dcmtk_cmd(path, out):
    ts = str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
    if ts.startswith("1.2.840.10008.1.2.4.9") or ts.startswith("1.2.840.10008.1.2.4.20"):
        return None  # dcmtk 3.6.7 has no JPEG 2000 decoder
    tool = "dcml2pnm" if ts.startswith("1.2.840.10008.1.2.4.8") else "dcmj2pnm"
    return [tool, "+Wi", "1", "+op", str(path), str(out)]


def fmt(v):
    return "n/a" if v is None else f"{v:.0f}"


def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}"


def decode_table(root, files, out_dir):
    overread = root / "target/release/overread"
    bench = root / "target/release/overread-bench"
    py = sys.executable
    times = {f: {"overread": [], "dcmtk": [], "pydicom": []} for f in files}
    for _ in range(ROUNDS):
        for f in files:
            out = out_dir / "out.pgm"
            times[f]["overread"].append(run([str(overread), "render", str(f), "-o", str(out)]))
            cmd = dcmtk_cmd(f, out)
            times[f]["dcmtk"].append(run(cmd) if cmd else None)
            times[f]["pydicom"].append(run([py, "-c", PYDICOM_SCRIPT, str(f), str(out)]))
    # In process.
    lines = subprocess.run([str(bench), "--repeat", str(ROUNDS), *map(str, files)], capture_output=True, text=True, check=True).stdout
    rows = {json.loads(l)["path"]: json.loads(l) for l in lines.splitlines()}
    ours_in = {p: r["median_ms"] for p, r in rows.items()}
    py_in = {}
    for f in files:
        ts = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            pydicom_display16(f)
            ts.append((time.perf_counter() - start) * 1000)
        py_in[str(f)] = statistics.median(ts)

    med = lambda xs: None if not xs or any(x is None for x in xs) else statistics.median(xs)
    print(f"### RG1 (1841×1955, 15-bit CR) to display-ready pixels, median of {ROUNDS} interleaved runs (ms)\n")
    print("| file | Overread | dcmtk | pydicom | Overread/dcmtk | pydicom/Overread | in-process: Overread | pydicom | pydicom/Overread |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in files:
        o, d, p = (med(times[f][k]) for k in ("overread", "dcmtk", "pydicom"))
        oi, pi = ours_in[str(f)], py_in[str(f)]
        print(f"| {f.name} | {fmt(o)} | {fmt(d)} | {fmt(p)} | {ratio(o, d)} | {ratio(p, o)} | {oi:.1f} | {pi:.1f} | {pi / oi:.2f} |")
    print("\nWhole process: one file in, binary 8-bit PGM out (dcmtk's dcmj2pnm/dcml2pnm `+Wi 1 +op`; dcmtk 3.6.7 has no JPEG 2000).")
    print("In process: open, decode, Modality LUT, VOI, MONOCHROME1 → 16-bit display values; no start-up, no output file.\n")
    print(f"### What a retrieval and the first pixels cost against a full decode, in process, median of {ROUNDS} (ms)\n")
    print("| file | full decode | proof it arrived whole | proof ÷ decode | reduced preview (J2K) | preview ÷ decode |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in files:
        r = rows[str(f)]
        full, check, preview = r["median_ms"], r["check_ms"], r["preview_ms"]
        pv = "n/a" if preview is None else f"{preview:.1f}"
        pr = "n/a" if preview is None else f"{preview / full:.2f}"
        print(f"| {f.name} | {full:.1f} | {check:.2f} | {check / full:.3f} | {pv} | {pr} |")
    print("\nThe proof: `Instance::check_complete` (open, then JPEG markers to EOI, the J2K walk plus a lowest-resolution decode, RLE segments counted, native lengths). The preview: `Instance::reduced_frame(0, 512)`, OpenJPEG stopping at the wavelet level nearest 512 pixels.\n")


def scan_table(root, out_dir, count):
    tree = out_dir / "tree"
    overread = root / "target/release/overread"
    subprocess.run([str(overread), "demo", "generate", str(tree / "a"), "--count", str(count // 2), "--size", "128", "--seed", "1"], check=True, stderr=subprocess.DEVNULL)
    subprocess.run([str(overread), "demo", "generate", str(tree / "b" / "c"), "--count", str(count - count // 2), "--size", "128", "--seed", "2"], check=True, stderr=subprocess.DEVNULL)
    files = sorted(p for p in tree.rglob("*.dcm"))
    ours, py = [], []
    for _ in range(3):
        ours.append(run([str(overread), "scan", str(tree), "--json"]) / 1000)
        start = time.perf_counter()
        for p in files:
            pydicom.dcmread(p, stop_before_pixels=True)
        py.append(time.perf_counter() - start)
    o, p = statistics.median(ours), statistics.median(py)
    n = len(files) + 2  # the two truth files are scanned (and reported) too
    print(f"### Scan of a {n}-file tree (headers only), median of 3\n")
    print("| tool | seconds | files/s | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| overread scan --json (whole process, all cores) | {o:.2f} | {n / o:.0f} | 1.00 |")
    print(f"| pydicom dcmread(stop_before_pixels) loop (in process) | {p:.2f} | {len(files) / p:.0f} | {p / o:.2f}× slower |")
    print()


def main():
    root = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rg1 = sorted((root / ".cache/corpus/rg1").glob("RG1_*.dcm"))
    rg1 = [f for f in rg1 if f.name != "RG1_8bit.dcm"]
    with tempfile.TemporaryDirectory() as tmp:
        decode_table(root, rg1, Path(tmp))
        scan_table(root, Path(tmp), count)


if __name__ == "__main__":
    main()
