import { useEffect, useState } from "preact/hooks";
import type { AuditEntry, ChainStatus, StatsView, StoreStatus } from "./bindings";
import { commands, message } from "./api";
import { label } from "./format";
import { Governance } from "./Governance";

/** Confirmed and dismissed per day for one finding, as stacked bars. */
export function DailyPlot({ stats, finding }: { stats: StatsView; finding: string }) {
  const days = stats.daily.filter((d) => d.finding === finding);
  if (days.length === 0) return null;
  const max = Math.max(1, ...days.map((d) => d.confirmed + d.dismissed));
  const bw = 18;
  const h = 80;
  return (
    <svg class="plot" width={days.length * (bw + 6) + 40} height={h + 24} role="img" aria-label={`${finding} decisions per day`}>
      {days.map((d, i) => {
        const hc = (d.confirmed / max) * h;
        const hd = (d.dismissed / max) * h;
        const x = 30 + i * (bw + 6);
        return (
          <g key={d.day}>
            <rect class="confirmed" x={x} y={h - hc} width={bw} height={hc}><title>{`${d.day}: ${d.confirmed} confirmed`}</title></rect>
            <rect class="dismissed" x={x} y={h - hc - hd} width={bw} height={hd}><title>{`${d.day}: ${d.dismissed} dismissed`}</title></rect>
            <text x={x} y={h + 14}>{d.day.slice(5)}</text>
          </g>
        );
      })}
      <text x={0} y={10}>{max}</text>
      <text x={0} y={h}>0</text>
    </svg>
  );
}

export function Audit({ active, setStatus, store }: { active: boolean; setStatus: (s: string) => void; store?: StoreStatus | null }) {
  const [rows, setRows] = useState<AuditEntry[]>([]);
  const [chain, setChain] = useState<ChainStatus | null>(null);
  const [stats, setStats] = useState<StatsView | null>(null);

  const refresh = async () => {
    try {
      setRows(await commands.auditRecent(200));
      setStats(await commands.agreementStats());
    } catch (e) {
      setStatus(message(e));
    }
  };
  const verify = async () => {
    try {
      setChain(await commands.verifyChain());
      refresh();
    } catch (e) {
      setStatus(message(e));
    }
  };
  const exportCsv = async (deidentify: boolean) => {
    try {
      const r = await commands.exportAudit(deidentify);
      if (!r) return setStatus("Export cancelled");
      setStatus(`Exported ${r.rows} rows to ${r.path}${r.deidentified ? " (de-identified)" : ""}`);
      refresh();
    } catch (e) {
      setStatus(`Export failed: ${message(e)}`);
    }
  };

  useEffect(() => {
    if (active) {
      refresh();
      verify();
    }
  }, [active]);

  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement | null)?.tagName === "INPUT" || e.ctrlKey || e.altKey || e.metaKey) return;
      if (e.key === "v") verify();
      else if (e.key === "e") exportCsv(false);
      else if (e.key === "E") exportCsv(true);
      else if (e.key === "R") refresh();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [active]);

  return (
    <section class="audit" aria-label="Audit">
      <div class="toolbar">
        <span id="chain-status" class={chain ? (chain.ok ? "ok" : "broken") : ""}>
          {chain ? (chain.ok ? `Chain intact: ${chain.rows} rows, head ${chain.head_hash.slice(0, 12)}…` : `Chain BROKEN: ${chain.message}`) : "Verifying…"}
        </span>
        <button onClick={verify}>Verify <kbd>v</kbd></button>
        <button onClick={() => exportCsv(false)}>Export CSV <kbd>e</kbd></button>
        <button onClick={() => exportCsv(true)}>Export de-identified <kbd>E</kbd></button>
        <button onClick={refresh}>Refresh <kbd>R</kbd></button>
      </div>
      {store && store.alerts.length > 0 && (
        <div class="banner error" id="store-alerts" role="alert">
          <b>The department store refused rows that do not extend the chain it holds:</b>
          <ul>
            {store.alerts.map((a) => (
              <li key={`${a.workstation}-${a.seq}-${a.received_at}`}>
                {a.workstation} row {a.seq} ({a.received_at}): {a.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
      {stats && (
        <div class="stats">
          <h2>Agreement ({stats.decisions} decisions)</h2>
          <table>
            <thead>
              <tr><th>Finding</th><th>Flags decided</th><th>Confirmed</th><th>Dismissed</th><th>Missed added</th><th>PPV</th><th>Median time to decision</th><th>Per day (confirmed / dismissed)</th></tr>
            </thead>
            <tbody>
              {stats.per_finding.map((a) => (
                <tr key={a.name}>
                  <td>{label(a.name)}</td>
                  <td class="num">{a.flags_shown}</td>
                  <td class="num">{a.confirmed}</td>
                  <td class="num">{a.dismissed}</td>
                  <td class="num">{a.missed_added}</td>
                  <td class="num">{a.ppv == null ? "–" : a.ppv.toFixed(2)}</td>
                  <td class="num">{a.median_ms_to_decision == null ? "–" : `${(a.median_ms_to_decision / 1000).toFixed(1)} s`}</td>
                  <td><DailyPlot stats={stats} finding={a.name} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Governance department={store != null} setStatus={setStatus} />
      <h2>Recent events</h2>
      <table class="rows" id="audit-rows">
        <thead>
          <tr><th>#</th><th>Recorded (UTC)</th><th>Event</th><th>Reader</th><th>Patient</th><th>Accession</th><th>Finding</th><th>Decision</th><th>AI score</th><th>Model</th><th>EP</th><th>Row hash</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.seq} class={`kind-${r.kind}`}>
              <td class="num">{r.seq}</td>
              <td>{r.recorded_at}</td>
              <td>{label(r.kind)}</td>
              <td>{r.reader}</td>
              <td>{r.patient_id}</td>
              <td>{r.accession}</td>
              <td>{label(r.finding)}</td>
              <td>{r.decision}</td>
              <td class="num">{r.ai_score == null ? "" : r.ai_score.toFixed(2)}</td>
              <td>{r.model}</td>
              <td>{r.execution_provider}</td>
              <td class="hash">{r.row_hash.slice(0, 12)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
