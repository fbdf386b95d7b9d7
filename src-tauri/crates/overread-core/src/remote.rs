//! A model run on the department's inference server (Open Inference
//! Protocol v2, `overread-remote`), with the same weights loaded on the
//! device as the fallback: the manifest and the weights' checksum are
//! checked here as for on-device inference, and an image the server does
//! not answer is inferred on the device, saying so ("cpu (server down)").

use std::path::Path;

use overread_infer::{EpChoice, Model, OrtBackend, read_model};
use overread_remote::{Fallback, RemoteBackend, ServerConfig};

/// Where a model runs remotely: the server's URL, and the model's name and
/// version there when they differ from the manifest's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub url: String,
    pub model: Option<String>,
    pub version: Option<String>,
}

/// An inference server's URL as Settings and the CLI take it.
pub fn check_url(url: &str) -> Result<(), String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!("{url:?} is not an http:// or https:// URL"))
    }
}

/// Loads the model in `dir` to run on `server`, on the device when the
/// server does not answer; `model.fallback` says why when it does not.
/// The model's name on the server is `model`, else the manifest's name.
pub fn load(
    dir: &Path,
    server: &Server,
    runtime: Option<&Path>,
    ep: EpChoice,
    threads: usize,
) -> Result<Model, String> {
    let (manifest, bytes) = read_model(dir).map_err(|e| e.to_string())?;
    let server = ServerConfig {
        version: server.version.clone(),
        ..ServerConfig::new(
            &server.url,
            server.model.as_deref().unwrap_or(&manifest.name),
        )
    };
    let rt = overread_infer::runtime::load(runtime).map_err(|e| e.to_string())?;
    let (device, _) = OrtBackend::new(&rt, &bytes, ep, threads).map_err(|e| e.to_string())?;
    let o = &manifest.output;
    let mut outputs: Vec<String> = o.scores.name.iter().cloned().collect();
    outputs.extend(o.heatmap.as_ref().map(|h| h.name.clone()));
    if let Some(b) = &o.boxes {
        outputs.extend(
            [
                Some(b.name.clone()),
                Some(b.scores.clone()),
                b.classes.clone(),
            ]
            .into_iter()
            .flatten(),
        );
    }
    let url = server.url.clone();
    let (remote, why) = match RemoteBackend::connect(server, &manifest.input.name, &outputs) {
        Ok(r) => (Some(r), None),
        Err(e) => (
            None,
            Some(format!(
                "inference server {url} unavailable ({e}); running on the device"
            )),
        ),
    };
    let mut model =
        Model::with_backend(manifest, Box::new(Fallback::new(remote, Box::new(device))));
    model.dir = dir.to_path_buf();
    model.fallback = why;
    Ok(model)
}
