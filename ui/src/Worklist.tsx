import { memo } from "preact/compat";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { AiStatus, Availability, Worklist as WorklistData, WorklistRow } from "./bindings";
import { commands, prefetch } from "./api";
import { READING_LABEL, RESULTS_LABEL, SOURCE_LABEL, auditWarning, claimLine, goLiveText, label, score, searchText, statusPill, storeLine } from "./format";

export type AiFilter = "all" | "unread" | AiStatus | Exclude<Availability, "available">;

const BY_AVAILABILITY: string[] = ["retrieving", "partial", "evicted"];

/** Rows matching the search text and status filter, in the server's reading order. */
export function filterRows(rows: WorklistRow[], query: string, filter: AiFilter): WorklistRow[] {
  const q = query.trim().toLowerCase();
  return rows.filter((r) => {
    if (filter === "unread" && (r.reading === "read" || (r.claim && !r.claim.mine && r.claim.done))) return false;
    if (BY_AVAILABILITY.includes(filter)) {
      if (r.availability !== filter) return false;
    } else if (filter !== "all" && filter !== "unread" && (r.ai !== filter || r.availability !== "available")) return false;
    if (!q) return true;
    return searchText([r.patient_name, r.patient_id, r.accession, r.study_date, r.modality, r.body_part, r.top_finding]).includes(q);
  });
}

interface Props {
  data: WorklistData | null;
  selected: string | null;
  onSelect: (id: string) => void;
  onOpen: (id: string) => void;
  active: boolean;
}

type Handlers = { current: { onSelect: (id: string) => void; onOpen: (id: string) => void } };

/** The fields a row shows; a row whose shown fields did not change is not
 * rendered again (a busy worklist changes a few rows at a time). */
const SHOWN: (keyof WorklistRow)[] = [
  "patient_name", "patient_id", "accession", "study_date", "modality", "body_part",
  "availability", "availability_message", "ai", "ai_message", "overdue", "top_finding", "top_score", "reading", "results", "claim",
];

const Row = memo(
  function Row({ row: r, selected, handlers }: { row: WorklistRow; selected: boolean; handlers: Handlers }) {
    const pill = statusPill(r);
    return (
      <tr
        id={`row-${r.id}`}
        data-id={r.id}
        class={`${selected ? "selected" : ""} ai-${r.ai} ${r.availability} ${r.overdue ? "overdue" : ""}`}
        aria-selected={selected}
        onClick={() => handlers.current.onSelect(r.id)}
        onDblClick={() => handlers.current.onOpen(r.id)}
      >
        <td>{r.patient_name}</td>
        <td>{r.patient_id}</td>
        <td>{r.accession}</td>
        <td>{r.study_date}</td>
        <td>{r.modality}</td>
        <td>{r.body_part}</td>
        <td class="ai" title={r.availability_message ?? r.ai_message ?? ""}>
          <span class={`pill ${pill.cls}`}>{pill.text}</span>
          {r.overdue && <span class="pill overdue" title="Waited longer than the maximum wait">Overdue</span>}
        </td>
        <td>{r.top_finding ? label(r.top_finding) : ""}</td>
        <td class="num">{score(r.top_score)}</td>
        <td>
          {READING_LABEL[r.reading]}
          {claimLine(r.claim) && <span class={`claim${r.claim?.done ? " done" : ""}`} data-claim={r.claim?.reader}>{claimLine(r.claim)}</span>}
        </td>
        <td class={`results ${r.results.state}`} data-results={r.results.state} title={r.results.message ?? ""}>
          {RESULTS_LABEL[r.results.state]}
        </td>
      </tr>
    );
  },
  (a, b) => a.selected === b.selected && SHOWN.every((k) => a.row[k] === b.row[k]),
);

