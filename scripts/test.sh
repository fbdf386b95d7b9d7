#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, builds
# the test corpus, checks formatting and lints, runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh --corpus
source "$root/scripts/env.sh"
export OVERREAD_CORPUS="$root/.cache/corpus"
export OVERREAD_XRV_MODEL="$root/.cache/models/xrv-style-densenet121"
export CARGO_TERM_COLOR=never

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== tests"
cargo test --locked --workspace
echo "== audit log encrypted at rest (SQLCipher build)"
CARGO_TARGET_DIR="$root/target/sqlcipher" cargo test --locked -p overread-audit --features sqlcipher
