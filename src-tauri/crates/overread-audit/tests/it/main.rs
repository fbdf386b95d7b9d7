//! The audit crate's one integration-test binary.

mod crash;
mod log;

use overread_audit::{AuditLog, Decision, DecisionEvent, ModelRef, OpenOptions, Reader, StudyRef};

pub fn options() -> OpenOptions {
    OpenOptions {
        key: None,
        app_version: "0.1.0-test".into(),
        anchor: None,
    }
}

pub fn open(path: &std::path::Path) -> AuditLog {
    AuditLog::open(path, &options()).expect("opens")
}

/// A valid decision on study `n` (synthetic identifiers).
pub fn decision(n: u64, decision: Decision) -> DecisionEvent {
    DecisionEvent {
        reader: Reader {
            id: format!("reader{}", n % 3),
            display_name: format!("Dr Phantom {}", n % 3),
            role: "radiologist".into(),
        },
        workstation_id: "ws-test-01".into(),
        study: StudyRef {
            patient_id: format!("OVR-PH-{n:04}"),
            accession_number: format!("ACC{n:05}"),
            study_uid: format!("2.25.{}1", n + 1),
            series_uid: format!("2.25.{}2", n + 1),
            sop_uid: format!("2.25.{}3", n + 1),
        },
        model: Some(ModelRef {
            name: "demo-opacity".into(),
            version: "1.0.0".into(),
            sha256: "ab".repeat(32),
        }),
        execution_provider: Some("cpu".into()),
        finding: if n.is_multiple_of(2) {
            "nodule".into()
        } else {
            "consolidation".into()
        },
        ai_score: Some(0.5 + (n % 50) as f64 / 100.0),
        threshold: Some(0.6),
        ai_flagged: decision != Decision::AddMissed,
        decision,
        region: (decision == Decision::AddMissed).then_some(overread_audit::Region {
            x: 10.0,
            y: 20.0,
            width: 30.0,
            height: 40.0,
        }),
        reason: None,
        display_to_decision_ms: Some(1000 + n * 10),
        supersedes: None,
    }
}
