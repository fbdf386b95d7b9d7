//! Bad input: every case is a typed error with a one-line message, memory
//! stays bounded, and nothing panics. Files are built byte by byte here.

use overread_dicom::{Error, Limits, from_bytes};

/// One explicit VR little endian element.
fn el(group: u16, element: u16, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(group.to_le_bytes());
    out.extend(element.to_le_bytes());
    out.extend(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
        out.extend([0, 0]);
        out.extend((value.len() as u32).to_le_bytes());
    } else {
        out.extend((value.len() as u16).to_le_bytes());
    }
    out.extend(value);
    out
}

fn us(v: u16) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

fn text(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(if s.chars().all(|c| c.is_ascii_digit() || c == '.') {
            0
        } else {
            b' '
        });
    }
    v
}

/// Preamble, DICM and a file meta group with the given transfer syntax.
fn meta(ts: &str) -> Vec<u8> {
    let mut group = el(0x0002, 0x0001, b"OB", &[0, 1]);
    group.extend(el(
        0x0002,
        0x0002,
        b"UI",
        &text("1.2.840.10008.5.1.4.1.1.1"),
    ));
    group.extend(el(0x0002, 0x0003, b"UI", &text("2.25.1")));
    group.extend(el(0x0002, 0x0010, b"UI", &text(ts)));
    let mut out = vec![0u8; 128];
    out.extend(b"DICM");
    out.extend(el(
        0x0002,
        0x0000,
        b"UL",
        &(group.len() as u32).to_le_bytes(),
    ));
    out.extend(group);
    out
}

/// Image Pixel Module for a rows × cols, 16-bit MONOCHROME2 image.
fn pixel_module(rows: u16, cols: u16, bits_allocated: u16) -> Vec<u8> {
    let mut out = el(0x0008, 0x0060, b"CS", &text("CR"));
    out.extend(el(0x0028, 0x0002, b"US", &us(1)));
    out.extend(el(0x0028, 0x0004, b"CS", &text("MONOCHROME2")));
    out.extend(el(0x0028, 0x0010, b"US", &us(rows)));
    out.extend(el(0x0028, 0x0011, b"US", &us(cols)));
    out.extend(el(0x0028, 0x0100, b"US", &us(bits_allocated)));
    out.extend(el(0x0028, 0x0101, b"US", &us(bits_allocated.min(16))));
    out.extend(el(
        0x0028,
        0x0102,
        b"US",
        &us(bits_allocated.min(16).saturating_sub(1)),
    ));
    out.extend(el(0x0028, 0x0103, b"US", &us(0)));
    out
}

fn valid_file() -> Vec<u8> {
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(pixel_module(4, 4, 16));
    let pixels: Vec<u8> = (0..16u16).flat_map(|v| (v * 100).to_le_bytes()).collect();
    f.extend(el(0x7FE0, 0x0010, b"OW", &pixels));
    f
}

/// Opens and decodes every frame; returns the first error.
fn decode(bytes: Vec<u8>, limits: &Limits) -> Result<(), Error> {
    let instance = from_bytes(bytes, limits)?;
    let image = instance.image()?;
    for f in 0..image.frames {
        let frame = instance.frame(f)?;
        // The fuzz property: decoded length is rows × cols × samples.
        assert_eq!(frame.samples.len(), image.frame_samples());
        let shown = instance.display_frame(f, &frame, None)?;
        assert_eq!(
            shown.data.len(),
            image.rows as usize * image.cols as usize * usize::from(shown.channels)
        );
    }
    Ok(())
}

fn expect_error(bytes: Vec<u8>, limits: &Limits, code: &str, fragment: &str) {
    match decode(bytes, limits) {
        Ok(()) => panic!("expected a {code} error containing {fragment:?}, decoded fine"),
        Err(e) => {
            let msg = e.to_string();
            assert_eq!(e.code(), code, "{msg}");
            assert!(msg.contains(fragment), "{msg:?} lacks {fragment:?}");
            assert!(!msg.contains('\n'), "multi-line message: {msg:?}");
        }
    }
}

#[test]
fn the_valid_file_decodes() {
    decode(valid_file(), &Limits::default()).expect("valid");
}

#[test]
fn every_truncation_is_an_error() {
    let file = valid_file();
    for len in 0..file.len() - 1 {
        let r = decode(file[..len].to_vec(), &Limits::default());
        assert!(r.is_err(), "truncated to {len} bytes decoded");
        assert!(!r.expect_err("an error").to_string().contains('\n'));
    }
}

