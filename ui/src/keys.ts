// Every key of the app, in one table: the viewer dispatches from it and the
// help screen (`?`) is rendered from it, so the two cannot disagree.

/** What a viewer key does. */
export type ViewerAction =
  | "back" | "next" | "previous"
  | "invert" | "rotate" | "flipH" | "flipV" | "reset" | "fit" | "actual"
  | "zoomIn" | "zoomOut" | "panLeft" | "panRight" | "panUp" | "panDown"
  | "toolWindow" | "toolPan" | "toolLength" | "toolAngle" | "toolBox"
  | "nextFinding" | "previousFinding" | "heatmap" | "contour" | "lessOpacity" | "moreOpacity"
  | "confirm" | "dismiss" | "signOff" | "normal" | "abnormal" | "preset"
  | "nextImage" | "previousImage" | "compare" | "olderPrior" | "newerPrior" | "sync";

export interface KeyRow {
  /** How the help screen shows the keys. */
  shown: string;
  help: string;
  /** Viewer keys (KeyboardEvent.key) and what each does. */
  viewer?: Record<string, ViewerAction>;
}

const digits = Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => [String(d), "preset" as const]));

export const KEYS: KeyRow[] = [
  { shown: "Alt+1 … Alt+4", help: "Worklist, viewer, audit, settings" },
  { shown: "j / k, Enter", help: "Next / previous study, open", viewer: { j: "next", k: "previous" } },
  { shown: "/ , u", help: "Search, unread only" },
  { shown: "1 … 9", help: "Window presets; drag (left, w tool) or right-drag to window", viewer: digits },
  { shown: "+ / − , f , o", help: "Zoom, fit, 1:1", viewer: { "+": "zoomIn", "=": "zoomIn", "-": "zoomOut", f: "fit", o: "actual" } },
  {
    shown: "arrows, p, w",
    help: "Pan; pan tool; window tool",
    viewer: { ArrowLeft: "panLeft", ArrowRight: "panRight", ArrowUp: "panUp", ArrowDown: "panDown", p: "toolPan", w: "toolWindow" },
  },
  { shown: "i, r, h, v, x", help: "Invert, rotate, flip, flip vertical, reset", viewer: { i: "invert", r: "rotate", h: "flipH", v: "flipV", x: "reset" } },
  { shown: "l, a", help: "Length, angle", viewer: { l: "toolLength", a: "toolAngle" } },
  { shown: "s / S", help: "Next / previous finding", viewer: { s: "nextFinding", S: "previousFinding" } },
  { shown: "m, t, , .", help: "Heatmap, contour, opacity", viewer: { m: "heatmap", t: "contour", ",": "lessOpacity", ".": "moreOpacity" } },
  { shown: "c, d", help: "Confirm, dismiss the selected finding", viewer: { c: "confirm", d: "dismiss" } },
  { shown: "b", help: "Draw a box to add a missed finding", viewer: { b: "toolBox" } },
  { shown: "e", help: "Sign the study off (every flagged finding decided); its results go to the PACS", viewer: { e: "signOff" } },
  { shown: "n / y", help: "Read first: normal / abnormal", viewer: { n: "normal", y: "abnormal" } },
  { shown: "] / [", help: "Next / previous image of the study (PA, AP, LAT)", viewer: { "]": "nextImage", "[": "previousImage" } },
  { shown: "q, < / >", help: "Compare with the prior (on / off); older / newer prior", viewer: { q: "compare", "<": "olderPrior", ">": "newerPrior" } },
  { shown: "z", help: "Synchronise window, zoom and pan of the two images (on / off)", viewer: { z: "sync" } },
  { shown: "Esc", help: "Back to the worklist", viewer: { Escape: "back" } },
];

const VIEWER: Record<string, ViewerAction> = Object.assign({}, ...KEYS.map((k) => k.viewer ?? {}));

/** The viewer action of a key, if it has one. */
export function viewerAction(key: string): ViewerAction | undefined {
  return Object.prototype.hasOwnProperty.call(VIEWER, key) ? VIEWER[key] : undefined;
}
