//! The shared decoded frames: one read and one decode per image however
//! many threads ask, a changed file decoded again, failures not kept, and
//! the byte budget evicting the least recently used.

use std::path::PathBuf;

use overread_dicom::counters;

use super::*;

/// `n` phantoms; `seed` gives their UIDs, distinct per test (decodes are
/// counted per SOP Instance UID, and tests run at once).
fn phantoms(n: u32, side: u16, seed: u64) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = crate::demo::generate(dir.path(), n, side, seed).expect("phantoms");
    (dir, paths)
}

fn sop(path: &Path) -> String {
    overread_dicom::read_header(path, &Limits::default())
        .expect("header")
        .sop_instance_uid
        .expect("sop")
}

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn threads_asking_at_once_share_one_read_and_one_decode() {
    let (_d, paths) = phantoms(1, 512, 101);
    let (path, sop) = (&paths[0], sop(&paths[0]));
    let frames = Frames::default();
    let before = (counters::of_path(path), counters::of_path(path));
    let got: Vec<Arc<Decoded>> = std::thread::scope(|s| {
        let asks: Vec<_> = (0..4)
            .map(|_| s.spawn(|| frames.get(path, Some(&sop), &Limits::default(), DEADLINE)))
            .collect();
        asks.into_iter()
            .map(|a| a.join().expect("thread").expect("decoded"))
            .collect()
    });
    assert!(got.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])));
    assert_eq!(counters::of_path(path).reads - before.0.reads, 1);
    assert_eq!(counters::of_path(path).decodes - before.1.decodes, 1);
    // The file's bytes are not kept beside the frame.
    assert!(got[0].instance.frame(0).is_err());
    assert_eq!(frames.used(), 512 * 512 * 2);
}

#[test]
fn a_file_changed_under_the_same_name_is_decoded_again() {
    let (d, paths) = phantoms(2, 256, 102);
    let (path, sop) = (&paths[0], sop(&paths[0]));
    let frames = Frames::default();
    let before = counters::of_path(path).reads;
    let first = frames
        .get(path, Some(&sop), &Limits::default(), DEADLINE)
        .expect("first");
    // Another file's content under this name (a later modification time).
    std::thread::sleep(Duration::from_millis(20));
    std::fs::copy(&paths[1], path).expect("replace");
    let second = frames
        .get(path, Some(&sop), &Limits::default(), DEADLINE)
        .expect("second");
    assert!(!Arc::ptr_eq(&first, &second));
    assert_eq!(counters::of_path(path).reads - before, 2);
    drop(d);
}

#[test]
fn failures_are_told_to_the_caller_and_not_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("not.dcm");
    std::fs::write(&path, b"not dicom").expect("write");
    let frames = Frames::default();
    let before = counters::of_path(&path).reads;
    for _ in 0..2 {
        let e = frames
            .get(&path, None, &Limits::default(), DEADLINE)
            .expect_err("not DICOM");
        assert!(e.to_string().contains("not.dcm"), "{e}");
        assert_eq!(e.to_string().lines().count(), 1);
    }
    assert_eq!(
        counters::of_path(&path).reads - before,
        2,
        "tried again, not kept"
    );
    assert_eq!(frames.used(), 0);
    let gone = dir.path().join("gone.dcm");
    assert!(
        frames
            .get(&gone, None, &Limits::default(), DEADLINE)
            .is_err()
    );
}

#[test]
fn the_budget_evicts_the_least_recently_used() {
    let (_d, paths) = phantoms(3, 256, 103);
    let one = 256 * 256 * 2;
    let frames = Frames::new(2 * one);
    let reads = |i: usize| counters::of_path(&paths[i]).reads;
    let before = [reads(0), reads(1)];
    let get = |i: usize| {
        frames
            .get(
                &paths[i],
                Some(&sop(&paths[i])),
                &Limits::default(),
                DEADLINE,
            )
            .expect("decoded")
    };
    let (a, _b) = (get(0), get(1));
    assert_eq!(frames.used(), 2 * one);
    get(0); // 0 is now the most recent; 1 the least
    get(2); // evicts 1
    assert_eq!(frames.used(), 2 * one);
    assert!(Arc::ptr_eq(&a, &get(0)), "0 was kept");
    assert_eq!(reads(0) - before[0], 1);
    get(1);
    assert_eq!(reads(1) - before[1], 2, "1 was evicted");
}
