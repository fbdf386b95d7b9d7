use super::read::read_report;
use super::*;
use crate::{Limits, Window};

/// A study's results as the core would assemble them: two AI findings (one
/// accepted, one rejected with a reason), one below threshold, one added.
pub(crate) fn example(key: &str, predecessor: Option<&str>) -> StudyResults {
    let source = Header {
        sop_class_uid: Some("1.2.840.10008.5.1.4.1.1.1".into()),
        sop_instance_uid: Some("2.25.1001".into()),
        study_instance_uid: Some("2.25.1002".into()),
        series_instance_uid: Some("2.25.1003".into()),
        patient_id: Some("OVR-PH-0001".into()),
        patient_name: Some("PHANTOM^ALPHA".into()),
        study_date: Some("20261104".into()),
        accession_number: Some("OVRDEMO00001".into()),
        photometric: Some("MONOCHROME1".into()),
        rows: Some(64),
        cols: Some(48),
        windows: vec![Window::new(2048.0, 4096.0)],
        ..Header::default()
    };
    let ai = |score, flagged| {
        Some(AiResult {
            score,
            threshold: 0.5,
            flagged,
        })
    };
    let rect = |x, y| {
        Some(Rect {
            x,
            y,
            width: 10.0,
            height: 8.0,
        })
    };
    StudyResults {
        source,
        workstation_id: "ws-test".into(),
        signoff_key: key.into(),
        predecessor_key: predecessor.map(str::to_string),
        algorithm: Some(Algorithm {
            name: "Overread demo".into(),
            version: "1.0.0".into(),
            sha256: "ab".repeat(32),
        }),
        signer: Signer {
            id: "ann".into(),
            name: "Ann Reader".into(),
            role: "radiologist".into(),
        },
        signed_date: "20261204".into(),
        signed_time: "101500".into(),
        institution: Some("Test Trust".into()),
        pixel_spacing: None,
        findings: vec![
            FindingResult {
                label: "nodule".into(),
                ai: ai(0.8125, true),
                region: rect(4.0, 6.0),
                assessment: Assessment::Accepted,
                reason: None,
            },
            FindingResult {
                label: "effusion".into(),
                ai: ai(0.61, true),
                region: rect(20.0, 30.0),
                assessment: Assessment::Rejected,
                reason: Some("old blunting, stable".into()),
            },
            FindingResult {
                label: "pneumothorax".into(),
                ai: ai(0.1, false),
                region: None,
                assessment: Assessment::NotAssessed,
                reason: None,
            },
            FindingResult {
                label: "rib lesion".into(),
                ai: None,
                region: rect(30.0, 2.0),
                assessment: Assessment::Added,
                reason: None,
            },
        ],
        heatmaps: vec![Heatmap {
            label: "nodule".into(),
            values: (0..64 * 48).map(|i| (i % 97) as f32 / 96.0).collect(),
        }],
        software_version: "0.1.0".into(),
    }
}

#[test]
fn the_same_signoff_gives_the_same_uids_and_bytes() {
    let a = write_all(&example("ws-test/41", None)).expect("the example is valid");
    let b = write_all(&example("ws-test/41", None)).expect("the example is valid");
    assert_eq!(a.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.sop_instance_uid, y.sop_instance_uid);
        assert_eq!(x.bytes, y.bytes, "{:?} differs", x.kind);
        assert!(crate::net::is_valid_uid(&x.sop_instance_uid));
    }
    let c = write_all(&example("ws-test/57", Some("ws-test/41"))).expect("the example is valid");
    for (x, y) in a.iter().zip(&c) {
        assert_ne!(x.sop_instance_uid, y.sop_instance_uid);
        assert_eq!(x.series_instance_uid, y.series_instance_uid);
    }
}

#[test]
fn the_report_reads_back_exactly() {
    let r = example("ws-test/41", None);
    let objects = write_all(&r).expect("the example is valid");
    let sr = objects
        .iter()
        .find(|o| o.kind == ObjectKind::Sr)
        .expect("the example is valid");
    let read = read_report(sr.bytes.clone(), &Limits::default()).expect("the example is valid");
    assert!(read.verified);
    assert_eq!(read.reader.as_deref(), Some("Reader^Ann"));
    assert_eq!(read.workstation.as_deref(), Some("ws-test"));
    assert_eq!(read.algorithm, r.algorithm);
    assert_eq!(read.findings.len(), r.findings.len());
    for (got, want) in read.findings.iter().zip(&r.findings) {
        assert_eq!(got.label, want.label);
        assert_eq!(got.ai, want.ai);
        assert_eq!(got.region, want.region);
        assert_eq!(got.assessment, Some(want.assessment));
        assert_eq!(got.reason, want.reason);
        assert_eq!(got.finding.as_ref(), Some(&codes::finding(&want.label)));
    }
    assert_eq!(read.findings[0].image.as_deref(), Some("2.25.1001"));
    assert!(read.predecessors.is_empty());
}

