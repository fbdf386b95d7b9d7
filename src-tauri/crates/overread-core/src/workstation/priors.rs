//! The open study's priors, found on the worklist without asking, and each
//! finding compared with the newest one (its AI score and flag then, and what
//! the reader decided).

use super::reading::ai_hidden;
use super::view::{date, findings};
use super::{Workstation, WsResult, unknown};
use crate::api::{FindingView, PriorLine, PriorView, StudyId, StudyPriors, StudyView};
use crate::infer::Outcome;
use crate::priors::{PriorFinding, comparison, priors_of};

impl Workstation {
    /// The study's priors here (on the worklist, or here only as priors),
    /// newest first.
    pub(super) fn priors(&self, id: StudyId) -> Vec<StudyId> {
        let Some(current) = self.studies.get(id, |s| s.header.clone()) else {
            return Vec::new();
        };
        if current.patient_id.is_none() {
            return Vec::new();
        }
        let candidates = self.studies.map_with_priors(|s| {
            crate::priors::is_prior(&current, &s.header).then(|| (s.id, s.header.clone()))
        });
        let found = candidates.into_iter().flatten().collect::<Vec<_>>();
        priors_of(&current, found.iter().map(|(id, h)| (*id, h)))
    }

    /// Starts decoding the newest prior's image in the background, when it
    /// is here, so that comparison shows it at once. Called when a study's
    /// first image is asked for (the worklist's prefetch on selection, or
    /// opening); returns without waiting.
    pub(super) fn warm_newest_prior(&self, id: StudyId) {
        let Some(&newest) = self.priors(id).first() else {
            return;
        };
        if let Ok(file) = self.image_file(newest, 0) {
            self.images.warm((newest, 0), file);
        }
    }

    /// `view` with the study's priors and, per finding, the comparison with
    /// the newest prior.
    pub(super) fn with_priors(&self, id: StudyId, mut view: StudyView) -> StudyView {
        view.priors = self.compare(id, &mut view.findings);
        view
    }

    /// The study's priors as they stand and each finding's comparison line
    /// (none while read-first mode withholds the AI), without the network:
    /// what the viewer asks again when a prior changed.
    pub fn study_priors(&self, id: StudyId) -> WsResult<StudyPriors> {
        let read_first = self.settings.read(|s| s.read_first);
        let mut shown = self
            .studies
            .get(id, |s| {
                if ai_hidden(read_first, s) {
                    Vec::new()
                } else {
                    findings(s)
                }
            })
            .ok_or_else(|| unknown(id))?;
        let priors = self.compare(id, &mut shown);
        let lines = shown
            .into_iter()
            .filter_map(|f| {
                Some(PriorLine {
                    line: f.prior?,
                    finding: f.label,
                })
            })
            .collect();
        Ok(StudyPriors {
            priors,
            lines,
            problems: Vec::new(),
        })
    }

    /// The study's priors, and each of `shown`'s comparison with the newest
    /// one. One short read of the studies per step; nothing is held between
    /// them.
    fn compare(&self, id: StudyId, shown: &mut [FindingView]) -> Vec<PriorView> {
        let ids = self.priors(id);
        let priors = self.studies.map_ids(&ids, |s| PriorView {
            id: s.id,
            study_date: date(s.header.study_date.as_deref()),
            accession: s.header.accession_number.clone().unwrap_or_default(),
            availability: s.here.availability(),
            ai: s.ai.status(),
        });
        let Some(&newest) = ids.first() else {
            return priors;
        };
        let Some((when, prior_findings, decisions)) = self.studies.get(newest, |s| {
            let has_result = matches!(
                s.ai.outcome().map(|o| o.as_ref()),
                Some(Outcome::Inferred { .. })
            );
            (
                date(s.header.study_date.as_deref()),
                has_result.then(|| findings(s)),
                decided(s),
            )
        }) else {
            return priors;
        };
        for f in shown.iter_mut() {
            let ai = prior_findings
                .as_ref()
                .map(|list| list.iter().find(|p| p.label == f.label));
            let ai = match ai {
                Some(Some(p)) => Some((p.score, p.flagged)),
                _ => None,
            };
            let decision = decisions
                .iter()
                .rev()
                .find(|(finding, _, _)| *finding == f.label)
                .map(|(_, decision, reason)| (decision.as_str(), reason.as_deref()));
            f.prior = Some(comparison(
                &f.label,
                f.score,
                &PriorFinding {
                    date: &when,
                    ai,
                    decision,
                },
            ));
        }
        priors
    }
}

