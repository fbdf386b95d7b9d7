//! The local cache of retrieved instances.
//!
//! Layout under the cache folder:
//! - `objects/ab/<sha256>.dcm`: instances, content-addressed: named by the
//!   hash of their bytes, never by a UID or a path from the peer;
//! - `studies/<key>.json`: one record per study (what the PACS listed, what
//!   is here, whether it is complete, when it was last used), where `key` is
//!   a hash of the Study Instance UID;
//! - `tmp/`: files being written. Every write goes to a temporary file, is
//!   fsynced and renamed into place, so a crash or a killed transfer leaves
//!   nothing half-written where a reader could see it; leftovers in `tmp/`
//!   are removed when the cache opens.

use crate::error::{Error, Result, cache_err};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One instance of a study as the cache knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedInstance {
    pub sha256: String,
    pub bytes: u64,
}

/// What the cache knows of one study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyRecord {
    pub study_uid: String,
    /// The configured source it came from.
    pub source: String,
    /// SOP Instance UIDs the PACS listed for the study.
    pub expected: Vec<String>,
    /// Instances present and checked decodable, by SOP Instance UID.
    pub instances: BTreeMap<String, CachedInstance>,
    /// Why instances are missing or unusable, by SOP Instance UID.
    #[serde(default)]
    pub problems: BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub last_used: u64,
    /// Retrieved only to compare with (the prior of a study on the
    /// worklist): kept off the worklist until a worklist query lists it.
    #[serde(default)]
    pub prior: bool,
}

impl StudyRecord {
    pub fn new(source: &str, study_uid: &str) -> Self {
        StudyRecord {
            study_uid: study_uid.to_string(),
            source: source.to_string(),
            expected: Vec::new(),
            instances: BTreeMap::new(),
            problems: BTreeMap::new(),
            last_used: now(),
            prior: false,
        }
    }

    /// Complete: every instance the PACS listed is here and decodable. Only
    /// complete studies are shown to the AI.
    pub fn is_complete(&self) -> bool {
        !self.expected.is_empty() && self.expected.iter().all(|u| self.instances.contains_key(u))
    }

    /// Records a stored object as the instance `sop_uid`.
    pub fn add(&mut self, sop_uid: String, obj: &StoredObject) {
        self.instances.insert(
            sop_uid,
            CachedInstance {
                sha256: obj.sha256.clone(),
                bytes: obj.bytes,
            },
        );
    }

    pub fn missing(&self) -> Vec<String> {
        self.expected
            .iter()
            .filter(|u| !self.instances.contains_key(*u))
            .cloned()
            .collect()
    }

    pub fn bytes(&self) -> u64 {
        self.instances.values().map(|i| i.bytes).sum()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
    limits: StudyLimits,
}

/// What one study may take, and the free space kept on the disks that
/// matter ([`CacheConfig`](crate::config::CacheConfig)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyLimits {
    pub max_study_bytes: u64,
    pub max_study_instances: usize,
    pub min_free_bytes: u64,
    /// Other paths whose disks keep the reserve too (the audit log's).
    pub keep_free: Vec<PathBuf>,
}

impl Default for StudyLimits {
    fn default() -> Self {
        let c = crate::config::CacheConfig::default();
        StudyLimits {
            max_study_bytes: c.max_study_bytes,
            max_study_instances: c.max_study_instances,
            min_free_bytes: c.min_free_bytes,
            keep_free: Vec::new(),
        }
    }
}

impl StudyLimits {
    /// The configuration's limits; `keep_free` are other paths whose disks
    /// keep the reserve (the audit log's).
    pub fn from_config(c: &crate::config::CacheConfig, keep_free: Vec<PathBuf>) -> StudyLimits {
        StudyLimits {
            max_study_bytes: c.max_study_bytes,
            max_study_instances: c.max_study_instances,
            min_free_bytes: c.min_free_bytes,
            keep_free,
        }
    }
}

/// Bytes available to an unprivileged writer on the disk holding `path`.
pub fn available_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a NUL-terminated path and `st` a buffer statvfs fills.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    // The field types are narrower on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize)))
}

/// An instance being written into the cache.
#[derive(Debug)]
pub struct ObjectWriter {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    bytes: u64,
    limit: u64,
    objects: PathBuf,
    /// The bytes as they arrived, up to [`HELD_BYTES`], so that the object
    /// is proved whole from memory rather than read back from disk.
    held: Option<Vec<u8>>,
}

