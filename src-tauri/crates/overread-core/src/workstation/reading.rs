//! The reading rules: when the AI is hidden from the reader, where a study
//! stands with the reader, what a decision records. Pure functions over a
//! study; the one place each rule is decided.

use overread_audit::{Decision, DecisionEvent, ModelRef, Reader, Region, StudyRef};
use overread_dicom::Header;

use super::study::Study;
use crate::api::{ApiError, DecisionRequest, DecisionView, ErrorCode, ReadingStatus, Rect};
use crate::infer::Outcome;

/// Read-first mode: the AI stays hidden on a study until the reader's
/// unaided impression of it is recorded. The only place this is decided;
/// the worklist, the viewer, heatmaps and decisions all ask here, and the UI
/// receives the answer as `ai_hidden`.
pub(crate) fn ai_hidden(read_first: bool, s: &Study) -> bool {
    read_first && !s.reading.impression_recorded
}

/// Every AI finding decided: read; some: in progress; none: unread.
pub(crate) fn reading_status(s: &Study) -> ReadingStatus {
    if s.reading.decisions.is_empty() {
        return ReadingStatus::Unread;
    }
    let flagged: Vec<&str> = match s.ai.outcome().map(|o| o.as_ref()) {
        Some(Outcome::Inferred { inference, .. }) => inference
            .findings
            .iter()
            .filter(|f| f.flagged)
            .map(|f| f.label.as_str())
            .collect(),
        _ => Vec::new(),
    };
    if flagged
        .iter()
        .all(|l| s.reading.decisions.iter().any(|d| d.finding == *l))
    {
        ReadingStatus::Read
    } else {
        ReadingStatus::InProgress
    }
}

/// Why a study cannot be signed off yet; None when it can: it has an AI
/// result and every flagged finding has a decision.
pub(crate) fn sign_off_refusal(s: &Study) -> Option<&'static str> {
    match s.ai.outcome().map(|o| o.as_ref()) {
        Some(Outcome::Inferred { .. }) => {}
        Some(Outcome::Refused { .. }) => {
            return Some("the model refused this study: there are no AI results to sign off");
        }
        None => return Some("this study has no AI result yet"),
    }
    flagged_undecided(s).then_some("decide every flagged finding before signing off")
}

fn flagged_undecided(s: &Study) -> bool {
    match s.ai.outcome().map(|o| o.as_ref()) {
        Some(Outcome::Inferred { inference, .. }) => inference
            .findings
            .iter()
            .filter(|f| f.flagged)
            .any(|f| !s.reading.decisions.iter().any(|d| d.finding == f.label)),
        _ => false,
    }
}

/// What an audit row names about a study; None when its file lacks a UID.
pub(crate) fn study_ref(h: &Header) -> Option<StudyRef> {
    Some(StudyRef {
        patient_id: h
            .patient_id
            .clone()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "UNKNOWN".into()),
        accession_number: h.accession_number.clone().unwrap_or_default(),
        study_uid: h.study_instance_uid.clone()?,
        series_uid: h.series_instance_uid.clone()?,
        sop_uid: h.sop_instance_uid.clone()?,
    })
}

pub(crate) fn invalid_study() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidStudy,
        "the study lacks the UIDs an audit row needs",
    )
}

/// The audit row for a reader's decision on a study: the model, score,
/// threshold, flag and provider come from the study's triage result, never
/// from the UI. Checks the request against the study and read-first mode.
pub(crate) fn decision_event(
    s: &Study,
    request: &DecisionRequest,
    reader: Reader,
    workstation_id: String,
    read_first: bool,
) -> Result<DecisionEvent, ApiError> {
    // The model that produced the result decided on, never the one loaded now.
    let model: Option<ModelRef> = s.ai.model().cloned();
    let decision =
        Decision::parse(&request.decision).map_err(|e| ApiError::invalid(e.to_string()))?;
    let finding_label = request.finding.trim();
    if finding_label.is_empty() || finding_label.chars().count() > 64 {
        return Err(ApiError::invalid("finding must be 1 to 64 characters"));
    }
    let study = study_ref(&s.header).ok_or_else(invalid_study)?;
    if ai_hidden(read_first, s) && decision != Decision::AddMissed {
        return Err(ApiError::new(
            ErrorCode::ImpressionRequired,
            "record your unaided impression before deciding on AI findings",
        ));
    }
    let inference = match s.ai.outcome().map(|o| o.as_ref()) {
        Some(Outcome::Inferred { inference, .. }) => Some(inference),
        _ => None,
    };
    let finding = inference.and_then(|i| i.findings.iter().find(|f| f.label == finding_label));
    if decision != Decision::AddMissed && finding.is_none() {
        return Err(ApiError::new(
            ErrorCode::UnknownFinding,
            format!("the AI reported no finding {finding_label:?} on this study"),
        ));
    }
    let region = request.region.map(|r| Region {
        x: r.x,
        y: r.y,
        width: r.width,
        height: r.height,
    });
    if let Some(r) = &region {
        let (w, h) = (
            f64::from(s.header.cols.unwrap_or(0)),
            f64::from(s.header.rows.unwrap_or(0)),
        );
        if r.x + r.width > w || r.y + r.height > h {
            return Err(ApiError::invalid("the region lies outside the image"));
        }
    }
    Ok(DecisionEvent {
        reader,
        workstation_id,
        study,
        model: if decision == Decision::AddMissed && finding.is_none() {
            None
        } else {
            model
        },
        execution_provider: inference.map(|i| i.execution_provider.clone()),
        finding: finding_label.to_string(),
        ai_score: finding.map(|f| f64::from(f.score)),
        threshold: finding.map(|f| f64::from(f.threshold)),
        ai_flagged: decision != Decision::AddMissed && finding.is_some_and(|f| f.flagged),
        decision,
        region,
        reason: request
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        display_to_decision_ms: request
            .display_ms
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| ms.round() as u64),
        supersedes: (decision != Decision::AddMissed)
            .then(|| {
                s.reading
                    .decisions
                    .iter()
                    .rev()
                    .find(|d| d.finding == finding_label)
                    .map(|d| d.seq as u64)
            })
            .flatten(),
    })
}

/// A recorded decision as the viewer shows it.
pub(crate) fn decision_view(record: &overread_audit::Record) -> Option<DecisionView> {
    let d = record.decision.as_ref()?;
    Some(DecisionView {
        seq: record.seq as f64,
        finding: d.finding.clone(),
        decision: d.decision.as_str().to_string(),
        region: d.region.map(|r| Rect {
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        }),
        reason: d.reason.clone(),
        recorded_at: record.recorded_at.clone(),
        row_hash: record.row_hash.clone(),
    })
}

/// Checks an unaided impression before it is recorded.
pub(crate) fn check_impression(impression: &str, findings: &[String]) -> Result<(), ApiError> {
    if !matches!(impression, "normal" | "abnormal") {
        return Err(ApiError::invalid("impression must be normal or abnormal"));
    }
    if findings.len() > 64 || findings.iter().any(|f| f.chars().count() > 64) {
        return Err(ApiError::invalid("too many or too long finding names"));
    }
    Ok(())
}
