//! Entry points for the fuzz targets (`src-tauri/fuzz`): what a hostile
//! peer's bytes go through, without the network. Not part of the API.

use bytes::Buf;
use overread_dicom::net;
use serde_json::Value;

use crate::dicomweb::{json_texts, series_match, study_match};
use crate::dimse::MAX_PDU;
use crate::multipart::{MultipartParser, PartSink, boundary_of};

/// A QIDO-RS or WADO-RS metadata answer (DICOM JSON) as the client reads
/// it, capped as the client caps it; returns the items it understood.
pub fn dicom_json(bytes: &[u8]) -> usize {
    if bytes.len() as u64 > crate::dicomweb::MAX_JSON_BYTES {
        return 0;
    }
    let Ok(items) = serde_json::from_slice::<Vec<Value>>(bytes) else {
        return 0;
    };
    let mut seen = 0;
    for item in &items {
        seen += usize::from(study_match(item).is_some());
        seen += usize::from(series_match(item).is_some());
        if let Some(object) = item.as_object() {
            for key in object.keys().take(64) {
                if let Ok(tag) = u32::from_str_radix(key, 16) {
                    seen += json_texts(item, tag).len();
                }
            }
        }
    }
    seen
}

/// A multipart/related body; the first line is the Content-Type, the rest
/// the body, fed in chunks of the size its first byte gives.
pub fn multipart(bytes: &[u8]) -> usize {
    struct Count(usize);
    impl PartSink for Count {
        type Error = ();
        fn start_part(&mut self, _: Option<&str>) -> Result<(), ()> {
            self.0 += 1;
            Ok(())
        }
        fn data(&mut self, b: &[u8]) -> Result<(), ()> {
            self.0 += b.len().min(1);
            Ok(())
        }
        fn end_part(&mut self) -> Result<(), ()> {
            Ok(())
        }
    }
    let Some(split) = bytes.iter().position(|&b| b == b'\n') else {
        return 0;
    };
    let Ok(content_type) = std::str::from_utf8(&bytes[..split]) else {
        return 0;
    };
    let Some(boundary) = boundary_of(content_type) else {
        return 0;
    };
    let body = &bytes[split + 1..];
    let chunk = usize::from(body.first().copied().unwrap_or(1)).max(1);
    let mut parser = MultipartParser::new(&boundary);
    let mut sink = Count(0);
    for piece in body.chunks(chunk) {
        if parser.feed(piece, &mut sink).is_err() {
            return sink.0;
        }
    }
    let _ = parser.finish::<()>();
    sink.0
}

/// A byte stream as the storage SCP receives it: PDUs (at most our maximum
/// length) and, in P-DATA, command sets decoded as the SCP decodes them.
pub fn pdus(bytes: &[u8]) -> usize {
    let mut buf = bytes;
    let mut command = Vec::new();
    let mut seen = 0;
    while buf.has_remaining() {
        let before = buf.remaining();
        match dicom_ul::pdu::read_pdu(&mut buf, MAX_PDU, false) {
            Ok(Some(dicom_ul::pdu::Pdu::PData { data })) => {
                for value in data {
                    if value.value_type != dicom_ul::pdu::PDataValueType::Command {
                        continue;
                    }
                    if command.len() + value.data.len() > net::MAX_NET_DATASET {
                        return seen;
                    }
                    command.extend_from_slice(&value.data);
                    if value.is_last {
                        if let Ok(set) = net::decode(&command, net::IMPLICIT_VR_LE) {
                            seen += usize::from(set.int(crate::dimse::COMMAND_FIELD).is_some());
                        }
                        command.clear();
                    }
                }
            }
            Ok(Some(_)) => seen += 1,
            Ok(None) | Err(_) => return seen,
        }
        if buf.remaining() >= before {
            return seen;
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    /// The fuzz corpora and every regression file run here too, in the
    /// ordinary test suite: a crash found once stays fixed.
    #[test]
    fn the_corpora_and_regressions_run_clean() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let mut ran = 0;
        for (target, f) in [
            ("dicom_json", super::dicom_json as fn(&[u8]) -> usize),
            ("multipart", super::multipart),
            ("pdus", super::pdus),
        ] {
            for kind in ["corpus", "regressions"] {
                let Ok(dir) = std::fs::read_dir(root.join(kind).join(target)) else {
                    continue;
                };
                for entry in dir.flatten() {
                    f(&std::fs::read(entry.path()).expect("read"));
                    ran += 1;
                }
            }
        }
        assert!(ran >= 3, "the fuzz corpora are missing");
    }
}
