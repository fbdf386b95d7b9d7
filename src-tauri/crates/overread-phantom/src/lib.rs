//! # overread-phantom
//!
//! Synthetic chest-like radiographs with ground truth, so that tests and the
//! demo worklist never need patient data. A phantom is an attenuation map
//! (body, lung fields, mediastinum and heart, diaphragm, ribs and clavicles,
//! quantum-like noise) plus optional round opacities at known positions and
//! sizes, written as a CR or DX instance with plausible, obviously fictitious
//! headers.
//!
//! Everything is deterministic in the seed.

use std::path::{Path, PathBuf};

use overread_dicom::write::{SyntheticImage, write_synthetic};
use serde::{Deserialize, Serialize};

/// A round opacity (nodule or mass) in pixel coordinates of the image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Opacity {
    /// Centre column, pixels.
    pub x: f64,
    /// Centre row, pixels.
    pub y: f64,
    /// Radius, pixels.
    pub radius: f64,
    /// Peak added attenuation, in the phantom's 0–1 attenuation units.
    pub contrast: f64,
}

/// Everything that defines one phantom image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhantomSpec {
    pub seed: u64,
    pub rows: u16,
    pub cols: u16,
    pub opacities: Vec<Opacity>,
    /// Noise standard deviation in attenuation units.
    pub noise: f64,
}

/// Small, fast, deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Smooth inside-ness of an ellipse: 1 well inside, 0 outside, soft edge.
fn ellipse(x: f64, y: f64, cx: f64, cy: f64, rx: f64, ry: f64, edge: f64) -> f64 {
    let d = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
    ((1.0 - d) / edge).clamp(0.0, 1.0)
}

impl PhantomSpec {
    /// The lung field mask value (0–1) at a pixel: where opacities belong.
    pub fn lung(&self, x: f64, y: f64) -> f64 {
        let (w, h) = (f64::from(self.cols), f64::from(self.rows));
        let (u, v) = (x / w, y / h);
        let right = ellipse(u, v, 0.32, 0.47, 0.16, 0.30, 0.08);
        let left = ellipse(u, v, 0.68, 0.47, 0.15, 0.29, 0.08);
        right.max(left)
    }

    /// A random spec with `count` opacities placed inside the lung fields.
    pub fn random(seed: u64, rows: u16, cols: u16, count: usize) -> PhantomSpec {
        let mut rng = Rng::new(seed);
        let mut spec = PhantomSpec {
            seed,
            rows,
            cols,
            opacities: Vec::new(),
            noise: 0.012,
        };
        let scale = f64::from(rows.min(cols));
        let mut attempts = 0;
        while spec.opacities.len() < count && attempts < 1000 {
            attempts += 1;
            let radius = rng.range(0.02, 0.05) * scale;
            let x = rng.range(0.15, 0.85) * f64::from(cols);
            let y = rng.range(0.2, 0.75) * f64::from(rows);
            // Whole opacity well inside a lung, apart from the others.
            let inside = (0..8).all(|k| {
                let a = f64::from(k) * std::f64::consts::FRAC_PI_4;
                spec.lung(x + radius * a.cos(), y + radius * a.sin()) > 0.6
            });
            let apart = spec.opacities.iter().all(|o| {
                ((o.x - x).powi(2) + (o.y - y).powi(2)).sqrt() > o.radius + radius + 0.05 * scale
            });
            if inside && apart {
                spec.opacities.push(Opacity {
                    x,
                    y,
                    radius,
                    contrast: rng.range(0.18, 0.3),
                });
            }
        }
        spec
    }

