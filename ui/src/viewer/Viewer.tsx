// The viewer's layout: the image stage (canvas, overlays, corners) beside
// the findings panel. Loading (useStudy), pointer tools (usePointer),
// decisions (useDecisions) and keys (../keys) live in their own modules.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { FindingView, WorklistRow } from "../bindings";
import { fetchHeatmap, message } from "../api";
import { Findings } from "../Findings";
import { viewerAction, type ViewerAction } from "../keys";
import { Annotations, Corners } from "./Overlays";
import { Results } from "./Results";
import { Renderer } from "./renderer";
import { shaderCheck } from "./shaderCheck";
import { fitView } from "./transform";
import { useDecisions } from "./useDecisions";
import { usePointer } from "./usePointer";
import { perf, useStudy } from "./useStudy";

interface Props {
  id: string;
  requestedAt: number;
  active: boolean;
  /** The study's worklist row (kept current by events): its results state
   * and whether it may be signed off now. */
  row: WorklistRow | undefined;
  onBack: () => void;
  onStep: (delta: number) => void;
  /** Opens another study (a prior). */
  onOpen: (id: string) => void;
  onChanged: () => void;
  setStatus: (s: string) => void;
}

type Heat = { label: string | null; mode: 1 | 2; opacity: number };

export function Viewer({ id, requestedAt, active, row, onBack, onStep, onOpen, onChanged, setStatus }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<Renderer | null>(null);
  const [rendererError, setRendererError] = useState<string | null>(null);
  const probe = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const loaded = useStudy(id, requestedAt, renderer, setStatus);
  const { study, setStudy, view, setView, win, setWin, size, setSize, full } = loaded;
  const [selected, setSelected] = useState(0);
  const [heat, setHeat] = useState<Heat>({ label: null, mode: 1, opacity: 0.5 });
  const finding: FindingView | undefined = study?.findings[selected];
  const img = study?.image;
  const overlay = { mode: heat.label ? heat.mode : 0, opacity: heat.opacity, threshold: finding?.threshold ?? 0.5 } as const;
  const pointer = usePointer({ canvas, renderer, img, view, setView, win, setWin, size, full, overlay, readout, probe });
  const calls = useDecisions(study, setStudy, loaded.shownAt, onChanged, setStatus);
  const results = row?.results ?? study?.results;
  const canSignOff = row?.can_sign_off ?? study?.can_sign_off ?? false;

  // The renderer lives as long as the canvas.
  useEffect(() => {
    if (!canvas.current) return;
    try {
      renderer.current = new Renderer(canvas.current);
    } catch (e) {
      setRendererError(message(e));
    }
    return () => renderer.current?.dispose();
  }, []);

  // A new study starts with no shapes, no heatmap and its first finding.
  useEffect(() => {
    pointer.clear();
    setHeat((h) => ({ ...h, label: null }));
    setSelected(0);
  }, [id]);

  // The end-to-end test's check of the shader against the CPU reference.
  useEffect(() => {
    perf.shaderCheck = (center: number, width: number) => {
      const g = study?.image;
      if (!g || !full.current) return null;
      const base = { width: g.width, height: g.height, texWidth: g.width, texHeight: g.height, offset: g.offset, scale: g.scale, invert: g.invert };
      return shaderCheck({ ...base, codes: full.current }, center, width);
    };
  }, [study]);

  // The heatmap texture follows the chosen label.
  useEffect(() => {
    const r = renderer.current;
    if (!r || !study) return;
    if (!heat.label) {
      r.setHeatmap(null);
      setView((v) => (v ? { ...v } : v));
      return;
    }
    let cancelled = false;
    fetchHeatmap(study.id, heat.label)
      .then((values) => {
        if (cancelled) return;
        r.setHeatmap(values, study.image.width, study.image.height);
        setView((v) => (v ? { ...v } : v));
      })
      .catch((e) => setStatus(message(e)));
    return () => {
      cancelled = true;
    };
  }, [heat.label, study?.id]);

  // Draw whenever the view, window or overlay changes.
  useLayoutEffect(() => {
    const r = renderer.current;
    if (!r || !view || !win) return;
    r.draw(view, win.center, win.width, overlay);
    perf.frames++;
    perf.lastFrame = performance.now();
  }, [view, win, heat, finding]);

  // Keep the drawing buffer the size of the element.
  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const obs = new ResizeObserver(() => {
      const r = renderer.current;
      if (!r) return;
      const [cw, ch] = r.resize();
      const dpr = window.devicePixelRatio || 1;
      setSize([cw / dpr, ch / dpr]);
      setView((v) => (v ? { ...v } : v));
    });
    obs.observe(el);
    return () => obs.disconnect();
  }, []);

  const fit = useCallback(() => {
    if (img) setView((v) => fitView(img.width, img.height, size[0], size[1], v?.rotation ?? 0));
  }, [img, size]);

  /** Runs one viewer action (from the key table); false if it did nothing. */
  const run = (action: ViewerAction, key: string): boolean => {
    if (!study || !img) return false;
    const pan = (dx: number, dy: number) => setView((v) => v && { ...v, panX: v.panX + dx, panY: v.panY + dy });
    const n = study.findings.length;
    const preset = img.windows[0];
    switch (action) {
      case "back": if (pointer.missed || pointer.draft.length) pointer.clear(); else onBack(); break;
      case "next": onStep(1); break;
      case "previous": onStep(-1); break;
      case "invert":
        setStudy((s) => s && { ...s, image: { ...s.image, invert: !s.image.invert } });
        if (renderer.current?.image) renderer.current.image = { ...renderer.current.image, invert: !img.invert };
        setView((v) => v && { ...v });
        break;
      case "rotate": setView((v) => v && { ...v, rotation: (v.rotation + 1) % 4 }); break;
      case "flipH": setView((v) => v && { ...v, flipH: !v.flipH }); break;
      case "flipV": setView((v) => v && { ...v, flipV: !v.flipV }); break;
      case "fit": fit(); break;
      case "actual": setView((v) => v && { ...v, zoom: 1 / (window.devicePixelRatio || 1) }); break;
      case "reset": fit(); if (preset) setWin({ center: preset.center, width: preset.width }); pointer.clear(); break;
      case "zoomIn": setView((v) => v && { ...v, zoom: v.zoom * 1.25 }); break;
      case "zoomOut": setView((v) => v && { ...v, zoom: v.zoom / 1.25 }); break;
      case "panLeft": pan(40, 0); break;
      case "panRight": pan(-40, 0); break;
      case "panUp": pan(0, 40); break;
      case "panDown": pan(0, -40); break;
      case "toolWindow": pointer.pick("wl"); break;
      case "toolPan": pointer.pick("pan"); break;
      case "toolLength": pointer.pick("length"); break;
      case "toolAngle": pointer.pick("angle"); break;
      case "toolBox": pointer.pick("box"); break;
      case "nextFinding": if (n) setSelected((i) => (i + 1) % n); break;
      case "previousFinding": if (n) setSelected((i) => (i - 1 + n) % n); break;
      case "heatmap": if (finding?.has_heatmap) setHeat((h) => ({ ...h, label: h.label === finding.label ? null : finding.label })); break;
      case "contour": setHeat((h) => ({ ...h, mode: h.mode === 1 ? 2 : 1 })); break;
      case "lessOpacity": setHeat((h) => ({ ...h, opacity: Math.max(0.1, h.opacity - 0.1) })); break;
      case "moreOpacity": setHeat((h) => ({ ...h, opacity: Math.min(1, h.opacity + 0.1) })); break;
      case "confirm": if (finding) calls.decide(finding, "confirm"); break;
      case "dismiss": if (finding) calls.decide(finding, "dismiss"); break;
      case "signOff": if (!canSignOff) return false; calls.signOff(); break;
      case "normal": case "abnormal":
        if (!study.ai_hidden) return false;
        calls.impression(action === "normal" ? "normal" : "abnormal");
        break;
      case "preset": {
        const p = img.windows[Number(key) - 1];
        if (!p) return false;
        setWin({ center: p.center, width: p.width });
        break;
      }
    }
    return true;
  };

  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) {
        if (e.key === "Escape") t.blur();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const action = viewerAction(e.key);
      if (action && run(action, e.key)) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const error = rendererError ?? loaded.error;
  return (
    <section class="viewer" aria-label="Viewer">
      <div class="stage">
        <canvas ref={canvas} id="image" class={`tool-${pointer.tool}`} {...pointer.handlers} onContextMenu={(e) => e.preventDefault()} />
        <Annotations
          view={view}
          img={img}
          size={size}
          aiBox={heat.label === null && !calls.pending ? finding?.region ?? null : null}
          decisions={study?.decisions ?? []}
          missed={pointer.missed}
          measurements={pointer.measurements}
          draft={pointer.draft}
          tool={pointer.tool}
        />
        {study && win && view && <Corners study={study} win={win} view={view} tool={pointer.tool} readout={readout} probe={probe} />}
        {error && <div class="banner error stage-error" role="alert">{error}</div>}
        {!study && !error && <div class="loading">Loading…</div>}
      </div>
      <Findings
        study={study}
        selected={selected}
        onSelect={setSelected}
        heat={heat}
        onHeat={setHeat}
        pending={calls.pending}
        reason={calls.reason}
        onReason={calls.setReason}
        onDecide={(f, d) => calls.decide(f, d)}
        onImpression={calls.impression}
        missed={pointer.missed}
        onMissed={(findingLabel) => {
          const box = pointer.missed;
          if (box) calls.decide(null, "add_missed", findingLabel, box).then(() => pointer.setMissed(null));
        }}
        onCancelMissed={() => pointer.setMissed(null)}
        onOpenPrior={onOpen}
      >
        {study && (
          <Results study={study} canSignOff={canSignOff} results={results ?? study.results} signing={calls.signing} onSignOff={calls.signOff} />
        )}
      </Findings>
    </section>
  );
}
