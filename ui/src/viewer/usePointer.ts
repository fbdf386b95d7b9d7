// Pointer tools on the image: left = the current tool (window, pan,
// length, angle, missed-finding box), middle = pan, right = window/level,
// wheel = zoom about the cursor. Window/level while dragging bypasses
// rendering the component: the new window is drawn on the next animation
// frame and the readout updated in place; the state catches up on mouse up.

import { useRef, useState } from "preact/hooks";
import type { ImageGeometry } from "../bindings";
import { box, type Point } from "./measure";
import type { Overlay, Renderer } from "./renderer";
import { toImage, type View } from "./transform";
import { perf } from "./useStudy";
import { drag, type Window } from "./window";

export type Tool = "wl" | "pan" | "length" | "angle" | "box";
export type Measurement = { kind: "length" | "angle"; points: Point[] };
export type Rect = { x: number; y: number; width: number; height: number };

interface Inputs {
  canvas: { current: HTMLCanvasElement | null };
  renderer: { current: Renderer | null };
  img: ImageGeometry | undefined;
  view: View | null;
  setView: (v: View) => void;
  win: Window | null;
  setWin: (w: Window) => void;
  size: [number, number];
  full: { current: Uint16Array | null };
  overlay: Overlay;
  /** The window readout's first line, written in place while dragging. */
  readout: { current: HTMLDivElement | null };
  /** The pixel probe, written in place as the mouse moves. */
  probe: { current: HTMLDivElement | null };
  /** The second pane's drawing of a live window, when it is synchronised. */
  live?: { current: ((w: Window) => void) | null };
}

export function usePointer(p: Inputs) {
  const [tool, setTool] = useState<Tool>("wl");
  const [measurements, setMeasurements] = useState<Measurement[]>([]);
  const [draft, setDraft] = useState<Point[]>([]);
  const [missed, setMissed] = useState<Rect | null>(null);
  const dragState = useRef<{ x: number; y: number; view: View; win: Window; button: number } | null>(null);
  const liveWin = useRef<Window | null>(null);
  const framePending = useRef(false);
  const { img, view, win, size } = p;

  const local = (e: MouseEvent): [number, number] => {
    const rect = p.canvas.current!.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  };
  const imagePoint = (e: MouseEvent): Point | null => {
    if (!view || !img) return null;
    const [px, py] = local(e);
    return toImage(view, img.width, img.height, size[0], size[1], px, py);
  };
  const setProbe = (text: string) => {
    const el = p.probe.current;
    if (el && el.textContent !== text) el.textContent = text;
  };
  const drawing = tool === "length" || tool === "angle" || tool === "box";

  const onDown = (e: MouseEvent) => {
    if (!view || !win) return;
    const pt = imagePoint(e);
    if (e.button === 0 && drawing && pt) {
      const next = [...draft, pt];
      if (tool !== "angle" && next.length === 1) next.push(pt);
      setDraft(next);
      if (tool === "angle" && next.length < 3) return;
    }
    dragState.current = { x: e.clientX, y: e.clientY, view, win, button: e.button };
  };

  const liveWindow = (w: Window) => {
    liveWin.current = w;
    if (framePending.current) return;
    framePending.current = true;
    requestAnimationFrame(() => {
      framePending.current = false;
      const cur = liveWin.current;
      const r = p.renderer.current;
      if (!cur || !r || !view || !img) return;
      r.draw(view, cur.center, cur.width, p.overlay);
      p.live?.current?.(cur);
      perf.frames++;
      perf.lastFrame = performance.now();
      const line = p.readout.current?.firstElementChild;
      if (line) line.textContent = `W ${Math.round(cur.width)} / C ${Math.round(cur.center)}${img.invert ? "  (inverted)" : ""}`;
    });
  };

  const onMove = (e: MouseEvent) => {
    const pt = imagePoint(e);
    if (pt && img && p.full.current) {
      const [x, y] = [Math.floor(pt[0]), Math.floor(pt[1])];
      if (x >= 0 && y >= 0 && x < img.width && y < img.height) {
        const v = img.offset + p.full.current[y * img.width + x] * img.scale;
        setProbe(`(${x}, ${y})  ${Number.isInteger(v) ? v : v.toFixed(2)}`);
      } else setProbe("");
    }
    const d = dragState.current;
    if (!d || !img) return;
    const [dx, dy] = [e.clientX - d.x, e.clientY - d.y];
    if (d.button === 0 && drawing && pt) {
      setDraft((cur) => (cur.length ? [...cur.slice(0, -1), pt] : cur));
    } else if (d.button === 1 || (d.button === 0 && tool === "pan")) {
      p.setView({ ...d.view, panX: d.view.panX + dx, panY: d.view.panY + dy });
    } else if (d.button === 2 || (d.button === 0 && tool === "wl")) {
      const w0 = img.windows[img.windows.length - 1];
      liveWindow(drag(d.win, dx, dy, w0 ? w0.width : img.scale * 65535, size[0]));
    }
  };

  const onUp = () => {
    const d = dragState.current;
    dragState.current = null;
    if (liveWin.current) {
      p.setWin(liveWin.current);
      liveWin.current = null;
    }
    if (!d || d.button !== 0 || !img) return;
    if ((tool === "length" && draft.length === 2) || (tool === "angle" && draft.length === 3)) {
      setMeasurements((m) => [...m, { kind: tool, points: draft }]);
      setDraft([]);
    } else if (tool === "box" && draft.length === 2) {
      const b = box(draft[0], draft[1], img.width, img.height);
      setDraft([]);
      if (b) setMissed(b);
    }
  };

  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    if (!view) return;
    const factor = e.deltaY < 0 ? 1.1 : 1 / 1.1;
    const [px, py] = local(e);
    const cx = px - size[0] / 2;
    const cy = py - size[1] / 2;
    p.setView({ ...view, zoom: view.zoom * factor, panX: cx - (cx - view.panX) * factor, panY: cy - (cy - view.panY) * factor });
  };

  /** Picks a tool; a half-drawn shape is dropped. */
  const pick = (t: Tool) => {
    setTool(t);
    setDraft([]);
  };
  /** Forgets shapes (a new study, or reset). */
  const clear = () => {
    setMeasurements([]);
    setDraft([]);
    setMissed(null);
  };

  return {
    tool, pick, measurements, draft, missed, setMissed, clear,
    handlers: { onMouseDown: onDown, onMouseMove: onMove, onMouseUp: onUp, onMouseLeave: onUp, onWheel },
  };
}