/// The most of one object kept in memory while it is written.
const HELD_BYTES: u64 = 256 << 20;

impl Write for ObjectWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        ObjectWriter::write(self, buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An instance stored in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub sha256: String,
    pub bytes: u64,
    pub path: PathBuf,
    /// Its SOP Instance UID once proved a whole instance (its pixel data
    /// complete: [`prove_whole`]), or why it is not one.
    pub verified: std::result::Result<String, String>,
}

/// Proves an instance arrived whole and returns its SOP Instance UID: it
/// parses, and its pixel data is complete (JPEG 2000 walked to EOC with its
/// packet headers read, JPEG to EOI, native long enough), without a full
/// decode, which is left to the reader or the AI.
pub fn prove_whole(bytes: Vec<u8>) -> std::result::Result<String, String> {
    let inst = overread_dicom::from_bytes(bytes, &overread_dicom::Limits::default())
        .map_err(|e| e.to_string())?;
    let sop = inst
        .header()
        .sop_instance_uid
        .clone()
        .ok_or("the instance has no SOP Instance UID")?;
    if inst.header().has_pixel_data {
        inst.check_complete().map_err(|e| e.to_string())?;
    }
    Ok(sop)
}

/// Largest single instance accepted (a radiograph is tens of MB at most).
pub const MAX_OBJECT_BYTES: u64 = 1 << 30;

impl ObjectWriter {
    /// Appends bytes; refuses past the per-object limit.
    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.bytes += data.len() as u64;
        if self.bytes > self.limit {
            return Err(std::io::Error::other(format!(
                "instance larger than {} bytes",
                self.limit
            )));
        }
        self.hasher.update(data);
        if self.bytes > HELD_BYTES {
            self.held = None;
        } else if let Some(held) = &mut self.held {
            held.extend_from_slice(data);
        }
        self.file.write_all(data)
    }

    pub fn len(&self) -> u64 {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Proves the object whole ([`prove_whole`]), syncs the file and moves it to
    /// its content address.
    pub fn finish(mut self) -> Result<StoredObject> {
        // The proof and the sync to disk are independent: run them at once.
        let (held, written) = (self.held.take(), self.file.path().to_path_buf());
        let (verified, synced) = std::thread::scope(|s| {
            let proof = s.spawn(|| match held {
                Some(bytes) => prove_whole(bytes),
                // Too large to have kept: read back (bounded by the limits).
                None => fs::read(&written)
                    .map_err(|e| e.to_string())
                    .and_then(prove_whole),
            });
            let synced = self.file.as_file().sync_all();
            let verified = proof
                .join()
                .unwrap_or_else(|_| Err("checking the instance failed unexpectedly".into()));
            (verified, synced)
        });
        synced.map_err(|e| cache_err(self.file.path(), e))?;
        let sha = hex(&self.hasher.finalize());
        let shard = self.objects.join(&sha[..2]);
        fs::create_dir_all(&shard).map_err(|e| cache_err(&shard, e))?;
        let path = shard.join(format!("{sha}.dcm"));
        self.file
            .persist(&path)
            .map_err(|e| cache_err(&path, e.error))?;
        sync_dir(&shard);
        Ok(StoredObject {
            sha256: sha,
            bytes: self.bytes,
            path,
            verified,
        })
    }
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable; best effort where a platform cannot.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// What an eviction removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Eviction {
    pub studies: Vec<String>,
    pub bytes_freed: u64,
    /// Objects no study refers to (refused, unlisted, or left by an
    /// interrupted retrieval) removed.
    pub unreferenced: usize,
}

/// How long an object may stay unreferenced (a retrieval may be between
/// writing it and saving its study's record).
const UNREFERENCED_GRACE: std::time::Duration = std::time::Duration::from_secs(600);

