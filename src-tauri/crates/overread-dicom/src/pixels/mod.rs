//! From Pixel Data bytes to stored sample values, for every transfer syntax
//! in [`crate::syntax`]. Colour is returned as interleaved RGB; grayscale and
//! palette indices as stored (before any LUT).

mod codec;
pub(crate) mod color;
mod complete;
mod j2k;
mod jpeg;
mod native;
mod rle;

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::image::{ImagePixel, Photometric};
use crate::layout::PixelLocation;
use crate::syntax::{PixelCodec, TransferSyntax};

/// Stored sample values of one frame, interleaved when there are three per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
}

impl Samples {
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::I16(v) => v.len(),
            Samples::U32(v) => v.len(),
            Samples::I32(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every sample widened to i64, in order.
    pub fn iter_i64(&self) -> Box<dyn Iterator<Item = i64> + '_> {
        match self {
            Samples::U8(v) => Box::new(v.iter().map(|&x| i64::from(x))),
            Samples::U16(v) => Box::new(v.iter().map(|&x| i64::from(x))),
            Samples::I16(v) => Box::new(v.iter().map(|&x| i64::from(x))),
            Samples::U32(v) => Box::new(v.iter().map(|&x| i64::from(x))),
            Samples::I32(v) => Box::new(v.iter().map(|&x| i64::from(x))),
        }
    }

    /// Smallest and largest sample; None when empty.
    pub fn min_max(&self) -> Option<(i64, i64)> {
        self.iter_i64().fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub rows: u32,
    pub cols: u32,
    pub samples_per_pixel: u16,
    /// What the samples are now: YBR inputs have become RGB.
    pub photometric: Photometric,
    pub samples: Samples,
}

/// Everything needed to decode frames of one instance.
pub(crate) struct PixelSource<'a> {
    pub ts: &'static TransferSyntax,
    pub px: &'a ImagePixel,
    /// The bytes `location` points into.
    pub bytes: &'a [u8],
    pub location: &'a PixelLocation,
    /// Extended Offset Table (7FE0,0001), when present.
    pub extended_offsets: Option<&'a [u64]>,
    /// Pixel Data was OW (matters for 8-bit samples in big endian).
    pub ow_words: bool,
}

