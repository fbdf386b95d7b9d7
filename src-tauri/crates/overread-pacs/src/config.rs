//! The PACS configuration file (TOML): named sources and the cache.
//!
//! ```toml
//! [cache]
//! dir = "/var/cache/overread"     # optional; the caller's default otherwise
//! max_bytes = 20_000_000_000
//!
//! [[source]]
//! name = "pacs-web"
//! kind = "dicomweb"
//! url = "https://pacs.example.org/dicom-web"
//! auth = "basic"                  # none | basic | bearer
//! username = "reader"
//! password_env = "PACS_PASSWORD"  # secrets come from the environment
//! ca_bundle = "/etc/overread/ca.pem"
//!
//! [[source]]
//! name = "pacs-dimse"
//! kind = "dimse"
//! host = "127.0.0.1"
//! port = 4242
//! called_ae = "ORTHANC"
//! calling_ae = "OVERREAD"
//! retrieve = "move"               # get (default) | move
//! # C-MOVE sends to our own storage SCP, listening only during a retrieve;
//! # the PACS must know this AE title, address and port.
//! storage_scp = { port = 11112, bind = "0.0.0.0", ae_title = "OVERREAD" }
//!
//! [[source]]
//! name = "pacs-dimse-tls"
//! kind = "dimse"
//! host = "pacs.example.org"
//! port = 2762
//! called_ae = "PACS"
//! # DICOM TLS: the PACS's certificate is checked against this bundle.
//! tls = { ca_bundle = "/etc/overread/pacs-ca.pem" }
//! ```

use crate::error::{ConfigSnafu, Error, ReadConfigSnafu, Result};
use serde::Deserialize;
use snafu::ResultExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacsConfig {
    #[serde(default)]
    pub cache: CacheConfig,
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    pub dir: Option<PathBuf>,
    #[serde(default = "default_cache_bytes")]
    pub max_bytes: u64,
    /// Bytes one study may take (a chest radiograph study is tens of MB).
    #[serde(default = "default_study_bytes")]
    pub max_study_bytes: u64,
    /// Instances one study may list.
    #[serde(default = "default_study_instances")]
    pub max_study_instances: usize,
    /// Free space kept on the disks holding the cache and the audit log:
    /// retrieval stops before they fall below it.
    #[serde(default = "default_min_free")]
    pub min_free_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            dir: None,
            max_bytes: default_cache_bytes(),
            max_study_bytes: default_study_bytes(),
            max_study_instances: default_study_instances(),
            min_free_bytes: default_min_free(),
        }
    }
}

fn default_study_bytes() -> u64 {
    2_000_000_000
}

fn default_study_instances() -> usize {
    500
}

fn default_min_free() -> u64 {
    1_000_000_000
}

fn default_cache_bytes() -> u64 {
    20_000_000_000
}

// No deny_unknown_fields here: serde cannot combine it with `flatten`.
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    pub name: String,
    #[serde(flatten)]
    pub kind: SourceKind,
    #[serde(default)]
    pub timeouts: Timeouts,
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// What this source puts on the worklist.
    #[serde(default)]
    pub worklist: WorklistQuery,
}

fn default_retries() -> u32 {
    4
}

