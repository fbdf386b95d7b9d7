#!/usr/bin/env python3
"""End-to-end test of the real Overread window.

Starts Xvfb and WebKitWebDriver, launches the app binary (built with
embedded assets) on a fresh demo worklist with the demo model and the real
ONNX Runtime, and drives it by keyboard and mouse as a reader would:
open the top study, check from screenshots that the image is drawn, change
the window and see the pixels change, toggle a heatmap, confirm one finding
and dismiss another. Then it checks through the `overread` CLI that the
audit log holds exactly those two decisions, with the right fields, and that
the CSV export contains them. Screenshots are kept in the artefacts folder.

    python3 tests/e2e/run.py --app target/debug/overread-app \
        --cli target/debug/overread --artefacts target/e2e
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from webdriver import Harness, decode_png, region, stats  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class Check:
    def __init__(self):
        self.failures = []

    def __call__(self, ok, what):
        print(("  ok   " if ok else "  FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)


def canvas_stats(s, shot_path, png_bytes):
    shot_path.write_bytes(png_bytes)
    png = decode_png(png_bytes)
    rect = s.rect("#image")
    scale = s.execute("return window.devicePixelRatio || 1")
    return region(png, rect, scale), png


def diff(a, b):
    n = min(len(a), len(b))
    return sum(abs(sum(a[i]) - sum(b[i])) / 3 for i in range(n)) / max(1, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--artefacts", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    app = Path(args.app).resolve()
    cli = Path(args.cli).resolve()
    out = Path(args.artefacts).resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="overread-e2e-"))
    demo = work / "demo"
    subprocess.run([str(cli), "demo", "generate", str(demo), "--count", "12", "--size", "1024", "--priors", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    corpus = os.environ.get("OVERREAD_CORPUS")
    if corpus and (Path(corpus) / "pydicom-data/RG1_UNCR.dcm").is_file():
        shutil.copy(Path(corpus) / "pydicom-data/RG1_UNCR.dcm", demo / "RG1_UNCR.dcm")
    # RG1's patient id, to find it on the worklist for the shader check.
    rg1_patient = None
    if (demo / "RG1_UNCR.dcm").is_file():
        info = subprocess.run([str(cli), "info", str(demo / "RG1_UNCR.dcm"), "--json"],
                              capture_output=True, text=True, check=True)
        rg1_patient = json.loads(info.stdout)["patient_id"]
    audit_db = work / "audit.sqlite3"
    env = dict(os.environ)
    env.update({
        "TAURI_WEBVIEW_AUTOMATION": "true",
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "OVERREAD_AUDIT_DB": str(audit_db),
        "OVERREAD_DEMO_DIR": str(demo),
        "OVERREAD_MODEL_DIR": str(ROOT / "models/demo"),
        "OVERREAD_WORKSTATION": "e2e-workstation",
        "NO_AT_BRIDGE": "1",
        # The export's save dialog is the app's own; this answers it.
        "OVERREAD_EXPORT_TO": str(work / "app-export.csv"),
    })
    check = Check()
    with Harness(app, env, out / "webdriver.log") as s:
        href = s.execute("return location.href")
        if not href.startswith(("tauri://", "http://tauri.localhost")):
            raise SystemExit(f"e2e: the app loaded {href}: build it with --features custom-protocol")
        print("worklist")
        rows = s.wait("return document.querySelectorAll('tr[data-id]').length", 60, "worklist rows")
        check(rows >= 12, f"demo worklist shows {rows} studies")
        s.wait("const t = document.getElementById('triage-progress').innerText; return t.includes('done') ? t : null",
               180, "background triage")
        flagged = s.execute("return Array.from(document.querySelectorAll('tr.ai-flagged')).map(r => r.dataset.id)")
        check(len(flagged) >= 2, f"{len(flagged)} studies flagged by the demo model")
        order = s.execute("return Array.from(document.querySelectorAll('tr[data-id]')).map(r => r.dataset.id)")
        check(order[:len(flagged)] == flagged, "flagged studies come first")
        check(s.execute("return !!document.querySelector('.banner.demo')"), "worklist says the model is a demonstration model")
        s.wait("return document.querySelector('tr.selected') ? 1 : 0", 10, "a selected row")

        print("open the top study by keyboard")
        s.keys("\ue007")  # Enter
        s.wait("const o = window.__overread && window.__overread.opens.at(-1); return o && o.full ? 1 : 0",
               30, "the full image")
        time.sleep(0.3)
        first = s.execute("return window.__overread.opens.at(-1)")
        first_patient = s.execute("return document.querySelector('.corner.tl div:nth-child(2)').innerText.split(' ')[0]")
        px1, _ = canvas_stats(s, out / "1-opened.png", s.screenshot())
        st1 = stats(px1)
        check(st1["sd"] > 15 and 10 < st1["mean"] < 245,
              f"image drawn in the canvas (mean {st1['mean']:.0f}, sd {st1['sd']:.0f})")
        check(s.execute("return !!document.getElementById('demo-badge')"), "demonstration-model badge shown")
        print(f"  click-to-preview {first['preview'] - first['requested']:.0f} ms, full {first['full'] - first['requested']:.0f} ms")

        print("window/level")
        s.keys("2")  # second window preset
        time.sleep(0.3)
        px2, _ = canvas_stats(s, out / "2-window-preset.png", s.screenshot())
        d2 = diff(px1, px2)
        check(d2 > 1.5, f"window preset changes the pixels (mean |Δ| {d2:.1f})")
        rect = s.rect("#image")
        s.drag(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2, 300, 150)
        time.sleep(0.3)
        px3, _ = canvas_stats(s, out / "3-window-drag.png", s.screenshot())
        d3 = diff(px2, px3)
        readout = s.execute("return document.getElementById('window-readout').innerText")
        check(d3 > 3, f"window drag changes the pixels (mean |Δ| {d3:.1f}; {readout.splitlines()[0]})")

        print("heatmap")
        before = stats(px3)["coloured"]
        s.keys("m")
        s.wait("return document.querySelector('.heat-toggle.on') ? 1 : 0", 10, "heatmap toggle")
        time.sleep(0.5)
        px4, _ = canvas_stats(s, out / "4-heatmap.png", s.screenshot())
        after = stats(px4)["coloured"]
        # A small opacity's heatmap covers well under 1% of the canvas: at
        # least twice the coloured pixels, and some 400 pixels more.
        check(after > 2 * before and after > before + 0.0004,
              f"heatmap overlay drawn ({before:.3%} → {after:.3%} coloured pixels)")

        print("confirm the finding on this study")
        s.keys("c")
        s.wait("return document.querySelector('.finding .decision.confirm') ? 1 : 0", 20, "confirmed decision")
        check("audit row" in s.execute("return document.getElementById('status').innerText"),
              "confirmation shown after the audit row was committed")

        print("next study, dismiss its finding")
        s.keys("j")
        s.wait("const o = window.__overread.opens; return o.length >= 2 && o.at(-1).full ? 1 : 0", 30, "next study")
        second_patient = s.execute("return document.querySelector('.corner.tl div:nth-child(2)').innerText.split(' ')[0]")
        s.wait("return document.querySelector('.finding.flagged') ? 1 : 0", 10, "a flagged finding")
        s.keys("d")
        s.wait("return document.querySelector('.finding .decision.dismiss') ? 1 : 0", 20, "dismissed decision")
        canvas_stats(s, out / "5-dismissed.png", s.screenshot())

        print("sign the study off: its results leave through the outbox")
        s.wait("const b = document.getElementById('sign-off'); return b && !b.disabled ? 1 : 0", 10, "sign-off allowed")
        s.keys("e")
        state = s.wait("const e = document.getElementById('results-state'); "
                       "return e && e.dataset.state === 'sent' ? e.dataset.state : null", 60, "results sent")
        check(state == "sent", "sign-off: the viewer shows the results sent")
        row_state = s.wait("const r = document.querySelector('tr.selected td.results'); "
                           "return r && r.dataset.results === 'sent' ? r.dataset.results : null", 20, "worklist results state")
        check(row_state == "sent", "sign-off: the worklist row shows the results sent")
        shown = s.wait("const e = document.querySelectorAll('#earlier-assessments li[data-assessment=rejected]'); "
                       "return e.length || null", 20, "the assessment read back")
        check(shown == 1, "the stored report is read back: the dismissed finding shows as rejected")
        (out / "5b-signed-off.png").write_bytes(s.screenshot())
        written = sorted(p.name.split("_")[0] for p in (work / "results").glob("*/*.dcm"))
        check(written == ["gsps", "pm", "sr"], f"the results folder holds SR, Parametric Map and GSPS: {written}")

        if rg1_patient:
            print("the shader against its CPU reference, on RG1")
            s.execute("""
                const row = Array.from(document.querySelectorAll('tr[data-id]'))
                    .find(r => r.children[1].innerText.trim() === arguments[0]);
                row.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}));""", rg1_patient)
            s.wait("const o = window.__overread.opens; return o.length >= 3 && o.at(-1).full ? 1 : 0", 60, "RG1 opened")
            # The file's own window, a narrow one inside it, and one with
            # fractional centre and width.
            preset = s.execute("const g = window.__overread.opens.length && document.getElementById('window-readout').innerText; return g")
            w0 = int(preset.split("W ")[1].split(" ")[0])
            c0 = int(preset.split("C ")[1].split(" ")[0].split("\n")[0])
            for center, width in ((c0, w0), (c0, max(2, w0 // 8)), (c0 + 0.5, w0 / 3 + 0.25)):
                r = s.execute("return window.__overread.shaderCheck(arguments[0], arguments[1])", center, width)
                n = r["width"] * r["height"]
                integer = float(center).is_integer() and float(width).is_integer()
                ok = r["maxDiff"] == 0 if integer else r["maxDiff"] <= 1
                check(ok and n > 1_000_000 and r["graded"] > n // 20,
                      f"window C {center} W {width}: {r['exact']}/{n} pixels exact ({r['graded']} inside the window), "
                      f"max |Δ| {r['maxDiff']} grey level(s) ({'exact required' if integer else 'at most 1 allowed'})")

        print("a patient with priors: found and compared without asking")
        s.execute("""
            const row = Array.from(document.querySelectorAll('tr[data-id]'))
                .find(r => r.children[2].innerText.trim() === 'OVRPRI1013');
            row.dispatchEvent(new MouseEvent('dblclick', {bubbles: true}));""")
        priors = s.wait("return document.querySelectorAll('#priors .prior-link').length || null", 30, "the priors")
        check(priors == 2, f"the latest study of the patient lists its {priors} priors")
        line = s.wait("const e = document.querySelector('.finding .prior'); return e ? e.innerText : null", 10,
                      "the comparison with the newest prior")
        check(" now; " in line and " on 2025-" in line, f"finding compared with the newest prior: {line}")
        (out / "5c-priors.png").write_bytes(s.screenshot())

        print("comparison: the prior hangs beside the current study, synchronised")
        prior_id = s.execute("return document.querySelector('#priors .prior-link').dataset.id")
        s.wait(f"const p = window.__overread.pane; return p && p.id === '{prior_id}' && p.at > 0 ? 1 : 0", 30, "the prior drawn")
        s.wait("const o = window.__overread.opens.at(-1); return o && o.full ? 1 : 0", 30, "the current image drawn")
        time.sleep(0.3)
        dpr = s.execute("return window.devicePixelRatio || 1")
        main_rect, side_rect = s.rect("#image"), s.rect(".pane.companion canvas")
        check(side_rect["x"] + side_rect["width"] <= main_rect["x"] + 1,
              "the prior hangs to the left of the current study (the default side)")

        def halves():
            png = decode_png(s.screenshot())
            return stats(region(png, main_rect, dpr)), stats(region(png, side_rect, dpr))

        cur, pri = halves()
        check(cur["sd"] > 10 and pri["sd"] > 10,
              f"both images drawn: current mean {cur['mean']:.1f} sd {cur['sd']:.1f}, prior mean {pri['mean']:.1f} sd {pri['sd']:.1f}")
        cx, cy = main_rect["x"] + main_rect["width"] / 2, main_rect["y"] + main_rect["height"] / 2
        s.drag(cx, cy, 0, 120)
        time.sleep(0.3)
        cur2, pri2 = halves()
        check(abs(cur2["mean"] - cur["mean"]) > 3 and abs(pri2["mean"] - pri["mean"]) > 3,
              f"synchronised: a window drag on the current changes both (means {cur['mean']:.1f}→{cur2['mean']:.1f}, "
              f"{pri['mean']:.1f}→{pri2['mean']:.1f})")
        s.keys("z")
        s.drag(cx, cy, 0, 120)
        time.sleep(0.3)
        cur3, pri3 = halves()
        check(abs(cur3["mean"] - cur2["mean"]) > 3 and abs(pri3["mean"] - pri2["mean"]) < 0.5,
              f"not synchronised (z): the drag changes the current only (means {cur2['mean']:.1f}→{cur3['mean']:.1f}, "
              f"{pri2['mean']:.1f}→{pri3['mean']:.1f})")
        (out / "5d-comparison.png").write_bytes(s.screenshot())

        print("the whole study: the lateral beside the frontal, without AI")
        s.keys("q")
        lateral = s.wait("const p = document.querySelector('.pane.companion[data-kind=beside]'); "
                         "const n = p && p.querySelector('.no-ai'); return n ? n.innerText : null", 20, "the lateral beside")
        check("LL" in lateral and "intended use" in lateral, f"the lateral is shown without AI: {lateral}")
        thumbs = s.execute("return Array.from(document.querySelectorAll('#thumbs .thumb')).map(t => t.dataset.view + ':' + t.querySelector('.ai').innerText).join(' ')")
        check(thumbs == "PA:AI LAT:no AI", f"thumbnails with view labels: {thumbs}")
        s.keys("]")
        banner = s.wait("const n = document.querySelector('.pane.main .no-ai'); return n ? n.innerText : null", 20,
                        "the lateral in the main pane")
        check("LL" in banner, f"] steps to the lateral; no findings drawn on it: {banner}")
        (out / "5e-lateral.png").write_bytes(s.screenshot())
        s.keys("[")

        print("a folder dropped on the window joins the worklist (the drop handler's entry point)")
        dropped = work / "dropped"
        subprocess.run([str(cli), "demo", "generate", str(dropped), "--count", "1", "--size", "256", "--seed", "77"],
                       check=True, stdout=subprocess.DEVNULL)
        s.keys("\ue00c")  # Escape: back to the worklist
        before = s.execute("return document.querySelectorAll('tr[data-id]').length")
        s.execute("window.__overreadDrop([arguments[0]]).then(r => { window.__dropped = r; })", str(dropped))
        added = s.wait("return window.__dropped || null", 60, "the dropped folder scanned")
        check(len(added) == 1 and added[0]["studies"] == 1, f"the drop's scan: {added}")
        after = s.wait(f"const n = document.querySelectorAll('tr[data-id]').length; return n > {before} ? n : null",
                       30, "the dropped study on the worklist")
        check(after == before + 1, f"the dropped folder's study is on the worklist ({before} → {after} rows)")
        listed = s.execute("return Array.from(document.querySelectorAll('#local-sources .local-source')).map(e => e.dataset.path)")
        check(str(dropped) in listed, f"the folder is listed as a local source: {listed}")
        s.execute("document.querySelector(`#local-sources .local-source[data-path='${arguments[0]}'] .remove-source`).click()",
                  str(dropped))
        gone = s.wait(f"const n = document.querySelectorAll('tr[data-id]').length; return n === {before} ? n : null",
                      30, "the removed source's study gone")
        check(gone == before, "removing the source takes its study off the worklist")

        print("audit screen")
        s.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "kbd2", "actions": [
            {"type": "keyDown", "value": "\ue00a"}, {"type": "keyDown", "value": "3"},
            {"type": "keyUp", "value": "3"}, {"type": "keyUp", "value": "\ue00a"}]}]})
        s.cmd("DELETE", "/actions")
        status = s.wait("const e = document.getElementById('chain-status'); return e && e.innerText.includes('intact') ? e.innerText : null",
                        20, "chain verified on the audit screen")
        check("intact" in status, f"audit screen: {status}")
        (out / "6-audit.png").write_bytes(s.screenshot())

        print("export from the audit screen (the webview passes no path)")
        s.keys("e")
        exported = s.wait("const t = document.getElementById('status').innerText; return t.startsWith('Exported') ? t : null",
                          30, "the export")
        app_export = work / "app-export.csv"
        check(app_export.is_file() and str(app_export) in exported, f"audit screen: {exported}")
        if app_export.is_file():
            check(oct(app_export.stat().st_mode & 0o777) == "0o600", "the export is owner-only")

        print("governance on the audit screen, and its saved report in the window's own engine")
        s.click("#governance-show")
        shown = s.wait("const v = document.getElementById('governance-view'); return v ? v.innerText : null",
                       60, "the governance view")
        check("overread-demo-opacity" in shown, f"the governance view names the model: {shown[:160]!r}")
        cells = s.execute("return Array.from(document.querySelectorAll("
                          "'.governance-model tr[data-finding=\"opacity\"] td')).map(t => t.innerText.trim())")
        check(cells[2:4] == ["1", "1"], f"one opacity flag accepted and one rejected: {cells}")
        s.click("#governance-save")
        saved = s.wait("const t = document.getElementById('status').innerText; "
                       "return t.startsWith('Governance report') ? t : null", 60, "the report saved")
        report = work / "app-export.html"
        check(report.is_file() and str(report) in saved, f"governance report saved: {saved}")
        if report.is_file():
            check(oct(report.stat().st_mode & 0o777) == "0o600", "the governance report is owner-only")
            # Last in this session: the window leaves the app for the report.
            s.cmd("POST", "/url", {"url": report.as_uri()})
            drawn = s.wait("return document.querySelector('section.model[data-model]') ? "
                           "document.querySelector('section.model').dataset.model : null", 30, "the report drawn")
            check(drawn.startswith("overread-demo-opacity"), f"the report's model section: {drawn}")
            svgs = s.execute("return document.querySelectorAll('svg.histogram, svg.agreement-plot').length")
            check(svgs >= 2, f"the report's plots are drawn ({svgs} SVG plots)")
            (out / "7-governance-report.png").write_bytes(s.screenshot())

    print("audit log through the CLI")
    verify = subprocess.run([str(cli), "audit", "verify", "--db", str(audit_db)], capture_output=True, text=True)
    check(verify.returncode == 0, f"overread audit verify: {verify.stdout.strip() or verify.stderr.strip()}")
    export = out / "audit.csv"
    subprocess.run([str(cli), "audit", "export", "--db", str(audit_db), "-o", str(export)], check=True,
                   stdout=subprocess.DEVNULL)
    with open(export, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    kinds = [r["kind"] for r in rows]
    check(kinds.count("results_signed_off") == 1 and kinds.count("results_stored") == 1,
          "the sign-off and the stored results are audit rows")
    decisions = [r for r in rows if r["kind"] == "decision"]
    check(len(decisions) == 2, f"exactly two decisions in the log ({len(decisions)})")
    if len(decisions) == 2:
        c, d = decisions
        check(c["decision"] == "confirm" and d["decision"] == "dismiss", "confirm then dismiss")
        for r, patient in ((c, first_patient), (d, second_patient)):
            check(r["patient_id"] == patient, f"{r['decision']}: patient {r['patient_id']} is the one on screen")
            check(r["finding"] == "opacity" and r["ai_flagged"] in ("1", "true"), f"{r['decision']}: flagged opacity")
            login = next((v.strip() for v in (os.environ.get(k) for k in ("USER", "LOGNAME", "USERNAME"))
                          if v and v.strip()), "reader")
            check(r["reader_id"] == login and r["workstation_id"] == "e2e-workstation", f"{r['decision']}: reader and workstation")
            check(r["model_name"] == "overread-demo-opacity" and len(r["model_sha256"]) == 64, f"{r['decision']}: model and checksum")
            check(r["execution_provider"] != "" and float(r["ai_score"]) >= float(r["threshold"]), f"{r['decision']}: EP {r['execution_provider']}, score ≥ threshold")
            check(r["display_to_decision_ms"] != "", f"{r['decision']}: time to decision recorded")
    kinds = {r["kind"] for r in rows}
    for k in ("application_start", "inference_run", "study_opened", "audit_log_used"):
        check(k in kinds, f"{k} events recorded")

    print("a broken audit log: the window says what is wrong and how to fix it")
    broken = work / "broken.sqlite3"
    broken.write_bytes(b"this is not an SQLite database, it was damaged" * 100)
    broken_env = dict(env, OVERREAD_AUDIT_DB=str(broken))
    with Harness(app, broken_env, out / "webdriver-startup.log") as s:
        shown = s.wait("const e = document.getElementById('startup-problem'); return e ? e.innerText : null",
                       60, "the startup problem window")
        lines = [line for line in shown.splitlines() if line.strip()]
        check("cannot start" in shown and "audit" in shown.lower(), f"startup window: {lines[1] if len(lines) > 1 else shown}")
        check("IT team" in shown, "it says what to do")
        time.sleep(1.0)  # let it paint before the screenshot
        png = s.screenshot()
        (out / "7-startup-problem.png").write_bytes(png)
        box = stats(region(decode_png(png), s.rect("#startup-problem"), s.execute("return window.devicePixelRatio || 1")))
        check(box["sd"] > 5, f"the window shows it on screen (contrast sd {box['sd']:.0f})")
    check(broken.read_bytes().startswith(b"this is not"), "the broken log is left as it was")

    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if check.failures:
        print(f"e2e: {len(check.failures)} check(s) failed; screenshots in {out}")
        return 1
    print(f"e2e: all checks passed; screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
