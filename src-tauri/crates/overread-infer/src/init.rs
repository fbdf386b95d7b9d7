//! `overread model init MODEL.onnx`: the graph's inputs and outputs as
//! ONNX Runtime reads them, and a manifest draft from them. What the graph
//! cannot say (labels, what the input's values mean, the intended use, the
//! licence, the thresholds) is written as `"?"`, with a `# ?` comment
//! saying what to fill in; a manifest with a `"?"` left is refused
//! ([`crate::Manifest::parse`]), so a draft never runs by accident.

use std::fmt::Write;
use std::path::Path;

use ort::session::Session;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One input or output of the graph; `-1` is a dimension the graph leaves open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    /// ONNX's element type, e.g. `Float32`, or the kind of a non-tensor value.
    pub dtype: String,
    pub shape: Vec<i64>,
}

/// A model file as ONNX Runtime reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    pub sha256: String,
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
}

/// The largest model file read.
const MAX_MODEL_BYTES: u64 = 2 << 30;

/// Reads the graph of the ONNX file at `path` (with the ONNX Runtime found
/// as for inference).
pub fn describe(path: &Path, runtime: Option<&Path>) -> Result<Graph> {
    let fail = |message: String| Error::Manifest {
        path: path.to_path_buf(),
        message,
    };
    let size = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if size > MAX_MODEL_BYTES {
        return Err(fail(format!("larger than {} GB", MAX_MODEL_BYTES >> 30)));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let rt = crate::runtime::load(runtime)?;
    let session = Session::builder(&rt.environment)
        .and_then(|mut b| b.commit_from_memory(&bytes))
        .map_err(|e| fail(format!("ONNX Runtime cannot read it: {e}")))?;
    let port = |o: &ort::value::Outlet| Port {
        name: o.name().to_string(),
        dtype: o
            .dtype()
            .tensor_type()
            .map_or_else(|| format!("{:?}", o.dtype()), |t| format!("{t:?}")),
        shape: o
            .dtype()
            .tensor_shape()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default(),
    };
    Ok(Graph {
        sha256: Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        inputs: session.inputs().iter().map(port).collect(),
        outputs: session.outputs().iter().map(port).collect(),
    })
}

fn dims(shape: &[i64]) -> String {
    let d: Vec<String> = shape
        .iter()
        .map(|&d| if d < 0 { "?".into() } else { d.to_string() })
        .collect();
    format!("[{}]", d.join(", "))
}

/// A dimension the graph fixes, else `"?"` with a question.
fn known(d: Option<&i64>) -> Option<usize> {
    d.and_then(|&d| usize::try_from(d).ok()).filter(|&d| d > 0)
}

/// The manifest draft for `graph`, named after the file `stem`.
pub fn draft(graph: &Graph, stem: &str) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "# A manifest draft written by `overread model init` from the graph.\n\
         # Every \"?\" is a question the graph cannot answer: fill each in (the\n\
         # comment above it says what) before `overread model install`.\n\
         # Overread refuses a manifest with a \"?\" left."
    );
    for p in &graph.inputs {
        let _ = writeln!(t, "#   input  {} {} {}", p.name, p.dtype, dims(&p.shape));
    }
    for p in &graph.outputs {
        let _ = writeln!(t, "#   output {} {} {}", p.name, p.dtype, dims(&p.shape));
    }
    let _ = writeln!(
        t,
        "name = \"{stem}\"\nversion = \"?\"  # ? the vendor's version of these weights\n\
         # ? the weights' licence, e.g. \"Apache-2.0\" or the vendor's licence name\nlicence = \"?\"\n\
         # true only for a model cleared for clinical use; it then flags nothing\n\
         # at a site until a validation report is accepted there\nclinical = false\n\
         sha256 = \"{}\"\ndescription = \"\"\n",
        graph.sha256
    );
    let _ = writeln!(
        t,
        "[intended_use]\n# ? e.g. [\"CR\", \"DX\"], [\"PA\", \"AP\"], [\"CHEST\"], 18\n\
         modalities = [\"?\"]\nviews = [\"?\"]\nbody_parts = [\"?\"]\nmin_age_years = 18\n"
    );
    input(&mut t, graph.inputs.first());
    outputs(&mut t, &graph.outputs);
    t
}

