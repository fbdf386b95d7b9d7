#!/usr/bin/env python3
"""PACS retrieve benchmark (a command, not a test).

Retrieves the RG1 study from one local Orthanc four ways, side by side in
one run: Overread over WADO-RS and over C-GET, curl over WADO-RS and dcmtk's
getscu over C-GET (plus curl followed by an fsync of its file, for
reference: Overread makes every instance durable before it counts). Each retrieve is a fresh process writing to a fresh
folder; rounds are interleaved (order rotated) so machine noise falls on all
four alike. Prints the median wall time of each and its ratio to the faster
anchor, for RG1 stored in each syntax radiographs use (getscu only for the
uncompressed one: Orthanc without its GDCM plugin cannot transcode into the
syntax getscu proposes), then one summary table of Overread WADO-RS ÷ curl
per syntax. Overread proves each instance whole as it arrives
(`Instance::check_complete`: a JPEG 2000 codestream walked to its end with
every packet header read), it does not decode it.

usage: pacs.py OVERREAD_BINARY CORPUS_DIR [ROUNDS]
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Orthanc:
    def __init__(self, work):
        self.http, self.dicom = free_port(), free_port()
        config = {
            "Name": "OverreadBench",
            "StorageDirectory": os.path.join(work, "storage"),
            "IndexDirectory": os.path.join(work, "index"),
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "HttpPort": self.http,
            "DicomPort": self.dicom,
            "DicomAet": "ORTHANC",
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "SaveJobs": False,
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        }
        path = os.path.join(work, "orthanc.json")
        with open(path, "w") as f:
            json.dump(config, f)
        binary = next(p for p in ("/usr/sbin/Orthanc", "/usr/bin/Orthanc") if os.path.exists(p))
        self.log = open(os.path.join(work, "orthanc.log"), "w")
        self.proc = subprocess.Popen([binary, path], stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 30
        while True:
            try:
                self.get("/system")
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("Orthanc did not start")
                time.sleep(0.1)

    def url(self, path):
        return f"http://127.0.0.1:{self.http}{path}"

    def get(self, path):
        with urllib.request.urlopen(self.url(path), timeout=10) as r:
            return json.load(r)

    def upload(self, file):
        with open(file, "rb") as f:
            req = urllib.request.Request(self.url("/instances"), data=f.read(), method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            answer = json.load(r)
        study = self.get(f"/studies/{answer['ParentStudy']}")
        return answer["ParentStudy"], study["MainDicomTags"]["StudyInstanceUID"]

    def delete(self, orthanc_id):
        req = urllib.request.Request(self.url(f"/studies/{orthanc_id}"), method="DELETE")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(cmd, out_dir):
    """Wall time of one retrieve in ms; the bytes it wrote."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    written = sum(
        os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(out_dir) for f in files
    )
    return ms, written


