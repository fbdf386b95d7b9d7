"""Reads Overread's results objects with tools no one here wrote: highdicom
for the SR (TID 1500 groups, scores, regions, assessments) and the Parametric
Map (values through the Real World Value Mapping), pydicom for the GSPS.
Prints one JSON object for the Rust test to compare with what was written.

Usage: check.py SR PM GSPS
"""
import json
import sys

import highdicom as hd
import numpy as np
import pydicom

LOCAL = "99OVRD"


def code(c):
    return None if c is None else {"value": c.value, "scheme": c.scheme_designator, "meaning": c.meaning}


def local(value):
    return hd.sr.CodedConcept(value, LOCAL, value)


def group_json(g, has_region):
    out = {
        "label": str(g.tracking_identifier),
        "finding": code(g.finding_type),
        "region": None,
        "score": None,
        "threshold": None,
        "flagged": None,
        "assessment": None,
    }
    if has_region and g.roi is not None:
        pts = np.asarray(g.roi.value, dtype=float)
        out["region"] = [pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max() - pts[:, 0].min(), pts[:, 1].max() - pts[:, 1].min()]
    for m in g.get_measurements():
        if m.name.value == "AI-SCORE":
            out["score"] = float(m.value)
        elif m.name.value == "AI-THRESHOLD":
            out["threshold"] = float(m.value)
    for q in g.get_qualitative_evaluations():
        if q.name.value == "AI-FLAGGED":
            out["flagged"] = q.value.meaning
        elif q.name.value == "READER-ASSESS":
            out["assessment"] = q.value.value
    return out


def main(sr_path, pm_path, gsps_path):
    sr = hd.sr.srread(sr_path)
    report = sr.content
    groups = [group_json(g, True) for g in report.get_planar_roi_measurement_groups()]
    groups += [group_json(g, False) for g in report.get_image_measurement_groups()]
    observers = sr.VerifyingObserverSequence
    pm = hd.pm.ParametricMap.from_dataset(pydicom.dcmread(pm_path))
    mapping = pm.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    raw = pm.pixel_array.astype(np.float64)
    values = raw * float(mapping.RealWorldValueSlope) + float(mapping.RealWorldValueIntercept)
    pr = pydicom.dcmread(gsps_path)
    annotations = []
    for a in pr.get("GraphicAnnotationSequence", []):
        for g in a.get("GraphicObjectSequence", []):
            annotations.append({"type": g.GraphicType, "points": [float(v) for v in g.GraphicData]})
        for t in a.get("TextObjectSequence", []):
            annotations.append({"text": t.UnformattedTextValue})
    print(json.dumps({
        "sr": {
            "sop_class": sr.SOPClassUID,
            "verification": sr.VerificationFlag,
            "verifier": str(observers[0].VerifyingObserverName),
            "groups": groups,
        },
        "pm": {
            "rows": int(pm.Rows),
            "columns": int(pm.Columns),
            "frame_of_reference": pm.FrameOfReferenceUID,
            "source": pm.SharedFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID,
            "sum": float(values.sum()),
            "max": float(values.max()),
        },
        "gsps": {
            "sop_class": pr.SOPClassUID,
            "referenced": pr.ReferencedSeriesSequence[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID,
            "presentation_lut": pr.PresentationLUTShape,
            "annotations": annotations,
        },
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
