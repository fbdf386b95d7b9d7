//! Opening instances: the whole file for decoding, or only the header for
//! indexing. Sizes are checked before reading; the structural walk in
//! [`crate::layout`] runs before dicom-rs parses anything.

use std::fs::File;
use std::io::{Read, Seek};
use std::ops::Range;
use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use serde::Serialize;
use snafu::ResultExt;

use crate::attrs::{self, Object};
use crate::display::{self, DisplayImage, GrayPipeline};
use crate::error::{Error, InflateSnafu, IoSnafu, Result, malformed};
use crate::image::{ImagePixel, Photometric};
use crate::layout::{self, PixelLocation, Preamble, WalkError};
use crate::limits::Limits;
use crate::lut::{ModalityLut, Voi, VoiChoices, Window};
use crate::pixels::color::Palette;
use crate::pixels::{Frame, PixelSource};
use crate::syntax::{Encoding, TransferSyntax};

/// Media Storage Directory Storage: a DICOMDIR.
pub const MEDIA_STORAGE_DIRECTORY: &str = "1.2.840.10008.1.3.10";

/// What Overread reads from an instance's header, typed. Values absent from
/// the file are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Header {
    pub transfer_syntax: String,
    pub transfer_syntax_name: &'static str,
    pub sop_class_uid: Option<String>,
    pub sop_instance_uid: Option<String>,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub patient_birth_date: Option<String>,
    pub patient_sex: Option<String>,
    pub patient_age: Option<String>,
    pub study_instance_uid: Option<String>,
    pub study_date: Option<String>,
    pub study_time: Option<String>,
    pub study_description: Option<String>,
    pub accession_number: Option<String>,
    pub series_instance_uid: Option<String>,
    pub series_number: Option<i64>,
    pub series_description: Option<String>,
    pub instance_number: Option<i64>,
    pub modality: Option<String>,
    pub body_part: Option<String>,
    pub view_position: Option<String>,
    pub image_laterality: Option<String>,
    pub manufacturer: Option<String>,
    /// KVP (0018,0060): the peak kilovoltage.
    pub kvp: Option<f64>,
    /// Exposure (0018,1152) in mAs, or Exposure in µAs (0018,1153) / 1000.
    pub exposure_mas: Option<f64>,
    pub study_id: Option<String>,
    pub referring_physician_name: Option<String>,
    /// Frame of Reference UID: results registered to this image share it.
    pub frame_of_reference_uid: Option<String>,
    /// Patient Orientation (0020,0020): row and column directions, e.g. `L\\F`.
    pub patient_orientation: Option<String>,
    pub rows: Option<u32>,
    pub cols: Option<u32>,
    pub frames: Option<u32>,
    pub samples_per_pixel: Option<u16>,
    pub photometric: Option<String>,
    pub bits_allocated: Option<u16>,
    pub bits_stored: Option<u16>,
    pub pixel_representation: Option<u16>,
    pub windows: Vec<Window>,
    pub has_pixel_data: bool,
}

