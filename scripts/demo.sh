#!/usr/bin/env bash
# Installs what is missing, builds Overread and opens the bundled demo
# worklist: synthetic chest phantoms plus RG1, a public chest radiograph.
# Until the desktop window lands, this runs the `overread` CLI over the same
# studies: the worklist index, a header, rendered images, and the demo
# model's findings with registered heatmaps.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
cargo build --release --locked -p overread-cli
overread="$root/target/release/overread"

demo="$root/demo"
if [ ! -f "$demo/studies/phantom-truth.json" ]; then
    "$overread" demo generate "$demo/studies" --count 12 --size 1024
fi
cp -f "$root/.cache/corpus/pydicom-data/RG1_UNCR.dcm" "$demo/studies/RG1_UNCR.dcm"

echo
echo "== Demo worklist ($demo/studies)"
"$overread" scan "$demo/studies"
echo
echo "== RG1 (public chest radiograph, pydicom-data)"
"$overread" info "$demo/studies/RG1_UNCR.dcm"
mkdir -p "$demo/rendered"
for f in "$demo"/studies/*.dcm; do
    "$overread" render "$f" -o "$demo/rendered/$(basename "${f%.dcm}").png" --size 1024
done
echo
echo "Rendered $(ls "$demo"/rendered/*.png | wc -l) display-ready images to $demo/rendered/"
echo
echo "== AI triage with the bundled demonstration model (not for clinical use)"
"$overread" infer "$demo/studies" --model "$root/models/demo" --heatmaps "$demo/heatmaps"
echo "Registered heatmaps in $demo/heatmaps/"