#[test]
fn a_correction_names_the_report_it_corrects() {
    let first = write_all(&example("ws-test/41", None)).expect("the example is valid");
    let second =
        write_all(&example("ws-test/57", Some("ws-test/41"))).expect("the example is valid");
    let read =
        read_report(second[0].bytes.clone(), &Limits::default()).expect("the example is valid");
    assert_eq!(read.predecessors, vec![first[0].sop_instance_uid.clone()]);
}

#[test]
fn findings_are_coded_with_snomed_where_a_code_exists() {
    assert_eq!(codes::finding("Effusion").value, "60046008");
    assert_eq!(codes::finding("Pleural_Effusion").value, "60046008");
    assert_eq!(codes::finding("Lung Opacity").scheme, codes::LOCAL);
    assert_eq!(codes::finding("Lung Opacity").value, "F-LUNG-OPACITY");
    assert!(codes::finding("a very long finding label").value.len() <= 16);
}

#[test]
fn a_heatmap_off_the_image_grid_is_refused() {
    let mut r = example("ws-test/41", None);
    r.heatmaps[0].values.pop();
    let e = write_all(&r).expect_err("must be refused");
    assert!(e.to_string().contains("heatmap"), "{e}");
    let mut r = example("ws-test/41", None);
    r.source.sop_instance_uid = Some("not a uid".into());
    assert!(write_all(&r).is_err());
}

#[test]
fn a_report_that_is_not_ours_is_refused_with_a_reason() {
    let objects = write_all(&example("ws-test/41", None)).expect("the example is valid");
    let gsps = objects
        .iter()
        .find(|o| o.kind == ObjectKind::Gsps)
        .expect("the example is valid");
    let e = read_report(gsps.bytes.clone(), &Limits::default()).expect_err("must be refused");
    assert!(e.to_string().contains("not a structured report"), "{e}");
}

#[test]
fn the_map_plane_follows_patient_orientation() {
    assert_eq!(pm::plane_orientation(Some("L\\F")), "1\\0\\0\\0\\0\\-1");
    assert_eq!(pm::plane_orientation(Some("R\\F")), "-1\\0\\0\\0\\0\\-1");
    assert_eq!(pm::plane_orientation(Some("P\\F")), "0\\1\\0\\0\\0\\-1");
    assert_eq!(pm::plane_orientation(Some("L\\R")), "1\\0\\0\\0\\0\\-1");
    assert_eq!(pm::plane_orientation(None), "1\\0\\0\\0\\0\\-1");
}

#[test]
fn the_code_table_in_docs_matches_the_code() {
    let doc_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../docs/results-codes.md"
    );
    let doc = std::fs::read_to_string(doc_path).expect("docs/results-codes.md exists");
    // Rows of the two code tables: | `value` | scheme | meaning | … and
    // | labels | `value` | scheme | meaning |.
    let mut documented: Vec<(String, String, String)> = doc
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let at = cells
                .iter()
                .position(|c| c.starts_with('`') && c.ends_with('`'))?;
            let value = cells[at].trim_matches('`').to_string();
            Some((
                value,
                cells.get(at + 1)?.to_string(),
                cells.get(at + 2)?.to_string(),
            ))
        })
        .collect();
    let mut coded: Vec<(String, String, String)> = codes::all()
        .into_iter()
        .map(|c| (c.value.into(), c.scheme.into(), c.meaning.into()))
        .collect();
    documented.sort();
    coded.sort();
    let missing: Vec<_> = coded.iter().filter(|c| !documented.contains(c)).collect();
    let extra: Vec<_> = documented.iter().filter(|c| !coded.contains(c)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/results-codes.md lacks {missing:?} and has {extra:?} that the code does not"
    );
}

#[test]
fn damaged_reports_read_back_cleanly_or_fail_with_a_reason() {
    let objects = write_all(&example("ws-test/41", None)).expect("the example is valid");
    let sr = &objects[0].bytes;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Flipped bytes, cut files and garbage lengths: never a panic.
    for _ in 0..500 {
        let mut bytes = sr.clone();
        match next() % 3 {
            0 => {
                for _ in 0..1 + next() % 8 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
            }
            1 => bytes.truncate((next() as usize) % bytes.len()),
            _ => {
                let at = 132 + (next() as usize) % (bytes.len() - 136);
                bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
            }
        }
        if let Err(e) = read_report(bytes, &Limits::default()) {
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
    }
}