impl Cache {
    /// Opens (creating) a cache; removes files left in `tmp/` by a write
    /// that a crash interrupted (untouched for ten minutes: another process,
    /// the app or the CLI, may be writing the newer ones right now).
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Cache> {
        for sub in ["objects", "studies", "tmp"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(|e| cache_err(&p, e))?;
        }
        let tmp = dir.join("tmp");
        let stale = |e: &fs::DirEntry| {
            e.metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age > std::time::Duration::from_secs(600))
        };
        if let Ok(entries) = fs::read_dir(&tmp) {
            for e in entries.flatten().filter(stale) {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(Cache {
            dir: dir.to_path_buf(),
            max_bytes,
            limits: StudyLimits::default(),
        })
    }

    /// The same cache with these per-study limits and free-space reserve.
    pub fn with_limits(mut self, limits: StudyLimits) -> Cache {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &StudyLimits {
        &self.limits
    }

    /// Whether there is room to retrieve more: every disk that matters
    /// (the cache's and the listed ones) keeps its reserve.
    pub fn check_room(&self) -> Result<()> {
        let reserve = self.limits.min_free_bytes;
        for path in std::iter::once(&self.dir).chain(&self.limits.keep_free) {
            // The nearest folder that exists is on the disk the path will be.
            let probe = path
                .ancestors()
                .find(|p| p.exists())
                .unwrap_or(Path::new("/"));
            let available = available_bytes(probe).map_err(|e| cache_err(path, e))?;
            if available < reserve {
                return Err(Error::DiskFull {
                    path: path.clone(),
                    available,
                    reserve,
                });
            }
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Starts writing one instance.
    pub fn writer(&self) -> Result<ObjectWriter> {
        let tmp = self.dir.join("tmp");
        let file = tempfile::Builder::new()
            .prefix("in-")
            .suffix(".part")
            .tempfile_in(&tmp)
            .map_err(|e| cache_err(&tmp, e))?;
        Ok(ObjectWriter {
            file,
            hasher: Sha256::new(),
            bytes: 0,
            limit: MAX_OBJECT_BYTES,
            objects: self.dir.join("objects"),
            held: Some(Vec::new()),
        })
    }

    /// Where an object with this hash lives (whether or not it exists).
    pub fn object_path(&self, sha256: &str) -> Option<PathBuf> {
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
            self.dir
                .join("objects")
                .join(&sha256[..2])
                .join(format!("{sha256}.dcm"))
        })
    }

    fn record_path(&self, study_uid: &str) -> PathBuf {
        let key = hex(&Sha256::digest(study_uid.as_bytes()))[..32].to_string();
        self.dir.join("studies").join(format!("{key}.json"))
    }

    pub fn study(&self, study_uid: &str) -> Result<Option<StudyRecord>> {
        let path = self.record_path(study_uid);
        match fs::read(&path) {
            Ok(bytes) => {
                let mut rec: StudyRecord =
                    serde_json::from_slice(&bytes).map_err(|e| cache_err(&path, e))?;
                // An object deleted behind our back no longer counts.
                rec.instances
                    .retain(|_, i| self.object_path(&i.sha256).is_some_and(|p| p.is_file()));
                Ok(Some(rec))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(cache_err(&path, e)),
        }
    }

    /// Writes a study record atomically.
    pub fn save_study(&self, record: &StudyRecord) -> Result<()> {
        let path = self.record_path(&record.study_uid);
        let json = serde_json::to_vec_pretty(record).map_err(|e| cache_err(&path, e))?;
        let tmp = self.dir.join("tmp");
        let mut f = tempfile::Builder::new()
            .prefix("study-")
            .tempfile_in(&tmp)
            .map_err(|e| cache_err(&tmp, e))?;
        f.write_all(&json).map_err(|e| cache_err(&path, e))?;
        f.as_file().sync_all().map_err(|e| cache_err(&path, e))?;
        f.persist(&path).map_err(|e| cache_err(&path, e.error))?;
        sync_dir(&self.dir.join("studies"));
        Ok(())
    }

    /// Every study record in the cache.
    pub fn studies(&self) -> Result<Vec<StudyRecord>> {
        let dir = self.dir.join("studies");
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir)
            .map_err(|e| cache_err(&dir, e))?
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = fs::read(&path).map_err(|e| cache_err(&path, e))?;
                if let Ok(rec) = serde_json::from_slice::<StudyRecord>(&bytes) {
                    out.push(rec);
                }
            }
        }
        Ok(out)
    }

    /// Paths of a study's cached instances.
    pub fn instance_paths(&self, record: &StudyRecord) -> Vec<PathBuf> {
        record
            .instances
            .values()
            .filter_map(|i| self.object_path(&i.sha256))
            .collect()
    }

    /// Marks a study as used now (for least-recently-used eviction).
    pub fn touch(&self, study_uid: &str) -> Result<()> {
        if let Some(mut rec) = self.study(study_uid)? {
            rec.last_used = now();
            self.save_study(&rec)?;
        }
        Ok(())
    }