export function Worklist({ data, selected, onSelect, onOpen, active }: Props) {
  // Rows call the latest handlers without re-rendering when they change.
  const handlers: Handlers = useRef({ onSelect, onOpen });
  handlers.current = { onSelect, onOpen };
  const [query, setQuery] = useState("");
  const [filter, setFilter] = useState<AiFilter>("all");
  const search = useRef<HTMLInputElement>(null);
  const rows = useMemo(() => filterRows(data?.rows ?? [], query, filter), [data, query, filter]);

  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => {
      const typing = (e.target as HTMLElement | null)?.tagName === "INPUT";
      if (typing) {
        if (e.key === "Escape" || e.key === "Enter") (e.target as HTMLElement).blur();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const i = rows.findIndex((r) => r.id === selected);
      if (e.key === "j" || e.key === "ArrowDown") {
        const next = rows[Math.min(rows.length - 1, i + 1)];
        if (next) onSelect(next.id);
        e.preventDefault();
      } else if (e.key === "k" || e.key === "ArrowUp") {
        const prev = rows[Math.max(0, i - 1)];
        if (prev) onSelect(prev.id);
        e.preventDefault();
      } else if (e.key === "Enter" && selected) {
        onOpen(selected);
        e.preventDefault();
      } else if (e.key === "/") {
        search.current?.focus();
        e.preventDefault();
      } else if (e.key === "u") {
        setFilter((f) => (f === "unread" ? "all" : "unread"));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [active, rows, selected, onSelect, onOpen]);

  useEffect(() => {
    document.getElementById(`row-${selected}`)?.scrollIntoView?.({ block: "nearest" });
    // Decode the selected study while the reader decides to open it.
    if (!active || !selected) return;
    const t = setTimeout(() => prefetch(selected), 60);
    return () => clearTimeout(t);
  }, [selected, active]);

  const triage = data?.triage;
  const pct = triage && triage.total > 0 ? (100 * triage.done) / triage.total : 0;
  return (
    <section class="worklist" aria-label="Worklist">
      <div class="toolbar">
        <input
          ref={search}
          id="search"
          type="search"
          placeholder="Search patient, ID, accession, finding  ( / )"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <select id="ai-filter" value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value as AiFilter)} aria-label="Filter">
          <option value="all">All studies</option>
          <option value="unread">Not yet read (u)</option>
          <option value="flagged">AI flagged</option>
          <option value="no_flags">No AI flags</option>
          <option value="refused">Refused by the model</option>
          <option value="error">AI error</option>
          <option value="queued">Queued</option>
          <option value="retrieving">Retrieving from the PACS</option>
          <option value="partial">Partial (not every image arrived)</option>
          <option value="evicted">Evicted from the PACS cache</option>
        </select>
        <div class="triage" id="triage-progress" title="Background AI triage">
          <div class="bar"><div style={{ width: `${pct}%` }} /></div>
          <span>
            {triage?.running ? `AI triage ${triage.done}/${triage.total}` : triage && triage.total > 0 ? `AI triage done (${triage.total})` : "AI idle"}
          </span>
        </div>
      </div>
      {data && data.sources.length > 0 && (
        <div class="sources" id="sources" aria-label="PACS sources">
          {data.sources.map((s) => (
            <span key={s.name} class={`source ${s.state}`} title={s.message ?? ""}>
              <b>{s.name}</b> {SOURCE_LABEL[s.state]}
              {s.instances_total > 0 ? ` · retrieving ${s.instances_done}/${s.instances_total}` : ""}
              {` · ${s.complete}/${s.studies} studies here`}
              {s.state === "offline" && s.message ? ` · ${s.message}` : ""}
            </span>
          ))}
          <button id="refresh-sources" title="Ask the PACS for new studies now" onClick={() => commands.refreshSources().catch(() => undefined)}>
            Refresh
          </button>
        </div>
      )}
      {data?.store && (
        <div class={`sources store ${data.store.state}`} id="store-status" role={data.store.state === "alert" ? "alert" : undefined}>
          {storeLine(data.store)}
        </div>
      )}
      {auditWarning(data?.audit) && (
        <div class="banner error" id="audit-warning" role="alert">
          {auditWarning(data?.audit)}
        </div>
      )}
      {data?.model_error && (
        <div class="banner error" role="alert">
          AI unavailable: {data.model_error}
        </div>
      )}
      {data?.model && !data.model.clinical && (
        <div class="banner demo" role="note">
          {data.model.name} {data.model.version} is a demonstration model, not for clinical use.
        </div>
      )}
      {data?.model && (data.model.go_live === "not_validated_here" || data.model.go_live === "retired") && (
        <div class="banner demo" id="not-validated" role="note">
          {data.model.name} {data.model.version} {goLiveText(data.model.go_live)}
        </div>
      )}
      <table class="rows" role="grid">
        <thead>
          <tr>
            <th>Patient</th>
            <th>ID</th>
            <th>Accession</th>
            <th>Date</th>
            <th>Mod</th>
            <th>Body part</th>
            <th>AI</th>
            <th>Top finding</th>
            <th>Score</th>
            <th>Reading</th>
            <th>Results</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <Row key={r.id} row={r} selected={r.id === selected} handlers={handlers} />
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="empty">No studies match.</p>}
    </section>
  );
}
