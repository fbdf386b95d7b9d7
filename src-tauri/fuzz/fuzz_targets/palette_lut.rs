//! Segmented palettes and LUT sequences (#12): the fuzzer's bytes become
//! the descriptors and segment data of a small PALETTE COLOR image, and the
//! descriptor and data of a VOI LUT Sequence item on a MONOCHROME2 one; both
//! are opened, decoded and displayed. Errors are fine; a panic, a hang
//! (libFuzzer's -timeout) or a large allocation (-rss_limit_mb) is a find.
#![no_main]

use libfuzzer_sys::fuzz_target;
use overread_dicom::{Limits, from_bytes};

/// One explicit-VR little-endian element.
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(if vr == b"OW" || vr == b"US" || vr == b"OB" {
            0
        } else {
            b' '
        });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&value);
}

fn us(v: u16) -> [u8; 2] {
    v.to_le_bytes()
}

/// Preamble, file meta (explicit VR little endian) and the image module.
fn file(photometric: &[u8], bits: u16, body: &[u8]) -> Vec<u8> {
    let mut meta = Vec::new();
    element(&mut meta, 0x0002, 0x0010, b"UI", b"1.2.840.10008.1.2.1\0");
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    element(
        &mut out,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    out.extend_from_slice(&meta);
    element(&mut out, 0x0028, 0x0002, b"US", &us(1));
    element(&mut out, 0x0028, 0x0004, b"CS", photometric);
    element(&mut out, 0x0028, 0x0010, b"US", &us(4));
    element(&mut out, 0x0028, 0x0011, b"US", &us(4));
    element(&mut out, 0x0028, 0x0100, b"US", &us(bits));
    element(&mut out, 0x0028, 0x0101, b"US", &us(bits));
    element(&mut out, 0x0028, 0x0102, b"US", &us(bits - 1));
    element(&mut out, 0x0028, 0x0103, b"US", &us(0));
    out.extend_from_slice(body);
    out
}

fn decode(bytes: Vec<u8>) {
    let limits = Limits {
        max_decoded_bytes: 64 << 20,
        ..Limits::default()
    };
    let Ok(instance) = from_bytes(bytes, &limits) else {
        return;
    };
    let Ok(frame) = instance.frame(0) else { return };
    let _ = instance.display_frame(0, &frame, None);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 20 {
        return;
    }
    let (head, rest) = data.split_at(18);
    let third = rest.len() / 3;
    // Palette: three descriptors from the input, segmented data in three parts.
    let mut body = Vec::new();
    for (i, d) in head[..18].chunks(6).enumerate() {
        element(&mut body, 0x0028, 0x1101 + i as u16, b"US", d);
    }
    for (i, part) in rest.chunks(third.max(1)).take(3).enumerate() {
        element(&mut body, 0x0028, 0x1221 + i as u16, b"OW", part);
    }
    element(&mut body, 0x7FE0, 0x0010, b"OW", &[1u8; 16]);
    decode(file(b"PALETTE COLOR", 8, &body));

    // A VOI LUT Sequence item: descriptor from the input, data the rest.
    let mut item = Vec::new();
    element(&mut item, 0x0028, 0x3002, b"US", &head[..6]);
    element(&mut item, 0x0028, 0x3006, b"OW", rest);
    let mut seq = Vec::new();
    seq.extend_from_slice(&0xFFFEu16.to_le_bytes());
    seq.extend_from_slice(&0xE000u16.to_le_bytes());
    seq.extend_from_slice(&(item.len() as u32).to_le_bytes());
    seq.extend_from_slice(&item);
    let mut body = Vec::new();
    element(&mut body, 0x0028, 0x3010, b"SQ", &seq);
    element(&mut body, 0x7FE0, 0x0010, b"OW", &[7u8; 32]);
    decode(file(b"MONOCHROME2", 16, &body));
});
