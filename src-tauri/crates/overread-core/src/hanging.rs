//! A study's images in hanging order, each with the label the viewer shows
//! on its thumbnail: frontal views first (the first is the one shown on
//! opening and the one the AI reads), then images whose view is not
//! recorded, then laterals; within each, by series and instance number.

use std::path::PathBuf;

use overread_dicom::Header;

/// What kind of view an image is, for hanging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViewKind {
    /// PA or AP.
    Frontal,
    /// Neither recorded nor recognisable from the series description.
    Other,
    /// Left or right lateral.
    Lateral,
}

/// One image of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyImage {
    pub path: PathBuf,
    pub header: Header,
    pub kind: ViewKind,
    /// "PA", "AP", "LAT", else the recorded view or the series description.
    pub label: String,
}

impl StudyImage {
    pub fn new(path: PathBuf, header: Header) -> StudyImage {
        let (kind, label) = view_of(&header);
        StudyImage {
            path,
            header,
            kind,
            label,
        }
    }
}

/// The kind and label of an image, from View Position, else the words of
/// its series description ("PA", "AP", "LAT", "LATERAL").
pub fn view_of(h: &Header) -> (ViewKind, String) {
    let view = h.view_position.as_deref().map(str::trim).unwrap_or("");
    match view.to_ascii_uppercase().as_str() {
        "PA" => return (ViewKind::Frontal, "PA".into()),
        "AP" => return (ViewKind::Frontal, "AP".into()),
        "LL" | "RL" | "LAT" | "LATERAL" => return (ViewKind::Lateral, "LAT".into()),
        _ => {}
    }
    let description = h.series_description.as_deref().map(str::trim).unwrap_or("");
    let words: Vec<String> = description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::to_ascii_uppercase)
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    if has("LAT") || has("LATERAL") {
        (ViewKind::Lateral, "LAT".into())
    } else if has("PA") {
        (ViewKind::Frontal, "PA".into())
    } else if has("AP") {
        (ViewKind::Frontal, "AP".into())
    } else if !view.is_empty() {
        (ViewKind::Other, view.into())
    } else if !description.is_empty() {
        (ViewKind::Other, description.chars().take(16).collect())
    } else {
        (ViewKind::Other, "IMAGE".into())
    }
}

/// Sorts a study's images into hanging order.
pub fn hang(images: &mut [StudyImage]) {
    images.sort_by_key(|i| {
        (
            i.kind,
            i.header.series_number.unwrap_or(i64::MAX),
            i.header.instance_number.unwrap_or(i64::MAX),
            i.header.sop_instance_uid.clone(),
        )
    });
}

/// The image hung beside the first when a study has two views: its first
/// lateral, when the first image is a frontal view.
pub fn beside(images: &[StudyImage]) -> Option<usize> {
    if images.first()?.kind != ViewKind::Frontal {
        return None;
    }
    images.iter().position(|i| i.kind == ViewKind::Lateral)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(view: Option<&str>, description: Option<&str>, series: i64) -> StudyImage {
        StudyImage::new(
            PathBuf::from(format!("{series}.dcm")),
            Header {
                view_position: view.map(Into::into),
                series_description: description.map(Into::into),
                series_number: Some(series),
                sop_instance_uid: Some(format!("2.25.{series}")),
                ..Header::default()
            },
        )
    }

    #[test]
    fn views_from_view_position_then_the_series_description() {
        let label = |v, d| {
            let i = image(v, d, 1);
            (i.kind, i.label)
        };
        assert_eq!(label(Some("PA"), None), (ViewKind::Frontal, "PA".into()));
        assert_eq!(label(Some("ap "), None), (ViewKind::Frontal, "AP".into()));
        assert_eq!(label(Some("LL"), None), (ViewKind::Lateral, "LAT".into()));
        assert_eq!(label(Some("RL"), None), (ViewKind::Lateral, "LAT".into()));
        assert_eq!(
            label(None, Some("Chest Lat")),
            (ViewKind::Lateral, "LAT".into())
        );
        assert_eq!(
            label(None, Some("CHEST PA ERECT")),
            (ViewKind::Frontal, "PA".into())
        );
        // "PAEDIATRIC" is not the word PA.
        assert_eq!(
            label(None, Some("PAEDIATRIC")),
            (ViewKind::Other, "PAEDIATRIC".into())
        );
        assert_eq!(label(Some("LLD"), None), (ViewKind::Other, "LLD".into()));
        assert_eq!(label(None, None), (ViewKind::Other, "IMAGE".into()));
    }

    #[test]
    fn frontal_first_then_unknown_then_lateral_and_the_lateral_hangs_beside() {
        let mut images = vec![
            image(Some("LL"), None, 1),
            image(None, None, 4),
            image(Some("AP"), None, 3),
            image(Some("PA"), None, 2),
        ];
        hang(&mut images);
        let labels: Vec<&str> = images.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(labels, ["PA", "AP", "IMAGE", "LAT"]);
        assert_eq!(beside(&images), Some(3));
        // A lateral alone, or a study without a frontal, hangs nothing beside.
        assert_eq!(beside(&images[3..]), None);
        assert_eq!(beside(&images[2..]), None);
        assert_eq!(beside(&images[..2]), None);
    }
}
