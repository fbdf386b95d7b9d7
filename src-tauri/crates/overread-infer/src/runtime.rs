//! Finding and loading the ONNX Runtime shared library, once per process.
//! ort panics on a failed dlopen unless initialised explicitly: this module
//! does that and turns every failure into an error that says how to fix it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::{Error, Result};

/// The loaded runtime (process-wide: ONNX Runtime can be loaded once).
#[derive(Debug, Clone)]
pub struct Runtime {
    pub library: PathBuf,
    pub(crate) environment: Environment,
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// Where to look, in order: the configured path, `ORT_DYLIB_PATH`, a copy
/// beside the executable, then one in `../lib/overread/` (an installed
/// package: `/usr/bin/overread` → `/usr/lib/overread/libonnxruntime.so.*`).
pub fn candidates(configured: Option<&Path>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = configured {
        out.push(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        out.push(PathBuf::from(p));
    }
    let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    else {
        return out;
    };
    for dir in [bin.clone(), bin.join("../lib/overread")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with("libonnxruntime.so")
                        || n == "onnxruntime.dll"
                        || n.starts_with("libonnxruntime.") && n.ends_with(".dylib")
                })
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    out
}

/// Loads ONNX Runtime (first call) or returns the one already loaded.
pub fn load(configured: Option<&Path>) -> Result<Runtime> {
    let result = RUNTIME.get_or_init(|| {
        let list = candidates(configured);
        let Some(path) = list.iter().find(|p| p.is_file()) else {
            return Err(if list.is_empty() {
                "no library configured, ORT_DYLIB_PATH unset, none beside the executable"
                    .to_string()
            } else {
                format!(
                    "none of {} exists",
                    list.iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        };
        // ort panics rather than erroring on some load failures; contain them.
        let built = std::panic::catch_unwind(|| {
            ort::init_from(path)
                .map_err(|e| e.to_string())?
                .with_name("overread")
                .build()
                .map_err(|e| e.to_string())
        });
        match built {
            Ok(Ok(environment)) => Ok(Runtime {
                library: path.clone(),
                environment,
            }),
            Ok(Err(message)) => Err(format!(
                "{}: {}",
                path.display(),
                message.replace('\n', " ")
            )),
            Err(_) => Err(format!(
                "{}: the library could not be loaded (is it ONNX Runtime 1.31 or newer?)",
                path.display()
            )),
        }
    });
    match result {
        Ok(rt) => Ok(rt.clone()),
        Err(detail) if detail.starts_with("no library") || detail.starts_with("none of") => {
            Err(Error::RuntimeMissing {
                detail: detail.clone(),
            })
        }
        Err(message) => Err(Error::RuntimeUnusable {
            path: PathBuf::from(message.split(':').next().unwrap_or("")),
            message: message.clone(),
        }),
    }
}