fn input(t: &mut String, p: Option<&Port>) {
    let Some(p) = p else {
        let _ = writeln!(t, "# ? the graph has no input\n[input]\nname = \"?\"\n");
        return;
    };
    let (c, h, w) = (p.shape.get(1), p.shape.get(2), p.shape.get(3));
    let _ = writeln!(t, "[input]\nname = \"{}\"", p.name);
    if p.shape.len() != 4 {
        let _ = writeln!(
            t,
            "# ? the input is {} dimensions; Overread feeds NCHW (4)",
            p.shape.len()
        );
    }
    for (key, d, hint) in [("height", h, "rows"), ("width", w, "columns")] {
        match known(d) {
            Some(v) => {
                let _ = writeln!(t, "{key} = {v}");
            }
            None => {
                let _ = writeln!(
                    t,
                    "# ? the graph leaves the {hint} open: the size the model was trained at\n{key} = \"?\""
                );
            }
        }
    }
    match known(c) {
        Some(v) => {
            let _ = writeln!(t, "channels = {v}");
        }
        None => {
            let _ = writeln!(
                t,
                "# ? 1 (grey) or 3 (the grey image repeated)\nchannels = \"?\""
            );
        }
    }
    if p.dtype != "Float32" {
        let _ = writeln!(t, "# ? the input is {}; Overread feeds float32", p.dtype);
    }
    let _ = writeln!(
        t,
        "layout = \"NCHW\"\ndtype = \"float32\"\n\
         # ? the values the model was trained on: display black maps to the first,\n\
         # white to the second (e.g. [0.0, 1.0], or torchxrayvision's [-1024.0, 1024.0])\n\
         range = \"?\"\n# ? apply the image's window (VOI) first, as a reader sees it\nvoi = true\n\
         # ? \"letterbox\" (keep the aspect ratio, pad) or \"stretch\"\nresize = \"?\"\n\
         interpolation = \"bilinear\"\npad_value = 0.0\n"
    );
}

fn outputs(t: &mut String, outs: &[Port]) {
    let scores = outs.iter().find(|p| p.shape.len() == 2);
    let heatmap = outs.iter().find(|p| p.shape.len() == 4);
    let classes = scores.and_then(|p| known(p.shape.get(1)));
    let labels = match classes {
        Some(k) => vec!["\"?\""; k].join(", "),
        None => "\"?\"".into(),
    };
    let _ = writeln!(
        t,
        "[output.scores]\nname = \"{}\"\n# ? one finding name per score, in the output's order\nlabels = [{labels}]\n\
         # ? \"sigmoid\" or \"softmax\" when the output is logits, \"none\" when probabilities\nactivation = \"?\"\n",
        scores.map_or("?", |p| p.name.as_str())
    );
    if let Some(h) = heatmap {
        let _ = writeln!(
            t,
            "[output.heatmap]\nname = \"{}\"\n# ? \"cam\" (class activation map) or \"segmentation\"\nkind = \"?\"\n\
             # ? as for the scores\nactivation = \"?\"\n",
            h.name
        );
    }
    for p in outs {
        let used = [scores, heatmap].iter().flatten().any(|u| u.name == p.name);
        if !used {
            let _ = writeln!(
                t,
                "# ? output {} {} is not read by this draft (boxes or masks?)",
                p.name,
                dims(&p.shape)
            );
        }
    }
    let _ = writeln!(
        t,
        "[thresholds]\n# ? one operating threshold (0–1) per label, e.g. opacity = 0.5\n\"?\" = 0.5"
    );
}
