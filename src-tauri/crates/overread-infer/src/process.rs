//! From display-ready pixels to the model tensor, and from the model's
//! heatmap back to image pixel coordinates, so an overlay registers exactly.

use serde::Serialize;

use crate::manifest::{InputSpec, Resize};

/// A grayscale image of display values (0 = black, 65535 = white; MONOCHROME1 already inverted).
#[derive(Debug, Clone, Copy)]
pub struct GrayImage<'a> {
    pub width: usize,
    pub height: usize,
    pub pixels: &'a [u16],
}

/// How image pixels map into the model input: input = image · scale + pad.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Placement {
    pub scale_x: f64,
    pub scale_y: f64,
    pub pad_x: f64,
    pub pad_y: f64,
    pub input_width: usize,
    pub input_height: usize,
}

impl Placement {
    pub fn new(image_w: usize, image_h: usize, spec: &InputSpec) -> Placement {
        let (iw, ih) = (spec.width as f64, spec.height as f64);
        let (w, h) = (image_w.max(1) as f64, image_h.max(1) as f64);
        match spec.resize {
            Resize::Stretch => Placement {
                scale_x: iw / w,
                scale_y: ih / h,
                pad_x: 0.0,
                pad_y: 0.0,
                input_width: spec.width,
                input_height: spec.height,
            },
            Resize::Letterbox => {
                let s = (iw / w).min(ih / h);
                Placement {
                    scale_x: s,
                    scale_y: s,
                    pad_x: (iw - w * s) / 2.0,
                    pad_y: (ih - h * s) / 2.0,
                    input_width: spec.width,
                    input_height: spec.height,
                }
            }
        }
    }

    /// Image pixel centre (x, y) → input coordinates (continuous, pixel centres at +0.5).
    pub fn to_input(&self, x: f64, y: f64) -> (f64, f64) {
        (x * self.scale_x + self.pad_x, y * self.scale_y + self.pad_y)
    }

    /// Input coordinates → image coordinates.
    pub fn to_image(&self, x: f64, y: f64) -> (f64, f64) {
        (
            (x - self.pad_x) / self.scale_x,
            (y - self.pad_y) / self.scale_y,
        )
    }
}

/// Bilinear sample of a row-major grid at continuous (x, y), pixel centres at +0.5, clamped at the edges.
fn bilinear(grid: &[f32], w: usize, h: usize, x: f64, y: f64) -> f32 {
    let fx = (x - 0.5).clamp(0.0, (w - 1) as f64);
    let fy = (y - 0.5).clamp(0.0, (h - 1) as f64);
    let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = ((fx - x0 as f64) as f32, (fy - y0 as f64) as f32);
    let top = grid[y0 * w + x0] * (1.0 - ax) + grid[y0 * w + x1] * ax;
    let bottom = grid[y1 * w + x0] * (1.0 - ax) + grid[y1 * w + x1] * ax;
    top * (1.0 - ay) + bottom * ay
}

/// The NCHW input tensor: image resized (area-averaged when shrinking, then
/// bilinear), letterboxed or stretched, mapped to the manifest's range, and
/// repeated over the channels.
pub fn prepare(image: GrayImage<'_>, spec: &InputSpec) -> (Vec<f32>, Placement) {
    let p = Placement::new(image.width, image.height, spec);
    let (w, h) = (image.width, image.height);
    // Box-filter down by an integer factor first so bilinear sampling does not alias.
    let factor = ((1.0 / p.scale_x.max(p.scale_y)).floor() as usize).max(1);
    let (sw, sh) = (w / factor, h / factor);
    let mut small = vec![0f32; sw.max(1) * sh.max(1)];
    let norm = 1.0 / (65535.0 * (factor * factor) as f32);
    for sy in 0..sh {
        for sx in 0..sw {
            let mut acc = 0u64;
            for dy in 0..factor {
                let row = &image.pixels[(sy * factor + dy) * w + sx * factor..][..factor];
                acc += row.iter().map(|&v| u64::from(v)).sum::<u64>();
            }
            small[sy * sw + sx] = acc as f32 * norm;
        }
    }
    let (lo, hi) = (spec.range[0], spec.range[1]);
    let plane = spec.width * spec.height;
    let mut out = vec![lo + (hi - lo) * spec.pad_value; plane * spec.channels];
    for iy in 0..spec.height {
        for ix in 0..spec.width {
            let (x, y) = p.to_image(ix as f64 + 0.5, iy as f64 + 0.5);
            if x < 0.0 || y < 0.0 || x > w as f64 || y > h as f64 {
                continue; // letterbox padding
            }
            let v = bilinear(&small, sw, sh, x / factor as f64, y / factor as f64);
            out[iy * spec.width + ix] = lo + (hi - lo) * v;
        }
    }
    for c in 1..spec.channels {
        out.copy_within(0..plane, c * plane);
    }
    if let (Some(mean), Some(std)) = (&spec.mean, &spec.std) {
        for (c, (m, s)) in mean.iter().zip(std).enumerate().take(spec.channels) {
            for v in &mut out[c * plane..(c + 1) * plane] {
                *v = (*v - m) / s;
            }
        }
    }
    (out, p)
}

/// A heatmap resampled onto the image's own pixel grid.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredHeatmap {
    pub width: usize,
    pub height: usize,
    /// One value in [0, 1] per image pixel, row-major.
    pub values: Vec<f32>,
}

