//! ISO 10918 JPEG (baseline 8-bit, extended 12-bit, lossless) through
//! libjpeg-turbo's TurboJPEG 3 API.
//!
//! dicom-rs's pure-Rust decoder stops at 12-bit lossy JPEG (transfer syntax
//! 1.2.840.10008.1.2.4.51, common for CR/DX) and is several times slower on
//! lossless JPEG, so all JPEG goes through libjpeg-turbo. This is the only
//! `unsafe` in the crate: the stream's dimensions are checked against the
//! DICOM header before any buffer is allocated, and the library is told the
//! same limit.

use std::ffi::CStr;
use turbojpeg_sys as tj;

/// A decoded frame as little-endian bytes, `bits_allocated` per sample.
pub(crate) struct Expected {
    pub rows: u32,
    pub cols: u32,
    pub samples: u16,
    pub bits_allocated: u16,
    /// The DICOM header says RGB: PS3.5 §8.2.1 then means the components
    /// were not colour-transformed, unless the stream itself says otherwise.
    pub rgb: bool,
}

/// What the stream says about its colour transform: a JFIF APP0 segment
/// means YCbCr; an Adobe APP14 segment carries the transform flag.
fn colour_markers(data: &[u8]) -> (bool, Option<u8>) {
    let (mut jfif, mut adobe) = (false, None);
    let mut i = 2; // after SOI
    while i + 4 <= data.len() && data[i] == 0xFF {
        let marker = data[i + 1];
        if marker == 0xDA || marker == 0xD9 {
            break; // start of scan / end of image
        }
        if marker == 0xFF || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += if marker == 0xFF { 1 } else { 2 };
            continue;
        }
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        let body = data.get(i + 4..i + 2 + len).unwrap_or(&[]);
        match marker {
            0xE0 if body.starts_with(b"JFIF\0") => jfif = true,
            0xEE if body.starts_with(b"Adobe") && body.len() >= 12 => adobe = Some(body[11]),
            _ => {}
        }
        i += 2 + len;
    }
    (jfif, adobe)
}

struct Handle(tj::tjhandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

impl Handle {
    fn error(&self) -> String {
        // SAFETY: tj3GetErrorStr returns a NUL-terminated static or per-handle string.
        let msg = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) };
        msg.to_string_lossy().trim().to_string()
    }

    /// Whether the last failure was only a warning (the image is complete,
    /// e.g. "extraneous bytes before marker" from padding after EOI).
    fn last_was_warning(&self) -> bool {
        // SAFETY: valid handle.
        unsafe { tj::tj3GetErrorCode(self.0) == tj::TJERR_TJERR_WARNING as i32 }
    }

    fn get(&self, param: tj::TJPARAM) -> i32 {
        // SAFETY: valid handle; TJPARAM values come from the bindings.
        unsafe { tj::tj3Get(self.0, param as i32) }
    }
}

