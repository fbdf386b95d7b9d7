#!/usr/bin/env python3
"""The README's run command on a machine without a display: runs the real
app on a virtual display, waits for AI triage, opens the top study with its
heatmap, and saves screenshots of the worklist and the viewer."""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from webdriver import Harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = Path(args.out)
    with Harness(Path(args.app).resolve(), os.environ, out / "webdriver.log") as s:
        s.wait("return document.querySelectorAll('tr[data-id]').length", 60, "the worklist")
        progress = s.wait("const t = document.getElementById('triage-progress').innerText.trim().replace(/\\s+/g, ' ');"
                          "return t.includes('done') || t.includes('idle') ? t : null", 300, "AI triage")
        (out / "worklist.png").write_bytes(s.screenshot())
        rows = s.execute("return Array.from(document.querySelectorAll('tr[data-id]')).map(r => r.innerText.replace(/\\t/g, '  '))")
        print(f"Worklist ({progress}):")
        for r in rows:
            print("  " + r)
        s.keys("\ue007")  # Enter: open the top study
        s.wait("const o = window.__overread && window.__overread.opens.at(-1); return o && o.full ? 1 : 0", 60, "the image")
        s.keys("m")  # its heatmap
        time.sleep(1)
        (out / "viewer.png").write_bytes(s.screenshot())
        print(s.execute("return document.getElementById('status').innerText"))
    print(f"Screenshots: {out / 'worklist.png'}, {out / 'viewer.png'}")
    print("On a machine with a display, the same command opens the window itself.")


if __name__ == "__main__":
    main()
