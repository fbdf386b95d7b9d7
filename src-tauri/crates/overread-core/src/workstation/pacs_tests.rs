use super::*;
use crate::api::{AiStatus, Settings, StudyId};
use crate::triage::tests::fake_model;
use overread_pacs::cache::CachedInstance;
use std::io::Write;

/// Puts a phantom study's instances in the cache; `expected` extra SOP
/// UIDs are listed but never arrive.
fn cache_study(cache: &Cache, dir: &Path, index: u32, views: usize, missing: usize) -> String {
    let study = overread_phantom::PhantomStudy::new(index, 40 + u64::from(index), 128, 128, 1);
    cache_phantom(cache, dir, &study, views, missing, false)
}

/// Puts `study` in the cache (see [`cache_study`]); `prior`: retrieved as
/// a prior only.
fn cache_phantom(
    cache: &Cache,
    dir: &Path,
    study: &overread_phantom::PhantomStudy,
    views: usize,
    missing: usize,
    prior: bool,
) -> String {
    let mut rec = StudyRecord::new("pacs", &study.study_instance_uid);
    rec.prior = prior;
    for v in 0..views + missing {
        let sop = format!("{}.{v}", study.sop_instance_uid);
        rec.expected.push(sop.clone());
        if v >= views {
            continue;
        }
        let mut inst = study.clone();
        inst.sop_instance_uid = sop.clone();
        let sub = dir.join(format!("{}-{v}", study.sop_instance_uid));
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
    study.study_instance_uid.clone()
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

/// A prior retrieved from the PACS for comparison stays off the worklist
/// after a restart, is triaged like any study, and compares; a worklist
/// query that lists it later puts it on the worklist for good. A PACS that
/// is down when priors are asked for is one line in `problems`.
#[test]
fn a_cached_prior_stays_off_the_worklist_until_the_worklist_lists_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = Cache::open(&dir.path().join("cache"), 1 << 30).expect("cache");
    let series = overread_phantom::patient_with_priors(900, 5, 128, 128, 2, "20261120");
    let prior = cache_phantom(&cache, dir.path(), &series.studies[0], 1, 0, true);
    let latest = cache_phantom(&cache, dir.path(), &series.studies[1], 1, 0, false);
    let config = dir.path().join("pacs.toml");
    std::fs::write(
        &config,
        format!(
            "[cache]\ndir = {:?}\n[[source]]\nname = \"pacs\"\nkind = \"dicomweb\"\nurl = \"http://127.0.0.1:9/dicom-web\"\n[source.timeouts]\nconnect_s = 1\noverall_s = 2\n",
            dir.path().join("cache")
        ),
    )
    .expect("config");
    let empty = dir.path().join("no-local-studies");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let mut settings = Settings::demo(&empty, Path::new("unused-model"));
    settings.pacs_config = Some(config.display().to_string());
    let ws = Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let events = heard.clone();
    ws.set_listener(std::sync::Arc::new(move |c| {
        events.lock().expect("events").push(c)
    }));
    ws.run_triage_with(vec![fake_model()]);
    let (latest_id, prior_id) = (
        ws.studies.by_uid(&latest).expect("latest"),
        ws.studies.by_uid(&prior).expect("prior"),
    );
    let rows: Vec<StudyId> = ws.worklist().rows.iter().map(|r| r.id).collect();
    assert_eq!(rows, [latest_id], "the prior is not a worklist row");
    {
        let heard = heard.lock().expect("events");
        assert!(
            heard.iter().any(|c| c.priors),
            "its triage is a priors event"
        );
        assert!(heard.iter().flat_map(|c| &c.rows).all(|r| r.id != prior_id));
    }
    let found = ws.find_priors(latest_id, None).expect("priors");
    assert_eq!(found.priors.len(), 1);
    assert_eq!(found.priors[0].id, prior_id);
    assert_eq!(found.priors[0].ai, AiStatus::Flagged);
    assert!(
        found.lines[0].line.contains("flagged, not decided"),
        "{:?}",
        found.lines
    );
    assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
    assert!(
        found.problems[0].starts_with("priors on pacs: "),
        "{:?}",
        found.problems
    );
    assert!(!found.problems[0].contains('\n'));

    // The worklist query lists it now.
    let listed = overread_pacs::StudyMatch {
        study_uid: prior.clone(),
        ..overread_pacs::StudyMatch::default()
    };
    assert_eq!(ws.claim_priors(&cache, &[listed]), [prior_id]);
    assert!(!cache.study(&prior).expect("read").expect("cached").prior);
    assert_eq!(ws.worklist().rows.len(), 2);
}
