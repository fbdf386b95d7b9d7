//! Transfer syntaxes (PS3.5 §10 and Annex A) and what we do with each.
//!
//! | UID | name | data set | pixel data | decoded by |
//! |---|---|---|---|---|
//! | 1.2.840.10008.1.2 | Implicit VR Little Endian | implicit LE | native | ours |
//! | 1.2.840.10008.1.2.1 | Explicit VR Little Endian | explicit LE | native | ours |
//! | 1.2.840.10008.1.2.1.99 | Deflated Explicit VR Little Endian | deflated explicit LE | native | flate2 (bounded) + ours |
//! | 1.2.840.10008.1.2.2 | Explicit VR Big Endian (retired) | explicit BE | native | ours |
//! | 1.2.840.10008.1.2.5 | RLE Lossless | explicit LE | encapsulated | dicom-rs |
//! | 1.2.840.10008.1.2.4.50 | JPEG Baseline (8-bit) | explicit LE | encapsulated | libjpeg-turbo |
//! | 1.2.840.10008.1.2.4.51 | JPEG Extended (12-bit) | explicit LE | encapsulated | libjpeg-turbo |
//! | 1.2.840.10008.1.2.4.57 | JPEG Lossless | explicit LE | encapsulated | libjpeg-turbo |
//! | 1.2.840.10008.1.2.4.70 | JPEG Lossless SV1 | explicit LE | encapsulated | libjpeg-turbo |
//! | 1.2.840.10008.1.2.4.80 | JPEG-LS Lossless | explicit LE | encapsulated | dicom-rs (CharLS) |
//! | 1.2.840.10008.1.2.4.81 | JPEG-LS Near-Lossless | explicit LE | encapsulated | dicom-rs (CharLS) |
//! | 1.2.840.10008.1.2.4.90 | JPEG 2000 Lossless | explicit LE | encapsulated | dicom-rs (OpenJPEG); previews through jpeg2k (OpenJPEG, reduced resolution) |
//! | 1.2.840.10008.1.2.4.91 | JPEG 2000 | explicit LE | encapsulated | as .90 |
//! | 1.2.840.10008.1.2.4.201–.203 | HTJ2K | explicit LE | encapsulated | as .90 (OpenJPEG 2.5 decodes HTJ2K); the corpus's files are written by OpenJPH's `ojph_compress` |
//!
//! Every codec's frames can also be proved whole without a decode
//! (`Instance::check_complete`, in `pixels/complete.rs`).

/// How the data set's elements are encoded (PS3.5 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    pub explicit_vr: bool,
    pub little_endian: bool,
}

impl Encoding {
    pub const IMPLICIT_LE: Encoding = Encoding {
        explicit_vr: false,
        little_endian: true,
    };
    pub const EXPLICIT_LE: Encoding = Encoding {
        explicit_vr: true,
        little_endian: true,
    };
    pub const EXPLICIT_BE: Encoding = Encoding {
        explicit_vr: true,
        little_endian: false,
    };
}

/// The codec family that pixel data of a transfer syntax needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelCodec {
    /// Uncompressed, in the data set's byte order.
    Native,
    Rle,
    /// Any ISO 10918 process: baseline, extended 12-bit, lossless.
    Jpeg,
    JpegLs,
    Jpeg2000,
}

/// A transfer syntax that Overread can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferSyntax {
    pub uid: &'static str,
    pub name: &'static str,
    pub encoding: Encoding,
    pub deflated: bool,
    pub codec: PixelCodec,
}

const fn ts(
    uid: &'static str,
    name: &'static str,
    encoding: Encoding,
    deflated: bool,
    codec: PixelCodec,
) -> TransferSyntax {
    TransferSyntax {
        uid,
        name,
        encoding,
        deflated,
        codec,
    }
}

use Encoding as E;
use PixelCodec as C;

