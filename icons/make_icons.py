#!/usr/bin/env python3
"""Draws Overread's icons (two lung fields, one highlighted finding) as RGBA
PNGs with the standard library only. Run from the repository root:
python3 icons/make_icons.py"""
import struct
import zlib


def png(path, n):
    rows = []
    for y in range(n):
        row = bytearray([0])
        for x in range(n):
            u = (x + 0.5) / n * 2 - 1
            v = (y + 0.5) / n * 2 - 1
            r, g, b, a = 18, 22, 28, 255
            if max(abs(u), abs(v)) > 0.94:
                a = 0
            for cx in (-0.38, 0.38):  # lung fields
                d = ((u - cx) / 0.30) ** 2 + ((v - 0.05) / 0.62) ** 2
                if d < 1:
                    r, g, b = 70 + int(60 * (1 - d)), 80 + int(60 * (1 - d)), 92 + int(60 * (1 - d))
            if (u - 0.38) ** 2 + (v + 0.15) ** 2 < 0.11 ** 2:  # the finding
                r, g, b = 255, 176, 32
            row += bytes([r, g, b, a])
        rows.append(bytes(row))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(data)


for name, n in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    png("icons/" + name, n)