def bench(overread, orthanc, work, label, file, prefer, rounds, dimse=True):
    """Prints one syntax's table; returns (Overread WADO-RS, curl) medians in ms."""
    orthanc_id, uid = orthanc.upload(file)
    cfg = os.path.join(work, "pacs.toml")
    with open(cfg, "w") as f:
        f.write(
            f'[[source]]\nname = "web"\nkind = "dicomweb"\nurl = "{orthanc.url("/dicom-web")}"\n'
            f'[[source]]\nname = "dimse"\nkind = "dimse"\nhost = "127.0.0.1"\nport = {orthanc.dicom}\n'
            f'called_ae = "ORTHANC"\n'
        )
    out = os.path.join(work, "out")
    accept = 'Accept: multipart/related; type="application/dicom"; transfer-syntax=*'
    cmds = {
        "Overread WADO-RS": [overread, "pacs", "--config", cfg, "--source", "web", "retrieve",
                             "--cache", out, uid],
        "Overread C-GET": [overread, "pacs", "--config", cfg, "--source", "dimse", "retrieve",
                           "--cache", out, uid],
        "curl WADO-RS": ["curl", "-sf", "-H", accept, orthanc.url(f"/dicom-web/studies/{uid}"),
                         "-o", os.path.join(out, "study.multipart")],
        # Not an anchor: curl's file made durable as Overread's is (fsync).
        "curl + fsync": ["sh", "-c", f'curl -sf -H \'{accept}\' "$1" -o "$2" && sync "$2"', "sh",
                         orthanc.url(f"/dicom-web/studies/{uid}"),
                         os.path.join(out, "study.multipart")],
        "getscu C-GET": ["getscu", "-S", "-aet", "OVERREAD", "-aec", "ORTHANC",
                         "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={uid}",
                         prefer or "+xe", "-od", out, "127.0.0.1", str(orthanc.dicom)],
    }
    if prefer is None:
        del cmds["getscu C-GET"]
    if not dimse:
        del cmds["Overread C-GET"]
    times = {k: [] for k in cmds}
    sizes = {}
    names = list(cmds)
    for r in range(rounds + 2):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            ms, written = run(cmds[name], out)
            sizes[name] = written
            if r >= 2:  # two warm-up rounds
                times[name].append(ms)
    orthanc.delete(orthanc_id)
    # getscu proposes one presentation context per SOP class; Orthanc 1.10
    # accepts its uncompressed syntax and, without the GDCM plugin, cannot
    # transcode JPEG 2000 into it: getscu then stores nothing.
    med = {k: statistics.median(v) for k, v in times.items() if sizes[k] > 0}
    anchor = min(v for k, v in med.items() if k in ("curl WADO-RS", "getscu C-GET"))
    names = list(cmds) + [k for k in ("Overread C-GET", "getscu C-GET") if k not in cmds]
    print(f"\nRG1 stored {label} ({os.path.getsize(file) / 1e6:.1f} MB), median of {rounds} rounds")
    same = {"Overread WADO-RS": "curl WADO-RS", "Overread C-GET": "getscu C-GET"}
    print(f"| {'retrieve':<18} | {'ms':>7} | {'bytes written':>13} | {'÷ faster anchor':>15} "
          f"| {'÷ same protocol':>15} |")
    print(f"|{'-' * 20}|{'-' * 9}|{'-' * 15}|{'-' * 17}|{'-' * 17}|")
    for k in names:
        if k not in med:
            print(f"| {k:<18} | {'n/a':>7} | {0:>13} | {'n/a':>15} | {'':>15} |")
            continue
        other = same.get(k)
        vs = f"{med[k] / med[other]:>14.2f}×" if other in med else f"{'':>15}"
        print(f"| {k:<18} | {med[k]:>7.1f} | {sizes[k]:>13} | {med[k] / anchor:>14.2f}× | {vs} |")
    return med["Overread WADO-RS"], med["curl WADO-RS"]


# RG1 in each syntax (tests/corpus/setup.sh), with getscu's preferred syntax
# where Orthanc can answer it.
# Orthanc 1.10 predates HTJ2K's syntaxes: it serves HTJ2K over WADO-RS as
# stored, not over DIMSE.
SYNTAXES = [
    ("uncompressed", "pydicom-data/RG1_UNCR.dcm", "+xe", True),
    ("as JPEG lossless (SV1)", "rg1/RG1_jpeg_lossless_sv1.dcm", None, True),
    ("as 12-bit JPEG", "rg1/RG1_jpeg_extended_12bit.dcm", None, True),
    ("as JPEG-LS lossless", "rg1/RG1_jpegls_lossless.dcm", None, True),
    ("as JPEG 2000 lossless", "pydicom-data/RG1_J2KR.dcm", None, True),
    ("as JPEG 2000 lossy", "pydicom-data/RG1_J2KI.dcm", None, True),
    ("as HTJ2K lossless", "rg1/RG1_htj2k_lossless.dcm", None, False),
]


def main():
    overread, corpus = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    for tool in ("curl", "getscu"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed: run scripts/setup.sh")
    summary = []
    with tempfile.TemporaryDirectory() as work:
        orthanc = Orthanc(work)
        try:
            for label, rel, prefer, dimse in SYNTAXES:
                ours, curl = bench(overread, orthanc, work, label, os.path.join(corpus, rel),
                                   prefer, rounds, dimse)
                summary.append((label, ours, curl))
        finally:
            orthanc.stop()
    print(f"\nWADO-RS retrieve of RG1 by syntax, median of {rounds} rounds (goal for JPEG 2000: ≤ 2× curl)")
    print("| stored | Overread (ms) | curl (ms) | Overread ÷ curl |")
    print("|---|---:|---:|---:|")
    for label, ours, curl in summary:
        print(f"| {label} | {ours:.1f} | {curl:.1f} | {ours / curl:.2f}× |")


if __name__ == "__main__":
    main()
