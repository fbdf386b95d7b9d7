// The viewer's layout: the image stage (canvas, overlays, corners) beside
// the findings panel. Loading (useStudy), pointer tools (usePointer),
// decisions (useDecisions) and keys (../keys) live in their own modules.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { FindingView, WorklistRow } from "../bindings";
import { fetchHeatmap, message } from "../api";
import { Findings } from "../Findings";
import { viewerAction, type ViewerAction } from "../keys";
import { runAction, type Heat } from "./actions";
import { Annotations, Corners } from "./Overlays";
import { Pane } from "./Pane";
import { Results } from "./Results";
import { Thumbs } from "./Thumbs";
import type { Window as Voi } from "./window";
import { imageData, Renderer } from "./renderer";
import { shaderCheck } from "./shaderCheck";
import { fitView } from "./transform";
import { useDecisions } from "./useDecisions";
import { usePointer } from "./usePointer";
import { usePriors } from "./usePriors";
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

export function Viewer({ id, requestedAt, active, row, onBack, onStep, onOpen, onChanged, setStatus }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const renderer = useRef<Renderer | null>(null);
  const [rendererError, setRendererError] = useState<string | null>(null);
  const probe = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const [shown, setShown] = useState(0);
  // The prior compared with (an index into study.priors), and whether the two panes move together.
  const [prior, setPrior] = useState<number | null>(null);
  const loaded = useStudy(id, requestedAt, renderer, setStatus, shown);
  const { setStudy, img, view, setView, win, setWin, size, setSize, full } = loaded;
  const study = usePriors(id, loaded.study, prior, setStatus);
  const [selected, setSelected] = useState(0);
  const [heat, setHeat] = useState<Heat>({ label: null, mode: 1, opacity: 0.5 });
  const [sync, setSync] = useState(true);
  const live = useRef<((w: Voi) => void) | null>(null);
  const finding: FindingView | undefined = study?.findings[selected];
  // Findings, heatmaps and decisions belong to the image the AI read (the first).
  const aiShown = shown === 0;
  const overlay = { mode: heat.label && aiShown ? heat.mode : 0, opacity: heat.opacity, threshold: finding?.threshold ?? 0.5 } as const;
  const pointer = usePointer({ canvas, renderer, img, view, setView, win, setWin, size, full, overlay, readout, probe, live });
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

  // A new study starts with no shapes, no heatmap, its first image and finding.
  useEffect(() => {
    pointer.clear();
    setHeat((h) => ({ ...h, label: null }));
    setSelected(0);
    setShown(0);
    setPrior(null);
  }, [id]);

  // The newest prior hangs beside the current study without asking (also
  // when it is found on a PACS after the study opened).
  useEffect(() => {
    if (study?.id === id) setPrior((p) => (study.priors.length ? p ?? 0 : null));
  }, [study?.id, study?.priors.length]);

  // The end-to-end test's check of the shader against the CPU reference.
  useEffect(() => {
    perf.shaderCheck = (center: number, width: number) => {
      const g = img;
      if (!g || !full.current) return null;
      return shaderCheck(imageData(g, full.current), center, width);
    };
  }, [study, img]);

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

  const companion = (() => {
    if (!study || study.id !== id) return null;
    const p = prior === null ? undefined : study.priors[prior];
    if (p) return { kind: "prior" as const, id: p.id, image: 0, title: `Prior · ${p.study_date} · ${p.accession}`, note: null, availability: p.availability };
    const b = study.hanging.beside;
    if (b !== null && shown === 0) {
      const ref = study.images[b];
      return { kind: "beside" as const, id, image: b, title: ref.view, note: ref.no_ai, availability: "available" as const };
    }
    return null;
  })();

  /** Runs one viewer action (from the key table); false if it did nothing. */
  const run = (action: ViewerAction, key: string): boolean => {
    if (!study || !img) return false;
    return runAction({
      study, img, finding, renderer: renderer.current, setImg: loaded.setImg, setView, setWin, setHeat, setSelected, pointer, calls, canSignOff, fit, onBack, onStep,
      stepImage: (d) => setShown((i) => (i + d + study.images.length) % study.images.length),
      compare: (step) => {
        const n = study.priors.length;
        if (!n) return false;
        if (step === 0) setPrior((p) => (p === null ? 0 : null));
        else setPrior((p) => Math.min(n - 1, Math.max(0, (p ?? -step) + step)));
        return true;
      },
      toggleSync: () => setSync((s) => !s),
    }, action, key);
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
      <div class={`stage${companion ? " split" : ""}${companion?.kind === "prior" && study?.hanging.prior_left ? " prior-left" : ""}`}>
        <div class="panes">
          <div class="pane main">
            <canvas ref={canvas} id="image" class={`tool-${pointer.tool}`} {...pointer.handlers} onContextMenu={(e) => e.preventDefault()} />
            <Annotations
              view={view}
              img={img}
              size={size}
              aiBox={heat.label === null && !calls.pending && aiShown ? finding?.region ?? null : null}
              decisions={aiShown ? study?.decisions ?? [] : []}
              missed={pointer.missed}
              measurements={pointer.measurements}
              draft={pointer.draft}
              tool={pointer.tool}
            />
            {study && win && view && <Corners study={study} win={win} view={view} tool={pointer.tool} readout={readout} probe={probe} />}
            {study && !aiShown && study.images[shown]?.no_ai && <div class="no-ai banner">{study.images[shown].no_ai}</div>}
            {error && <div class="banner error stage-error" role="alert">{error}</div>}
            {!study && !error && <div class="loading">Loading…</div>}
          </div>
          {companion && (
            <Pane {...companion} sync={sync} main={{ view, win, img, size }} live={live} onWindow={(w) => setWin(w)} />
          )}
        </div>
        {study && <Thumbs id={id} images={study.images} shown={shown} onPick={setShown} />}
      </div>
      <Findings
        study={study}
        selected={selected}
        onSelect={setSelected}
        heat={heat}
        onHeat={setHeat}
        pending={row?.claim && !row.claim.mine ? "read-only" : calls.pending}
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
          <Results study={study} canSignOff={canSignOff} results={results ?? study.results} signing={calls.signing} onSignOff={calls.signOff} claim={row?.claim} />
        )}
      </Findings>
    </section>
  );
}
