//! Native (uncompressed) pixel data, PS3.5 §8.1.1 and PS3.3 C.7.6.3.1:
//! bit unpacking, byte order, High Bit / Bits Stored masking, sign extension,
//! planar configuration and YBR_FULL_422 sub-sampling.

use super::Samples;
use crate::image::{ImagePixel, Photometric};

/// Samples in one native frame as stored: YBR_FULL_422 stores two luma and
/// one pair of chroma samples per two pixels (PS3.3 C.7.6.3.1.2).
pub(crate) fn stored_frame_samples(px: &ImagePixel) -> usize {
    if px.photometric == Photometric::YbrFull422 {
        px.rows as usize * px.cols as usize * 2
    } else {
        px.frame_samples()
    }
}

/// Bits in one native frame as stored.
pub(crate) fn stored_frame_bits(px: &ImagePixel) -> u64 {
    stored_frame_samples(px) as u64 * u64::from(px.bits_allocated)
}

/// Turns `count` samples starting `bit_offset` bits into `bytes` into stored
/// values. `bytes` must hold them (checked by the caller).
pub(crate) fn unpack(
    bytes: &[u8],
    bit_offset: u64,
    count: usize,
    little: bool,
    px: &ImagePixel,
) -> Samples {
    let shift = u32::from(px.high_bit + 1 - px.bits_stored);
    let bits = u32::from(px.bits_stored);
    match px.bits_allocated {
        1 => {
            // PS3.5 §8.1.1: bit 0 of each byte is the first pixel.
            let out = (0..count as u64)
                .map(|i| {
                    let bit = bit_offset + i;
                    (bytes[(bit / 8) as usize] >> (bit % 8)) & 1
                })
                .collect();
            Samples::U8(out)
        }
        8 => {
            let src = &bytes[..count];
            if px.signed {
                Samples::I16(
                    src.iter()
                        .map(|&v| sign_extend(u32::from(v) >> shift, bits) as i16)
                        .collect(),
                )
            } else if shift == 0 && bits == 8 {
                Samples::U8(src.to_vec())
            } else {
                Samples::U8(
                    src.iter()
                        .map(|&v| ((u32::from(v) >> shift) & mask(bits)) as u8)
                        .collect(),
                )
            }
        }
        16 => {
            let src = &bytes[..count * 2];
            let read = |c: &[u8]| {
                if little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            };
            if px.signed {
                Samples::I16(
                    src.chunks_exact(2)
                        .map(|c| sign_extend(u32::from(read(c)) >> shift, bits) as i16)
                        .collect(),
                )
            } else if shift == 0 && bits == 16 {
                Samples::U16(src.chunks_exact(2).map(read).collect())
            } else {
                let m = mask(bits) as u16;
                Samples::U16(
                    src.chunks_exact(2)
                        .map(|c| (read(c) >> shift) & m)
                        .collect(),
                )
            }
        }
        _ => {
            let src = &bytes[..count * 4];
            let read = |c: &[u8]| {
                let a = [c[0], c[1], c[2], c[3]];
                if little {
                    u32::from_le_bytes(a)
                } else {
                    u32::from_be_bytes(a)
                }
            };
            if px.signed {
                Samples::I32(
                    src.chunks_exact(4)
                        .map(|c| sign_extend(read(c) >> shift, bits))
                        .collect(),
                )
            } else {
                let m = mask(bits);
                Samples::U32(
                    src.chunks_exact(4)
                        .map(|c| (read(c) >> shift) & m)
                        .collect(),
                )
            }
        }
    }
}

fn mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    }
}

/// Two's complement value of the low `bits` bits of `v`.
fn sign_extend(v: u32, bits: u32) -> i32 {
    if bits >= 32 {
        return v as i32;
    }
    let v = v & mask(bits);
    let sign = 1u32 << (bits - 1);
    ((v ^ sign).wrapping_sub(sign)) as i32
}

/// Planar configuration 1 (RRR…GGG…BBB…) to interleaved (RGBRGB…).
pub(crate) fn interleave<T: Copy + Default>(planes: &[T]) -> Vec<T> {
    let n = planes.len() / 3;
    let mut out = vec![T::default(); n * 3];
    for (i, px) in out.chunks_exact_mut(3).enumerate() {
        px[0] = planes[i];
        px[1] = planes[n + i];
        px[2] = planes[2 * n + i];
    }
    out
}

/// YBR_FULL_422 native layout (Y1 Y2 Cb Cr per pixel pair) to full YBR.
pub(crate) fn expand_422<T: Copy + Default>(src: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = vec![T::default(); rows * cols * 3];
    let mut s = 0;
    for r in 0..rows {
        let mut c = 0;
        while c < cols {
            let (y1, y2, cb, cr) = (src[s], src[s + 1], src[s + 2], src[s + 3]);
            s += 4;
            let o = (r * cols + c) * 3;
            out[o..o + 3].copy_from_slice(&[y1, cb, cr]);
            if c + 1 < cols {
                out[o + 3..o + 6].copy_from_slice(&[y2, cb, cr]);
            }
            c += 2;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Photometric;

    fn px(bits_allocated: u16, bits_stored: u16, signed: bool) -> ImagePixel {
        ImagePixel {
            rows: 1,
            cols: 4,
            frames: 1,
            samples_per_pixel: 1,
            photometric: Photometric::Monochrome2,
            bits_allocated,
            bits_stored,
            high_bit: bits_stored - 1,
            signed,
            planar: false,
        }
    }

    #[test]
    fn twelve_bit_signed_is_sign_extended_and_masked() {
        // 0xF800 has junk above bit 11; 0x0800 is -2048 in 12-bit two's complement.
        let bytes = [0xFF, 0x0F, 0x00, 0x08, 0x01, 0x00, 0x00, 0xF8];
        let s = unpack(&bytes, 0, 4, true, &px(16, 12, true));
        assert_eq!(s, Samples::I16(vec![-1, -2048, 1, -2048]));
        let u = unpack(&bytes, 0, 4, true, &px(16, 12, false));
        assert_eq!(u, Samples::U16(vec![4095, 2048, 1, 2048]));
    }

    #[test]
    fn big_endian_and_one_bit() {
        let s = unpack(
            &[0x01, 0x02, 0x00, 0x03],
            0,
            2,
            false,
            &ImagePixel {
                cols: 2,
                ..px(16, 16, false)
            },
        );
        assert_eq!(s, Samples::U16(vec![0x0102, 0x0003]));
        let b = unpack(&[0b1000_0101], 0, 4, true, &px(1, 1, false));
        assert_eq!(b, Samples::U8(vec![1, 0, 1, 0]));
        let b = unpack(&[0b1000_0101], 5, 3, true, &px(1, 1, false));
        assert_eq!(b, Samples::U8(vec![0, 0, 1]));
    }

    #[test]
    fn planes_and_422() {
        assert_eq!(
            interleave(&[1, 2, 10, 20, 100, 200]),
            vec![1, 10, 100, 2, 20, 200]
        );
        assert_eq!(
            expand_422(&[1, 2, 50, 60], 1, 2),
            vec![1, 50, 60, 2, 50, 60]
        );
    }
}
