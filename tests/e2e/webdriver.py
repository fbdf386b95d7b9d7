"""A minimal W3C WebDriver client (standard library only) for driving the
real Overread window through WebKitWebDriver, plus a PNG decoder for pixel
statistics of screenshots."""

import base64
import json
import struct
import time
import urllib.error
import urllib.request
import zlib

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(RuntimeError):
    pass


class Session:
    def __init__(self, url, capabilities, timeout=60):
        self.url = url.rstrip("/")
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self._call("POST", "/session", {"capabilities": capabilities})
                break
            except (urllib.error.URLError, ConnectionError) as e:
                if time.monotonic() > deadline:
                    raise WebDriverError(f"WebDriver did not start: {e}")
                time.sleep(0.2)
        self.id = value["sessionId"]

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                payload = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise WebDriverError(f"{method} {path}: {e.code} {detail[:500]}")
        return payload.get("value")

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.id}{path}", body)

    def execute(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def execute_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, css):
        self.cmd("POST", f"/element/{self.find(css)}/click", {})

    def type(self, css, text):
        """Replaces an input's value by typing `text` into it."""
        el = self.find(css)
        self.cmd("POST", f"/element/{el}/clear", {})
        if text:
            self.cmd("POST", f"/element/{el}/value", {"text": text})
        else:
            # Clearing fires no input event; the page must hear of it.
            self.execute("arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", {ELEMENT: el})

    def rect(self, css):
        return self.cmd("GET", f"/element/{self.find(css)}/rect")

    def keys(self, text):
        """Types `text` as key presses to the focused element (the page)."""
        actions = []
        for ch in text:
            actions += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "kbd", "actions": actions}]})
        self.cmd("DELETE", "/actions")

    def drag(self, x, y, dx, dy, steps=10):
        acts = [{"type": "pointerMove", "x": int(x), "y": int(y), "origin": "viewport"},
                {"type": "pointerDown", "button": 0}]
        for i in range(1, steps + 1):
            acts.append({"type": "pointerMove", "duration": 16, "origin": "viewport",
                         "x": int(x + dx * i / steps), "y": int(y + dy * i / steps)})
        acts.append({"type": "pointerUp", "button": 0})
        self.cmd("POST", "/actions", {"actions": [{"type": "pointer", "id": "mouse",
                                                   "parameters": {"pointerType": "mouse"},
                                                   "actions": acts}]})
        self.cmd("DELETE", "/actions")

    def screenshot(self):
        return base64.b64decode(self.cmd("GET", "/screenshot"))

    def wait(self, script, timeout=60, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            value = self.execute(script)
            if value:
                return value
            if time.monotonic() > deadline:
                raise WebDriverError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def close(self):
        try:
            self.cmd("DELETE", "")
        except WebDriverError:
            pass


def decode_png(data):
    """Returns (width, height, channels, rows) for 8-bit RGB/RGBA PNGs."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def region(png, rect, scale=1.0, step=2):
    """Pixels (r, g, b) inside rect (CSS pixels × scale), every `step` pixels."""
    w, h, ch, rows = png
    x0, y0 = int(rect["x"] * scale), int(rect["y"] * scale)
    x1 = min(w, int((rect["x"] + rect["width"]) * scale))
    y1 = min(h, int((rect["y"] + rect["height"]) * scale))
    out = []
    for y in range(max(0, y0), y1, step):
        row = rows[y]
        for x in range(max(0, x0), x1, step):
            o = x * ch
            out.append((row[o], row[o + 1], row[o + 2]))
    return out


def stats(pixels):
    lum = [(r + g + b) / 3 for r, g, b in pixels]
    n = max(1, len(lum))
    mean = sum(lum) / n
    sd = (sum((v - mean) ** 2 for v in lum) / n) ** 0.5
    coloured = sum(1 for r, g, b in pixels if max(r, g, b) - min(r, g, b) > 40)
    return {"mean": mean, "sd": sd, "coloured": coloured / n, "n": n}


class Harness:
    """Xvfb + WebKitWebDriver + a session on `app`, stopped on exit."""

    def __init__(self, app, env, log_path, size="1440x900x24"):
        self.app, self.env, self.log_path, self.size = app, dict(env), log_path, size
        self.procs, self.session = [], None

    def __enter__(self):
        import os
        import socket
        import subprocess
        from pathlib import Path

        display = next(n for n in range(90, 200)
                       if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists())
        self.env["DISPLAY"] = f":{display}"
        self.env.setdefault("TAURI_WEBVIEW_AUTOMATION", "true")
        self.env.setdefault("NO_AT_BRIDGE", "1")
        self.procs.append(subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", self.size, "-nolisten", "tcp"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(200):
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                break
            time.sleep(0.05)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = open(self.log_path, "w")
        self.procs.append(subprocess.Popen(["WebKitWebDriver", f"--port={port}"], env=self.env,
                                           stdout=log, stderr=subprocess.STDOUT))
        caps = {"alwaysMatch": {"webkitgtk:browserOptions": {"binary": os.fspath(self.app), "args": []}}}
        self.session = Session(f"http://127.0.0.1:{port}", caps)
        return self.session

    def __exit__(self, *exc):
        import subprocess

        if self.session:
            self.session.close()
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        return False