impl PixelSource<'_> {
    pub(crate) fn decode_frame(&self, frame: u32) -> Result<Frame> {
        let px = self.px;
        if frame >= px.frames {
            return Err(Error::FrameOutOfRange {
                frame,
                frames: px.frames,
            });
        }
        let codec_error = |reason: String| Error::Codec { frame, reason };
        // Returns the samples and whether the codec already produced RGB.
        let (samples, rgb_done) = match (self.location, self.ts.codec) {
            (PixelLocation::Native(range), PixelCodec::Native) => {
                let value = &self.bytes[range.clone()];
                let frame_bits = native::stored_frame_bits(px);
                let needed_bits = frame_bits * u64::from(px.frames);
                let available_bits = value.len() as u64 * 8;
                if available_bits < needed_bits {
                    return Err(Error::PixelDataLength {
                        actual: value.len() as u64,
                        expected: needed_bits.div_ceil(8),
                    });
                }
                let start_bit = frame_bits * u64::from(frame);
                let (slice, bit_offset) = if px.bits_allocated == 1 {
                    (value, start_bit)
                } else {
                    (&value[(start_bit / 8) as usize..], 0)
                };
                let count = native::stored_frame_samples(px);
                let little = self.ts.encoding.little_endian;
                if !little && self.ow_words && px.bits_allocated == 8 {
                    // PS3.5 §8.1.1: OW is swapped as 16-bit words in big endian.
                    let mut swapped = slice[..count.next_multiple_of(2).min(slice.len())].to_vec();
                    for pair in swapped.chunks_exact_mut(2) {
                        pair.swap(0, 1);
                    }
                    return Ok(finish_colour(
                        px,
                        native::unpack(&swapped, 0, count, little, px),
                        false,
                        self.location,
                    ));
                }
                (native::unpack(slice, bit_offset, count, little, px), false)
            }
            (PixelLocation::Encapsulated { .. }, PixelCodec::Native) => {
                return Err(Error::Malformed {
                    offset: 0,
                    reason: "encapsulated pixel data in a native transfer syntax".into(),
                });
            }
            (PixelLocation::Native(_), _) => {
                return Err(Error::Malformed {
                    offset: 0,
                    reason: format!(
                        "native pixel data in {} (encapsulated expected)",
                        self.ts.name
                    ),
                });
            }
            (PixelLocation::Encapsulated { .. }, codec) => {
                let data = self.frame_fragments(frame)?;
                let bytes_per_sample = usize::from(px.bits_allocated.div_ceil(8));
                let (decoded, rgb_done) = match codec {
                    PixelCodec::Jpeg => {
                        let expected = jpeg::Expected {
                            rows: px.rows,
                            cols: px.cols,
                            samples: px.samples_per_pixel,
                            bits_allocated: px.bits_allocated,
                            rgb: px.photometric == Photometric::Rgb,
                        };
                        (jpeg::decode(&data, &expected).map_err(codec_error)?, true)
                    }
                    PixelCodec::Rle => {
                        if px.bits_allocated == 1 {
                            return Err(codec_error("RLE with Bits Allocated 1".into()));
                        }
                        let pixels = px.rows as usize * px.cols as usize;
                        let s = usize::from(px.samples_per_pixel);
                        (
                            rle::decode(&data, pixels, s, bytes_per_sample).map_err(codec_error)?,
                            false,
                        )
                    }
                    PixelCodec::Jpeg2000 => (
                        codec::decode(self.ts, px, &data).map_err(codec_error)?,
                        true,
                    ),
                    PixelCodec::JpegLs => (
                        codec::decode(self.ts, px, &data).map_err(codec_error)?,
                        false,
                    ),
                    PixelCodec::Native => unreachable!("handled above"),
                };
                let interleaved = ImagePixel {
                    planar: false,
                    photometric: if px.photometric == Photometric::YbrFull422 {
                        Photometric::YbrFull
                    } else {
                        px.photometric
                    },
                    ..px.clone()
                };
                let count = px.frame_samples();
                if decoded.len() < count * bytes_per_sample {
                    return Err(codec_error(format!(
                        "decoder produced {} bytes, {} expected",
                        decoded.len(),
                        count * bytes_per_sample
                    )));
                }
                (
                    native::unpack(&decoded, 0, count, true, &interleaved),
                    rgb_done,
                )
            }
        };
        Ok(finish_colour(px, samples, rgb_done, self.location))
    }

    /// Proof that frame `frame` arrived whole, cheaper than decoding it
    /// where the codec allows ([`complete`]).
    pub(crate) fn check_frame(&self, frame: u32) -> Result<()> {
        let px = self.px;
        if frame >= px.frames {
            return Err(Error::FrameOutOfRange {
                frame,
                frames: px.frames,
            });
        }
        let incomplete = |reason: String| Error::Incomplete { frame, reason };
        match (self.location, self.ts.codec) {
            (PixelLocation::Native(range), PixelCodec::Native) => {
                let needed_bits = native::stored_frame_bits(px) * u64::from(px.frames);
                let actual = range.len() as u64;
                if actual * 8 < needed_bits {
                    return Err(Error::PixelDataLength {
                        actual,
                        expected: needed_bits.div_ceil(8),
                    });
                }
                Ok(())
            }
            (PixelLocation::Encapsulated { .. }, codec) if codec != PixelCodec::Native => {
                let data = self.frame_fragments(frame)?;
                match codec {
                    PixelCodec::Jpeg | PixelCodec::JpegLs => complete::jpeg(&data),
                    PixelCodec::Rle => rle::check(
                        &data,
                        px.rows as usize * px.cols as usize,
                        usize::from(px.samples_per_pixel)
                            * usize::from(px.bits_allocated.div_ceil(8)),
                    ),
                    _ => j2k::check(&data, px).map(drop),
                }
                .map_err(incomplete)
            }
            // Native data in an encapsulated syntax or the reverse: what
            // decoding says about it.
            _ => self.decode_frame(frame).map(drop),
        }
    }

    /// Frame `frame` at reduced resolution (longest side near `side`), when
    /// the codec makes one for less than the full image: JPEG 2000 and HTJ2K.
    /// `None` for other codecs, and when no reduction would help.
    pub(crate) fn reduced_frame(&self, frame: u32, side: u32) -> Result<Option<Frame>> {
        let px = self.px;
        if self.ts.codec != PixelCodec::Jpeg2000 || frame >= px.frames {
            return Ok(None);
        }
        let codec_error = |reason: String| Error::Codec { frame, reason };
        let data = self.frame_fragments(frame)?;
        // Walked whole first, as for the full decode: no partial preview
        // of a cut codestream.
        let cs = j2k::walk(&data).map_err(codec_error)?;
        j2k::matches(&cs, px).map_err(codec_error)?;
        let reduce = j2k::reduction_for(&cs, side);
        if reduce == 0 {
            return Ok(None);
        }
        let image = j2k::decode_reduced(&data, reduce, false).map_err(codec_error)?;
        let clamp = |lo: i32, hi: i32| move |v: i32| v.clamp(lo, hi);
        let samples = match (px.bits_allocated, px.signed) {
            (8, _) => Samples::U8(
                image
                    .samples
                    .into_iter()
                    .map(clamp(0, 255))
                    .map(|v| v as u8)
                    .collect(),
            ),
            (16, false) => Samples::U16(
                image
                    .samples
                    .into_iter()
                    .map(clamp(0, 65535))
                    .map(|v| v as u16)
                    .collect(),
            ),
            (16, true) => Samples::I16(
                image
                    .samples
                    .into_iter()
                    .map(clamp(-32768, 32767))
                    .map(|v| v as i16)
                    .collect(),
            ),
            _ => return Ok(None),
        };
        Ok(Some(Frame {
            rows: image.height,
            cols: image.width,
            samples_per_pixel: px.samples_per_pixel,
            photometric: if px.photometric.is_monochrome() {
                px.photometric
            } else {
                Photometric::Rgb
            },
            samples,
        }))
    }

    /// The codestream of one frame (PS3.5 §A.4): one fragment per frame, all
    /// fragments for a single frame, or split by the (Extended) Basic Offset
    /// Table or, without one, by the codestream start markers.
    fn frame_fragments(&self, frame: u32) -> Result<Cow<'_, [u8]>> {
        let PixelLocation::Encapsulated {
            offset_table,
            fragments,
        } = self.location
        else {
            return Err(Error::NoPixelData);
        };
        let frames = self.px.frames as usize;
        let f = frame as usize;
        let bytes = self.bytes;
        let join = |list: &[std::ops::Range<usize>]| -> Result<Cow<'_, [u8]>> {
            match list {
                [] => Err(Error::Codec {
                    frame,
                    reason: "no fragments for this frame".into(),
                }),
                [one] => Ok(Cow::Borrowed(&bytes[one.clone()])),
                many => Ok(Cow::Owned(
                    many.iter()
                        .flat_map(|r| bytes[r.clone()].iter().copied())
                        .collect(),
                )),
            }
        };
        if fragments.is_empty() {
            return Err(Error::Codec {
                frame,
                reason: "encapsulated pixel data has no fragments".into(),
            });
        }
        if frames == 1 {
            return join(fragments);
        }
        if fragments.len() == frames {
            return join(&fragments[f..=f]);
        }
        // Offsets count from the first fragment's item tag; each item has an 8-byte header.
        let item_offsets: Vec<u64> = fragments
            .iter()
            .map(|r| (r.start - 8 - (fragments[0].start - 8)) as u64)
            .collect();
        let table: Option<Vec<u64>> = match (self.extended_offsets, offset_table.is_empty()) {
            (Some(ext), _) if ext.len() == frames => Some(ext.to_vec()),
            (_, false) if offset_table.len() == frames => {
                Some(offset_table.iter().map(|&o| u64::from(o)).collect())
            }
            _ => None,
        };
        let starts: Vec<usize> =
            match table {
                Some(t) => {
                    let mut starts = Vec::with_capacity(frames);
                    for o in t {
                        let i = item_offsets.iter().position(|&x| x == o).ok_or_else(|| {
                            Error::Codec {
                                frame,
                                reason: format!("offset table entry {o} is not at a fragment"),
                            }
                        })?;
                        starts.push(i);
                    }
                    starts
                }
                None => fragments
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| starts_a_frame(self.ts.codec, &bytes[(*r).clone()]))
                    .map(|(i, _)| i)
                    .collect(),
            };
        if starts.len() != frames {
            return Err(Error::Codec {
                frame,
                reason: format!(
                    "found {} frame starts in {} fragments, {frames} frames expected",
                    starts.len(),
                    fragments.len()
                ),
            });
        }
        let begin = starts[f];
        let end = starts.get(f + 1).copied().unwrap_or(fragments.len());
        if begin >= end {
            return Err(Error::Codec {
                frame,
                reason: "offset table is not increasing".into(),
            });
        }
        join(&fragments[begin..end])
    }
}

