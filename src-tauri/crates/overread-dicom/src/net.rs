//! Data sets as they travel in DIMSE messages (PS3.7 §9–10): command sets,
//! query identifiers and the data set of a C-STORE, plus the Part-10 header
//! that turns a received data set into a file (PS3.10 §7.1).
//!
//! The PACS crate speaks the upper-layer protocol; everything that encodes
//! or parses DICOM elements stays here, so that crate never sees dicom-rs's
//! data types.

use crate::attrs;
use crate::error::{Error, Result};
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::header::Header as _;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use std::collections::BTreeMap;
use std::io::Write;

/// Implicit VR Little Endian, the transfer syntax of every command set.
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// Largest identifier or command set parsed from the network: query answers
/// are a few hundred bytes; anything bigger is refused before parsing.
pub const MAX_NET_DATASET: usize = 1 << 20;

/// One attribute value of a network data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetValue {
    Text(String),
    U16(u16),
    U32(u32),
}

/// A flat data set of text and integer attributes, keyed by tag
/// (`group << 16 | element`). Sequences are skipped when parsing: nothing
/// Overread queries or commands uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetDataset {
    elements: BTreeMap<u32, NetValue>,
}

impl NetDataset {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a text attribute (an empty string is a universal matching key in
    /// a query: "return this attribute").
    pub fn set_text(&mut self, tag: u32, value: impl Into<String>) -> &mut Self {
        self.elements.insert(tag, NetValue::Text(value.into()));
        self
    }

    pub fn set_u16(&mut self, tag: u32, value: u16) -> &mut Self {
        self.elements.insert(tag, NetValue::U16(value));
        self
    }

    pub fn set_u32(&mut self, tag: u32, value: u32) -> &mut Self {
        self.elements.insert(tag, NetValue::U32(value));
        self
    }

    pub fn get(&self, tag: u32) -> Option<&NetValue> {
        self.elements.get(&tag)
    }

    /// A text attribute, trimmed; `None` when absent or empty.
    pub fn text(&self, tag: u32) -> Option<&str> {
        match self.elements.get(&tag)? {
            NetValue::Text(s) => {
                let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
                (!s.is_empty()).then_some(s)
            }
            _ => None,
        }
    }

    /// An integer attribute, whether it was encoded as US, UL or a string.
    pub fn int(&self, tag: u32) -> Option<u32> {
        match self.elements.get(&tag)? {
            NetValue::U16(v) => Some(u32::from(*v)),
            NetValue::U32(v) => Some(*v),
            NetValue::Text(s) => s.trim().parse().ok(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &NetValue)> {
        self.elements.iter().map(|(t, v)| (*t, v))
    }

    fn to_object(&self, skip_group_length: bool) -> Result<InMemDicomObject> {
        let mut obj = InMemDicomObject::new_empty();
        for (&tag, value) in &self.elements {
            if skip_group_length && tag == 0x0000_0000 {
                continue;
            }
            let t = Tag((tag >> 16) as u16, tag as u16);
            let (vr, value) = match value {
                NetValue::U16(v) => (VR::US, PrimitiveValue::from(*v)),
                NetValue::U32(v) => (VR::UL, PrimitiveValue::from(*v)),
                NetValue::Text(s) => {
                    let vr = StandardDataDictionary
                        .by_tag(t)
                        .map(|e| e.vr().relaxed())
                        .unwrap_or(VR::LO);
                    (vr, PrimitiveValue::from(s.as_str()))
                }
            };
            obj.put(DataElement::new(t, vr, value));
        }
        Ok(obj)
    }
}

fn registry(ts_uid: &str) -> Result<&'static dicom_encoding::TransferSyntax> {
    TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| Error::UnsupportedTransferSyntax { uid: ts_uid.into() })
}

/// Encodes a data set (a query identifier) in the given transfer syntax.
pub fn encode(ds: &NetDataset, ts_uid: &str) -> Result<Vec<u8>> {
    let ts = registry(ts_uid)?;
    let mut out = Vec::new();
    ds.to_object(false)?
        .write_dataset_with_ts(&mut out, ts)
        .map_err(|e| Error::Parse {
            message: format!("cannot encode data set: {e}"),
        })?;
    Ok(out)
}

/// Encodes a command set (implicit VR little endian) with its Command Group
/// Length (0000,0000) computed, as PS3.7 §6.3.1 requires.
pub fn encode_command(ds: &NetDataset) -> Result<Vec<u8>> {
    let body = {
        let ts = registry(IMPLICIT_VR_LE)?;
        let mut out = Vec::new();
        ds.to_object(true)?
            .write_dataset_with_ts(&mut out, ts)
            .map_err(|e| Error::Parse {
                message: format!("cannot encode command set: {e}"),
            })?;
        out
    };
    let length = u32::try_from(body.len()).map_err(|_| Error::Parse {
        message: "command set too long".into(),
    })?;
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(&[0, 0, 0, 0]); // (0000,0000)
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Parses a command set or identifier received from a peer.
pub fn decode(bytes: &[u8], ts_uid: &str) -> Result<NetDataset> {
    if bytes.len() > MAX_NET_DATASET {
        return Err(Error::FileTooLarge {
            size: bytes.len() as u64,
            limit: MAX_NET_DATASET as u64,
        });
    }
    let ts = registry(ts_uid)?;
    if ts_uid == IMPLICIT_VR_LE || ts_uid == EXPLICIT_VR_LE {
        check_lengths(bytes, ts_uid == EXPLICIT_VR_LE)?;
    }
    let obj = InMemDicomObject::read_dataset_with_ts(bytes, ts).map_err(|e| Error::Parse {
        message: e.to_string(),
    })?;
    let mut ds = NetDataset::new();
    for elem in obj.iter() {
        let tag = (u32::from(elem.tag().0) << 16) | u32::from(elem.tag().1);
        let value = match elem.vr() {
            VR::SQ => continue,
            VR::US => match elem.value().to_int::<u16>() {
                Ok(v) => NetValue::U16(v),
                Err(_) => continue,
            },
            VR::UL => match elem.value().to_int::<u32>() {
                Ok(v) => NetValue::U32(v),
                Err(_) => continue,
            },
            VR::OB | VR::OW | VR::OF | VR::OD | VR::OL | VR::OV | VR::UN => continue,
            _ => match attrs::string(&obj, elem.tag()) {
                Some(s) => NetValue::Text(s),
                None => NetValue::Text(String::new()),
            },
        };
        ds.elements.insert(tag, value);
    }
    Ok(ds)
}

/// Walks a little-endian data set's element headers and checks that every
/// declared length fits in what was received, before the parser is handed
/// it: a peer's 90-byte command set that declares a 1.7 GB element would
/// otherwise make it allocate and read for seconds (found by the `pdus`
/// fuzz target). Sequences and items are walked into, not skipped.
fn check_lengths(bytes: &[u8], explicit: bool) -> Result<()> {
    let bad = |at: usize, why: &str| Error::Parse {
        message: format!("{why} at byte {at}"),
    };
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut at = 0usize;
    // Sequences entered (items and delimiters are only valid inside one).
    let mut depth = 0usize;
    // Just past a sequence's header: an item or its end must follow.
    let mut item_next = false;
    while at < bytes.len() {
        if bytes.len() - at < 8 {
            return Err(bad(at, "truncated element header"));
        }
        let (group, element) = (u16_at(at), u16_at(at + 2));
        if group == 0xFFFE {
            let len = u32_at(at + 4);
            match element {
                0xE000 if depth > 0 => {
                    if len != u32::MAX && len as usize > bytes.len() - at - 8 {
                        return Err(bad(at, "an item longer than the data"));
                    }
                }
                0xE00D | 0xE0DD if depth > 0 && len == 0 => {
                    if element == 0xE0DD {
                        depth -= 1;
                    }
                }
                _ => return Err(bad(at, &format!("unexpected (FFFE,{element:04X})"))),
            }
            item_next = false;
            at += 8;
            continue;
        }
        if item_next {
            return Err(bad(at, "a sequence whose value is not items"));
        }
        let (len, header, sequence, unit) = if explicit {
            let vr = [bytes[at + 4], bytes[at + 5]];
            let unit = fixed_size(&vr);
            let long = crate::layout::has_long_length(vr);
            if long {
                if bytes.len() - at < 12 {
                    return Err(bad(at, "truncated element header"));
                }
                (u32_at(at + 8), 12, &vr == b"SQ", unit)
            } else {
                (u32::from(u16_at(at + 6)), 8, false, unit)
            }
        } else {
            // Implicit VR: the dictionary says which tags are sequences
            // (the parser reads them as such); an undefined length is one.
            let len = u32_at(at + 4);
            let vr = crate::layout::dictionary_vr((group, element));
            let sequence = len == u32::MAX || vr == Some(*b"SQ");
            (len, 8, sequence, vr.as_ref().map_or(1, fixed_size))
        };
        at += header;
        if len == u32::MAX && !sequence {
            return Err(bad(at, "an undefined length outside a sequence"));
        }
        if len != u32::MAX && len as usize > bytes.len() - at {
            return Err(bad(
                at,
                &format!(
                    "an element ({group:04X},{element:04X}) declares {len} bytes, more than the data"
                ),
            ));
        }
        // A binary value that is not a whole number of its values would
        // leave the parser reading the next header from the wrong place.
        if len != u32::MAX && !(len as usize).is_multiple_of(unit) {
            return Err(bad(
                at,
                &format!("({group:04X},{element:04X}) has {len} bytes, not whole values of {unit}"),
            ));
        }
        if sequence {
            // Walk into its items (an empty one has none).
            if len != 0 {
                depth += 1;
                item_next = true;
            }
        } else {
            at += len as usize;
        }
    }
    Ok(())
}

/// The size of one value of a fixed-size binary VR, as the parser reads
/// it (OF, OL, OD, OV and OW too: a 18-byte OF read as four floats left
/// the parser two bytes short, reading a string's length from the middle of
/// a value; found by the `pdus` fuzz target); 1 otherwise.
fn fixed_size(vr: &[u8; 2]) -> usize {
    match vr {
        b"FD" | b"SV" | b"UV" | b"OD" | b"OV" => 8,
        b"FL" | b"SL" | b"UL" | b"AT" | b"OF" | b"OL" => 4,
        b"SS" | b"US" | b"OW" => 2,
        _ => 1,
    }
}

/// Writes a received data set as a Part-10 file: preamble, `DICM`, the file
/// meta information group, then the data set bytes exactly as received (in
/// the transfer syntax they were negotiated in).
pub fn write_part10(
    mut out: impl Write,
    sop_class_uid: &str,
    sop_instance_uid: &str,
    ts_uid: &str,
    dataset: &[u8],
) -> Result<()> {
    let io = |e: std::io::Error| Error::Write {
        path: "(stream)".into(),
        message: e.to_string(),
    };
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(sop_class_uid)
        .media_storage_sop_instance_uid(sop_instance_uid)
        .transfer_syntax(ts_uid)
        .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
        .implementation_version_name("OVERREAD_01")
        .build()
        .map_err(|e| Error::Parse {
            message: format!("cannot build file meta information: {e}"),
        })?;
    out.write_all(&[0u8; 128]).map_err(io)?;
    out.write_all(b"DICM").map_err(io)?;
    meta.write(&mut out).map_err(|e| Error::Parse {
        message: format!("cannot write file meta information: {e}"),
    })?;
    out.write_all(dataset).map_err(io)?;
    Ok(())
}

/// A Part-10 file as a C-STORE sends it: what it is, the transfer syntax
/// its data set is encoded in, and where the data set starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFile {
    pub sop_class_uid: String,
    pub sop_instance_uid: String,
    pub transfer_syntax: String,
    /// The data set bytes (after the file meta information).
    pub dataset: Vec<u8>,
}

/// Splits a Part-10 file for a C-STORE, after the same checks as any file
/// (lengths walked, UIDs present).
pub fn store_file(bytes: Vec<u8>, limits: &crate::Limits) -> Result<StoreFile> {
    let instance = crate::from_bytes(bytes, limits)?;
    let ts = instance.transfer_syntax();
    if ts.deflated {
        // The data set would go out inflated under a deflated syntax.
        return Err(Error::UnsupportedTransferSyntax {
            uid: ts.uid.to_string(),
        });
    }
    let transfer_syntax = ts.uid.to_string();
    let h = instance.header();
    let (Some(class), Some(sop)) = (h.sop_class_uid.clone(), h.sop_instance_uid.clone()) else {
        return Err(Error::MissingAttribute {
            attribute: "SOP Class and Instance UIDs",
        });
    };
    let dataset = instance.into_dataset();
    Ok(StoreFile {
        sop_class_uid: class,
        sop_instance_uid: sop,
        transfer_syntax,
        dataset,
    })
}

/// Overread's implementation class UID (a 2.25 UUID-derived root).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.178342156427951339178163529847719416221";

/// Whether a string is a syntactically valid UID (PS3.5 §9.1): digits and
/// dots, components without leading zeros, at most 64 characters.
pub fn is_valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 64
        && uid.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_digit())
                && (c == "0" || !c.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An implicit-VR OF element of 18 bytes (the dictionary's U Value
    /// Data, read as four floats) is refused: the parser would resume two
    /// bytes short and read a private string's length from inside a value
    /// (the `pdus` fuzz target's find: 3 GB for a 68-byte command set).
    #[test]
    fn a_binary_value_that_is_not_whole_floats_is_refused() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&[0x80, 0x00, 0x10, 0x00]);
        bytes.extend_from_slice(&18u32.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 18]);
        let err = decode(&bytes, IMPLICIT_VR_LE).expect_err("refused");
        assert!(err.to_string().contains("not whole values of 4"), "{err}");
        let mut whole = Vec::new();
        whole.extend_from_slice(&[0x80, 0x00, 0x10, 0x00]);
        whole.extend_from_slice(&16u32.to_le_bytes());
        whole.extend_from_slice(&[0u8; 16]);
        assert!(decode(&whole, IMPLICIT_VR_LE).is_ok());
    }

    /// A 90-byte command set that declares a 1.7 GB element (the `pdus`
    /// fuzz target's find) is refused at once, without allocating it.
    #[test]
    fn a_declared_length_past_the_data_is_refused_at_once() {
        let mut bytes = vec![0, 0, 0, 0];
        bytes.extend_from_slice(&0x696D_6F4Eu32.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 40]);
        let t0 = std::time::Instant::now();
        let err = decode(&bytes, IMPLICIT_VR_LE).expect_err("refused");
        assert!(err.to_string().contains("more than the data"), "{err}");
        assert!(t0.elapsed() < std::time::Duration::from_millis(100));
        // A tag the dictionary calls a sequence (implicit VR) whose value is
        // not items (the fuzzer's second find: seconds in the parser).
        let hex = "5200020014000000312e322dffffffffff2e38ff3031ff2e310000fc0001025a000000000000000102000000010000000008020000000100";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let t0 = std::time::Instant::now();
        assert!(decode(&bytes, IMPLICIT_VR_LE).is_err());
        assert!(t0.elapsed() < std::time::Duration::from_millis(100));
        // Explicit VR, long form.
        let mut bytes = vec![0x08, 0, 0x05, 0x11, b'O', b'B', 0, 0];
        bytes.extend_from_slice(&u32::MAX.wrapping_sub(1).to_le_bytes());
        assert!(decode(&bytes, EXPLICIT_VR_LE).is_err());
    }

    #[test]
    fn a_command_set_round_trips_with_its_group_length() {
        let mut ds = NetDataset::new();
        ds.set_text(0x0000_0002, "1.2.840.10008.1.1")
            .set_u16(0x0000_0100, 0x0030)
            .set_u16(0x0000_0110, 7)
            .set_u16(0x0000_0800, 0x0101);
        let bytes = encode_command(&ds).expect("encode");
        let length = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        assert_eq!(length as usize, bytes.len() - 12);
        let back = decode(&bytes, IMPLICIT_VR_LE).expect("decode");
        assert_eq!(back.text(0x0000_0002), Some("1.2.840.10008.1.1"));
        assert_eq!(back.int(0x0000_0100), Some(0x30));
        assert_eq!(back.int(0x0000_0110), Some(7));
        assert_eq!(back.int(0x0000_0000), Some(length));
    }

    #[test]
    fn an_identifier_round_trips_in_explicit_vr() {
        let mut ds = NetDataset::new();
        ds.set_text(0x0008_0052, "STUDY")
            .set_text(0x0010_0010, "DOE^J*")
            .set_text(0x0020_000D, "");
        let bytes = encode(&ds, EXPLICIT_VR_LE).expect("encode");
        let back = decode(&bytes, EXPLICIT_VR_LE).expect("decode");
        assert_eq!(back.text(0x0008_0052), Some("STUDY"));
        assert_eq!(back.text(0x0010_0010), Some("DOE^J*"));
        assert!(back.get(0x0020_000D).is_some());
        assert_eq!(back.text(0x0020_000D), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [&[0xffu8; 3][..], &[8, 0, 0x52, 0, 0xff, 0xff, 0xff, 0x7f]] {
            let _ = decode(bytes, IMPLICIT_VR_LE);
        }
        assert!(decode(&vec![0; MAX_NET_DATASET + 1], IMPLICIT_VR_LE).is_err());
    }

    #[test]
    fn a_received_data_set_becomes_a_readable_file() {
        let mut ds = NetDataset::new();
        ds.set_text(0x0008_0016, "1.2.840.10008.5.1.4.1.1.1")
            .set_text(0x0008_0018, "1.2.3.4")
            .set_text(0x0010_0020, "SYN-1");
        let body = encode(&ds, EXPLICIT_VR_LE).expect("encode");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.dcm");
        let file = std::fs::File::create(&path).expect("create");
        write_part10(
            file,
            "1.2.840.10008.5.1.4.1.1.1",
            "1.2.3.4",
            EXPLICIT_VR_LE,
            &body,
        )
        .expect("write");
        let header = crate::read_header(&path, &crate::Limits::default()).expect("read");
        assert_eq!(header.sop_instance_uid.as_deref(), Some("1.2.3.4"));
        assert_eq!(header.patient_id.as_deref(), Some("SYN-1"));
    }

    #[test]
    fn uids_are_validated() {
        assert!(is_valid_uid("1.2.840.10008.1.2"));
        assert!(is_valid_uid("2.25.0"));
        for bad in ["", "1..2", "1.02", "../x", "1.2.a", &"1.".repeat(40)] {
            assert!(!is_valid_uid(bad), "{bad}");
        }
    }
}