    /// Bytes held by all studies' instances (shared objects counted once).
    pub fn total_bytes(&self) -> Result<u64> {
        Ok(distinct_bytes(&self.studies()?))
    }

    /// Removes least recently used studies until the cache is under its
    /// limit. Studies for which `pinned` says yes (pending decisions, or
    /// being read) are never removed; an object shared with a kept study
    /// stays.
    pub fn evict(&self, pinned: &dyn Fn(&str) -> bool) -> Result<Eviction> {
        let mut studies = self.studies()?;
        studies.sort_by_key(|r| r.last_used);
        let mut total = distinct_bytes(&studies);
        let mut out = Eviction::default();
        let mut victims = Vec::new();
        for rec in &studies {
            if total <= self.max_bytes {
                break;
            }
            if pinned(&rec.study_uid) {
                continue;
            }
            total = total.saturating_sub(rec.bytes());
            victims.push(rec.study_uid.clone());
        }
        let kept: std::collections::BTreeSet<&str> = studies
            .iter()
            .filter(|r| !victims.contains(&r.study_uid))
            .flat_map(|r| r.instances.values().map(|i| i.sha256.as_str()))
            .collect();
        for rec in studies.iter().filter(|r| victims.contains(&r.study_uid)) {
            let path = self.record_path(&rec.study_uid);
            fs::remove_file(&path).map_err(|e| cache_err(&path, e))?;
            for i in rec.instances.values() {
                if kept.contains(i.sha256.as_str()) {
                    continue;
                }
                if let Some(p) = self.object_path(&i.sha256)
                    && fs::remove_file(&p).is_ok()
                {
                    out.bytes_freed += i.bytes;
                }
            }
            out.studies.push(rec.study_uid.clone());
        }
        let referenced: std::collections::BTreeSet<&str> = studies
            .iter()
            .flat_map(|r| r.instances.values().map(|i| i.sha256.as_str()))
            .collect();
        out.unreferenced = self.remove_unreferenced(&referenced, UNREFERENCED_GRACE);
        Ok(out)
    }

    /// Removes objects that no study refers to and that are older than
    /// `grace`; returns how many.
    fn remove_unreferenced(
        &self,
        referenced: &std::collections::BTreeSet<&str>,
        grace: std::time::Duration,
    ) -> usize {
        let mut removed = 0;
        let Ok(shards) = fs::read_dir(self.dir.join("objects")) else {
            return 0;
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                let Some(sha) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let old = file
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= grace);
                if old && !referenced.contains(sha) && fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }
}

