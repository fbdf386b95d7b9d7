import { useState } from "preact/hooks";
import type { PacsCheck, SettingKey, SetupRequest, SetupView } from "./bindings";
import { commands, message } from "./api";
import { ROLES } from "./format";

/** The first run: who reads, where studies come from, which model, where
 * the audit log is. Every choice is checked by the core when it is
 * finished, and recorded in the audit log. */
export function Setup({ view, onDone }: { view: SetupView; onDone: () => void }) {
  const [req, setReq] = useState<SetupRequest>(view.defaults);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [checks, setChecks] = useState<PacsCheck[] | null>(null);
  const locked = (k: SettingKey) => view.policy.locked.includes(k);
  const set = (patch: Partial<SetupRequest>) => setReq({ ...req, ...patch });
  const run = async (what: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await what();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const finish = (e: Event) => {
    e.preventDefault();
    run(async () => {
      await commands.finishSetup(req);
      onDone();
    });
  };
  const test = () => run(async () => {
    setChecks(null);
    setChecks(await commands.checkPacs(req.pacs_config ?? ""));
  });
  const choose = () => run(async () => {
    const folder = await commands.chooseFolder();
    if (folder) set({ sources: [...req.sources.filter((s) => s !== folder), folder] });
  });
  const model = view.models.find((m) => m.dir === req.model_dir);
  const lock = (k: SettingKey) => locked(k) && <span class="locked" title={`Set by your administrator in ${view.policy.file}`}>locked</span>;
  return (
    <main class="setup" id="setup" aria-label="Set up Overread">
      <h1>Set up Overread</h1>
      <p class="muted">Tell Overread who you are, where your studies come from and which model to run. You can change these later in Settings{view.policy.file ? "; what your administrator locked stays as it is" : ""}.</p>
      <form onSubmit={finish}>
        <fieldset>
          <legend>You</legend>
          <label>ID <input id="setup-reader-id" value={req.reader.id} onInput={(e) => set({ reader: { ...req.reader, id: (e.target as HTMLInputElement).value } })} /></label>
          <label>Name <input id="setup-reader-name" value={req.reader.display_name} onInput={(e) => set({ reader: { ...req.reader, display_name: (e.target as HTMLInputElement).value } })} /></label>
          <label>Role
            <select id="setup-role" value={req.reader.role} onChange={(e) => set({ reader: { ...req.reader, role: (e.target as HTMLSelectElement).value } })}>
              {ROLES.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
            </select>
          </label>
          <label class="check"><input id="setup-read-first" type="checkbox" disabled={locked("read_first")} checked={req.read_first} onChange={() => set({ read_first: !req.read_first })} /> Read first: hide the AI until I record my own impression {lock("read_first")}</label>
        </fieldset>
        <fieldset>
          <legend>Studies</legend>
          <label>Folders or DICOMDIRs, one per line {lock("sources")}
            <textarea id="setup-sources" rows={2} disabled={locked("sources")} value={req.sources.join("\n")} onInput={(e) => set({ sources: (e.target as HTMLTextAreaElement).value.split("\n").map((x) => x.trim()).filter(Boolean) })} />
          </label>
          <button type="button" id="setup-choose" disabled={busy || locked("sources")} onClick={choose}>Choose a folder…</button>
          <label>PACS configuration file (TOML), or empty for none {lock("pacs_config")}
            <input id="setup-pacs" disabled={locked("pacs_config")} placeholder="/etc/overread/pacs.toml" value={req.pacs_config ?? ""} onInput={(e) => { setChecks(null); set({ pacs_config: (e.target as HTMLInputElement).value.trim() || null }); }} />
          </label>
          <button type="button" id="setup-test-pacs" disabled={busy || !req.pacs_config} onClick={test}>Test the connection</button>
          {checks && (
            <ul id="setup-pacs-checks">
              {checks.map((c) => <li key={c.source} class={c.ok ? "ok" : "error"}>{c.ok ? "✓" : "✗"} {c.message.startsWith(c.source) ? c.message : `${c.source}: ${c.message}`}</li>)}
            </ul>
          )}
        </fieldset>
        <fieldset>
          <legend>AI model {lock("model_dir")}</legend>
          <select id="setup-model" disabled={locked("model_dir")} value={req.model_dir} onChange={(e) => set({ model_dir: (e.target as HTMLSelectElement).value })}>
            {view.models.map((m) => <option key={m.dir} value={m.dir}>{m.name} {m.version}{m.clinical ? "" : " (demonstration, not for clinical use)"}</option>)}
          </select>
          {model && <p class="muted" id="setup-model-use">Intended use: {model.intended_use}{model.clinical ? "" : ". Demonstration, not for clinical use."}</p>}
        </fieldset>
        <fieldset>
          <legend>Audit log {lock("audit_log")}</legend>
          <label>Where your decisions are recorded
            <input id="setup-audit" disabled={locked("audit_log")} value={req.audit_log} onInput={(e) => set({ audit_log: (e.target as HTMLInputElement).value.trim() })} />
          </label>
        </fieldset>
        {error && <p class="banner error" id="setup-error" role="alert">{error}</p>}
        <div class="setup-actions">
          <button type="submit" id="setup-finish" class="primary" disabled={busy}>Start reading</button>
          {view.demo && <button type="button" id="setup-demo" disabled={busy} onClick={() => run(async () => { await commands.tryDemo(); onDone(); })}>Try it with demo data</button>}
        </div>
      </form>
    </main>
  );
}
