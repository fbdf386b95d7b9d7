//! Priors: a patient's earlier chest radiographs, found without asking, and
//! what the AI and the reader said on them, finding by finding. A nodule
//! unchanged for two years is dismissed; a new one is not.

use overread_dicom::Header;

/// Whether `other` is a prior of `current`: the same patient (Patient ID),
/// another study, an earlier study date, a chest radiograph (CR or DX;
/// body part CHEST when it says). Studies without a Patient ID or a date
/// are nobody's prior.
pub fn is_prior(current: &Header, other: &Header) -> bool {
    let id = |h: &Header| {
        h.patient_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
    };
    let date = |h: &Header| {
        h.study_date
            .as_deref()
            .map(str::trim)
            .filter(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
    };
    let chest_radiograph = matches!(other.modality.as_deref(), Some("CR" | "DX"))
        && other
            .body_part
            .as_deref()
            .is_none_or(|b| b.trim().eq_ignore_ascii_case("CHEST"));
    match (id(current), id(other), date(current), date(other)) {
        (Some(a), Some(b), Some(now), Some(then)) => {
            a == b
                && then < now
                && chest_radiograph
                && other.study_instance_uid.is_some()
                && other.study_instance_uid != current.study_instance_uid
        }
        _ => false,
    }
}

/// The priors among `others`, newest first (then by Study Instance UID, so
/// the order is stable).
pub fn priors_of<'a, K: Copy>(
    current: &Header,
    others: impl IntoIterator<Item = (K, &'a Header)>,
) -> Vec<K> {
    let mut found: Vec<(K, &Header)> = others
        .into_iter()
        .filter(|(_, h)| is_prior(current, h))
        .collect();
    found.sort_by(|(_, a), (_, b)| {
        b.study_date
            .cmp(&a.study_date)
            .then_with(|| a.study_instance_uid.cmp(&b.study_instance_uid))
    });
    found.into_iter().map(|(k, _)| k).collect()
}

/// What was said of one finding on a prior.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorFinding<'a> {
    /// The prior's study date, YYYY-MM-DD.
    pub date: &'a str,
    /// The AI's score and flag on the prior, when it has a result.
    pub ai: Option<(f32, bool)>,
    /// The reader's latest decision on it then (confirm, dismiss,
    /// add_missed) and the reason given.
    pub decision: Option<(&'a str, Option<&'a str>)>,
}

/// One line for the findings panel: "nodule 0.82 now; 0.79 on 2025-03-01,
/// dismissed as stable".
pub fn comparison(label: &str, score_now: f32, prior: &PriorFinding<'_>) -> String {
    let label = label.replace('_', " ");
    let then = match prior.ai {
        Some((score, _)) => format!("{score:.2} on {}", prior.date),
        None => format!("no AI result on {}", prior.date),
    };
    let said = match prior.decision {
        Some(("confirm", _)) => "confirmed".to_string(),
        Some(("dismiss", Some(reason))) if !reason.trim().is_empty() => {
            format!("dismissed as {}", reason.trim())
        }
        Some(("dismiss", _)) => "dismissed".to_string(),
        Some((_, _)) => "added by the reader".to_string(),
        None => match prior.ai {
            Some((_, true)) => "flagged, not decided".to_string(),
            Some((_, false)) => "not flagged".to_string(),
            None => "not read".to_string(),
        },
    };
    format!("{label} {score_now:.2} now; {then}, {said}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(patient: &str, date: &str, uid: &str) -> Header {
        Header {
            patient_id: Some(patient.into()),
            study_date: Some(date.into()),
            study_instance_uid: Some(uid.into()),
            modality: Some("CR".into()),
            body_part: Some("CHEST".into()),
            ..Header::default()
        }
    }

    #[test]
    fn priors_are_the_same_patients_earlier_chest_radiographs_newest_first() {
        let current = header("P1", "20261104", "2.25.10");
        let others = [
            header("P1", "20241104", "2.25.1"),
            header("P1", "20251104", "2.25.2"),
            header("P2", "20251104", "2.25.3"), // another patient
            header("P1", "20270101", "2.25.4"), // later
            header("P1", "20261104", "2.25.5"), // the same day
            Header {
                modality: Some("CT".into()),
                ..header("P1", "20230101", "2.25.6")
            },
            Header {
                body_part: Some("KNEE".into()),
                ..header("P1", "20230101", "2.25.7")
            },
            Header {
                body_part: None,
                modality: Some("DX".into()),
                ..header("P1", "20220101", "2.25.8")
            },
            header("P1", "20261104", "2.25.10"), // itself
            header(" ", "20200101", "2.25.9"),   // no patient id
        ];
        let found = priors_of(&current, others.iter().enumerate());
        assert_eq!(found, [1, 0, 7]);
        let nobody = Header {
            patient_id: None,
            ..current.clone()
        };
        assert!(priors_of(&nobody, others.iter().enumerate()).is_empty());
    }

    #[test]
    fn the_comparison_says_what_was_seen_and_decided_then() {
        let dismissed = PriorFinding {
            date: "2025-03-01",
            ai: Some((0.79, true)),
            decision: Some(("dismiss", Some("stable"))),
        };
        assert_eq!(
            comparison("nodule", 0.82, &dismissed),
            "nodule 0.82 now; 0.79 on 2025-03-01, dismissed as stable"
        );
        let undecided = PriorFinding {
            decision: None,
            ..dismissed.clone()
        };
        assert_eq!(
            comparison("lung_opacity", 0.82, &undecided),
            "lung opacity 0.82 now; 0.79 on 2025-03-01, flagged, not decided"
        );
        let below = PriorFinding {
            ai: Some((0.12, false)),
            decision: None,
            ..dismissed.clone()
        };
        assert!(comparison("nodule", 0.6, &below).ends_with("0.12 on 2025-03-01, not flagged"));
        let confirmed = PriorFinding {
            decision: Some(("confirm", None)),
            ..dismissed.clone()
        };
        assert!(comparison("nodule", 0.6, &confirmed).ends_with(", confirmed"));
        let no_ai = PriorFinding {
            ai: None,
            decision: None,
            ..dismissed
        };
        assert_eq!(
            comparison("nodule", 0.6, &no_ai),
            "nodule 0.60 now; no AI result on 2025-03-01, not read"
        );
    }
}
