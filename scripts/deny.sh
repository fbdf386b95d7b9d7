#!/usr/bin/env bash
# `cargo deny check` (advisories, licences, bans, sources) against the dated
# RustSec snapshot in ../shared/advisory-db: these machines cannot fetch the
# live database. cargo-deny wants the database as a git repository in a folder
# named for its URL, so the snapshot is copied and committed under target/.
# Usage: scripts/deny.sh   (OVERREAD_ADVISORY_DB=DIR to use another copy)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
snapshot=${OVERREAD_ADVISORY_DB:-}
if [ -z "$snapshot" ]; then
    for candidate in "$root/../shared/advisory-db" /work/shared/advisory-db; do
        if [ -d "$candidate/crates" ]; then snapshot=$candidate; break; fi
    done
fi
if [ -z "$snapshot" ] || [ ! -d "$snapshot/crates" ]; then
    echo "deny: no RustSec snapshot found (set OVERREAD_ADVISORY_DB to a copy of the advisory database)" >&2
    exit 1
fi
db_path="$root/target/advisory-dbs"
db="$db_path/advisory-db-3157b0e258782691"
stamp="$db/.overread-snapshot"
if [ ! -f "$stamp" ] || [ "$snapshot" -nt "$stamp" ]; then
    rm -rf "$db"
    mkdir -p "$db"
    cp -r "$snapshot/." "$db/"
    # The snapshot's own commit date, which cargo-deny reads as the database's age.
    date=$(sed -n 's/.*as of its commit [0-9a-f]* of \([0-9-]*\).*/\1/p' "$snapshot/README.md" | head -1)
    (
        cd "$db"
        git init -q
        git add -A
        GIT_AUTHOR_NAME=snapshot GIT_AUTHOR_EMAIL=snapshot@localhost \
        GIT_COMMITTER_NAME=snapshot GIT_COMMITTER_EMAIL=snapshot@localhost \
        GIT_AUTHOR_DATE="${date:-2026-08-21}T08:28:40+02:00" GIT_COMMITTER_DATE="${date:-2026-08-21}T08:28:40+02:00" \
            git commit -q -m "RustSec snapshot"
    )
    touch "$stamp"
fi
# --offline stops every fetch, including crates for other platforms that
# `cargo metadata` needs: fetch them first, from the registry as usual.
cargo fetch --locked >/dev/null
export OVERREAD_ADVISORY_DBS="$db_path"   # deny.toml's db-path
exec cargo deny --offline check
