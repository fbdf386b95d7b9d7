use super::*;
use crate::api::{AiStatus, Settings};
use crate::triage::tests::fake_model;
use overread_pacs::cache::CachedInstance;
use std::io::Write;

/// Puts a phantom study's instances in the cache; `expected` extra SOP
/// UIDs are listed but never arrive.
fn cache_study(cache: &Cache, dir: &Path, index: u32, views: usize, missing: usize) -> String {
    let study = overread_phantom::PhantomStudy::new(index, 40 + u64::from(index), 128, 128, 1);
    let mut rec = StudyRecord::new("pacs", &study.study_instance_uid);
    for v in 0..views + missing {
        let sop = format!("{}.{v}", study.sop_instance_uid);
        rec.expected.push(sop.clone());
        if v >= views {
            continue;
        }
        let mut inst = study.clone();
        inst.sop_instance_uid = sop.clone();
        let sub = dir.join(format!("{index}-{v}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let file = inst.write(&sub).expect("write");
        let mut w = cache.writer().expect("writer");
        w.write_all(&std::fs::read(file).expect("read"))
            .expect("copy");
        let obj = w.finish().expect("finish");
        rec.instances.insert(
            sop,
            CachedInstance {
                sha256: obj.sha256,
                bytes: obj.bytes,
            },
        );
    }
    cache.save_study(&rec).expect("save");
    study.study_instance_uid
}

/// With the PACS never asked (or down), the studies in the cache are on
/// the worklist: complete ones triaged and openable, partial ones marked
/// and never inferred.
#[test]
fn cached_pacs_studies_are_on_the_worklist_without_the_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Cache::open(&dir.path().join("cache"), 1 << 30).expect("cache");
    let complete = cache_study(&cache, dir.path(), 1, 2, 0);
    let partial = cache_study(&cache, dir.path(), 2, 1, 1);
    let config = dir.path().join("pacs.toml");
    std::fs::write(
        &config,
        format!(
            "[cache]\ndir = {:?}\n[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:9/dicom-web\"\n",
            dir.path().join("cache")
        ),
    )
    .expect("config");
    let empty = dir.path().join("no-local-studies");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let mut settings = Settings::demo(&empty, Path::new("unused-model"));
    settings.pacs_config = Some(config.display().to_string());
    let ws = Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
    ws.run_triage_with(vec![fake_model()]);
    let w = ws.worklist();
    assert_eq!(w.rows.len(), 2, "{w:?}");
    let by_uid = |uid: &str| {
        let id = ws.studies.by_uid(uid).expect("on the worklist");
        w.rows.iter().find(|r| r.id == id).cloned().expect("row")
    };
    let c = by_uid(&complete);
    assert_eq!(c.ai, AiStatus::Flagged, "{c:?}");
    assert_eq!(c.images, 2);
    assert_eq!(c.source, "pacs");
    ws.open_study(c.id).expect("opens from the cache");
    let p = by_uid(&partial);
    assert_eq!(p.availability, Availability::Partial, "{p:?}");
    assert_eq!(p.ai, AiStatus::Waiting, "{p:?}");
    assert!(
        p.availability_message
            .as_deref()
            .is_some_and(|m| m.starts_with("1 of 2 instances")),
        "{p:?}"
    );
    assert_eq!(w.sources.len(), 1);
    assert_eq!(w.sources[0].state, SourceState::NotChecked);
    assert_eq!((w.sources[0].studies, w.sources[0].complete), (2, 1));
}

/// A configuration that cannot be read is shown as an offline entry that
/// says why, and the local studies stay.
#[test]
fn a_broken_pacs_configuration_is_shown_not_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let studies = dir.path().join("studies");
    crate::demo::generate(&studies, 1, 128, 3).expect("phantoms");
    let mut settings = Settings::demo(&studies, Path::new("unused-model"));
    settings.pacs_config = Some(dir.path().join("missing.toml").display().to_string());
    let ws = Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
    assert_eq!(ws.sync_pacs(), 0);
    let w = ws.worklist();
    assert_eq!(w.rows.len(), 1);
    assert_eq!(w.sources.len(), 1);
    assert_eq!(w.sources[0].state, SourceState::Offline);
    assert!(
        w.sources[0]
            .message
            .as_deref()
            .is_some_and(|m| m.contains("missing.toml")),
        "{:?}",
        w.sources
    );
}
