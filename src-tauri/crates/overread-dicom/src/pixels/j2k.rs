//! JPEG 2000 and HTJ2K codestreams (ISO/IEC 15444-1 Annex A; 15444-15
//! keeps the same markers). Two things the full decode cannot do cheaply:
//!
//! - [`walk`] visits every marker segment and every tile-part (SOT … SOD,
//!   each as long as its Psot says) up to EOC, and checks them against SIZ:
//!   a cut codestream, or one whose markers or lengths were damaged, is
//!   caught without decoding a sample.
//! - [`decode_reduced`] asks OpenJPEG for the image at 1/2^r of its size: it
//!   reads every packet header (to skip the packets it does not need) but
//!   runs the entropy decoder and wavelet only for the lower resolutions.
//!
//! [`check`] is both together: the proof that a retrieved codestream arrived
//! whole, at a fraction of a full decode. The preview of a J2K radiograph
//! is [`decode_reduced`] at the level nearest the preview's size. Every
//! decode walks the codestream first: OpenJPEG's lenient decoder returns a
//! partial image of a cut codestream rather than an error.

use jpeg2k::{DecodeParameters, Image};

use crate::image::ImagePixel;

const SOC: u16 = 0xFF4F;
const SIZ: u16 = 0xFF51;
const COD: u16 = 0xFF52;
const COC: u16 = 0xFF53;
const QCD: u16 = 0xFF5C;
const SOT: u16 = 0xFF90;
const SOD: u16 = 0xFF93;
const EOC: u16 = 0xFFD9;

/// What [`walk`] learnt about a codestream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Codestream {
    pub width: u32,
    pub height: u32,
    pub components: u32,
    /// The largest component precision in bits.
    pub precision: u32,
    /// The fewest wavelet decomposition levels of any component or tile
    /// (COD and COC segments): how far a decode can be reduced.
    pub levels: u8,
    pub tiles: u32,
    pub tile_parts: u32,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The codestream inside `data`: from SOC, also inside a JP2 wrapper.
fn codestream(data: &[u8]) -> Result<&[u8], String> {
    let soc = data
        .windows(4)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])
        .ok_or("no JPEG 2000 codestream (SOC followed by SIZ) found")?;
    Ok(&data[soc..])
}

struct Siz {
    width: u32,
    height: u32,
    components: u32,
    precision: u32,
    tiles: u32,
}

/// SIZ (A.5.1): the image and tile grid, validated as the standard requires.
fn siz(seg: &[u8]) -> Result<Siz, String> {
    let bad = |what: &str| format!("the SIZ marker is damaged ({what})");
    let field = |at| be32(seg, at).ok_or_else(|| bad("too short"));
    let (xsiz, ysiz, xo, yo) = (field(2)?, field(6)?, field(10)?, field(14)?);
    let (xt, yt, xto, yto) = (field(18)?, field(22)?, field(26)?, field(30)?);
    let csiz = u32::from(be16(seg, 34).ok_or_else(|| bad("too short"))?);
    if seg.len() != 36 + 3 * csiz as usize || csiz == 0 {
        return Err(bad(&format!(
            "{} bytes for {csiz} components",
            seg.len() + 2
        )));
    }
    if xsiz <= xo || ysiz <= yo || xt == 0 || yt == 0 || xto > xo || yto > yo {
        return Err(bad("image or tile offsets out of order"));
    }
    if xto.saturating_add(xt) <= xo || yto.saturating_add(yt) <= yo {
        return Err(bad("the first tile holds no image"));
    }
    let across = u64::from(xsiz - xto).div_ceil(u64::from(xt));
    let down = u64::from(ysiz - yto).div_ceil(u64::from(yt));
    // Isot is 16 bits (A.4.2): no codestream can address more tiles.
    let tiles = u32::try_from(across * down)
        .ok()
        .filter(|&t| t <= 65535)
        .ok_or_else(|| bad(&format!("{across}×{down} tiles")))?;
    let mut precision = 0;
    for c in 0..csiz as usize {
        let ssiz = u32::from(seg[36 + c * 3]);
        let (dx, dy) = (seg[37 + c * 3], seg[38 + c * 3]);
        if dx == 0 || dy == 0 {
            return Err(bad("a component sub-sampling of 0"));
        }
        if dx != 1 || dy != 1 {
            return Err("sub-sampled JPEG 2000 components are not supported".into());
        }
        precision = u32::max(precision, (ssiz & 0x7F) + 1);
    }
    Ok(Siz {
        width: xsiz - xo,
        height: ysiz - yo,
        components: csiz,
        precision,
        tiles,
    })
}

