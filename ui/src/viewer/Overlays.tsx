// What is drawn over the image: the AI's box, missed findings, the box
// being drawn, measurements (SVG in canvas pixels), and the four corners'
// text (patient, study, window and zoom, probe and tool).

import type { DecisionView, FindingView, ImageGeometry, StudyView } from "../bindings";
import { angle, box, length, type Point } from "./measure";
import { toCanvas, type View } from "./transform";
import type { Measurement, Rect, Tool } from "./usePointer";
import type { Window } from "./window";

interface AnnotationProps {
  view: View | null;
  img: ImageGeometry | undefined;
  size: [number, number];
  aiBox: FindingView["region"];
  decisions: DecisionView[];
  missed: Rect | null;
  measurements: Measurement[];
  draft: Point[];
  tool: Tool;
}

export function Annotations(p: AnnotationProps) {
  const { view, img, size } = p;
  const spacing = (img?.pixel_spacing ?? null) as [number, number] | null;
  const toScreen = (pt: Point): Point => (view && img ? toCanvas(view, img.width, img.height, size[0], size[1], pt[0], pt[1]) : [0, 0]);
  const boxPath = (r: Rect) =>
    [[r.x, r.y], [r.x + r.width, r.y], [r.x + r.width, r.y + r.height], [r.x, r.y + r.height]]
      .map((pt) => toScreen(pt as Point).join(","))
      .join(" ");
  const drafting = p.draft.length ? [{ kind: p.tool === "angle" ? "angle" : p.tool === "box" ? "box" : "length", points: p.draft }] : [];
  return (
    <svg class="annotations" width={size[0]} height={size[1]}>
      {p.aiBox && <polygon class="ai-box" points={boxPath(p.aiBox)} />}
      {p.decisions
        .filter((d) => d.decision === "add_missed" && d.region)
        .map((d) => <polygon key={d.seq} class="missed-box" points={boxPath(d.region!)} />)}
      {p.missed && <polygon class="draft-box" points={boxPath(p.missed)} />}
      {[...p.measurements, ...drafting].map((m, i) => {
        if (m.kind === "box") {
          const b = m.points.length === 2 ? box(m.points[0], m.points[1], img?.width ?? 0, img?.height ?? 0) : null;
          return b ? <polygon key={`d${i}`} class="draft-box" points={boxPath(b)} /> : null;
        }
        const pts = m.points.map(toScreen);
        let text = "";
        if (m.kind === "length" && m.points.length === 2) {
          const l = length(m.points[0], m.points[1], spacing);
          text = `${l.value.toFixed(1)} ${l.unit}`;
        } else if (m.kind === "angle" && m.points.length === 3) {
          text = `${angle(m.points[0], m.points[1], m.points[2], spacing).toFixed(1)}°`;
        }
        const last = pts[pts.length - 1];
        return (
          <g key={`m${i}`} class="measure">
            <polyline points={pts.map((pt) => pt.join(",")).join(" ")} />
            {text && <text x={last[0] + 6} y={last[1] - 6}>{text}</text>}
          </g>
        );
      })}
    </svg>
  );
}

const TOOL_LABEL: Record<Tool, string> = {
  wl: "Window (w)",
  pan: "Pan (p)",
  length: "Length (l)",
  angle: "Angle (a)",
  box: "Missed finding box (b)",
};

interface CornerProps {
  study: StudyView;
  win: Window;
  view: View;
  tool: Tool;
  readout: { current: HTMLDivElement | null };
  probe: { current: HTMLDivElement | null };
}

export function Corners({ study, win, view, tool, readout, probe }: CornerProps) {
  const img = study.image;
  const spacing = img.pixel_spacing;
  return (
    <>
      <div class="corner tl">
        <div class="strong">{study.patient_name}</div>
        <div>{study.patient_id} {study.patient_sex} {study.patient_age}</div>
      </div>
      <div class="corner tr">
        <div>{study.study_date} {study.accession && `Acc ${study.accession}`}</div>
        <div>{study.modality} {study.view} {study.body_part}</div>
        <div>{study.study_description}</div>
      </div>
      <div class="corner bl" id="window-readout" ref={readout}>
        <div>W {Math.round(win.width)} / C {Math.round(win.center)}{img.invert ? "  (inverted)" : ""}</div>
        <div>Zoom {Math.round(view.zoom * 100)}%{view.rotation ? `  Rot ${view.rotation * 90}°` : ""}{view.flipH ? "  Flip H" : ""}{view.flipV ? "  Flip V" : ""}</div>
      </div>
      <div class="corner br">
        <div ref={probe} id="probe" />
        <div>{spacing ? `${spacing[1].toFixed(3)} mm/px${img.spacing_at_detector ? " (at detector)" : ""}` : "No pixel spacing: lengths in px"}</div>
        <div>Tool: {TOOL_LABEL[tool]}</div>
      </div>
    </>
  );
}
