//! The inference crate's integration tests: manifests, checksums, and the
//! demo model on synthetic phantoms with the real ONNX Runtime.

use std::path::{Path, PathBuf};

use overread_infer::{BoxPx, EpChoice, Error, GrayImage, Manifest, Model, StudyInfo, read_model};

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models/demo")
}

/// The real runtime, from ORT_DYLIB_PATH (scripts/test.sh sets it). Without
/// it the test skips, saying so, except in CI where it must be there.
fn runtime_available() -> bool {
    if std::env::var_os("ORT_DYLIB_PATH").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run with ONNX Runtime (scripts/test.sh sets ORT_DYLIB_PATH)"
    );
    eprintln!("skipped: ORT_DYLIB_PATH is not set");
    false
}

#[test]
fn the_demo_manifest_is_valid_and_matches_its_weights() {
    let (manifest, bytes) = read_model(&demo_dir()).expect("demo model reads");
    assert!(
        !manifest.clinical,
        "the demo model must say it is not clinical"
    );
    assert_eq!(manifest.output.scores.labels, vec!["opacity".to_string()]);
    assert!(!bytes.is_empty());
}

#[test]
fn a_changed_model_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        demo_dir().join("manifest.toml"),
        dir.path().join("manifest.toml"),
    )
    .expect("copy");
    let mut bytes = std::fs::read(demo_dir().join("model.onnx")).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.path().join("model.onnx"), bytes).expect("write");
    match read_model(dir.path()) {
        Err(e @ Error::Checksum { .. }) => assert!(e.to_string().contains("refusing the model")),
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn manifests_are_checked() {
    let text = std::fs::read_to_string(demo_dir().join("manifest.toml")).expect("read");
    assert!(Manifest::parse(&text).is_ok());
    let no_threshold = text.replace("opacity = 0.5", "");
    assert!(
        Manifest::parse(&no_threshold)
            .expect_err("refused")
            .contains("no threshold for opacity")
    );
    let bad_sha = text.replace("sha256 = \"", "sha256 = \"x");
    assert!(Manifest::parse(&bad_sha).is_err());
    let unknown = format!("surprise = 1\n{text}");
    assert!(
        Manifest::parse(&unknown).is_err(),
        "unknown keys are errors, not silently ignored"
    );
    let stray = format!("{text}\nnodule = 0.3\n");
    assert!(
        Manifest::parse(&stray)
            .expect_err("refused")
            .contains("not an output label")
    );
}

#[test]
fn intended_use_refusals_say_why() {
    let (manifest, _) = read_model(&demo_dir()).expect("reads");
    let model = Model::with_backend(
        manifest,
        Box::new(overread_infer::FakeBackend {
            outputs: Default::default(),
            last_input: None,
        }),
    );
    let ok = StudyInfo {
        modality: Some("CR".into()),
        view_position: Some("PA".into()),
        body_part: Some("CHEST".into()),
        age_years: Some(40),
    };
    assert_eq!(model.refusal(&ok), None);
    let ct = StudyInfo {
        modality: Some("CT".into()),
        ..ok.clone()
    };
    assert!(model.refusal(&ct).expect("refused").contains("modality CT"));
    let lateral = StudyInfo {
        view_position: Some("LL".into()),
        ..ok.clone()
    };
    assert!(
        model
            .refusal(&lateral)
            .expect("refused")
            .contains("view position LL")
    );
    let child = StudyInfo {
        age_years: Some(9),
        ..ok.clone()
    };
    assert!(
        model
            .refusal(&child)
            .expect("refused")
            .contains("below the intended minimum")
    );
    let unknown_age = StudyInfo {
        age_years: None,
        ..ok
    };
    assert!(
        model
            .refusal(&unknown_age)
            .expect("refused")
            .contains("not recorded")
    );
}

/// The demo model on 60 phantoms with known opacities, through the real
/// runtime: it must find most of them, rarely flag clean images, and put
/// the heatmap peak and box inside the opacity in original image pixels.
#[test]
fn demo_model_finds_phantom_opacities_with_registered_heatmaps() {
    if !runtime_available() {
        return;
    }
    let mut model =
        Model::load(&demo_dir(), None, EpChoice::Cpu, 1).expect("loads with the real runtime");
    assert_eq!(model.execution_provider(), "cpu");
    let dir = tempfile::tempdir().expect("tempdir");
    // Square, like the demo worklist the model was set on; letterboxing of
    // other shapes is covered by the registration unit tests.
    let studies = overread_phantom::demo_studies(60, 512, 512, 99);
    let (mut tp, mut positives, mut fp, mut negatives, mut peak_inside, mut box_inside) =
        (0, 0, 0, 0, 0, 0);
    for study in &studies {
        let path = study.write(dir.path()).expect("writes");
        let instance =
            overread_dicom::open(&path, &overread_dicom::Limits::default()).expect("opens");
        let image = instance.display(0, None).expect("decodes");
        let gray = GrayImage {
            width: image.width as usize,
            height: image.height as usize,
            pixels: &image.data,
        };
        let result = model.infer(gray).expect("infers");
        let finding = &result.findings[0];
        let opacities = &study.spec.opacities;
        if opacities.is_empty() {
            negatives += 1;
            fp += usize::from(finding.flagged);
            continue;
        }
        positives += 1;
        if !finding.flagged {
            continue;
        }
        tp += 1;
        let reg = result.registered("opacity").expect("heatmap");
        assert_eq!(
            (reg.width, reg.height),
            (512, 512),
            "registered on the image grid"
        );
        let (px, py) = reg.peak();
        let inside = |x: f64, y: f64| {
            opacities
                .iter()
                .any(|o| (x - o.x).powi(2) + (y - o.y).powi(2) <= o.radius.powi(2))
        };
        peak_inside += usize::from(inside(px as f64 + 0.5, py as f64 + 0.5));
        if let Some(b) = finding.bbox {
            box_inside += usize::from(opacities.iter().any(|o| {
                o.x >= b.x && o.x <= b.x + b.width && o.y >= b.y && o.y <= b.y + b.height
            }));
        }
    }
    let sensitivity = tp as f64 / positives as f64;
    let fp_per_image = fp as f64 / negatives as f64;
    eprintln!(
        "demo model: sensitivity {sensitivity:.2} ({tp}/{positives}), {fp_per_image:.2} false positives per clean image, peak inside {peak_inside}/{tp}, box around {box_inside}/{tp}"
    );
    assert!(sensitivity >= 0.8, "sensitivity {sensitivity}");
    assert!(fp_per_image <= 0.15, "false positives {fp_per_image}");
    assert!(
        peak_inside as f64 >= 0.9 * tp as f64,
        "peaks inside {peak_inside}/{tp}"
    );
    assert!(
        box_inside as f64 >= 0.9 * tp as f64,
        "boxes around {box_inside}/{tp}"
    );
}

/// torchxrayvision's convention loads through its manifest alone: 224×224,
/// [-1024, 1024], stretch, 18 sigmoid labels, and a 7×7 CAM per label that
/// registers onto the image.
#[test]
fn a_torchxrayvision_style_model_loads_through_its_manifest() {
    let Some(dir) = std::env::var_os("OVERREAD_XRV_MODEL").map(PathBuf::from) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set OVERREAD_XRV_MODEL (scripts/test.sh)"
        );
        eprintln!("skipped: OVERREAD_XRV_MODEL is not set");
        return;
    };
    if !runtime_available() {
        return;
    }
    let mut model = Model::load(&dir, None, EpChoice::Cpu, 1).expect("loads");
    assert_eq!(model.manifest.output.scores.labels.len(), 18);
    let (w, h) = (300usize, 260usize);
    let pixels: Vec<u16> = (0..w * h).map(|i| ((i * 37) % 65536) as u16).collect();
    let result = model
        .infer(GrayImage {
            width: w,
            height: h,
            pixels: &pixels,
        })
        .expect("infers");
    assert_eq!(result.findings.len(), 18);
    assert!(
        result
            .findings
            .iter()
            .all(|f| (0.0..=1.0).contains(&f.score))
    );
    assert_eq!(
        (result.heatmaps[0].width, result.heatmaps[0].height),
        (7, 7)
    );
    let reg = result.registered("Nodule").expect("CAM for Nodule");
    assert_eq!((reg.width, reg.height), (w, h));
}