    /// Renders the attenuation map, row-major, values in about 0–1.
    pub fn render(&self) -> Vec<f32> {
        let (w, h) = (f64::from(self.cols), f64::from(self.rows));
        let mut rng = Rng::new(self.seed.wrapping_add(1));
        // Rib arcs: per side, 10 ribs descending laterally.
        let ribs: Vec<(f64, f64, f64)> = (0..10)
            .map(|i| {
                (
                    0.2 + 0.058 * f64::from(i),
                    rng.range(-0.01, 0.01),
                    rng.range(0.9, 1.1),
                )
            })
            .collect();
        let mut out = Vec::with_capacity(self.rows as usize * self.cols as usize);
        for r in 0..self.rows {
            for c in 0..self.cols {
                let (x, y) = (f64::from(c) + 0.5, f64::from(r) + 0.5);
                let (u, v) = (x / w, y / h);
                // Body and soft tissue.
                let body = ellipse(u, v, 0.5, 0.55, 0.46, 0.62, 0.1);
                let mut a = 0.08 + 0.55 * body;
                // Lungs are dark (little attenuation), below the diaphragm is not.
                let lung = self.lung(x, y);
                let dome = 0.74 + 0.05 * ((u - 0.5).abs() * 4.0).min(1.0);
                let below = ((v - dome) / 0.03).clamp(0.0, 1.0);
                a -= 0.38 * lung * (1.0 - below);
                // Mediastinum, spine and heart.
                a += 0.25 * ellipse(u, v, 0.5, 0.45, 0.07, 0.4, 0.3);
                a += 0.22 * ellipse(u, v, 0.56, 0.62, 0.14, 0.12, 0.3);
                // Ribs: thin bands along parabolic arcs, on both sides.
                for &(level, jitter, curve) in &ribs {
                    let side = (u - 0.5).abs();
                    let centre =
                        level + jitter + 0.22 * curve * (side - 0.05).max(0.0).powi(2) * 4.0
                            - 0.06 * side;
                    let d = (v - centre).abs();
                    if side > 0.06 && side < 0.45 {
                        a += 0.09 * ((0.012 - d) / 0.006).clamp(0.0, 1.0) * body;
                    }
                }
                // Clavicles.
                let clav = (v - (0.17 + 0.1 * ((u - 0.5).abs() - 0.1))).abs();
                if (u - 0.5).abs() > 0.04 && (u - 0.5).abs() < 0.3 {
                    a += 0.12 * ((0.014 - clav) / 0.007).clamp(0.0, 1.0);
                }
                // Opacities: smooth-edged discs.
                for o in &self.opacities {
                    let d = ((x - o.x).powi(2) + (y - o.y).powi(2)).sqrt() / o.radius;
                    a += o.contrast * ((1.0 - d) / 0.25).clamp(0.0, 1.0);
                }
                a += self.noise * rng.normal();
                out.push(a as f32);
            }
        }
        out
    }
}

impl PhantomSpec {
    /// Renders a left lateral view of the same chest (facing the viewer's
    /// left): body, one superimposed lung field, the heart in front, the
    /// spine behind, the diaphragm. Opacities are not projected: the demo
    /// models read frontal views only.
    pub fn render_lateral(&self) -> Vec<f32> {
        let (w, h) = (f64::from(self.cols), f64::from(self.rows));
        let mut rng = Rng::new(self.seed.wrapping_add(2));
        let mut out = Vec::with_capacity(self.rows as usize * self.cols as usize);
        for r in 0..self.rows {
            for c in 0..self.cols {
                let (u, v) = ((f64::from(c) + 0.5) / w, (f64::from(r) + 0.5) / h);
                let body = ellipse(u, v, 0.5, 0.55, 0.36, 0.62, 0.1);
                let mut a = 0.08 + 0.6 * body;
                let lung = ellipse(u, v, 0.52, 0.46, 0.24, 0.3, 0.1);
                let below = ((v - (0.72 + 0.06 * (u - 0.35))) / 0.03).clamp(0.0, 1.0);
                a -= 0.32 * lung * (1.0 - below);
                a += 0.2 * ellipse(u, v, 0.38, 0.6, 0.13, 0.14, 0.3);
                // Vertebral bodies: a column of blocks behind the lungs.
                let block = (v * 14.0).fract();
                if (0.72..0.8).contains(&u) && v > 0.12 && block > 0.12 {
                    a += 0.22 * body;
                }
                a += self.noise * rng.normal();
                out.push(a as f32);
            }
        }
        out
    }
}

