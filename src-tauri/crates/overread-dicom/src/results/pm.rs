//! A heatmap as a Parametric Map: one frame of 32-bit float values on the
//! source image's own grid (same rows and columns, its Frame of Reference,
//! the image named in the Derivation Image Sequence), with a Real World
//! Value Mapping saying what the values are. Any Parametric-Map-aware tool
//! can overlay it on the radiograph.

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};

use super::dataset::{self, Ds, Put, code, code_item};
use super::{Heatmap, ObjectKind, ResultObject, Source, StudyResults, codes};
use crate::error::{Error, Result};

pub const SOP_CLASS: &str = uids::PARAMETRIC_MAP_STORAGE;
const IMAGE_TYPE: &str = "DERIVED\\PRIMARY\\STATIC\\NONE";

/// Image Orientation (Patient) of the projection's plane, from Patient
/// Orientation's row and column directions (a radiograph has no patient
/// geometry; the map's plane is placed at the origin of its own Frame of
/// Reference, oriented as the image is). `L\\F` when absent or oblique.
pub(crate) fn plane_orientation(patient_orientation: Option<&str>) -> String {
    // (axis, direction cosines)
    let axis = |d: &str| match d.trim() {
        "L" => Some((0, "1\\0\\0")),
        "R" => Some((0, "-1\\0\\0")),
        "P" => Some((1, "0\\1\\0")),
        "A" => Some((1, "0\\-1\\0")),
        "H" => Some((2, "0\\0\\1")),
        "F" => Some((2, "0\\0\\-1")),
        _ => None,
    };
    let parts: Vec<&str> = patient_orientation.unwrap_or("").split('\\').collect();
    if let [row, col] = parts[..]
        && let (Some((ra, r)), Some((ca, c))) = (axis(row), axis(col))
        && ra != ca
    {
        return format!("{r}\\{c}");
    }
    "1\\0\\0\\0\\0\\-1".into()
}

fn f64s(tag: dicom_core::Tag, vr: VR, v: &[f64]) -> DataElement<Ds> {
    DataElement::new(tag, vr, PrimitiveValue::F64(v.iter().copied().collect()))
}

/// The Frame of Reference the map shares with its image: the image's own,
/// or (a projection radiograph often has none) one derived from the image.
pub(crate) fn frame_of_reference(src: &Source<'_>) -> String {
    src.header
        .frame_of_reference_uid
        .clone()
        .filter(|u| crate::net::is_valid_uid(u))
        .unwrap_or_else(|| super::derived_uid(&["overread-frame-of-reference", src.sop_uid]))
}

