//! `overread://localhost/…`: pixels and heatmaps as bytes, answered off the
//! main thread.
//!
//! - `/pixels/{id}` — the study's first image, little-endian u16 (see
//!   `ImageGeometry`); `/pixels/{id}/{n}` its image `n` in hanging order;
//!   `?level=preview` the reduced one.
//! - `/heatmap/{id}/{label}` — one byte per image pixel, registered to the image.

use std::sync::Arc;

use overread_core::api::StudyId;
use overread_core::workstation::Workstation;
use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, UriSchemeContext, UriSchemeResponder};

/// What a request asks for, after validation.
#[derive(Debug, PartialEq, Eq)]
pub enum Resource {
    Pixels {
        id: StudyId,
        image: u32,
        preview: bool,
    },
    Heatmap {
        id: StudyId,
        label: String,
    },
}

fn study_id(id: &str) -> Result<StudyId, String> {
    id.parse()
        .map_err(|e: overread_core::api::ApiError| e.message)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parses and validates a request path and query.
pub fn parse(path: &str, query: Option<&str>) -> Result<Resource, String> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts[..] {
        ["pixels", id] | ["pixels", id, _] => {
            let id = study_id(id)?;
            let image = match parts.get(2) {
                None => 0,
                // A study has at most the instances its caps allow.
                Some(n) => n
                    .parse::<u32>()
                    .ok()
                    .filter(|v| *v < 100_000 && v.to_string() == **n)
                    .ok_or("the image is a number")?,
            };
            let preview = match query {
                None | Some("") | Some("level=full") => false,
                Some("level=preview") => true,
                Some(q) => return Err(format!("unknown query {q:?}")),
            };
            Ok(Resource::Pixels { id, image, preview })
        }
        ["heatmap", id, label] => {
            let id = study_id(id)?;
            let label = percent_decode(label).ok_or("label is not valid percent-encoded UTF-8")?;
            if label.is_empty()
                || label.chars().count() > 64
                || label.chars().any(|c| c.is_control())
            {
                return Err("label must be 1 to 64 printable characters".into());
            }
            Ok(Resource::Heatmap { id, label })
        }
        _ => Err("unknown resource".into()),
    }
}

/// The app's own page origins (Linux and macOS; Windows' WebView2): the
/// only pages that may read the scheme's bytes. No wildcard: another page
/// in any webview must not read a patient's pixels.
const APP_ORIGINS: &[&str] = &[
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The `Access-Control-Allow-Origin` to answer `origin` with, if any.
fn allowed_origin(origin: Option<&str>) -> Option<&'static str> {
    let origin = origin?;
    APP_ORIGINS.iter().copied().find(|o| *o == origin)
}

fn respond(
    status: StatusCode,
    kind: &str,
    body: Vec<u8>,
    origin: Option<&'static str>,
) -> Response<Vec<u8>> {
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, kind)
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(origin) = origin {
        response = response
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
            .header(header::VARY, "Origin");
    }
    response
        .body(body)
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

/// The scheme handler: validates, then decodes on a worker thread.
pub fn handle<R: tauri::Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let origin = allowed_origin(
        request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
    );
    // Before the first run is finished there is nothing to serve.
    let Some(ws) = ctx
        .app_handle()
        .try_state::<Arc<Workstation>>()
        .map(|w| w.inner().clone())
    else {
        let message = b"Overread is not set up yet".to_vec();
        return responder.respond(respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            message,
            origin,
        ));
    };
    let resource = parse(request.uri().path(), request.uri().query());
    std::thread::spawn(move || {
        let result = match resource {
            Err(message) => Err((StatusCode::BAD_REQUEST, message)),
            Ok(Resource::Pixels { id, image, preview }) => ws
                .pixels(id, image, preview)
                .map_err(|e| (StatusCode::NOT_FOUND, e.message)),
            Ok(Resource::Heatmap { id, label }) => ws
                .heatmap(id, &label)
                .map_err(|e| (StatusCode::NOT_FOUND, e.message)),
        };
        responder.respond(match result {
            Ok(bytes) => respond(StatusCode::OK, "application/octet-stream", bytes, origin),
            Err((status, message)) => respond(status, "text/plain", message.into_bytes(), origin),
        });
        crate::memory::give_back();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the app's own page may read the bytes (#12): no wildcard.
    #[test]
    fn only_the_apps_origin_is_allowed() {
        assert_eq!(
            allowed_origin(Some("tauri://localhost")),
            Some("tauri://localhost")
        );
        assert_eq!(
            allowed_origin(Some("http://tauri.localhost")),
            Some("http://tauri.localhost")
        );
        for other in [
            None,
            Some("null"),
            Some("https://evil.example"),
            Some("tauri://localhost.evil"),
        ] {
            assert_eq!(allowed_origin(other), None, "{other:?}");
        }
        let r = respond(StatusCode::OK, "text/plain", Vec::new(), None);
        assert!(
            r.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
    }

    #[test]
    fn paths_are_validated() {
        assert_eq!(
            parse("/pixels/s12", Some("level=preview")),
            Ok(Resource::Pixels {
                id: "s12".parse().expect("id"),
                image: 0,
                preview: true
            })
        );
        assert_eq!(
            parse("/pixels/s12/1", None),
            Ok(Resource::Pixels {
                id: "s12".parse().expect("id"),
                image: 1,
                preview: false
            })
        );
        assert_eq!(
            parse("/heatmap/s1/nodule%20or%20mass", None),
            Ok(Resource::Heatmap {
                id: "s1".parse().expect("id"),
                label: "nodule or mass".into()
            })
        );
        for bad in [
            "/pixels/../etc/passwd",
            "/pixels/s1/extra",
            "/pixels/s1/01",
            "/pixels/s1/-1",
            "/pixels/s1/1/2",
            "/pixels/1",
            "/pixels/s1234567",
            "/heatmap/s1/%zz",
            "/heatmap/s1/%0a",
            "/other",
        ] {
            assert!(parse(bad, None).is_err(), "{bad}");
        }
        assert!(parse("/pixels/s1", Some("level=huge")).is_err());
    }
}