/// Whether a fragment begins a frame's codestream, for multi-frame data with
/// no offset table: the JPEG family's start-of-image marker, JPEG 2000's SOC
/// or JP2 signature, or an RLE header (a segment count of 1 to 15 followed by
/// the first segment at offset 64; PS3.5 G.5).
fn starts_a_frame(codec: PixelCodec, b: &[u8]) -> bool {
    match codec {
        PixelCodec::Rle => {
            b.len() >= 64
                && (1..=15).contains(&u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                && u32::from_le_bytes([b[4], b[5], b[6], b[7]]) == 64
        }
        _ => {
            b.starts_with(&[0xFF, 0xD8])
                || b.starts_with(&[0xFF, 0x4F])
                || b.starts_with(b"\0\0\0\x0cjP")
        }
    }
}

/// Turns YBR samples into RGB (PS3.3 C.7.6.3.1.2) where the codec did not.
fn finish_colour(
    px: &ImagePixel,
    samples: Samples,
    rgb_done: bool,
    location: &PixelLocation,
) -> Frame {
    let native = matches!(location, PixelLocation::Native(_));
    let mut samples = samples;
    if px.samples_per_pixel == 3 && native {
        if px.photometric == Photometric::YbrFull422 {
            let (r, c) = (px.rows as usize, px.cols as usize);
            samples = match samples {
                Samples::U8(v) => Samples::U8(native::expand_422(&v, r, c)),
                Samples::U16(v) => Samples::U16(native::expand_422(&v, r, c)),
                other => other,
            };
        } else if px.planar {
            samples = match samples {
                Samples::U8(v) => Samples::U8(native::interleave(&v)),
                Samples::U16(v) => Samples::U16(native::interleave(&v)),
                Samples::U32(v) => Samples::U32(native::interleave(&v)),
                Samples::I16(v) => Samples::I16(native::interleave(&v)),
                Samples::I32(v) => Samples::I32(native::interleave(&v)),
            };
        }
    }
    let photometric = match px.photometric {
        Photometric::YbrFull | Photometric::YbrFull422 if !rgb_done => {
            samples = color::ybr_full_to_rgb(samples, px.bits_stored.max(2));
            Photometric::Rgb
        }
        Photometric::YbrFull
        | Photometric::YbrFull422
        | Photometric::YbrIct
        | Photometric::YbrRct => Photometric::Rgb,
        other => other,
    };
    Frame {
        rows: px.rows,
        cols: px.cols,
        samples_per_pixel: px.samples_per_pixel,
        photometric,
        samples,
    }
}
