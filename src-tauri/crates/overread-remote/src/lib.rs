//! # overread-remote
//!
//! Inference on a server the department runs, behind the same
//! [`InferenceBackend`] trait as ONNX Runtime on the device: the Open
//! Inference Protocol v2 (KServe v2 REST, as Triton, KServe and MLServer
//! speak it) with the binary tensor extension, so a 256×256 float tensor
//! travels as 256 KiB of bytes, not as JSON text. The only crate that talks
//! to an inference server (reqwest, like `overread-pacs` for the PACS).
//!
//! Each request has a deadline and is retried like the PACS client: a
//! refused connection, a time-out or a 5xx/429 is tried again after a short
//! backoff; a 4xx is an answer. [`Fallback`] runs on the device when the
//! server stays down, and says so in the result's execution provider.
//! The server's model name and version are kept from each answer
//! ([`ServedBy`]) for the result and its audit row.

mod oip;
pub mod testing;

use std::time::Duration;

use overread_infer::{Error, InferenceBackend, Outputs, Result, ServedBy};

pub use oip::{ModelMetadata, OipClient};

/// Where and what to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The server's base URL, e.g. `http://inference.example.nhs.uk:8000`.
    pub url: String,
    /// The model's name on the server.
    pub model: String,
    /// A version to ask for; the server's default when `None`.
    pub version: Option<String>,
    /// The deadline of one request.
    pub timeout: Duration,
    /// Tries after the first.
    pub retries: u32,
}

impl ServerConfig {
    pub fn new(url: &str, model: &str) -> ServerConfig {
        ServerConfig {
            url: url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            version: None,
            timeout: Duration::from_secs(10),
            retries: 2,
        }
    }
}

/// The remote backend: one model on one server.
#[derive(Debug)]
pub struct RemoteBackend {
    client: OipClient,
    outputs: Vec<String>,
    served: Option<ServedBy>,
}

impl RemoteBackend {
    /// Connects: the model must be ready on the server and have `input`
    /// and every name in `outputs`.
    pub fn connect(config: ServerConfig, input: &str, outputs: &[String]) -> Result<RemoteBackend> {
        let client = OipClient::new(config)?;
        let meta = client.metadata()?;
        let missing = std::iter::once(input)
            .filter(|n| !meta.inputs.iter().any(|i| i == n))
            .chain(
                outputs
                    .iter()
                    .map(String::as_str)
                    .filter(|n| !meta.outputs.iter().any(|o| o == n)),
            )
            .collect::<Vec<_>>();
        if !missing.is_empty() {
            return Err(Error::Run {
                message: format!(
                    "the server's {} has no {} (inputs {}, outputs {})",
                    meta.name,
                    missing.join(", "),
                    meta.inputs.join(", "),
                    meta.outputs.join(", ")
                ),
            });
        }
        Ok(RemoteBackend {
            client,
            outputs: outputs.to_vec(),
            served: None,
        })
    }
}

impl InferenceBackend for RemoteBackend {
    fn run(&mut self, input_name: &str, shape: [usize; 4], data: Vec<f32>) -> Result<Outputs> {
        let (outputs, served) = self.client.infer(input_name, shape, &data, &self.outputs)?;
        self.served = Some(served);
        Ok(outputs)
    }

    fn execution_provider(&self) -> &str {
        "remote"
    }

    fn served_by(&self) -> Option<ServedBy> {
        self.served.clone()
    }
}

/// The server first; on-device when it does not answer (after its
/// retries), for that image, with the reason kept in `last_fallback`.
#[allow(missing_debug_implementations)] // the device backend has no Debug
pub struct Fallback {
    remote: Option<RemoteBackend>,
    device: Box<dyn InferenceBackend>,
    on_device: bool,
    /// The device's provider with the reason it ran, e.g. "cpu (server down)".
    device_ep: String,
    pub last_fallback: Option<String>,
}

impl Fallback {
    /// `remote` is `None` when the server could not be reached at start.
    pub fn new(remote: Option<RemoteBackend>, device: Box<dyn InferenceBackend>) -> Fallback {
        let device_ep = format!("{} (server down)", device.execution_provider());
        Fallback {
            on_device: remote.is_none(),
            remote,
            device,
            device_ep,
            last_fallback: None,
        }
    }
}

impl InferenceBackend for Fallback {
    fn run(&mut self, input_name: &str, shape: [usize; 4], data: Vec<f32>) -> Result<Outputs> {
        if let Some(remote) = &mut self.remote {
            match remote.run(input_name, shape, data.clone()) {
                Ok(out) => {
                    self.on_device = false;
                    return Ok(out);
                }
                Err(e) => self.last_fallback = Some(e.to_string()),
            }
        }
        self.on_device = true;
        self.device.run(input_name, shape, data)
    }

    fn execution_provider(&self) -> &str {
        if self.on_device {
            &self.device_ep
        } else {
            "remote"
        }
    }

    fn served_by(&self) -> Option<ServedBy> {
        if self.on_device {
            None
        } else {
            self.remote.as_ref().and_then(|r| r.served_by())
        }
    }
}
