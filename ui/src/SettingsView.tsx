import { useEffect, useState } from "preact/hooks";
import type { AuditHealth, InstalledModel, ModelView, SettingKey, Settings, SettingsPolicy } from "./bindings";
import { commands, message } from "./api";
import { auditWarning, goLiveText, label, ROLES } from "./format";
import { ValidationHere } from "./ValidationHere";

export function SettingsView({ active, model, audit, setStatus, onSaved }: { active: boolean; model: ModelView | null; audit: AuditHealth | undefined; setStatus: (s: string) => void; onSaved: () => void }) {
  const [s, setS] = useState<Settings | null>(null);
  const [models, setModels] = useState<InstalledModel[]>([]);
  const [policy, setPolicy] = useState<SettingsPolicy>({ file: null, locked: [] });
  useEffect(() => {
    if (!active) return;
    commands.getSettings().then(setS).catch((e) => setStatus(message(e)));
    commands.installedModels().then(setModels).catch((e) => setStatus(message(e)));
    commands.settingsPolicy().then(setPolicy).catch((e) => setStatus(message(e)));
  }, [active]);
  if (!s) return <section class="settings" />;
  const locked = (k: SettingKey) => policy.locked.includes(k);
  const lock = (k: SettingKey) => locked(k) && <span class="locked" data-key={k} title={`Set by your administrator in ${policy.file}`}>locked</span>;
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      setS(await commands.saveSettings(s));
      setStatus("Settings saved. A new model, execution provider or inference server applies at the next start.");
      onSaved();
    } catch (err) {
      setStatus(`Not saved: ${message(err)}`);
    }
  };
  return (
    <section class="settings" aria-label="Settings">
      {auditWarning(audit) && <p class="banner error" id="settings-audit-warning" role="alert">{auditWarning(audit)}</p>}
      {policy.locked.length > 0 && <p class="muted" id="settings-locked">Settings marked locked are set by your administrator ({policy.file}).</p>}
      <form onSubmit={save}>
        <fieldset>
          <legend>Reader</legend>
          <label>ID <input id="reader-id" value={s.reader.id} onInput={(e) => setS({ ...s, reader: { ...s.reader, id: (e.target as HTMLInputElement).value } })} /></label>
          <label>Name <input value={s.reader.display_name} onInput={(e) => setS({ ...s, reader: { ...s.reader, display_name: (e.target as HTMLInputElement).value } })} /></label>
          <label>Role
            <select value={s.reader.role} onChange={(e) => setS({ ...s, reader: { ...s.reader, role: (e.target as HTMLSelectElement).value } })}>
              {ROLES.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
            </select>
          </label>
          <label class="check"><input type="checkbox" disabled={locked("read_first")} checked={s.read_first} onChange={() => setS({ ...s, read_first: !s.read_first })} /> Read first: hide the AI until I record my own impression {lock("read_first")}</label>
        </fieldset>
        <fieldset>
          <legend>Study sources</legend>
          <label>Folders or DICOMDIRs, one per line {lock("sources")}
            <textarea rows={3} disabled={locked("sources")} value={s.sources.join("\n")} onInput={(e) => setS({ ...s, sources: (e.target as HTMLTextAreaElement).value.split("\n").map((x) => x.trim()).filter(Boolean) })} />
          </label>
          <label>PACS configuration file (TOML; sources, AE titles, cache), or empty for none {lock("pacs_config")}
            <input id="pacs-config" disabled={locked("pacs_config")} placeholder="/etc/overread/pacs.toml" value={s.pacs_config ?? ""} onInput={(e) => setS({ ...s, pacs_config: (e.target as HTMLInputElement).value.trim() || null })} />
          </label>
          <label>Department store (PostgreSQL connection string, no password: it comes from OVERREAD_STORE_PASSWORD or OVERREAD_STORE_PASSWORD_FILE), or empty for none {lock("department_store")}
            <input id="department-store" disabled={locked("department_store")} placeholder="host=store.example.nhs.uk dbname=overread user=ws01" value={s.department_store ?? ""} onInput={(e) => setS({ ...s, department_store: (e.target as HTMLInputElement).value.trim() || null })} />
          </label>
          <label>Maximum wait before a study goes to the top (minutes) {lock("max_wait_minutes")}
            <input type="number" disabled={locked("max_wait_minutes")} min={1} max={10080} value={s.max_wait_minutes} onInput={(e) => setS({ ...s, max_wait_minutes: Number((e.target as HTMLInputElement).value) })} />
          </label>
        </fieldset>
        <fieldset>
          <legend>AI model</legend>
          <label>Model (installed by your administrator with <code>overread model install</code>) {lock("model_dir")}
            <select id="model-choice" disabled={locked("model_dir")} value={s.model_dir} onChange={(e) => setS({ ...s, model_dir: (e.target as HTMLSelectElement).value })}>
              {!models.some((m) => m.dir === s.model_dir) && <option value={s.model_dir}>{model ? `${model.name} ${model.version} (in use)` : "The model in use"}</option>}
              {models.map((m) => (
                <option key={m.dir} value={m.dir}>{m.name} {m.version}{m.clinical ? "" : " (demonstration)"}</option>
              ))}
            </select>
          </label>
          <label>Execution provider {lock("execution_provider")}
            <select disabled={locked("execution_provider")} value={s.execution_provider} onChange={(e) => setS({ ...s, execution_provider: (e.target as HTMLSelectElement).value })}>
              <option value="auto">Auto (GPU when available, else CPU)</option>
              <option value="cpu">CPU</option>
              <option value="cuda">GPU (CUDA)</option>
            </select>
          </label>
          <label>Inference server (Open Inference Protocol v2, e.g. Triton; the device runs the model when it does not answer), or empty for on-device only {lock("inference_server")}
            <input id="inference-server" disabled={locked("inference_server")} placeholder="http://inference.example.nhs.uk:8000" value={s.inference_server ?? ""} onInput={(e) => setS({ ...s, inference_server: (e.target as HTMLInputElement).value.trim() || null })} />
          </label>
          {model && (
            <div class="model-info">
              <p>{model.name} v{model.version} · {model.licence} · {model.clinical ? `clinical, ${goLiveText(model.go_live).replace(/^is /, "")}` : "demonstration, not for clinical use"} · running on {model.execution_provider}</p>
              <p class="muted">Intended use: {model.intended_use}</p>
              <p class="muted hash">sha256 {model.sha256}</p>
              <table>
                <thead><tr><th>Finding</th><th>Operating threshold</th></tr></thead>
                <tbody>{model.thresholds.map((t) => <tr key={t.label}><td>{label(t.label)}</td><td class="num">{t.threshold.toFixed(2)}{t.set_here ? " (set here)" : ""}</td></tr>)}</tbody>
              </table>
            </div>
          )}
          <ValidationHere active={active} setStatus={setStatus} />
        </fieldset>
        <button type="submit">Save</button>
      </form>
    </section>
  );
}
