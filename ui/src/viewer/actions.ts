// What each viewer key does (the key table in ../keys names the actions):
// one function over the viewer's state, so Viewer.tsx stays the layout.

import type { FindingView, ImageGeometry, StudyView } from "../bindings";
import type { ViewerAction } from "../keys";
import type { Renderer } from "./renderer";
import type { Tool } from "./usePointer";
import type { View } from "./transform";
import type { Window as Voi } from "./window";

type Set<T> = (f: (v: T) => T) => void;
export type Heat = { label: string | null; mode: 1 | 2; opacity: number };

export interface ActionContext {
  study: StudyView;
  img: ImageGeometry;
  finding: FindingView | undefined;
  renderer: Renderer | null;
  setImg: Set<ImageGeometry | undefined>;
  setView: Set<View | null>;
  setWin: (w: Voi) => void;
  setHeat: Set<Heat>;
  setSelected: Set<number>;
  pointer: { missed: unknown; draft: unknown[]; pick: (t: Tool) => void; clear: () => void };
  calls: { decide: (f: FindingView, d: "confirm" | "dismiss") => unknown; signOff: () => unknown; impression: (i: "normal" | "abnormal") => unknown };
  canSignOff: boolean;
  fit: () => void;
  onBack: () => void;
  onStep: (delta: number) => void;
  /** Steps the main pane through the study's images. */
  stepImage: (delta: number) => void;
  /** Comparison: toggles it, or steps to an older (+1) or newer (−1) prior. */
  compare: (step: 0 | 1 | -1) => boolean;
  toggleSync: () => void;
}

/** Runs one viewer action; false if it did nothing (the key goes on). */
export function runAction(c: ActionContext, action: ViewerAction, key: string): boolean {
  const { study, img, finding, pointer } = c;
  const pan = (dx: number, dy: number) => c.setView((v) => v && { ...v, panX: v.panX + dx, panY: v.panY + dy });
  const n = study.findings.length;
  const preset = img.windows[0];
  switch (action) {
    case "back": if (pointer.missed || pointer.draft.length) pointer.clear(); else c.onBack(); break;
    case "next": c.onStep(1); break;
    case "previous": c.onStep(-1); break;
    case "invert":
      c.setImg((g) => g && { ...g, invert: !g.invert });
      if (c.renderer?.image) c.renderer.image = { ...c.renderer.image, invert: !img.invert };
      c.setView((v) => v && { ...v });
      break;
    case "rotate": c.setView((v) => v && { ...v, rotation: (v.rotation + 1) % 4 }); break;
    case "flipH": c.setView((v) => v && { ...v, flipH: !v.flipH }); break;
    case "flipV": c.setView((v) => v && { ...v, flipV: !v.flipV }); break;
    case "fit": c.fit(); break;
    case "actual": c.setView((v) => v && { ...v, zoom: 1 / (window.devicePixelRatio || 1) }); break;
    case "reset": c.fit(); if (preset) c.setWin({ center: preset.center, width: preset.width }); pointer.clear(); break;
    case "zoomIn": c.setView((v) => v && { ...v, zoom: v.zoom * 1.25 }); break;
    case "zoomOut": c.setView((v) => v && { ...v, zoom: v.zoom / 1.25 }); break;
    case "panLeft": pan(40, 0); break;
    case "panRight": pan(-40, 0); break;
    case "panUp": pan(0, 40); break;
    case "panDown": pan(0, -40); break;
    case "toolWindow": pointer.pick("wl"); break;
    case "toolPan": pointer.pick("pan"); break;
    case "toolLength": pointer.pick("length"); break;
    case "toolAngle": pointer.pick("angle"); break;
    case "toolBox": pointer.pick("box"); break;
    case "nextFinding": if (n) c.setSelected((i) => (i + 1) % n); break;
    case "previousFinding": if (n) c.setSelected((i) => (i - 1 + n) % n); break;
    case "heatmap": if (finding?.has_heatmap) c.setHeat((h) => ({ ...h, label: h.label === finding.label ? null : finding.label })); break;
    case "contour": c.setHeat((h) => ({ ...h, mode: h.mode === 1 ? 2 : 1 })); break;
    case "lessOpacity": c.setHeat((h) => ({ ...h, opacity: Math.max(0.1, h.opacity - 0.1) })); break;
    case "moreOpacity": c.setHeat((h) => ({ ...h, opacity: Math.min(1, h.opacity + 0.1) })); break;
    case "confirm": if (finding) c.calls.decide(finding, "confirm"); break;
    case "dismiss": if (finding) c.calls.decide(finding, "dismiss"); break;
    case "signOff": if (!c.canSignOff) return false; c.calls.signOff(); break;
    case "normal": case "abnormal":
      if (!study.ai_hidden) return false;
      c.calls.impression(action === "normal" ? "normal" : "abnormal");
      break;
    case "nextImage": if (study.images.length < 2) return false; c.stepImage(1); break;
    case "previousImage": if (study.images.length < 2) return false; c.stepImage(-1); break;
    case "compare": return c.compare(0);
    case "olderPrior": return c.compare(1);
    case "newerPrior": return c.compare(-1);
    case "sync": c.toggleSync(); break;
    case "preset": {
      const p = img.windows[Number(key) - 1];
      if (!p) return false;
      c.setWin({ center: p.center, width: p.width });
      break;
    }
  }
  return true;
}