impl Header {
    fn from_object(
        obj: &Object,
        ts: &TransferSyntax,
        media_sop_class: Option<String>,
        has_pixel_data: bool,
    ) -> Header {
        let s = |tag| attrs::string(obj, tag);
        let small = |tag| attrs::int(obj, tag).and_then(|v| u16::try_from(v).ok());
        let rows = attrs::int(obj, tags::ROWS).and_then(|v| u32::try_from(v).ok());
        let frames = match attrs::int(obj, tags::NUMBER_OF_FRAMES) {
            Some(v) => u32::try_from(v).ok(),
            None => rows.map(|_| 1),
        };
        Header {
            transfer_syntax: ts.uid.to_string(),
            transfer_syntax_name: ts.name,
            sop_class_uid: s(tags::SOP_CLASS_UID).or(media_sop_class),
            sop_instance_uid: s(tags::SOP_INSTANCE_UID),
            patient_id: s(tags::PATIENT_ID),
            patient_name: s(tags::PATIENT_NAME),
            patient_birth_date: s(tags::PATIENT_BIRTH_DATE),
            patient_sex: s(tags::PATIENT_SEX),
            patient_age: s(tags::PATIENT_AGE),
            study_instance_uid: s(tags::STUDY_INSTANCE_UID),
            study_date: s(tags::STUDY_DATE),
            study_time: s(tags::STUDY_TIME),
            study_description: s(tags::STUDY_DESCRIPTION),
            accession_number: s(tags::ACCESSION_NUMBER),
            series_instance_uid: s(tags::SERIES_INSTANCE_UID),
            series_number: attrs::int(obj, tags::SERIES_NUMBER),
            instance_number: attrs::int(obj, tags::INSTANCE_NUMBER),
            modality: s(tags::MODALITY),
            body_part: s(tags::BODY_PART_EXAMINED),
            view_position: s(tags::VIEW_POSITION),
            series_description: s(tags::SERIES_DESCRIPTION),
            image_laterality: s(tags::IMAGE_LATERALITY).or_else(|| s(tags::LATERALITY)),
            manufacturer: s(tags::MANUFACTURER),
            kvp: attrs::float(obj, tags::KVP),
            exposure_mas: attrs::float(obj, tags::EXPOSURE)
                .or_else(|| attrs::float(obj, tags::EXPOSURE_INU_AS).map(|uas| uas / 1000.0)),
            study_id: s(tags::STUDY_ID),
            referring_physician_name: s(tags::REFERRING_PHYSICIAN_NAME),
            frame_of_reference_uid: s(tags::FRAME_OF_REFERENCE_UID),
            patient_orientation: s(tags::PATIENT_ORIENTATION),
            rows,
            cols: attrs::int(obj, tags::COLUMNS).and_then(|v| u32::try_from(v).ok()),
            frames,
            samples_per_pixel: small(tags::SAMPLES_PER_PIXEL),
            photometric: s(tags::PHOTOMETRIC_INTERPRETATION),
            bits_allocated: small(tags::BITS_ALLOCATED),
            bits_stored: small(tags::BITS_STORED),
            pixel_representation: small(tags::PIXEL_REPRESENTATION),
            windows: VoiChoices::from_object(obj, 0, false).windows,
            has_pixel_data,
        }
    }

    /// Whether this is a DICOMDIR rather than an instance.
    pub fn is_dicomdir(&self) -> bool {
        self.sop_class_uid.as_deref() == Some(MEDIA_STORAGE_DIRECTORY)
    }
}

/// Physical spacing of pixel centres, in mm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PixelSpacing {
    pub row: f64,
    pub col: f64,
    /// Imager Pixel Spacing: measured at the detector, not at the patient.
    pub at_detector: bool,
}

/// An instance read whole, ready to decode.
#[derive(Debug)]
pub struct Instance {
    header: Header,
    object: Object,
    ts: &'static TransferSyntax,
    /// The data set bytes (inflated when the file was deflated).
    dataset: Vec<u8>,
    pixel_data: Option<PixelLocation>,
    /// Pixel Data's VR was OW: in big endian, 8-bit samples then sit byte-swapped in 16-bit words.
    pixel_data_ow: bool,
    limits: Limits,
    /// The file it was read from (decodes are counted by it, `counters`).
    #[cfg(feature = "counters")]
    origin: Option<PathBuf>,
}

/// Reads only the header of the file at `path` (stops before Pixel Data).
pub fn read_header(path: &Path, limits: &Limits) -> Result<Header> {
    #[cfg(feature = "counters")]
    crate::counters::read(path, true);
    let mut prefix = Prefix::open(path, limits)?;
    let preamble = loop {
        match layout::read_preamble(&prefix.buf, prefix.size) {
            Ok(p) => break p,
            Err(WalkError::NeedMore(n)) => prefix.grow(n)?,
            Err(WalkError::Fail(e)) => return Err(e),
        }
    };
    let ts = transfer_syntax(&preamble)?;
    if ts.deflated {
        prefix.grow(prefix.size)?;
        let (dataset, _) = dataset_bytes(prefix.buf, &preamble, ts, limits)?;
        return parse(dataset, ts, preamble, limits, true).map(|(header, ..)| header);
    }
    let start = preamble.dataset_offset;
    let total = prefix.size - start;
    prefix.grow(start + 8)?;
    let encoding = actual_encoding(&prefix.buf[start..], ts.encoding);
    let walked = loop {
        match layout::walk_dataset(&prefix.buf[start..], total, encoding, true, limits) {
            Ok(l) => break l,
            Err(WalkError::NeedMore(n)) => prefix.grow(start + n)?,
            Err(WalkError::Fail(e)) => return Err(e),
        }
    };
    prefix.grow(start + walked.header_end)?;
    let has_pixel_data = walked.header_end < total;
    let object = parse_object(
        &prefix.buf[start..start + walked.header_end],
        encoding,
        &walked.excluded,
    )?;
    Ok(Header::from_object(
        &object,
        ts,
        preamble.media_sop_class,
        has_pixel_data,
    ))
}

