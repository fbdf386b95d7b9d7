#!/usr/bin/env python3
"""The Debian package, as a hospital's IT team would meet it:

1. lintian: no errors (any warning printed; the overrides, each with its
   reason, are in packaging/lintian-overrides);
2. its dependencies resolve on this Debian 12 (`apt-get install --simulate ./overread_*.deb`);
3. installed with dpkg into a throw-away root (this machine's own dpkg
   database is not touched), `overread --version` and `overread infer` with
   the bundled ONNX Runtime and demonstration model;
4. the installed app, under Xvfb through WebKitWebDriver, with a fresh home:
   the first-run screen refuses a bad PACS configuration with its reason,
   tests a PACS that does not answer, then reaches a triaged worklist from a
   local folder; started again with machine-wide settings that lock the
   model and read-first, Settings shows them locked and the core refuses a
   change; a second fresh home tries the demo in one click.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from webdriver import Harness  # noqa: E402


def run(cmd, **kw):
    print("$ " + " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, text=True, capture_output=True, **kw)


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}", flush=True)


def lintian(deb):
    r = subprocess.run(["lintian", "--no-tag-display-limit", "--display-level", ">=warning", str(deb)],
                       text=True, capture_output=True)
    tags = [line for line in r.stdout.splitlines() if line[:2] in ("E:", "W:")]
    for t in tags:
        print("  lintian " + t)
    errors = [t for t in tags if t.startswith("E:")]
    check(not errors, f"lintian: no errors ({len(tags)} warnings)")


def install(deb, root):
    admin = root / "var/lib/dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").write_text("")
    # The dependencies are this machine's (checked by apt above), not the
    # throw-away root's, so dpkg is told not to look for them there.
    run(["dpkg", f"--root={root}", f"--admindir={admin}", "--force-depends", "--force-not-root",
         "--force-script-chrootless", "--log=/dev/null", "-i", deb])
    listed = run(["dpkg", f"--admindir={admin}", "-L", "overread"]).stdout.split()
    for path in ["/usr/bin/overread-app", "/usr/bin/overread", "/usr/lib/overread/models/demo/manifest.toml",
                 "/usr/share/applications/Overread.desktop", "/usr/share/man/man1/overread.1.gz",
                 "/usr/share/doc/overread/copyright"]:
        check(path in listed, f"installed {path}")
    check(any(p.startswith("/usr/lib/overread/libonnxruntime.so") for p in listed), "installed ONNX Runtime")


def clean_env(home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OVERREAD_", "XDG_")) and k not in ("ORT_DYLIB_PATH",)}
    env.update({"HOME": str(home), "USER": "ann", "OVERREAD_WORKSTATION": "package-test",
                # This machine's /etc is not the test's: an absent file here,
                # a file of the test's own in the second session.
                "OVERREAD_MACHINE_SETTINGS": str(home / "no-machine-settings.json")})
    return env


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ROWS = "return document.querySelectorAll('tr[data-id]').length"
TRIAGED = ("const t = document.getElementById('triage-progress');"
           "return t && /done|idle/.test(t.innerText) ? t.innerText : null")


def first_run(app, cli, work):
    home = work / "home-ann"
    home.mkdir()
    env = clean_env(home)
    studies = work / "studies"
    run([cli, "demo", "generate", studies, "--count", "3", "--size", "256"], env=env)
    bad = work / "bad-pacs.toml"
    bad.write_text("[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\n")
    down = work / "down-pacs.toml"
    down.write_text(f"[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:{closed_port()}/dicom-web\"\n"
                    "[source.timeouts]\nconnect_s = 2\noverall_s = 5\n")
    with Harness(app, env, work / "webdriver-first.log") as s:
        s.wait("return document.getElementById('setup') ? 1 : 0", 60, "the set-up screen")
        check(s.execute("return document.getElementById('setup-reader-id').value") == "ann",
              "the reader defaults to the operating-system user")
        model = s.execute("return document.getElementById('setup-model').selectedOptions[0].innerText")
        check("demonstration, not for clinical use" in model, f"the bundled model is labelled: {model}")
        s.type("#setup-pacs", str(bad))
        s.click("#setup-finish")
        error = s.wait("const e = document.getElementById('setup-error'); return e && e.innerText", 30, "the refusal")
        check("PACS configuration" in error and str(bad) in error, f"a bad PACS configuration is refused: {error}")
        s.type("#setup-pacs", str(down))
        s.click("#setup-test-pacs")
        answer = s.wait("const e = document.getElementById('setup-pacs-checks'); return e && e.innerText", 30,
                        "the connection test")
        check("✗" in answer and "cannot connect" in answer, f"a PACS that does not answer says why: {answer}")
        s.type("#setup-pacs", "")
        s.type("#setup-sources", str(studies))
        s.click("#setup-finish")
        s.wait(ROWS, 60, "the worklist after set-up")
        progress = s.wait(TRIAGED, 120, "triage with the bundled model")
        triaged = s.wait("return document.querySelectorAll('tr[data-id] .pill.flagged, tr[data-id] .pill.no_flags').length"
                         " === 3 ? 3 : 0", 60, "every row's AI result")
        check(s.execute(ROWS) == 3 and triaged == 3,
              f"the folder's three studies triaged by the bundled model ({progress.strip()})")
    saved = json.loads((home / ".config/overread/settings.json").read_text())
    check(saved["sources"] == [str(studies)] and saved["pacs_config"] is None, f"the choices saved: {saved}")
    check((home / ".local/share/overread/audit.sqlite3").is_file(), "the audit log in the XDG data folder")
    verify = run([cli, "audit", "verify", "--db", home / ".local/share/overread/audit.sqlite3"], env=env)
    check("intact" in verify.stdout or verify.returncode == 0, "the first run's audit rows verify")
    return home, env, saved


def machine_locks(app, work, home, env, saved):
    machine = work / "machine-settings.json"
    machine.write_text(json.dumps({"model_dir": saved["model_dir"], "read_first": True,
                                   "locked": ["model_dir", "read_first"]}))
    env = dict(env, OVERREAD_MACHINE_SETTINGS=str(machine))
    with Harness(app, env, work / "webdriver-locks.log") as s:
        s.wait(ROWS, 60, "the worklist, straight away: this reader is set up")
        s.click("#tab-settings")
        s.wait("return document.getElementById('model-choice') ? 1 : 0", 30, "Settings")
        locked = s.wait("const l = document.querySelectorAll('.locked[data-key]');"
                        "return l.length ? Array.from(l).map(x => x.dataset.key) : null", 30, "the locks")
        check(sorted(locked) == ["model_dir", "read_first"], f"Settings shows the locks: {locked}")
        check(s.execute("return document.getElementById('model-choice').disabled") is True, "the model cannot be picked")
        result = s.execute_async("""
            const done = arguments[arguments.length - 1];
            const invoke = window.__TAURI_INTERNALS__.invoke;
            invoke('get_settings').then(s => {
              if (!s.read_first) return done('read-first not enforced');
              return invoke('save_settings', {settings: {...s, read_first: false}})
                .then(() => done('saved'), e => done(e.message));
            });""")
        check("read_first is set by this machine's administrator" in result, f"the core refuses a locked change: {result}")


def demo(app, work):
    home = work / "home-bob"
    home.mkdir()
    env = dict(clean_env(home), USER="bob")
    with Harness(app, env, work / "webdriver-demo.log") as s:
        s.wait("return document.getElementById('setup-demo') ? 1 : 0", 60, "the set-up screen's demo button")
        s.click("#setup-demo")
        n = s.wait(ROWS, 120, "the demo worklist")
        check(n >= 12, f"the demo worklist in one click ({n} studies)")
    check(not (home / ".config/overread/settings.json").exists(), "the demo saves no settings: the next start asks again")
    check((home / ".local/share/overread/demo/audit.sqlite3").is_file(), "demo decisions go to a log of their own")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deb", required=True)
    ap.add_argument("--artefacts", default="target/package-test")
    args = ap.parse_args()
    deb = Path(args.deb).resolve()
    artefacts = Path(args.artefacts)
    shutil.rmtree(artefacts, ignore_errors=True)
    artefacts.mkdir(parents=True)
    lintian(deb)
    sim = run(["apt-get", "install", "--simulate", "--no-install-recommends", deb])
    check("Inst overread" in sim.stdout, "apt would install it with its dependencies on this Debian 12")
    with tempfile.TemporaryDirectory(prefix="overread-root-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        install(deb, root)
        app, cli = root / "usr/bin/overread-app", root / "usr/bin/overread"
        env = clean_env(Path(tmp))
        version = run([cli, "--version"], env=env).stdout.strip()
        check(version.startswith("overread 0."), f"the installed overread --version: {version}")
        check(run([app, "--version"], env=env).stdout.startswith("overread-app "), "the installed overread-app --version")
        phantom = Path(tmp) / "one"
        run([cli, "demo", "generate", phantom, "--count", "1", "--size", "256"], env=env)
        out = run([cli, "infer", phantom, "--model", root / "usr/lib/overread/models/demo", "--json"], env=env).stdout
        result = json.loads(out.splitlines()[0])
        check(result.get("ep") == "cpu" and result.get("findings"),
              "the installed CLI infers with the bundled ONNX Runtime and model")
        work = Path(tmp) / "work"
        work.mkdir()
        try:
            home, env, saved = first_run(app, cli, work)
            machine_locks(app, work, home, env, saved)
            demo(app, work)
        finally:
            for log in work.glob("webdriver-*.log"):
                shutil.copy(log, artefacts / log.name)
    print("package test: all passed")


if __name__ == "__main__":
    main()
