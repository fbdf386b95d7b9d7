//! Typed access to attributes of a parsed data set. The only module that
//! touches dicom-rs value types besides `open`.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

pub(crate) type Object = InMemDicomObject;

pub(crate) fn string(obj: &Object, tag: Tag) -> Option<String> {
    let v = obj.get(tag)?.value().to_str().ok()?;
    let v = v.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!v.is_empty()).then(|| v.to_string())
}

/// All values of a multi-valued string attribute.
pub(crate) fn strings(obj: &Object, tag: Tag) -> Vec<String> {
    string(obj, tag)
        .map(|s| s.split('\\').map(|p| p.trim().to_string()).collect())
        .unwrap_or_default()
}

pub(crate) fn int(obj: &Object, tag: Tag) -> Option<i64> {
    obj.get(tag)?.value().to_int::<i64>().ok()
}

pub(crate) fn floats(obj: &Object, tag: Tag) -> Vec<f64> {
    obj.get(tag)
        .and_then(|e| e.value().to_multi_float64().ok())
        .unwrap_or_default()
}

pub(crate) fn float(obj: &Object, tag: Tag) -> Option<f64> {
    floats(obj, tag).first().copied()
}

pub(crate) fn ints(obj: &Object, tag: Tag) -> Vec<i64> {
    obj.get(tag)
        .and_then(|e| e.value().to_multi_int::<i64>().ok())
        .unwrap_or_default()
}

/// Raw value bytes (as little endian for binary VRs).
pub(crate) fn bytes(obj: &Object, tag: Tag) -> Option<Vec<u8>> {
    Some(obj.get(tag)?.value().to_bytes().ok()?.into_owned())
}

/// The items of a sequence attribute.
pub(crate) fn items(obj: &Object, tag: Tag) -> &[Object] {
    obj.get(tag).and_then(|e| e.value().items()).unwrap_or(&[])
}

/// First item of Shared, then Per-Frame Functional Groups holding `macro_tag`
/// (PS3.3 C.7.6.16), for enhanced multi-frame objects.
pub(crate) fn functional_group(obj: &Object, frame: u32, macro_tag: Tag) -> Option<&Object> {
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if let Some(item) = per_frame.get(frame as usize)
        && let Some(m) = items(item, macro_tag).first()
    {
        return Some(m);
    }
    let shared = items(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
    shared.first().and_then(|s| items(s, macro_tag).first())
}
