#!/usr/bin/env bash
# Installs what is missing, builds Overread and opens the desktop app on the
# bundled demo worklist: synthetic chest phantoms plus RG1 (a public chest
# radiograph from pydicom-data), triaged by the demonstration model (not for
# clinical use). Demo decisions go to demo/audit.sqlite3, not your real log.
# Without a display (a server), the app runs on a virtual one for a while and
# a screenshot of the worklist and the viewer is saved instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
(cd ui && npx vite build --logLevel warn)
cargo build --locked -p overread-cli -p overread-app --features overread-app/custom-protocol
overread="$root/target/debug/overread"

demo="$root/demo"
if [ ! -f "$demo/studies/phantom-priors.json" ]; then
    "$overread" demo generate "$demo/studies" --count 12 --size 1024 --priors 1
fi
cp -f "$root/.cache/corpus/pydicom-data/RG1_UNCR.dcm" "$demo/studies/RG1_UNCR.dcm"
echo
echo "== The demo worklist, headless through the CLI (same core as the app)"
"$overread" scan "$demo/studies"

export OVERREAD_DEMO_DIR="$demo/studies"
export OVERREAD_MODEL_DIR="$root/models/demo"
export OVERREAD_AUDIT_DB="$demo/audit.sqlite3"
export OVERREAD_SETTINGS="$demo/settings.json"
app="$root/target/debug/overread-app"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo
    echo "== Opening Overread (press ? in the window for the keys)"
    exec "$app"
fi
echo
echo "== No display here: running Overread on a virtual display"
exec python3 "$root/tests/e2e/headless_demo.py" --app "$app" --out "$demo"
