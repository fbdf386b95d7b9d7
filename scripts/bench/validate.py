"""Local validation of a model on 1,000 phantom studies (issue #16).

Side by side in one run, on the same studies and the same build:
- `overread infer` over the studies: the inference alone, the anchor;
- `overread model validate`: inference plus the statistics and the report
  (ratio to the anchor);
- scikit-learn and SciPy recomputing the same statistics from the report's
  cases (tests/validation/check.py, the bootstrap included), for scale.
And the report's size (HTML and JSON).

Usage: validate.py ROOT [COUNT]
"""
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

root = Path(sys.argv[1])
count = sys.argv[2] if len(sys.argv) > 2 else "1000"
overread = root / "target/release/overread"
model = root / "models/demo"
python = root / ".cache/venv/bin/python"


def timed(args, **kw):
    t = time.perf_counter()
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True, **kw)
    return time.perf_counter() - t, out


with tempfile.TemporaryDirectory(prefix="overread-bench-validate-") as tmp:
    tmp = Path(tmp)
    studies = tmp / "studies"
    gen, _ = timed([overread, "demo", "generate", studies, "--count", count, "--size", "1024", "--seed", "2031"])
    truth = tmp / "truth.csv"
    _, out = timed([overread, "demo", "truth", studies])
    truth.write_text(out.stdout)
    images = sum(1 for p in studies.glob("*.dcm"))

    anchor = [overread, "infer", "--model", model, "--ep", "cpu", "--json", studies]
    html = tmp / "report.html"
    # The anchor before and after, the faster counted: the page cache and
    # the machine's load change over a run.
    before, _ = timed(anchor)
    validate, out = timed([overread, "model", "validate", "--model", model, "--truth", truth, "-o", html,
                           "--ep", "cpu", studies])
    after, _ = timed(anchor)
    infer = min(before, after)
    summary = out.stdout.strip().splitlines()[0]
    stats = json.loads(subprocess.run([root / "target/release/overread-bench", "stats", count], capture_output=True,
                                      text=True, check=True).stdout)
    check, out = timed([python, root / "tests/validation/check.py", html.with_suffix(".json")])
    assert "all statistics agree" in out.stdout, out.stdout

    print(f"### Local validation of the demo model on {count} phantom studies (1024×1024, {images} images "
          f"with the laterals it refuses), CPU, 1 intra-op thread, one run\n")
    print("| measure | s | ratio to `overread infer` |")
    print("|---|---:|---:|")
    print(f"| `overread infer --json` over the studies (anchor; faster of before {before:.1f} s and after {after:.1f} s) | {infer:.1f} | 1.00 |")
    print(f"| `overread model validate` (inference, statistics, 2,000 bootstrap resamples, HTML + JSON) | {validate:.1f} | {validate / infer:.2f} |")
    print(f"| of which the statistics alone (`overread-bench stats`, {stats['cases']} cases) | {stats['ms'] / 1000:.3f} | {stats['ms'] / 1000 / infer:.4f} |")
    print(f"| scikit-learn + SciPy recomputing the statistics from the report (check.py, same resamples) | {check:.1f} | {check / infer:.2f} |")
    print()
    print("| report | bytes |")
    print("|---|---:|")
    print(f"| HTML (self-contained, ROC and reliability plots) | {html.stat().st_size:,} |")
    print(f"| JSON (every case's score, the ROC points) | {html.with_suffix('.json').stat().st_size:,} |")
    print()
    print(f"Phantoms written in {gen:.1f} s. {summary}")
