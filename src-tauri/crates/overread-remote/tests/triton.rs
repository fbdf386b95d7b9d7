//! The remote backend against a real Triton Inference Server (the
//! nvidia-pytriton wheel, tests/triton/serve.py), started once for this
//! test binary on loopback ports of its own: the same findings and heatmap
//! as ONNX Runtime on the device, the server's name and version kept, a
//! server that is down or stalls bounded by retries and deadlines, and the
//! fallback to the device.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use overread_infer::{EpChoice, GrayImage, InferenceBackend, Model, OrtBackend, read_model};
use overread_remote::testing::{Triton, free_port};
use overread_remote::{Fallback, RemoteBackend, ServerConfig};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn demo_dir() -> PathBuf {
    root().join("models/demo")
}

/// A TCP line to the server that the test can cut: every connection
/// through it is closed and no new one is taken.
struct Line {
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl Line {
    fn to(server: &str) -> Line {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();
        let (stop2, open2, server) = (stop.clone(), open.clone(), server.to_string());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(upstream) = std::net::TcpStream::connect(&server) else {
                    continue;
                };
                let pipe = |mut from: std::net::TcpStream, mut to: std::net::TcpStream| {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                };
                if let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) {
                    open2.lock().expect("lock").extend([c2, u2]);
                    pipe(
                        client.try_clone().expect("clone"),
                        upstream.try_clone().expect("clone"),
                    );
                    pipe(upstream, client);
                }
            }
        });
        Line { url, stop, open }
    }

    fn cut(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(50));
        for s in self.open.lock().expect("lock").drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// Triton with the demo model as `demo`, once per binary; `None` (the test
/// skips, saying so) when the Triton venv or ONNX Runtime is missing,
/// which CI never allows.
fn server() -> Option<&'static Triton> {
    static SERVER: OnceLock<Option<Triton>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if Triton::python().is_none() || std::env::var_os("ORT_DYLIB_PATH").is_none() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must have Triton (scripts/setup.sh --corpus) and ORT_DYLIB_PATH"
                );
                eprintln!("skipped: no .cache/venv-triton or ORT_DYLIB_PATH");
                return None;
            }
            Some(Triton::start(&demo_dir(), "demo"))
        })
        .as_ref()
}

fn url() -> Option<String> {
    server().map(|t| t.url.clone())
}
fn outputs() -> Vec<String> {
    vec!["scores".into(), "heatmap".into()]
}

fn image() -> Vec<u16> {
    // A bright round blob on a darker field: the demo model scores it.
    (0..256 * 256)
        .map(|i| {
            let (x, y) = ((i % 256) as f64 - 100.0, (i / 256) as f64 - 140.0);
            if x * x + y * y < 144.0 {
                52000
            } else {
                12000 + (i % 97) as u16 * 40
            }
        })
        .collect()
}

fn gray(pixels: &[u16]) -> GrayImage<'_> {
    GrayImage {
        width: 256,
        height: 256,
        pixels,
    }
}

#[test]
fn the_server_finds_what_the_device_finds() {
    let Some(url) = url() else { return };
    let (manifest, _) = read_model(&demo_dir()).expect("manifest");
    let remote = RemoteBackend::connect(ServerConfig::new(&url, "demo"), "image", &outputs())
        .expect("connects");
    let mut on_server = Model::with_backend(manifest, Box::new(remote));
    let mut on_device = Model::load(&demo_dir(), None, EpChoice::Cpu, 1).expect("loads");
    let pixels = image();
    let a = on_server.infer(gray(&pixels)).expect("the server infers");
    let b = on_device.infer(gray(&pixels)).expect("the device infers");
    assert_eq!(a.execution_provider, "remote");
    let served = a.served_by.as_ref().expect("served by");
    assert_eq!(
        (served.model.as_str(), served.version.as_str()),
        ("demo", "1")
    );
    assert_eq!(served.server, url);
    for (x, y) in a.findings.iter().zip(&b.findings) {
        assert_eq!((&x.label, x.flagged), (&y.label, y.flagged));
        assert!(
            (x.score - y.score).abs() <= 1e-5,
            "{} vs {}",
            x.score,
            y.score
        );
    }
    assert!(
        b.findings[0].score > 0.5,
        "the blob is found: {}",
        b.findings[0].score
    );
    let (h, d) = (&a.heatmaps[0].values, &b.heatmaps[0].values);
    assert_eq!(h.len(), d.len());
    assert!(h.iter().zip(d).all(|(x, y)| (x - y).abs() <= 1e-5));
}