/// What readers decided on a study, finding by finding, oldest first: the
/// decisions read back from the PACS, then this workstation's own (so that
/// its own come last and win).
fn decided(s: &super::study::Study) -> Vec<(String, String, Option<String>)> {
    let earlier = s
        .earlier
        .iter()
        .map(|d| (d.finding.clone(), d.decision.clone(), d.reason.clone()));
    let own = s
        .reading
        .decisions
        .iter()
        .map(|d| (d.finding.clone(), d.decision.clone(), d.reason.clone()));
    earlier.chain(own).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::api::{DecisionRequest, Settings};
    use crate::triage::tests::fake_model;

    #[test]
    fn a_study_shows_its_priors_and_what_was_decided_on_the_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let studies = dir.path().join("studies");
        crate::demo::generate(&studies, 2, 128, 4).expect("phantoms");
        let series = crate::demo::generate_priors(&studies, 1, 128, 4).expect("priors");
        assert_eq!(series.len(), 3);
        let settings = Settings::demo(&studies, Path::new("unused-model"));
        let ws =
            Workstation::open(settings, &dir.path().join("audit.sqlite3"), None).expect("open");
        ws.run_triage_with(vec![fake_model()]);
        let by_accession = |acc: &str| {
            ws.worklist()
                .rows
                .into_iter()
                .find(|r| r.accession == acc)
                .map(|r| r.id)
                .expect("on the worklist")
        };
        let (oldest, middle, latest) = (
            by_accession("OVRPRI1011"),
            by_accession("OVRPRI1012"),
            by_accession("OVRPRI1013"),
        );
        ws.decide(
            middle,
            &DecisionRequest {
                finding: "opacity".into(),
                decision: "dismiss".into(),
                region: None,
                reason: Some("stable".into()),
                display_ms: None,
            },
        )
        .expect("decided");
        // Selecting the latest (the worklist's prefetch of its first image)
        // starts decoding its newest prior in the background.
        assert!(!ws.images.is_cached((middle, 0)));
        ws.pixels(latest, 0, true).expect("prefetched");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !ws.images.is_cached((middle, 0)) {
            assert!(
                std::time::Instant::now() < until,
                "the prior was not decoded"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(!ws.images.is_cached((oldest, 0)), "only the newest");
        let view = ws.open_study(latest).expect("open");
        // The latest study has a lateral, hung beside its frontal.
        let views: Vec<&str> = view.images.iter().map(|i| i.view.as_str()).collect();
        assert_eq!(views, ["PA", "LAT"]);
        assert_eq!(view.hanging.beside, Some(1));
        let priors: Vec<StudyId> = view.priors.iter().map(|p| p.id).collect();
        assert_eq!(
            priors,
            [middle, oldest],
            "newest first, other patients left out"
        );
        assert_eq!(view.priors[0].study_date, "2025-11-20");
        assert_eq!(
            view.findings[0].prior.as_deref(),
            Some("opacity 0.90 now; 0.90 on 2025-11-20, dismissed as stable")
        );
        // The oldest has no prior; another patient's study has none either.
        assert!(ws.open_study(oldest).expect("open").priors.is_empty());
        let other = by_accession("OVRDEMO00001");
        let view = ws.open_study(other).expect("open");
        assert!(view.priors.is_empty());
        assert!(view.findings.iter().all(|f| f.prior.is_none()));
    }
}
