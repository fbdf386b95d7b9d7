//! models/NAME/manifest.toml: everything about a model that is not its
//! weights. Nothing about a model is hard-coded elsewhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::StudyInfo;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    pub licence: String,
    /// false: demonstration only; every place that shows results must say so.
    pub clinical: bool,
    /// SHA-256 of model.onnx, checked at load.
    pub sha256: String,
    #[serde(default)]
    pub description: String,
    pub intended_use: IntendedUse,
    pub input: InputSpec,
    pub output: OutputSpec,
    /// Operating threshold per finding label.
    pub thresholds: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntendedUse {
    pub modalities: Vec<String>,
    pub views: Vec<String>,
    pub body_parts: Vec<String>,
    pub min_age_years: Option<u32>,
}

impl IntendedUse {
    /// Why a study is outside the model's intended use, if it is.
    pub fn refusal(&self, study: &StudyInfo) -> Option<String> {
        let u = self;
        let check = |what: &str, value: &Option<String>, allowed: &[String]| -> Option<String> {
            if allowed.is_empty() {
                return None;
            }
            match value {
                Some(v) if allowed.iter().any(|a| a.eq_ignore_ascii_case(v.trim())) => None,
                Some(v) => Some(format!(
                    "{what} {v} is outside the intended use ({})",
                    allowed.join(", ")
                )),
                None => Some(format!(
                    "{what} is not recorded; the intended use requires {}",
                    allowed.join(", ")
                )),
            }
        };
        check("modality", &study.modality, &u.modalities)
            .or_else(|| check("view position", &study.view_position, &u.views))
            .or_else(|| check("body part", &study.body_part, &u.body_parts))
            .or_else(|| match (u.min_age_years, study.age_years) {
                (Some(min), Some(age)) if age < min => Some(format!(
                    "patient age {age} is below the intended minimum of {min}"
                )),
                (Some(min), None) => Some(format!(
                    "patient age is not recorded; the intended use requires {min} or older"
                )),
                _ => None,
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resize {
    /// Keep the aspect ratio, pad to the input size.
    Letterbox,
    /// Scale each axis to the input size.
    Stretch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: String,
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    /// Only "NCHW" for now.
    pub layout: String,
    /// Only "float32" for now.
    pub dtype: String,
    /// Display value 0 maps to range[0], full white to range[1] (e.g. torchxrayvision's [-1024, 1024]).
    pub range: [f32; 2],
    /// Apply the image's VOI (window) first; otherwise the full stored range is used.
    pub voi: bool,
    pub resize: Resize,
    /// Only "bilinear" for now.
    pub interpolation: String,
    /// Padding value in display units [0, 1] for letterboxing.
    #[serde(default)]
    pub pad_value: f32,
    /// Per-channel normalisation after the range, `(value - mean[c]) /
    /// std[c]` (ImageNet-style models: range [0, 1], mean [0.485, 0.456,
    /// 0.406], std [0.229, 0.224, 0.225]); both or neither, one per channel.
    #[serde(default)]
    pub mean: Option<Vec<f32>>,
    #[serde(default)]
    pub std: Option<Vec<f32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    None,
    Sigmoid,
    Softmax,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoresSpec {
    /// The image-level scores output, [1, K]; absent for a detection model
    /// whose findings score as their best box.
    #[serde(default)]
    pub name: Option<String>,
    pub labels: Vec<String>,
    /// Applied to the raw output to get probabilities.
    #[serde(default = "no_activation")]
    pub activation: Activation,
}

fn no_activation() -> Activation {
    Activation::None
}

/// How a detection model's box coordinates are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxFormat {
    /// Left, top, right, bottom.
    Xyxy,
    /// Centre x, centre y, width, height.
    Cxcywh,
}

/// A detection model's boxes: mapped back to image pixels like heatmaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxesSpec {
    /// Boxes, [1, N, 4] or [N, 4].
    pub name: String,
    /// Their scores: [1, N, K] (one per label) or [1, N] / [N] with `classes`.
    pub scores: String,
    /// Each box's label index, [1, N] or [N], when `scores` has one per box.
    #[serde(default)]
    pub classes: Option<String>,
    pub format: BoxFormat,
    /// Coordinates in 0–1 of the input's size; otherwise input pixels.
    #[serde(default)]
    pub normalized: bool,
    /// The boxes are candidates before non-maximum suppression: Overread
    /// suppresses, per label, each box overlapping a higher-scored one by
    /// this IoU or more. Absent: the model has suppressed them.
    #[serde(default)]
    pub nms_iou: Option<f32>,
    /// Boxes scored below this are dropped before anything else.
    #[serde(default = "min_box_score")]
    pub min_score: f32,
}

fn min_box_score() -> f32 {
    0.05
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatmapSpec {
    pub name: String,
    /// "cam" (class activation map) or "segmentation".
    pub kind: String,
    pub activation: Activation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub scores: ScoresSpec,
    pub heatmap: Option<HeatmapSpec>,
    #[serde(default)]
    pub boxes: Option<BoxesSpec>,
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, String> {
        // A draft's questions (`overread model init`) are never run.
        let question = text.lines().enumerate().find(|(_, l)| {
            l.split('#')
                .next()
                .is_some_and(|code| code.contains("\"?\""))
        });
        if let Some((n, line)) = question {
            return Err(format!(
                "line {}: {} is a question from `overread model init` still to answer",
                n + 1,
                line.trim()
            ));
        }
        let m: Manifest = toml::from_str(text).map_err(|e| e.message().replace('\n', " "))?;
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), String> {
        if self.sha256.len() != 64 || !self.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("sha256 must be 64 hexadecimal digits".into());
        }
        let i = &self.input;
        if i.layout != "NCHW" || i.dtype != "float32" || i.interpolation != "bilinear" {
            return Err("input must be NCHW float32 with bilinear interpolation".into());
        }
        if !(1..=4096).contains(&i.height)
            || !(1..=4096).contains(&i.width)
            || !matches!(i.channels, 1 | 3)
        {
            return Err(format!(
                "input size {}×{}×{} is not supported",
                i.channels, i.height, i.width
            ));
        }
        if !(i.range[0].is_finite() && i.range[1].is_finite()) || i.range[0] == i.range[1] {
            return Err("input range must be two different finite numbers".into());
        }
        match (&i.mean, &i.std) {
            (None, None) => {}
            (Some(m), Some(s))
                if m.len() == i.channels
                    && s.len() == i.channels
                    && m.iter().all(|v| v.is_finite())
                    && s.iter().all(|v| v.is_finite() && *v != 0.0) => {}
            _ => {
                return Err(format!(
                    "input mean and std must both be given, {} finite numbers each, std not 0",
                    i.channels
                ));
            }
        }
        let o = &self.output;
        if o.scores.name.is_none() && o.boxes.is_none() {
            return Err("output.scores.name is needed unless the model outputs boxes".into());
        }
        if let Some(b) = &o.boxes
            && (b.nms_iou.is_some_and(|v| !(v > 0.0 && v <= 1.0))
                || !(0.0..=1.0).contains(&b.min_score))
        {
            return Err(
                "output.boxes: nms_iou must be above 0 and at most 1, min_score 0–1".into(),
            );
        }
        if self.output.scores.labels.is_empty() {
            return Err("output.scores.labels is empty".into());
        }
        if let Some(unknown) = self
            .thresholds
            .keys()
            .find(|k| !self.output.scores.labels.contains(k))
        {
            return Err(format!(
                "threshold for {unknown}, which is not an output label"
            ));
        }
        for label in &self.output.scores.labels {
            match self.thresholds.get(label) {
                Some(t) if (0.0..=1.0).contains(t) => {}
                Some(t) => return Err(format!("threshold {t} for {label} is outside 0–1")),
                None => return Err(format!("no threshold for {label}")),
            }
        }
        Ok(())
    }
}
