//! The proof that pixel data arrived whole (`Instance::check_complete`,
//! what a PACS retrieval runs instead of a decode) on real files: every
//! decodable file of the corpus passes, and cut or damaged codestreams of
//! every compressed syntax, JPEG 2000 and HTJ2K above all, fail. Also the
//! reduced-resolution JPEG 2000 preview.

use std::path::Path;

use overread_dicom::{Instance, Limits, from_bytes, open};

use crate::corpus_dir;

const J2K: &[&str] = &[
    "rg1/RG1_j2k_lossless.dcm",
    "rg1/RG1_j2k_lossy.dcm",
    "rg1/RG1_htj2k_lossless.dcm",
    "rg1/RG1_htj2k_lossy.dcm",
];

const OTHER_CODECS: &[&str] = &[
    "rg1/RG1_jpeg_lossless_sv1.dcm",
    "rg1/RG1_jpeg_extended_12bit.dcm",
    "rg1/RG1_jpeg_baseline_8bit.dcm",
    "rg1/RG1_jpegls_lossless.dcm",
    "rg1/RG1_rle.dcm",
];

/// A single-frame file's bytes, split around its fragments: the codestream
/// (or RLE frame) is their concatenation.
struct Encapsulated {
    bytes: Vec<u8>,
    /// Where the first fragment's item starts and the sequence delimiter ends.
    items: std::ops::Range<usize>,
    stream: Vec<u8>,
}

impl Encapsulated {
    fn read(path: &Path) -> Encapsulated {
        let bytes = std::fs::read(path).expect("read");
        let item = |at: usize| -> (u16, usize) {
            let tag = u16::from_le_bytes([bytes[at + 2], bytes[at + 3]]);
            let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes"));
            (tag, len as usize)
        };
        let px = bytes
            .windows(4)
            .rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00])
            .expect("pixel data");
        let bot = px + 12; // tag, OB, reserved, undefined length
        let first = bot + 8 + item(bot).1;
        let (mut at, mut stream) = (first, Vec::new());
        loop {
            match item(at) {
                (0xE000, len) => {
                    stream.extend_from_slice(&bytes[at + 8..at + 8 + len]);
                    at += 8 + len;
                }
                (0xE0DD, _) => break,
                (tag, _) => panic!("{}: item tag {tag:04X} at {at}", path.display()),
            }
        }
        Encapsulated {
            items: first..at + 8,
            bytes,
            stream,
        }
    }

    fn codestream(&self) -> &[u8] {
        &self.stream
    }

    /// The same file with `stream` as its one fragment.
    fn with(&self, stream: &[u8]) -> Vec<u8> {
        let mut stream = stream.to_vec();
        if stream.len() % 2 == 1 {
            stream.push(0);
        }
        let mut out = self.bytes[..self.items.start].to_vec();
        out.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        out.extend_from_slice(&(stream.len() as u32).to_le_bytes());
        out.extend_from_slice(&stream);
        out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        out.extend_from_slice(&self.bytes[self.items.end..]);
        out
    }
}

fn check(bytes: Vec<u8>) -> Result<(), String> {
    let instance = from_bytes(bytes, &Limits::default()).map_err(|e| format!("open: {e}"))?;
    instance.check_complete().map_err(|e| e.to_string())
}

