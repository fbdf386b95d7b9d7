//! The model store: the models this workstation may run, each installed by
//! `overread model install DIR` (manifest and checksum checked, the install
//! recorded in the audit log) into `<data>/models/<name>-<version>/`.
//! Settings pick among them; no other folder reaches ONNX Runtime's parser
//! from the reader's window. An installed version is never replaced: a new
//! model is a new version.

use std::path::{Path, PathBuf};

use overread_audit::{AuditLog, EventKind, ModelRef, OtherEvent, Reader};

use crate::api::{InstalledModel, ModelChoice};

/// A model's intended use in words, e.g. "DX/CR PA/AP of the chest,
/// patients aged 18 or over".
pub fn intended_use(iu: &overread_infer::manifest::IntendedUse) -> String {
    let mut out = format!(
        "{} {} of the {}",
        iu.modalities.join("/"),
        iu.views.join("/"),
        iu.body_parts.join("/").to_lowercase()
    );
    if let Some(age) = iu.min_age_years {
        out.push_str(&format!(", patients aged {age} or over"));
    }
    out
}

/// The folder of models bundled with the program: `models/` in a source
/// tree above the executable, or `../lib/overread/models` in an install
/// (`/usr/bin/overread-app` → `/usr/lib/overread/models`).
pub fn bundled() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?;
    std::iter::once(bin.join("../lib/overread/models"))
        .chain(bin.ancestors().map(|d| d.join("models")))
        .find(|d| d.join("demo/manifest.toml").is_file())
        .and_then(|d| d.canonicalize().ok())
}

/// The model folders in `dir` (each with a manifest), by name.
pub fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("manifest.toml").is_file())
        .collect();
    out.sort();
    out
}

/// A model folder as the first-run screen offers it; `None` when its
/// manifest does not parse.
pub fn choice(dir: &Path) -> Option<ModelChoice> {
    let text = std::fs::read_to_string(dir.join("manifest.toml")).ok()?;
    let m = overread_infer::Manifest::parse(&text).ok()?;
    Some(ModelChoice {
        dir: dir.display().to_string(),
        intended_use: intended_use(&m.intended_use),
        name: m.name,
        version: m.version,
        clinical: m.clinical,
    })
}

/// The store beside the audit log (`<data>/models` by default).
pub fn store_for(audit_db: &Path) -> PathBuf {
    audit_db.parent().unwrap_or(Path::new(".")).join("models")
}

/// A folder name from a manifest's name and version: letters, digits and
/// `.-_` only.
fn folder_name(name: &str, version: &str) -> Option<String> {
    let ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            && !s.starts_with('.')
    };
    (ok(name) && ok(version)).then(|| format!("{name}-{version}"))
}

/// The installed models, by name and version.
pub fn installed(store: &Path) -> Vec<InstalledModel> {
    let mut out: Vec<InstalledModel> = std::fs::read_dir(store)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let dir = e.path();
            let text = std::fs::read_to_string(dir.join("manifest.toml")).ok()?;
            let m = overread_infer::Manifest::parse(&text).ok()?;
            (folder_name(&m.name, &m.version)? == e.file_name().to_string_lossy()).then(|| {
                InstalledModel {
                    name: m.name,
                    version: m.version,
                    sha256: m.sha256.to_ascii_lowercase(),
                    clinical: m.clinical,
                    dir: dir.display().to_string(),
                }
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out
}

/// Whether `dir` is an installed model's folder in `store`.
pub fn is_installed(store: &Path, dir: &str) -> bool {
    installed(store).iter().any(|m| m.dir == dir)
}

/// Checks the model in `src` (manifest, checksum of model.onnx), copies it
/// into the store and records who installed what; returns it.
pub fn install(
    src: &Path,
    store: &Path,
    log: &mut AuditLog,
    by: Reader,
    workstation_id: &str,
) -> Result<InstalledModel, String> {
    let (manifest, bytes) = overread_infer::read_model(src).map_err(|e| e.to_string())?;
    let folder = folder_name(&manifest.name, &manifest.version).ok_or_else(|| {
        format!(
            "model name {:?} and version {:?} must be letters, digits, . - _",
            manifest.name, manifest.version
        )
    })?;
    let dest = store.join(&folder);
    let sha = manifest.sha256.to_ascii_lowercase();
    if dest.exists() {
        let same = installed(store)
            .iter()
            .any(|m| m.dir == dest.display().to_string() && m.sha256 == sha);
        return Err(if same {
            format!(
                "{} {} is already installed",
                manifest.name, manifest.version
            )
        } else {
            format!(
                "another {} {} is installed with a different checksum: give the new model a new version",
                manifest.name, manifest.version
            )
        });
    }
    let io = |e: std::io::Error| format!("cannot install into {}: {e}", store.display());
    std::fs::create_dir_all(store).map_err(io)?;
    let tmp = tempfile::Builder::new()
        .prefix(".installing-")
        .tempdir_in(store)
        .map_err(io)?;
    std::fs::write(tmp.path().join("model.onnx"), &bytes).map_err(io)?;
    std::fs::copy(src.join("manifest.toml"), tmp.path().join("manifest.toml")).map_err(io)?;
    // Checked again where it will be loaded from.
    overread_infer::read_model(tmp.path()).map_err(|e| e.to_string())?;
    let staged = tmp.keep();
    std::fs::rename(&staged, &dest).map_err(io)?;
    let event = OtherEvent {
        kind: EventKind::ModelInstalled,
        reader: Some(by),
        workstation_id: workstation_id.to_string(),
        study: None,
        model: Some(ModelRef {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            sha256: sha.clone(),
        }),
        execution_provider: None,
        detail: serde_json::json!({
            "from": src.display().to_string(),
            "installed_to": dest.display().to_string(),
            "clinical": manifest.clinical,
        }),
    };
    if let Err(e) = log.record_event(&event) {
        // Not recorded: not installed.
        let _ = std::fs::remove_dir_all(&dest);
        return Err(e.to_string());
    }
    Ok(InstalledModel {
        name: manifest.name,
        version: manifest.version,
        sha256: sha,
        clinical: manifest.clinical,
        dir: dest.display().to_string(),
    })
}