#[test]
fn an_unknown_model_or_output_is_refused_at_once() {
    let Some(url) = url() else { return };
    let t = Instant::now();
    let err = RemoteBackend::connect(ServerConfig::new(&url, "nope"), "image", &outputs())
        .expect_err("refused");
    assert!(
        err.to_string().contains("404") || err.to_string().contains("Not Found"),
        "{err}"
    );
    assert!(
        err.to_string().contains("1 tries"),
        "a 4xx is an answer, not retried: {err}"
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    let err = RemoteBackend::connect(ServerConfig::new(&url, "demo"), "image", &["boxes".into()])
        .expect_err("refused");
    assert!(err.to_string().contains("has no boxes"), "{err}");
}

#[test]
fn a_server_that_is_down_or_stalls_is_bounded_and_the_device_takes_over() {
    // Down: a closed port, refused at once, retried twice.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let t = Instant::now();
    let err = RemoteBackend::connect(ServerConfig::new(&closed, "demo"), "image", &outputs())
        .expect_err("down");
    assert!(err.to_string().contains("3 tries"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // Stalled: accepts and never answers; each try ends at the deadline.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let stalled = format!("http://{}", listener.local_addr().expect("addr"));
    let held = std::thread::spawn(move || {
        let _conns: Vec<_> = listener.incoming().take(3).collect();
        std::thread::sleep(Duration::from_secs(4));
    });
    let config = ServerConfig {
        timeout: Duration::from_millis(500),
        ..ServerConfig::new(&stalled, "demo")
    };
    let t = Instant::now();
    let err = RemoteBackend::connect(config, "image", &outputs()).expect_err("stalled");
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "{:?} {err}",
        t.elapsed()
    );
    drop(held);

    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        return;
    }
    // No server at start: the device runs and the result says why.
    let (manifest, bytes) = read_model(&demo_dir()).expect("model");
    let rt = overread_infer::runtime::load(None).expect("runtime");
    let device = || {
        Box::new(
            OrtBackend::new(&rt, &bytes, EpChoice::Cpu, 1)
                .expect("device")
                .0,
        )
    };
    let mut model = Model::with_backend(manifest.clone(), Box::new(Fallback::new(None, device())));
    let pixels = image();
    let r = model.infer(gray(&pixels)).expect("infers on the device");
    assert_eq!(r.execution_provider, "cpu (server down)");
    assert!(r.served_by.is_none());

    // The server goes away mid-session (the line to it is cut): the next
    // image runs on the device.
    let Some(url) = url() else { return };
    let line = Line::to(url.trim_start_matches("http://"));
    let remote = RemoteBackend::connect(ServerConfig::new(&line.url, "demo"), "image", &outputs())
        .expect("connects");
    let mut fallback = Fallback::new(Some(remote), device());
    let shape = [1, 1, 256, 256];
    fallback
        .run("image", shape, vec![0.5; 256 * 256])
        .expect("served");
    assert_eq!(fallback.execution_provider(), "remote");
    assert!(fallback.served_by().is_some());
    line.cut();
    fallback
        .run("image", shape, vec![0.5; 256 * 256])
        .expect("the device answers");
    assert_eq!(fallback.execution_provider(), "cpu (server down)");
    assert!(
        fallback
            .last_fallback
            .as_deref()
            .is_some_and(|w| w.contains("tries"))
    );
}
