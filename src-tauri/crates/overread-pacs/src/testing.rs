//! A private Orthanc for tests: started on free loopback ports with a
//! throw-away storage folder (its index in SQLite, or in a PostgreSQL the
//! caller names), killed when dropped. Used by the CLI's and the core's
//! tests; it panics when Orthanc cannot be started.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Orthanc's PostgreSQL index plugin (Debian's `orthanc-postgresql`).
pub const POSTGRESQL_INDEX: &str = "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so";

/// A running Orthanc.
#[derive(Debug)]
pub struct Orthanc {
    child: Child,
    pub http: u16,
    pub dicom: u16,
    _dir: tempfile::TempDir,
}

impl Orthanc {
    /// Starts Orthanc; `move_to` is our storage SCP's port, known to it as
    /// the modality OVERREAD on 127.0.0.1.
    pub fn start(move_to: u16) -> Orthanc {
        Orthanc::start_with(move_to, serde_json::json!({}))
    }

    /// Starts Orthanc with its index in a PostgreSQL database (a shared
    /// PACS in a department): `host`, `port`, `user`, `database`, with no
    /// password (the test cluster trusts loopback).
    pub fn start_on_postgres(
        move_to: u16,
        host: &str,
        port: u16,
        user: &str,
        database: &str,
    ) -> Orthanc {
        assert!(
            Path::new(POSTGRESQL_INDEX).exists(),
            "Orthanc's PostgreSQL plugin is not installed: run scripts/setup.sh"
        );
        Orthanc::start_with(
            move_to,
            serde_json::json!({
                "Plugins": [
                    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
                    POSTGRESQL_INDEX,
                ],
                "PostgreSQL": {
                    "EnableIndex": true,
                    "EnableStorage": false,
                    "Host": host,
                    "Port": port,
                    "Database": database,
                    "Username": user,
                    "Password": "",
                    "Lock": false,
                    "MaximumConnectionRetries": 2,
                    "ConnectionRetryInterval": 1,
                },
            }),
        )
    }

    /// Starts Orthanc with `extra` merged into its configuration.
    pub fn start_with(move_to: u16, extra: serde_json::Value) -> Orthanc {
        let binary = ["/usr/sbin/Orthanc", "/usr/bin/Orthanc"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("Orthanc is not installed: run scripts/setup.sh");
        let dir = tempfile::tempdir().expect("tempdir");
        let (http, dicom) = (free_port(), free_port());
        let config = serde_json::json!({
            "Name": "OverreadTest",
            "StorageDirectory": dir.path().join("storage"),
            "IndexDirectory": dir.path().join("index"),
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "HttpPort": http,
            "DicomPort": dicom,
            "DicomAet": "ORTHANC",
            "DicomCheckCalledAet": true,
            "DicomAlwaysAllowEcho": true,
            "DicomAlwaysAllowFind": true,
            "DicomAlwaysAllowGet": true,
            "DicomAlwaysAllowMove": true,
            "DicomModalities": {"overread": ["OVERREAD", "127.0.0.1", move_to]},
            "RemoteAccessAllowed": false,
            "AuthenticationEnabled": false,
            "SaveJobs": false,
            "DicomWeb": {"Enable": true, "Root": "/dicom-web/"},
        });
        let mut config = config;
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        let path = dir.path().join("orthanc.json");
        std::fs::write(&path, config.to_string()).expect("config");
        let log = std::fs::File::create(dir.path().join("orthanc.log")).expect("log");
        let child = Command::new(binary)
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start Orthanc");
        let orthanc = Orthanc {
            child,
            http,
            dicom,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !orthanc.get("/system").starts_with(b"{") {
            assert!(Instant::now() < deadline, "Orthanc did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        orthanc
    }

    /// GET on its REST API (empty when it fails).
    pub fn get(&self, path: &str) -> Vec<u8> {
        Command::new("curl")
            .args(["-sf", &format!("http://127.0.0.1:{}{path}", self.http)])
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default()
    }

    /// Stores a DICOM file through its REST API.
    pub fn upload(&self, file: &Path) {
        let out = Command::new("curl")
            .args(["-sf", "-X", "POST", "--data-binary"])
            .arg(format!("@{}", file.display()))
            .arg(format!("http://127.0.0.1:{}/instances", self.http))
            .output()
            .expect("curl");
        assert!(out.status.success(), "upload {}", file.display());
    }

    /// Sends a signal to the process (`-STOP`, `-CONT`).
    pub fn signal(&self, sig: &str) {
        Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill");
    }
}

impl Drop for Orthanc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
