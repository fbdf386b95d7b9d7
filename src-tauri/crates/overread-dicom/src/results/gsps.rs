//! A Grayscale Softcopy Presentation State for viewers that know neither SR
//! nor Parametric Maps: the accepted, modified and added findings as boxes
//! with short text on the source image, in a graphic layer of their own, with
//! the image's own window.

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};

use super::dataset::{self, Ds, Put};
use super::{Assessment, FindingResult, ObjectKind, ResultObject, Source, StudyResults};
use crate::error::Result;

pub const SOP_CLASS: &str = uids::GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE;
const LAYER: &str = "AI REVIEW";

fn fl(tag: dicom_core::Tag, v: &[f32]) -> DataElement<Ds> {
    DataElement::new(
        tag,
        VR::FL,
        PrimitiveValue::F32(v.iter().copied().collect()),
    )
}

/// What a finding's box says: "nodule: accepted (AI 0.82)".
pub fn caption(f: &FindingResult) -> String {
    let what = match f.assessment {
        Assessment::Accepted => "accepted",
        Assessment::Modified => "accepted, region changed",
        Assessment::Added => "added by reader",
        Assessment::Rejected => "rejected",
        Assessment::NotAssessed => "not assessed",
    };
    match f.ai {
        Some(ai) => format!("{}: {what} (AI {:.2})", f.label, ai.score),
        None => format!("{}: {what}", f.label),
    }
}

/// The findings a presentation state shows: those the reader stands behind.
pub fn shown(f: &FindingResult) -> bool {
    f.region.is_some()
        && matches!(
            f.assessment,
            Assessment::Accepted | Assessment::Modified | Assessment::Added
        )
}