fn distinct_bytes(studies: &[StudyRecord]) -> u64 {
    let mut seen = BTreeMap::new();
    for rec in studies {
        for i in rec.instances.values() {
            seen.insert(i.sha256.as_str(), i.bytes);
        }
    }
    seen.values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects no study refers to (a refused or unlisted instance, an
    /// interrupted retrieval) are removed at eviction once they are older
    /// than the grace period; a fresh one may be a write in progress (#12).
    #[test]
    fn unreferenced_objects_are_removed_at_eviction() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path(), 1 << 30).expect("open");
        let mut rec = StudyRecord::new("pacs", "1.2");
        put(&cache, &mut rec, "1.2.1", b"kept");
        cache.save_study(&rec).expect("save");
        let orphan = |bytes: &[u8]| {
            let mut w = cache.writer().expect("writer");
            w.write(bytes).expect("write");
            w.finish().expect("finish").path
        };
        let (old, fresh) = (orphan(b"refused"), orphan(b"in progress"));
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(long_ago))
            .expect("age");
        let ev = cache.evict(&|_| false).expect("evict");
        assert_eq!(ev.unreferenced, 1);
        assert!(!old.exists() && fresh.exists());
        assert!(cache.object_path(&rec.instances["1.2.1"].sha256).is_some());
    }

    /// The reserve is kept on a real small filesystem (a tmpfs of 8 MB;
    /// skipped where this process may not mount one).
    #[test]
    fn retrieval_room_stops_at_the_reserve_on_a_small_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: cannot mount a tmpfs here");
            return;
        }
        let result = std::panic::catch_unwind(|| {
            let cache = Cache::open(&dir.path().join("cache"), 1 << 30)
                .expect("open")
                .with_limits(StudyLimits {
                    min_free_bytes: 5_000_000,
                    ..StudyLimits::default()
                });
            cache.check_room().expect("8 MB free, 5 MB kept");
            std::fs::write(dir.path().join("filler"), vec![1u8; 4_000_000]).expect("fill");
            let err = cache.check_room().expect_err("below the reserve");
            assert_eq!(err.code(), "disk_full");
            assert!(err.to_string().contains("kept free"), "{err}");
        });
        let _ = std::process::Command::new("umount")
            .arg(dir.path())
            .status();
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }

    fn put(cache: &Cache, rec: &mut StudyRecord, sop: &str, bytes: &[u8]) {
        let mut w = cache.writer().expect("writer");
        w.write(bytes).expect("write");
        let stored = w.finish().expect("finish");
        rec.expected.push(sop.into());
        rec.instances.insert(
            sop.into(),
            CachedInstance {
                sha256: stored.sha256,
                bytes: stored.bytes,
            },
        );
    }

    #[test]
    fn objects_are_content_addressed_and_records_round_trip() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path(), 1 << 20).expect("open");
        let mut rec = StudyRecord::new("pacs", "1.2.3");
        put(&cache, &mut rec, "1.2.3.1", b"hello");
        let sha = &rec.instances["1.2.3.1"].sha256;
        assert_eq!(
            sha,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        cache.save_study(&rec).expect("save");
        let back = cache.study("1.2.3").expect("read").expect("present");
        assert!(back.is_complete());
        assert_eq!(cache.instance_paths(&back).len(), 1);
        // Nothing in the file names comes from a UID.
        for entry in fs::read_dir(dir.path().join("studies"))
            .expect("dir")
            .flatten()
        {
            assert!(!entry.file_name().to_string_lossy().contains("1.2.3"));
        }
    }

    #[test]
    fn opening_removes_stale_leftovers_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path(), 1 << 20).expect("open");
        let tmp = dir.path().join("tmp");
        let (old, fresh) = (tmp.join("in-old.part"), tmp.join("in-fresh.part"));
        fs::write(&old, b"crashed").expect("write");
        fs::write(&fresh, b"being written").expect("write");
        let hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&old)
            .and_then(|f| f.set_modified(hour_ago))
            .expect("age");
        drop(cache);
        Cache::open(dir.path(), 1 << 20).expect("reopen");
        assert!(!old.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn an_interrupted_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path(), 1 << 20).expect("open");
        let mut w = cache.writer().expect("writer");
        w.write(b"half an instance").expect("write");
        drop(w); // the transfer died
        let objects: Vec<_> = walk(&dir.path().join("objects"));
        assert!(objects.is_empty(), "{objects:?}");
        assert!(walk(&dir.path().join("tmp")).is_empty());
    }

    #[test]
    fn a_study_with_a_missing_instance_is_partial() {
        let mut rec = StudyRecord::new("pacs", "1.2");
        rec.expected = vec!["1.2.1".into(), "1.2.2".into()];
        rec.instances.insert(
            "1.2.1".into(),
            CachedInstance {
                sha256: "00".repeat(32),
                bytes: 1,
            },
        );
        assert!(!rec.is_complete());
        assert_eq!(rec.missing(), vec!["1.2.2".to_string()]);
        assert!(!StudyRecord::new("pacs", "1.3").is_complete());
    }

    #[test]
    fn eviction_takes_the_least_recently_used_unpinned_studies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = Cache::open(dir.path(), 250).expect("open");
        for (i, uid) in ["1.1", "1.2", "1.3"].iter().enumerate() {
            let mut rec = StudyRecord::new("pacs", uid);
            put(&cache, &mut rec, &format!("{uid}.1"), &[i as u8; 100]);
            rec.last_used = 1000 + i as u64;
            cache.save_study(&rec).expect("save");
        }
        // 300 bytes over a 250 limit: the oldest (1.1) is pinned, so 1.2 goes.
        let ev = cache.evict(&|uid| uid == "1.1").expect("evict");
        assert_eq!(ev.studies, vec!["1.2".to_string()]);
        assert_eq!(ev.bytes_freed, 100);
        assert!(cache.study("1.2").expect("read").is_none());
        assert!(cache.study("1.1").expect("read").is_some());
        assert_eq!(cache.total_bytes().expect("total"), 200);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    out.extend(walk(&e.path()));
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }
}
