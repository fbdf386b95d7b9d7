//! A structural pass over the raw bytes, before dicom-rs parses anything.
//!
//! It reads only element headers (tag, VR, length; PS3.5 §7.1) and checks
//! every declared length against the bytes really present, so that no later
//! step allocates a buffer sized by a length the file made up. It also finds
//! the file meta information (PS3.10 §7.1), the transfer syntax, where the
//! top-level Pixel Data element starts, and its fragments when encapsulated
//! (PS3.5 §A.4).

use std::ops::Range;

use crate::error::{Error, malformed};
use crate::limits::Limits;
use crate::syntax::Encoding;

/// (7FE0,0010) Pixel Data.
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Why a walk over a prefix of a file stopped early.
#[derive(Debug)]
pub(crate) enum WalkError {
    /// The prefix ends inside an element header; read at least this many bytes.
    NeedMore(usize),
    Fail(Error),
}

impl From<Error> for WalkError {
    fn from(e: Error) -> Self {
        WalkError::Fail(e)
    }
}

type WalkResult<T> = Result<T, WalkError>;

/// Where the file meta information left us.
#[derive(Debug, Clone)]
pub(crate) struct Preamble {
    /// Transfer Syntax UID (0002,0010), if the file has meta information.
    pub transfer_syntax: Option<String>,
    /// Media Storage SOP Class UID (0002,0002).
    pub media_sop_class: Option<String>,
    /// Offset of the first data set element.
    pub dataset_offset: usize,
    /// Encoding guessed for files without meta information.
    pub guessed_encoding: Option<Encoding>,
}

/// Pixel Data as found in the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PixelLocation {
    /// Native pixel data: its value's byte range.
    Native(Range<usize>),
    /// Encapsulated: the Basic Offset Table and each fragment's byte range.
    Encapsulated {
        offset_table: Vec<u32>,
        fragments: Vec<Range<usize>>,
    },
}

/// The structure of a data set.
#[derive(Debug, Clone)]
pub(crate) struct DatasetLayout {
    /// Offset where the top-level Pixel Data element's header starts, or the
    /// end of the data set: everything dicom-rs needs to parse lies before it.
    pub header_end: usize,
    pub pixel_data: Option<PixelLocation>,
    /// Top-level elements dicom-rs must not see: undefined-length UN
    /// sequences, which it misreads (it takes the first item tag for a
    /// length). They are cut out of the bytes it parses.
    pub excluded: Vec<Range<usize>>,
    /// The top-level Pixel Data element's explicit VR (OB or OW), if any.
    pub pixel_vr: Option<[u8; 2]>,
}

fn need(buf: &[u8], at: usize, n: usize) -> WalkResult<&[u8]> {
    match at.checked_add(n) {
        Some(end) if end <= buf.len() => Ok(&buf[at..end]),
        Some(end) => Err(WalkError::NeedMore(end)),
        None => Err(malformed(at as u64, "offset overflow").into()),
    }
}

fn u16_at(b: &[u8], little: bool) -> u16 {
    let a = [b[0], b[1]];
    if little {
        u16::from_le_bytes(a)
    } else {
        u16::from_be_bytes(a)
    }
}

fn u32_at(b: &[u8], little: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if little {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    }
}

