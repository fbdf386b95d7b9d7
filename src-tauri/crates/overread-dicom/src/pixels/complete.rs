//! Proof that a frame's pixel data arrived whole, at less cost than a
//! decode: what a PACS retrieval checks before it keeps a file, so that the
//! one full decode is left to the reader or the AI.
//!
//! | codec | proof |
//! |---|---|
//! | native | the value holds every frame's bits |
//! | JPEG, JPEG-LS | SOI, every header marker segment in bounds up to SOS, EOI last |
//! | RLE | the header's segments each unpack to exactly one plane (counted, not written) |
//! | JPEG 2000, HTJ2K | every marker segment and tile-part to EOC, then every packet header through a decode at the lowest resolution ([`super::j2k::check`]) |
//!
//! No proof sees a flipped bit inside entropy-coded data, and neither would
//! a decode: DICOM carries no checksum of pixel data (the transport's do).

/// The JPEG family's marker syntax (ISO 10918-1 B.1, ISO 14495-1 C.1).
pub(crate) fn jpeg(data: &[u8]) -> Result<(), String> {
    // Padding to an even length: zeros, or one FF after EOI.
    let mut end = data.len() - data.iter().rev().take_while(|&&b| b == 0).count();
    if data[..end].ends_with(&[0xFF, 0xD9, 0xFF]) {
        end -= 1;
    }
    let data = &data[..end];
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err("the JPEG stream does not start with SOI".into());
    }
    if !data.ends_with(&[0xFF, 0xD9]) {
        return Err("the JPEG stream does not end with EOI (it is cut)".into());
    }
    let (mut at, mut frame) = (2usize, false);
    loop {
        let (Some(&0xFF), Some(&marker)) = (data.get(at), data.get(at + 1)) else {
            return Err(format!("the JPEG header is damaged at byte {at}"));
        };
        match marker {
            0xFF => at += 1, // fill byte
            0xDA if frame => return Ok(()),
            0xDA => return Err("the JPEG stream has a scan but no frame header".into()),
            0xD8 | 0xD9 | 0xD0..=0xD7 | 0x01 | 0x00 => {
                return Err(format!(
                    "unexpected JPEG marker FF{marker:02X} in the header"
                ));
            }
            _ => {
                let len = data
                    .get(at + 2..at + 4)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .filter(|&l| l >= 2 && at + 2 + l <= end)
                    .ok_or_else(|| format!("JPEG marker FF{marker:02X} runs past the stream"))?;
                // SOF0..SOF15 less DHT, JPG, DAC; SOF55 for JPEG-LS.
                frame |= matches!(marker, 0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC))
                    || marker == 0xF7;
                at += 2 + len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, a DQT-sized segment, SOF0, SOS, two bytes of scan, EOI.
    fn stream() -> Vec<u8> {
        let mut s = vec![0xFF, 0xD8, 0xFF, 0xDB, 0, 4, 1, 2];
        s.extend_from_slice(&[0xFF, 0xC0, 0, 5, 8, 0, 1]);
        s.extend_from_slice(&[0xFF, 0xDA, 0, 3, 1, 0x12, 0x34, 0xFF, 0xD9]);
        s
    }

    #[test]
    fn whole_streams_pass_and_cut_ones_do_not() {
        let whole = stream();
        jpeg(&whole).expect("whole");
        let mut padded = whole.clone();
        padded.push(0);
        jpeg(&padded).expect("padded to even length");
        for len in 0..whole.len() {
            assert!(jpeg(&whole[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn a_damaged_header_is_caught() {
        let mut bad = stream();
        bad[5] = 40; // DQT length past the end
        assert!(jpeg(&bad).is_err());
        let mut bad = stream();
        bad[9] = 0xC4; // the frame header becomes a DHT: no frame
        assert!(
            jpeg(&bad)
                .expect_err("no frame")
                .contains("no frame header")
        );
    }
}
