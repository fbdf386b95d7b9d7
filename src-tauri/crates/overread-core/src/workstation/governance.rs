//! The audit screen's governance view: the governance report over this
//! workstation's log or the department store, and the report saved as one
//! HTML file.

use std::path::Path;

use overread_audit::EventKind;

use super::Workstation;
use super::WsResult;
use super::journal::Event;
use crate::api::{
    ApiError, ErrorCode, GovernanceFinding, GovernanceGroup, GovernanceModel, GovernanceRequest,
    GovernanceScope, GovernanceView,
};
use crate::governance::{self, Collected, GovernanceError, Options, Report, Window};

fn api_error(e: GovernanceError) -> ApiError {
    let code = match e.code() {
        "invalid_argument" => ErrorCode::InvalidArgument,
        "store" => ErrorCode::Store,
        "audit" => ErrorCode::Audit,
        _ => ErrorCode::Internal,
    };
    ApiError::new(code, e.to_string())
}

/// The report reduced to what the audit screen shows.
fn view(r: &Report) -> GovernanceView {
    let mut alerts: Vec<String> = r.drift_alerts.iter().map(|a| a.message.clone()).collect();
    alerts.extend(
        r.chain_alerts
            .iter()
            .map(|a| format!("chain refused by the store: {a}")),
    );
    GovernanceView {
        scope: r.scope.clone(),
        from: r.options.period.from.clone(),
        to: r.options.period.to.clone(),
        baseline_from: r.options.baseline.from.clone(),
        baseline_to: r.options.baseline.to.clone(),
        alerts,
        models: r
            .models
            .iter()
            .map(|m| GovernanceModel {
                name: m.model.name.clone(),
                version: m.model.version.clone(),
                sha256: m.model.sha256.clone(),
                images: m.images as f64,
                decisions: m.decisions as f64,
                ppv: m.overall.ppv,
                findings: m
                    .findings
                    .iter()
                    .map(|f| {
                        let drift = m.score_drift.iter().find(|d| d.finding == f.finding);
                        GovernanceFinding {
                            finding: f.finding.clone(),
                            images: f.images as f64,
                            flagged: f.flagged as f64,
                            flag_rate: f.flag_rate,
                            accepted: f.agreement.accepted as f64,
                            rejected: f.agreement.rejected as f64,
                            added: f.agreement.added as f64,
                            ppv: f.agreement.ppv,
                            median_ms: f.agreement.median_ms,
                            psi: drift.and_then(|d| d.psi),
                            ks_p: drift.and_then(|d| d.ks_p),
                            drift_alert: drift.is_some_and(|d| d.alert),
                            drift_note: drift.and_then(|d| d.note.clone()),
                            period_shares: drift
                                .map(|d| d.period_shares.clone())
                                .unwrap_or_default(),
                            baseline_shares: drift
                                .map(|d| d.baseline_shares.clone())
                                .unwrap_or_default(),
                        }
                    })
                    .collect(),
                readers: m
                    .readers
                    .iter()
                    .map(|g| GovernanceGroup {
                        key: g.key.clone(),
                        accepted: g.agreement.accepted as f64,
                        rejected: g.agreement.rejected as f64,
                        added: g.agreement.added as f64,
                        ppv: g.agreement.ppv,
                    })
                    .collect(),
                mix_alerts: m
                    .mix_drift
                    .iter()
                    .filter(|x| x.alert)
                    .map(|x| x.attribute.clone())
                    .collect(),
            })
            .collect(),
    }
}

impl Workstation {
    /// The rows of the request's period and its baseline, read from this
    /// log or the department store (which blocks on the network, each call
    /// bounded by the store's timeout).
    fn governance_rows(&self, request: &GovernanceRequest) -> WsResult<Collected> {
        let period = Window::new(&request.from, &request.to).map_err(api_error)?;
        let options = Options::new(period, None);
        match request.scope {
            GovernanceScope::Workstation => self.journal.governance(options),
            GovernanceScope::Department => {
                let conninfo = self
                    .settings
                    .read(|s| s.department_store.clone())
                    .ok_or_else(|| ApiError::invalid("no department store is set in Settings"))?;
                governance::from_store(&conninfo, options).map_err(api_error)
            }
        }
    }

    /// The governance view of a period.
    pub fn governance(&self, request: &GovernanceRequest) -> WsResult<GovernanceView> {
        Ok(view(&self.governance_rows(request)?.report()))
    }

    /// Saves the full governance report (one self-contained HTML file) to
    /// `path`, and records that the log was used for it.
    pub fn save_governance(&self, request: &GovernanceRequest, path: &Path) -> WsResult<String> {
        if !path.is_absolute() {
            return Err(ApiError::invalid("the report path must be absolute"));
        }
        if path.extension().and_then(|e| e.to_str()) != Some("html") {
            return Err(ApiError::invalid("the report file name must end in .html"));
        }
        if !path.parent().is_some_and(Path::is_dir) {
            return Err(ApiError::invalid("the report folder does not exist"));
        }
        let report = self.governance_rows(request)?.report();
        let html = governance::html::render(&report);
        governance::write_private(path, |out| std::io::Write::write_all(out, html.as_bytes()))
            .map_err(api_error)?;
        self.journal.record(Event {
            detail: serde_json::json!({
                "action": "governance report",
                "scope": report.scope,
                "from": request.from,
                "to": request.to,
            }),
            ..Event::new(EventKind::AuditLogUsed, Some(self.reader()))
        })?;
        Ok(path.display().to_string())
    }
}
