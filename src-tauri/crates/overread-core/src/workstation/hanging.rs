//! The open study's images as the viewer's thumbnails show them: which
//! image the AI read, why it did not read each other one, and what hangs
//! beside the first.

use overread_infer::manifest::IntendedUse;

use super::study::{Ai, Study};
use crate::api::{Hanging, ImageRef, PriorSide, Viewing};
use crate::hanging::{self, StudyImage};
use crate::infer::{Outcome, study_info};

/// The study's images in hanging order. `hidden`: read-first mode withholds
/// the AI, including why it refused.
pub(crate) fn image_refs(s: &Study, intended: Option<&IntendedUse>, hidden: bool) -> Vec<ImageRef> {
    s.files
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let (ai, no_ai) = if i == 0 {
                first_image(&s.ai, hidden)
            } else {
                (false, Some(not_read(image, intended)))
            };
            ImageRef {
                index: i as u32,
                sop_uid: image.header.sop_instance_uid.clone().unwrap_or_default(),
                view: image.label.clone(),
                series_description: image.header.series_description.clone().unwrap_or_default(),
                ai,
                no_ai,
            }
        })
        .collect()
}

/// The first image is the one triage reads; it says why when it was refused.
fn first_image(ai: &Ai, hidden: bool) -> (bool, Option<String>) {
    match ai.outcome().map(|o| o.as_ref()) {
        Some(Outcome::Refused { reason }) if !hidden => (false, Some(reason.clone())),
        _ => (true, None),
    }
}

/// Why the AI did not read an image other than the first.
fn not_read(image: &StudyImage, intended: Option<&IntendedUse>) -> String {
    let Some(intended) = intended else {
        return "No AI on this image: no model is loaded".into();
    };
    match intended.refusal(&study_info(&image.header)) {
        Some(reason) => format!("No AI on this image: {reason}"),
        None => "No AI on this image: the AI reads the study's first frontal view".into(),
    }
}

/// How the study hangs under the viewing settings.
pub(crate) fn hanging(s: &Study, viewing: &Viewing) -> Hanging {
    Hanging {
        beside: if viewing.two_views {
            hanging::beside(&s.files).map(|i| i as u32)
        } else {
            None
        },
        prior_left: viewing.prior_side == PriorSide::Left,
    }
}
