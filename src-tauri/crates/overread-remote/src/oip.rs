//! The Open Inference Protocol v2 over HTTP (KServe v2 REST): model
//! metadata, and inference with the binary tensor extension (the request's
//! JSON header, then the input's little-endian bytes; the answer's JSON
//! header, then each output's bytes, the header's length in
//! `Inference-Header-Content-Length`). An answer in plain JSON (`data`
//! arrays) is read too.

use std::time::Duration;

use overread_infer::{Error, Outputs, Result, ServedBy};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::ServerConfig;

const HEADER_LENGTH: &str = "Inference-Header-Content-Length";
/// The largest answer read (a model's outputs for one image).
const MAX_ANSWER_BYTES: usize = 256 << 20;

/// What the server says of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelMetadata {
    pub name: String,
    pub versions: Vec<String>,
    pub platform: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

#[derive(Deserialize)]
struct Port {
    name: String,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    inputs: Vec<Port>,
    #[serde(default)]
    outputs: Vec<Port>,
}

#[derive(Deserialize)]
struct OutputHeader {
    name: String,
    datatype: String,
    shape: Vec<i64>,
    #[serde(default)]
    parameters: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    data: Option<Vec<f64>>,
}

#[derive(Deserialize)]
struct Answer {
    model_name: String,
    #[serde(default)]
    model_version: String,
    outputs: Vec<OutputHeader>,
}

/// A client for one model on one server.
#[derive(Debug)]
pub struct OipClient {
    config: ServerConfig,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

fn fail(message: impl Into<String>) -> Error {
    Error::Run {
        message: message.into(),
    }
}

/// A failure worth another try: no connection, a time-out, or the server
/// busy or failing (5xx, 429).
fn transient(e: &reqwest::Error) -> bool {
    e.is_connect()
        || e.is_timeout()
        || e.is_request()
        || e.status()
            .is_some_and(|s| s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS)
}

impl OipClient {
    pub fn new(config: ServerConfig) -> Result<OipClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2).min(config.timeout))
            .timeout(config.timeout)
            .build()
            .map_err(|e| fail(format!("inference client: {e}")))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("inference client: {e}")))?;
        Ok(OipClient { config, http, rt })
    }

    fn model_url(&self) -> String {
        let c = &self.config;
        match &c.version {
            Some(v) => format!("{}/v2/models/{}/versions/{v}", c.url, c.model),
            None => format!("{}/v2/models/{}", c.url, c.model),
        }
    }

    /// Sends with retries; the answer's bytes, or a one-line error.
    fn send(
        &self,
        make: &dyn Fn() -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>)> {
        let mut wait = Duration::from_millis(200);
        let mut tries = 0;
        loop {
            let answer = self.rt.block_on(async {
                let r = make().send().await?.error_for_status()?;
                let headers = r.headers().clone();
                if r.content_length()
                    .is_some_and(|n| n as usize > MAX_ANSWER_BYTES)
                {
                    return Ok((headers, None));
                }
                Ok::<_, reqwest::Error>((headers, Some(r.bytes().await?.to_vec())))
            });
            match answer {
                Ok((_, None)) => {
                    return Err(fail(format!(
                        "the answer is larger than {} MB",
                        MAX_ANSWER_BYTES >> 20
                    )));
                }
                Ok((headers, Some(body))) => return Ok((headers, body)),
                Err(e) if transient(&e) && tries < self.config.retries => {
                    tries += 1;
                    std::thread::sleep(wait);
                    wait *= 4;
                }
                Err(e) => {
                    return Err(fail(format!(
                        "inference server {} ({} tries): {}",
                        self.config.url,
                        tries + 1,
                        one_line(&e)
                    )));
                }
            }
        }
    }

    /// The model's metadata (`GET /v2/models/{name}`).
    pub fn metadata(&self) -> Result<ModelMetadata> {
        let url = self.model_url();
        let (_, body) = self.send(&|| self.http.get(&url))?;
        let m: Metadata = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("model metadata from {url}: {e}")))?;
        Ok(ModelMetadata {
            name: m.name,
            versions: m.versions,
            platform: m.platform,
            inputs: m.inputs.into_iter().map(|p| p.name).collect(),
            outputs: m.outputs.into_iter().map(|p| p.name).collect(),
        })
    }

    /// One inference: an FP32 NCHW input sent as binary, the named outputs
    /// asked for as binary.
    pub fn infer(
        &self,
        input: &str,
        shape: [usize; 4],
        data: &[f32],
        outputs: &[String],
    ) -> Result<(Outputs, ServedBy)> {
        let mut bytes: Vec<u8> = Vec::with_capacity(data.len() * 4);
        for v in data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let header = serde_json::json!({
            "inputs": [{
                "name": input, "shape": shape, "datatype": "FP32",
                "parameters": {"binary_data_size": bytes.len()},
            }],
            "outputs": outputs.iter().map(|o| serde_json::json!({"name": o, "parameters": {"binary_data": true}})).collect::<Vec<_>>(),
        });
        let header = serde_json::to_vec(&header).map_err(|e| fail(e.to_string()))?;
        let header_len = header.len();
        let mut body = header;
        body.extend_from_slice(&bytes);
        let url = format!("{}/infer", self.model_url());
        let (headers, answer) = self.send(&|| {
            self.http
                .post(&url)
                .header("Content-Type", "application/octet-stream")
                .header(HEADER_LENGTH, header_len.to_string())
                .body(body.clone())
        })?;
        let json_len = headers
            .get(HEADER_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(answer.len());
        parse_answer(&answer, json_len, &self.config.url)
    }
}

fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s.replace('\n', " ")
}

/// Reads an answer: its JSON header (`json_len` bytes), then each binary
/// output in the header's order.
pub(crate) fn parse_answer(
    answer: &[u8],
    json_len: usize,
    server: &str,
) -> Result<(Outputs, ServedBy)> {
    let json = answer.get(..json_len).ok_or_else(|| {
        fail(format!(
            "the answer's header says {json_len} bytes of {}",
            answer.len()
        ))
    })?;
    let a: Answer =
        serde_json::from_slice(json).map_err(|e| fail(format!("the server's answer: {e}")))?;
    let mut rest = &answer[json_len..];
    let mut outputs = Outputs::new();
    for o in a.outputs {
        if o.datatype != "FP32" {
            return Err(fail(format!(
                "output {} is {}, not FP32",
                o.name, o.datatype
            )));
        }
        let shape: Vec<usize> = o
            .shape
            .iter()
            .map(|&d| {
                usize::try_from(d)
                    .map_err(|_| fail(format!("output {} has shape {:?}", o.name, o.shape)))
            })
            .collect::<Result<_>>()?;
        let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let values: Vec<f32> = match (
            o.parameters
                .get("binary_data_size")
                .and_then(|v| v.as_u64()),
            o.data,
        ) {
            (Some(size), _) => {
                let size = size as usize;
                let chunk = rest.get(..size).ok_or_else(|| {
                    fail(format!(
                        "output {} is cut: {size} bytes said, {} left",
                        o.name,
                        rest.len()
                    ))
                })?;
                rest = &rest[size..];
                chunk
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            }
            (None, Some(data)) => data.into_iter().map(|v| v as f32).collect(),
            (None, None) => return Err(fail(format!("output {} has no data", o.name))),
        };
        if count != Some(values.len()) {
            return Err(fail(format!(
                "output {} has {} values for shape {:?}",
                o.name,
                values.len(),
                shape
            )));
        }
        outputs.insert(o.name, (shape, values));
    }
    Ok((
        outputs,
        ServedBy {
            server: server.to_string(),
            model: a.model_name,
            version: a.model_version,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_json_answers_are_read_and_bad_ones_refused() {
        let header = br#"{"model_name":"demo","model_version":"1","outputs":[{"name":"scores","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}},{"name":"j","datatype":"FP32","shape":[1],"data":[0.25]}]}"#;
        let mut answer = header.to_vec();
        answer.extend_from_slice(&0.5f32.to_le_bytes());
        answer.extend_from_slice(&1.5f32.to_le_bytes());
        let (out, served) = parse_answer(&answer, header.len(), "http://s").expect("parses");
        assert_eq!(out["scores"], (vec![1, 2], vec![0.5, 1.5]));
        assert_eq!(out["j"], (vec![1], vec![0.25]));
        assert_eq!(
            (served.model.as_str(), served.version.as_str()),
            ("demo", "1")
        );

        let err = |a: &[u8], n: usize| parse_answer(a, n, "s").expect_err("refused").to_string();
        assert!(err(&answer[..answer.len() - 2], header.len()).contains("is cut"));
        assert!(err(&answer, answer.len() + 1).contains("header says"));
        let wrong = br#"{"model_name":"d","outputs":[{"name":"s","datatype":"FP32","shape":[3],"data":[1.0]}]}"#;
        assert!(err(wrong, wrong.len()).contains("1 values for shape [3]"));
        let int = br#"{"model_name":"d","outputs":[{"name":"s","datatype":"INT64","shape":[1],"data":[1]}]}"#;
        assert!(err(int, int.len()).contains("not FP32"));
    }
}
