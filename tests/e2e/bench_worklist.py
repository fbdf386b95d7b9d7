#!/usr/bin/env python3
"""The worklist command under load, in the real window (a benchmark, not a
test): the app starts on N local phantom studies with the demonstration
model while a local Orthanc holds M more that the PACS sync retrieves, and
the page calls the `worklist` command back to back for as long as triage
and the sync run, as a reader's window does while studies arrive. Prints
the latency percentiles against the goal (p99 ≤ 20 ms), how long triage
took, and whether it reached the end: a frozen workstation shows as triage
that never finishes and commands that time out.

    python3 tests/e2e/bench_worklist.py --app target/release/overread-app \\
        --cli target/release/overread [--studies 150] [--pacs-studies 20] [--size 1024]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts/bench"))
from pacs import Orthanc  # noqa: E402
from webdriver import Harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# Calls `worklist` back to back (and, like a reader, opens a study now and
# then) until triage is done and no source is retrieving, or `limit_s`.
LOAD = """
const [limit_s, opens] = [arguments[0], arguments[1]];
const done = (r) => { window.__bench = r; };
const invoke = window.__TAURI_INTERNALS__.invoke;
const times = [], anchor = [];
let timeouts = 0, opened = 0, last = null;
const t0 = performance.now();
(async () => {
  while ((performance.now() - t0) / 1000 < limit_s) {
    const s = performance.now();
    const w = await Promise.race([invoke('worklist'), new Promise((r) => setTimeout(() => r(null), 5000))]);
    const ms = performance.now() - s;
    if (w === null) { timeouts++; continue; }
    times.push(ms);
    last = w;
    // The anchor: the smallest command's round trip, under the same load.
    const a = performance.now();
    await invoke('get_settings');
    anchor.push(performance.now() - a);
    if (opens && times.length % 50 === 0 && w.rows.length) {
      const row = w.rows[(times.length / 50) % w.rows.length];
      // (Builds before availability existed said so in `ai`.)
      if ((row.availability ?? 'available') === 'available' && !['retrieving', 'partial'].includes(row.ai)) { await invoke('open_study', {id: row.id}).catch(() => 0); opened++; }
    }
    const syncing = w.sources.some((x) => x.state === 'checking' || x.instances_total > 0 || x.complete < x.studies);
    if (w.triage.total > 0 && !w.triage.running && !syncing && (performance.now() - t0) > 3000) break;
    await new Promise((r) => setTimeout(r, 0));
  }
  done({times, anchor, timeouts, opened, seconds: (performance.now() - t0) / 1000,
        triage: last && last.triage, rows: last && last.rows.length,
        sources: last && last.sources.map((x) => [x.name, x.state, x.complete, x.studies])});
})();
"""


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--studies", type=int, default=150)
    ap.add_argument("--pacs-studies", type=int, default=20)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--limit", type=int, default=600, help="seconds before giving up")
    ap.add_argument("--label", default="Overread")
    ap.add_argument("--no-opens", action="store_true", help="only the worklist, no study opened meanwhile")
    args = ap.parse_args()
    app = Path(args.app).resolve()
    work = Path(tempfile.mkdtemp(prefix="overread-wl-"))
    local = work / "studies"
    subprocess.run([args.cli, "demo", "generate", str(local), "--count", str(args.studies),
                    "--size", str(args.size), "--seed", "11"], check=True, stdout=subprocess.DEVNULL)
    orthanc = None
    settings = {
        "sources": [str(local)], "model_dir": str(ROOT / "models/demo"), "execution_provider": "cpu",
        "reader": {"id": "bench", "display_name": "Bench Reader", "role": "radiologist"},
        "read_first": False, "max_wait_minutes": 120, "pacs_config": None,
    }
    if args.pacs_studies:
        remote = work / "remote"
        subprocess.run([args.cli, "demo", "generate", str(remote), "--count", str(args.pacs_studies),
                        "--size", str(args.size), "--seed", "97"], check=True, stdout=subprocess.DEVNULL)
        (work / "orthanc").mkdir()
        orthanc = Orthanc(str(work / "orthanc"))
        for f in sorted(remote.rglob("*.dcm")):
            orthanc.upload(str(f))
        config = work / "pacs.toml"
        config.write_text(
            f'[cache]\ndir = "{work / "pacs-cache"}"\n'
            f'[[source]]\nname = "pacs"\nkind = "dicomweb"\nurl = "{orthanc.url("/dicom-web")}"\n'
            f"[source.worklist]\ndays = 36500\nlimit = 1000\n")
        settings["pacs_config"] = str(config)
    (work / "settings.json").write_text(json.dumps(settings))
    env = dict(os.environ)
    env.update({
        "XDG_DATA_HOME": str(work / "data"), "XDG_CONFIG_HOME": str(work / "config"),
        "OVERREAD_SETTINGS": str(work / "settings.json"), "OVERREAD_AUDIT_DB": str(work / "audit.sqlite3"),
    })
    try:
        with Harness(app, env, work / "webdriver.log") as s:
            s.wait("return window.__TAURI_INTERNALS__ ? 1 : 0", 60, "the page")
            s.execute(LOAD, args.limit, not args.no_opens)
            r = s.wait("return window.__bench || null", args.limit + 30, "the load to end")
    finally:
        if orthanc:
            orthanc.stop()
    times = r["times"]
    triage = r["triage"] or {}
    finished = triage.get("total", 0) > 0 and not triage.get("running") and triage.get("done") == triage.get("total")
    print()
    print(f"{args.label}: worklist command while {args.studies} local studies triage and "
          f"{args.pacs_studies} arrive from the PACS ({args.size}² phantoms), {len(times)} calls in {r['seconds']:.0f} s, "
          f"{r['opened']} studies opened meanwhile")
    print()
    anchor = r["anchor"]
    print("| measure | worklist | anchor: get_settings | ÷ anchor | goal | ratio to goal |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, p in (("p50", 50), ("p95", 95), ("p99", 99)):
        v, a = pct(times, p), pct(anchor, p)
        goal = "20 ms" if p == 99 else ""
        ratio = f"{v / 20:.2f}×" if p == 99 else ""
        print(f"| latency {name} | {v:.1f} ms | {a:.1f} ms | {v / max(a, 0.1):.2f}× | {goal} | {ratio} |")
    print(f"| latency max | {max(times) if times else float('nan'):.1f} ms | {max(anchor) if anchor else float('nan'):.1f} ms | | | |")
    print()
    print(f"Worklist calls that took over 5 s (a frozen workstation): {r['timeouts']}; "
          f"triage {triage.get('done')}/{triage.get('total')} {'finished' if finished else 'NOT finished'}; "
          f"{r['rows']} rows of {args.studies + args.pacs_studies}; sources (name, state, complete, listed) {r['sources']}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if finished and not r["timeouts"] else 1


if __name__ == "__main__":
    sys.exit(main())
