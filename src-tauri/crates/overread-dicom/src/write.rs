//! Writing synthetic grayscale instances (CR / DX), for generated phantoms
//! and tests. Never used on patient data: every identifier comes from the caller.

use std::path::Path;

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use crate::error::{Error, Result};

/// A synthetic single-frame grayscale radiograph and its identifiers.
#[derive(Debug, Clone)]
pub struct SyntheticImage<'a> {
    pub patient_id: &'a str,
    pub patient_name: &'a str,
    pub patient_birth_date: &'a str,
    pub patient_sex: &'a str,
    pub patient_age: &'a str,
    pub study_instance_uid: &'a str,
    pub series_instance_uid: &'a str,
    pub sop_instance_uid: &'a str,
    pub accession_number: &'a str,
    pub study_date: &'a str,
    pub study_time: &'a str,
    pub study_description: &'a str,
    /// "CR" or "DX".
    pub modality: &'a str,
    pub body_part: &'a str,
    /// "PA", "AP", "LL" or "RL".
    pub view_position: &'a str,
    pub series_number: u32,
    pub series_description: &'a str,
    pub rows: u16,
    pub cols: u16,
    pub bits_stored: u16,
    /// MONOCHROME1 (high values dark) or MONOCHROME2.
    pub monochrome1: bool,
    pub pixel_spacing_mm: f64,
    pub window: (f64, f64),
    /// `rows × cols` values below 2^bits_stored.
    pub pixels: &'a [u16],
}

/// Writes `image` as an explicit VR little endian Part-10 file, atomically
/// (a temporary file in the same folder, then a rename).
pub fn write_synthetic(path: &Path, image: &SyntheticImage<'_>) -> Result<()> {
    let fail = |message: String| Error::Write {
        path: path.to_path_buf(),
        message,
    };
    let expected = usize::from(image.rows) * usize::from(image.cols);
    if image.pixels.len() != expected {
        return Err(fail(format!(
            "{} pixels for {}×{}",
            image.pixels.len(),
            image.cols,
            image.rows
        )));
    }
    let sop_class = if image.modality == "DX" {
        uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION
    } else {
        uids::COMPUTED_RADIOGRAPHY_IMAGE_STORAGE
    };
    let mut obj = InMemDicomObject::new_empty();
    let mut put =
        |tag: Tag, vr: VR, value: PrimitiveValue| obj.put(DataElement::new(tag, vr, value));
    let text = |s: &str| PrimitiveValue::from(s);
    put(tags::SPECIFIC_CHARACTER_SET, VR::CS, text("ISO_IR 192"));
    put(tags::IMAGE_TYPE, VR::CS, text("DERIVED\\SECONDARY"));
    put(tags::SOP_CLASS_UID, VR::UI, text(sop_class));
    put(tags::SOP_INSTANCE_UID, VR::UI, text(image.sop_instance_uid));
    put(tags::STUDY_DATE, VR::DA, text(image.study_date));
    put(tags::STUDY_TIME, VR::TM, text(image.study_time));
    put(tags::ACCESSION_NUMBER, VR::SH, text(image.accession_number));
    put(tags::MODALITY, VR::CS, text(image.modality));
    put(tags::CONVERSION_TYPE, VR::CS, text("SYN"));
    put(
        tags::MANUFACTURER,
        VR::LO,
        text("Overread synthetic phantom"),
    );
    put(
        tags::STUDY_DESCRIPTION,
        VR::LO,
        text(image.study_description),
    );
    put(tags::PATIENT_NAME, VR::PN, text(image.patient_name));
    put(tags::PATIENT_ID, VR::LO, text(image.patient_id));
    put(
        tags::PATIENT_BIRTH_DATE,
        VR::DA,
        text(image.patient_birth_date),
    );
    put(tags::PATIENT_SEX, VR::CS, text(image.patient_sex));
    put(tags::PATIENT_AGE, VR::AS, text(image.patient_age));
    put(tags::BODY_PART_EXAMINED, VR::CS, text(image.body_part));
    put(tags::VIEW_POSITION, VR::CS, text(image.view_position));
    put(
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        text(image.study_instance_uid),
    );
    put(
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        text(image.series_instance_uid),
    );
    put(tags::STUDY_ID, VR::SH, text("1"));
    put(
        tags::SERIES_NUMBER,
        VR::IS,
        text(&image.series_number.to_string()),
    );
    put(
        tags::SERIES_DESCRIPTION,
        VR::LO,
        text(image.series_description),
    );
    put(tags::INSTANCE_NUMBER, VR::IS, text("1"));
    // Shown the conventional way: a frontal with the patient's left on the
    // viewer's right, a lateral facing the viewer's left.
    let orientation = match image.view_position {
        "LL" | "RL" => "P\\F",
        _ => "L\\F",
    };
    put(tags::PATIENT_ORIENTATION, VR::CS, text(orientation));
    put(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16));
    let photometric = if image.monochrome1 {
        "MONOCHROME1"
    } else {
        "MONOCHROME2"
    };
    put(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, text(photometric));
    put(tags::ROWS, VR::US, PrimitiveValue::from(image.rows));
    put(tags::COLUMNS, VR::US, PrimitiveValue::from(image.cols));
    let spacing = format!("{0}\\{0}", image.pixel_spacing_mm);
    put(tags::PIXEL_SPACING, VR::DS, text(&spacing));
    put(tags::IMAGER_PIXEL_SPACING, VR::DS, text(&spacing));
    put(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(16u16));
    put(
        tags::BITS_STORED,
        VR::US,
        PrimitiveValue::from(image.bits_stored),
    );
    put(
        tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(image.bits_stored - 1),
    );
    put(
        tags::PIXEL_REPRESENTATION,
        VR::US,
        PrimitiveValue::from(0u16),
    );
    put(
        tags::WINDOW_CENTER,
        VR::DS,
        text(&format!("{}", image.window.0)),
    );
    put(
        tags::WINDOW_WIDTH,
        VR::DS,
        text(&format!("{}", image.window.1)),
    );
    put(tags::RESCALE_INTERCEPT, VR::DS, text("0"));
    put(tags::RESCALE_SLOPE, VR::DS, text("1"));
    put(tags::RESCALE_TYPE, VR::LO, text("US"));
    put(
        tags::PRESENTATION_LUT_SHAPE,
        VR::CS,
        text(if image.monochrome1 {
            "INVERSE"
        } else {
            "IDENTITY"
        }),
    );
    put(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(image.pixels.iter().copied().collect()),
    );
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(image.sop_instance_uid)
        .implementation_class_uid("1.2.826.0.1.3680043.10.1434.1")
        .implementation_version_name("OVERREAD_0_1");
    let file = obj.with_meta(meta).map_err(|e| fail(e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile_in(dir, path).map_err(|e| fail(e.to_string()))?;
    file.write_to_file(&tmp).map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e.to_string())
    })
}

fn tempfile_in(dir: &Path, target: &Path) -> std::io::Result<std::path::PathBuf> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(dir.join(format!(".{name}.{}.tmp", std::process::id())))
}