#[test]
fn huge_declared_length() {
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(pixel_module(4, 4, 16));
    f.extend([
        0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 0xF0, 0xFF, 0xFF, 0xFF,
    ]);
    f.extend([0u8; 32]);
    expect_error(
        f,
        &Limits::default(),
        "malformed",
        "declares 4294967280 bytes",
    );
    // In a text element before the pixels too.
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend([0x10, 0x00, 0x10, 0x00, b'P', b'N', 0xFF, 0xFF]);
    f.extend(b"DOE");
    expect_error(f, &Limits::default(), "malformed", "declares 65535 bytes");
}

#[test]
fn bogus_and_missing_transfer_syntax() {
    let mut f = meta("1.2.3.4.5");
    f.extend(pixel_module(4, 4, 16));
    expect_error(
        f,
        &Limits::default(),
        "transfer_syntax",
        "unsupported transfer syntax 1.2.3.4.5",
    );
    let mut f = vec![0u8; 128];
    f.extend(b"DICM");
    f.extend(el(
        0x0002,
        0x0002,
        b"UI",
        &text("1.2.840.10008.5.1.4.1.1.1"),
    ));
    f.extend(pixel_module(4, 4, 16));
    expect_error(
        f,
        &Limits::default(),
        "transfer_syntax",
        "no transfer syntax",
    );
}

#[test]
fn missing_short_and_long_pixel_data() {
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(pixel_module(4, 4, 16));
    expect_error(
        f.clone(),
        &Limits::default(),
        "image_attributes",
        "no pixel data",
    );
    let mut short = f.clone();
    short.extend(el(0x7FE0, 0x0010, b"OW", &[0u8; 30]));
    expect_error(
        short,
        &Limits::default(),
        "malformed",
        "pixel data is 30 bytes, 32 expected",
    );
    let mut long = f;
    long.extend(el(0x7FE0, 0x0010, b"OW", &[0u8; 64]));
    decode(long, &Limits::default()).expect("extra trailing pixel bytes are ignored");
}

#[test]
fn absurd_attributes() {
    // 65535 × 65535 × 32-bit = 16 GiB: refused before any allocation.
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(pixel_module(65535, 65535, 32));
    f.extend(el(0x7FE0, 0x0010, b"OW", &[0u8; 16]));
    expect_error(f, &Limits::default(), "too_large", "over the limit");
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(pixel_module(4, 4, 7));
    f.extend(el(0x7FE0, 0x0010, b"OW", &[0u8; 16]));
    expect_error(f, &Limits::default(), "image_attributes", "Bits Allocated");
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(pixel_module(0, 4, 16));
    f.extend(el(0x7FE0, 0x0010, b"OW", &[0u8; 16]));
    expect_error(f, &Limits::default(), "image_attributes", "Rows");
}

/// A 4 × 4 PALETTE COLOR image whose three channels have the descriptor
/// `[count, 0, 16]` (SS, so a count may be negative) and `segments` as
/// Segmented Palette Color LUT Data.
fn palette_file(count: i16, segments: &[u16]) -> Vec<u8> {
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend(el(0x0008, 0x0060, b"CS", &text("CR")));
    f.extend(el(0x0028, 0x0002, b"US", &us(1)));
    f.extend(el(0x0028, 0x0004, b"CS", &text("PALETTE COLOR")));
    f.extend(el(0x0028, 0x0010, b"US", &us(4)));
    f.extend(el(0x0028, 0x0011, b"US", &us(4)));
    f.extend(el(0x0028, 0x0100, b"US", &us(8)));
    f.extend(el(0x0028, 0x0101, b"US", &us(8)));
    f.extend(el(0x0028, 0x0102, b"US", &us(7)));
    f.extend(el(0x0028, 0x0103, b"US", &us(0)));
    let descriptor: Vec<u8> = [count, 0, 16]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    for e in [0x1101, 0x1102, 0x1103] {
        f.extend(el(0x0028, e, b"SS", &descriptor));
    }
    let data: Vec<u8> = segments.iter().flat_map(|w| w.to_le_bytes()).collect();
    for e in [0x1221, 0x1222, 0x1223] {
        f.extend(el(0x0028, e, b"OW", &data));
    }
    f.extend(el(0x7FE0, 0x0010, b"OB", &[1u8; 16]));
    f
}

#[test]
fn palette_descriptors_are_checked_before_allocating() {
    let ok = [0, 2, 0, 65535];
    decode(palette_file(2, &ok), &Limits::default()).expect("a valid segmented palette");
    // A negative count once reached Vec::with_capacity as a huge usize.
    expect_error(
        palette_file(-5, &ok),
        &Limits::default(),
        "image_attributes",
        "-5 entries",
    );
}

