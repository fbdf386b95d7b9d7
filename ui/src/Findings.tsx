import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { DecisionView, FindingView, StudyView } from "./bindings";
import { label, score } from "./format";

interface Heat {
  label: string | null;
  mode: 1 | 2;
  opacity: number;
}

interface Props {
  study: StudyView | null;
  selected: number;
  onSelect: (i: number) => void;
  heat: Heat;
  onHeat: (h: Heat) => void;
  pending: string | null;
  reason: string;
  onReason: (r: string) => void;
  onDecide: (f: FindingView, d: "confirm" | "dismiss") => void;
  onImpression: (v: "normal" | "abnormal") => void;
  missed: { x: number; y: number; width: number; height: number } | null;
  onMissed: (label: string) => void;
  onCancelMissed: () => void;
  /** Opens a prior of the study. */
  onOpenPrior?: (id: string) => void;
  /** The results panel, below the findings. */
  children?: ComponentChildren;
}

/** The latest committed decision on a finding. */
export function latest(decisions: DecisionView[], finding: string): DecisionView | undefined {
  return decisions.filter((d) => d.finding === finding && d.decision !== "add_missed").at(-1);
}

export function Findings(p: Props) {
  const s = p.study;
  const [missedLabel, setMissedLabel] = useState("");
  if (!s) return <aside class="findings" />;
  const model = s.model;
  const labels = model?.labels ?? [];
  return (
    <aside class="findings" aria-label="AI findings">
      {s.ai_hidden ? (
        <div class="read-first" id="read-first">
          <h2>Your impression first</h2>
          <p>The AI result is hidden until you record an unaided impression. Both are kept in the audit log.</p>
          <button id="impression-normal" onClick={() => p.onImpression("normal")}>Normal <kbd>n</kbd></button>
          <button id="impression-abnormal" onClick={() => p.onImpression("abnormal")}>Abnormal <kbd>y</kbd></button>
        </div>
      ) : (
        <>
          {model && (
            <div class="model">
              <div class="strong">{model.name} <span class="muted">v{model.version}</span></div>
              <div class="muted">on {model.execution_provider}{model.fallback ? ` (${model.fallback})` : ""}</div>
              {!model.clinical && (
                <div class="badge demo" id="demo-badge" role="note">
                  Demonstration model, not for clinical use
                </div>
              )}
              {(model.go_live === "not_validated_here" || model.go_live === "retired") && (
                <div class="badge demo" id="not-validated-badge" role="note">
                  {model.go_live === "retired" ? "Retired here" : "Not validated here"}: nothing is flagged
                </div>
              )}
            </div>
          )}
          {s.priors.length > 0 && (
            <div class="priors" id="priors">
              Priors:{" "}
              {s.priors.map((pr) => (
                <button key={pr.id} class="prior-link" data-id={pr.id} title={`${pr.accession} · AI ${pr.ai}`} onClick={() => p.onOpenPrior?.(pr.id)}>
                  {pr.study_date}
                </button>
              ))}
            </div>
          )}
          {s.ai === "refused" && <div class="banner warn">Not inferred: {s.ai_message}</div>}
          {s.ai === "error" && <div class="banner error">AI error: {s.ai_message}</div>}
          {(s.ai === "queued" || s.ai === "running") && <div class="banner">AI result pending…</div>}
          {s.availability === "partial" && (
            <div class="banner warn">Not every image arrived from the PACS; the AI does not run on part of a study: {s.availability_message}</div>
          )}
          <ol class="finding-list">
            {s.findings.map((f, i) => {
              const d = latest(s.decisions, f.label);
              return (
                <li
                  key={f.label}
                  id={`finding-${f.label}`}
                  class={`finding ${i === p.selected ? "selected" : ""} ${f.flagged ? "flagged" : ""}`}
                  onClick={() => p.onSelect(i)}
                >
                  <div class="row">
                    <span class="name">{label(f.label)}</span>
                    {f.flagged && <span class="pill flagged">Flagged</span>}
                  </div>
                  <div class="row muted">
                    score <span class="num">{score(f.score)}</span> · threshold <span class="num">{score(f.threshold)}</span>
                  </div>
                  {f.prior && <div class="prior muted" data-label={f.label}>{f.prior}</div>}
                  <div class="scorebar">
                    <div class="fill" style={{ width: `${Math.round(f.score * 100)}%` }} />
                    <div class="mark" style={{ left: `${Math.round(f.threshold * 100)}%` }} />
                  </div>
                  <div class="actions">
                    {f.has_heatmap && (
                      <button
                        class={`heat-toggle ${p.heat.label === f.label ? "on" : ""}`}
                        data-label={f.label}
                        onClick={(e) => {
                          e.stopPropagation();
                          p.onSelect(i);
                          p.onHeat({ ...p.heat, label: p.heat.label === f.label ? null : f.label });
                        }}
                      >
                        Heatmap <kbd>m</kbd>
                      </button>
                    )}
                    <button
                      class="confirm"
                      data-label={f.label}
                      disabled={p.pending !== null}
                      onClick={(e) => {
                        e.stopPropagation();
                        p.onSelect(i);
                        p.onDecide(f, "confirm");
                      }}
                    >
                      Confirm <kbd>c</kbd>
                    </button>
                    <button
                      class="dismiss"
                      data-label={f.label}
                      disabled={p.pending !== null}
                      onClick={(e) => {
                        e.stopPropagation();
                        p.onSelect(i);
                        p.onDecide(f, "dismiss");
                      }}
                    >
                      Dismiss <kbd>d</kbd>
                    </button>
                  </div>
                  {p.pending === f.label && <div class="muted">Recording…</div>}
                  {d && (
                    <div class={`decision ${d.decision}`} data-seq={d.seq}>
                      {d.decision === "confirm" ? "Confirmed" : "Dismissed"} · row {d.seq}
                    </div>
                  )}
                </li>
              );
            })}
          </ol>
          {s.findings.length > 0 && (
            <div class="overlay-controls">
              <label>
                Opacity
                <input
                  id="heat-opacity"
                  type="range"
                  min="0.1"
                  max="1"
                  step="0.05"
                  value={p.heat.opacity}
                  onInput={(e) => p.onHeat({ ...p.heat, opacity: Number((e.target as HTMLInputElement).value) })}
                />
              </label>
              <label>
                <input type="checkbox" id="heat-contour" checked={p.heat.mode === 2} onChange={() => p.onHeat({ ...p.heat, mode: p.heat.mode === 1 ? 2 : 1 })} />
                Contour at threshold <kbd>t</kbd>
              </label>
            </div>
          )}
        </>
      )}
      <label class="reason">
        Reason (optional)
        <input id="reason" value={p.reason} maxLength={2000} onInput={(e) => p.onReason((e.target as HTMLInputElement).value)} />
      </label>
      {p.missed ? (
        <form
          class="missed"
          id="missed-form"
          onSubmit={(e) => {
            e.preventDefault();
            const name = missedLabel || labels[0] || "other";
            p.onMissed(name);
          }}
        >
          <div class="strong">Missed finding at {Math.round(p.missed.x)},{Math.round(p.missed.y)} ({Math.round(p.missed.width)}×{Math.round(p.missed.height)} px)</div>
          <select id="missed-label" value={missedLabel} onChange={(e) => setMissedLabel((e.target as HTMLSelectElement).value)}>
            {[...labels, "other"].map((l) => (
              <option value={l}>{label(l)}</option>
            ))}
          </select>
          <button type="submit">Add missed finding</button>
          <button type="button" onClick={p.onCancelMissed}>Cancel <kbd>Esc</kbd></button>
        </form>
      ) : (
        <p class="muted hint">Missed something? Press <kbd>b</kbd> and draw a box.</p>
      )}
      {s.decisions.filter((d) => d.decision === "add_missed").map((d) => (
        <div class="decision add_missed" key={d.seq}>Added missed {label(d.finding)} · row {d.seq}</div>
      ))}
      {p.children}
    </aside>
  );
}
