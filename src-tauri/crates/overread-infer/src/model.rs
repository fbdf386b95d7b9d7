//! A model: its manifest, its checked weights, its session, and the whole
//! path from display pixels to findings with registered heatmaps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backend::{EpChoice, InferenceBackend, OrtBackend, ServedBy};
use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::process::{self, BoxPx, GrayImage, Placement, RegisteredHeatmap};

/// What the intended-use check needs to know about a study.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudyInfo {
    pub modality: Option<String>,
    pub view_position: Option<String>,
    pub body_part: Option<String>,
    pub age_years: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub label: String,
    pub score: f32,
    pub threshold: f32,
    pub flagged: bool,
    /// Region of the heatmap's hottest connected area at the threshold, in image pixels.
    #[serde(rename = "box")]
    pub bbox: Option<BoxPx>,
}

/// A heatmap channel at the model's resolution, with how it maps onto the image.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelHeatmap {
    pub label: String,
    pub width: usize,
    pub height: usize,
    /// In [0, 1], row-major.
    pub values: Vec<f32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    pub preprocess: f64,
    pub infer: f64,
    pub post: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    pub findings: Vec<Finding>,
    pub heatmaps: Vec<ModelHeatmap>,
    pub placement: Placement,
    pub image_width: usize,
    pub image_height: usize,
    pub execution_provider: String,
    /// The inference server that ran it, when a remote backend did.
    pub served_by: Option<ServedBy>,
    /// A detection model's boxes, best first (empty for other models).
    pub detections: Vec<crate::detect::Detection>,
    pub ms: Timings,
}

impl Inference {
    /// The heatmap of `label` on the image's own pixel grid.
    pub fn registered(&self, label: &str) -> Option<RegisteredHeatmap> {
        let h = self.heatmaps.iter().find(|h| h.label == label)?;
        Some(process::register(
            &h.values,
            h.width,
            h.height,
            &self.placement,
            self.image_width,
            self.image_height,
        ))
    }
}

/// A loaded model. The session is created once and reused.
pub struct Model {
    pub manifest: Manifest,
    pub dir: PathBuf,
    backend: Box<dyn InferenceBackend>,
    /// Why a requested GPU provider was not used (auto only).
    pub fallback: Option<String>,
    /// How this site uses the model (its thresholds, whether it may flag).
    site: SiteUse,
}

/// How a site uses a model, beside its signed manifest (never edited).
#[derive(Debug, Clone, PartialEq)]
pub struct SiteUse {
    /// Per-label thresholds set at this site, over the manifest's.
    pub thresholds: BTreeMap<String, f32>,
    /// false: scores are computed but nothing is flagged (a clinical model
    /// not validated here, or retired here).
    pub may_flag: bool,
}

impl Default for SiteUse {
    fn default() -> SiteUse {
        SiteUse {
            thresholds: BTreeMap::new(),
            may_flag: true,
        }
    }
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.manifest.name)
            .field("ep", &self.backend.execution_provider())
            .finish()
    }
}

/// Reads and checks `dir/manifest.toml` and `dir/model.onnx`.
pub fn read_model(dir: &Path) -> Result<(Manifest, Vec<u8>)> {
    let manifest_path = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::Manifest {
        path: manifest_path.clone(),
        message: e.to_string(),
    })?;
    let manifest = Manifest::parse(&text).map_err(|message| Error::Manifest {
        path: manifest_path.clone(),
        message,
    })?;
    let model_path = dir.join("model.onnx");
    let bytes = std::fs::read(&model_path).map_err(|e| Error::Manifest {
        path: model_path.clone(),
        message: e.to_string(),
    })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if !actual.eq_ignore_ascii_case(&manifest.sha256) {
        return Err(Error::Checksum {
            path: model_path,
            expected: manifest.sha256.clone(),
            actual,
        });
    }
    Ok((manifest, bytes))
}

impl Model {
    /// Applies this site's use of the model to every later inference.
    pub fn set_site_use(&mut self, site: SiteUse) {
        self.site = site;
    }

    pub fn site_use(&self) -> &SiteUse {
        &self.site
    }

    /// What results are cached under: the weights and this site's use of
    /// them (a threshold set here, or go-live, changes what is flagged).
    pub fn results_key(&self) -> String {
        let mut key = format!(
            "{}:{}",
            self.manifest.sha256.to_ascii_lowercase(),
            self.site.may_flag
        );
        for (label, t) in &self.site.thresholds {
            key.push_str(&format!(":{label}={t}"));
        }
        key
    }

    /// The threshold in force for `label`: the site's, else the manifest's.
    pub fn threshold(&self, label: &str) -> f32 {
        self.site
            .thresholds
            .get(label)
            .or_else(|| self.manifest.thresholds.get(label))
            .copied()
            .unwrap_or(0.5)
    }

    /// Loads the model in `dir` with the real ONNX Runtime.
    pub fn load(dir: &Path, runtime: Option<&Path>, ep: EpChoice, threads: usize) -> Result<Model> {
        let (manifest, bytes) = read_model(dir)?;
        let rt = crate::runtime::load(runtime)?;
        let (backend, fallback) = OrtBackend::new(&rt, &bytes, ep, threads)?;
        Ok(Model {
            manifest,
            dir: dir.to_path_buf(),
            backend: Box::new(backend),
            fallback,
            site: SiteUse::default(),
        })
    }

