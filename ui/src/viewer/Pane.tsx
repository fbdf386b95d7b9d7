// The second image beside the main one: the study's lateral (hanging
// protocol) or a prior (comparison). It has its own canvas and renderer;
// when synchronised, its window is the main image's and its zoom and pan
// follow the main view (scaled by the two images' fits), drawn in the same
// animation frame while the main window is dragged.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Availability, ImageGeometry } from "../bindings";
import { commands, fetchPixels, message } from "../api";
import { imageData, Renderer } from "./renderer";
import { fitView, type View } from "./transform";
import { perf } from "./useStudy";
import { drag, type Window as Voi } from "./window";

/** What the main pane shows, for synchronising. */
export interface Main {
  view: View | null;
  win: Voi | null;
  img: ImageGeometry | undefined;
  size: [number, number];
}

interface Props {
  id: string;
  image: number;
  /** Top-left corner: what this is ("Prior", "LAT") and its date. */
  title: string;
  /** Why the AI did not read this image, shown on it. */
  note: string | null;
  sync: boolean;
  main: Main;
  /** Set to this pane's drawing of a live window (the main pane's drag). */
  live: { current: ((w: Voi) => void) | null };
  /** A window dragged on this pane while synchronised: the main's too. */
  onWindow: (w: Voi) => void;
  kind: "beside" | "prior";
  /** Whether its images are here; a prior still on the PACS is drawn once retrieved. */
  availability: Availability;
}

const still = { mode: 0, opacity: 0, threshold: 0.5 } as const;

/** The pane's view when it follows the main one. */
export function followView(main: Main, img: ImageGeometry, size: [number, number]): View | null {
  const { view, img: mainImg } = main;
  if (!view || !mainImg) return null;
  const mainFit = fitView(mainImg.width, mainImg.height, main.size[0], main.size[1], view.rotation);
  const fit = fitView(img.width, img.height, size[0], size[1], view.rotation);
  // The same zoom relative to each image's fit, the same pan relative to each pane.
  const k = fit.zoom / mainFit.zoom;
  const [sx, sy] = [size[0] / Math.max(main.size[0], 1), size[1] / Math.max(main.size[1], 1)];
  return { ...view, zoom: view.zoom * k, panX: view.panX * sx, panY: view.panY * sy };
}

export function Pane({ id, image, title, note, sync, main, live, onWindow, kind, availability }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<Renderer | null>(null);
  const [img, setImg] = useState<ImageGeometry | null>(null);
  const [size, setSize] = useState<[number, number]>([1, 1]);
  const [own, setOwn] = useState<{ view: View; win: Voi } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dragStart = useRef<{ x: number; y: number; win: Voi } | null>(null);
  const view = img ? (sync ? followView(main, img, size) : own?.view ?? null) : null;
  const win = sync ? main.win : own?.win ?? null;

  useEffect(() => {
    if (!canvas.current) return;
    try {
      renderer.current = new Renderer(canvas.current);
    } catch (e) {
      setError(message(e));
    }
    const obs = new ResizeObserver(() => {
      const r = renderer.current;
      if (!r) return;
      const [cw, ch] = r.resize();
      const dpr = window.devicePixelRatio || 1;
      setSize((old) => (old[0] === cw / dpr && old[1] === ch / dpr ? old : [cw / dpr, ch / dpr]));
    });
    obs.observe(canvas.current);
    return () => {
      obs.disconnect();
      renderer.current?.dispose();
    };
  }, []);

  // Loads the image: geometry, the preview, then the full pixels.
  const here = availability !== "retrieving" && availability !== "evicted";
  useEffect(() => {
    let cancelled = false;
    setImg(null);
    setError(null);
    if (!here) return;
    (async () => {
      try {
        const g = await commands.openImage(id, image);
        const r = renderer.current;
        if (cancelled || !r) return;
        const preview = await fetchPixels(id, true, image);
        if (cancelled) return;
        r.setImage(imageData(g, preview, true));
        perf.pane = { id, image, preview: performance.now(), at: 0 };
        const [cw, ch] = r.resize();
        const dpr = window.devicePixelRatio || 1;
        setSize([cw / dpr, ch / dpr]);
        const w0 = g.windows[0] ?? { center: 0, width: 1 };
        setOwn({ view: fitView(g.width, g.height, cw / dpr, ch / dpr), win: { center: w0.center, width: w0.width } });
        setImg(g);
        const codes = await fetchPixels(id, false, image);
        if (cancelled) return;
        r.setImage(imageData(g, codes));
        setImg({ ...g });
        perf.pane = { id, image, preview: perf.pane?.preview ?? 0, at: performance.now() };
      } catch (e) {
        if (!cancelled) setError(message(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [id, image, here]);

  // What was shown while synchronised: unsynchronising keeps it rather
  // than jumping back to the pane's own earlier view.
  const synced = useRef<{ view: View; win: Voi } | null>(null);
  useLayoutEffect(() => {
    const r = renderer.current;
    if (!r || !view || !win) return;
    if (sync) synced.current = { view, win };
    r.draw(view, win.center, win.width, still);
  });
  useLayoutEffect(() => {
    if (!sync && synced.current) setOwn(synced.current);
  }, [sync]);

  // The main pane's live window drag draws here in the same frame.
  useEffect(() => {
    live.current = (w: Voi) => {
      const r = renderer.current;
      if (sync && r && view) r.draw(view, w.center, w.width, still);
    };
    return () => {
      live.current = null;
    };
  });

  const onDown = (e: MouseEvent) => {
    if (win) dragStart.current = { x: e.clientX, y: e.clientY, win };
  };
  const onMove = (e: MouseEvent) => {
    const d = dragStart.current;
    if (!d || !img) return;
    const w0 = img.windows[img.windows.length - 1];
    const next = drag(d.win, e.clientX - d.x, e.clientY - d.y, w0 ? w0.width : img.scale * 65535, size[0]);
    if (sync) onWindow(next);
    else setOwn((o) => o && { ...o, win: next });
  };
  const onUp = () => {
    dragStart.current = null;
  };

  return (
    <div class={`pane companion ${kind}`} data-kind={kind}>
      <canvas ref={canvas} class="tool-wl" onMouseDown={onDown} onMouseMove={onMove} onMouseUp={onUp} onMouseLeave={onUp} onContextMenu={(e) => e.preventDefault()} />
      <div class="corner tl">{title}</div>
      {win && (
        <div class="corner bl">
          W {Math.round(win.width)} / C {Math.round(win.center)}
          {sync ? " · synced" : ""}
        </div>
      )}
      {note && <div class="no-ai banner">{note}</div>}
      {!here && <div class="loading">Retrieving from the PACS…</div>}
      {error && <div class="banner error stage-error" role="alert">{error}</div>}
    </div>
  );
}
