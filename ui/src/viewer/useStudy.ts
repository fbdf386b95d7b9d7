// Loading a study into the viewer: its metadata, then the reduced preview,
// then the full image, each drawn as soon as it arrives.

import { useEffect, useRef, useState } from "preact/hooks";
import type { ImageGeometry, StudyView } from "../bindings";
import { commands, fetchPixels, message } from "../api";
import { imageData, type Renderer } from "./renderer";
import { fitView, type View } from "./transform";
import type { Window as Voi } from "./window";

/** Timings of the last study opened, for the benchmark command; and the
 * shader check the end-to-end test runs. */
interface Perf {
  id: string;
  requested: number;
  preview?: number;
  full?: number;
}
declare global {
  interface Window {
    __overread?: {
      opens: Perf[];
      frames: number;
      lastFrame: number;
      shaderCheck?: (center: number, width: number) => unknown;
      /** The second pane's image: when its reduced preview was drawn, and
       * when its full pixels were (0 until then). */
      pane?: { id: string; image: number; preview: number; at: number };
    };
  }
}
export const perf = (window.__overread ??= { opens: [], frames: 0, lastFrame: 0 });

/** Why a study could not be shown, by the error's code. */
function why(e: unknown): string {
  const code = (e as { code?: string } | null)?.code;
  if (code === "not_available") return `Not here yet. ${message(e)}`;
  if (code === "image") return `This image cannot be shown: ${message(e)}`;
  return message(e);
}

export interface Loaded {
  study: StudyView | null;
  /** The image in the main pane (the study's image `image`). */
  img: ImageGeometry | undefined;
  setImg: (f: (g: ImageGeometry | undefined) => ImageGeometry | undefined) => void;
  setStudy: (f: (s: StudyView | null) => StudyView | null) => void;
  error: string | null;
  /** The full image's codes, once they arrived (for the pixel probe). */
  full: { current: Uint16Array | null };
  /** When the first pixels were shown (decision timing starts there). */
  shownAt: { current: number };
  view: View | null;
  setView: (f: View | null | ((v: View | null) => View | null)) => void;
  win: Voi | null;
  setWin: (w: Voi | null) => void;
  size: [number, number];
  setSize: (s: [number, number]) => void;
}

export function useStudy(
  id: string,
  requestedAt: number,
  renderer: { current: Renderer | null },
  setStatus: (s: string) => void,
  image: number,
): Loaded {
  const [study, setStudy] = useState<StudyView | null>(null);
  const [img, setImg] = useState<ImageGeometry | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [view, setView] = useState<View | null>(null);
  const [win, setWin] = useState<Voi | null>(null);
  const [size, setSize] = useState<[number, number]>([1, 1]);
  const full = useRef<Uint16Array | null>(null);
  const shownAt = useRef(0);

  useEffect(() => {
    let cancelled = false;
    const record: Perf = { id, requested: requestedAt };
    perf.opens.push(record);
    setStudy(null);
    setError(null);
    full.current = null;
    renderer.current?.setHeatmap(null);
    (async () => {
      try {
        const s = await commands.openStudy(id);
        if (cancelled) return;
        const g = s.image;
        const r = renderer.current;
        const [cw, ch] = r ? r.resize() : [1, 1];
        const dpr = window.devicePixelRatio || 1;
        setSize([cw / dpr, ch / dpr]);
        const v = fitView(g.width, g.height, cw / dpr, ch / dpr);
        const w0 = g.windows[0] ?? { center: 0, width: 1 };
        const preview = await fetchPixels(id, true);
        if (cancelled || !r) return;
        r.setImage(imageData(g, preview, true));
        r.draw(v, w0.center, w0.width, { mode: 0, opacity: 0, threshold: 0.5 });
        record.preview = performance.now();
        shownAt.current = performance.now();
        setStudy(s);
        setImg(g);
        setView(v);
        setWin({ center: w0.center, width: w0.width });
        const codes = await fetchPixels(id, false);
        if (cancelled) return;
        full.current = codes;
        r.setImage(imageData(g, codes));
        record.full = performance.now();
        setView((cur) => ({ ...(cur ?? v) })); // redraw with the full image
        setStatus(`Opened ${s.patient_name || s.patient_id} in ${Math.round(record.preview - requestedAt)} ms`);
      } catch (e) {
        if (!cancelled) setError(why(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [id]);

  // Another image of the study in the main pane (thumbnails, [ and ]).
  useEffect(() => {
    if (!study || study.id !== id) return;
    let cancelled = false;
    (async () => {
      try {
        const g = image === 0 ? study.image : await commands.openImage(id, image);
        const r = renderer.current;
        if (cancelled || !r) return;
        full.current = null;
        const codes = await fetchPixels(id, false, image);
        if (cancelled) return;
        full.current = codes;
        r.setImage(imageData(g, codes));
        const [cw, ch] = r.resize();
        const dpr = window.devicePixelRatio || 1;
        const w0 = g.windows[0] ?? { center: 0, width: 1 };
        setImg(g);
        setView(fitView(g.width, g.height, cw / dpr, ch / dpr));
        setWin({ center: w0.center, width: w0.width });
      } catch (e) {
        if (!cancelled) setStatus(why(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [image]);

  return { study, setStudy, img, setImg, error, full, shownAt, view, setView, win, setWin, size, setSize };
}