/// Reads the whole file at `path`.
pub fn open(path: &Path, limits: &Limits) -> Result<Instance> {
    #[cfg(feature = "counters")]
    crate::counters::read(path, false);
    let mut prefix = Prefix::open(path, limits)?;
    prefix.grow(prefix.size)?;
    let instance = from_bytes(prefix.buf, limits)?;
    #[cfg(feature = "counters")]
    let instance = Instance {
        origin: Some(path.to_path_buf()),
        ..instance
    };
    Ok(instance)
}

/// Reads an instance from the bytes of a Part-10 file.
pub fn from_bytes(bytes: Vec<u8>, limits: &Limits) -> Result<Instance> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(Error::FileTooLarge {
            size: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let preamble = layout::read_preamble(&bytes, bytes.len()).map_err(complete)?;
    let ts = transfer_syntax(&preamble)?;
    let (dataset, _) = dataset_bytes(bytes, &preamble, ts, limits)?;
    let (header, object, dataset, walked) = parse(dataset, ts, preamble, limits, false)?;
    Ok(Instance {
        header,
        object,
        ts,
        dataset,
        pixel_data: walked.pixel_data,
        pixel_data_ow: walked.pixel_vr == Some(*b"OW"),
        limits: *limits,
        #[cfg(feature = "counters")]
        origin: None,
    })
}

fn complete(e: WalkError) -> Error {
    match e {
        WalkError::NeedMore(n) => malformed(n as u64, "file ends inside an element header"),
        WalkError::Fail(e) => e,
    }
}

fn parse(
    dataset: Vec<u8>,
    ts: &'static TransferSyntax,
    preamble: Preamble,
    limits: &Limits,
    header_only: bool,
) -> Result<(Header, Object, Vec<u8>, layout::DatasetLayout)> {
    let encoding = actual_encoding(&dataset, ts.encoding);
    let walked = layout::walk_dataset(&dataset, dataset.len(), encoding, header_only, limits)
        .map_err(complete)?;
    let object = parse_object(&dataset[..walked.header_end], encoding, &walked.excluded)?;
    let has_pixel_data = walked.header_end < dataset.len();
    let header = Header::from_object(&object, ts, preamble.media_sop_class, has_pixel_data);
    Ok((header, object, dataset, walked))
}

fn transfer_syntax(preamble: &Preamble) -> Result<&'static TransferSyntax> {
    if let Some(uid) = &preamble.transfer_syntax {
        return TransferSyntax::from_uid(uid)
            .ok_or_else(|| Error::UnsupportedTransferSyntax { uid: uid.clone() });
    }
    let Some(encoding) = preamble.guessed_encoding else {
        return Err(Error::MissingTransferSyntax);
    };
    let uid = match encoding {
        Encoding::IMPLICIT_LE => "1.2.840.10008.1.2",
        Encoding::EXPLICIT_LE => "1.2.840.10008.1.2.1",
        _ => "1.2.840.10008.1.2.2",
    };
    TransferSyntax::from_uid(uid).ok_or(Error::MissingTransferSyntax)
}

