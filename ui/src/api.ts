// The IPC as the UI uses it: generated commands, plus the byte routes of the
// `overread://` scheme (pixels and heatmaps never travel as JSON).
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { commands, WORKLIST_EVENT, type ApiError, type Worklist, type WorklistChange } from "./bindings";

export { commands };

/** The scheme's origin: `overread://localhost` on Linux and macOS,
 * `http://overread.localhost` on Windows (WebView2). */
export function schemeUrl(path: string): string {
  const windows = navigator.userAgent.includes("Windows");
  return (windows ? "http://overread.localhost/" : "overread://localhost/") + path;
}

async function bytes(path: string): Promise<ArrayBuffer> {
  const res = await fetch(schemeUrl(path));
  if (!res.ok) {
    // The scheme answers 404 with the core's message; say what failed.
    throw { code: res.status === 400 ? "invalid_argument" : "not_available", message: await res.text() } satisfies ApiError;
  }
  return res.arrayBuffer();
}

/** Pixels as modality-value codes (see ImageGeometry). */
export async function fetchPixels(id: string, preview: boolean, image = 0): Promise<Uint16Array> {
  const buf = await bytes(`pixels/${id}${image ? `/${image}` : ""}${preview ? "?level=preview" : ""}`);
  return new Uint16Array(buf);
}

/** Decodes a study ahead of opening it (the worklist's selection), so the
 * viewer's first pixels come from memory, and asks the PACS for its priors,
 * retrieving the newest in the background. Errors are left to the open. */
export function prefetch(id: string): void {
  // The priors after the pixels, so that they never delay the first image.
  fetch(schemeUrl(`pixels/${id}?level=preview`))
    .then((r) => r.arrayBuffer(), () => undefined)
    .finally(() => commands.findPriors(id, null).catch(() => undefined));
}

/** One finding's heatmap on the image grid, one byte per pixel. */
export async function fetchHeatmap(id: string, label: string): Promise<Uint8Array> {
  return new Uint8Array(await bytes(`heatmap/${id}/${encodeURIComponent(label)}`));
}

/** Triage and PACS sync report what changed: the changed rows only. */
export function onWorklistChange(f: (c: WorklistChange) => void): Promise<UnlistenFn> {
  return listen<WorklistChange>(WORKLIST_EVENT, (e) => f(e.payload));
}

/** The worklist with a change applied: changed rows replaced where they
 * are (new ones appended), progress, sources and model taken as sent. The
 * reading order is the server's, refreshed by a full fetch now and then. */
export function applyChange(w: Worklist, c: WorklistChange): Worklist {
  const changed = new Map(c.rows.map((r) => [r.id, r]));
  const rows = w.rows.map((r) => changed.get(r.id) ?? r);
  const known = new Set(w.rows.map((r) => r.id));
  for (const r of c.rows) if (!known.has(r.id)) rows.push(r);
  return {
    ...w,
    rows,
    triage: c.triage ?? w.triage,
    sources: c.sources ?? w.sources,
    model: c.model ? c.model.model : w.model,
    model_error: c.model ? c.model.error : w.model_error,
    audit: c.audit ?? w.audit,
    store: c.store ?? w.store,
  };
}

/** A rejection's one-line message. */
export function message(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as ApiError).message);
  return String(e);
}
