//! A JPEG 2000 study's first pixels come from a reduced-resolution decode,
//! then its full image from the same read, with the same geometry and
//! windows whichever came first.

use std::path::Path;

use overread_dicom::{Limits, counters};

use crate::api::Settings;
use crate::workstation::Workstation;

/// RG1 as JPEG 2000 lossless in a local source; None without the corpus.
fn j2k_workstation(dir: &Path) -> Option<(Workstation, std::path::PathBuf)> {
    let Some(corpus) = std::env::var_os("OVERREAD_CORPUS") else {
        eprintln!("skipped: OVERREAD_CORPUS is not set");
        return None;
    };
    let studies = dir.join("studies");
    std::fs::create_dir_all(&studies).expect("mkdir");
    let file = studies.join("rg1.dcm");
    std::fs::copy(Path::new(&corpus).join("rg1/RG1_j2k_lossless.dcm"), &file).expect("copy");
    let settings = Settings::demo(&studies, Path::new("unused-model"));
    let ws = Workstation::open(settings, &dir.join("audit.sqlite3"), None).expect("open");
    Some((ws, file))
}

#[test]
fn a_jpeg2000_study_shows_a_reduced_preview_before_its_full_decode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((ws, file)) = j2k_workstation(dir.path()) else {
        return;
    };
    let sop = overread_dicom::read_header(&file, &Limits::default())
        .expect("header")
        .sop_instance_uid
        .expect("sop");
    // Decodes by path too: other tests decode copies of RG1 (one SOP UID).
    let count = || (counters::of_path(&file), counters::of_path(&file));
    let id = ws.worklist().rows[0].id;
    let before = count();

    let view = ws.open_study(id).expect("opens");
    let g = &view.image;
    assert_eq!((g.width, g.height), (1841, 1955));
    assert_eq!(
        (g.preview_width, g.preview_height),
        (461, 489),
        "level 2 of 5"
    );
    let preview = ws.pixels(id, 0, true).expect("preview");
    assert_eq!(preview.len(), 461 * 489 * 2);
    let (file_now, instance_now) = count();
    assert_eq!(file_now.reads - before.0.reads, 1);
    assert_eq!(
        instance_now.previews - before.1.previews,
        1,
        "a reduced decode"
    );
    assert_eq!(instance_now.decodes, before.1.decodes, "no full decode yet");

    let full = ws.pixels(id, 0, false).expect("full");
    let (file_now, instance_now) = count();
    assert_eq!(
        file_now.reads - before.0.reads,
        1,
        "the full image from the same read"
    );
    assert_eq!(instance_now.decodes - before.1.decodes, 1);
    // The codes are the stored values (unsigned, identity rescale), the same
    // coding the preview was sent in.
    assert_eq!(g.offset, 0.0);
    assert_eq!(g.scale, 1.0);
    let stored: Vec<u16> = overread_dicom::open(&file, &Limits::default())
        .expect("open")
        .frame(0)
        .expect("frame")
        .samples
        .iter_i64()
        .map(|v| v as u16)
        .collect();
    let codes: Vec<u16> = full
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(codes == stored, "full codes differ from the stored values");
    // Nothing the viewer was told changes when the full image arrives.
    assert_eq!(&ws.open_image(id, 0).expect("geometry"), g);

    // Triage first (a full decode, which makes the reduced frame too), then
    // the viewer: the same geometry, windows and preview as above, where
    // the viewer came first. (One test: the counts above are per instance,
    // and this is the same instance.)
    let other = tempfile::tempdir().expect("tempdir");
    let Some((full_first, file)) = j2k_workstation(other.path()) else {
        return;
    };
    let other_id = full_first.worklist().rows[0].id;
    full_first
        .frames
        .get(&file, Some(&sop), &Limits::default(), full_first.deadline)
        .expect("decoded as triage does");
    assert_eq!(&full_first.open_study(other_id).expect("open").image, g);
    assert!(full_first.pixels(other_id, 0, true).expect("preview") == preview);
}