/// The data set's bytes: the file after its meta group, inflated when
/// deflated (PS3.5 §A.5), never past the limit.
fn dataset_bytes(
    mut file: Vec<u8>,
    preamble: &Preamble,
    ts: &TransferSyntax,
    limits: &Limits,
) -> Result<(Vec<u8>, Range<usize>)> {
    let start = preamble.dataset_offset.min(file.len());
    if !ts.deflated {
        file.drain(..start);
        let len = file.len();
        return Ok((file, 0..len));
    }
    let mut out = Vec::new();
    let limit = limits.max_inflated_bytes;
    flate2::read::DeflateDecoder::new(&file[start..])
        .take(limit + 1)
        .read_to_end(&mut out)
        .context(InflateSnafu)?;
    if out.len() as u64 > limit {
        return Err(Error::InflateLimit { limit });
    }
    let len = out.len();
    Ok((out, 0..len))
}

/// Some writers declare explicit VR but write the data set in implicit VR;
/// like other readers we follow the bytes when the first element has no VR.
fn actual_encoding(dataset: &[u8], declared: Encoding) -> Encoding {
    let looks_implicit = declared == Encoding::EXPLICIT_LE
        && dataset.len() >= 8
        && !(dataset[4].is_ascii_uppercase() && dataset[5].is_ascii_uppercase());
    if looks_implicit {
        Encoding::IMPLICIT_LE
    } else {
        declared
    }
}

/// Parses header bytes with dicom-rs, without the ranges the walker excluded.
fn parse_object(bytes: &[u8], encoding: Encoding, excluded: &[Range<usize>]) -> Result<Object> {
    let uid = match encoding {
        Encoding::IMPLICIT_LE => "1.2.840.10008.1.2",
        Encoding::EXPLICIT_LE => "1.2.840.10008.1.2.1",
        _ => "1.2.840.10008.1.2.2",
    };
    let dicom_ts = TransferSyntaxRegistry
        .get(uid)
        .ok_or_else(|| Error::UnsupportedTransferSyntax { uid: uid.into() })?;
    let bytes: std::borrow::Cow<'_, [u8]> = if excluded.is_empty() {
        bytes.into()
    } else {
        let mut kept = Vec::with_capacity(bytes.len());
        let mut at = 0;
        for r in excluded.iter().filter(|r| r.end <= bytes.len()) {
            kept.extend_from_slice(&bytes[at..r.start]);
            at = r.end;
        }
        kept.extend_from_slice(&bytes[at..]);
        kept.into()
    };
    InMemDicomObject::read_dataset_with_ts(&bytes[..], dicom_ts)
        .map_err(|e| Error::Parse { message: chain(&e) })
}

/// An error and its sources on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg.replace('\n', " ")
}

/// A growing prefix of a file whose size was checked against the limits.
struct Prefix {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    size: usize,
}

impl Prefix {
    fn open(path: &Path, limits: &Limits) -> Result<Prefix> {
        let file = File::open(path).context(IoSnafu { path })?;
        let size = file.metadata().context(IoSnafu { path })?.len();
        if size > limits.max_file_bytes {
            return Err(Error::FileTooLarge {
                size,
                limit: limits.max_file_bytes,
            });
        }
        let mut prefix = Prefix {
            file,
            path: path.to_path_buf(),
            buf: Vec::new(),
            size: size as usize,
        };
        prefix.grow(64 * 1024)?;
        Ok(prefix)
    }

    /// Reads until at least `n` bytes (or the whole file) are in memory,
    /// growing geometrically so a long header costs few reads.
    fn grow(&mut self, n: usize) -> Result<()> {
        let target = n.max(self.buf.len() * 2).min(self.size);
        if target <= self.buf.len() {
            return Ok(());
        }
        let path = &self.path;
        self.file
            .seek(std::io::SeekFrom::Start(self.buf.len() as u64))
            .context(IoSnafu { path })?;
        let want = target - self.buf.len();
        let read = (&mut self.file)
            .take(want as u64)
            .read_to_end(&mut self.buf)
            .context(IoSnafu { path })?;
        if read < want {
            // The file shrank under us: treat what we have as the whole file.
            self.size = self.buf.len();
        }
        Ok(())
    }
}

impl Instance {
    /// The data set's bytes as read (inflated, if the file was deflated).
    pub(crate) fn into_dataset(self) -> Vec<u8> {
        self.dataset
    }

    /// The parsed data set (for the crate's own readers).
    pub(crate) fn object(&self) -> &Object {
        &self.object
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn transfer_syntax(&self) -> &'static TransferSyntax {
        self.ts
    }