/// Zero-length segments under three levels of indirect segments, 300 wide
/// each: 8·10⁹ segment visits (10¹⁹ with 65535 in a 2 MB file) that once
/// made `overread render` never return. Refused after a budget of visits.
#[test]
fn nested_indirect_palette_segments_are_bounded_in_work() {
    let n: u16 = 300;
    let mut words: Vec<u16> = Vec::new();
    for _ in 0..n {
        words.extend([0, 0]);
    }
    let mut below = 0u32;
    for _ in 0..3 {
        let start = words.len() as u32;
        for _ in 0..n {
            words.extend([2, n, (below & 0xFFFF) as u16, (below >> 16) as u16]);
        }
        below = start;
    }
    let started = std::time::Instant::now();
    expect_error(
        palette_file(0, &words),
        &Limits::default(),
        "image_attributes",
        "too much work",
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn deflate_bomb_is_stopped_at_the_limit() {
    use std::io::Write;
    let mut dataset = pixel_module(2048, 2048, 16);
    dataset.extend(el(0x7FE0, 0x0010, b"OW", &vec![0u8; 2048 * 2048 * 2]));
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&dataset).expect("compress");
    let compressed = enc.finish().expect("compress");
    assert!(
        compressed.len() < 64 * 1024,
        "a bomb: {} bytes inflate to 8 MiB",
        compressed.len()
    );
    let mut f = meta("1.2.840.10008.1.2.1.99");
    f.extend(&compressed);
    let limits = Limits {
        max_inflated_bytes: 1 << 20,
        ..Limits::default()
    };
    expect_error(f.clone(), &limits, "too_large", "deflate bomb");
    decode(f, &Limits::default()).expect("within the default limit it is a valid file");
}

#[test]
fn deep_and_unterminated_sequences() {
    let mut f = meta("1.2.840.10008.1.2.1");
    for _ in 0..1000 {
        f.extend([
            0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        f.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    }
    expect_error(f, &Limits::default(), "malformed", "nested deeper than 32");
    let mut f = meta("1.2.840.10008.1.2.1");
    f.extend([
        0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    f.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    f.extend(pixel_module(4, 4, 16));
    expect_error(f, &Limits::default(), "malformed", "unterminated");
}

#[test]
fn broken_encapsulated_fragments() {
    let base = || {
        let mut f = meta("1.2.840.10008.1.2.4.70");
        f.extend(pixel_module(4, 4, 16));
        f.extend([
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        f.extend([0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
        f
    };
    // A fragment longer than the file.
    let mut f = base();
    f.extend([0xFE, 0xFF, 0x00, 0xE0, 0x00, 0x10, 0x00, 0x00, 0xFF, 0xD8]);
    expect_error(
        f,
        &Limits::default(),
        "malformed",
        "fragment declares 4096 bytes",
    );
    // No sequence delimiter.
    let mut f = base();
    f.extend([0xFE, 0xFF, 0x00, 0xE0, 2, 0, 0, 0, 0xFF, 0xD8]);
    expect_error(f, &Limits::default(), "malformed", "no sequence delimiter");
    // A fragment that is not JPEG.
    let mut f = base();
    f.extend([0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 1, 2, 3, 4]);
    f.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    expect_error(f, &Limits::default(), "codec", "cannot decode frame 0");
}

#[test]
fn random_damage_never_panics() {
    // Deterministic byte flips over valid files of several syntaxes; any
    // outcome but a panic or a wrong-sized frame is acceptable.
    let mut files = vec![valid_file()];
    if let Some(dir) = crate::corpus_dir() {
        for name in [
            "pydicom/MR_small_RLE.dcm",
            "pydicom/JPEG2000.dcm",
            "pydicom/JPGExtended.dcm",
            "pydicom/MR_small_jpeg_ls_lossless.dcm",
            "pydicom/SC_rgb_rle_32bit.dcm",
        ] {
            files.push(std::fs::read(dir.join(name)).expect("corpus file"));
        }
    }
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for file in &files {
        for _ in 0..300 {
            let mut damaged = file.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % damaged.len() as u64) as usize;
                damaged[at] = next() as u8;
            }
            if next() % 4 == 0 {
                damaged.truncate((next() % damaged.len() as u64) as usize);
            }
            let _ = decode(damaged, &Limits::default());
        }
    }
}

/// The `open_decode` fuzz corpus and every crash it found (kept as
/// regression files in src-tauri/fuzz/regressions/) run here too: each
/// opens and decodes, or fails with an error; none panics.
#[test]
fn the_fuzz_corpus_and_regressions_open_or_fail_cleanly() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut ran = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(dir) = std::fs::read_dir(root.join(kind).join("open_decode")) else {
            continue;
        };
        for entry in dir.flatten() {
            let bytes = std::fs::read(entry.path()).expect("read");
            if let Ok(instance) =
                overread_dicom::from_bytes(bytes, &overread_dicom::Limits::default())
                && let Ok(frame) = instance.frame(0)
            {
                let _ = instance.display_frame(0, &frame, None);
            }
            ran += 1;
        }
    }
    assert!(ran >= 5, "the fuzz corpus is missing ({ran} files)");
}
