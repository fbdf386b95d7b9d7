//! Building the results' data sets: typed puts, sequences, the modules the
//! three objects share (Patient, General Study, equipment, SOP Common), and
//! Part-10 bytes.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::{Code, OwnedCode, Source, StudyResults, codes};
use crate::error::{Error, Result};

pub(crate) type Ds = InMemDicomObject;

pub(crate) trait Put {
    fn text(&mut self, tag: Tag, vr: VR, value: &str);
    fn us(&mut self, tag: Tag, value: u16);
    fn seq(&mut self, tag: Tag, items: Vec<Ds>);
    fn code_seq(&mut self, tag: Tag, code: &OwnedCode);
}

impl Put for Ds {
    fn text(&mut self, tag: Tag, vr: VR, value: &str) {
        self.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    }

    fn us(&mut self, tag: Tag, value: u16) {
        self.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    }

    fn seq(&mut self, tag: Tag, items: Vec<Ds>) {
        self.put(DataElement::new(tag, VR::SQ, DataSetSequence::from(items)));
    }

    fn code_seq(&mut self, tag: Tag, code: &OwnedCode) {
        self.seq(tag, vec![code_item(code)]);
    }
}

/// A Code Sequence Macro item (PS3.3 Table 8.8-1).
pub(crate) fn code_item(code: &OwnedCode) -> Ds {
    let mut item = Ds::new_empty();
    // Values longer than 16 characters go in Long Code Value (PS3.3 8.8).
    if code.value.len() > 16 {
        item.text(tags::LONG_CODE_VALUE, VR::UC, &code.value);
    } else {
        item.text(tags::CODE_VALUE, VR::SH, &code.value);
    }
    item.text(tags::CODING_SCHEME_DESIGNATOR, VR::SH, &code.scheme);
    item.text(tags::CODE_MEANING, VR::LO, &clip(&code.meaning, 64));
    item
}

pub(crate) fn code(c: Code) -> OwnedCode {
    c.owned()
}

/// At most `max` characters (LO and PN limits), never splitting a character.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control() && *c != '\\')
        .take(max)
        .collect()
}

/// A Person Name from a display name: "Ann Reader" → "Reader^Ann"; a name
/// already in DICOM form is kept.
pub(crate) fn person_name(name: &str) -> String {
    let name = clip(name.trim(), 64);
    if name.contains('^') {
        return name;
    }
    let mut parts: Vec<&str> = name.split_whitespace().collect();
    match parts.pop() {
        Some(family) if !parts.is_empty() => format!("{family}^{}", parts.join(" ")),
        Some(only) => only.to_string(),
        None => String::new(),
    }
}

/// What a results object is and which series it goes in.
#[derive(Clone, Copy)]
pub(crate) struct Identity<'a> {
    pub sop_class: &'a str,
    pub sop_instance: &'a str,
    pub series_uid: &'a str,
    pub modality: &'a str,
    pub series_number: u16,
    pub series_description: &'a str,
}