    /// The validated Image Pixel Module.
    pub fn image(&self) -> Result<ImagePixel> {
        ImagePixel::from_object(&self.object, &self.limits)
    }

    /// Decodes one frame (0-based) to stored values.
    pub fn frame(&self, index: u32) -> Result<Frame> {
        #[cfg(feature = "counters")]
        crate::counters::decoded(
            self.origin.as_deref(),
            self.header.sop_instance_uid.as_deref(),
            false,
        );
        self.with_source(|source| source.decode_frame(index))
    }

    /// Lets go of the pixel data's bytes (the file as read), keeping the
    /// header: for a cache that holds decoded frames, not the file as well.
    /// Frames cannot be decoded afterwards ([`Error::NoPixelData`]).
    pub fn release_pixel_data(&mut self) {
        self.dataset = Vec::new();
        self.pixel_data = None;
    }

    /// A copy of the header and attributes without the pixel data's bytes
    /// (as after [`Instance::release_pixel_data`]), this one left whole.
    pub fn without_pixel_data(&self) -> Instance {
        Instance {
            header: self.header.clone(),
            object: self.object.clone(),
            ts: self.ts,
            dataset: Vec::new(),
            pixel_data: None,
            pixel_data_ow: self.pixel_data_ow,
            limits: self.limits,
            #[cfg(feature = "counters")]
            origin: self.origin.clone(),
        }
    }

    /// Bytes of the data set held (the file as read, inflated if deflated).
    pub fn held_bytes(&self) -> usize {
        self.dataset.len()
    }

    /// Proves every frame's pixel data arrived whole, at less cost than
    /// decoding them where the codec allows (a JPEG 2000 codestream is walked
    /// to EOC and its packet headers read, a JPEG stream's markers to EOI).
    pub fn check_complete(&self) -> Result<()> {
        self.with_source(|source| (0..source.px.frames).try_for_each(|f| source.check_frame(f)))
    }

    /// Frame `index` at reduced resolution (longest side near `side`), when
    /// its codec makes one for much less than the full decode (JPEG 2000
    /// and HTJ2K stop at a lower wavelet level); `None` otherwise.
    pub fn reduced_frame(&self, index: u32, side: u32) -> Result<Option<Frame>> {
        let reduced = self.with_source(|source| source.reduced_frame(index, side))?;
        #[cfg(feature = "counters")]
        if reduced.is_some() {
            crate::counters::decoded(
                self.origin.as_deref(),
                self.header.sop_instance_uid.as_deref(),
                true,
            );
        }
        Ok(reduced)
    }

