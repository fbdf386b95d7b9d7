// Windowing arithmetic. DICOM PS3.3 C.11.2.1.2.1: the LINEAR VOI function,
// here in double precision: the CPU reference the shader in renderer.ts is
// checked against (shaderCheck.ts, in the end-to-end test); and the
// window change for a mouse drag.

export interface Window {
  center: number;
  width: number;
}

/** PS3.3 C.11.2.1.2.1 (LINEAR), output in [0, 1]:
 * x ≤ c − 0.5 − (w−1)/2 → 0; x > c − 0.5 + (w−1)/2 → 1;
 * else ((x − (c − 0.5)) / (w − 1) + 0.5). */
export function linear(x: number, w: Window): number {
  const c = w.center - 0.5;
  const width = Math.max(w.width - 1, 0);
  if (x <= c - width / 2) return 0;
  if (x > c + width / 2) return 1;
  return (x - c) / width + 0.5;
}

/** Window change for a mouse drag, in modality units: right widens,
 * down raises the centre (the usual PACS convention). `range` is the
 * image's modality range, so a drag across the screen spans it. */
export function drag(start: Window, dx: number, dy: number, range: number, screen: number): Window {
  const perPixel = Math.max(range, 1) / Math.max(screen, 1);
  return {
    center: start.center + dy * perPixel,
    width: Math.max(1, start.width + dx * perPixel * 2),
  };
}