/// The studies a source puts on the worklist: by default today's CR and DX.
///
/// ```toml
/// [source.worklist]
/// enabled = true
/// modalities = ["CR", "DX"]
/// days = 1        # today; 2 = today and yesterday, …
/// limit = 500
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorklistQuery {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_modalities")]
    pub modalities: Vec<String>,
    #[serde(default = "one")]
    pub days: u32,
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_limit() -> u32 {
    500
}
fn default_modalities() -> Vec<String> {
    vec!["CR".into(), "DX".into()]
}

impl Default for WorklistQuery {
    fn default() -> Self {
        WorklistQuery {
            enabled: true,
            modalities: default_modalities(),
            days: 1,
            limit: default_limit(),
        }
    }
}

impl WorklistQuery {
    /// The study search this describes, for today's date.
    pub fn query(&self) -> crate::StudyQuery {
        let today = crate::query::date_days_ago(0);
        let first = crate::query::date_days_ago(self.days.saturating_sub(1));
        crate::StudyQuery {
            study_date: Some(if first == today {
                today
            } else {
                format!("{first}-{today}")
            }),
            modalities: self.modalities.clone(),
            limit: Some(self.limit),
            ..crate::StudyQuery::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceKind {
    Dicomweb(DicomWebSource),
    Dimse(DimseSource),
}

#[derive(Debug, Clone, Deserialize)]
pub struct DicomWebSource {
    pub url: String,
    #[serde(default)]
    pub auth: AuthKind,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub token_env: Option<String>,
    pub ca_bundle: Option<PathBuf>,
    /// Send Basic or Bearer credentials over plain `http://` (they travel
    /// in clear text); refused unless set, and warned about when set.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    #[default]
    None,
    Basic,
    Bearer,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DimseSource {
    pub host: String,
    pub port: u16,
    pub called_ae: String,
    #[serde(default = "default_ae")]
    pub calling_ae: String,
    #[serde(default)]
    pub retrieve: DimseRetrieve,
    pub storage_scp: Option<StorageScp>,
    /// DICOM TLS (PS3.15 B.1, the TLS secure transport profile) to the PACS.
    pub tls: Option<DimseTls>,
}

/// DICOM TLS to a DIMSE source: the PACS's certificate is checked against
/// `ca_bundle` (no switch turns that off); a client certificate is sent when
/// the PACS requires one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimseTls {
    /// PEM file of the certificate authorities that sign the PACS's certificate.
    pub ca_bundle: PathBuf,
    /// The name the PACS's certificate is for; `host` by default.
    pub server_name: Option<String>,
    /// PEM certificate chain and private key of this workstation, for a
    /// PACS that requires one.
    pub client_certificate: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

fn default_ae() -> String {
    "OVERREAD".into()
}

/// How a DIMSE source sends instances: C-GET on our association, or C-MOVE
/// to our storage SCP (for PACSs that do not offer C-GET).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DimseRetrieve {
    #[default]
    Get,
    Move,
}

/// Our storage SCP, the C-MOVE destination.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageScp {
    /// Our AE title as the PACS knows it; the calling AE title otherwise.
    pub ae_title: Option<String>,
    pub port: u16,
    /// The address to listen on.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// IP addresses that may connect, besides the source's own `host`
    /// (resolved when the SCP starts). AE titles are not authentication:
    /// anyone can claim the PACS's, so the address is checked as well.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Associations served at once; more are closed at connect.
    #[serde(default = "default_max_associations")]
    pub max_associations: usize,
}

fn default_max_associations() -> usize {
    4
}

fn default_bind() -> String {
    "0.0.0.0".into()
}

impl StorageScp {
    pub fn ae_title<'a>(&'a self, source: &'a DimseSource) -> &'a str {
        self.ae_title.as_deref().unwrap_or(&source.calling_ae)
    }
}

/// Seconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    #[serde(default = "d_connect")]
    pub connect_s: f64,
    #[serde(default = "d_idle")]
    pub idle_s: f64,
    #[serde(default = "d_overall")]
    pub overall_s: f64,
}

fn d_connect() -> f64 {
    5.0
}
fn d_idle() -> f64 {
    30.0
}
fn d_overall() -> f64 {
    600.0
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect_s: d_connect(),
            idle_s: d_idle(),
            overall_s: d_overall(),
        }
    }
}

impl Timeouts {
    pub fn connect(&self) -> Duration {
        Duration::from_secs_f64(self.connect_s)
    }
    pub fn idle(&self) -> Duration {
        Duration::from_secs_f64(self.idle_s)
    }
    pub fn overall(&self) -> Duration {
        Duration::from_secs_f64(self.overall_s)
    }
}

fn valid_ae(ae: &str) -> bool {
    !ae.trim().is_empty()
        && ae.len() <= 16
        && ae.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\')
}

