// Settings → AI model → "Validation here": whether the configured model may
// flag at this site, who accepted which validation report, the thresholds
// set here, and accepting a report (picked in the app's own open dialog,
// recorded in the audit log as this session's reader).
import { useEffect, useState } from "preact/hooks";
import type { ModelSite } from "./bindings";
import { commands, message } from "./api";
import { goLiveText, label } from "./format";

const day = (at: string) => at.slice(0, 10);

export function ValidationHere({ active, setStatus }: { active: boolean; setStatus: (s: string) => void }) {
  const [site, setSite] = useState<ModelSite | null>(null);
  const [wanted, setWanted] = useState<Record<string, string>>({});
  useEffect(() => {
    if (active) commands.modelSite().then(setSite).catch((e) => setStatus(message(e)));
  }, [active]);
  if (!site) return null;
  const { accepted, thresholds, retired } = site.state;
  const pending = site.in_force !== null && site.in_force !== site.go_live;
  const accept = async () => {
    try {
      const s = await commands.acceptValidation();
      if (!s) return;
      setSite(s);
      setStatus("Validation report accepted and recorded in the audit log. It applies at the next start.");
    } catch (e) {
      setStatus(`Not accepted: ${message(e)}`);
    }
  };
  const setThreshold = async (label: string) => {
    const value = Number(wanted[label]);
    if (!(value >= 0 && value <= 1)) {
      setStatus(`Not set: the ${label} threshold must be a number from 0 to 1`);
      return;
    }
    try {
      const s = await commands.setSiteThreshold(label, value);
      if (!s) return;
      setSite(s);
      setStatus(`The ${label} threshold is ${value.toFixed(2)} here, recorded in the audit log. It applies at the next start.`);
    } catch (e) {
      setStatus(`Not set: ${message(e)}`);
    }
  };
  return (
    <div class="validation" id="validation-here">
      <h4>Validation here</h4>
      <p id="go-live" data-go-live={site.go_live}>
        {site.name} {site.version} {goLiveText(site.go_live)}{pending ? " (applies at the next start)" : ""}.
      </p>
      {accepted && (
        <p class="muted" id="accepted-by">
          Report <span class="hash">{accepted.report_sha256.slice(0, 12)}</span> accepted by {accepted.by.reader_name} ({accepted.by.role}) on {day(accepted.by.at)}.
        </p>
      )}
      {thresholds.map((t) => (
        <p class="muted site-threshold" key={t.label}>
          {label(t.label)}: threshold {t.previous.toFixed(2)} → {t.value.toFixed(2)}, set by {t.by.reader_name} on {day(t.by.at)}.
        </p>
      ))}
      {!retired && (
        <table class="site-thresholds">
          <tbody>
            {site.thresholds.map((t) => (
              <tr key={t.label} data-label={t.label}>
                <td>{label(t.label)}</td>
                <td class="num">{t.threshold.toFixed(2)}{t.set_here ? " (set here)" : ""}</td>
                <td>
                  <input type="number" min={0} max={1} step={0.01} aria-label={`New ${t.label} threshold`} value={wanted[t.label] ?? ""}
                    onInput={(e) => setWanted({ ...wanted, [t.label]: (e.target as HTMLInputElement).value })} />{" "}
                  <button type="button" class="set-threshold" onClick={() => setThreshold(t.label)}>Set, on a report…</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {retired && <p id="retired-by">Retired by {retired.reader_name} on {day(retired.at)}.</p>}
      {site.clinical && !retired && (
        <p>
          <button type="button" id="accept-validation" onClick={accept}>Accept a validation report…</button>{" "}
          <span class="muted">As a {site.accepting_roles.join(", ")}; reports come from <code>overread model validate</code>.</span>
        </p>
      )}
    </div>
  );
}
