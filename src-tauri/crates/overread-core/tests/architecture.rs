//! ARCHITECTURE.md's code map against the repository: every source file is
//! listed under its folder, and every file listed exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SOURCE: [&str; 5] = ["rs", "ts", "tsx", "py", "sh"];
/// Build outputs, dependencies and generated data, never source.
const SKIP: [&str; 8] = [
    ".git",
    "target",
    "node_modules",
    ".cache",
    "dist",
    "gen",
    "demo",
    "artifacts",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn is_source(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| SOURCE.contains(&ext))
}

fn walk(dir: &Path, rel: &str, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() && !SKIP.contains(&name.as_str()) {
            walk(&e.path(), &path, out);
        } else if kind.is_file() && is_source(&name) {
            out.insert(path);
        }
    }
}

/// The files the "Source folders" table names, as repository paths.
fn listed(doc: &str) -> BTreeSet<String> {
    let table = doc
        .split("### Source folders")
        .nth(1)
        .and_then(|t| t.split("\n## ").next())
        .expect("ARCHITECTURE.md has a Source folders table");
    let mut out = BTreeSet::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let mut cells = line.splitn(3, '|').skip(1);
        let folder = cells.next().unwrap_or("").trim().trim_matches('`');
        let text = cells.next().unwrap_or("");
        for (i, token) in text.split('`').enumerate() {
            if i % 2 == 1 && is_source(token) && !token.contains(' ') {
                out.insert(format!("{folder}/{token}"));
            }
        }
    }
    out
}

#[test]
fn the_code_map_lists_every_source_file() {
    let root = root();
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut present = BTreeSet::new();
    walk(&root, "", &mut present);
    let listed = listed(&doc);
    let missing: Vec<_> = present.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&present).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "ARCHITECTURE.md's code map is out of date.\nnot listed: {missing:?}\nlisted but absent: {stale:?}"
    );
}