impl PacsConfig {
    pub fn load(path: &Path) -> Result<PacsConfig> {
        let text = std::fs::read_to_string(path).context(ReadConfigSnafu { path })?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<PacsConfig> {
        let config: PacsConfig = toml::from_str(text).map_err(|e| Error::Config {
            reason: e.message().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        let c = &self.cache;
        if c.max_study_bytes == 0 || c.max_study_instances == 0 || c.max_study_instances > 100_000 {
            return ConfigSnafu {
                reason: "cache: max_study_bytes must be positive and max_study_instances 1–100000"
                    .to_string(),
            }
            .fail();
        }
        let mut names = std::collections::BTreeSet::new();
        for s in &self.sources {
            let bad = |reason: String| ConfigSnafu { reason }.fail();
            if s.name.is_empty()
                || !s
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return bad(format!(
                    "source name {:?}: use letters, digits, - _ .",
                    s.name
                ));
            }
            if !names.insert(&s.name) {
                return bad(format!("source {:?} is defined twice", s.name));
            }
            let t = s.timeouts;
            if !(t.connect_s > 0.0 && t.idle_s > 0.0 && t.overall_s > 0.0)
                || [t.connect_s, t.idle_s, t.overall_s]
                    .iter()
                    .any(|v| *v > 86_400.0)
            {
                return bad(format!("source {:?}: timeouts must be 0–86400 s", s.name));
            }
            let w = &s.worklist;
            if !(1..=36_500).contains(&w.days)
                || !(1..=10_000).contains(&w.limit)
                || w.modalities.len() > 16
                || w.modalities.iter().any(|m| {
                    m.is_empty() || m.len() > 16 || !m.bytes().all(|b| b.is_ascii_uppercase())
                })
            {
                return bad(format!(
                    "source {:?}: worklist days 1–36500, limit 1–10000, modalities like \"CR\"",
                    s.name
                ));
            }
            match &s.kind {
                SourceKind::Dicomweb(w) => {
                    if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                        return bad(format!("source {:?}: url must be http(s)://", s.name));
                    }
                    if w.auth == AuthKind::Basic
                        && (w.username.is_none() || w.password_env.is_none())
                    {
                        return bad(format!(
                            "source {:?}: basic auth needs username and password_env",
                            s.name
                        ));
                    }
                    if w.auth == AuthKind::Bearer && w.token_env.is_none() {
                        return bad(format!("source {:?}: bearer auth needs token_env", s.name));
                    }
                    if w.auth != AuthKind::None
                        && w.url.starts_with("http://")
                        && !w.allow_insecure_http
                    {
                        return bad(format!(
                            "source {:?}: credentials over plain http:// travel in clear text; use https:// (or set allow_insecure_http = true on a trusted network)",
                            s.name
                        ));
                    }
                }
                SourceKind::Dimse(d) => {
                    if !valid_ae(&d.called_ae) || !valid_ae(&d.calling_ae) {
                        return bad(format!(
                            "source {:?}: AE titles are 1–16 printable characters",
                            s.name
                        ));
                    }
                    if d.host.is_empty() || d.port == 0 {
                        return bad(format!("source {:?}: host and port are required", s.name));
                    }
                    if let Some(tls) = &d.tls {
                        if d.retrieve == DimseRetrieve::Move {
                            return bad(format!(
                                "source {:?}: over TLS, use retrieve = \"get\" (a C-MOVE would need our storage SCP to serve TLS)",
                                s.name
                            ));
                        }
                        if tls.client_certificate.is_some() != tls.client_key.is_some() {
                            return bad(format!(
                                "source {:?}: tls needs both client_certificate and client_key, or neither",
                                s.name
                            ));
                        }
                    }
                    match (&d.storage_scp, d.retrieve) {
                        (None, DimseRetrieve::Move) => {
                            return bad(format!(
                                "source {:?}: retrieve = \"move\" needs storage_scp = {{ port = ... }}",
                                s.name
                            ));
                        }
                        (Some(scp), _) => {
                            if scp
                                .allow
                                .iter()
                                .any(|a| a.parse::<std::net::IpAddr>().is_err())
                                || !(1..=64).contains(&scp.max_associations)
                            {
                                return bad(format!(
                                    "source {:?}: storage_scp allow lists IP addresses; max_associations is 1–64",
                                    s.name
                                ));
                            }
                            if scp.port == 0 || scp.bind.parse::<std::net::IpAddr>().is_err() {
                                return bad(format!(
                                    "source {:?}: storage_scp needs a port and an IP address to bind",
                                    s.name
                                ));
                            }
                            if !valid_ae(scp.ae_title(d)) {
                                return bad(format!(
                                    "source {:?}: AE titles are 1–16 printable characters",
                                    s.name
                                ));
                            }
                        }
                        (None, DimseRetrieve::Get) => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// What is allowed but unsafe in this configuration, one line each
    /// (the app and the CLI print them whenever they load it).
    pub fn warnings(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter_map(|s| match &s.kind {
                SourceKind::Dicomweb(w)
                    if w.auth != AuthKind::None && w.url.starts_with("http://") =>
                {
                    Some(format!(
                        "source {:?} sends its credentials over plain http:// (allow_insecure_http = true)",
                        s.name
                    ))
                }
                _ => None,
            })
            .collect()
    }

    pub fn source(&self, name: &str) -> Result<&Source> {
        self.sources
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::UnknownSource { name: name.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Basic or Bearer credentials over plain http:// are refused unless the
    /// source says so, which is then warned about (#12).
    #[test]
    fn credentials_over_plain_http_are_refused_unless_allowed() {
        let source = |url: &str, extra: &str| {
            format!(
                "[[source]]\nname = \"p\"\nkind = \"dicomweb\"\nurl = \"{url}\"\nauth = \"bearer\"\ntoken_env = \"T\"\n{extra}"
            )
        };
        let err =
            PacsConfig::parse(&source("http://pacs.example/dicom-web", "")).expect_err("refused");
        assert!(err.to_string().contains("clear text"), "{err}");
        let https =
            PacsConfig::parse(&source("https://pacs.example/dicom-web", "")).expect("https");
        assert!(https.warnings().is_empty());
        let allowed = PacsConfig::parse(&source(
            "http://pacs.example/dicom-web",
            "allow_insecure_http = true",
        ))
        .expect("allowed");
        assert_eq!(allowed.warnings().len(), 1);
        // No credentials: plain http is fine (a PACS on a closed network).
        PacsConfig::parse(
            "[[source]]\nname = \"p\"\nkind = \"dicomweb\"\nurl = \"http://pacs/dicom-web\"\n",
        )
        .expect("no auth");
    }

    /// DICOM TLS is configured per DIMSE source; C-MOVE over TLS is refused
    /// (our storage SCP does not serve TLS) and a client certificate needs
    /// its key.
    #[test]
    fn dimse_tls_is_checked() {
        let src = |extra: &str| {
            format!(
                "[[source]]\nname = \"p\"\nkind = \"dimse\"\nhost = \"pacs\"\nport = 2762\ncalled_ae = \"PACS\"\n{extra}"
            )
        };
        let ok = PacsConfig::parse(&src("tls = { ca_bundle = \"/etc/ca.pem\" }\n")).expect("tls");
        let SourceKind::Dimse(d) = &ok.sources[0].kind else {
            panic!("dimse")
        };
        assert!(d.tls.is_some());
        let err = PacsConfig::parse(&src(
            "retrieve = \"move\"\nstorage_scp = { port = 11112 }\ntls = { ca_bundle = \"/etc/ca.pem\" }\n",
        ))
        .expect_err("move over tls");
        assert!(err.to_string().contains("retrieve = \"get\""), "{err}");
        assert!(
            PacsConfig::parse(&src(
                "tls = { ca_bundle = \"/etc/ca.pem\", client_certificate = \"/etc/me.pem\" }\n"
            ))
            .is_err()
        );
    }

    #[test]
    fn both_kinds_parse() {
        let c = PacsConfig::parse(
            r#"
            [cache]
            max_bytes = 1000
            [[source]]
            name = "web"
            kind = "dicomweb"
            url = "https://pacs.example.org/dicom-web"
            [source.timeouts]
            idle_s = 2
            [[source]]
            name = "dimse"
            kind = "dimse"
            host = "127.0.0.1"
            port = 4242
            called_ae = "ORTHANC"
            "#,
        )
        .expect("parse");
        assert_eq!(c.cache.max_bytes, 1000);
        assert!(matches!(
            c.source("web").expect("web").kind,
            SourceKind::Dicomweb(_)
        ));
        assert_eq!(c.source("web").expect("web").timeouts.idle_s, 2.0);
        match &c.source("dimse").expect("dimse").kind {
            SourceKind::Dimse(d) => {
                assert_eq!(d.calling_ae, "OVERREAD");
                assert_eq!(d.retrieve, DimseRetrieve::Get);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.source("nope").expect_err("unknown").code(), "config");
    }

    #[test]
    fn mistakes_are_one_line_errors() {
        for (text, needle) in [
            (
                "[[source]]\nname='a'\nkind='dicomweb'\nurl='ftp://x'",
                "http",
            ),
            (
                "[[source]]\nname='a b'\nkind='dicomweb'\nurl='http://x'",
                "source name",
            ),
            (
                "[[source]]\nname='a'\nkind='dimse'\nhost='h'\nport=1\ncalled_ae='WAY_TOO_LONG_AE_TITLE'",
                "AE titles",
            ),
            (
                "[[source]]\nname='a'\nkind='dicomweb'\nurl='http://x'\nauth='basic'",
                "basic",
            ),
            ("[[source]]\nname='a'\nkind='smb'", "smb"),
            (
                "[[source]]\nname='a'\nkind='dimse'\nhost='h'\nport=1\ncalled_ae='P'\nretrieve='move'",
                "storage_scp",
            ),
            (
                "[[source]]\nname='a'\nkind='dimse'\nhost='h'\nport=1\ncalled_ae='P'\nstorage_scp={port=104,bind='everywhere'}",
                "IP address",
            ),
        ] {
            let e = PacsConfig::parse(text).expect_err(text).to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
