//! JPEG-LS and JPEG 2000 / HTJ2K through dicom-rs's codec adapters
//! (CharLS and OpenJPEG). Our fragments are handed over through
//! `PixelDataObject`; the codestream's header is checked against the DICOM
//! header first, because the adapters trust it when they write samples.

use std::borrow::Cow;

use dicom_encoding::adapters::{PixelDataObject, RawPixelData};
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::image::ImagePixel;
use crate::syntax::{PixelCodec, TransferSyntax};

struct OneFrame<'a> {
    ts: &'a str,
    px: &'a ImagePixel,
    photometric: &'a str,
    data: &'a [u8],
}

impl PixelDataObject for OneFrame<'_> {
    fn transfer_syntax_uid(&self) -> &str {
        self.ts
    }
    fn rows(&self) -> Option<u16> {
        u16::try_from(self.px.rows).ok()
    }
    fn cols(&self) -> Option<u16> {
        u16::try_from(self.px.cols).ok()
    }
    fn samples_per_pixel(&self) -> Option<u16> {
        Some(self.px.samples_per_pixel)
    }
    fn bits_allocated(&self) -> Option<u16> {
        Some(self.px.bits_allocated)
    }
    fn bits_stored(&self) -> Option<u16> {
        Some(self.px.bits_stored)
    }
    fn photometric_interpretation(&self) -> Option<&str> {
        Some(self.photometric)
    }
    fn number_of_frames(&self) -> Option<u32> {
        Some(1)
    }
    fn number_of_fragments(&self) -> Option<u32> {
        Some(1)
    }
    fn fragment(&self, fragment: usize) -> Option<Cow<'_, [u8]>> {
        (fragment == 0).then_some(Cow::Borrowed(self.data))
    }
    fn offset_table(&self) -> Option<Cow<'_, [u32]>> {
        Some(Cow::Owned(vec![0]))
    }
    fn raw_pixel_data(&self) -> Option<RawPixelData> {
        Some(RawPixelData {
            fragments: vec![self.data.to_vec()].into(),
            offset_table: vec![0].into(),
        })
    }
}

/// Decodes one frame's codestream to little-endian interleaved samples.
pub(crate) fn decode(ts: &TransferSyntax, px: &ImagePixel, data: &[u8]) -> Result<Vec<u8>, String> {
    if px.bits_allocated != 8 && px.bits_allocated != 16 {
        return Err(format!(
            "Bits Allocated {} with {}",
            px.bits_allocated, ts.name
        ));
    }
    let dims = match ts.codec {
        PixelCodec::Jpeg2000 => j2k_header(data)?,
        PixelCodec::JpegLs => jpeg_ls_header(data)?,
        _ => return Err(format!("{} is not handled by this decoder", ts.name)),
    };
    if dims.width != px.cols
        || dims.height != px.rows
        || dims.components != u32::from(px.samples_per_pixel)
    {
        return Err(format!(
            "codestream is {}×{}×{}, the header says {}×{}×{}",
            dims.width, dims.height, dims.components, px.cols, px.rows, px.samples_per_pixel
        ));
    }
    if dims.precision > u32::from(px.bits_allocated) {
        return Err(format!(
            "codestream precision {} exceeds Bits Allocated {}",
            dims.precision, px.bits_allocated
        ));
    }
    let reader = TransferSyntaxRegistry
        .get(ts.uid)
        .and_then(|t| t.pixel_data_reader())
        .ok_or_else(|| format!("no decoder for {}", ts.name))?;
    let frame = OneFrame {
        ts: ts.uid,
        px,
        photometric: px.photometric.as_str(),
        data,
    };
    let mut out = Vec::new();
    reader
        .decode_frame(&frame, 0, &mut out)
        .map_err(|e| e.to_string())?;
    let expected = px.frame_samples() * usize::from(px.bits_allocated / 8);
    if out.len() != expected {
        return Err(format!(
            "decoder produced {} bytes, {expected} expected",
            out.len()
        ));
    }
    Ok(out)
}

struct Dims {
    width: u32,
    height: u32,
    components: u32,
    precision: u32,
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// SIZ marker segment of a JPEG 2000 codestream (ISO 15444-1 A.5.1), found
/// also inside a JP2 wrapper.
fn j2k_header(data: &[u8]) -> Result<Dims, String> {
    let soc = data
        .windows(4)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])
        .ok_or("no JPEG 2000 codestream (SOC/SIZ) found")?;
    let siz = soc + 4;
    let bad = || "truncated JPEG 2000 SIZ marker".to_string();
    let xsiz = be32(data, siz + 4).ok_or_else(bad)?;
    let ysiz = be32(data, siz + 8).ok_or_else(bad)?;
    let xo = be32(data, siz + 12).ok_or_else(bad)?;
    let yo = be32(data, siz + 16).ok_or_else(bad)?;
    let csiz = be16(data, siz + 36).ok_or_else(bad)?;
    let mut precision = 0;
    for c in 0..csiz as usize {
        let at = siz + 38 + c * 3;
        let ssiz = u32::from(*data.get(at).ok_or_else(bad)?);
        let (dx, dy) = (
            *data.get(at + 1).ok_or_else(bad)?,
            *data.get(at + 2).ok_or_else(bad)?,
        );
        if dx != 1 || dy != 1 {
            return Err("sub-sampled JPEG 2000 components are not supported".into());
        }
        precision = precision.max((ssiz & 0x7F) + 1);
    }
    Ok(Dims {
        width: xsiz.checked_sub(xo).ok_or_else(bad)?,
        height: ysiz.checked_sub(yo).ok_or_else(bad)?,
        components: csiz,
        precision,
    })
}

/// SOF55 marker segment of a JPEG-LS stream (ISO 14495-1 C.2.2).
fn jpeg_ls_header(data: &[u8]) -> Result<Dims, String> {
    let sof = data
        .windows(2)
        .position(|w| w == [0xFF, 0xF7])
        .ok_or("no JPEG-LS frame header (SOF55) found")?;
    let bad = || "truncated JPEG-LS frame header".to_string();
    let precision = u32::from(*data.get(sof + 4).ok_or_else(bad)?);
    Ok(Dims {
        height: be16(data, sof + 5).ok_or_else(bad)?,
        width: be16(data, sof + 7).ok_or_else(bad)?,
        components: u32::from(*data.get(sof + 9).ok_or_else(bad)?),
        precision,
    })
}