/// Decodes the three components without colour conversion (they are R, G
/// and B already), interleaved.
fn raw_components(
    h: &Handle,
    data: &[u8],
    width: usize,
    height: usize,
    expected: &Expected,
) -> Result<Vec<u8>, String> {
    if h.get(tj::TJPARAM_TJPARAM_SUBSAMP) != tj::TJSAMP_TJSAMP_444 {
        return Err("sub-sampled JPEG labelled RGB without a colour transform".into());
    }
    let plane = width * height;
    let mut planes = vec![0u8; plane * 3];
    let (p0, rest) = planes.split_at_mut(plane);
    let (p1, p2) = rest.split_at_mut(plane);
    let mut ptrs = [p0.as_mut_ptr(), p1.as_mut_ptr(), p2.as_mut_ptr()];
    let mut strides = [width as i32; 3];
    // SAFETY: three planes of width × height bytes with matching strides (4:4:4 checked above).
    let rc = unsafe {
        tj::tj3DecompressToYUVPlanes8(
            h.0,
            data.as_ptr(),
            data.len() as _,
            ptrs.as_mut_ptr(),
            strides.as_mut_ptr(),
        )
    };
    if rc != 0 && !h.last_was_warning() {
        return Err(h.error());
    }
    let mut out = Vec::with_capacity(plane * 3 * usize::from(expected.bits_allocated / 8).max(1));
    for i in 0..plane {
        for p in 0..3 {
            let v = planes[p * plane + i];
            if expected.bits_allocated == 16 {
                out.extend_from_slice(&u16::from(v).to_le_bytes());
            } else {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// Decodes one JPEG frame, checking it against what the DICOM header says.
pub(crate) fn decode(data: &[u8], expected: &Expected) -> Result<Vec<u8>, String> {
    // SAFETY: tj3Init has no preconditions; null means failure.
    let raw = unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as i32) };
    if raw.is_null() {
        return Err("cannot initialise libjpeg-turbo".into());
    }
    let h = Handle(raw);
    let pixels = u64::from(expected.rows) * u64::from(expected.cols);
    // SAFETY: valid handle; these parameters bound what a hostile stream can make it do.
    unsafe {
        tj::tj3Set(
            h.0,
            tj::TJPARAM_TJPARAM_MAXPIXELS as i32,
            pixels.min(i32::MAX as u64) as i32,
        );
        tj::tj3Set(h.0, tj::TJPARAM_TJPARAM_SCANLIMIT as i32, 500);
        tj::tj3Set(h.0, tj::TJPARAM_TJPARAM_STOPONWARNING as i32, 0);
    }
    // SAFETY: pointer and length describe the borrowed slice.
    let rc = unsafe { tj::tj3DecompressHeader(h.0, data.as_ptr(), data.len() as _) };
    if rc != 0 {
        return Err(h.error());
    }
    let width = h.get(tj::TJPARAM_TJPARAM_JPEGWIDTH);
    let height = h.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT);
    let precision = h.get(tj::TJPARAM_TJPARAM_PRECISION);
    let colorspace = h.get(tj::TJPARAM_TJPARAM_COLORSPACE);
    if i64::from(width) != i64::from(expected.cols) || i64::from(height) != i64::from(expected.rows)
    {
        return Err(format!(
            "JPEG stream is {width}×{height}, the header says {}×{}",
            expected.cols, expected.rows
        ));
    }
    let (components, format) = match colorspace as u32 {
        tj::TJCS_TJCS_GRAY => (1u16, tj::TJPF_TJPF_GRAY),
        tj::TJCS_TJCS_RGB | tj::TJCS_TJCS_YCbCr => (3, tj::TJPF_TJPF_RGB),
        other => return Err(format!("unsupported JPEG colour space {other}")),
    };
    if components != expected.samples {
        return Err(format!(
            "JPEG stream has {components} components, the header says {} samples per pixel",
            expected.samples
        ));
    }
    if !(2..=16).contains(&precision) {
        return Err(format!("unsupported JPEG precision {precision}"));
    }
    if precision > 8 && expected.bits_allocated != 16 {
        return Err(format!(
            "JPEG precision {precision} does not fit Bits Allocated {}",
            expected.bits_allocated
        ));
    }
    let n = width as usize * height as usize * components as usize;
    if expected.rgb && components == 3 && colorspace as u32 == tj::TJCS_TJCS_YCbCr && precision <= 8
    {
        let (jfif, adobe) = colour_markers(data);
        if !jfif && adobe.is_none() {
            return raw_components(&h, data, width as usize, height as usize, expected);
        }
    }
    let fmt = format;
    let finish = |rc: i32| {
        if rc == 0 || h.last_was_warning() {
            Ok(())
        } else {
            Err(h.error())
        }
    };
    if precision <= 8 {
        let mut out = vec![0u8; n];
        // SAFETY: `out` holds width × height × components samples, pitch 0 = packed.
        let rc = unsafe {
            tj::tj3Decompress8(
                h.0,
                data.as_ptr(),
                data.len() as _,
                out.as_mut_ptr(),
                0,
                fmt,
            )
        };
        finish(rc)?;
        if expected.bits_allocated == 16 {
            return Ok(out
                .iter()
                .flat_map(|&v| u16::from(v).to_le_bytes())
                .collect());
        }
        Ok(out)
    } else if precision <= 12 {
        let mut out = vec![0i16; n];
        // SAFETY: as above, with 16-bit samples.
        let rc = unsafe {
            tj::tj3Decompress12(
                h.0,
                data.as_ptr(),
                data.len() as _,
                out.as_mut_ptr(),
                0,
                fmt,
            )
        };
        finish(rc)?;
        Ok(out.iter().flat_map(|&v| v.to_le_bytes()).collect())
    } else {
        let mut out = vec![0u16; n];
        // SAFETY: as above.
        let rc = unsafe {
            tj::tj3Decompress16(
                h.0,
                data.as_ptr(),
                data.len() as _,
                out.as_mut_ptr(),
                0,
                fmt,
            )
        };
        finish(rc)?;
        Ok(out.iter().flat_map(|&v| v.to_le_bytes()).collect())
    }
}
