//! RLE Lossless (PS3.5 Annex G). Written here rather than taken from
//! dicom-rs, whose decoder stops at 16-bit samples: a 64-byte header of
//! segment offsets, one PackBits segment per byte plane, most significant
//! byte first.

/// Decodes one frame to little-endian interleaved samples.
pub(crate) fn decode(
    data: &[u8],
    pixels: usize,
    samples: usize,
    bytes_per_sample: usize,
) -> Result<Vec<u8>, String> {
    if data.len() < 64 {
        return Err("RLE header is shorter than 64 bytes".into());
    }
    let word = |i: usize| {
        u32::from_le_bytes([
            data[i * 4],
            data[i * 4 + 1],
            data[i * 4 + 2],
            data[i * 4 + 3],
        ])
    };
    let segments = word(0) as usize;
    let expected = samples * bytes_per_sample;
    if segments != expected {
        return Err(format!(
            "RLE frame has {segments} segments, {expected} expected"
        ));
    }
    let offsets: Vec<usize> = (1..=segments).map(|i| word(i) as usize).collect();
    let mut out = vec![0u8; pixels * expected];
    let mut plane = vec![0u8; pixels];
    for (s, &start) in offsets.iter().enumerate() {
        let end = offsets.get(s + 1).copied().unwrap_or(data.len());
        if start < 64 || start > end || end > data.len() {
            return Err(format!("RLE segment {s} has bad offsets {start}..{end}"));
        }
        unpack_bits(&data[start..end], &mut plane).map_err(|e| format!("RLE segment {s}: {e}"))?;
        // Segment order: sample by sample, each from most to least significant byte.
        let sample = s / bytes_per_sample;
        let byte = bytes_per_sample - 1 - s % bytes_per_sample;
        let stride = expected;
        let base = sample * bytes_per_sample + byte;
        for (i, &v) in plane.iter().enumerate() {
            out[i * stride + base] = v;
        }
    }
    Ok(out)
}

/// Proof that a frame arrived whole without decoding it: the header's
/// segments each unpack to exactly `pixels` bytes (counted, not written).
pub(crate) fn check(data: &[u8], pixels: usize, expected_segments: usize) -> Result<(), String> {
    let word = |i: usize| {
        data.get(i * 4..i * 4 + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("RLE header is shorter than 64 bytes")
    };
    if data.len() < 64 {
        return Err("RLE header is shorter than 64 bytes".into());
    }
    let segments = word(0)?;
    if segments != expected_segments {
        return Err(format!(
            "RLE frame has {segments} segments, {expected_segments} expected"
        ));
    }
    for s in 0..segments {
        let start = word(s + 1)?;
        let end = if s + 1 < segments {
            word(s + 2)?
        } else {
            data.len()
        };
        if start < 64 || start > end || end > data.len() {
            return Err(format!("RLE segment {s} has bad offsets {start}..{end}"));
        }
        let (src, (mut i, mut o)) = (&data[start..end], (0usize, 0usize));
        while o < pixels {
            let n = *src
                .get(i)
                .ok_or_else(|| format!("RLE segment {s} ends after {o} of {pixels} bytes"))?;
            let (advance, produced) = match n {
                0..=127 => (1 + usize::from(n) + 1, usize::from(n) + 1),
                128 => (1, 0),
                _ => (2, 257 - usize::from(n)),
            };
            if i + advance > src.len() {
                return Err(format!("RLE segment {s}: a run goes past the end"));
            }
            (i, o) = (i + advance, o + produced);
        }
    }
    Ok(())
}

/// PackBits: a header byte n, then n+1 literal bytes (0..=127) or one byte
/// repeated 257-n times (129..=255); 128 is a no-op. Fills `out` exactly;
/// extra input (segments are padded to even length) is ignored.
fn unpack_bits(src: &[u8], out: &mut [u8]) -> Result<(), String> {
    let (mut i, mut o) = (0usize, 0usize);
    while o < out.len() {
        let Some(&n) = src.get(i) else {
            return Err(format!("ends after {o} of {} bytes", out.len()));
        };
        i += 1;
        match n {
            0..=127 => {
                let len = usize::from(n) + 1;
                let lit = src.get(i..i + len).ok_or("literal run past the end")?;
                let take = len.min(out.len() - o);
                out[o..o + take].copy_from_slice(&lit[..take]);
                o += take;
                i += len;
            }
            128 => {}
            _ => {
                let len = 257 - usize::from(n);
                let &v = src.get(i).ok_or("repeat run past the end")?;
                i += 1;
                let take = len.min(out.len() - o);
                out[o..o + take].fill(v);
                o += take;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(segments: &[&[u8]]) -> Vec<u8> {
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut body = Vec::new();
        for (i, s) in segments.iter().enumerate() {
            let off = 64 + body.len() as u32;
            header[4 + i * 4..8 + i * 4].copy_from_slice(&off.to_le_bytes());
            body.extend_from_slice(s);
        }
        header.extend(body);
        header
    }

    #[test]
    fn sixteen_bit_planes_recombine() {
        // High bytes: 0x01 ×3 (repeat run), low bytes: literal 0x02 0x03 0x04.
        let data = frame(&[&[0xFE, 0x01], &[0x02, 0x02, 0x03, 0x04]]);
        let out = decode(&data, 3, 1, 2).expect("decodes");
        assert_eq!(out, vec![0x02, 0x01, 0x03, 0x01, 0x04, 0x01]);
    }

    #[test]
    fn truncated_segment_is_an_error() {
        let data = frame(&[&[0x05, 0x01]]);
        assert!(decode(&data, 6, 1, 1).is_err());
        assert!(decode(&data[..10], 6, 1, 1).is_err());
        assert!(check(&data, 6, 1).is_err());
    }

    #[test]
    fn the_check_agrees_with_the_decoder_on_every_cut() {
        let data = frame(&[&[0xFE, 0x01], &[0x02, 0x02, 0x03, 0x04]]);
        check(&data, 3, 2).expect("whole");
        for len in 0..data.len() {
            let cut = &data[..len];
            assert_eq!(
                check(cut, 3, 2).is_ok(),
                decode(cut, 3, 1, 2).is_ok(),
                "cut at {len}"
            );
        }
        assert!(check(&data, 3, 1).is_err(), "segment count");
    }
}
