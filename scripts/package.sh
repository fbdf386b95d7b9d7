#!/usr/bin/env bash
# Builds Overread's Debian package with Tauri's bundler (the `deb` target in
# tauri.conf.json): the app, the `overread` command line, ONNX Runtime's
# library from the wheel (with its licence) and the demonstration model in
# /usr/lib/overread, manual pages made from --help, the desktop entry and
# icons, and Depends as dpkg-shlibdeps finds them. The binaries are then
# stripped, as Debian's dh_strip would.
# Usage: scripts/package.sh [--debug]   → target/package/<profile>/overread_<version>_amd64.deb
# Install: apt install ./target/package/release/overread_*.deb
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
profile=release
cargo_args=(--release)
tauri_args=()
if [ "${1:-}" = "--debug" ]; then
    profile=debug
    cargo_args=()
    tauri_args=(--debug)
fi
[ -n "${OVERREAD_SETUP_DONE:-}" ] || bash scripts/setup.sh
source "$root/scripts/env.sh"

echo "== package: building ($profile)"
(cd ui && npx vite build --logLevel warn)
cargo build --locked "${cargo_args[@]}" -p overread-app -p overread-cli --features overread-app/custom-protocol
bin="$root/target/$profile"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' tauri.conf.json)
stage="$root/target/package/$profile"
rm -rf "$stage"
mkdir -p "$stage/man" "$stage/shlibs/debian"

echo "== package: manual pages, licences, dependencies"
strip --strip-unneeded -o "$stage/overread" "$bin/overread"
help2man --no-info --section 1 --version-string "$version" \
    --name "review AI findings on chest X-rays from the command line" \
    "$stage/overread" | gzip -9n > "$stage/man/overread.1.gz"
help2man --no-info --section 1 --version-string "$version" \
    --name "review AI findings on chest X-rays (the desktop app)" \
    "$bin/overread-app" | gzip -9n > "$stage/man/overread-app.1.gz"
ort="$ORT_DYLIB_PATH"
ort_pkg=$(cd "$(dirname "$ort")/.." && pwd)
# The copyright file (machine-readable, DEP-5): ours, ONNX Runtime's, and
# the licences of the Rust crates linked in (listed beside it).
{
    cat <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Overread
Comment: The Rust crates linked into the programs, with their licences, are
 listed in /usr/share/doc/overread/crates.txt; cargo deny allows only
 permissive licences (deny.toml). ONNX Runtime's notices for the
 libraries it includes are in /usr/share/doc/overread/onnxruntime/.

Files: *
Copyright: 2025-2026 Overread developers
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.

Files: usr/lib/overread/libonnxruntime.so.*
Copyright: Microsoft Corporation
License: MIT
EOF
    sed -e 's/^$/./' -e 's/^/ /' "$ort_pkg/LICENSE"
} > "$stage/copyright"
gzip -9nc packaging/changelog > "$stage/changelog.gz"
sed "s/libonnxruntime\.so\.\*/$(basename "$ort")/" packaging/lintian-overrides > "$stage/lintian-overrides"
cargo tree --locked -e normal -p overread-app -p overread-cli --prefix none -f '{p} {l}' \
    | grep -v '^overread-' | sed 's/ (\*)$//; s/ (proc-macro)//' | sort -u > "$stage/crates.txt"
printf 'Source: overread\n\nPackage: overread\nArchitecture: any\n' > "$stage/shlibs/debian/control"
depends=$(cd "$stage/shlibs" && dpkg-shlibdeps -O -e"$bin/overread-app" -e"$stage/overread" -e"$ort" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

# What the bundler adds to tauri.conf.json's deb section for this build.
python3 - "$stage" "$root" "$ort" "$ort_pkg" "$depends" <<'EOF'
import json, os, sys
stage, root, ort, ort_pkg, depends = sys.argv[1:]
files = {
    "/usr/bin/overread": f"{stage}/overread",
    f"/usr/lib/overread/{os.path.basename(ort)}": ort,
    "/usr/share/doc/overread/copyright": f"{stage}/copyright",
    "/usr/share/doc/overread/crates.txt": f"{stage}/crates.txt",
    "/usr/share/doc/overread/onnxruntime/ThirdPartyNotices.txt": f"{ort_pkg}/ThirdPartyNotices.txt",
    "/usr/share/man/man1/overread.1.gz": f"{stage}/man/overread.1.gz",
    "/usr/share/man/man1/overread-app.1.gz": f"{stage}/man/overread-app.1.gz",
    "/usr/share/doc/overread/examples/settings.json": f"{root}/packaging/settings.example.json",
    "/usr/share/doc/overread/changelog.gz": f"{stage}/changelog.gz",
    "/usr/share/lintian/overrides/overread": f"{stage}/lintian-overrides",
}
for name in sorted(os.listdir(f"{root}/models/demo")):
    files[f"/usr/lib/overread/models/demo/{name}"] = f"{root}/models/demo/{name}"
deps = [d.strip() for d in depends.split(",") if d.strip()]
overlay = {"bundle": {"linux": {"deb": {"depends": deps, "files": files}}}}
json.dump(overlay, open(f"{stage}/overlay.json", "w"), indent=2)
EOF

echo "== package: Tauri's bundler"
(cd ui && TAURI_APP_PATH="$root/src-tauri" CI=true npx tauri bundle "${tauri_args[@]}" \
    --bundles deb --config "$stage/overlay.json")
tree=$(ls -d "$bin"/bundle/deb/*_"$version"_amd64 | head -n 1)

echo "== package: stripped and sealed"
# The bundler copies the app as built; strip it (and any ELF file) as
# dh_strip does, then write md5sums and Installed-Size again.
pkg="$stage/root"
mkdir -p "$pkg/DEBIAN"
cp -a "$tree/data/." "$pkg/"
# The bundler adds its own unversioned WebKitGTK and GTK to Depends; the
# versioned ones dpkg-shlibdeps found are kept.
python3 - "$tree/control/control" "$pkg/DEBIAN/control" <<'EOF'
import sys
out = []
for line in open(sys.argv[1]).read().splitlines():
    if line.startswith("Depends: "):
        deps = [d.strip() for d in line[len("Depends: "):].split(",")]
        named = {d.split(" ")[0] for d in deps if " (" in d}
        deps = [d for i, d in enumerate(deps) if d not in deps[:i] and not (" (" not in d and d in named)]
        line = "Depends: " + ", ".join(deps)
    out.append(line)
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOF
find "$pkg/usr" -type f | while read -r f; do
    if file -b "$f" | grep -q '^ELF'; then
        strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
        chmod 0644 "$f"
        case "$f" in */usr/bin/*) chmod 0755 "$f" ;; esac
    fi
done
find "$pkg" -type d -exec chmod 0755 {} +
(cd "$pkg" && find usr -type f -print0 | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -i "s/^Installed-Size: .*/Installed-Size: $size/" "$pkg/DEBIAN/control"
deb="$stage/overread_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "package: $deb ($(du -h "$deb" | cut -f1))"