/// Whether this machine should have a working CUDA provider: set
/// `OVERREAD_EXPECT_GPU=1` on a GPU machine (with the onnxruntime-gpu wheel
/// and `--features cuda`). Elsewhere the GPU half skips and says so.
fn gpu_expected() -> bool {
    std::env::var_os("OVERREAD_EXPECT_GPU").is_some()
}

/// Asking for a GPU provider is never silently ignored: with CUDA it runs
/// there and says so; without it, `cuda` is an error naming the provider and
/// `auto` runs on the CPU and says why.
#[test]
fn the_execution_provider_is_explicit() {
    if !runtime_available() {
        return;
    }
    let image = vec![1000u16; 256 * 256];
    let gray = || GrayImage {
        width: 256,
        height: 256,
        pixels: &image,
    };
    if gpu_expected() {
        let mut model = Model::load(&demo_dir(), None, EpChoice::Cuda, 1).expect("CUDA loads");
        assert_eq!(model.execution_provider(), "cuda");
        let result = model.infer(gray()).expect("infers on the GPU");
        assert_eq!(result.execution_provider, "cuda");
        // The same findings as on the CPU.
        let mut cpu = Model::load(&demo_dir(), None, EpChoice::Cpu, 1).expect("CPU loads");
        let on_cpu = cpu.infer(gray()).expect("infers on the CPU");
        for (g, c) in result.findings.iter().zip(&on_cpu.findings) {
            assert!(
                (g.score - c.score).abs() < 1e-4,
                "{} cuda {} cpu {}",
                g.label,
                g.score,
                c.score
            );
        }
        return;
    }
    eprintln!("GPU half skipped: OVERREAD_EXPECT_GPU is not set (no GPU on this machine)");
    match Model::load(&demo_dir(), None, EpChoice::Cuda, 1) {
        Err(e) => {
            assert_eq!(e.code(), "execution_provider");
            assert!(e.to_string().contains("cuda"), "{e}");
        }
        Ok(m) => panic!(
            "cuda was requested on a machine without it and {} was used",
            m.execution_provider()
        ),
    }
    let mut auto = Model::load(&demo_dir(), None, EpChoice::Auto, 1).expect("auto loads");
    assert_eq!(auto.execution_provider(), "cpu");
    assert!(
        auto.fallback.as_deref().is_some_and(|f| f.contains("cuda")),
        "auto says why it is on the CPU: {:?}",
        auto.fallback
    );
    assert_eq!(
        auto.infer(gray()).expect("infers").execution_provider,
        "cpu"
    );
}

