//! A stored row and its canonical bytes for the hash chain:
//! row_hash = SHA-256(prev_hash ‖ canonical row bytes).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash before the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Format tag at the start of every canonical encoding.
const FORMAT: &[u8] = b"overread-audit-row-v1\0";

/// One column value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub(crate) fn text(v: Option<&str>) -> Value {
        v.map_or(Value::Null, |s| Value::Text(s.to_string()))
    }

    /// How a CSV cell shows it.
    pub fn to_cell(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Int(i) => i.to_string(),
            Value::Real(r) => r.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// The hashed columns, in their fixed order (after `seq`): the order of the
/// canonical encoding, the CSV export and the table.
pub const COLUMNS: [&str; 26] = [
    "recorded_at",
    "kind",
    "reader_id",
    "reader_name",
    "reader_role",
    "workstation_id",
    "patient_id",
    "accession_number",
    "study_uid",
    "series_uid",
    "sop_uid",
    "model_name",
    "model_version",
    "model_sha256",
    "execution_provider",
    "finding",
    "ai_score",
    "threshold",
    "ai_flagged",
    "decision",
    "region",
    "reason",
    "display_to_decision_ms",
    "supersedes",
    "app_version",
    "detail",
];

/// A row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub seq: i64,
    /// Values of [`COLUMNS`], in order.
    pub values: Vec<Value>,
    pub prev_hash: String,
    pub row_hash: String,
}

impl Row {
    pub fn get(&self, column: &str) -> &Value {
        COLUMNS
            .iter()
            .position(|c| *c == column)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&Value::Null)
    }
}

/// Canonical bytes of a row: a format tag, the sequence number, then each
/// column as a type tag and a big-endian payload (text length-prefixed).
pub fn canonical(seq: i64, values: &[Value]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(FORMAT);
    out.extend_from_slice(&seq.to_be_bytes());
    for v in values {
        match v {
            Value::Null => out.push(0),
            Value::Int(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_be_bytes());
            }
            Value::Real(r) => {
                out.push(2);
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            Value::Text(s) => {
                out.push(3);
                out.extend_from_slice(&(s.len() as u64).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out
}

/// SHA-256(prev_hash ‖ canonical bytes), hex.
pub fn row_hash(prev_hash: &str, seq: i64, values: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical(seq, values));
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_separates_fields() {
        // "ab" + "c" must not hash like "a" + "bc".
        let a = [Value::Text("ab".into()), Value::Text("c".into())];
        let b = [Value::Text("a".into()), Value::Text("bc".into())];
        assert_ne!(row_hash(GENESIS, 1, &a), row_hash(GENESIS, 1, &b));
        assert_ne!(
            row_hash(GENESIS, 1, &[Value::Null]),
            row_hash(GENESIS, 1, &[Value::Text(String::new())])
        );
        assert_ne!(
            row_hash(GENESIS, 1, &[Value::Int(1)]),
            row_hash(GENESIS, 1, &[Value::Real(1.0)])
        );
    }
}
