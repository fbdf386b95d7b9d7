// Local sources on the worklist screen: "Open folder…" (a native dialog the
// app runs), folders or files dropped on the window, the sources listed
// with a remove button, and each scan's progress in the status bar.

import { useEffect, useRef, useState } from "preact/hooks";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import type { SourceAdded } from "./bindings";
import { commands, message, onWorklistChange } from "./api";

declare global {
  interface Window {
    /** The drop handler's entry point, for the end-to-end test. */
    __overreadDrop?: (paths: string[]) => Promise<SourceAdded[]>;
  }
}

function summary(added: SourceAdded[]): string {
  return added
    .map((a) => `${a.path}: ${a.studies} ${a.studies === 1 ? "study" : "studies"} in ${a.files} files` +
      (a.problems.length ? ` (${a.problems.length} not readable: ${a.problems[0]})` : ""))
    .join("; ");
}

export function LocalSources({ onChanged, setStatus }: { onChanged: () => void; setStatus: (s: string) => void }) {
  const [sources, setSources] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  // Progress events may arrive after the scan's answer: only shown while it runs.
  const scanning = useRef(0);
  const load = () => commands.getSettings().then((s) => setSources(s.sources), (e) => setStatus(message(e)));

  const run = async (what: Promise<SourceAdded[]>) => {
    setBusy(true);
    scanning.current++;
    try {
      const added = await what;
      if (added.length) setStatus(`Added ${summary(added)}`);
      return added;
    } catch (e) {
      setStatus(message(e));
      return [];
    } finally {
      scanning.current--;
      setBusy(false);
      load();
      onChanged();
    }
  };

  useEffect(() => {
    load();
    const drop = (paths: string[]) => run(commands.addSources(paths));
    window.__overreadDrop = drop;
    const unDrop = getCurrentWebview()
      .onDragDropEvent((e) => {
        if (e.payload.type === "drop" && e.payload.paths.length) drop(e.payload.paths);
      })
      .catch(() => () => {});
    const unScan = onWorklistChange((c) => {
      const p = c.scan;
      if (p && !p.finished && scanning.current > 0) setStatus(`Scanning ${p.path}: ${p.done} of ${p.total} files`);
    });
    return () => {
      unDrop.then((f) => f());
      unScan.then((f) => f());
    };
  }, []);

  const remove = async (path: string) => {
    try {
      await commands.removeSource(path);
      setStatus(`Removed ${path}; its studies left the worklist (their audit rows stay)`);
    } catch (e) {
      setStatus(message(e));
    }
    load();
    onChanged();
  };

  return (
    <div class="local-sources" id="local-sources" aria-label="Local sources">
      <button id="open-folder" disabled={busy} onClick={() => run(commands.openFolder())} title="Or drop folders, files or a DICOMDIR on the window">
        Open folder…
      </button>
      {sources.map((s) => (
        <span class="local-source" key={s} data-path={s}>
          {s}
          <button class="remove-source" title="Remove this source (its studies leave the worklist)" onClick={() => remove(s)}>×</button>
        </span>
      ))}
    </div>
  );
}