pub(crate) fn write(r: &StudyResults, src: &Source<'_>) -> Result<ResultObject> {
    let sop = r.uid("gsps");
    let series = r.series_uid("gsps");
    let mut ds = dataset::common(
        r,
        src,
        &dataset::Identity {
            sop_class: SOP_CLASS,
            sop_instance: &sop,
            series_uid: &series,
            modality: "PR",
            series_number: 9903,
            series_description: "Reader-assessed AI findings (Overread)",
        },
    );
    dataset::body_part(&mut ds, src);
    // Presentation State Identification.
    ds.text(tags::INSTANCE_NUMBER, VR::IS, "1");
    ds.text(tags::CONTENT_LABEL, VR::CS, "AI_REVIEW");
    ds.text(
        tags::CONTENT_DESCRIPTION,
        VR::LO,
        "AI findings as assessed by the reader",
    );
    ds.text(
        tags::CONTENT_CREATOR_NAME,
        VR::PN,
        &dataset::person_name(&r.signer.name),
    );
    ds.text(tags::PRESENTATION_CREATION_DATE, VR::DA, &r.signed_date);
    ds.text(tags::PRESENTATION_CREATION_TIME, VR::TM, &r.signed_time);
    // Presentation State Relationship.
    let image = || dataset::sop_ref(src.sop_class_uid, src.sop_uid);
    let mut referenced = Ds::new_empty();
    referenced.text(tags::SERIES_INSTANCE_UID, VR::UI, src.series_uid);
    referenced.seq(tags::REFERENCED_IMAGE_SEQUENCE, vec![image()]);
    ds.seq(tags::REFERENCED_SERIES_SEQUENCE, vec![referenced]);
    // Displayed Area: the whole image, scaled to fit.
    let mut area = Ds::new_empty();
    area.put(DataElement::new(
        tags::DISPLAYED_AREA_TOP_LEFT_HAND_CORNER,
        VR::SL,
        PrimitiveValue::I32([1, 1].into_iter().collect()),
    ));
    area.put(DataElement::new(
        tags::DISPLAYED_AREA_BOTTOM_RIGHT_HAND_CORNER,
        VR::SL,
        PrimitiveValue::I32(
            [i32::from(src.cols), i32::from(src.rows)]
                .into_iter()
                .collect(),
        ),
    ));
    area.text(tags::PRESENTATION_SIZE_MODE, VR::CS, "SCALE TO FIT");
    match r.pixel_spacing {
        Some((row, col)) => area.text(
            tags::PRESENTATION_PIXEL_SPACING,
            VR::DS,
            &format!("{row}\\{col}"),
        ),
        None => area.text(tags::PRESENTATION_PIXEL_ASPECT_RATIO, VR::IS, "1\\1"),
    }
    ds.seq(tags::DISPLAYED_AREA_SELECTION_SEQUENCE, vec![area]);
    // Graphic Layer and Graphic Annotation.
    let mut layer = Ds::new_empty();
    layer.text(tags::GRAPHIC_LAYER, VR::CS, LAYER);
    layer.text(tags::GRAPHIC_LAYER_ORDER, VR::IS, "1");
    layer.text(
        tags::GRAPHIC_LAYER_DESCRIPTION,
        VR::LO,
        "AI findings the reader accepted or added",
    );
    ds.seq(tags::GRAPHIC_LAYER_SEQUENCE, vec![layer]);
    let shown: Vec<&FindingResult> = r.findings.iter().filter(|f| shown(f)).collect();
    if !shown.is_empty() {
        let mut graphics = Vec::new();
        let mut texts = Vec::new();
        for f in shown {
            let Some(region) = f.region else { continue };
            let mut g = Ds::new_empty();
            g.text(tags::GRAPHIC_ANNOTATION_UNITS, VR::CS, "PIXEL");
            g.us(tags::GRAPHIC_DIMENSIONS, 2);
            g.us(tags::NUMBER_OF_GRAPHIC_POINTS, 5);
            g.put(fl(tags::GRAPHIC_DATA, &region.polyline()));
            g.text(tags::GRAPHIC_TYPE, VR::CS, "POLYLINE");
            g.text(tags::GRAPHIC_FILLED, VR::CS, "N");
            graphics.push(g);
            let mut t = Ds::new_empty();
            t.text(tags::ANCHOR_POINT_ANNOTATION_UNITS, VR::CS, "PIXEL");
            t.text(tags::UNFORMATTED_TEXT_VALUE, VR::ST, &caption(f));
            t.put(fl(tags::ANCHOR_POINT, &[region.x as f32, region.y as f32]));
            t.text(tags::ANCHOR_POINT_VISIBILITY, VR::CS, "N");
            texts.push(t);
        }
        let mut annotation = Ds::new_empty();
        annotation.seq(tags::REFERENCED_IMAGE_SEQUENCE, vec![image()]);
        annotation.text(tags::GRAPHIC_LAYER, VR::CS, LAYER);
        annotation.seq(tags::TEXT_OBJECT_SEQUENCE, texts);
        annotation.seq(tags::GRAPHIC_OBJECT_SEQUENCE, graphics);
        ds.seq(tags::GRAPHIC_ANNOTATION_SEQUENCE, vec![annotation]);
    }
    // Softcopy VOI LUT: the image's own first window, if it has one.
    if let Some(w) = src.header.windows.first() {
        let mut voi = Ds::new_empty();
        voi.seq(tags::REFERENCED_IMAGE_SEQUENCE, vec![image()]);
        voi.text(tags::WINDOW_CENTER, VR::DS, &format!("{}", w.center));
        voi.text(tags::WINDOW_WIDTH, VR::DS, &format!("{}", w.width));
        ds.seq(tags::SOFTCOPY_VOILUT_SEQUENCE, vec![voi]);
    }
    // Softcopy Presentation LUT: MONOCHROME1 images are shown inverted.
    let inverse = src.header.photometric.as_deref() == Some("MONOCHROME1");
    ds.text(
        tags::PRESENTATION_LUT_SHAPE,
        VR::CS,
        if inverse { "INVERSE" } else { "IDENTITY" },
    );
    let bytes = dataset::part10(ds, SOP_CLASS, &sop)?;
    Ok(ResultObject {
        kind: ObjectKind::Gsps,
        sop_class_uid: SOP_CLASS,
        sop_instance_uid: sop,
        series_instance_uid: series,
        bytes,
    })
}