    /// A model over any backend (the fake one in unit tests).
    pub fn with_backend(manifest: Manifest, backend: Box<dyn InferenceBackend>) -> Model {
        Model {
            manifest,
            dir: PathBuf::new(),
            backend,
            fallback: None,
            site: SiteUse::default(),
        }
    }

    pub fn execution_provider(&self) -> &str {
        self.backend.execution_provider()
    }

    /// Why a study is outside the model's intended use, if it is.
    pub fn refusal(&self, study: &StudyInfo) -> Option<String> {
        self.manifest.intended_use.refusal(study)
    }

    /// Runs the model on display pixels (VOI applied, MONOCHROME1 inverted).
    pub fn infer(&mut self, image: GrayImage<'_>) -> Result<Inference> {
        if image.width == 0 || image.height == 0 || image.pixels.len() != image.width * image.height
        {
            return Err(Error::Input {
                message: format!(
                    "{}×{} image with {} pixels",
                    image.width,
                    image.height,
                    image.pixels.len()
                ),
            });
        }
        let m = &self.manifest;
        let t0 = Instant::now();
        let (tensor, placement) = process::prepare(image, &m.input);
        let t1 = Instant::now();
        let shape = [1, m.input.channels, m.input.height, m.input.width];
        let outputs = self.backend.run(&m.input.name, shape, tensor)?;
        let t2 = Instant::now();
        let labels = &m.output.scores.labels;
        let detections = match &m.output.boxes {
            Some(spec) => crate::detect::detections(
                &outputs,
                spec,
                labels,
                &placement,
                (image.width, image.height),
            )?,
            None => Vec::new(),
        };
        let scores = match &m.output.scores.name {
            Some(name) => {
                let (_, raw) = outputs.get(name).ok_or_else(|| Error::Run {
                    message: format!("the model has no output {name}"),
                })?;
                if raw.len() != labels.len() {
                    return Err(Error::Run {
                        message: format!("{} scores for {} labels", raw.len(), labels.len()),
                    });
                }
                process::activate(raw, m.output.scores.activation)
            }
            // A detection model: each finding scores as its best box.
            None => labels
                .iter()
                .map(|l| {
                    detections
                        .iter()
                        .find(|d| &d.label == l)
                        .map_or(0.0, |d| d.score)
                })
                .collect(),
        };
        let mut heatmaps = Vec::new();
        if let Some(spec) = &m.output.heatmap {
            let (shape, values) = outputs.get(&spec.name).ok_or_else(|| Error::Run {
                message: format!("the model has no output {}", spec.name),
            })?;
            let [_, k, h, w] = shape[..] else {
                return Err(Error::Run {
                    message: format!("heatmap shape {shape:?} is not 1×K×H×W"),
                });
            };
            if k != labels.len() || values.len() != k * h * w {
                return Err(Error::Run {
                    message: format!("heatmap has {k} channels for {} labels", labels.len()),
                });
            }
            for (i, label) in labels.iter().enumerate() {
                let channel =
                    process::activate(&values[i * h * w..(i + 1) * h * w], spec.activation);
                heatmaps.push(ModelHeatmap {
                    label: label.clone(),
                    width: w,
                    height: h,
                    values: channel,
                });
            }
        }
        let findings = labels
            .iter()
            .zip(&scores)
            .map(|(label, &score)| {
                let threshold = self.threshold(label);
                let bbox = match detections.iter().find(|d| &d.label == label) {
                    Some(d) => Some(d.bbox),
                    None => heatmaps.iter().find(|h| &h.label == label).and_then(|h| {
                        heatmap_box(h, threshold, &placement, image.width, image.height)
                    }),
                };
                Finding {
                    label: label.clone(),
                    score,
                    threshold,
                    flagged: self.site.may_flag && score >= threshold,
                    bbox,
                }
            })
            .collect();
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
        Ok(Inference {
            findings,
            heatmaps,
            placement,
            image_width: image.width,
            image_height: image.height,
            execution_provider: self.backend.execution_provider().to_string(),
            served_by: self.backend.served_by(),
            detections,
            ms: Timings {
                preprocess: ms(t0, t1),
                infer: ms(t1, t2),
                post: ms(t2, t3),
            },
        })
    }
}

/// The hottest connected region at `threshold`, found at heatmap resolution
/// and mapped into image pixels.
fn heatmap_box(
    h: &ModelHeatmap,
    threshold: f32,
    p: &Placement,
    image_w: usize,
    image_h: usize,
) -> Option<BoxPx> {
    let grid = RegisteredHeatmap {
        width: h.width,
        height: h.height,
        values: h.values.clone(),
    };
    let b = grid.peak_box(threshold)?;
    let (sx, sy) = (
        p.input_width as f64 / h.width as f64,
        p.input_height as f64 / h.height as f64,
    );
    let (x0, y0) = p.to_image(b.x * sx, b.y * sy);
    let (x1, y1) = p.to_image((b.x + b.width) * sx, (b.y + b.height) * sy);
    let (x0, y0) = (x0.clamp(0.0, image_w as f64), y0.clamp(0.0, image_h as f64));
    let (x1, y1) = (x1.clamp(0.0, image_w as f64), y1.clamp(0.0, image_h as f64));
    (x1 > x0 && y1 > y0).then(|| BoxPx {
        x: x0.floor(),
        y: y0.floor(),
        width: (x1 - x0).ceil(),
        height: (y1 - y0).ceil(),
    })
}