/// A rectangle in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoxPx {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// Maps a model heatmap (hm_w × hm_h, covering the whole input) back onto
/// the image: undo the resize and letterbox, bilinear in between.
pub fn register(
    heatmap: &[f32],
    hm_w: usize,
    hm_h: usize,
    p: &Placement,
    image_w: usize,
    image_h: usize,
) -> RegisteredHeatmap {
    let (sx, sy) = (
        hm_w as f64 / p.input_width as f64,
        hm_h as f64 / p.input_height as f64,
    );
    let mut values = Vec::with_capacity(image_w * image_h);
    for y in 0..image_h {
        for x in 0..image_w {
            let (ix, iy) = p.to_input(x as f64 + 0.5, y as f64 + 0.5);
            values.push(bilinear(heatmap, hm_w, hm_h, ix * sx, iy * sy).clamp(0.0, 1.0));
        }
    }
    RegisteredHeatmap {
        width: image_w,
        height: image_h,
        values,
    }
}

impl RegisteredHeatmap {
    /// The hottest pixel (x, y).
    pub fn peak(&self) -> (usize, usize) {
        let i =
            self.values.iter().enumerate().fold(
                0,
                |best, (i, &v)| if v > self.values[best] { i } else { best },
            );
        (i % self.width, i / self.width)
    }

    /// Bounding box of the connected region at or above `threshold` that holds the peak.
    pub fn peak_box(&self, threshold: f32) -> Option<BoxPx> {
        let (px, py) = self.peak();
        if self.values[py * self.width + px] < threshold {
            return None;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (px, py, px, py);
        let mut seen = vec![false; self.values.len()];
        let mut stack = vec![(px, py)];
        seen[py * self.width + px] = true;
        while let Some((x, y)) = stack.pop() {
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            let neighbours = [
                (x.wrapping_sub(1), y),
                (x + 1, y),
                (x, y.wrapping_sub(1)),
                (x, y + 1),
            ];
            for (nx, ny) in neighbours {
                if nx < self.width && ny < self.height {
                    let i = ny * self.width + nx;
                    if !seen[i] && self.values[i] >= threshold {
                        seen[i] = true;
                        stack.push((nx, ny));
                    }
                }
            }
        }
        Some(BoxPx {
            x: x0 as f64,
            y: y0 as f64,
            width: (x1 - x0 + 1) as f64,
            height: (y1 - y0 + 1) as f64,
        })
    }
}

/// Applies an activation to raw outputs.
pub fn activate(values: &[f32], activation: crate::manifest::Activation) -> Vec<f32> {
    use crate::manifest::Activation;
    match activation {
        Activation::None => values.to_vec(),
        Activation::Sigmoid => values.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect(),
        Activation::Softmax => {
            let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = values.iter().map(|&v| (v - max).exp()).collect();
            let sum: f32 = exp.iter().sum();
            exp.into_iter().map(|v| v / sum).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Resize;

    fn spec(w: usize, h: usize, resize: Resize) -> InputSpec {
        InputSpec {
            name: "image".into(),
            height: h,
            width: w,
            channels: 1,
            layout: "NCHW".into(),
            dtype: "float32".into(),
            range: [0.0, 1.0],
            voi: true,
            resize,
            interpolation: "bilinear".into(),
            pad_value: 0.0,
            mean: None,
            std: None,
        }
    }

    #[test]
    fn letterbox_round_trips_coordinates() {
        let p = Placement::new(1841, 1955, &spec(256, 256, Resize::Letterbox));
        let (ix, iy) = p.to_input(900.0, 1000.0);
        let (x, y) = p.to_image(ix, iy);
        assert!((x - 900.0).abs() < 1e-9 && (y - 1000.0).abs() < 1e-9);
        assert!(
            p.pad_x > 1.0 && p.pad_y.abs() < 1e-9,
            "padding left and right of a tall image: {p:?}"
        );
    }

    #[test]
    fn a_bright_spot_comes_back_where_it_was() {
        // A 300×200 image with a bright disc at (210, 60); the "model" heatmap
        // is the input itself, so registration must put the peak back there.
        let (w, h) = (300usize, 200usize);
        let pixels: Vec<u16> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                if (x - 210.0).powi(2) + (y - 60.0).powi(2) < 100.0 {
                    65535
                } else {
                    0
                }
            })
            .collect();
        for resize in [Resize::Letterbox, Resize::Stretch] {
            let s = spec(64, 64, resize);
            let (tensor, p) = prepare(
                GrayImage {
                    width: w,
                    height: h,
                    pixels: &pixels,
                },
                &s,
            );
            let reg = register(&tensor, 64, 64, &p, w, h);
            let (px, py) = reg.peak();
            assert!(
                (px as f64 - 210.0).abs() < 6.0 && (py as f64 - 60.0).abs() < 6.0,
                "{resize:?}: peak at ({px}, {py})"
            );
            let b = reg.peak_box(0.5).expect("box");
            assert!(
                b.x <= 210.0 && b.x + b.width >= 210.0 && b.y <= 60.0 && b.y + b.height >= 60.0,
                "{b:?}"
            );
        }
    }

    #[test]
    fn activations() {
        let s = activate(&[0.0, 2.0], crate::manifest::Activation::Softmax);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(
            activate(&[0.0], crate::manifest::Activation::Sigmoid),
            vec![0.5]
        );
    }
}