pub(crate) fn write(r: &StudyResults, src: &Source<'_>, h: &Heatmap) -> Result<ResultObject> {
    let pixels = usize::from(src.rows) * usize::from(src.cols);
    if h.values.len() != pixels {
        return Err(Error::Results {
            reason: format!(
                "the {} heatmap has {} values for a {}×{} image",
                h.label,
                h.values.len(),
                src.cols,
                src.rows
            ),
        });
    }
    if h.values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Results {
            reason: format!("the {} heatmap has values that are not numbers", h.label),
        });
    }
    let sop = r.uid(&format!("pm/{}", h.label));
    let series = r.series_uid("pm");
    let mut ds = dataset::common(
        r,
        src,
        &dataset::Identity {
            sop_class: SOP_CLASS,
            sop_instance: &sop,
            series_uid: &series,
            modality: "OT",
            series_number: 9902,
            series_description: "AI heatmaps (Overread)",
        },
    );
    dataset::body_part(&mut ds, src);
    // Frame of Reference.
    ds.text(
        tags::FRAME_OF_REFERENCE_UID,
        VR::UI,
        &frame_of_reference(src),
    );
    ds.text(tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");
    // Parametric Map Image and Content Identification.
    ds.text(tags::IMAGE_TYPE, VR::CS, IMAGE_TYPE);
    ds.text(tags::CONTENT_QUALIFICATION, VR::CS, "RESEARCH");
    ds.text(tags::INSTANCE_NUMBER, VR::IS, "1");
    ds.text(tags::CONTENT_DATE, VR::DA, &r.signed_date);
    ds.text(tags::CONTENT_TIME, VR::TM, &r.signed_time);
    let label = dataset::clip(&h.label, 16)
        .to_ascii_uppercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>();
    ds.text(tags::CONTENT_LABEL, VR::CS, &label);
    ds.text(
        tags::CONTENT_DESCRIPTION,
        VR::LO,
        &dataset::clip(&format!("AI heatmap: {}", h.label), 64),
    );
    ds.text(tags::CONTENT_CREATOR_NAME, VR::PN, "");
    ds.text(tags::PIXEL_PRESENTATION, VR::CS, "MONOCHROME");
    ds.text(tags::PRESENTATION_LUT_SHAPE, VR::CS, "IDENTITY");
    ds.text(tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00");
    ds.text(tags::BURNED_IN_ANNOTATION, VR::CS, "NO");
    ds.text(tags::RECOGNIZABLE_VISUAL_FEATURES, VR::CS, "NO");
    ds.seq(tags::ACQUISITION_CONTEXT_SEQUENCE, vec![]);
    // Image Pixel: float data.
    ds.us(tags::SAMPLES_PER_PIXEL, 1);
    ds.text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
    ds.us(tags::ROWS, src.rows);
    ds.us(tags::COLUMNS, src.cols);
    ds.us(tags::BITS_ALLOCATED, 32);
    ds.text(tags::NUMBER_OF_FRAMES, VR::IS, "1");
    // Multi-frame Dimension: one dimension, the frame's position in the stack.
    let dimension_org = r.uid(&format!("pm-dimensions/{}", h.label));
    let mut org = Ds::new_empty();
    org.text(tags::DIMENSION_ORGANIZATION_UID, VR::UI, &dimension_org);
    ds.seq(tags::DIMENSION_ORGANIZATION_SEQUENCE, vec![org]);
    ds.text(tags::DIMENSION_ORGANIZATION_TYPE, VR::CS, "3D");
    let mut index = Ds::new_empty();
    index.text(tags::DIMENSION_ORGANIZATION_UID, VR::UI, &dimension_org);
    index.put(DataElement::new(
        tags::DIMENSION_INDEX_POINTER,
        VR::AT,
        PrimitiveValue::Tags([tags::IN_STACK_POSITION_NUMBER].into_iter().collect()),
    ));
    index.put(DataElement::new(
        tags::FUNCTIONAL_GROUP_POINTER,
        VR::AT,
        PrimitiveValue::Tags([tags::FRAME_CONTENT_SEQUENCE].into_iter().collect()),
    ));
    ds.seq(tags::DIMENSION_INDEX_SEQUENCE, vec![index]);
    // Multi-frame Functional Groups.
    let mut shared = Ds::new_empty();
    let (row, col) = r.pixel_spacing.unwrap_or((1.0, 1.0));
    let mut measures = Ds::new_empty();
    measures.text(tags::PIXEL_SPACING, VR::DS, &format!("{row}\\{col}"));
    measures.text(tags::SLICE_THICKNESS, VR::DS, "1");
    shared.seq(tags::PIXEL_MEASURES_SEQUENCE, vec![measures]);
    let mut position = Ds::new_empty();
    position.text(tags::IMAGE_POSITION_PATIENT, VR::DS, "0\\0\\0");
    shared.seq(tags::PLANE_POSITION_SEQUENCE, vec![position]);
    let mut orientation = Ds::new_empty();
    orientation.text(
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        &plane_orientation(src.header.patient_orientation.as_deref()),
    );
    shared.seq(tags::PLANE_ORIENTATION_SEQUENCE, vec![orientation]);
    let mut identity = Ds::new_empty();
    identity.text(tags::RESCALE_INTERCEPT, VR::DS, "0");
    identity.text(tags::RESCALE_SLOPE, VR::DS, "1");
    identity.text(tags::RESCALE_TYPE, VR::LO, "US");
    shared.seq(tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE, vec![identity]);
    let mut frame_type = Ds::new_empty();
    frame_type.text(tags::FRAME_TYPE, VR::CS, IMAGE_TYPE);
    shared.seq(tags::PARAMETRIC_MAP_FRAME_TYPE_SEQUENCE, vec![frame_type]);
    shared.seq(tags::REAL_WORLD_VALUE_MAPPING_SEQUENCE, vec![mapping(h)]);
    let mut derivation = Ds::new_empty();
    derivation.seq(
        tags::DERIVATION_CODE_SEQUENCE,
        vec![code_item(&code(codes::AI_HEATMAP_DERIVATION))],
    );
    let mut source = dataset::sop_ref(src.sop_class_uid, src.sop_uid);
    source.seq(
        tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
        vec![code_item(&code(codes::SOURCE_IMAGE_FOR_PROCESSING))],
    );
    derivation.seq(tags::SOURCE_IMAGE_SEQUENCE, vec![source]);
    shared.seq(tags::DERIVATION_IMAGE_SEQUENCE, vec![derivation]);
    ds.seq(tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, vec![shared]);
    let mut content = Ds::new_empty();
    content.put(DataElement::new(
        tags::DIMENSION_INDEX_VALUES,
        VR::UL,
        PrimitiveValue::U32([1u32].into_iter().collect()),
    ));
    content.put(DataElement::new(
        tags::IN_STACK_POSITION_NUMBER,
        VR::UL,
        PrimitiveValue::U32([1u32].into_iter().collect()),
    ));
    content.text(tags::STACK_ID, VR::SH, "1");
    let mut per_frame = Ds::new_empty();
    per_frame.seq(tags::FRAME_CONTENT_SEQUENCE, vec![content]);
    ds.seq(tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, vec![per_frame]);
    // The source image, for tools that look here.
    ds.seq(
        tags::REFERENCED_SERIES_SEQUENCE,
        vec![{
            let mut s = Ds::new_empty();
            s.text(tags::SERIES_INSTANCE_UID, VR::UI, src.series_uid);
            s.seq(
                tags::REFERENCED_INSTANCE_SEQUENCE,
                vec![dataset::sop_ref(src.sop_class_uid, src.sop_uid)],
            );
            s
        }],
    );
    ds.put(DataElement::new(
        tags::FLOAT_PIXEL_DATA,
        VR::OF,
        PrimitiveValue::F32(h.values.iter().copied().collect()),
    ));
    let bytes = dataset::part10(ds, SOP_CLASS, &sop)?;
    Ok(ResultObject {
        kind: ObjectKind::ParametricMap {
            label: h.label.clone(),
        },
        sop_class_uid: SOP_CLASS,
        sop_instance_uid: sop,
        series_instance_uid: series,
        bytes,
    })
}

/// The heatmap's values are the model's activation scaled to 0–1: the
/// mapping is the identity over that range, unit "no units".
fn mapping(h: &Heatmap) -> Ds {
    let mut m = Ds::new_empty();
    m.put(f64s(
        tags::DOUBLE_FLOAT_REAL_WORLD_VALUE_FIRST_VALUE_MAPPED,
        VR::FD,
        &[0.0],
    ));
    m.put(f64s(
        tags::DOUBLE_FLOAT_REAL_WORLD_VALUE_LAST_VALUE_MAPPED,
        VR::FD,
        &[1.0],
    ));
    m.put(f64s(tags::REAL_WORLD_VALUE_INTERCEPT, VR::FD, &[0.0]));
    m.put(f64s(tags::REAL_WORLD_VALUE_SLOPE, VR::FD, &[1.0]));
    m.text(tags::LUT_EXPLANATION, VR::LO, &dataset::clip(&h.label, 64));
    m.text(tags::LUT_LABEL, VR::SH, &dataset::clip(&h.label, 16));
    m.seq(
        tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
        vec![code_item(&code(codes::NO_UNITS))],
    );
    let mut quantity = Ds::new_empty();
    quantity.text(tags::VALUE_TYPE, VR::CS, "CODE");
    quantity.code_seq(tags::CONCEPT_NAME_CODE_SEQUENCE, &code(codes::QUANTITY));
    quantity.code_seq(tags::CONCEPT_CODE_SEQUENCE, &code(codes::AI_HEATMAP));
    m.seq(tags::QUANTITY_DEFINITION_SEQUENCE, vec![quantity]);
    m
}
