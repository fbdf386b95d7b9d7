//! The IPC types of a study's images and how they hang: the thumbnails'
//! labels, which image the AI read and why it did not read the others,
//! and the viewing settings (two views side by side, the prior's side).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One image of the open study, in hanging order (index 0 is shown first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ImageRef {
    pub index: u32,
    pub sop_uid: String,
    /// PA, AP, LAT, else the recorded view or the series description.
    pub view: String,
    pub series_description: String,
    /// The study's AI findings, heatmaps and decisions belong to this image.
    pub ai: bool,
    /// Why the AI did not read this image (shown on it), when it did not.
    pub no_ai: Option<String>,
}

/// How the open study hangs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Hanging {
    /// The image hung beside the first (a lateral beside the frontal).
    pub beside: Option<u32>,
    /// In comparison, the prior hangs to the left of the current study.
    pub prior_left: bool,
}

/// Which side the prior hangs on in comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PriorSide {
    #[default]
    Left,
    Right,
}

/// The hanging protocol's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Viewing {
    /// A study with a frontal and a lateral view opens with both side by side.
    pub two_views: bool,
    pub prior_side: PriorSide,
}

impl Default for Viewing {
    fn default() -> Viewing {
        Viewing {
            two_views: true,
            prior_side: PriorSide::Left,
        }
    }
}
