// Measurements in image pixel coordinates, shown in mm when the file gives
// a pixel spacing ([row, column] in mm, PS3.3 10.7.1.3).

export type Point = [number, number];

export function length(a: Point, b: Point, spacing: [number, number] | null): { value: number; unit: "mm" | "px" } {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  if (spacing) {
    const [row, col] = spacing;
    return { value: Math.hypot(dx * col, dy * row), unit: "mm" };
  }
  return { value: Math.hypot(dx, dy), unit: "px" };
}

/** The angle at `b` between rays b→a and b→c, in degrees, on the physical
 * grid when the spacing is known (anisotropic pixels change angles). */
export function angle(a: Point, b: Point, c: Point, spacing: [number, number] | null): number {
  const [row, col] = spacing ?? [1, 1];
  const u = [(a[0] - b[0]) * col, (a[1] - b[1]) * row];
  const v = [(c[0] - b[0]) * col, (c[1] - b[1]) * row];
  const dot = u[0] * v[0] + u[1] * v[1];
  const n = Math.hypot(u[0], u[1]) * Math.hypot(v[0], v[1]);
  if (n === 0) return 0;
  return (Math.acos(Math.max(-1, Math.min(1, dot / n))) * 180) / Math.PI;
}

/** A box from two corners, clipped to the image, in whole pixels. */
export function box(a: Point, b: Point, w: number, h: number): { x: number; y: number; width: number; height: number } | null {
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0])));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1])));
  const x1 = Math.min(w, Math.ceil(Math.max(a[0], b[0])));
  const y1 = Math.min(h, Math.ceil(Math.max(a[1], b[1])));
  if (x1 - x0 < 2 || y1 - y0 < 2) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