/// Encoders refuse more decomposition levels than halve the image to one
/// pixel (OpenJPEG: "number of resolutions is too high"); more is damage.
fn plausible_levels(levels: u8, size: &Siz) -> Result<(), String> {
    let longest = u64::from(size.width.max(size.height));
    if levels < 32 && 1u64 << levels > longest {
        return Err(format!(
            "COD says {levels} decomposition levels for a {}×{} image (the header is damaged)",
            size.width, size.height
        ));
    }
    Ok(())
}

/// Decomposition levels set by a COD or COC segment (A.6.1, A.6.2).
fn levels_in(marker: u16, seg: &[u8], components: u32) -> Result<Option<u8>, String> {
    let at = match marker {
        COD => 5,
        COC if components < 257 => 2,
        COC => 3,
        _ => return Ok(None),
    };
    let levels = *seg
        .get(at)
        .ok_or_else(|| format!("the {marker:04X} marker is too short"))?;
    if levels > 32 {
        return Err(format!("{levels} decomposition levels (at most 32)"));
    }
    Ok(Some(levels))
}

/// The marker segments from `at` up to (not including) `stop`, or to the end
/// of `region`. Returns where `stop` is, and calls `each` on every segment.
fn segments(
    region: &[u8],
    mut at: usize,
    stop: u16,
    place: &str,
    mut each: impl FnMut(u16, &[u8]) -> Result<(), String>,
) -> Result<usize, String> {
    loop {
        let marker =
            be16(region, at).ok_or_else(|| format!("the codestream ends inside {place}"))?;
        if marker == stop {
            return Ok(at);
        }
        // Markers are 0xFF30..=0xFFFF; 0xFF30..=0xFF3F have no segment.
        if marker < 0xFF30 {
            return Err(format!(
                "{place} is damaged: {marker:04X} at byte {at} is not a marker"
            ));
        }
        if marker <= 0xFF3F {
            at += 2;
            continue;
        }
        let len = usize::from(be16(region, at + 2).ok_or_else(|| format!("{place} is cut"))?);
        let seg = region
            .get(at + 4..at + 2 + len)
            .filter(|_| len >= 2)
            .ok_or_else(|| format!("marker {marker:04X} in {place} runs past its end"))?;
        each(marker, seg)?;
        at += 2 + len;
    }
}

/// Walks a whole codestream: the main header, every tile-part, EOC. Each
/// tile must be present with its tile-parts numbered in order (and as many
/// as TNsot says, where it says); only zero padding may follow EOC.
pub(crate) fn walk(data: &[u8]) -> Result<Codestream, String> {
    let cs = codestream(data)?;
    debug_assert_eq!(be16(cs, 0), Some(SOC));
    let (mut size, mut levels, mut cod, mut qcd) = (None, u8::MAX, false, false);
    let first_tile = segments(cs, 2, SOT, "the main header", |marker, seg| {
        match marker {
            SIZ if size.is_none() => size = Some(siz(seg)?),
            SIZ => return Err("two SIZ markers".into()),
            _ if size.is_none() => return Err("the main header does not start with SIZ".into()),
            QCD => qcd = true,
            _ => {}
        }
        let components = size.as_ref().map_or(0, |s: &Siz| s.components);
        if let Some(l) = levels_in(marker, seg, components)? {
            cod |= marker == COD;
            levels = levels.min(l);
        }
        Ok(())
    })?;
    let size = size.ok_or("no SIZ marker")?;
    if !cod || !qcd {
        return Err("the main header lacks its COD or QCD marker".into());
    }
    plausible_levels(levels, &size)?;
    // Zero padding after EOC is allowed (DICOM items have even lengths).
    let end = cs.len() - cs.iter().rev().take_while(|&&b| b == 0).count();
    let mut parts: Vec<(u8, u8)> = vec![(0, 0); size.tiles as usize]; // (seen, TNsot)
    let (mut at, mut tile_parts) = (first_tile, 0u32);
    loop {
        match be16(cs, at) {
            Some(SOT) => {}
            // One byte of padding to an even length, whatever its value
            // (some encoders pad with FF).
            Some(EOC) if at + 2 >= end.saturating_sub(1) => break,
            Some(EOC) => return Err(format!("{} bytes follow EOC", end - at - 2)),
            Some(m) => {
                return Err(format!(
                    "expected a tile-part (SOT) or the end (EOC) at byte {at}, found {m:04X}"
                ));
            }
            None => {
                return Err(format!(
                    "the codestream is cut after {tile_parts} tile-parts"
                ));
            }
        }
        let sot = cs
            .get(at + 2..at + 12)
            .filter(|s| s[..2] == [0, 10])
            .ok_or("a tile-part header (SOT) is damaged")?;
        let tile = usize::from(u16::from_be_bytes([sot[2], sot[3]]));
        let psot = u32::from_be_bytes([sot[4], sot[5], sot[6], sot[7]]) as usize;
        let (tp, tn) = (sot[8], sot[9]);
        let (seen, declared) = parts
            .get_mut(tile)
            .ok_or_else(|| format!("tile-part names tile {tile}, the image has {}", size.tiles))?;
        if tp != *seen || (*declared != 0 && tn != 0 && tn != *declared) {
            return Err(format!(
                "tile {tile}: tile-part {tp} of {tn} where part {} was due",
                *seen
            ));
        }
        (*seen, *declared) = (seen.saturating_add(1), if tn != 0 { tn } else { *declared });
        // Psot = 0: this tile-part runs to EOC (A.4.2).
        let next = if psot == 0 {
            cs[..end]
                .windows(2)
                .rposition(|w| w == [0xFF, 0xD9])
                .unwrap_or(end)
        } else {
            at + psot
        };
        if psot != 0 && psot < 14 || next > end {
            return Err(format!(
                "tile {tile}, part {tp}: declares {psot} bytes, {} are left (the codestream is cut)",
                end - at
            ));
        }
        let sod = segments(&cs[..next], at + 12, SOD, "a tile-part header", |m, seg| {
            if let Some(l) = levels_in(m, seg, size.components)? {
                levels = levels.min(l);
            }
            Ok(())
        })?;
        debug_assert!(sod + 2 <= next);
        tile_parts += 1;
        at = next;
    }
    // More tile-parts than TNsot said is an encoder's miscount (GDCM wrote
    // such files); fewer is a codestream that lost some.
    if let Some(tile) = parts.iter().position(|&(seen, tn)| seen == 0 || seen < tn) {
        let (seen, tn) = parts[tile];
        return Err(format!(
            "tile {tile} has {seen} of {} tile-parts",
            if tn == 0 { 1 } else { tn }
        ));
    }
    Ok(Codestream {
        width: size.width,
        height: size.height,
        components: size.components,
        precision: size.precision,
        levels,
        tiles: size.tiles,
        tile_parts,
    })
}

