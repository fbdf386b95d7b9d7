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
# High-Throughput JPEG 2000 (Part 15), written by OpenJPH's ojph_compress.
"$venv/bin/python" "$root/tests/corpus/reference.py" htj2k "$src" "$rg1/RG1_htj2k_lossless.dcm" lossless
"$venv/bin/python" "$root/tests/corpus/reference.py" htj2k "$src" "$rg1/RG1_htj2k_lossy.dcm" lossy
# An 8-bit version for JPEG baseline (which only holds 8-bit samples).
"$venv/bin/python" "$root/tests/corpus/reference.py" eight-bit "$src" "$rg1/RG1_8bit.dcm"
dcmcjpeg +eb "$rg1/RG1_8bit.dcm" "$rg1/RG1_jpeg_baseline_8bit.dcm" 2>/dev/null

# Fragmented variants of every codec (#12): a frame split over 64 KiB
# fragments with an empty offset table, as the WG-04 set stores MR1_JLSL;
# multi-frame ones (1 KiB fragments) whose frames are found by their markers.
frag="$corpus/fragmented"
mkdir -p "$frag"
dcmcjpls +el +fs 64 -ot "$src" "$frag/RG1_jpegls_lossless_64k.dcm"
dcmcjpls +en +md 2 +fs 64 -ot "$src" "$frag/RG1_jpegls_near_lossless_64k.dcm"
dcmcjpeg +e1 +fs 64 -ot "$src" "$frag/RG1_jpeg_lossless_sv1_64k.dcm"
dcmcjpeg +ee +fs 64 -ot "$src" "$frag/RG1_jpeg_extended_12bit_64k.dcm"
dcmcjpeg +eb +fs 64 -ot "$rg1/RG1_8bit.dcm" "$frag/RG1_jpeg_baseline_8bit_64k.dcm" 2>/dev/null
dcmcrle +fs 64 -ot "$src" "$frag/RG1_rle_64k.dcm" 2>/dev/null
for j2k in RG1_j2k_lossless RG1_j2k_lossy; do
    "$venv/bin/python" "$root/tests/corpus/reference.py" fragment "$rg1/$j2k.dcm" "$frag/${j2k}_64k.dcm" 65536
done
multi="$corpus/pydicom-data/emri_small.dcm"
dcmcjpls +el +fs 1 -ot "$multi" "$frag/emri_jpegls_lossless_1k.dcm"
dcmcjpeg +e1 +fs 1 -ot "$multi" "$frag/emri_jpeg_lossless_1k.dcm"
# RLE allows one fragment per frame only (PS3.5 A.4.2); dcmtk can write more,
# and a frame's start is then found by its RLE header. pydicom refuses it.
dcmcrle +fs 1 -ot "$multi" "$frag/emri_rle_1k.dcm" 2>/dev/null
gdcmconv --j2k "$multi" "$frag/emri_j2k.tmp"
"$venv/bin/python" "$root/tests/corpus/reference.py" fragment "$frag/emri_j2k.tmp" "$frag/emri_j2k_1k.dcm" 1024
rm "$frag/emri_j2k.tmp"

# A JPEG 2000 instance whose codestream lost its second half, inside valid
# DICOM framing: what a PACS retrieval must refuse (not a reference file).
mkdir -p "$corpus/damaged"
"$venv/bin/python" "$root/tests/corpus/reference.py" cut "$rg1/RG1_j2k_lossless.dcm" "$corpus/damaged/RG1_j2k_cut.dcm"

"$venv/bin/python" "$root/tests/corpus/reference.py" reference "$corpus"
echo "$inputs_hash" > "$stamp"
echo "corpus: ready in $corpus"
