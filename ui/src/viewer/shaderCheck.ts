// The shader against its CPU reference: draws an image through the real
// WebGL2 renderer at one canvas pixel per image pixel, reads the pixels
// back, and compares each with the LINEAR VOI of PS3.3 C.11.2.1.2.1 computed
// here in double precision (`linear`). The end-to-end test runs it on RG1
// in the real window.

import { Renderer, type ImageData16 } from "./renderer";
import { linear } from "./window";

export interface ShaderCheck {
  width: number;
  height: number;
  /** Pixels whose grey level equals the reference's. */
  exact: number;
  /** The largest difference, in grey levels of 255. */
  maxDiff: number;
  /** Pixels the reference puts strictly inside the window (not 0 or 255). */
  graded: number;
}

export function shaderCheck(image: ImageData16, center: number, width: number): ShaderCheck {
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const r = new Renderer(canvas);
  try {
    r.setImage(image);
    // One device pixel per image pixel, no pan, rotation or flip.
    const zoom = 1 / (window.devicePixelRatio || 1);
    r.draw({ zoom, panX: 0, panY: 0, rotation: 0, flipH: false, flipV: false }, center, width, { mode: 0, opacity: 0, threshold: 0 });
    const rgba = r.readPixels();
    let exact = 0;
    let maxDiff = 0;
    let graded = 0;
    for (let i = 0; i < image.width * image.height; i++) {
      let y = linear(image.offset + image.codes[i] * image.scale, { center, width });
      if (image.invert) y = 1 - y;
      const expected = Math.round(y * 255);
      if (expected > 0 && expected < 255) graded++;
      const diff = Math.abs(rgba[i * 4] - expected);
      if (diff === 0) exact++;
      if (diff > maxDiff) maxDiff = diff;
    }
    return { width: image.width, height: image.height, exact, maxDiff, graded };
  } finally {
    r.dispose();
  }
}
