import { useState } from "preact/hooks";
import type { GovernanceFinding, GovernanceModel, GovernanceScope, GovernanceView } from "./bindings";
import { commands, message } from "./api";
import { label } from "./format";

const DAY = 86_400_000;

/** YYYY-MM-DD of a time, UTC. */
function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** The last four weeks, ending today (UTC). */
export function defaultPeriod(now = Date.now()): { from: string; to: string } {
  return { from: day(now - 27 * DAY), to: day(now) };
}

const pct = (v: number | null) => (v == null ? "–" : `${(v * 100).toFixed(1)}%`);

/** A finding's scores in the period beside the baseline's, ten bins. */
export function ScoreBars({ f }: { f: GovernanceFinding }) {
  if (f.period_shares.length === 0) return null;
  const max = Math.max(0.01, ...f.period_shares, ...f.baseline_shares);
  const bw = 6;
  const h = 40;
  return (
    <svg class="plot score-bars" width={f.period_shares.length * (2 * bw + 2)} height={h} role="img" aria-label={`${f.finding} scores, period against baseline`}>
      {f.period_shares.map((p, i) => {
        const b = f.baseline_shares[i] ?? 0;
        const x = i * (2 * bw + 2);
        return (
          <g key={i}>
            <rect class="baseline" x={x} y={h - (b / max) * h} width={bw} height={(b / max) * h} />
            <rect class="period" x={x + bw} y={h - (p / max) * h} width={bw} height={(p / max) * h} />
          </g>
        );
      })}
    </svg>
  );
}

function Model({ m }: { m: GovernanceModel }) {
  return (
    <div class="governance-model" data-model={`${m.name} ${m.version}`}>
      <h3>
        {m.name} {m.version} <span class="muted">{m.images} images scored · {m.decisions} decisions · flags PPV {pct(m.ppv)}</span>
      </h3>
      {m.mix_alerts.length > 0 && <p class="drift">The mix of images changed: {m.mix_alerts.join(", ")}</p>}
      <table>
        <thead>
          <tr><th>Finding</th><th>Flag rate</th><th>Accepted</th><th>Rejected</th><th>Added</th><th>PPV</th><th>Score drift (PSI)</th><th>Scores: baseline / period</th></tr>
        </thead>
        <tbody>
          {m.findings.map((f) => (
            <tr key={f.finding} data-finding={f.finding} class={f.drift_alert ? "drift" : ""}>
              <td>{label(f.finding)}</td>
              <td class="num">{pct(f.flag_rate)}</td>
              <td class="num">{f.accepted}</td>
              <td class="num">{f.rejected}</td>
              <td class="num">{f.added}</td>
              <td class="num">{pct(f.ppv)}</td>
              <td class="num" title={f.drift_note ?? undefined}>
                {f.psi == null ? "not judged" : f.psi.toFixed(2)}{f.drift_alert ? " drift" : ""}
              </td>
              <td><ScoreBars f={f} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <table class="readers">
        <thead>
          <tr><th>Reader</th><th>Accepted</th><th>Rejected</th><th>Added</th><th>PPV</th></tr>
        </thead>
        <tbody>
          {m.readers.map((g) => (
            <tr key={g.key}>
              <td>{g.key}</td>
              <td class="num">{g.accepted}</td>
              <td class="num">{g.rejected}</td>
              <td class="num">{g.added}</td>
              <td class="num">{pct(g.ppv)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** What the governance group looks at, on the audit screen: this
 * workstation's log, or the department store when one is set. */
export function Governance({ department, setStatus }: { department: boolean; setStatus: (s: string) => void }) {
  const [scope, setScope] = useState<GovernanceScope>("workstation");
  const [period, setPeriod] = useState(defaultPeriod());
  const [view, setView] = useState<GovernanceView | null>(null);
  const [busy, setBusy] = useState(false);
  const request = () => ({ scope, from: period.from, to: period.to });

  const show = async () => {
    setBusy(true);
    try {
      setView(await commands.governance(request()));
    } catch (e) {
      setStatus(`Governance: ${message(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    try {
      const path = await commands.saveGovernanceReport(request());
      setStatus(path ? `Governance report saved to ${path}` : "Save cancelled");
    } catch (e) {
      setStatus(`Governance report failed: ${message(e)}`);
    }
  };

  return (
    <div class="governance" id="governance">
      <h2>Governance</h2>
      <div class="toolbar">
        <select id="governance-scope" value={scope} onChange={(e) => setScope(e.currentTarget.value as GovernanceScope)}>
          <option value="workstation">This workstation</option>
          <option value="department" disabled={!department}>Department</option>
        </select>
        <input type="date" id="governance-from" value={period.from} onChange={(e) => setPeriod({ ...period, from: e.currentTarget.value })} />
        <input type="date" id="governance-to" value={period.to} onChange={(e) => setPeriod({ ...period, to: e.currentTarget.value })} />
        <button id="governance-show" onClick={show} disabled={busy}>{busy ? "Reading…" : "Show"}</button>
        <button id="governance-save" onClick={save}>Save report…</button>
      </div>
      {view && (
        <div id="governance-view">
          <p class="muted">
            {view.scope}: {view.from} to {view.to}, against {view.baseline_from} to {view.baseline_to}
          </p>
          {view.alerts.length > 0 ? (
            <div class="banner error" id="governance-alerts" role="alert">
              <ul>{view.alerts.map((a) => <li key={a}>{a}</li>)}</ul>
            </div>
          ) : (
            <p id="governance-alerts" class="ok">No drift or chain alerts.</p>
          )}
          {view.models.length === 0 && <p>No AI results or decisions in this period.</p>}
          {view.models.map((m) => <Model key={`${m.name} ${m.version} ${m.sha256}`} m={m} />)}
        </div>
      )}
    </div>
  );
}
