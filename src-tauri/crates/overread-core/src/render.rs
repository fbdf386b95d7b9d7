//! Rendering an instance to an image file: the display-ready pixels of
//! [`overread_dicom::Instance::display`], optionally resized, as 8-bit PNG
//! (what a person looks at) or 16-bit PGM/PNG (for tools and benchmarks).

use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, ImageBuffer, Luma, Rgb};
use overread_dicom::{DisplayImage, Limits, Voi, Window};
use snafu::ResultExt;

use crate::error::{DicomSnafu, Error, Result};

/// What to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// 0-based frame.
    pub frame: u32,
    /// Window centre and width overriding the file's default VOI.
    pub window: Option<(f64, f64)>,
    /// Longest side of the output, in pixels; the aspect ratio is kept.
    pub size: Option<u32>,
    /// Keep 16 bits per sample (PNG or PGM) instead of 8.
    pub sixteen_bit: bool,
}

/// Decodes `input` and returns its display-ready image.
pub fn display_image(
    input: &Path,
    options: &RenderOptions,
    limits: &Limits,
) -> Result<DisplayImage> {
    let instance = overread_dicom::open(input, limits).context(DicomSnafu { path: input })?;
    let voi = options.window.map(|(c, w)| Voi::Window(Window::new(c, w)));
    instance
        .display(options.frame, voi)
        .context(DicomSnafu { path: input })
}

/// Renders `input` to `output`; the format follows the extension (.png, .pgm/.ppm).
pub fn render(input: &Path, output: &Path, options: &RenderOptions, limits: &Limits) -> Result<()> {
    if let Some((_, w)) = options.window
        && !(w.is_finite() && w >= 1.0)
    {
        return Err(Error::InvalidArgument {
            message: format!("window width must be at least 1, got {w}"),
        });
    }
    if options.size == Some(0) {
        return Err(Error::InvalidArgument {
            message: "size must be at least 1".into(),
        });
    }
    let image = display_image(input, options, limits)?;
    write(&image, output, options)
}

/// Writes a display image in the format `output`'s extension names.
pub fn write(image: &DisplayImage, output: &Path, options: &RenderOptions) -> Result<()> {
    let fail = |message: String| Error::Output {
        path: output.to_path_buf(),
        message,
    };
    let ext = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let image = match options.size {
        Some(size) => resize(image, size),
        None => image.clone(),
    };
    match ext.as_deref() {
        Some("pgm" | "ppm") => {
            write_pnm(&image, output, options.sixteen_bit).map_err(|e| fail(e.to_string()))
        }
        Some("png") => {
            let dynamic = to_dynamic(&image, options.sixteen_bit)
                .ok_or_else(|| fail("image buffer size mismatch".into()))?;
            dynamic
                .save_with_format(output, image::ImageFormat::Png)
                .map_err(|e| fail(e.to_string()))
        }
        _ => Err(fail(
            "unknown output format (use .png, .pgm or .ppm)".into(),
        )),
    }
}

fn to_dynamic(image: &DisplayImage, sixteen_bit: bool) -> Option<DynamicImage> {
    let (w, h) = (image.width, image.height);
    Some(match (image.channels, sixteen_bit) {
        (1, true) => DynamicImage::ImageLuma16(ImageBuffer::<Luma<u16>, _>::from_raw(
            w,
            h,
            image.data.clone(),
        )?),
        (1, false) => {
            DynamicImage::ImageLuma8(ImageBuffer::<Luma<u8>, _>::from_raw(w, h, image.to_u8())?)
        }
        (_, true) => DynamicImage::ImageRgb16(ImageBuffer::<Rgb<u16>, _>::from_raw(
            w,
            h,
            image.data.clone(),
        )?),
        (_, false) => {
            DynamicImage::ImageRgb8(ImageBuffer::<Rgb<u8>, _>::from_raw(w, h, image.to_u8())?)
        }
    })
}

/// Scales so the longest side is `size`, with a triangle (bilinear) filter.
pub fn resize(image: &DisplayImage, size: u32) -> DisplayImage {
    let longest = image.width.max(image.height).max(1);
    let scale = f64::from(size) / f64::from(longest);
    let w = ((f64::from(image.width) * scale).round() as u32).max(1);
    let h = ((f64::from(image.height) * scale).round() as u32).max(1);
    let resized = match image.channels {
        1 => ImageBuffer::<Luma<u16>, _>::from_raw(image.width, image.height, image.data.clone())
            .map(|b| image::imageops::resize(&b, w, h, FilterType::Triangle).into_raw()),
        _ => ImageBuffer::<Rgb<u16>, _>::from_raw(image.width, image.height, image.data.clone())
            .map(|b| image::imageops::resize(&b, w, h, FilterType::Triangle).into_raw()),
    };
    match resized {
        Some(data) => DisplayImage {
            width: w,
            height: h,
            channels: image.channels,
            data,
        },
        None => image.clone(),
    }
}

/// Binary PGM/PPM (Netpbm P5/P6), 8- or 16-bit big endian.
fn write_pnm(image: &DisplayImage, output: &Path, sixteen_bit: bool) -> std::io::Result<()> {
    use std::io::Write;
    let magic = if image.channels == 1 { "P5" } else { "P6" };
    let max = if sixteen_bit { 65535 } else { 255 };
    let mut out = Vec::with_capacity(image.data.len() * if sixteen_bit { 2 } else { 1 } + 32);
    write!(out, "{magic}\n{} {}\n{max}\n", image.width, image.height)?;
    if sixteen_bit {
        for v in &image.data {
            out.extend_from_slice(&v.to_be_bytes());
        }
    } else {
        out.extend(image.to_u8());
    }
    std::fs::write(output, out)
}