fn example(name: &str) -> Model {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../models/examples")
        .join(name);
    Model::load(&dir, None, EpChoice::Cpu, 1).expect("the example loads")
}

/// A 256×256 image, black but for `cells` ((x, y) in image pixels, 64 px
/// squares) at the given display values.
fn squares(cells: &[(usize, usize, u16)]) -> Vec<u16> {
    let mut px = vec![0u16; 256 * 256];
    for &(x0, y0, v) in cells {
        for y in y0..y0 + 64 {
            px[y * 256 + x0..y * 256 + x0 + 64].fill(v);
        }
    }
    px
}

#[test]
fn a_three_channel_input_is_normalised_per_channel() {
    if !runtime_available() {
        return;
    }
    let mut model = example("imagenet-3ch");
    let px = vec![32768u16; 128 * 96];
    let r = model
        .infer(GrayImage {
            width: 128,
            height: 96,
            pixels: &px,
        })
        .expect("infers");
    let v = 32768.0 / 65535.0;
    let expected = [
        (v - 0.485) / 0.229,
        (v - 0.456) / 0.224,
        (v - 0.406) / 0.225,
    ];
    for (f, e) in r.findings.iter().zip(expected) {
        assert!(
            (f.score - e).abs() < 1e-4,
            "{}: {} vs {e}",
            f.label,
            f.score
        );
    }
}