/// Identifiers and acquisition details of one phantom study.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhantomStudy {
    pub spec: PhantomSpec,
    pub patient_id: String,
    pub patient_name: String,
    pub patient_age_years: u8,
    pub patient_sex: String,
    pub accession_number: String,
    pub study_date: String,
    pub study_instance_uid: String,
    pub series_instance_uid: String,
    pub sop_instance_uid: String,
    pub modality: String,
    pub view_position: String,
    pub monochrome1: bool,
    /// The study also has a left lateral view (its own series).
    #[serde(default)]
    pub lateral: Option<LateralView>,
}

/// A phantom study's lateral view.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LateralView {
    pub series_instance_uid: String,
    pub sop_instance_uid: String,
}

/// A UID under the 2.25 root (ITU-T X.667): the decimal of 128 bits drawn
/// from the seeded generator, so phantoms are reproducible.
pub fn uid(rng: &mut Rng) -> String {
    let v = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    format!("2.25.{}", v >> 1)
}

impl PhantomStudy {
    /// A study with plausible, fictitious identifiers.
    pub fn new(index: u32, seed: u64, rows: u16, cols: u16, opacities: usize) -> PhantomStudy {
        let mut rng = Rng::new(seed ^ 0xC0FF_EE00);
        let names = [
            "ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO", "FOXTROT", "GOLF", "HOTEL", "INDIA",
            "JULIET", "KILO", "LIMA",
        ];
        let name = names[index as usize % names.len()];
        let modality = if rng.uniform() < 0.5 { "CR" } else { "DX" };
        let view = if rng.uniform() < 0.8 { "PA" } else { "AP" };
        PhantomStudy {
            spec: PhantomSpec::random(seed, rows, cols, opacities),
            patient_id: format!("OVR-PH-{:04}", index + 1),
            patient_name: format!("PHANTOM^{name}"),
            patient_age_years: 25 + (rng.next_u64() % 60) as u8,
            patient_sex: if rng.uniform() < 0.5 { "F" } else { "M" }.into(),
            accession_number: format!("OVRDEMO{:05}", index + 1),
            study_date: format!("202611{:02}", 1 + index % 28),
            study_instance_uid: uid(&mut rng),
            series_instance_uid: uid(&mut rng),
            sop_instance_uid: uid(&mut rng),
            modality: modality.into(),
            view_position: view.into(),
            monochrome1: modality == "CR",
            lateral: None,
        }
    }

    /// Gives the study a left lateral view (UIDs drawn from the study's
    /// seed, so the same study always has the same lateral).
    pub fn with_lateral(mut self) -> PhantomStudy {
        let mut rng = Rng::new(self.spec.seed ^ 0x1A7E_0A11);
        self.lateral = Some(LateralView {
            series_instance_uid: uid(&mut rng),
            sop_instance_uid: uid(&mut rng),
        });
        self
    }

    /// Renders and writes the study's frontal view as one DICOM file in
    /// `dir`, and its lateral (`{accession}-LAT.dcm`) when it has one;
    /// returns the frontal's path.
    pub fn write(&self, dir: &Path) -> overread_dicom::Result<PathBuf> {
        let path = dir.join(format!("{}.dcm", self.accession_number));
        let frontal = View {
            series_instance_uid: &self.series_instance_uid,
            sop_instance_uid: &self.sop_instance_uid,
            view_position: &self.view_position,
            series_number: 1,
        };
        self.write_view(&path, &frontal, &self.spec.render())?;
        if let Some(lateral) = &self.lateral {
            let view = View {
                series_instance_uid: &lateral.series_instance_uid,
                sop_instance_uid: &lateral.sop_instance_uid,
                view_position: "LL",
                series_number: 2,
            };
            let lateral_path = dir.join(format!("{}-LAT.dcm", self.accession_number));
            self.write_view(&lateral_path, &view, &self.spec.render_lateral())?;
        }
        Ok(path)
    }

