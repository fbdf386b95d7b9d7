#!/usr/bin/env python3
"""Desktop app benchmarks, on the release build, in the real window (Xvfb,
software WebGL here), printed as a table of ratios against the issue's goals:

- cold start to an interactive worklist (process start → rows on screen);
- click in the worklist → first pixels of RG1 (reduced image drawn), and the
  full-resolution image;
- window/level drag: frames drawn per second while mouse moves stream in;
- memory (RSS of the app and its WebKit processes) after opening 20 studies.

    python3 tests/e2e/bench.py --app target/release/overread-app --cli target/release/overread
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from webdriver import Harness  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def process_tree(root_pid):
    """Each process from `root_pid` down: (name, VmRSS, RssAnon) in kB."""
    children = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    out, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
            kb = lambda k: int(fields.get(k, "0 kB").split()[0])
            out.append((fields["Name"].strip(), kb("VmRSS"), kb("RssAnon")))
        except (OSError, KeyError, ValueError):
            continue
        stack += children.get(pid, [])
    return out


def rss_tree_mb(root_pid):
    """Resident memory of a process and all its descendants, in MB."""
    procs = process_tree(root_pid)
    return sum(rss for _, rss, _ in procs) / 1024, [f"{name} {rss / 1024:.0f} MB" for name, rss, _ in procs]


def app_pid(app):
    out = subprocess.run(["pgrep", "-f", "-n", str(app)], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


# Window/level drag on the main image: 120 mouse moves, one per animation
# frame; resolves with the frames drawn per second.
DRAG = """
    const done = arguments[arguments.length - 1];
    const c = document.getElementById('image');
    const r = c.getBoundingClientRect();
    const x0 = r.left + r.width / 2, y0 = r.top + r.height / 2;
    c.dispatchEvent(new MouseEvent('mousedown', {bubbles: true, clientX: x0, clientY: y0, button: 0}));
    const f0 = window.__overread.frames;
    const t0 = performance.now();
    let i = 0;
    function step() {
      i++;
      c.dispatchEvent(new MouseEvent('mousemove', {bubbles: true, clientX: x0 + i * 2, clientY: y0 + i}));
      if (i < 120) requestAnimationFrame(step);
      else requestAnimationFrame(() => {
        const dt = (performance.now() - t0) / 1000;
        c.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        done((window.__overread.frames - f0) / dt);
      });
    }
    requestAnimationFrame(step);"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    app = Path(args.app).resolve()
    work = Path(tempfile.mkdtemp(prefix="overread-bench-"))
    demo = work / "demo"
    # 21 phantoms at a radiograph's size plus RG1: 20 to open, and the rest.
    # And one patient at three dates, for comparison with the prior.
    subprocess.run([args.cli, "demo", "generate", str(demo), "--count", "21", "--size", "2048", "--priors", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    corpus = os.environ.get("OVERREAD_CORPUS", str(ROOT / ".cache/corpus"))
    shutil.copy(Path(corpus) / "pydicom-data/RG1_UNCR.dcm", demo / "RG1_UNCR.dcm")
    env = dict(os.environ)
    env.update({
        "XDG_DATA_HOME": str(work / "data"), "XDG_CONFIG_HOME": str(work / "config"),
        "OVERREAD_AUDIT_DB": str(work / "audit.sqlite3"), "OVERREAD_DEMO_DIR": str(demo),
        "OVERREAD_MODEL_DIR": str(ROOT / "models/demo"),
    })
    starts, firsts, fulls, fps_list, bare_list, mem = [], [], [], [], [], None
    cmp_firsts, prior_after, prior_full, sync_fps = [], [], [], []
    for run in range(args.runs):
        t0 = time.monotonic()
        with Harness(app, env, work / "webdriver.log") as s:
            s.wait("return document.querySelectorAll('tr[data-id]').length", 60, "worklist")
            starts.append(time.monotonic() - t0)
            s.wait("return document.getElementById('triage-progress').innerText.includes('done') ? 1 : 0", 300, "triage")
            # Open RG1 by clicking its row, as a reader would.
            rg1 = s.execute("return Array.from(document.querySelectorAll('tr[data-id]')).find(r => r.innerText.includes('9RG1')).dataset.id")
            # Select its row (a DOM click: WebKitWebDriver refuses rows
            # scrolled inside the table), then open it with Enter.
            s.execute(f"document.querySelector(\"tr[data-id='{rg1}']\").click()")
            s.wait(f"return document.querySelector(\"tr.selected[data-id='{rg1}']\") ? 1 : 0", 10, "RG1 selected")
            s.keys("\ue007")
            o = s.wait("const o = window.__overread.opens.at(-1); return o && o.full ? o : null", 60, "RG1")
            firsts.append(o["preview"] - o["requested"])
            fulls.append(o["full"] - o["requested"])
            # Window/level drag: 120 mouse moves, one per animation frame.
            fps = s.execute_async(DRAG)
            fps_list.append(fps)
            # The anchor: the same webview repainting a bare WebGL canvas of
            # the same size every frame, no Overread code in the loop.
            bare = s.execute_async("""
                const done = arguments[arguments.length - 1];
                const gl = document.getElementById('image').getContext('webgl2');
                let n = 0; const t0 = performance.now();
                function f() {
                  gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
                  if (++n < 120) requestAnimationFrame(f); else done(120000 / (performance.now() - t0));
                }
                requestAnimationFrame(f);""")
            bare_list.append(bare)
            # Comparison: select the patient's latest study (its newest prior
            # is decoded in the background), open it; the prior hangs beside.
            latest = s.execute("return Array.from(document.querySelectorAll('tr[data-id]')).find(r => r.innerText.includes('OVRPRI1013')).dataset.id")
            s.keys("\ue00c")
            s.execute(f"document.querySelector(\"tr[data-id='{latest}']\").click()")
            s.wait(f"return document.querySelector(\"tr.selected[data-id='{latest}']\") ? 1 : 0", 10, "latest selected")
            time.sleep(1.5)
            s.keys("\ue007")
            o = s.wait(f"const o = window.__overread.opens.at(-1); return o && o.id === '{latest}' && o.full ? o : null", 60, "latest")
            p = s.wait(f"const p = window.__overread.pane; return p && p.at > {o['requested']} ? p : null", 60, "the prior")
            cmp_firsts.append(o["preview"] - o["requested"])
            prior_after.append(max(0.0, p["preview"] - o["preview"]))
            prior_full.append(max(0.0, p["at"] - o["preview"]))
            sync_fps.append(s.execute_async(DRAG))
            if run == 0:
                # Memory after opening 20 studies one after another.
                # From the worklist's first row (not the study open now),
                # then `j` to each next one.
                ids = s.execute("return Array.from(document.querySelectorAll('tr[data-id]')).map(r => r.dataset.id)")
                first = ids[0] if ids[0] != latest else ids[1]
                s.keys("\ue00c")
                s.execute(f"document.querySelector(\"tr[data-id='{first}']\").click()")
                s.wait(f"return document.querySelector(\"tr.selected[data-id='{first}']\") ? 1 : 0", 10, "first row selected")
                base = s.execute("return window.__overread.opens.length")
                for n in range(20):
                    s.keys("\ue007" if n == 0 else "j")
                    s.wait(f"const o = window.__overread.opens; return o.length >= {base + n + 1} && o.at(-1).full ? 1 : 0", 60, "study")
                opened = s.execute("return window.__overread.opens.length")
                pid = app_pid(app)
                mem = rss_tree_mb(pid) if pid else (float("nan"), [])
                print(f"opened {opened} studies of {len(ids)}; processes {', '.join(mem[1])}", flush=True)
    shutil.rmtree(work, ignore_errors=True)

    def row(name, value, unit, goal, better):
        ratio = value / goal
        ok = ratio <= 1 if better == "lower" else ratio >= 1
        print(f"| {name} | {value:.1f} {unit} | {goal:g} {unit} | {ratio:.2f}× | {'met' if ok else 'NOT met'} |")

    med = statistics.median
    print()
    print(f"Overread desktop app, release build, Xvfb + software WebGL, median of {args.runs} launches")
    print()
    print("| measure | Overread | goal | ratio to goal | |")
    print("|---|---|---|---|---|")
    row("cold start → interactive worklist", med(starts) * 1000, "ms", 1500, "lower")
    row("click → first pixels of RG1 (reduced image)", med(firsts), "ms", 100, "lower")
    row("click → full-resolution RG1", med(fulls), "ms", 100, "lower")
    row("window/level drag", med(fps_list), "fps", 60, "higher")
    row("click → first pixels of the current study, prior hung beside", med(cmp_firsts), "ms", 100, "lower")
    row("prior visible after the current image (cached; reduced image)", med(prior_after), "ms", 300, "lower")
    row("prior at full resolution after the current image (cached)", med(prior_full), "ms", 300, "lower")
    row("window/level drag, two images synchronised", med(sync_fps), "fps", 60, "higher")
    row("memory with 20 studies opened (RSS, app + WebKit)", mem[0], "MB", 400, "lower")
    print()
    print(f"Anchor for the frame rate: this webview repainting a bare WebGL canvas of the same size "
          f"runs at {med(bare_list):.1f} fps here; Overread's window/level drag is "
          f"{med(fps_list) / med(bare_list):.2f}× of that; with two images synchronised "
          f"{med(sync_fps) / med(fps_list):.2f}× of the single image's rate.")
    print(f"Memory by process: {', '.join(mem[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