/// VRs whose explicit encoding has a 4-byte length (PS3.5 Table 7.1-1).
pub(crate) fn has_long_length(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

fn is_vr(vr: [u8; 2]) -> bool {
    vr[0].is_ascii_uppercase() && vr[1].is_ascii_uppercase()
}

/// Finds the preamble, the "DICM" prefix and the file meta group.
///
/// `buf` is a prefix of a file of `total` bytes.
pub(crate) fn read_preamble(buf: &[u8], total: usize) -> WalkResult<Preamble> {
    let meta_start = if total >= 132 && need(buf, 128, 4)? == b"DICM" {
        132
    } else if total >= 4 && need(buf, 0, 4)? == b"DICM" {
        4
    } else {
        return guess_without_meta(buf, total);
    };

    let mut pos = meta_start;
    let mut transfer_syntax = None;
    let mut media_sop_class = None;
    loop {
        if pos >= total {
            break;
        }
        let head = need(buf, pos, 8)?;
        let group = u16_at(head, true);
        if group != 0x0002 {
            break;
        }
        let element = u16_at(&head[2..], true);
        let vr = [head[4], head[5]];
        if !is_vr(vr) {
            return Err(malformed(pos as u64, "file meta information is not explicit VR").into());
        }
        let (len, header) = if has_long_length(vr) {
            (u32_at(need(buf, pos + 8, 4)?, true), 12)
        } else {
            (u32::from(u16_at(&head[6..], true)), 8)
        };
        if len == UNDEFINED {
            return Err(malformed(pos as u64, "undefined length in file meta information").into());
        }
        let value_start = pos + header;
        let value_end = value_start + len as usize;
        if value_end > total {
            return Err(malformed(
                pos as u64,
                format!(
                    "meta element (0002,{element:04X}) length {len} runs past the end of the file"
                ),
            )
            .into());
        }
        if element == 0x0010 || element == 0x0002 {
            let raw = need(buf, value_start, len as usize)?;
            let text = String::from_utf8_lossy(raw)
                .trim_end_matches(['\0', ' '])
                .to_string();
            if element == 0x0010 {
                transfer_syntax = Some(text);
            } else {
                media_sop_class = Some(text);
            }
        }
        pos = value_end;
    }
    Ok(Preamble {
        transfer_syntax,
        media_sop_class,
        dataset_offset: pos,
        guessed_encoding: None,
    })
}

/// A file without preamble and meta information (accepted by many readers):
/// the data set starts at byte 0. Guess its encoding from the first element.
fn guess_without_meta(buf: &[u8], total: usize) -> WalkResult<Preamble> {
    let not_dicom = |reason: &str| {
        WalkError::Fail(Error::NotDicom {
            reason: reason.to_string(),
        })
    };
    if total < 8 {
        return Err(not_dicom("too short"));
    }
    let head = need(buf, 0, 8)?;
    let group_le = u16_at(head, true);
    let group_be = u16_at(head, false);
    let plausible = |g: u16| (0x0008..=0x0010).contains(&g);
    let little = if plausible(group_le) {
        true
    } else if plausible(group_be) {
        false
    } else {
        return Err(not_dicom("no DICM prefix and no data set at the start"));
    };
    let explicit = is_vr([head[4], head[5]]);
    if !little && !explicit {
        return Err(not_dicom("no DICM prefix and no data set at the start"));
    }
    Ok(Preamble {
        transfer_syntax: None,
        media_sop_class: None,
        dataset_offset: 0,
        guessed_encoding: Some(Encoding {
            explicit_vr: explicit,
            little_endian: little,
        }),
    })
}

/// Walks a data set: `buf` is a prefix of a data set of `total` bytes.
///
/// With `stop_at_pixel_data`, stops at the top-level Pixel Data element
/// without looking at its value (enough for indexing).
pub(crate) fn walk_dataset(
    buf: &[u8],
    total: usize,
    encoding: Encoding,
    stop_at_pixel_data: bool,
    limits: &Limits,
) -> WalkResult<DatasetLayout> {
    let mut walker = Walker {
        buf,
        encoding,
        limits,
        pixel_data: None,
        header_end: total,
        excluded: Vec::new(),
        pixel_vr: None,
    };
    walker.elements(0, total, Bound::Defined, 0, stop_at_pixel_data)?;
    Ok(DatasetLayout {
        header_end: walker.header_end,
        pixel_data: walker.pixel_data,
        excluded: walker.excluded,
        pixel_vr: walker.pixel_vr,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// The elements fill the range exactly.
    Defined,
    /// The elements end with an Item Delimitation Item.
    UntilItemEnd,
}

struct Walker<'a> {
    buf: &'a [u8],
    encoding: Encoding,
    limits: &'a Limits,
    pixel_data: Option<PixelLocation>,
    header_end: usize,
    excluded: Vec<Range<usize>>,
    pixel_vr: Option<[u8; 2]>,
}

struct ElementHeader {
    tag: (u16, u16),
    vr: Option<[u8; 2]>,
    len: u32,
    header_len: usize,
}

impl Walker<'_> {
    fn little(&self) -> bool {
        self.encoding.little_endian
    }

    fn header(&self, pos: usize, explicit: bool, little: bool) -> WalkResult<ElementHeader> {
        let head = need(self.buf, pos, 8)?;
        let tag = (u16_at(head, little), u16_at(&head[2..], little));
        // Items and delimiters have no VR in any encoding (PS3.5 §7.5).
        if tag.0 == 0xFFFE || !explicit {
            return Ok(ElementHeader {
                tag,
                vr: None,
                len: u32_at(&head[4..], little),
                header_len: 8,
            });
        }
        let vr = [head[4], head[5]];
        if !is_vr(vr) {
            return Err(malformed(
                pos as u64,
                format!("element ({:04X},{:04X}) has no valid VR", tag.0, tag.1),
            )
            .into());
        }
        if has_long_length(vr) {
            let len = u32_at(need(self.buf, pos + 8, 4)?, little);
            Ok(ElementHeader {
                tag,
                vr: Some(vr),
                len,
                header_len: 12,
            })
        } else {
            Ok(ElementHeader {
                tag,
                vr: Some(vr),
                len: u32::from(u16_at(&head[6..], little)),
                header_len: 8,
            })
        }
    }

    /// Walks elements from `pos` up to `end`; returns where they ended.
    fn elements(
        &mut self,
        mut pos: usize,
        end: usize,
        bound: Bound,
        depth: u32,
        stop_at_pixel_data: bool,
    ) -> WalkResult<usize> {
        let (explicit, little) = (self.encoding.explicit_vr, self.little());
        self.elements_in(
            &mut pos,
            end,
            bound,
            depth,
            stop_at_pixel_data,
            explicit,
            little,
        )?;
        Ok(pos)
    }

    #[allow(clippy::too_many_arguments)]
    fn elements_in(
        &mut self,
        pos: &mut usize,
        end: usize,
        bound: Bound,
        depth: u32,
        stop_at_pixel_data: bool,
        explicit: bool,
        little: bool,
    ) -> WalkResult<()> {
        loop {
            if *pos == end {
                if bound == Bound::UntilItemEnd {
                    return Err(malformed(
                        *pos as u64,
                        "item has no delimitation item (unterminated)",
                    )
                    .into());
                }
                return Ok(());
            }
            if end - *pos < 8 {
                return Err(malformed(*pos as u64, "truncated element header").into());
            }
            let start = *pos;
            let h = self.header(start, explicit, little)?;
            let value_start = start + h.header_len;
            if value_start > end {
                return Err(malformed(start as u64, "truncated element header").into());
            }
            match h.tag {
                ITEM_END if bound == Bound::UntilItemEnd => {
                    *pos = value_start;
                    return Ok(());
                }
                (0xFFFE, _) => {
                    return Err(malformed(
                        start as u64,
                        format!(
                            "unexpected delimiter ({:04X},{:04X}) in a data set",
                            h.tag.0, h.tag.1
                        ),
                    )
                    .into());
                }
                _ => {}
            }
            let top_level_pixels = depth == 0 && h.tag == PIXEL_DATA;
            if top_level_pixels {
                self.header_end = start;
                self.pixel_vr = h.vr;
                if stop_at_pixel_data {
                    // Catch truncated files even when only reading headers.
                    if h.len != UNDEFINED && (h.len as usize) > end - value_start {
                        return Err(malformed(
                            start as u64,
                            format!(
                                "pixel data declares {} bytes but only {} remain (truncated file?)",
                                h.len,
                                end - value_start
                            ),
                        )
                        .into());
                    }
                    *pos = end;
                    return Ok(());
                }
            }
            if h.len == UNDEFINED {
                if h.tag == PIXEL_DATA {
                    let (next, location) = self.fragments(value_start, end, little)?;
                    if top_level_pixels {
                        self.pixel_data = Some(location);
                    }
                    *pos = next;
                } else {
                    // A sequence of undefined length (SQ, or UN holding one,
                    // which is always implicit VR little endian: PS3.5 §6.2.2).
                    let un = h.vr == Some(*b"UN");
                    let (ex, le) = if un {
                        (false, true)
                    } else {
                        (explicit, little)
                    };
                    match h.vr {
                        None | Some([b'S', b'Q']) | Some([b'U', b'N']) => {}
                        Some(vr) => {
                            return Err(malformed(
                                start as u64,
                                format!(
                                    "undefined length on VR {} of ({:04X},{:04X})",
                                    String::from_utf8_lossy(&vr),
                                    h.tag.0,
                                    h.tag.1
                                ),
                            )
                            .into());
                        }
                    }
                    *pos = self.items(value_start, end, None, depth + 1, ex, le)?;
                    if un {
                        if depth > 0 {
                            return Err(malformed(
                                start as u64,
                                "undefined-length UN inside a sequence is not supported",
                            )
                            .into());
                        }
                        self.excluded.push(start..*pos);
                    }
                }
                continue;
            }
            let len = h.len as usize;
            let value_end = value_start
                .checked_add(len)
                .filter(|&e| e <= end)
                .ok_or_else(|| {
                    malformed(
                        start as u64,
                        format!(
                            "element ({:04X},{:04X}) declares {} bytes but only {} remain",
                            h.tag.0,
                            h.tag.1,
                            h.len,
                            end - value_start
                        ),
                    )
                })?;
            let is_sequence = match h.vr {
                Some(vr) => &vr == b"SQ",
                None => is_dictionary_sequence(h.tag),
            };
            if is_sequence {
                self.items(
                    value_start,
                    value_end,
                    Some(value_end),
                    depth + 1,
                    explicit,
                    little,
                )?;
            } else if top_level_pixels {
                self.pixel_data = Some(PixelLocation::Native(value_start..value_end));
            }
            *pos = value_end;
        }
    }

    /// Walks the items of a sequence. With `defined_end`, they fill the range;
    /// without, they end with a Sequence Delimitation Item. Returns the
    /// position after the sequence.
    fn items(
        &mut self,
        mut pos: usize,
        end: usize,
        defined_end: Option<usize>,
        depth: u32,
        explicit: bool,
        little: bool,
    ) -> WalkResult<usize> {
        if depth > self.limits.max_depth {
            return Err(malformed(
                pos as u64,
                format!("sequences nested deeper than {}", self.limits.max_depth),
            )
            .into());
        }
        loop {
            if Some(pos) == defined_end {
                return Ok(pos);
            }
            if end - pos < 8 {
                return Err(malformed(
                    pos as u64,
                    "sequence has no delimitation item (unterminated)",
                )
                .into());
            }
            let head = need(self.buf, pos, 8)?;
            let tag = (u16_at(head, little), u16_at(&head[2..], little));
            let len = u32_at(&head[4..], little);
            let item_start = pos + 8;
            match tag {
                SEQUENCE_END if defined_end.is_none() => return Ok(item_start),
                ITEM if len == UNDEFINED => {
                    pos = item_start;
                    self.elements_in(
                        &mut pos,
                        end,
                        Bound::UntilItemEnd,
                        depth,
                        false,
                        explicit,
                        little,
                    )?;
                }
                ITEM => {
                    let item_end = item_start
                        .checked_add(len as usize)
                        .filter(|&e| e <= end)
                        .ok_or_else(|| {
                            malformed(
                                pos as u64,
                                format!(
                                    "item declares {len} bytes but only {} remain",
                                    end - item_start
                                ),
                            )
                        })?;
                    pos = item_start;
                    self.elements_in(
                        &mut pos,
                        item_end,
                        Bound::Defined,
                        depth,
                        false,
                        explicit,
                        little,
                    )?;
                }
                other => {
                    return Err(malformed(
                        pos as u64,
                        format!(
                            "expected an item in a sequence, found ({:04X},{:04X})",
                            other.0, other.1
                        ),
                    )
                    .into());
                }
            }
        }
    }

    /// Encapsulated pixel data (PS3.5 §A.4): a Basic Offset Table item, then
    /// one item per fragment, then a Sequence Delimitation Item.
    fn fragments(
        &mut self,
        mut pos: usize,
        end: usize,
        little: bool,
    ) -> WalkResult<(usize, PixelLocation)> {
        let mut offset_table = None;
        let mut fragments = Vec::new();
        loop {
            if end - pos < 8 {
                return Err(malformed(
                    pos as u64,
                    "encapsulated pixel data has no sequence delimiter",
                )
                .into());
            }
            let head = need(self.buf, pos, 8)?;
            let tag = (u16_at(head, little), u16_at(&head[2..], little));
            let len = u32_at(&head[4..], little);
            let value_start = pos + 8;
            match tag {
                SEQUENCE_END => {
                    let location = PixelLocation::Encapsulated {
                        offset_table: offset_table.unwrap_or_default(),
                        fragments,
                    };
                    return Ok((value_start, location));
                }
                ITEM if len != UNDEFINED => {
                    let value_end = value_start
                        .checked_add(len as usize)
                        .filter(|&e| e <= end)
                        .ok_or_else(|| {
                            malformed(
                                pos as u64,
                                format!(
                                    "pixel data fragment declares {len} bytes but only {} remain",
                                    end - value_start
                                ),
                            )
                        })?;
                    let value = need(self.buf, value_start, len as usize)?;
                    if offset_table.is_none() {
                        if !len.is_multiple_of(4) {
                            return Err(malformed(
                                pos as u64,
                                "basic offset table length is not a multiple of 4",
                            )
                            .into());
                        }
                        offset_table = Some(
                            value
                                .chunks_exact(4)
                                .map(|c| u32_at(c, little))
                                .collect::<Vec<_>>(),
                        );
                    } else {
                        fragments.push(value_start..value_end);
                    }
                    pos = value_end;
                }
                other => {
                    return Err(malformed(
                        pos as u64,
                        format!(
                            "expected a pixel data fragment, found ({:04X},{:04X})",
                            other.0, other.1
                        ),
                    )
                    .into());
                }
            }
        }
    }
}

/// The data dictionary's VR for a tag (for implicit VR), as two letters.
pub(crate) fn dictionary_vr(tag: (u16, u16)) -> Option<[u8; 2]> {
    use dicom_core::Tag;
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
    let vr = dicom_dictionary_std::StandardDataDictionary
        .by_tag(Tag(tag.0, tag.1))?
        .vr()
        .relaxed();
    vr.to_string().as_bytes().try_into().ok()
}

/// Whether the data dictionary says a tag is a sequence (for implicit VR).
pub(crate) fn is_dictionary_sequence(tag: (u16, u16)) -> bool {
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
    use dicom_core::{Tag, VR};
    dicom_dictionary_std::StandardDataDictionary
        .by_tag(Tag(tag.0, tag.1))
        .is_some_and(|e| e.vr().relaxed() == VR::SQ)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el_le(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(tag.0.to_le_bytes());
        out.extend(tag.1.to_le_bytes());
        out.extend(vr);
        if has_long_length(*vr) {
            out.extend([0, 0]);
            out.extend((value.len() as u32).to_le_bytes());
        } else {
            out.extend((value.len() as u16).to_le_bytes());
        }
        out.extend(value);
        out
    }

    fn walk(buf: &[u8]) -> WalkResult<DatasetLayout> {
        walk_dataset(
            buf,
            buf.len(),
            Encoding::EXPLICIT_LE,
            false,
            &Limits::default(),
        )
    }

    #[test]
    fn finds_native_pixel_data() {
        let mut ds = el_le((0x0008, 0x0060), b"CS", b"CR");
        let px_at = ds.len();
        ds.extend(el_le(PIXEL_DATA, b"OW", &[1, 2, 3, 4]));
        let layout = walk(&ds).expect("walks");
        assert_eq!(layout.header_end, px_at);
        assert_eq!(
            layout.pixel_data,
            Some(PixelLocation::Native(px_at + 12..px_at + 16))
        );
    }

    #[test]
    fn rejects_length_past_end() {
        let mut ds = el_le((0x0008, 0x0060), b"CS", b"CR");
        ds.extend([
            0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0, 0xF0, 0xFF, 0xFF, 0x7F,
        ]);
        match walk(&ds) {
            Err(WalkError::Fail(Error::Malformed { reason, .. })) => {
                assert!(reason.contains("remain"))
            }
            other => panic!("expected malformed, got {other:?}"),
        }
    }

    #[test]
    fn rejects_deep_nesting() {
        // 40 nested undefined-length sequences.
        let mut ds = Vec::new();
        for _ in 0..40 {
            ds.extend([
                0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
            ]);
            ds.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        }
        match walk(&ds) {
            Err(WalkError::Fail(Error::Malformed { reason, .. })) => {
                assert!(reason.contains("deeper"))
            }
            other => panic!("expected malformed, got {other:?}"),
        }
    }

    #[test]
    fn rejects_unterminated_sequence() {
        let mut ds = vec![
            0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        ds.extend([0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        ds.extend(el_le((0x0008, 0x0060), b"CS", b"CR"));
        assert!(matches!(
            walk(&ds),
            Err(WalkError::Fail(Error::Malformed { .. }))
        ));
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn encapsulated_fragments() {
        let mut ds = vec![
            0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        ds.extend([0xFE, 0xFF, 0x00, 0xE0, 4, 0, 0, 0, 0, 0, 0, 0]); // BOT, one entry
        ds.extend([0xFE, 0xFF, 0x00, 0xE0, 2, 0, 0, 0, 0xFF, 0xD8]);
        ds.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let layout = walk(&ds).expect("walks");
        assert_eq!(
            layout.pixel_data,
            Some(PixelLocation::Encapsulated {
                offset_table: vec![0],
                fragments: vec![32..34]
            })
        );
        // A fragment that claims more than there is.
        ds[28] = 0xFF;
        assert!(matches!(
            walk(&ds),
            Err(WalkError::Fail(Error::Malformed { .. }))
        ));
    }

    #[test]
    fn prefix_asks_for_more() {
        let mut ds = el_le((0x0008, 0x0060), b"CS", b"CR");
        ds.extend(el_le((0x0010, 0x0020), b"LO", b"ID"));
        let r = walk_dataset(
            &ds[..12],
            ds.len(),
            Encoding::EXPLICIT_LE,
            true,
            &Limits::default(),
        );
        assert!(matches!(r, Err(WalkError::NeedMore(_))));
    }
}