    fn write_view(
        &self,
        path: &Path,
        view: &View<'_>,
        attenuation: &[f32],
    ) -> overread_dicom::Result<()> {
        let max = 4095.0;
        let pixels: Vec<u16> = attenuation
            .iter()
            .map(|&a| {
                let v = (f64::from(a).clamp(0.0, 1.0) * max).round();
                // MONOCHROME1 stores high attenuation as low values.
                if self.monochrome1 {
                    (max - v) as u16
                } else {
                    v as u16
                }
            })
            .collect();
        let birth_year = 2026 - i32::from(self.patient_age_years);
        let birth = format!("{birth_year}0101");
        let age = format!("{:03}Y", self.patient_age_years);
        let description = match view.view_position {
            "LL" | "RL" => "CHEST LATERAL",
            "AP" => "CHEST AP",
            _ => "CHEST PA",
        };
        let image = SyntheticImage {
            patient_id: &self.patient_id,
            patient_name: &self.patient_name,
            patient_birth_date: &birth,
            patient_sex: &self.patient_sex,
            patient_age: &age,
            study_instance_uid: &self.study_instance_uid,
            series_instance_uid: view.series_instance_uid,
            sop_instance_uid: view.sop_instance_uid,
            accession_number: &self.accession_number,
            study_date: &self.study_date,
            study_time: "093000",
            study_description: "XR CHEST (SYNTHETIC PHANTOM)",
            modality: &self.modality,
            body_part: "CHEST",
            view_position: view.view_position,
            series_number: view.series_number,
            series_description: description,
            rows: self.spec.rows,
            cols: self.spec.cols,
            bits_stored: 12,
            monochrome1: self.monochrome1,
            pixel_spacing_mm: 350.0 / f64::from(self.spec.cols.max(1)),
            window: (2048.0, 4096.0),
            pixels: &pixels,
        };
        write_synthetic(path, &image)
    }
}

/// One view's identifiers, for writing.
struct View<'a> {
    series_instance_uid: &'a str,
    sop_instance_uid: &'a str,
    view_position: &'a str,
    series_number: u32,
}

/// The demo worklist: `count` studies, about two thirds with 1–3 opacities,
/// every fourth with a lateral view as well.
pub fn demo_studies(count: u32, rows: u16, cols: u16, seed: u64) -> Vec<PhantomStudy> {
    (0..count)
        .map(|i| {
            let s = seed.wrapping_mul(1_000_003).wrapping_add(u64::from(i));
            let opacities = match i % 3 {
                0 => 0,
                1 => 1,
                _ => 1 + (s % 3) as usize,
            };
            let study = PhantomStudy::new(i, s, rows, cols, opacities);
            // Every fourth study is a two-view study (PA or AP and a lateral).
            if i % 4 == 3 {
                study.with_lateral()
            } else {
                study
            }
        })
        .collect()
}

/// How an opacity changes across one patient's studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Course {
    /// The same at every date: a reader dismisses it as stable.
    Unchanged,
    /// Present at every date, larger each time.
    Growing,
    /// Only on the latest study.
    New,
}

/// One fictitious patient at several dates (oldest first), for prior
/// comparison: the latest study has three opacities whose courses are
/// `courses` (unchanged, growing, new); earlier studies have the unchanged
/// one as it is and the growing one smaller, and not the new one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatientSeries {
    pub studies: Vec<PhantomStudy>,
    /// The course of each opacity of the latest study, in its order.
    pub courses: Vec<Course>,
}

