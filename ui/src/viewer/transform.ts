// The view transform: image pixels ↔ canvas pixels. Zoom and pan are in
// canvas pixels; rotation is in quarter turns clockwise, applied after flips.

export interface View {
  zoom: number; // canvas pixels per image pixel
  panX: number; // image centre offset from the canvas centre, canvas pixels
  panY: number;
  rotation: number; // 0..3 quarter turns clockwise
  flipH: boolean;
  flipV: boolean;
}

export function fitView(imgW: number, imgH: number, canvasW: number, canvasH: number, rotation = 0): View {
  const [w, h] = rotation % 2 ? [imgH, imgW] : [imgW, imgH];
  const zoom = Math.min(canvasW / w, canvasH / h) * 0.98;
  return { zoom, panX: 0, panY: 0, rotation, flipH: false, flipV: false };
}

/** Image pixel (x, y) → canvas pixel. */
export function toCanvas(v: View, imgW: number, imgH: number, cw: number, ch: number, x: number, y: number): [number, number] {
  let u = x - imgW / 2;
  let w = y - imgH / 2;
  if (v.flipH) u = -u;
  if (v.flipV) w = -w;
  for (let i = 0; i < ((v.rotation % 4) + 4) % 4; i++) [u, w] = [-w, u];
  return [cw / 2 + v.panX + u * v.zoom, ch / 2 + v.panY + w * v.zoom];
}

/** Canvas pixel → image pixel (the inverse of toCanvas). */
export function toImage(v: View, imgW: number, imgH: number, cw: number, ch: number, px: number, py: number): [number, number] {
  let u = (px - cw / 2 - v.panX) / v.zoom;
  let w = (py - ch / 2 - v.panY) / v.zoom;
  for (let i = 0; i < ((v.rotation % 4) + 4) % 4; i++) [u, w] = [w, -u];
  if (v.flipH) u = -u;
  if (v.flipV) w = -w;
  return [u + imgW / 2, w + imgH / 2];
}

/** The 3×3 matrix (column-major) mapping image pixels to clip space. */
export function clipMatrix(v: View, imgW: number, imgH: number, cw: number, ch: number): Float32Array {
  const [ox, oy] = toCanvas(v, imgW, imgH, cw, ch, 0, 0);
  const [ax, ay] = toCanvas(v, imgW, imgH, cw, ch, 1, 0);
  const [bx, by] = toCanvas(v, imgW, imgH, cw, ch, 0, 1);
  // canvas → clip: x' = 2x/cw − 1, y' = 1 − 2y/ch
  const sx = 2 / cw;
  const sy = -2 / ch;
  return new Float32Array([
    (ax - ox) * sx, (ay - oy) * sy, 0,
    (bx - ox) * sx, (by - oy) * sy, 0,
    ox * sx - 1, oy * sy + 1, 1,
  ]);
}
