//! What the UI is shown of a study, a model and an audit row: plain
//! mappings into the IPC types of [`crate::api`].

use std::time::{Duration, SystemTime};

use overread_infer::Model;

use super::reading::{ai_hidden, reading_status};
use super::study::Study;
use crate::api::{
    AiStatus, AuditEntry, FindingView, ImageGeometry, ModelView, Rect, ResultsState, ResultsView,
    StudyView, Threshold, Viewing, WindowPreset, WorklistRow,
};
use crate::infer::Outcome;
use crate::pixels::ViewerImage;
use overread_infer::manifest::IntendedUse;

/// PS3.5 DA → YYYY-MM-DD.
pub(crate) fn date(d: Option<&str>) -> String {
    match d.map(str::trim) {
        Some(d) if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
        }
        Some(d) => d.to_string(),
        None => String::new(),
    }
}

/// PS3.5 PN: family^given^middle^prefix^suffix → "FAMILY, Given".
pub(crate) fn person_name(pn: Option<&str>) -> String {
    let Some(pn) = pn else { return String::new() };
    let alphabetic = pn.split('=').next().unwrap_or("");
    let mut parts = alphabetic.split('^').map(str::trim);
    let family = parts.next().unwrap_or("");
    let given = parts.next().unwrap_or("");
    match (family.is_empty(), given.is_empty()) {
        (false, false) => format!("{}, {given}", family.to_uppercase()),
        (false, true) => family.to_uppercase(),
        (true, _) => given.to_string(),
    }
}