/// `dates` studies (2 or 3, a year apart) of one patient; the latest is on
/// `latest_date` (YYYYMMDD).
pub fn patient_with_priors(
    index: u32,
    seed: u64,
    rows: u16,
    cols: u16,
    dates: usize,
    latest_date: &str,
) -> PatientSeries {
    let dates = dates.clamp(2, 3);
    let base = PhantomSpec::random(seed, rows, cols, 3);
    let courses = vec![Course::Unchanged, Course::Growing, Course::New];
    let year: i32 = latest_date
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2026);
    let rest = latest_date.get(4..).unwrap_or("0101");
    let first = PhantomStudy::new(index, seed, rows, cols, 0);
    let studies = (0..dates)
        .map(|k| {
            let years_before = (dates - 1 - k) as i32;
            let grown = (k + 1) as f64 / dates as f64;
            let mut study =
                PhantomStudy::new(index, seed.wrapping_add(k as u64 + 1), rows, cols, 0);
            study.spec.opacities = base
                .opacities
                .iter()
                .zip(&courses)
                .filter_map(|(o, course)| match course {
                    Course::Unchanged => Some(*o),
                    Course::Growing => Some(Opacity {
                        radius: o.radius * (0.45 + 0.55 * grown),
                        ..*o
                    }),
                    Course::New => (years_before == 0).then_some(*o),
                })
                .collect();
            // The same person: identity and equipment of the first study.
            study.patient_id = first.patient_id.clone();
            study.patient_name = first.patient_name.clone();
            study.patient_sex = first.patient_sex.clone();
            study.patient_age_years = first.patient_age_years.saturating_sub(years_before as u8);
            study.modality = first.modality.clone();
            study.monochrome1 = first.monochrome1;
            study.view_position = "PA".into();
            study.study_date = format!("{}{rest}", year - years_before);
            study.accession_number = format!("OVRPRI{:03}{}", index + 1, k + 1);
            // The latest study has a lateral view too.
            if years_before == 0 {
                study.with_lateral()
            } else {
                study
            }
        })
        .collect();
    PatientSeries { studies, courses }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_opacities_in_lungs() {
        let a = PhantomSpec::random(7, 256, 256, 3);
        let b = PhantomSpec::random(7, 256, 256, 3);
        assert_eq!(a, b);
        assert_eq!(a.opacities.len(), 3);
        for o in &a.opacities {
            assert!(a.lung(o.x, o.y) > 0.6);
        }
        assert_eq!(a.render(), b.render());
    }

    #[test]
    fn opacity_is_brighter_than_surrounding_lung() {
        let mut spec = PhantomSpec::random(3, 256, 256, 1);
        spec.noise = 0.0;
        let o = spec.opacities[0];
        let img = spec.render();
        let at = |x: f64, y: f64| img[y as usize * 256 + x as usize];
        let ring = at(o.x + o.radius * 1.6, o.y).min(at(o.x - o.radius * 1.6, o.y));
        assert!(
            at(o.x, o.y) > ring + 0.1,
            "centre {} ring {}",
            at(o.x, o.y),
            ring
        );
    }

    #[test]
    fn a_two_view_study_writes_its_lateral_in_the_same_study() {
        let dir = tempfile::tempdir().expect("tempdir");
        let study = PhantomStudy::new(3, 5, 128, 128, 1).with_lateral();
        let frontal = study.write(dir.path()).expect("writes");
        let lateral = dir
            .path()
            .join(format!("{}-LAT.dcm", study.accession_number));
        let limits = overread_dicom::Limits::default();
        let f = overread_dicom::open(&frontal, &limits).expect("opens the frontal");
        let l = overread_dicom::open(&lateral, &limits).expect("opens the lateral");
        let (f, l) = (f.header(), l.header());
        assert_eq!(f.study_instance_uid, l.study_instance_uid);
        assert_ne!(f.series_instance_uid, l.series_instance_uid);
        assert_eq!(l.view_position.as_deref(), Some("LL"));
        assert_eq!(l.series_number, Some(2));
        assert_eq!(l.series_description.as_deref(), Some("CHEST LATERAL"));
        assert_eq!(l.patient_orientation.as_deref(), Some("P\\F"));
        assert_eq!(
            PhantomStudy::new(3, 5, 128, 128, 1)
                .with_lateral()
                .lateral
                .map(|v| v.sop_instance_uid),
            study.lateral.map(|v| v.sop_instance_uid),
            "the same study has the same lateral"
        );
    }

    #[test]
    fn writes_a_readable_instance() {
        let dir = tempfile::tempdir().expect("tempdir");
        let study = PhantomStudy::new(0, 11, 128, 96, 1);
        let path = study.write(dir.path()).expect("writes");
        let instance =
            overread_dicom::open(&path, &overread_dicom::Limits::default()).expect("opens");
        let h = instance.header();
        assert_eq!(h.patient_id.as_deref(), Some("OVR-PH-0001"));
        assert_eq!((h.rows, h.cols), (Some(128), Some(96)));
        let img = instance.display(0, None).expect("decodes");
        assert_eq!(img.data.len(), 128 * 96);
    }

    #[test]
    fn opacities_display_white_in_cr_and_dx() {
        // CR phantoms are MONOCHROME1, DX ones MONOCHROME2: both must show
        // attenuation (bone, opacities) bright once displayed.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..12 {
            let mut study = PhantomStudy::new(seed, u64::from(seed), 256, 256, 1);
            study.spec.noise = 0.0;
            let path = study.write(dir.path()).expect("writes");
            let instance =
                overread_dicom::open(&path, &overread_dicom::Limits::default()).expect("opens");
            let img = instance.display(0, None).expect("decodes");
            let o = study.spec.opacities[0];
            let at = |x: f64, y: f64| img.data[y as usize * 256 + x as usize];
            // Lung around it, avoiding ribs and the heart: the darkest of eight ring points.
            let lung = (0..8)
                .map(|k| {
                    let a = f64::from(k) * std::f64::consts::FRAC_PI_4;
                    at(
                        o.x + o.radius * 1.6 * a.cos(),
                        o.y + o.radius * 1.6 * a.sin(),
                    )
                })
                .min()
                .unwrap_or(u16::MAX);
            assert!(
                at(o.x, o.y) > lung,
                "{}: opacity {} lung {}",
                study.modality,
                at(o.x, o.y),
                lung
            );
            seen.insert(study.modality.clone());
        }
        assert_eq!(seen.len(), 2, "both CR and DX covered");
    }

    #[test]
    fn a_patient_series_has_an_unchanged_a_growing_and_a_new_opacity() {
        let series = patient_with_priors(20, 5, 256, 256, 3, "20261104");
        let dates: Vec<&str> = series
            .studies
            .iter()
            .map(|s| s.study_date.as_str())
            .collect();
        assert_eq!(dates, ["20241104", "20251104", "20261104"]);
        let ids: std::collections::BTreeSet<&str> = series
            .studies
            .iter()
            .map(|s| s.patient_id.as_str())
            .collect();
        assert_eq!(ids.len(), 1, "one patient");
        let uids: std::collections::BTreeSet<&str> = series
            .studies
            .iter()
            .map(|s| s.study_instance_uid.as_str())
            .collect();
        assert_eq!(uids.len(), 3, "three studies");
        let latest = &series.studies[2].spec.opacities;
        assert_eq!(
            series.courses,
            [Course::Unchanged, Course::Growing, Course::New]
        );
        assert_eq!(latest.len(), 3);
        for (k, s) in series.studies.iter().enumerate().take(2) {
            let o = &s.spec.opacities;
            assert_eq!(o.len(), 2, "no new opacity on prior {k}");
            assert_eq!(o[0], latest[0], "the unchanged one is the same");
            assert!(
                o[1].radius < latest[1].radius,
                "the growing one is smaller before"
            );
            assert_eq!((o[1].x, o[1].y), (latest[1].x, latest[1].y));
        }
        assert!(
            series.studies[0].spec.opacities[1].radius < series.studies[1].spec.opacities[1].radius
        );
        assert!(series.studies[0].patient_age_years + 2 == series.studies[2].patient_age_years);
    }
}
