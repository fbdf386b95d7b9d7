//! JPEG-LS and JPEG 2000 / HTJ2K at full resolution through dicom-rs's codec
//! adapters (CharLS and OpenJPEG). Our fragments are handed over through
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
    match ts.codec {
        // The whole codestream is walked first: OpenJPEG's lenient decoder
        // returns a partial image of a cut one rather than an error.
        PixelCodec::Jpeg2000 => super::j2k::matches(&super::j2k::walk(data)?, px)?,
        PixelCodec::JpegLs => jpeg_ls_matches(data, px)?,
        _ => return Err(format!("{} is not handled by this decoder", ts.name)),
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

/// SOF55 marker segment of a JPEG-LS stream (ISO 14495-1 C.2.2), against
/// the DICOM header.
fn jpeg_ls_matches(data: &[u8], px: &ImagePixel) -> Result<(), String> {
    let sof = data
        .windows(2)
        .position(|w| w == [0xFF, 0xF7])
        .ok_or("no JPEG-LS frame header (SOF55) found")?;
    let bad = || "truncated JPEG-LS frame header".to_string();
    let byte = |at: usize| data.get(at).copied().ok_or_else(bad);
    let be16 =
        |at: usize| Ok::<_, String>(u32::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?])));
    let (precision, height, width) = (u32::from(byte(sof + 4)?), be16(sof + 5)?, be16(sof + 7)?);
    let components = u32::from(byte(sof + 9)?);
    if width != px.cols || height != px.rows || components != u32::from(px.samples_per_pixel) {
        return Err(format!(
            "codestream is {width}×{height}×{components}, the header says {}×{}×{}",
            px.cols, px.rows, px.samples_per_pixel
        ));
    }
    if precision > u32::from(px.bits_allocated) {
        return Err(format!(
            "codestream precision {precision} exceeds Bits Allocated {}",
            px.bits_allocated
        ));
    }
    Ok(())
}
