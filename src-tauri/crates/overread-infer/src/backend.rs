//! The inference backend: ONNX Runtime for real, a fake for pure unit tests
//! (like ripgrep's matcher trait with two implementations).

use std::collections::BTreeMap;

use serde::Serialize;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::error::{Error, Result};
use crate::runtime::Runtime;

/// Outputs by name: shape and values.
pub type Outputs = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// Runs a model on one NCHW float tensor.
pub trait InferenceBackend: Send {
    fn run(&mut self, input_name: &str, shape: [usize; 4], data: Vec<f32>) -> Result<Outputs>;
    /// The execution provider that actually runs (goes into every result).
    fn execution_provider(&self) -> &str;
    /// The inference server that answered the last run, when one did.
    fn served_by(&self) -> Option<ServedBy> {
        None
    }
}

/// An inference server's answer: where, and the model name and version it
/// reported (recorded in each result and audit row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServedBy {
    pub server: String,
    pub model: String,
    pub version: String,
}

/// Which execution provider to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpChoice {
    /// A GPU provider when one registers, else CPU.
    Auto,
    Cpu,
    Cuda,
}

impl EpChoice {
    pub fn parse(s: &str) -> Result<EpChoice> {
        match s {
            "auto" => Ok(EpChoice::Auto),
            "cpu" => Ok(EpChoice::Cpu),
            "cuda" => Ok(EpChoice::Cuda),
            other => Err(Error::ExecutionProvider {
                requested: other.into(),
                message: "this build knows auto, cpu and cuda (TensorRT, DirectML, CoreML and OpenVINO are not compiled in)".into(),
            }),
        }
    }
}

/// A session created once per model and reused.
pub struct OrtBackend {
    session: Session,
    ep: String,
}

impl std::fmt::Debug for OrtBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtBackend").field("ep", &self.ep).finish()
    }
}

impl OrtBackend {
    /// Builds a session. Asking for a GPU provider that does not register is
    /// an error, not a silent CPU run; `Auto` falls back to CPU explicitly
    /// and says so in `fallback`.
    pub fn new(
        runtime: &Runtime,
        model: &[u8],
        ep: EpChoice,
        threads: usize,
    ) -> Result<(OrtBackend, Option<String>)> {
        let build = |cuda: bool| -> std::result::Result<Session, String> {
            let mut b = Session::builder(&runtime.environment).map_err(|e| e.to_string())?;
            b = b
                .with_optimization_level(GraphOptimizationLevel::All)
                .map_err(|e| e.to_string())?;
            b = b
                .with_intra_threads(threads.max(1))
                .map_err(|e| e.to_string())?;
            if cuda {
                b = b
                    .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                    .map_err(|e| e.to_string())?;
            }
            b.commit_from_memory(model).map_err(|e| e.to_string())
        };
        match ep {
            EpChoice::Cpu => build(false)
                .map(|s| {
                    (
                        OrtBackend {
                            session: s,
                            ep: "cpu".into(),
                        },
                        None,
                    )
                })
                .map_err(|m| Error::Run { message: m }),
            EpChoice::Cuda => match build(true) {
                Ok(s) => Ok((
                    OrtBackend {
                        session: s,
                        ep: "cuda".into(),
                    },
                    None,
                )),
                Err(m) => Err(Error::ExecutionProvider {
                    requested: "cuda".into(),
                    message: m.replace('\n', " "),
                }),
            },
            EpChoice::Auto => match build(true) {
                Ok(s) => Ok((
                    OrtBackend {
                        session: s,
                        ep: "cuda".into(),
                    },
                    None,
                )),
                Err(m) => {
                    let s = build(false).map_err(|m| Error::Run { message: m })?;
                    let why = format!(
                        "cuda unavailable ({}); running on cpu",
                        m.lines().next().unwrap_or("")
                    );
                    Ok((
                        OrtBackend {
                            session: s,
                            ep: "cpu".into(),
                        },
                        Some(why),
                    ))
                }
            },
        }
    }
}

impl InferenceBackend for OrtBackend {
    fn run(&mut self, input_name: &str, shape: [usize; 4], data: Vec<f32>) -> Result<Outputs> {
        let fail = |e: ort::Error| Error::Run {
            message: e.to_string(),
        };
        let tensor = Tensor::from_array((shape, data)).map_err(fail)?;
        let outputs = self
            .session
            .run(ort::inputs![input_name => tensor])
            .map_err(fail)?;
        let mut out = Outputs::new();
        for (name, value) in outputs.iter() {
            let (shape, values) = value.try_extract_tensor::<f32>().map_err(fail)?;
            out.insert(
                name.to_string(),
                (
                    shape.iter().map(|&d| d.max(0) as usize).collect(),
                    values.to_vec(),
                ),
            );
        }
        Ok(out)
    }

    fn execution_provider(&self) -> &str {
        &self.ep
    }
}

/// A backend for pure unit tests: returns fixed outputs.
#[derive(Debug, Clone)]
pub struct FakeBackend {
    pub outputs: Outputs,
    pub last_input: Option<([usize; 4], Vec<f32>)>,
}

impl InferenceBackend for FakeBackend {
    fn run(&mut self, _input_name: &str, shape: [usize; 4], data: Vec<f32>) -> Result<Outputs> {
        self.last_input = Some((shape, data));
        Ok(self.outputs.clone())
    }

    fn execution_provider(&self) -> &str {
        "fake"
    }
}
