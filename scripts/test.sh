#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds
# the test corpus, checks formatting and lints, runs every test, drives
# the real app window end to end, and builds, checks and installs the
# Debian package.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
export OVERREAD_CORPUS="$root/.cache/corpus"
export OVERREAD_XRV_MODEL="$root/.cache/models/xrv-style-densenet121"
export CARGO_TERM_COLOR=never

echo "== frontend: types, component tests, build"
(cd ui && npm run --silent typecheck && npx vitest run --reporter=dot && npx vite build --logLevel warn)
echo "== rustfmt"
cargo fmt --all -- --check
echo "== dependencies: advisories (RustSec snapshot), licences, bans, sources"
bash scripts/deny.sh
echo "== clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== tests (library crates, CLI, app command layer; TypeScript bindings must be current)"
cargo test --locked --workspace
echo "== fuzzing, time-boxed (each target 60 s from its corpus and regressions)"
bash scripts/fuzz.sh
echo "== audit log encrypted at rest (SQLCipher build)"
CARGO_TARGET_DIR="$root/target/sqlcipher" cargo test --locked -p overread-audit --features sqlcipher
echo "== end to end: the real window under Xvfb through WebKitWebDriver"
cargo build --locked -p overread-app -p overread-cli --features overread-app/custom-protocol
python3 tests/e2e/run.py --app target/debug/overread-app --cli target/debug/overread --artefacts target/e2e
echo "== the Debian package (a debug build): lintian, installed into a throw-away root, first run end to end"
OVERREAD_SETUP_DONE=1 bash scripts/package.sh --debug
python3 tests/e2e/package.py --deb target/package/debug/overread_*_amd64.deb --artefacts target/package-test
