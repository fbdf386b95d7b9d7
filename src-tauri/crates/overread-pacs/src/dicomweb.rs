//! DICOMweb client (PS3.18): QIDO-RS search of studies, series and
//! instances; WADO-RS retrieve of studies, series and instances streamed into
//! the cache, and of metadata and frames (bounded, in memory); STOW-RS store.
//!
//! Every request has a connect, an idle-read and an overall time-out.
//! Idempotent requests (GET) are repeated with backoff on connection errors
//! and 408/429/502/503/504, honouring Retry-After; STOW-RS is not repeated.
//! Cancelling drops the response, which closes its connection.

use crate::cache::{Cache, StoredObject};
use crate::config::{AuthKind, DicomWebSource, Source};
use crate::error::{Error, Result};
use crate::multipart::{MultipartError, MultipartParser, PartSink, boundary_of};
use crate::query::*;
use crate::retry::{RetryPolicy, parse_retry_after, retryable_status};
use futures_util::StreamExt;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// Largest QIDO or metadata answer read into memory.
pub const MAX_JSON_BYTES: u64 = 64 << 20;
/// Page size when listing a study's instances.
const PAGE: u32 = 1000;

#[derive(Debug, Clone)]
pub struct DicomWebClient {
    pub(crate) name: String,
    base: String,
    http: reqwest::Client,
    policy: RetryPolicy,
    idle: Duration,
    overall: Duration,
}

/// Accept header for WADO-RS instances in their stored transfer syntax.
pub const ACCEPT_DICOM_AS_STORED: &str =
    r#"multipart/related; type="application/dicom"; transfer-syntax=*"#;
/// Accept header for WADO-RS frames in their stored transfer syntax.
pub const ACCEPT_FRAMES_AS_STORED: &str =
    r#"multipart/related; type="application/octet-stream"; transfer-syntax=*"#;
/// Largest total of frames read into memory by one request.
pub const MAX_FRAME_BYTES: usize = 1 << 30;