/// Patient, General Study, General Series (less the modality-specific
/// parts), General and Enhanced General Equipment, SOP Common: what every
/// results object copies from its source image or says about Overread.
pub(crate) fn common(r: &StudyResults, src: &Source<'_>, id: &Identity<'_>) -> Ds {
    let Identity {
        sop_class,
        sop_instance,
        series_uid,
        modality,
        series_number,
        series_description,
    } = *id;
    let h = src.header;
    let mut ds = Ds::new_empty();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    ds.text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
    ds.text(tags::SOP_CLASS_UID, VR::UI, sop_class);
    ds.text(tags::SOP_INSTANCE_UID, VR::UI, sop_instance);
    ds.text(tags::INSTANCE_CREATION_DATE, VR::DA, &r.signed_date);
    ds.text(tags::INSTANCE_CREATION_TIME, VR::TM, &r.signed_time);
    // Sign-off times are UTC.
    ds.text(tags::TIMEZONE_OFFSET_FROM_UTC, VR::SH, "+0000");
    // Patient.
    ds.text(tags::PATIENT_NAME, VR::PN, &opt(&h.patient_name));
    ds.text(tags::PATIENT_ID, VR::LO, &opt(&h.patient_id));
    ds.text(
        tags::PATIENT_BIRTH_DATE,
        VR::DA,
        &opt(&h.patient_birth_date),
    );
    ds.text(tags::PATIENT_SEX, VR::CS, &opt(&h.patient_sex));
    // General Study.
    ds.text(tags::STUDY_INSTANCE_UID, VR::UI, src.study_uid);
    ds.text(tags::STUDY_DATE, VR::DA, &opt(&h.study_date));
    ds.text(tags::STUDY_TIME, VR::TM, &opt(&h.study_time));
    ds.text(
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        &opt(&h.referring_physician_name),
    );
    ds.text(tags::STUDY_ID, VR::SH, &opt(&h.study_id));
    ds.text(tags::ACCESSION_NUMBER, VR::SH, &opt(&h.accession_number));
    if let Some(d) = &h.study_description {
        ds.text(tags::STUDY_DESCRIPTION, VR::LO, d);
    }
    // Series.
    ds.text(tags::MODALITY, VR::CS, modality);
    ds.text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid);
    ds.text(tags::SERIES_NUMBER, VR::IS, &series_number.to_string());
    ds.text(tags::SERIES_DESCRIPTION, VR::LO, series_description);
    ds.text(tags::SERIES_DATE, VR::DA, &r.signed_date);
    ds.text(tags::SERIES_TIME, VR::TM, &r.signed_time);
    // General and Enhanced General Equipment.
    ds.text(tags::MANUFACTURER, VR::LO, "Overread");
    ds.text(
        tags::MANUFACTURER_MODEL_NAME,
        VR::LO,
        "Overread workstation",
    );
    ds.text(
        tags::DEVICE_SERIAL_NUMBER,
        VR::LO,
        &clip(&r.workstation_id, 64),
    );
    ds.text(
        tags::SOFTWARE_VERSIONS,
        VR::LO,
        &clip(&r.software_version, 64),
    );
    if let Some(i) = &r.institution {
        ds.text(tags::INSTITUTION_NAME, VR::LO, &clip(i, 64));
    }
    // Our local codes, identified (PS3.3 C.12.1.1.3).
    let mut scheme = Ds::new_empty();
    scheme.text(tags::CODING_SCHEME_DESIGNATOR, VR::SH, codes::LOCAL);
    scheme.text(tags::CODING_SCHEME_NAME, VR::ST, codes::LOCAL_NAME);
    scheme.text(
        tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION,
        VR::ST,
        "The Overread project",
    );
    ds.seq(tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE, vec![scheme]);
    ds
}

/// General Series of an image-like object (PM, GSPS): the body part, and
/// Laterality (for paired parts) unknown, i.e. empty, only when the image
/// does not say what it shows.
pub(crate) fn body_part(ds: &mut Ds, src: &Source<'_>) {
    match &src.header.body_part {
        Some(part) => ds.text(tags::BODY_PART_EXAMINED, VR::CS, part),
        None => ds.text(tags::LATERALITY, VR::CS, ""),
    }
}

/// The source image as a Referenced Series / SOP hierarchy item
/// (Hierarchical SOP Instance Reference Macro, PS3.3 Table C.17-3).
pub(crate) fn evidence(study_uid: &str, series_uid: &str, sop_class: &str, sop: &str) -> Ds {
    let mut sop_item = Ds::new_empty();
    sop_item.text(tags::REFERENCED_SOP_CLASS_UID, VR::UI, sop_class);
    sop_item.text(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, sop);
    let mut series = Ds::new_empty();
    series.text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid);
    series.seq(tags::REFERENCED_SOP_SEQUENCE, vec![sop_item]);
    let mut study = Ds::new_empty();
    study.text(tags::STUDY_INSTANCE_UID, VR::UI, study_uid);
    study.seq(tags::REFERENCED_SERIES_SEQUENCE, vec![series]);
    study
}

/// A Referenced SOP item (class and instance).
pub(crate) fn sop_ref(sop_class: &str, sop: &str) -> Ds {
    let mut item = Ds::new_empty();
    item.text(tags::REFERENCED_SOP_CLASS_UID, VR::UI, sop_class);
    item.text(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, sop);
    item
}

/// The data set as a Part-10 file in Explicit VR Little Endian.
pub(crate) fn part10(ds: Ds, sop_class: &str, sop_instance: &str) -> Result<Vec<u8>> {
    let fail = |e: String| Error::Results { reason: e };
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(sop_instance)
        .implementation_class_uid(crate::net::IMPLEMENTATION_CLASS_UID)
        .implementation_version_name("OVERREAD_01");
    let file = ds.with_meta(meta).map_err(|e| fail(e.to_string()))?;
    let mut out = Vec::new();
    file.write_all(&mut out).map_err(|e| fail(e.to_string()))?;
    Ok(out)
}