/// Checks the codestream against the DICOM header (which the codec trusts
/// when it writes samples).
pub(crate) fn matches(cs: &Codestream, px: &ImagePixel) -> Result<(), String> {
    if cs.width != px.cols
        || cs.height != px.rows
        || cs.components != u32::from(px.samples_per_pixel)
    {
        return Err(format!(
            "codestream is {}×{}×{}, the header says {}×{}×{}",
            cs.width, cs.height, cs.components, px.cols, px.rows, px.samples_per_pixel
        ));
    }
    if cs.precision > u32::from(px.bits_allocated) {
        return Err(format!(
            "codestream precision {} exceeds Bits Allocated {}",
            cs.precision, px.bits_allocated
        ));
    }
    Ok(())
}

/// Proof that a codestream arrived whole: [`walk`], then a strict decode at
/// the lowest resolution, which reads every packet header.
pub(crate) fn check(data: &[u8], px: &ImagePixel) -> Result<Codestream, String> {
    let cs = walk(data)?;
    matches(&cs, px)?;
    decode_reduced(data, u32::from(cs.levels), true)?;
    Ok(cs)
}

/// A reduced image: width, height and interleaved samples (as i32).
pub(crate) struct Reduced {
    pub width: u32,
    pub height: u32,
    pub samples: Vec<i32>,
}

/// Decodes at 1/2^`reduce` of full size. `strict`: a cut codestream is an
/// error rather than a partial image.
pub(crate) fn decode_reduced(data: &[u8], reduce: u32, strict: bool) -> Result<Reduced, String> {
    let cs = codestream(data)?;
    let params = DecodeParameters::new().reduce(reduce).strict(strict);
    let image = Image::from_bytes_with(cs, params)
        .map_err(|e| format!("OpenJPEG could not decode at 1/{}: {e}", 1u64 << reduce))?;
    let comps = image.components();
    let first = comps.first().ok_or("the decoded image has no components")?;
    let (width, height) = (first.width(), first.height());
    if comps
        .iter()
        .any(|c| c.width() != width || c.height() != height)
    {
        return Err("the decoded components differ in size".into());
    }
    let n = width as usize * height as usize;
    let mut samples = Vec::with_capacity(n * comps.len());
    if let [one] = comps {
        samples.extend_from_slice(&one.data()[..n]);
    } else {
        let planes: Vec<&[i32]> = comps.iter().map(|c| c.data()).collect();
        for i in 0..n {
            samples.extend(planes.iter().map(|p| p[i]));
        }
    }
    Ok(Reduced {
        width,
        height,
        samples,
    })
}

/// The reduction that brings the longest side nearest to `side` without
/// going under half of it, within the codestream's levels.
pub(crate) fn reduction_for(cs: &Codestream, side: u32) -> u32 {
    let longest = cs.width.max(cs.height);
    let mut r = 0;
    while r < u32::from(cs.levels) && longest.div_ceil(1 << r) > side {
        r += 1;
    }
    r
}

#[cfg(test)]
mod tests;