impl DicomWebClient {
    pub fn new(source: &Source, web: &DicomWebSource) -> Result<Self> {
        let config_err = |reason: String| Error::Config { reason };
        let mut headers = HeaderMap::new();
        match web.auth {
            AuthKind::None => {}
            AuthKind::Basic => {
                let user = web.username.clone().unwrap_or_default();
                let var = web.password_env.clone().unwrap_or_default();
                let pass = std::env::var(&var).map_err(|_| {
                    config_err(format!(
                        "{}: environment variable {var} is not set",
                        source.name
                    ))
                })?;
                let token = base64_encode(format!("{user}:{pass}").as_bytes());
                let mut v = HeaderValue::from_str(&format!("Basic {token}"))
                    .map_err(|_| config_err(format!("{}: bad credentials", source.name)))?;
                v.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, v);
            }
            AuthKind::Bearer => {
                let var = web.token_env.clone().unwrap_or_default();
                let token = std::env::var(&var).map_err(|_| {
                    config_err(format!(
                        "{}: environment variable {var} is not set",
                        source.name
                    ))
                })?;
                let mut v = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| config_err(format!("{}: bad token", source.name)))?;
                v.set_sensitive(true);
                headers.insert(reqwest::header::AUTHORIZATION, v);
            }
        }
        // Certificates are always checked: there is no switch to turn that off.
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(source.timeouts.connect())
            .read_timeout(source.timeouts.idle())
            .user_agent(concat!("overread/", env!("CARGO_PKG_VERSION")));
        if web.url.starts_with("http://") {
            // Plain HTTP needs no trust roots: reading the system's (well
            // over a hundred files) would slow every start. A redirect to
            // https then fails verification, as it should.
            builder = builder.tls_certs_only(Vec::new());
        }
        if let Some(ca) = &web.ca_bundle {
            let pem = std::fs::read(ca).map_err(|e| {
                config_err(format!(
                    "{}: cannot read CA bundle {}: {e}",
                    source.name,
                    ca.display()
                ))
            })?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                config_err(format!(
                    "{}: bad CA bundle {}: {e}",
                    source.name,
                    ca.display()
                ))
            })? {
                builder = builder.tls_certs_merge([cert]);
            }
        }
        let http = builder
            .build()
            .map_err(|e| config_err(format!("{}: {e}", source.name)))?;
        Ok(DicomWebClient {
            name: source.name.clone(),
            base: web.url.trim_end_matches('/').to_string(),
            http,
            policy: RetryPolicy {
                max_retries: source.max_retries,
                ..RetryPolicy::default()
            },
            idle: source.timeouts.idle(),
            overall: source.timeouts.overall(),
        })
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    fn unreachable(&self, e: &reqwest::Error) -> Error {
        if e.is_timeout() {
            return Error::Timeout {
                source_name: self.name.clone(),
                phase: if e.is_connect() {
                    "connecting"
                } else {
                    "waiting for data"
                },
            };
        }
        // The innermost cause says what happened (refused, reset, …).
        let mut cause: &dyn std::error::Error = e;
        while let Some(s) = cause.source() {
            cause = s;
        }
        Error::Unreachable {
            source_name: self.name.clone(),
            message: cause.to_string(),
        }
    }

    /// Sends a GET, repeating it where that is safe; returns a response with
    /// a success status.
    async fn get(
        &self,
        path_and_query: &str,
        query: &[(String, String)],
        accept: &str,
        cancel: &CancellationToken,
    ) -> Result<reqwest::Response> {
        let url = format!("{}{}", self.base, path_and_query);
        let mut attempt = 0;
        loop {
            let send = self
                .http
                .get(&url)
                .query(query)
                .header(ACCEPT, accept)
                .send();
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                r = send => r,
            };
            let (err, retry_after) = match outcome {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let after = resp
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    let err = Error::Http {
                        source_name: self.name.clone(),
                        status,
                        retry_after_s: after.map(|d| d.as_secs()),
                    };
                    if !retryable_status(status) {
                        return Err(err);
                    }
                    (err, after)
                }
                Err(e) => (self.unreachable(&e), None),
            };
            if attempt >= self.policy.max_retries || !err.is_transient() {
                return Err(err);
            }
            let wait = self.policy.delay(attempt, retry_after);
            attempt += 1;
            tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The next chunk of a response body, or `None` at its end; waits at
    /// most the idle time-out, and gives up at once when cancelled.
    async fn next_chunk(
        &self,
        stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
        cancel: &CancellationToken,
    ) -> Result<Option<bytes::Bytes>> {
        let next = tokio::select! {
            _ = cancel.cancelled() => return Err(Error::Cancelled),
            n = tokio::time::timeout(self.idle, stream.next()) => n,
        };
        match next {
            Err(_) => Err(Error::Timeout {
                source_name: self.name.clone(),
                phase: "waiting for data",
            }),
            Ok(None) => Ok(None),
            Ok(Some(Err(e))) => Err(match self.unreachable(&e) {
                Error::Unreachable {
                    source_name,
                    message,
                } => Error::ConnectionLost {
                    source_name,
                    message,
                },
                other => other,
            }),
            Ok(Some(Ok(chunk))) => Ok(Some(chunk)),
        }
    }

    /// Reads a whole (bounded) body.
    async fn body(
        &self,
        resp: reqwest::Response,
        limit: u64,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = self.next_chunk(&mut stream, cancel).await? {
            if (out.len() + chunk.len()) as u64 > limit {
                return Err(Error::TooLarge {
                    source_name: self.name.clone(),
                    what: "the answer",
                    limit,
                });
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    async fn json(
        &self,
        path: &str,
        query: &[(String, String)],
        cancel: &CancellationToken,
    ) -> Result<Vec<Value>> {
        let work = async {
            let resp = self
                .get(path, query, "application/dicom+json", cancel)
                .await?;
            if resp.status().as_u16() == 204 {
                return Ok(Vec::new());
            }
            let bytes = self.body(resp, MAX_JSON_BYTES, cancel).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Vec::new());
            }
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Array(items)) => Ok(items),
                Ok(_) => Err(self.protocol("a QIDO answer is not a JSON array")),
                Err(e) => Err(self.protocol(&format!("a QIDO answer is not JSON: {e}"))),
            }
        };
        self.with_deadline(work).await
    }

    async fn with_deadline<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.overall, work)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    source_name: self.name.clone(),
                    phase: "(overall limit)",
                })
            })
    }

    fn protocol(&self, message: &str) -> Error {
        Error::Protocol {
            source_name: self.name.clone(),
            message: message.to_string(),
        }
    }

    /// QIDO-RS: search for studies.
    pub async fn search_studies(
        &self,
        q: &StudyQuery,
        cancel: &CancellationToken,
    ) -> Result<Vec<StudyMatch>> {
        let mut params: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                params.push((k.into(), v.into()));
            }
        };
        put("PatientID", &q.patient_id);
        put("PatientName", &q.patient_name);
        put("StudyDate", &q.study_date);
        put("AccessionNumber", &q.accession_number);
        put("StudyInstanceUID", &q.study_uid);
        if !q.modalities.is_empty() {
            params.push(("ModalitiesInStudy".into(), q.modalities.join(",")));
        }
        if q.patient_name
            .as_deref()
            .is_some_and(|n| n.contains(['*', '?']))
        {
            params.push(("fuzzymatching".into(), "false".into()));
        }
        for f in ["00081030", "00201206", "00201208", "00080061"]
            .into_iter()
            .map(String::from)
            .chain(q.include_fields.iter().cloned())
        {
            params.push(("includefield".into(), f));
        }
        if let Some(l) = q.limit {
            params.push(("limit".into(), l.to_string()));
        }
        if let Some(o) = q.offset {
            params.push(("offset".into(), o.to_string()));
        }
        let items = self.json("/studies", &params, cancel).await?;
        Ok(items.iter().filter_map(study_match).collect())
    }

    /// QIDO-RS: the series of a study.
    pub async fn search_series(
        &self,
        study_uid: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<SeriesMatch>> {
        check_uid(&self.name, study_uid)?;
        let params: Vec<(String, String)> = ["0008103E", "00201209"]
            .into_iter()
            .map(|f| ("includefield".to_string(), f.to_string()))
            .collect();
        let items = self
            .json(&format!("/studies/{study_uid}/series"), &params, cancel)
            .await?;
        Ok(items.iter().filter_map(series_match).collect())
    }

    /// WADO-RS: a study's metadata (PS3.18 §10.4.1.1.2), DICOM JSON with
    /// bulk data left out, one object per instance; the answer is capped.
    pub async fn retrieve_metadata(
        &self,
        study_uid: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<Value>> {
        check_uid(&self.name, study_uid)?;
        self.json(&format!("/studies/{study_uid}/metadata"), &[], cancel)
            .await
    }

    /// WADO-RS: frames of one instance (numbered from 1) as their bulk data,
    /// in the stored transfer syntax (PS3.18 §10.4.1.1.4); at most
    /// [`MAX_FRAME_BYTES`] in all.
    pub async fn retrieve_frames(
        &self,
        inst: &InstanceRef,
        frames: &[u32],
        cancel: &CancellationToken,
    ) -> Result<Vec<Vec<u8>>> {
        for uid in [&inst.study_uid, &inst.series_uid, &inst.sop_uid] {
            check_uid(&self.name, uid)?;
        }
        if frames.is_empty() || frames.len() > 10_000 || frames.contains(&0) {
            return Err(self.protocol("frame numbers start at 1; between 1 and 10000 of them"));
        }
        let list: Vec<String> = frames.iter().map(u32::to_string).collect();
        let path = format!(
            "/studies/{}/series/{}/instances/{}/frames/{}",
            inst.study_uid,
            inst.series_uid,
            inst.sop_uid,
            list.join(",")
        );
        let mut sink = MemorySink {
            parts: Vec::new(),
            total: 0,
            name: &self.name,
        };
        self.with_deadline(self.multipart(&path, ACCEPT_FRAMES_AS_STORED, &mut sink, cancel))
            .await?;
        let parts = sink.parts;
        if parts.len() != frames.len() {
            return Err(self.protocol(&format!(
                "asked for {} frames, the server sent {}",
                frames.len(),
                parts.len()
            )));
        }
        Ok(parts)
    }

    /// WADO-RS: every instance of a series in one request, streamed part
    /// by part into the cache.
    pub async fn retrieve_series(
        &self,
        study_uid: &str,
        series_uid: &str,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> Result<Vec<StoredObject>> {
        check_uid(&self.name, study_uid)?;
        check_uid(&self.name, series_uid)?;
        self.retrieve_multipart(
            &format!("/studies/{study_uid}/series/{series_uid}"),
            cache,
            cancel,
        )
        .await
    }

    /// QIDO-RS: every instance of a study, paged.
    pub async fn search_instances(
        &self,
        study_uid: &str,
        cancel: &CancellationToken,
    ) -> Result<Vec<InstanceRef>> {
        check_uid(&self.name, study_uid)?;
        let mut out = Vec::new();
        let mut offset = 0u32;
        loop {
            let params = vec![
                ("includefield".to_string(), "0020000E".to_string()),
                ("limit".to_string(), PAGE.to_string()),
                ("offset".to_string(), offset.to_string()),
            ];
            let items = self
                .json(&format!("/studies/{study_uid}/instances"), &params, cancel)
                .await?;
            let n = items.len() as u32;
            for item in &items {
                let (Some(series_uid), Some(sop_uid)) =
                    (json_text(item, SERIES_UID), json_text(item, SOP_UID))
                else {
                    return Err(self.protocol("an instance without series or SOP instance UID"));
                };
                out.push(InstanceRef {
                    study_uid: study_uid.to_string(),
                    series_uid,
                    sop_uid,
                    sop_class_uid: json_text(item, SOP_CLASS_UID),
                });
            }
            // A server that ignores paging returns everything at once.
            if n < PAGE || out.len() > 1_000_000 {
                break;
            }
            offset += n;
        }
        out.dedup_by(|a, b| a.sop_uid == b.sop_uid);
        Ok(out)
    }

    /// WADO-RS: one instance in its stored transfer syntax, streamed into
    /// the cache.
    pub async fn retrieve_instance(
        &self,
        inst: &InstanceRef,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> Result<StoredObject> {
        for uid in [&inst.study_uid, &inst.series_uid, &inst.sop_uid] {
            check_uid(&self.name, uid)?;
        }
        let path = format!(
            "/studies/{}/series/{}/instances/{}",
            inst.study_uid, inst.series_uid, inst.sop_uid
        );
        let mut objects = self.retrieve_multipart(&path, cache, cancel).await?;
        match objects.len() {
            1 => Ok(objects.remove(0)),
            n => Err(self.protocol(&format!("expected one instance, the server sent {n}"))),
        }
    }

    /// WADO-RS: every instance of a study in one request, streamed part by
    /// part into the cache.
    pub async fn retrieve_study(
        &self,
        study_uid: &str,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> Result<Vec<StoredObject>> {
        let (done, result) = self.retrieve_study_parts(study_uid, cache, cancel).await;
        result.map(|()| done)
    }

    /// As [`retrieve_study`](Self::retrieve_study), but the parts stored
    /// before a failure are returned with it.
    pub async fn retrieve_study_parts(
        &self,
        study_uid: &str,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> (Vec<StoredObject>, Result<()>) {
        if let Err(e) = check_uid(&self.name, study_uid) {
            return (Vec::new(), Err(e));
        }
        let mut done = Vec::new();
        let result = self
            .retrieve_multipart_into(&format!("/studies/{study_uid}"), cache, cancel, &mut done)
            .await;
        (done, result)
    }

    async fn retrieve_multipart(
        &self,
        path: &str,
        cache: &Cache,
        cancel: &CancellationToken,
    ) -> Result<Vec<StoredObject>> {
        let mut done = Vec::new();
        self.retrieve_multipart_into(path, cache, cancel, &mut done)
            .await?;
        Ok(done)
    }

    async fn retrieve_multipart_into(
        &self,
        path: &str,
        cache: &Cache,
        cancel: &CancellationToken,
        done: &mut Vec<StoredObject>,
    ) -> Result<()> {
        let mut sink = CacheSink {
            cache,
            current: None,
            done,
        };
        self.with_deadline(self.multipart(path, ACCEPT_DICOM_AS_STORED, &mut sink, cancel))
            .await
    }

    /// GETs a `multipart/related` answer and streams its parts to `sink`.
    async fn multipart(
        &self,
        path: &str,
        accept: &str,
        sink: &mut impl PartSink<Error = Error>,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let resp = self.get(path, &[], accept, cancel).await?;
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let boundary = boundary_of(&content_type).ok_or_else(|| {
            self.protocol(&format!("not a multipart/related answer ({content_type})"))
        })?;
        let mut parser = MultipartParser::new(&boundary);
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = self.next_chunk(&mut stream, cancel).await? {
            parser
                .feed(&chunk, sink)
                .map_err(|e| self.multipart_error(e))?;
        }
        parser
            .finish::<Error>()
            .map_err(|e| self.multipart_error(e))
    }

    fn multipart_error(&self, e: MultipartError<Error>) -> Error {
        match e {
            MultipartError::Malformed(m) => self.protocol(m),
            MultipartError::Sink(e) => e,
        }
    }

    /// STOW-RS: stores Part-10 files in one multipart request. Not repeated
    /// on failure (a store is not idempotent for every server).
    pub async fn store(&self, files: &[std::path::PathBuf]) -> Result<StoreOutcome> {
        let boundary = format!("overread-{:016x}", fastrand::u64(..));
        let mut body = Vec::new();
        for f in files {
            let bytes = std::fs::read(f).map_err(|e| Error::Protocol {
                source_name: self.name.clone(),
                message: format!("cannot read {}: {e}", f.display()),
            })?;
            body.extend_from_slice(
                format!("\r\n--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(&bytes);
        }
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .with_deadline(async {
                self.http
                    .post(format!("{}/studies", self.base))
                    .header(
                        CONTENT_TYPE,
                        format!(
                            r#"multipart/related; type="application/dicom"; boundary={boundary}"#
                        ),
                    )
                    .header(ACCEPT, "application/dicom+json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| self.unreachable(&e))
            })
            .await?;
        let status = resp.status().as_u16();
        // 409: nothing stored, with the reasons in the body (§10.5.3).
        if !resp.status().is_success() && status != 409 {
            return Err(Error::Http {
                source_name: self.name.clone(),
                status,
                retry_after_s: None,
            });
        }
        let bytes = self
            .body(resp, MAX_JSON_BYTES, &CancellationToken::new())
            .await?;
        let answer: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| self.protocol(&format!("a STOW-RS answer is not JSON: {e}")))?
        };
        let uids = |seq: u32| -> Vec<String> {
            answer
                .get(format!("{seq:08X}"))
                .and_then(|a| a.get("Value"))
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| json_text(i, REFERENCED_SOP_INSTANCE))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(StoreOutcome {
            http_status: status,
            stored: uids(REFERENCED_SOP_SEQUENCE),
            failed: uids(FAILED_SOP_SEQUENCE),
        })
    }
}

/// Keeps the parts of a bounded answer in memory (frames).
struct MemorySink<'a> {
    parts: Vec<Vec<u8>>,
    total: usize,
    name: &'a str,
}

impl PartSink for MemorySink<'_> {
    type Error = Error;
    fn start_part(&mut self, _content_type: Option<&str>) -> Result<()> {
        self.parts.push(Vec::new());
        Ok(())
    }
    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        self.total += bytes.len();
        if self.total > MAX_FRAME_BYTES {
            return Err(Error::TooLarge {
                source_name: self.name.to_string(),
                what: "the frames",
                limit: MAX_FRAME_BYTES as u64,
            });
        }
        if let Some(p) = self.parts.last_mut() {
            p.extend_from_slice(bytes);
        }
        Ok(())
    }
    fn end_part(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Writes each part into the cache as it streams.
struct CacheSink<'a> {
    cache: &'a Cache,
    current: Option<crate::cache::ObjectWriter>,
    done: &'a mut Vec<StoredObject>,
}

impl PartSink for CacheSink<'_> {
    type Error = Error;
    fn start_part(&mut self, _content_type: Option<&str>) -> Result<()> {
        self.current = Some(self.cache.writer()?);
        Ok(())
    }
    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(w) = &mut self.current {
            w.write(bytes).map_err(|e| Error::Cache {
                path: self.cache.dir().to_path_buf(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
    fn end_part(&mut self) -> Result<()> {
        if let Some(w) = self.current.take()
            && !w.is_empty()
        {
            self.done.push(w.finish()?);
        }
        Ok(())
    }
}

pub(crate) fn check_uid(source: &str, uid: &str) -> Result<()> {
    if overread_dicom::net::is_valid_uid(uid) {
        Ok(())
    } else {
        Err(Error::Protocol {
            source_name: source.to_string(),
            message: "invalid UID".into(),
        })
    }
}

/// A QIDO-RS study answer's item, if it names its study.
pub(crate) fn study_match(item: &Value) -> Option<StudyMatch> {
    Some(StudyMatch {
        study_uid: json_text(item, STUDY_UID)?,
        patient_id: json_text(item, PATIENT_ID),
        patient_name: json_text(item, PATIENT_NAME),
        study_date: json_text(item, STUDY_DATE),
        accession_number: json_text(item, ACCESSION),
        description: json_text(item, DESCRIPTION),
        modalities: json_texts(item, MODALITIES),
        series: json_text(item, N_SERIES).and_then(|v| v.parse().ok()),
        instances: json_text(item, N_INSTANCES).and_then(|v| v.parse().ok()),
    })
}

/// A QIDO-RS series answer's item, if it names its series.
pub(crate) fn series_match(item: &Value) -> Option<SeriesMatch> {
    Some(SeriesMatch {
        series_uid: json_text(item, SERIES_UID)?,
        modality: json_text(item, MODALITY),
        series_number: json_text(item, SERIES_NUMBER),
        description: json_text(item, SERIES_DESCRIPTION),
        instances: json_text(item, N_SERIES_INSTANCES).and_then(|v| v.parse().ok()),
    })
}

/// A DICOM JSON attribute's values (PS3.18 F.2) as text.
pub(crate) fn json_texts(item: &Value, tag: u32) -> Vec<String> {
    let key = format!("{tag:08X}");
    item.get(&key)
        .and_then(|a| a.get("Value"))
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Object(o) => o
                        .get("Alphabetic")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn json_text(item: &Value, tag: u32) -> Option<String> {
    json_texts(item, tag)
        .into_iter()
        .next()
        .filter(|s| !s.is_empty())
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dicom_json_values_are_read() {
        let item: Value = serde_json::from_str(
            r#"{"0020000D":{"vr":"UI","Value":["1.2.3"]},
                "00100010":{"vr":"PN","Value":[{"Alphabetic":"SYNTHETIC^ONE"}]},
                "00080061":{"vr":"CS","Value":["CR","DX"]},
                "00201208":{"vr":"IS","Value":[3]},
                "00080050":{"vr":"SH"}}"#,
        )
        .expect("json");
        assert_eq!(json_text(&item, STUDY_UID).as_deref(), Some("1.2.3"));
        assert_eq!(
            json_text(&item, PATIENT_NAME).as_deref(),
            Some("SYNTHETIC^ONE")
        );
        assert_eq!(json_texts(&item, MODALITIES), vec!["CR", "DX"]);
        assert_eq!(json_text(&item, N_INSTANCES).as_deref(), Some("3"));
        assert_eq!(json_text(&item, ACCESSION), None);
    }

    #[test]
    fn basic_credentials_are_base64() {
        assert_eq!(
            base64_encode(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}