/// The AI's findings on a study (empty when it has no result).
pub(crate) fn findings(s: &Study) -> Vec<FindingView> {
    match s.ai.outcome().map(|o| o.as_ref()) {
        Some(Outcome::Inferred { inference, .. }) => inference
            .findings
            .iter()
            .map(|f| FindingView {
                label: f.label.clone(),
                score: f.score,
                threshold: f.threshold,
                flagged: f.flagged,
                region: f.bbox.map(|b| Rect {
                    x: b.x,
                    y: b.y,
                    width: b.width,
                    height: b.height,
                }),
                has_heatmap: inference.heatmaps.iter().any(|h| h.label == f.label),
                prior: None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The AI status a reader may see: in read-first mode a result is
/// withheld until the impression is recorded, so that neither the flag nor
/// the reading order gives it away.
fn shown_status(s: &Study, hidden: bool) -> AiStatus {
    match s.ai.status() {
        AiStatus::Flagged | AiStatus::NoFlags if hidden => AiStatus::Withheld,
        status => status,
    }
}

/// One worklist row; `cap` is the maximum wait.
pub(crate) fn worklist_row(
    s: &Study,
    now: SystemTime,
    cap: Duration,
    read_first: bool,
) -> WorklistRow {
    let h = &s.header;
    let waited = now.duration_since(s.arrived).unwrap_or_default();
    let hidden = ai_hidden(read_first, s);
    let top = if hidden {
        None
    } else {
        findings(s)
            .into_iter()
            .filter(|f| f.flagged)
            .max_by(|a, b| a.score.total_cmp(&b.score))
    };
    WorklistRow {
        id: s.id,
        patient_name: person_name(h.patient_name.as_deref()),
        patient_id: h.patient_id.clone().unwrap_or_default(),
        accession: h.accession_number.clone().unwrap_or_default(),
        study_date: date(h.study_date.as_deref()),
        modality: h.modality.clone().unwrap_or_default(),
        body_part: h.body_part.clone().unwrap_or_default(),
        view: h.view_position.clone().unwrap_or_default(),
        images: s.images,
        availability: s.here.availability(),
        availability_message: s.here.message(),
        ai: shown_status(s, hidden),
        ai_message: s.ai.message(),
        ai_hidden: hidden,
        top_finding: top.as_ref().map(|f| f.label.clone()),
        top_score: top.map(|f| f.score),
        reading: reading_status(s),
        source: s.source.clone(),
        results: results_view(s),
        can_sign_off: !hidden && super::reading::sign_off_refusal(s).is_none(),
        waited_minutes: waited.as_secs_f64() / 60.0,
        overdue: waited >= cap,
        claim: None,
    }
}

/// What a study's view depends on besides the study: the loaded model and
/// the settings that change what is shown.
pub(crate) struct ViewContext {
    pub model: Option<ModelView>,
    pub intended: Option<IntendedUse>,
    pub read_first: bool,
    pub viewing: Viewing,
}

/// What the viewer shows of a study, the AI withheld when hidden.
pub(crate) fn study_view(s: &Study, image: &ViewerImage, ctx: ViewContext) -> StudyView {
    let h = &s.header;
    let hidden = ai_hidden(ctx.read_first, s);
    StudyView {
        id: s.id,
        patient_name: person_name(h.patient_name.as_deref()),
        patient_id: h.patient_id.clone().unwrap_or_default(),
        patient_sex: h.patient_sex.clone().unwrap_or_default(),
        patient_age: h.patient_age.clone().unwrap_or_default(),
        accession: h.accession_number.clone().unwrap_or_default(),
        study_date: date(h.study_date.as_deref()),
        study_description: h.study_description.clone().unwrap_or_default(),
        modality: h.modality.clone().unwrap_or_default(),
        body_part: h.body_part.clone().unwrap_or_default(),
        view: h.view_position.clone().unwrap_or_default(),
        manufacturer: h.manufacturer.clone().unwrap_or_default(),
        transfer_syntax: h.transfer_syntax_name.to_string(),
        image: geometry(image),
        availability: s.here.availability(),
        availability_message: s.here.message(),
        ai: shown_status(s, hidden),
        ai_message: if hidden { None } else { s.ai.message() },
        ai_hidden: hidden,
        model: if hidden { None } else { ctx.model },
        findings: if hidden { Vec::new() } else { findings(s) },
        decisions: s.reading.decisions.clone(),
        impression_recorded: s.reading.impression_recorded,
        can_sign_off: !hidden && super::reading::sign_off_refusal(s).is_none(),
        results: results_view(s),
        priors: Vec::new(),
        images: super::hanging::image_refs(s, ctx.intended.as_ref(), hidden),
        hanging: super::hanging::hanging(s, &ctx.viewing),
    }
}

/// Where a study's signed-off results stand.
pub(crate) fn results_view(s: &Study) -> ResultsView {
    let r = &s.reading;
    let (state, message) = match r.signoffs.last() {
        None => (ResultsState::None, None),
        Some(key) if r.stored.contains(key) => (ResultsState::Sent, None),
        Some(_) => match &r.results_problem {
            Some(why) => (ResultsState::Failed, Some(why.clone())),
            None => (ResultsState::Queued, None),
        },
    };
    ResultsView {
        state,
        message,
        signed_off: r.signoffs.len() as u32,
    }
}

pub(crate) fn geometry(image: &ViewerImage) -> ImageGeometry {
    ImageGeometry {
        width: image.width,
        height: image.height,
        offset: image.offset,
        scale: image.scale,
        invert: image.invert,
        windows: image
            .windows
            .iter()
            .map(|(name, c, w)| WindowPreset {
                name: name.clone(),
                center: *c,
                width: *w,
            })
            .collect(),
        pixel_spacing: image.spacing.map(|s| [s.row, s.col]),
        spacing_at_detector: image.spacing.is_some_and(|s| s.at_detector),
        preview_width: image.preview_width,
        preview_height: image.preview_height,
    }
}

/// The model as Settings and the findings panel show it, with this
/// site's use of it.
pub(crate) fn model_view(m: &Model, go_live: crate::site::GoLive) -> ModelView {
    let man = &m.manifest;
    ModelView {
        name: man.name.clone(),
        version: man.version.clone(),
        sha256: man.sha256.to_ascii_lowercase(),
        licence: man.licence.clone(),
        clinical: man.clinical,
        go_live,
        description: man.description.clone(),
        execution_provider: m.execution_provider().to_string(),
        fallback: m.fallback.clone(),
        labels: man.output.scores.labels.clone(),
        thresholds: man
            .output
            .scores
            .labels
            .iter()
            .map(|label| Threshold {
                label: label.clone(),
                threshold: m.threshold(label),
                set_here: m.site_use().thresholds.contains_key(label),
            })
            .collect(),
        intended_use: crate::models::intended_use(&man.intended_use),
    }
}

/// A row of the audit screen.
pub(crate) fn audit_entry(r: &overread_audit::Record) -> AuditEntry {
    let d = r.decision.as_ref();
    AuditEntry {
        seq: r.seq as f64,
        recorded_at: r.recorded_at.clone(),
        kind: r.kind.as_str().to_string(),
        reader: r.reader.as_ref().map(|x| x.id.clone()).unwrap_or_default(),
        patient_id: r
            .study
            .as_ref()
            .map(|s| s.patient_id.clone())
            .unwrap_or_default(),
        accession: r
            .study
            .as_ref()
            .map(|s| s.accession_number.clone())
            .unwrap_or_default(),
        finding: d.map(|d| d.finding.clone()).unwrap_or_default(),
        decision: d
            .map(|d| d.decision.as_str().to_string())
            .unwrap_or_default(),
        ai_score: d.and_then(|d| d.ai_score),
        model: r
            .model
            .as_ref()
            .map(|m| format!("{} {}", m.name, m.version).trim().to_string())
            .unwrap_or_default(),
        execution_provider: r.execution_provider.clone().unwrap_or_default(),
        row_hash: r.row_hash.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_dates_for_display() {
        assert_eq!(person_name(Some("DOE^JANE^^DR")), "DOE, JANE");
        assert_eq!(person_name(Some("Doe^Jane=ドウ^ジェーン")), "DOE, Jane");
        assert_eq!(person_name(None), "");
        assert_eq!(date(Some("20261129")), "2026-11-29");
    }
}
