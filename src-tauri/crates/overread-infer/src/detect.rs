//! A detection model's boxes: read from its outputs (one score per label,
//! or one per box with a class index), candidates below the minimum score
//! dropped, suppressed per label when the model outputs them before
//! non-maximum suppression, and mapped back to image pixels through the
//! same [`Placement`] as heatmaps. Bounded: at most [`MAX_CANDIDATES`]
//! boxes are read and [`MAX_PER_LABEL`] kept per label.

use serde::Serialize;

use crate::backend::Outputs;
use crate::error::{Error, Result};
use crate::manifest::{BoxFormat, BoxesSpec};
use crate::process::{BoxPx, Placement};

/// The most boxes a model may output.
pub const MAX_CANDIDATES: usize = 100_000;
/// The most boxes kept per label.
pub const MAX_PER_LABEL: usize = 100;

/// A box the model found, in image pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    pub label: String,
    pub score: f32,
    pub bbox: BoxPx,
}

fn output<'a>(outputs: &'a Outputs, name: &str) -> Result<(&'a [usize], &'a [f32])> {
    outputs
        .get(name)
        .map(|(s, v)| (s.as_slice(), v.as_slice()))
        .ok_or_else(|| Error::Run {
            message: format!("the model has no output {name}"),
        })
}

fn run(message: String) -> Error {
    Error::Run { message }
}

/// Intersection over union of two xyxy boxes.
fn iou(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let area = |r: &[f64; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// The boxes of one image, best first.
pub fn detections(
    outputs: &Outputs,
    spec: &BoxesSpec,
    labels: &[String],
    p: &Placement,
    image: (usize, usize),
) -> Result<Vec<Detection>> {
    let (bshape, boxes) = output(outputs, &spec.name)?;
    if bshape.last() != Some(&4) || boxes.len() % 4 != 0 {
        return Err(run(format!(
            "boxes {} have shape {bshape:?}, not [1, N, 4]",
            spec.name
        )));
    }
    let n = boxes.len() / 4;
    if n > MAX_CANDIDATES {
        return Err(run(format!("{n} boxes is more than {MAX_CANDIDATES}")));
    }
    let (_, scores) = output(outputs, &spec.scores)?;
    // (box, label index, score) candidates.
    let mut candidates: Vec<(usize, usize, f32)> = Vec::new();
    if scores.len() == n * labels.len() {
        for (i, row) in scores.chunks_exact(labels.len()).enumerate() {
            candidates.extend(row.iter().enumerate().map(|(k, &s)| (i, k, s)));
        }
    } else if scores.len() == n {
        let classes = match &spec.classes {
            Some(name) => output(outputs, name)?.1,
            None => {
                return Err(run(format!(
                    "{} labels and one score per box: output.boxes.classes is needed",
                    labels.len()
                )));
            }
        };
        if classes.len() != n {
            return Err(run(format!("{} classes for {n} boxes", classes.len())));
        }
        for (i, (&s, &c)) in scores.iter().zip(classes).enumerate() {
            let k = c.round();
            if !(k >= 0.0 && (k as usize) < labels.len()) {
                return Err(run(format!(
                    "box {i} has class {c}, not one of {} labels",
                    labels.len()
                )));
            }
            candidates.push((i, k as usize, s));
        }
    } else {
        return Err(run(format!(
            "{} box scores for {n} boxes and {} labels",
            scores.len(),
            labels.len()
        )));
    }
    candidates.retain(|&(_, _, s)| s.is_finite() && s >= spec.min_score);
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2));

    let (iw, ih) = (p.input_width as f64, p.input_height as f64);
    let corners = |i: usize| -> [f64; 4] {
        let b: [f64; 4] = std::array::from_fn(|j| f64::from(boxes[i * 4 + j]));
        let b = match spec.format {
            BoxFormat::Xyxy => b,
            BoxFormat::Cxcywh => [
                b[0] - b[2] / 2.0,
                b[1] - b[3] / 2.0,
                b[0] + b[2] / 2.0,
                b[1] + b[3] / 2.0,
            ],
        };
        if spec.normalized {
            [b[0] * iw, b[1] * ih, b[2] * iw, b[3] * ih]
        } else {
            b
        }
    };
    let mut kept: Vec<(usize, usize, f32, [f64; 4])> = Vec::new();
    for (i, k, s) in candidates {
        let b = corners(i);
        let same_label = kept.iter().filter(|x| x.1 == k);
        if same_label.clone().count() >= MAX_PER_LABEL {
            continue;
        }
        if let Some(t) = spec.nms_iou
            && same_label.clone().any(|x| iou(&x.3, &b) >= f64::from(t))
        {
            continue;
        }
        kept.push((i, k, s, b));
    }
    let (w, h) = (image.0 as f64, image.1 as f64);
    Ok(kept
        .into_iter()
        .filter_map(|(_, k, score, b)| {
            let (x0, y0) = p.to_image(b[0], b[1]);
            let (x1, y1) = p.to_image(b[2], b[3]);
            let (x0, y0, x1, y1) = (
                x0.clamp(0.0, w),
                y0.clamp(0.0, h),
                x1.clamp(0.0, w),
                y1.clamp(0.0, h),
            );
            (x1 > x0 && y1 > y0).then(|| Detection {
                label: labels[k].clone(),
                score,
                bbox: BoxPx {
                    x: x0,
                    y: y0,
                    width: x1 - x0,
                    height: y1 - y0,
                },
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_candidates_are_suppressed_per_label() {
        let a = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(iou(&a, &a), 1.0);
        assert_eq!(iou(&a, &[20.0, 20.0, 30.0, 30.0]), 0.0);
        assert!((iou(&a, &[5.0, 0.0, 15.0, 10.0]) - 1.0 / 3.0).abs() < 1e-12);
    }
}
