import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { DecisionView, FindingView, StudyView } from "../bindings";
import { commands, fetchHeatmap, fetchPixels, message } from "../api";
import { Findings } from "../Findings";
import { label } from "../format";
import { angle, box, length, type Point } from "./measure";
import { Renderer, type ImageData16 } from "./renderer";
import { fitView, toCanvas, toImage, type View } from "./transform";
import { drag, type Window } from "./window";

type Tool = "wl" | "pan" | "length" | "angle" | "box";
type Measurement = { kind: "length"; points: Point[] } | { kind: "angle"; points: Point[] };

/** Timings of the last study opened, for the benchmark command. */
interface Perf {
  id: string;
  requested: number;
  preview?: number;
  full?: number;
}
declare global {
  interface Window {
    __overread?: { opens: Perf[]; frames: number; lastFrame: number };
  }
}
const perf = (window.__overread ??= { opens: [], frames: 0, lastFrame: 0 });

interface Props {
  id: string;
  requestedAt: number;
  active: boolean;
  onBack: () => void;
  onStep: (delta: number) => void;
  onChanged: () => void;
  setStatus: (s: string) => void;
}

export function Viewer({ id, requestedAt, active, onBack, onStep, onChanged, setStatus }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<Renderer | null>(null);
  const [study, setStudy] = useState<StudyView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [view, setView] = useState<View | null>(null);
  const [win, setWin] = useState<Window | null>(null);
  const [tool, setTool] = useState<Tool>("wl");
  const [measurements, setMeasurements] = useState<Measurement[]>([]);
  const [draft, setDraft] = useState<Point[]>([]);
  // The pixel probe follows the mouse; written in place, not rendered.
  const probe = useRef<HTMLDivElement>(null);
  const setProbe = (text: string) => {
    if (probe.current && probe.current.textContent !== text) probe.current.textContent = text;
  };
  const [selected, setSelected] = useState(0);
  const [heat, setHeat] = useState<{ label: string | null; mode: 1 | 2; opacity: number }>({ label: null, mode: 1, opacity: 0.5 });
  const [pending, setPending] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [missed, setMissed] = useState<{ x: number; y: number; width: number; height: number } | null>(null);
  const [size, setSize] = useState<[number, number]>([1, 1]);
  const full = useRef<Uint16Array | null>(null);
  const shownAt = useRef(0);
  const dragState = useRef<{ x: number; y: number; view: View; win: Window; button: number } | null>(null);
  // Window/level while dragging bypasses rendering the component: the new
  // window is drawn on the next animation frame and the readout updated in
  // place; the state catches up on mouse up.
  const liveWin = useRef<Window | null>(null);
  const framePending = useRef(false);
  const readout = useRef<HTMLDivElement>(null);

  // The renderer lives as long as the canvas.
  useEffect(() => {
    if (!canvas.current) return;
    try {
      renderer.current = new Renderer(canvas.current);
    } catch (e) {
      setError(message(e));
    }
    return () => renderer.current?.dispose();
  }, []);

  // Open: metadata, then the preview, then the full image.
  useEffect(() => {
    let cancelled = false;
    const record: Perf = { id, requested: requestedAt };
    perf.opens.push(record);
    setStudy(null);
    setError(null);
    setMeasurements([]);
    setDraft([]);
    setMissed(null);
    setHeat((h) => ({ ...h, label: null }));
    setSelected(0);
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
        const base = { width: g.width, height: g.height, offset: g.offset, scale: g.scale, invert: g.invert };
        const preview = await fetchPixels(id, true);
        if (cancelled || !r) return;
        r.setImage({ ...base, texWidth: g.preview_width, texHeight: g.preview_height, codes: preview });
        r.draw(v, w0.center, w0.width, { mode: 0, opacity: 0, threshold: 0.5 });
        record.preview = performance.now();
        shownAt.current = performance.now();
        setStudy(s);
        setView(v);
        setWin({ center: w0.center, width: w0.width });
        const codes = await fetchPixels(id, false);
        if (cancelled) return;
        full.current = codes;
        r.setImage({ ...base, texWidth: g.width, texHeight: g.height, codes } satisfies ImageData16);
        record.full = performance.now();
        setView((cur) => ({ ...(cur ?? v) })); // redraw with the full image
        setStatus(`Opened ${s.patient_name || s.patient_id} in ${Math.round(record.preview - requestedAt)} ms`);
      } catch (e) {
        if (!cancelled) setError(message(e));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [id]);

  const finding: FindingView | undefined = study?.findings[selected];

  // Heatmap texture follows the chosen label.
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
    const t = finding?.threshold ?? 0.5;
    r.draw(view, win.center, win.width, { mode: heat.label ? heat.mode : 0, opacity: heat.opacity, threshold: t });
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

  const img = study?.image;
  const fit = useCallback(() => {
    if (!img) return;
    setView((v) => fitView(img.width, img.height, size[0], size[1], v?.rotation ?? 0));
  }, [img, size]);

  const decide = useCallback(
    async (f: FindingView | null, decision: "confirm" | "dismiss" | "add_missed", findingLabel?: string, region?: { x: number; y: number; width: number; height: number }) => {
      if (!study || pending) return;
      const name = findingLabel ?? f?.label;
      if (!name) return;
      setPending(name);
      try {
        const recorded: DecisionView = await commands.decide({
          id: study.id,
          finding: name,
          decision,
          region: region ?? null,
          reason: reason.trim() || null,
          display_ms: performance.now() - shownAt.current,
        });
        // Shown only now that the row is committed.
        setStudy((s) => (s ? { ...s, decisions: [...s.decisions, recorded] } : s));
        setReason("");
        setStatus(`Recorded ${decision.replace("_", " ")} of ${label(name)} (audit row ${recorded.seq})`);
        onChanged();
      } catch (e) {
        setStatus(`Not recorded: ${message(e)}`);
      } finally {
        setPending(null);
      }
    },
    [study, pending, reason, onChanged, setStatus],
  );

  const impression = useCallback(
    async (value: "normal" | "abnormal") => {
      if (!study) return;
      try {
        const s = await commands.recordImpression({ id: study.id, impression: value, findings: [], note: null });
        setStudy(s);
        setStatus(`Unaided impression recorded: ${value}`);
        onChanged();
      } catch (e) {
        setStatus(`Not recorded: ${message(e)}`);
      }
    },
    [study, onChanged, setStatus],
  );

  const readFirstPending = !!study && !study.impression_recorded && study.model === null && study.findings.length === 0 && study.ai !== "refused" && study.ai !== "error";

  // Keyboard: the usual PACS viewer keys.
  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) {
        if (e.key === "Escape") t.blur();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || !study || !img) return;
      const step = 40;
      const presets = img.windows;
      let handled = true;
      switch (e.key) {
        case "Escape":
          if (missed || draft.length) {
            setMissed(null);
            setDraft([]);
          } else onBack();
          break;
        case "j": onStep(1); break;
        case "k": onStep(-1); break;
        case "i": setStudy({ ...study, image: { ...img, invert: !img.invert } }); renderer.current && (renderer.current.image = renderer.current.image && { ...renderer.current.image, invert: !img.invert }); setView((v) => v && { ...v }); break;
        case "r": setView((v) => v && { ...v, rotation: (v.rotation + 1) % 4 }); break;
        case "h": setView((v) => v && { ...v, flipH: !v.flipH }); break;
        case "v": setView((v) => v && { ...v, flipV: !v.flipV }); break;
        case "f": fit(); break;
        case "o": setView((v) => v && { ...v, zoom: 1 / (window.devicePixelRatio || 1) }); break;
        case "x": fit(); setWin(presets[0] ? { center: presets[0].center, width: presets[0].width } : win); setMeasurements([]); break;
        case "+": case "=": setView((v) => v && { ...v, zoom: v.zoom * 1.25 }); break;
        case "-": setView((v) => v && { ...v, zoom: v.zoom / 1.25 }); break;
        case "ArrowLeft": setView((v) => v && { ...v, panX: v.panX + step }); break;
        case "ArrowRight": setView((v) => v && { ...v, panX: v.panX - step }); break;
        case "ArrowUp": setView((v) => v && { ...v, panY: v.panY + step }); break;
        case "ArrowDown": setView((v) => v && { ...v, panY: v.panY - step }); break;
        case "w": setTool("wl"); break;
        case "p": setTool("pan"); break;
        case "l": setTool("length"); setDraft([]); break;
        case "a": setTool("angle"); setDraft([]); break;
        case "b": setTool("box"); setDraft([]); break;
        case "s": if (study.findings.length) setSelected((i) => (i + 1) % study.findings.length); break;
        case "S": if (study.findings.length) setSelected((i) => (i - 1 + study.findings.length) % study.findings.length); break;
        case "m": if (finding?.has_heatmap) setHeat((h) => ({ ...h, label: h.label === finding.label ? null : finding.label })); break;
        case "t": setHeat((h) => ({ ...h, mode: h.mode === 1 ? 2 : 1 })); break;
        case ",": setHeat((h) => ({ ...h, opacity: Math.max(0.1, h.opacity - 0.1) })); break;
        case ".": setHeat((h) => ({ ...h, opacity: Math.min(1, h.opacity + 0.1) })); break;
        case "c": if (finding) decide(finding, "confirm"); break;
        case "d": if (finding) decide(finding, "dismiss"); break;
        case "n": if (readFirstPending) impression("normal"); else handled = false; break;
        case "y": if (readFirstPending) impression("abnormal"); else handled = false; break;
        default:
          if (/^[1-9]$/.test(e.key) && presets[Number(e.key) - 1]) {
            const p = presets[Number(e.key) - 1];
            setWin({ center: p.center, width: p.width });
          } else handled = false;
      }
      if (handled) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [active, study, img, finding, win, missed, draft, fit, decide, impression, readFirstPending, onBack, onStep]);

  // Mouse: left = current tool, middle = pan, right = window/level, wheel = zoom.
  const local = (e: MouseEvent): [number, number] => {
    const rect = canvas.current!.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  };
  const imagePoint = (e: MouseEvent): Point | null => {
    if (!view || !img) return null;
    const [px, py] = local(e);
    return toImage(view, img.width, img.height, size[0], size[1], px, py);
  };
  const onDown = (e: MouseEvent) => {
    if (!view || !win) return;
    const p = imagePoint(e);
    if (e.button === 0 && (tool === "length" || tool === "angle" || tool === "box") && p) {
      const need = tool === "angle" ? 3 : 2;
      const next = [...draft, p];
      if (tool !== "angle" && next.length === 1) next.push(p);
      if (tool === "angle" && next.length < need) {
        setDraft(next);
        return;
      }
      setDraft(next);
      dragState.current = { x: e.clientX, y: e.clientY, view, win, button: 0 };
      return;
    }
    dragState.current = { x: e.clientX, y: e.clientY, view, win, button: e.button };
  };
  const onMove = (e: MouseEvent) => {
    const p = imagePoint(e);
    if (p && img && full.current) {
      const x = Math.floor(p[0]);
      const y = Math.floor(p[1]);
      if (x >= 0 && y >= 0 && x < img.width && y < img.height) {
        const v = img.offset + full.current[y * img.width + x] * img.scale;
        setProbe(`(${x}, ${y})  ${Number.isInteger(v) ? v : v.toFixed(2)}`);
      } else setProbe("");
    }
    const d = dragState.current;
    if (!d || !img) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (d.button === 0 && (tool === "length" || tool === "box" || tool === "angle") && p) {
      setDraft((cur) => (cur.length ? [...cur.slice(0, -1), p] : cur));
    } else if (d.button === 1 || (d.button === 0 && tool === "pan")) {
      setView({ ...d.view, panX: d.view.panX + dx, panY: d.view.panY + dy });
    } else if (d.button === 2 || (d.button === 0 && tool === "wl")) {
      const range = img.scale * 65535;
      const w0 = img.windows[img.windows.length - 1];
      liveWin.current = drag(d.win, dx, dy, w0 ? w0.width : range, size[0]);
      if (!framePending.current) {
        framePending.current = true;
        requestAnimationFrame(() => {
          framePending.current = false;
          const w = liveWin.current;
          const r = renderer.current;
          if (!w || !r || !view) return;
          r.draw(view, w.center, w.width, { mode: heat.label ? heat.mode : 0, opacity: heat.opacity, threshold: finding?.threshold ?? 0.5 });
          perf.frames++;
          perf.lastFrame = performance.now();
          const line = readout.current?.firstElementChild;
          if (line) line.textContent = `W ${Math.round(w.width)} / C ${Math.round(w.center)}${img.invert ? "  (inverted)" : ""}`;
        });
      }
    }
  };
  const onUp = () => {
    const d = dragState.current;
    dragState.current = null;
    if (liveWin.current) {
      setWin(liveWin.current);
      liveWin.current = null;
    }
    if (!d || d.button !== 0 || !img) return;
    if (tool === "length" && draft.length === 2) {
      setMeasurements((m) => [...m, { kind: "length", points: draft }]);
      setDraft([]);
    } else if (tool === "angle" && draft.length === 3) {
      setMeasurements((m) => [...m, { kind: "angle", points: draft }]);
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
    // Zoom about the cursor.
    const cx = px - size[0] / 2;
    const cy = py - size[1] / 2;
    setView({ ...view, zoom: view.zoom * factor, panX: cx - (cx - view.panX) * factor, panY: cy - (cy - view.panY) * factor });
  };

  const spacing = (img?.pixel_spacing ?? null) as [number, number] | null;
  const toScreen = (p: Point): Point => (view && img ? toCanvas(view, img.width, img.height, size[0], size[1], p[0], p[1]) : [0, 0]);
  const boxPath = (r: { x: number; y: number; width: number; height: number }) => {
    const pts = [[r.x, r.y], [r.x + r.width, r.y], [r.x + r.width, r.y + r.height], [r.x, r.y + r.height]].map((p) => toScreen(p as Point));
    return pts.map((p) => p.join(",")).join(" ");
  };

  return (
    <section class="viewer" aria-label="Viewer">
      <div class="stage">
        <canvas
          ref={canvas}
          id="image"
          class={`tool-${tool}`}
          onMouseDown={onDown}
          onMouseMove={onMove}
          onMouseUp={onUp}
          onMouseLeave={onUp}
          onWheel={onWheel}
          onContextMenu={(e) => e.preventDefault()}
        />
        <svg class="annotations" width={size[0]} height={size[1]}>
          {finding?.region && heat.label === null && study && !pending && (
            <polygon class="ai-box" points={boxPath(finding.region)} />
          )}
          {study?.decisions
            .filter((d) => d.decision === "add_missed" && d.region)
            .map((d) => <polygon key={d.seq} class="missed-box" points={boxPath(d.region!)} />)}
          {missed && <polygon class="draft-box" points={boxPath(missed)} />}
          {[...measurements, ...(draft.length ? [{ kind: tool === "angle" ? "angle" : tool === "box" ? "box" : "length", points: draft }] : [])].map((m, i) => {
            const pts = m.points.map(toScreen);
            if (m.kind === "box" && m.points.length === 2) {
              const b = box(m.points[0], m.points[1], img?.width ?? 0, img?.height ?? 0);
              return b ? <polygon key={`d${i}`} class="draft-box" points={boxPath(b)} /> : null;
            }
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
                <polyline points={pts.map((p) => p.join(",")).join(" ")} />
                {text && <text x={last[0] + 6} y={last[1] - 6}>{text}</text>}
              </g>
            );
          })}
        </svg>
        {study && win && view && (
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
              <div>W {Math.round(win.width)} / C {Math.round(win.center)}{img?.invert ? "  (inverted)" : ""}</div>
              <div>Zoom {Math.round(view.zoom * 100)}%{view.rotation ? `  Rot ${view.rotation * 90}°` : ""}{view.flipH ? "  Flip H" : ""}{view.flipV ? "  Flip V" : ""}</div>
            </div>
            <div class="corner br">
              <div ref={probe} id="probe" />
              <div>{spacing ? `${spacing[1].toFixed(3)} mm/px${img?.spacing_at_detector ? " (at detector)" : ""}` : "No pixel spacing: lengths in px"}</div>
              <div>Tool: {{ wl: "Window (w)", pan: "Pan (p)", length: "Length (l)", angle: "Angle (a)", box: "Missed finding box (b)" }[tool]}</div>
            </div>
          </>
        )}
        {error && <div class="banner error stage-error" role="alert">{error}</div>}
        {!study && !error && <div class="loading">Loading…</div>}
      </div>
      <Findings
        study={study}
        selected={selected}
        onSelect={setSelected}
        heat={heat}
        onHeat={setHeat}
        pending={pending}
        reason={reason}
        onReason={setReason}
        onDecide={(f, d) => decide(f, d)}
        readFirstPending={readFirstPending}
        onImpression={impression}
        missed={missed}
        onMissed={(findingLabel) => {
          if (missed) decide(null, "add_missed", findingLabel, missed).then(() => setMissed(null));
        }}
        onCancelMissed={() => setMissed(null)}
      />
    </section>
  );
}
