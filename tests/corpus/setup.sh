#!/usr/bin/env bash
# Builds the test corpus under .cache/corpus (outside git): the pydicom and
# pydicom-data sample files, RG1 (a real public chest radiograph) transcoded
# into every transfer syntax with dcmtk and GDCM, and pydicom's decoded
# values for each file as the reference. Idempotent: a finished corpus is
# kept unless its inputs changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="$root/.cache"
corpus="$cache/corpus"
venv="$cache/venv"
stamp="$corpus/.complete"
inputs_hash=$(cat "$root/tests/corpus/requirements.txt" "$root/tests/corpus/setup.sh" "$root/tests/corpus/reference.py" | sha256sum | cut -c1-16)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs_hash" ]; then
    echo "corpus: up to date in $corpus"
    exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/corpus/requirements.txt"
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

rm -rf "$corpus"
mkdir -p "$corpus/rg1"
cp -r "$site/pydicom/data/test_files" "$corpus/pydicom"
cp -r "$site/data_store/data" "$corpus/pydicom-data"

# RG1 into every syntax radiographs use (PS3.5 Annex A).
src="$corpus/pydicom-data/RG1_UNCR.dcm"
rg1="$corpus/rg1"
cp "$src" "$rg1/RG1_explicit_le.dcm"
dcmconv +ti "$src" "$rg1/RG1_implicit_le.dcm"
dcmconv +tb "$src" "$rg1/RG1_explicit_be.dcm"
dcmconv +td "$src" "$rg1/RG1_deflated.dcm"
dcmcrle "$src" "$rg1/RG1_rle.dcm"
dcmcjpeg +e1 "$src" "$rg1/RG1_jpeg_lossless_sv1.dcm"
dcmcjpeg +el "$src" "$rg1/RG1_jpeg_lossless_p14.dcm"
dcmcjpeg +ee "$src" "$rg1/RG1_jpeg_extended_12bit.dcm"
dcmcjpls +el "$src" "$rg1/RG1_jpegls_lossless.dcm"
dcmcjpls +en +md 2 "$src" "$rg1/RG1_jpegls_near_lossless.dcm"
gdcmconv --j2k "$src" "$rg1/RG1_j2k_lossless.dcm"
cp "$corpus/pydicom-data/RG1_J2KI.dcm" "$rg1/RG1_j2k_lossy.dcm"
# An 8-bit version for JPEG baseline (which only holds 8-bit samples).
"$venv/bin/python" "$root/tests/corpus/reference.py" eight-bit "$src" "$rg1/RG1_8bit.dcm"
dcmcjpeg +eb "$rg1/RG1_8bit.dcm" "$rg1/RG1_jpeg_baseline_8bit.dcm" 2>/dev/null

"$venv/bin/python" "$root/tests/corpus/reference.py" reference "$corpus"
echo "$inputs_hash" > "$stamp"
echo "corpus: ready in $corpus"
