//! The worklist's reading order.

use crate::api::{AiStatus, Availability, ReadingStatus, WorklistRow};

/// Reading order: unread before read; among unread, studies past the
/// maximum wait first (oldest first), then AI-flagged by score, then those
/// the AI could not help with (a human must look at what it could not), then
/// the rest in arrival order. Priority never hides a study for ever.
/// Unread studies another reader is reading (a department store's claim)
/// come after every unread study this reader may take next; those another
/// reader finished count as read.
pub fn order(rows: &mut [WorklistRow]) {
    fn rank(r: &WorklistRow) -> (u8, u8) {
        let other = r.claim.as_ref().filter(|c| !c.mine);
        let done = if r.reading == ReadingStatus::Read || other.is_some_and(|c| c.done) {
            2
        } else {
            u8::from(other.is_some())
        };
        let bucket = if r.overdue {
            0
        } else if r.ai == AiStatus::Flagged {
            1
        } else if matches!(r.ai, AiStatus::Error | AiStatus::Refused)
            || r.availability == Availability::Partial
        {
            2
        } else {
            3
        };
        (done, bucket)
    }
    rows.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then_with(|| {
                if a.overdue && b.overdue {
                    b.waited_minutes.total_cmp(&a.waited_minutes)
                } else {
                    b.top_score
                        .unwrap_or(0.0)
                        .total_cmp(&a.top_score.unwrap_or(0.0))
                }
            })
            .then_with(|| b.waited_minutes.total_cmp(&a.waited_minutes))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::StudyId;

    fn row(id: &str, ai: AiStatus, score: Option<f32>, waited: f64, cap: f64) -> WorklistRow {
        WorklistRow {
            id: id.parse::<StudyId>().expect("id"),
            patient_name: String::new(),
            patient_id: String::new(),
            accession: String::new(),
            study_date: String::new(),
            modality: String::new(),
            body_part: String::new(),
            view: String::new(),
            images: 1,
            availability: Availability::Available,
            availability_message: None,
            ai,
            ai_message: None,
            ai_hidden: false,
            top_finding: None,
            top_score: score,
            reading: ReadingStatus::Unread,
            source: "local".into(),
            results: crate::api::ResultsView {
                state: crate::api::ResultsState::None,
                message: None,
                signed_off: 0,
            },
            can_sign_off: false,
            waited_minutes: waited,
            overdue: waited >= cap,
            claim: None,
        }
    }

    #[test]
    fn reading_order_is_ai_priority_with_a_maximum_wait() {
        let mut rows = vec![
            row("s1", AiStatus::NoFlags, None, 200.0, 120.0),
            row("s2", AiStatus::Flagged, Some(0.7), 5.0, 120.0),
            row("s3", AiStatus::Flagged, Some(0.9), 1.0, 120.0),
            row("s4", AiStatus::NoFlags, None, 10.0, 120.0),
            row("s5", AiStatus::Refused, None, 3.0, 120.0),
            row("s6", AiStatus::NoFlags, None, 300.0, 120.0),
        ];
        rows[3].reading = ReadingStatus::Read;
        order(&mut rows);
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        // Overdue (oldest first), flagged by score, refused, the rest, read last.
        assert_eq!(ids, ["s6", "s1", "s3", "s2", "s5", "s4"]);

        // Another reader's study leaves "next" (before the read ones);
        // one this workstation holds stays where it was.
        let claim = |mine, done| {
            Some(crate::api::ClaimView {
                reader: "Dr B".into(),
                workstation: "ws-b".into(),
                mine,
                since: "2026-12-04T10:00:00Z".into(),
                done,
            })
        };
        rows[0].claim = claim(false, false);
        rows[2].claim = claim(true, false);
        rows[3].claim = claim(false, true);
        order(&mut rows);
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        assert_eq!(ids, ["s1", "s3", "s5", "s6", "s2", "s4"]);
    }
}
