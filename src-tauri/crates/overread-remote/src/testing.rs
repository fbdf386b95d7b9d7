//! A real Triton Inference Server for tests (the nvidia-pytriton wheel in
//! `.cache/venv-triton`, `tests/triton/serve.py`): one model folder served
//! under a name on free loopback ports, stopped when dropped or when the
//! test process ends (the server watches its standard input). Used by this
//! crate's and the CLI's tests and the benchmark.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The repository's root (this crate is three folders down).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running Triton.
#[derive(Debug)]
pub struct Triton {
    child: Child,
    /// Its HTTP base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl Drop for Triton {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Triton {
    /// The Python with pytriton (`scripts/setup.sh --corpus`), if installed.
    pub fn python() -> Option<PathBuf> {
        let p = root().join(".cache/venv-triton/bin/python");
        p.exists().then_some(p)
    }

    /// Serves the model in `dir` as `name`; waits until it answers (at most
    /// three minutes) and panics otherwise.
    pub fn start(dir: &Path, name: &str) -> Triton {
        let python = Triton::python().expect("scripts/setup.sh --corpus installs Triton");
        let http = free_port();
        let mut child = Command::new(python)
            .arg(root().join("tests/triton/serve.py"))
            .arg(dir)
            .arg(name)
            .args([http, free_port(), free_port()].map(|p| p.to_string()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts Triton");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line == "ready" {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(180)).is_err() {
            let _ = child.kill();
            panic!("Triton did not get ready within 3 minutes");
        }
        Triton {
            child,
            url: format!("http://127.0.0.1:{http}"),
        }
    }
}