    fn with_source<T>(&self, f: impl FnOnce(&PixelSource<'_>) -> Result<T>) -> Result<T> {
        let location = self.pixel_data.as_ref().ok_or(Error::NoPixelData)?;
        let px = self.image()?;
        let extended: Option<Vec<u64>> = attrs::bytes(&self.object, tags::EXTENDED_OFFSET_TABLE)
            .map(|b| {
                b.chunks_exact(8)
                    .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect()
            });
        f(&PixelSource {
            ts: self.ts,
            px: &px,
            bytes: &self.dataset,
            location,
            extended_offsets: extended.as_deref(),
            ow_words: self.pixel_data_ow,
        })
    }

    /// The Modality LUT for a frame (PS3.3 C.11.1).
    pub fn modality_lut(&self, frame: u32) -> ModalityLut {
        let signed = attrs::int(&self.object, tags::PIXEL_REPRESENTATION) == Some(1);
        ModalityLut::from_object(&self.object, frame, signed)
    }

    /// The windows and VOI LUTs the file offers for a frame (PS3.3 C.11.2).
    pub fn voi_choices(&self, frame: u32) -> VoiChoices {
        // The VOI LUT's first mapped value is signed when modality values can be negative.
        let signed = match self.modality_lut(frame) {
            ModalityLut::Rescale { intercept, .. } if intercept < 0.0 => true,
            _ => attrs::int(&self.object, tags::PIXEL_REPRESENTATION) == Some(1),
        };
        VoiChoices::from_object(&self.object, frame, signed)
    }

    /// Whether low values are shown white: MONOCHROME1, or a Presentation
    /// LUT Shape of INVERSE (PS3.3 C.11.6). The two describe the same
    /// inversion (DX images pair MONOCHROME1 with INVERSE, C.8.11.7), so it
    /// is applied once.
    pub fn inverted(&self, photometric: Photometric) -> bool {
        let inverse_shape =
            attrs::string(&self.object, tags::PRESENTATION_LUT_SHAPE).as_deref() == Some("INVERSE");
        photometric == Photometric::Monochrome1 || inverse_shape
    }

    /// The default VOI: the first window, else the first VOI LUT, else the
    /// frame's full modality range.
    pub fn default_voi(&self, index: u32, frame: &Frame) -> Voi {
        let choices = self.voi_choices(index);
        if let Some(w) = choices.windows.into_iter().next() {
            return Voi::Window(w);
        }
        if let Some(l) = choices.luts.into_iter().next() {
            return Voi::Table(l);
        }
        let (min, max) = display::modality_range(frame, &self.modality_lut(index));
        Voi::Range { min, max }
    }

    /// Decodes a frame to display-ready 16-bit values; `voi` overrides the default.
    pub fn display(&self, index: u32, voi: Option<Voi>) -> Result<DisplayImage> {
        let frame = self.frame(index)?;
        self.display_frame(index, &frame, voi)
    }

    /// As [`Instance::display`], for a frame already decoded.
    pub fn display_frame(
        &self,
        index: u32,
        frame: &Frame,
        voi: Option<Voi>,
    ) -> Result<DisplayImage> {
        match frame.photometric {
            Photometric::Monochrome1 | Photometric::Monochrome2 => {
                let voi = voi.unwrap_or_else(|| self.default_voi(index, frame));
                let pipeline = GrayPipeline {
                    modality: self.modality_lut(index),
                    voi,
                    invert: self.inverted(frame.photometric),
                };
                Ok(pipeline.apply(frame))
            }
            Photometric::PaletteColor => {
                let palette = Palette::from_object(&self.object)?;
                Ok(display::colour(
                    frame,
                    self.image()?.bits_stored,
                    Some(&palette),
                ))
            }
            _ => Ok(display::colour(frame, self.image()?.bits_stored, None)),
        }
    }

    /// Modality values of a frame (PS3.3 C.11.1), one per sample, for
    /// measurements and models. Grayscale only.
    pub fn modality_values(&self, index: u32, frame: &Frame) -> Vec<f32> {
        let lut = self.modality_lut(index);
        frame
            .samples
            .iter_i64()
            .map(|v| lut.apply(v as f64) as f32)
            .collect()
    }

    /// The spacing between pixel centres in mm, (row, column), for
    /// measurements: Pixel Spacing (0028,0030) when present, else Imager
    /// Pixel Spacing (0018,1164), which CR and DX give at the detector plane
    /// (PS3.3 10.7.1.3), uncorrected for geometric magnification.
    pub fn pixel_spacing(&self) -> Option<PixelSpacing> {
        let read = |tag| {
            let v = attrs::floats(&self.object, tag);
            match v[..] {
                [row, col] if row.is_finite() && col.is_finite() && row > 0.0 && col > 0.0 => {
                    Some((row, col))
                }
                _ => None,
            }
        };
        if let Some((row, col)) = read(tags::PIXEL_SPACING) {
            return Some(PixelSpacing {
                row,
                col,
                at_detector: false,
            });
        }
        read(tags::IMAGER_PIXEL_SPACING).map(|(row, col)| PixelSpacing {
            row,
            col,
            at_detector: true,
        })
    }

    /// Referenced File IDs (0004,1500) of a DICOMDIR's records, as relative
    /// path components (PS3.10 §8.2, PS3.3 F.3.2.2).
    pub fn dicomdir_files(&self) -> Vec<Vec<String>> {
        attrs::items(&self.object, tags::DIRECTORY_RECORD_SEQUENCE)
            .iter()
            .filter_map(|record| {
                let parts = attrs::strings(record, tags::REFERENCED_FILE_ID);
                (!parts.is_empty()).then_some(parts)
            })
            .collect()
    }
}
