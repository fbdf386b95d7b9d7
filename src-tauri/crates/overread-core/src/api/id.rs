//! The study id the UI holds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ApiError, ErrorCode};

/// A study's handle for this session: `s` and a number (`s12`). The only
/// handle the UI has on a study; parsed once where it enters (commands and
/// the `overread://` scheme), so the core never sees a malformed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, TS)]
pub struct StudyId(#[ts(type = "string")] u32);

impl Serialize for StudyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StudyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StudyId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: ApiError| serde::de::Error::custom(e.message))
    }
}

impl StudyId {
    /// The largest id: six digits.
    const MAX: u32 = 999_999;

    /// The id of the `index`-th study (from 0); None past the largest id.
    pub fn from_index(index: usize) -> Option<StudyId> {
        u32::try_from(index + 1)
            .ok()
            .filter(|n| *n <= Self::MAX)
            .map(StudyId)
    }

    /// Where the study sits in the table it was numbered by.
    pub fn index(self) -> usize {
        self.0 as usize - 1
    }
}

impl fmt::Display for StudyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl FromStr for StudyId {
    type Err = ApiError;

    fn from_str(s: &str) -> Result<StudyId, ApiError> {
        let digits = s.strip_prefix('s').unwrap_or("");
        let n = if (1..=6).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse::<u32>().ok().filter(|n| *n > 0)
        } else {
            None
        };
        n.map(StudyId).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidArgument,
                format!("{s:?} is not a study id"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn study_ids_are_parsed_once_and_strictly() {
        let id: StudyId = "s12".parse().expect("valid");
        assert_eq!((id.to_string(), id.index()), ("s12".to_string(), 11));
        assert_eq!(serde_json::to_string(&id).expect("json"), "\"s12\"");
        for bad in ["", "s", "s0", "12", "s1234567", "s-1", "s1 ", "../x", "S1"] {
            let e = bad.parse::<StudyId>().expect_err(bad);
            assert_eq!(e.code, ErrorCode::InvalidArgument);
        }
        assert!(serde_json::from_str::<StudyId>("\"x\"").is_err());
        assert_eq!(StudyId::from_index(999_999), None);
    }
}
