import { render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { StartupProblem, WorklistChange, Worklist as WorklistData } from "./bindings";
import { applyChange, commands, message, onWorklistChange } from "./api";
import { Audit } from "./Audit";
import { KEYS } from "./keys";
import { LocalSources } from "./LocalSources";
import { SettingsView } from "./SettingsView";
import { Setup } from "./Setup";
import { Viewer } from "./viewer/Viewer";
import { Worklist } from "./Worklist";

type Screen = "worklist" | "viewer" | "audit" | "settings";

function App() {
  const [screen, setScreen] = useState<Screen>("worklist");
  const [data, setData] = useState<WorklistData | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  // `order` is the worklist as it was when the study was opened, so j/k walk
  // a stable list even as decisions re-sort the worklist.
  const [open, setOpen] = useState<{ id: string; at: number; order: string[] } | null>(null);
  const [status, setStatus] = useState("");
  const [help, setHelp] = useState(false);
  const refreshing = useRef(false);
  const again = useRef(false);

  // One worklist request in flight at a time; a refresh asked for meanwhile
  // runs once after it, so the last triage event is never lost.
  const refresh = useCallback(async () => {
    if (refreshing.current) {
      again.current = true;
      return;
    }
    refreshing.current = true;
    try {
      do {
        again.current = false;
        const w = await commands.worklist();
        setData(w);
        setSelected((s) => s ?? w.rows[0]?.id ?? null);
      } while (again.current);
    } catch (e) {
      setStatus(message(e));
    } finally {
      refreshing.current = false;
    }
  }, []);

  // Changes update their rows at once; the reading order follows from a
  // full fetch at most every two seconds while changes keep coming, and
  // when a triage run ends.
  // Changes arriving together are applied in one render per frame.
  const reorder = useRef<ReturnType<typeof setTimeout> | null>(null);
  const queued = useRef<WorklistChange[]>([]);
  useEffect(() => {
    refresh();
    const un = onWorklistChange((c) => {
      if (queued.current.push(c) === 1) {
        requestAnimationFrame(() => {
          const changes = queued.current.splice(0);
          setData((w) => (w ? changes.reduce(applyChange, w) : w));
        });
      }
      if (c.triage && !c.triage.running) refresh();
      else if (!reorder.current) {
        reorder.current = setTimeout(() => {
          reorder.current = null;
          refresh();
        }, 2000);
      }
    });
    return () => {
      un.then((f) => f());
      if (reorder.current) clearTimeout(reorder.current);
    };
  }, []);

  const openStudy = useCallback(
    (id: string, order?: string[]) => {
      setSelected(id);
      // "Next" skips the studies other readers are reading or have read.
      const free = (data?.rows ?? []).filter((r) => !r.claim || r.claim.mine || r.id === id);
      setOpen({ id, at: performance.now(), order: order ?? free.map((r) => r.id) });
      setScreen("viewer");
    },
    [data],
  );

  const step = useCallback(
    (delta: number) => {
      if (!open) return;
      const next = open.order[open.order.indexOf(open.id) + delta];
      if (next) openStudy(next, open.order);
    },
    [open, openStudy],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && /^[1-4]$/.test(e.key)) {
        const s = (["worklist", "viewer", "audit", "settings"] as Screen[])[Number(e.key) - 1];
        if (s !== "viewer" || open) setScreen(s);
        e.preventDefault();
      } else if (e.key === "?" && (e.target as HTMLElement | null)?.tagName !== "INPUT") {
        setHelp((h) => !h);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open]);

  return (
    <div class="app">
      <nav class="tabs" aria-label="Screens">
        <span class="brand">Overread</span>
        {(["worklist", "viewer", "audit", "settings"] as Screen[]).map((s, i) => (
          <button id={`tab-${s}`} class={screen === s ? "active" : ""} disabled={s === "viewer" && !open} onClick={() => setScreen(s)}>
            {s[0].toUpperCase() + s.slice(1)} <kbd>Alt+{i + 1}</kbd>
          </button>
        ))}
        <span class="spacer" />
        <button class="help" onClick={() => setHelp((h) => !h)}>Keys <kbd>?</kbd></button>
      </nav>
      <main>
        <div hidden={screen !== "worklist"} class="screen worklist-screen">
          <LocalSources onChanged={refresh} setStatus={setStatus} />
          <Worklist data={data} selected={selected} onSelect={setSelected} onOpen={(id) => openStudy(id)} active={screen === "worklist"} />
        </div>
        <div hidden={screen !== "viewer"} class="screen">
          {open && (
            <Viewer
              id={open.id}
              requestedAt={open.at}
              active={screen === "viewer"}
              row={data?.rows.find((r) => r.id === open.id)}
              onBack={() => setScreen("worklist")}
              onStep={step}
              onOpen={(prior) => openStudy(prior)}
              onChanged={refresh}
              setStatus={setStatus}
            />
          )}
        </div>
        <div hidden={screen !== "audit"} class="screen">
          <Audit active={screen === "audit"} setStatus={setStatus} store={data?.store} />
        </div>
        <div hidden={screen !== "settings"} class="screen">
          <SettingsView active={screen === "settings"} model={data?.model ?? null} audit={data?.audit} setStatus={setStatus} onSaved={refresh} />
        </div>
      </main>
      <footer class="status" id="status" role="status">{status}</footer>
      {help && (
        <div class="help-overlay" onClick={() => setHelp(false)}>
          <table>
            <tbody>{KEYS.map((k) => <tr key={k.shown}><td><kbd>{k.shown}</kbd></td><td>{k.help}</td></tr>)}</tbody>
          </table>
        </div>
      )}
    </div>
  );
}

// Anything unexpected is shown, never swallowed.
window.addEventListener("error", (e) => {
  // Browsers report a resize observer whose callback changed the layout
  // again within a frame; the next frame delivers it. Nothing is wrong.
  if (e.message?.startsWith("ResizeObserver loop")) return;
  const s = document.getElementById("status");
  if (s) s.textContent = `Error: ${e.message}`;
});
window.addEventListener("unhandledrejection", (e) => {
  const s = document.getElementById("status");
  if (s) s.textContent = `Error: ${message(e.reason)}`;
});

/** What the window shows when the app could not start: what is wrong and
 * how to fix it, nothing else. */
function Problem({ problem }: { problem: StartupProblem }) {
  return (
    <main class="startup-problem" id="startup-problem" role="alert">
      <h1>Overread cannot start</h1>
      <p id="startup-message">{problem.message}</p>
      <p id="startup-fix">{problem.fix}</p>
    </main>
  );
}

/** What the window shows first: the startup problem, else the first-run
 * screen (a reader with no settings), else the app. */
async function first(): Promise<preact.JSX.Element> {
  const problem = await commands.startupProblem();
  if (problem) return <Problem problem={problem} />;
  const setup = await commands.setupView();
  if (setup) return <Setup view={setup} onDone={() => root && render(<App />, root)} />;
  return <App />;
}

const root = document.getElementById("app");
if (root) {
  first()
    .then((screen) => render(screen, root))
    .catch(() => render(<App />, root));
}
