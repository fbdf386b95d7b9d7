// The IPC as the UI uses it: generated commands, plus the byte routes of the
// `overread://` scheme (pixels and heatmaps never travel as JSON).
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { commands, TRIAGE_EVENT, type ApiError, type TriageProgress } from "./bindings";

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
    throw { kind: "fetch", message: await res.text() } satisfies ApiError;
  }
  return res.arrayBuffer();
}

/** Pixels as modality-value codes (see ImageGeometry). */
export async function fetchPixels(id: string, preview: boolean): Promise<Uint16Array> {
  const buf = await bytes(`pixels/${id}${preview ? "?level=preview" : ""}`);
  return new Uint16Array(buf);
}

/** Decodes a study ahead of opening it (the worklist's selection), so the
 * viewer's first pixels come from memory. Errors are left to the open. */
export function prefetch(id: string): void {
  fetch(schemeUrl(`pixels/${id}?level=preview`)).then((r) => r.arrayBuffer(), () => undefined);
}

/** One finding's heatmap on the image grid, one byte per pixel. */
export async function fetchHeatmap(id: string, label: string): Promise<Uint8Array> {
  return new Uint8Array(await bytes(`heatmap/${id}/${encodeURIComponent(label)}`));
}

export function onTriage(f: (p: TriageProgress) => void): Promise<UnlistenFn> {
  return listen<TriageProgress>(TRIAGE_EVENT, (e) => f(e.payload));
}

/** A rejection's one-line message. */
export function message(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as ApiError).message);
  return String(e);
}