#[test]
fn every_decodable_file_of_the_corpus_is_complete() {
    let Some(dir) = corpus_dir() else { return };
    let (mut passed, mut failures) = (0, Vec::new());
    for entry in walk(&dir) {
        let Ok(instance) = open(&entry, &Limits::default()) else {
            continue;
        };
        if !instance.header().has_pixel_data || instance.frame(0).is_err() {
            continue;
        }
        match instance.check_complete() {
            Ok(()) => passed += 1,
            Err(e) => failures.push(format!("{}: {e}", entry.display())),
        }
    }
    eprintln!("complete: {passed} files pass, {} fail", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed >= 150, "only {passed} files checked");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() && !path.ends_with("reference") && !path.ends_with("damaged") {
            out.extend(walk(&path));
        } else if path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Cut anywhere, each codestream is refused: at a tenth, a half, nine
/// tenths, and with only its last two bytes (EOC) missing.
#[test]
fn cut_codestreams_of_every_codec_are_refused() {
    let Some(dir) = corpus_dir() else { return };
    for rel in J2K.iter().chain(OTHER_CODECS) {
        let file = Encapsulated::read(&dir.join(rel));
        check(file.with(file.codestream())).unwrap_or_else(|e| panic!("{rel} whole: {e}"));
        let whole = file.codestream();
        let real = whole.len() - whole.iter().rev().take_while(|&&b| b == 0).count();
        for keep in [real / 10, real / 2, real * 9 / 10, real - 2] {
            let cut = file.with(&whole[..keep]);
            let Err(why) = check(cut) else {
                panic!("{rel} cut to {keep} of {real} bytes passed")
            };
            assert!(!why.contains('\n'), "{why}");
        }
    }
}

/// The corpus's damaged instance (RG1's codestream cut in half, inside valid
/// DICOM framing) is refused by the check, by the full decode and by the
/// preview: OpenJPEG's lenient decoder alone (which the retrieval used as
/// its proof before) returns a partial image, so every decode walks the
/// codestream first.
#[test]
fn a_cut_codestream_in_valid_framing_is_refused() {
    let Some(dir) = corpus_dir() else { return };
    let instance = open(&dir.join("damaged/RG1_j2k_cut.dcm"), &Limits::default()).expect("open");
    let why = instance.check_complete().expect_err("cut").to_string();
    assert!(why.contains("the codestream is cut"), "{why}");
    let decode = instance.frame(0).expect_err("no partial image").to_string();
    assert!(decode.contains("the codestream is cut"), "{decode}");
    assert!(
        instance.reduced_frame(0, 512).is_err(),
        "no partial preview"
    );
}

/// Byte offsets of a marker's segments in a codestream.
fn marker(cs: &[u8], m: [u8; 2]) -> Vec<usize> {
    cs.windows(2)
        .enumerate()
        .filter(|(_, w)| *w == m)
        .map(|(i, _)| i)
        .collect()
}

/// Damage to what says where the data is and how big the image is: SIZ's
/// size and component count, COD's levels, each field of the first SOT,
/// the first SOD, EOC. Each one alone is caught.
#[test]
fn damaged_jpeg2000_structure_is_refused() {
    let Some(dir) = corpus_dir() else { return };
    for rel in J2K {
        let file = Encapsulated::read(&dir.join(rel));
        let cs = file.codestream();
        let siz = marker(cs, [0xFF, 0x51])[0];
        let cod = marker(cs, [0xFF, 0x52])[0];
        let sot = marker(cs, [0xFF, 0x90])[0];
        let sod = sot + 12; // SOD follows SOT directly in these files
        assert_eq!(cs[sod..sod + 2], [0xFF, 0x93], "{rel}");
        let eoc = cs.len() - cs.iter().rev().take_while(|&&b| b == 0).count() - 1;
        let places = [
            (siz + 9, "SIZ width"),
            (siz + 13, "SIZ height"),
            (siz + 41, "SIZ components"),
            (cod + 9, "COD levels"),
            (sot + 1, "SOT marker"),
            (sot + 5, "SOT tile index"),
            (sot + 8, "SOT length"),
            (sot + 10, "SOT tile-part number"),
            (sod + 1, "SOD marker"),
            (eoc, "EOC"),
        ];
        for (at, what) in places {
            let mut bad = cs.to_vec();
            bad[at] ^= 0x10;
            assert!(
                check(file.with(&bad)).is_err(),
                "{rel}: {what} damaged at byte {at} passed"
            );
        }
    }
}

/// The preview of a J2K radiograph comes from a reduced-resolution decode
/// (RG1: 1841×1955 → 461×489 at level 2), and agrees with the full image
/// averaged over the same 4×4 blocks to within a small fraction of its range.
#[test]
fn jpeg2000_previews_are_decoded_at_reduced_resolution() {
    let Some(dir) = corpus_dir() else { return };
    for rel in J2K {
        let instance = open(&dir.join(rel), &Limits::default()).expect("open");
        let preview = instance
            .reduced_frame(0, 512)
            .expect("reduced")
            .unwrap_or_else(|| panic!("{rel}: no reduced frame"));
        assert_eq!((preview.cols, preview.rows), (461, 489), "{rel}");
        let full = instance.frame(0).expect("full");
        let (lo, hi) = full.samples.min_max().expect("samples");
        let mean_error = box_error(&full, &preview);
        assert!(
            mean_error < 0.01 * (hi - lo) as f64,
            "{rel}: mean difference {mean_error:.1} over a range of {}",
            hi - lo
        );
    }
    let other = open(&dir.join(OTHER_CODECS[0]), &Limits::default()).expect("open");
    assert!(other.reduced_frame(0, 512).expect("no error").is_none());
}

/// Mean absolute difference between `small` and `full` averaged over blocks.
fn box_error(full: &overread_dicom::Frame, small: &overread_dicom::Frame) -> f64 {
    let f = full.cols.div_ceil(small.cols) as usize;
    let values: Vec<i64> = full.samples.iter_i64().collect();
    let reduced: Vec<i64> = small.samples.iter_i64().collect();
    let (mut sum, mut n) = (0.0, 0usize);
    for y in 0..(full.rows as usize / f).min(small.rows as usize) {
        for x in 0..(full.cols as usize / f).min(small.cols as usize) {
            let mut acc = 0i64;
            for dy in 0..f {
                for dx in 0..f {
                    acc += values[(y * f + dy) * full.cols as usize + x * f + dx];
                }
            }
            let avg = acc as f64 / (f * f) as f64;
            sum += (avg - reduced[y * small.cols as usize + x] as f64).abs();
            n += 1;
        }
    }
    sum / n as f64
}

/// The check costs a fraction of a decode (printed, not asserted: timings
/// belong to the benchmarks).
#[test]
fn the_check_is_cheaper_than_a_decode() {
    let Some(dir) = corpus_dir() else { return };
    for rel in J2K {
        let instance: Instance = open(&dir.join(rel), &Limits::default()).expect("open");
        let t = std::time::Instant::now();
        instance.check_complete().expect("complete");
        let check = t.elapsed();
        let t = std::time::Instant::now();
        instance.frame(0).expect("decode");
        eprintln!("{rel}: check {check:?}, decode {:?}", t.elapsed());
    }
}
