//! The structured report: TID 1500 Measurement Report in a Comprehensive 3D
//! SR. One measurement group per finding (TID 1410 with its region, TID 1501
//! without), each with the AI's score, threshold and flag and the reader's
//! assessment; verified by the reader who signed it off.

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};

use super::dataset::{self, Ds, Put, code, code_item};
use super::{Assessment, FindingResult, ObjectKind, OwnedCode, Rect, ResultObject, Source};
use super::{StudyResults, codes};
use crate::error::Result;

pub const SOP_CLASS: &str = uids::COMPREHENSIVE3_DSR_STORAGE;

/// An SR content item and its children (PS3.3 C.17.3).
pub(crate) struct Item {
    relationship: Option<&'static str>,
    concept: Option<OwnedCode>,
    value: Value,
    children: Vec<Item>,
}

pub(crate) enum Value {
    Container {
        template: Option<&'static str>,
    },
    Code(OwnedCode),
    Text(String),
    Num {
        value: f64,
        unit: OwnedCode,
    },
    UidRef(String),
    PName(String),
    Image {
        sop_class: String,
        sop: String,
    },
    Scoord {
        graphic_type: &'static str,
        points: Vec<f32>,
    },
}

impl Item {
    fn new(rel: &'static str, concept: super::Code, value: Value) -> Item {
        Item {
            relationship: Some(rel),
            concept: Some(code(concept)),
            value,
            children: Vec::new(),
        }
    }

    fn with(mut self, children: Vec<Item>) -> Item {
        self.children = children;
        self
    }