#[test]
fn detection_boxes_map_back_to_image_pixels_with_or_without_the_models_nms() {
    if !runtime_available() {
        return;
    }
    // Letterboxed 256 → 128: input cell (2, 1) is image (128, 64) + 64 px.
    let px = squares(&[(128, 64, 65535), (0, 192, 26214)]);
    let image = || GrayImage {
        width: 256,
        height: 256,
        pixels: &px,
    };
    let after = example("detection").infer(image()).expect("infers");
    let boxes: Vec<(f32, BoxPx)> = after.detections.iter().map(|d| (d.score, d.bbox)).collect();
    assert_eq!(boxes.len(), 2, "{boxes:?}");
    assert!(
        (boxes[0].0 - 1.0).abs() < 1e-5 && (boxes[1].0 - 0.4).abs() < 1e-3,
        "{boxes:?}"
    );
    assert_eq!(
        boxes[0].1,
        BoxPx {
            x: 128.0,
            y: 64.0,
            width: 64.0,
            height: 64.0
        }
    );
    assert_eq!(
        boxes[1].1,
        BoxPx {
            x: 0.0,
            y: 192.0,
            width: 64.0,
            height: 64.0
        }
    );
    let f = &after.findings[0];
    assert_eq!(
        (f.label.as_str(), f.flagged, f.bbox),
        ("nodule", true, Some(boxes[0].1))
    );
    assert!((f.score - 1.0).abs() < 1e-5);

    // Candidates before suppression: Overread's NMS leaves the same boxes.
    let mut raw = example("detection-raw");
    let suppressed = raw.infer(image()).expect("infers");
    assert_eq!(suppressed.detections, after.detections);
    // Without it, each bright cell would keep its shifted twin.
    raw.manifest.output.boxes.as_mut().expect("boxes").nms_iou = None;
    assert_eq!(raw.infer(image()).expect("infers").detections.len(), 4);
}

#[test]
fn a_segmentation_mask_registers_on_the_image() {
    if !runtime_available() {
        return;
    }
    let px = squares(&[(64, 128, 65535)]);
    let r = example("segmentation")
        .infer(GrayImage {
            width: 256,
            height: 256,
            pixels: &px,
        })
        .expect("infers");
    let f = &r.findings[0];
    assert!(f.flagged && f.score > 0.99, "{f:?}");
    let b = f.bbox.expect("a box around the mask");
    assert!(
        (b.x - 64.0).abs() <= 4.0 && (b.y - 128.0).abs() <= 4.0,
        "{b:?}"
    );
    assert!(
        (b.width - 64.0).abs() <= 8.0 && (b.height - 64.0).abs() <= 8.0,
        "{b:?}"
    );
    let mask = r.registered("bright").expect("registered");
    assert_eq!((mask.width, mask.height), (256, 256));
    assert!(mask.values[160 * 256 + 96] > 0.99 && mask.values[10 * 256 + 10] < 0.01);
}

/// docs/models.md shows each example's manifest as it is.
#[test]
fn the_docs_show_each_example_manifest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let docs = std::fs::read_to_string(root.join("docs/models.md")).expect("docs/models.md");
    for name in ["imagenet-3ch", "detection", "detection-raw", "segmentation"] {
        let text = std::fs::read_to_string(
            root.join("models/examples")
                .join(name)
                .join("manifest.toml"),
        )
        .expect("manifest");
        overread_infer::Manifest::parse(&text).expect("the example's manifest is valid");
        assert!(
            docs.contains(&text),
            "docs/models.md lacks the {name} manifest as it is"
        );
    }
}