/// Every transfer syntax we read, in the order of the table above.
pub const SUPPORTED: &[TransferSyntax] = &[
    ts(
        "1.2.840.10008.1.2",
        "Implicit VR Little Endian",
        E::IMPLICIT_LE,
        false,
        C::Native,
    ),
    ts(
        "1.2.840.10008.1.2.1",
        "Explicit VR Little Endian",
        E::EXPLICIT_LE,
        false,
        C::Native,
    ),
    ts(
        "1.2.840.10008.1.2.1.99",
        "Deflated Explicit VR Little Endian",
        E::EXPLICIT_LE,
        true,
        C::Native,
    ),
    ts(
        "1.2.840.10008.1.2.2",
        "Explicit VR Big Endian",
        E::EXPLICIT_BE,
        false,
        C::Native,
    ),
    ts(
        "1.2.840.10008.1.2.5",
        "RLE Lossless",
        E::EXPLICIT_LE,
        false,
        C::Rle,
    ),
    ts(
        "1.2.840.10008.1.2.4.50",
        "JPEG Baseline",
        E::EXPLICIT_LE,
        false,
        C::Jpeg,
    ),
    ts(
        "1.2.840.10008.1.2.4.51",
        "JPEG Extended 12-bit",
        E::EXPLICIT_LE,
        false,
        C::Jpeg,
    ),
    ts(
        "1.2.840.10008.1.2.4.57",
        "JPEG Lossless",
        E::EXPLICIT_LE,
        false,
        C::Jpeg,
    ),
    ts(
        "1.2.840.10008.1.2.4.70",
        "JPEG Lossless SV1",
        E::EXPLICIT_LE,
        false,
        C::Jpeg,
    ),
    ts(
        "1.2.840.10008.1.2.4.80",
        "JPEG-LS Lossless",
        E::EXPLICIT_LE,
        false,
        C::JpegLs,
    ),
    ts(
        "1.2.840.10008.1.2.4.81",
        "JPEG-LS Near-Lossless",
        E::EXPLICIT_LE,
        false,
        C::JpegLs,
    ),
    ts(
        "1.2.840.10008.1.2.4.90",
        "JPEG 2000 Lossless",
        E::EXPLICIT_LE,
        false,
        C::Jpeg2000,
    ),
    ts(
        "1.2.840.10008.1.2.4.91",
        "JPEG 2000",
        E::EXPLICIT_LE,
        false,
        C::Jpeg2000,
    ),
    ts(
        "1.2.840.10008.1.2.4.201",
        "HTJ2K Lossless",
        E::EXPLICIT_LE,
        false,
        C::Jpeg2000,
    ),
    ts(
        "1.2.840.10008.1.2.4.202",
        "HTJ2K Lossless RPCL",
        E::EXPLICIT_LE,
        false,
        C::Jpeg2000,
    ),
    ts(
        "1.2.840.10008.1.2.4.203",
        "HTJ2K",
        E::EXPLICIT_LE,
        false,
        C::Jpeg2000,
    ),
];

impl TransferSyntax {
    /// Looks a UID up, ignoring the trailing NUL/space padding of UI values.
    pub fn from_uid(uid: &str) -> Option<&'static TransferSyntax> {
        let uid = uid.trim_end_matches(['\0', ' ']);
        SUPPORTED.iter().find(|ts| ts.uid == uid)
    }

    /// Whether a frame can be decoded at reduced resolution for much less
    /// than the full image (JPEG 2000 and HTJ2K: `Instance::reduced_frame`).
    pub fn is_reducible(&self) -> bool {
        self.codec == PixelCodec::Jpeg2000
    }

    pub fn is_encapsulated(&self) -> bool {
        self.codec != PixelCodec::Native
    }

    /// Whether decoding may lose information (values are then compared with a tolerance).
    pub fn is_lossy(&self) -> bool {
        matches!(
            self.uid,
            "1.2.840.10008.1.2.4.50"
                | "1.2.840.10008.1.2.4.51"
                | "1.2.840.10008.1.2.4.81"
                | "1.2.840.10008.1.2.4.91"
                | "1.2.840.10008.1.2.4.203"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_trims_padding() {
        let ts = TransferSyntax::from_uid("1.2.840.10008.1.2.4.51\0").expect("known");
        assert_eq!(ts.codec, PixelCodec::Jpeg);
        assert!(ts.is_lossy());
        assert!(TransferSyntax::from_uid("1.2.3.4").is_none());
    }

    #[test]
    fn uids_are_unique() {
        for (i, a) in SUPPORTED.iter().enumerate() {
            for b in &SUPPORTED[i + 1..] {
                assert_ne!(a.uid, b.uid);
            }
        }
    }
}