    fn dataset(&self) -> Ds {
        let mut ds = Ds::new_empty();
        if let Some(rel) = self.relationship {
            ds.text(tags::RELATIONSHIP_TYPE, VR::CS, rel);
        }
        let value_type = match &self.value {
            Value::Container { .. } => "CONTAINER",
            Value::Code(_) => "CODE",
            Value::Text(_) => "TEXT",
            Value::Num { .. } => "NUM",
            Value::UidRef(_) => "UIDREF",
            Value::PName(_) => "PNAME",
            Value::Image { .. } => "IMAGE",
            Value::Scoord { .. } => "SCOORD",
        };
        ds.text(tags::VALUE_TYPE, VR::CS, value_type);
        if let Some(c) = &self.concept {
            ds.code_seq(tags::CONCEPT_NAME_CODE_SEQUENCE, c);
        }
        match &self.value {
            Value::Container { template } => {
                ds.text(tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE");
                if let Some(t) = template {
                    let mut item = Ds::new_empty();
                    item.text(tags::MAPPING_RESOURCE, VR::CS, "DCMR");
                    item.text(tags::TEMPLATE_IDENTIFIER, VR::CS, t);
                    ds.seq(tags::CONTENT_TEMPLATE_SEQUENCE, vec![item]);
                }
            }
            Value::Code(c) => ds.code_seq(tags::CONCEPT_CODE_SEQUENCE, c),
            Value::Text(t) => ds.text(tags::TEXT_VALUE, VR::UT, t),
            Value::Num { value, unit } => {
                let mut m = Ds::new_empty();
                m.text(tags::NUMERIC_VALUE, VR::DS, &ds_number(*value));
                m.put(DataElement::new(
                    tags::FLOATING_POINT_VALUE,
                    VR::FD,
                    PrimitiveValue::from(*value),
                ));
                m.seq(tags::MEASUREMENT_UNITS_CODE_SEQUENCE, vec![code_item(unit)]);
                ds.seq(tags::MEASURED_VALUE_SEQUENCE, vec![m]);
            }
            Value::UidRef(u) => ds.text(tags::UID, VR::UI, u),
            Value::PName(p) => ds.text(tags::PERSON_NAME, VR::PN, p),
            Value::Image { sop_class, sop } => {
                ds.seq(
                    tags::REFERENCED_SOP_SEQUENCE,
                    vec![dataset::sop_ref(sop_class, sop)],
                );
            }
            Value::Scoord {
                graphic_type,
                points,
            } => {
                ds.text(tags::GRAPHIC_TYPE, VR::CS, graphic_type);
                ds.put(DataElement::new(
                    tags::GRAPHIC_DATA,
                    VR::FL,
                    PrimitiveValue::F32(points.iter().copied().collect()),
                ));
            }
        }
        if !self.children.is_empty() {
            let items = self.children.iter().map(Item::dataset).collect();
            ds.seq(tags::CONTENT_SEQUENCE, items);
        }
        ds
    }
}

/// A DS value (at most 16 characters) as close to `v` as DS allows; the
/// exact value travels in Floating Point Value beside it.
fn ds_number(v: f64) -> String {
    for digits in (0..=12).rev() {
        let s = format!("{v:.digits$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s.len() <= 16 {
            return s;
        }
    }
    format!("{v:.3e}")
}

fn source_image(src: &Source<'_>) -> Value {
    Value::Image {
        sop_class: src.sop_class_uid.to_string(),
        sop: src.sop_uid.to_string(),
    }
}

fn observers(r: &StudyResults) -> Vec<Item> {
    let obs = "HAS OBS CONTEXT";
    let mut v = vec![
        Item::new(obs, codes::OBSERVER_TYPE, Value::Code(code(codes::PERSON))),
        Item::new(
            obs,
            codes::PERSON_OBSERVER_NAME,
            Value::PName(dataset::person_name(&r.signer.name)),
        ),
    ];
    let role = r.signer.role.to_ascii_lowercase();
    let organisational = if role.contains("radiographer") {
        Some(codes::RADIOGRAPHER)
    } else if role.contains("radiologist") || role.contains("physician") {
        Some(codes::PHYSICIAN)
    } else {
        None
    };
    if let Some(role) = organisational {
        v.push(Item::new(
            obs,
            codes::PERSON_ROLE_IN_ORGANIZATION,
            Value::Code(code(role)),
        ));
    }
    v.push(Item::new(
        obs,
        codes::PERSON_ROLE_IN_PROCEDURE,
        Value::Code(code(codes::VERIFYING)),
    ));
    if let Some(a) = &r.algorithm {
        v.extend([
            Item::new(obs, codes::OBSERVER_TYPE, Value::Code(code(codes::DEVICE))),
            Item::new(
                obs,
                codes::DEVICE_OBSERVER_UID,
                Value::UidRef(super::derived_uid(&["overread-model", &a.sha256])),
            ),
            Item::new(
                obs,
                codes::DEVICE_OBSERVER_NAME,
                Value::Text(format!("{} {}", a.name, a.version)),
            ),
            Item::new(
                obs,
                codes::DEVICE_OBSERVER_MANUFACTURER,
                Value::Text("Overread (model run on the workstation)".into()),
            ),
            Item::new(
                obs,
                codes::DEVICE_OBSERVER_MODEL_NAME,
                Value::Text(a.name.clone()),
            ),
        ]);
    }
    v
}

fn group(r: &StudyResults, src: &Source<'_>, f: &FindingResult, index: usize) -> Item {
    let obs = "HAS OBS CONTEXT";
    let mut v = vec![
        Item::new(
            obs,
            codes::TRACKING_IDENTIFIER,
            Value::Text(tracking_identifier(f)),
        ),
        Item::new(
            obs,
            codes::TRACKING_UID,
            Value::UidRef(r.uid(&format!("tracking/{index}/{}", f.label))),
        ),
        Item::new(
            "CONTAINS",
            codes::FINDING,
            Value::Code(codes::finding(&f.label)),
        ),
    ];
    if let (Some(a), Some(_)) = (&r.algorithm, &f.ai) {
        let m = "HAS CONCEPT MOD";
        v.push(Item::new(
            m,
            codes::ALGORITHM_NAME,
            Value::Text(a.name.clone()),
        ));
        v.push(Item::new(
            m,
            codes::ALGORITHM_VERSION,
            Value::Text(a.version.clone()),
        ));
        v.push(Item::new(
            m,
            codes::ALGORITHM_PARAMETERS,
            Value::Text(format!("sha256={}", a.sha256)),
        ));
    }
    if let Some(region) = f.region {
        v.push(region_item(src, region));
    }
    if let Some(ai) = f.ai {
        let unit = || code(codes::NO_UNITS);
        v.push(
            Item::new(
                "CONTAINS",
                codes::AI_SCORE,
                Value::Num {
                    value: ai.score,
                    unit: unit(),
                },
            )
            .with(vec![Item::new(
                "INFERRED FROM",
                codes::SOURCE_OF_MEASUREMENT,
                source_image(src),
            )]),
        );
        v.push(Item::new(
            "CONTAINS",
            codes::OPERATING_THRESHOLD,
            Value::Num {
                value: ai.threshold,
                unit: unit(),
            },
        ));
        let flag = if ai.flagged { codes::YES } else { codes::NO };
        v.push(Item::new(
            "CONTAINS",
            codes::FLAGGED_BY_AI,
            Value::Code(code(flag)),
        ));
    }
    v.push(Item::new(
        "CONTAINS",
        codes::READER_ASSESSMENT,
        Value::Code(code(f.assessment.code())),
    ));
    if let Some(reason) = f.reason.as_deref().filter(|s| !s.trim().is_empty()) {
        v.push(Item::new(
            "CONTAINS",
            codes::ASSESSMENT_REASON,
            Value::Text(reason.to_string()),
        ));
    }
    Item::new(
        "CONTAINS",
        codes::MEASUREMENT_GROUP,
        Value::Container {
            template: Some(if f.region.is_some() { "1410" } else { "1501" }),
        },
    )
    .with(v)
}

/// "nodule", or "nodule (added by reader)": unique and readable in any viewer.
fn tracking_identifier(f: &FindingResult) -> String {
    let label = dataset::clip(&f.label, 48);
    if f.assessment == Assessment::Added {
        format!("{label} (added by reader)")
    } else {
        label
    }
}

fn region_item(src: &Source<'_>, region: Rect) -> Item {
    Item::new(
        "CONTAINS",
        codes::IMAGE_REGION,
        Value::Scoord {
            graphic_type: "POLYLINE",
            points: region.polyline(),
        },
    )
    .with(vec![Item {
        relationship: Some("SELECTED FROM"),
        concept: None,
        value: source_image(src),
        children: Vec::new(),
    }])
}

pub(crate) fn write(r: &StudyResults, src: &Source<'_>) -> Result<ResultObject> {
    let sop = r.uid("sr");
    let series = r.series_uid("sr");
    let mut ds = dataset::common(
        r,
        src,
        &dataset::Identity {
            sop_class: SOP_CLASS,
            sop_instance: &sop,
            series_uid: &series,
            modality: "SR",
            series_number: 9901,
            series_description: "AI results and reader assessment (Overread)",
        },
    );
    ds.seq(tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE, vec![]);
    // SR Document General.
    ds.text(tags::INSTANCE_NUMBER, VR::IS, "1");
    ds.text(tags::PRELIMINARY_FLAG, VR::CS, "FINAL");
    ds.text(tags::COMPLETION_FLAG, VR::CS, "COMPLETE");
    ds.text(tags::VERIFICATION_FLAG, VR::CS, "VERIFIED");
    ds.text(tags::CONTENT_DATE, VR::DA, &r.signed_date);
    ds.text(tags::CONTENT_TIME, VR::TM, &r.signed_time);
    let mut verifier = Ds::new_empty();
    verifier.text(
        tags::VERIFYING_OBSERVER_NAME,
        VR::PN,
        &dataset::person_name(&r.signer.name),
    );
    verifier.seq(
        tags::VERIFYING_OBSERVER_IDENTIFICATION_CODE_SEQUENCE,
        vec![],
    );
    verifier.text(
        tags::VERIFYING_ORGANIZATION,
        VR::LO,
        &dataset::clip(r.institution.as_deref().unwrap_or(""), 64),
    );
    verifier.text(
        tags::VERIFICATION_DATE_TIME,
        VR::DT,
        &format!("{}{}", r.signed_date, r.signed_time),
    );
    ds.seq(tags::VERIFYING_OBSERVER_SEQUENCE, vec![verifier]);
    ds.seq(tags::PERFORMED_PROCEDURE_CODE_SEQUENCE, vec![]);
    ds.seq(
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        vec![dataset::evidence(
            src.study_uid,
            src.series_uid,
            src.sop_class_uid,
            src.sop_uid,
        )],
    );
    if let Some(earlier) = r.predecessor_sr_uid() {
        ds.seq(
            tags::PREDECESSOR_DOCUMENTS_SEQUENCE,
            vec![dataset::evidence(
                src.study_uid,
                &series,
                SOP_CLASS,
                &earlier,
            )],
        );
    }
    // SR Document Content: the root container.
    let mut content = vec![Item::new(
        "HAS CONCEPT MOD",
        codes::LANGUAGE,
        Value::Code(code(codes::ENGLISH_UK)),
    )];
    content.extend(observers(r));
    content.push(Item::new(
        "HAS CONCEPT MOD",
        codes::PROCEDURE_REPORTED,
        Value::Code(code(codes::IMAGING_PROCEDURE)),
    ));
    content.push(
        Item::new(
            "CONTAINS",
            codes::IMAGE_LIBRARY,
            Value::Container { template: None },
        )
        .with(vec![
            Item::new(
                "CONTAINS",
                codes::IMAGE_LIBRARY_GROUP,
                Value::Container { template: None },
            )
            .with(vec![Item {
                relationship: Some("CONTAINS"),
                concept: None,
                value: source_image(src),
                children: Vec::new(),
            }]),
        ]),
    );
    let groups = r
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| group(r, src, f, i))
        .collect();
    content.push(
        Item::new(
            "CONTAINS",
            codes::IMAGING_MEASUREMENTS,
            Value::Container { template: None },
        )
        .with(groups),
    );
    let root = Item {
        relationship: None,
        concept: Some(code(codes::IMAGING_MEASUREMENT_REPORT)),
        value: Value::Container {
            template: Some("1500"),
        },
        children: content,
    };
    let root = root.dataset();
    for e in root.into_iter() {
        ds.put(e);
    }
    let bytes = dataset::part10(ds, SOP_CLASS, &sop)?;
    Ok(ResultObject {
        kind: ObjectKind::Sr,
        sop_class_uid: SOP_CLASS,
        sop_instance_uid: sop,
        series_instance_uid: series,
        bytes,
    })
}
