// The study's images as a strip of thumbnails (each drawn from its reduced
// preview with its first window), labelled with its view (PA, AP, LAT) and
// whether the AI read it. A click shows that image in the main pane.

import { useEffect, useRef } from "preact/hooks";
import type { ImageRef } from "../bindings";
import { commands, fetchPixels } from "../api";
import { linear } from "./window";

const SIZE = 64;

function Thumb({ id, image, selected, onPick }: { id: string; image: ImageRef; selected: boolean; onPick: () => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const g = await commands.openImage(id, image.index);
        const codes = await fetchPixels(id, true, image.index);
        const ctx = canvas.current?.getContext("2d");
        if (cancelled || !ctx) return;
        const [w, h] = [g.preview_width, g.preview_height];
        const k = Math.max(w, h) / SIZE;
        const [tw, th] = [Math.max(1, Math.round(w / k)), Math.max(1, Math.round(h / k))];
        const out = ctx.createImageData(tw, th);
        const win = g.windows[0] ?? { center: 0, width: 1 };
        for (let y = 0; y < th; y++) {
          for (let x = 0; x < tw; x++) {
            const code = codes[Math.min(h - 1, Math.floor(y * k)) * w + Math.min(w - 1, Math.floor(x * k))];
            let v = linear(g.offset + code * g.scale, win);
            if (g.invert) v = 1 - v;
            const o = (y * tw + x) * 4;
            out.data[o] = out.data[o + 1] = out.data[o + 2] = Math.round(v * 255);
            out.data[o + 3] = 255;
          }
        }
        ctx.canvas.width = tw;
        ctx.canvas.height = th;
        ctx.putImageData(out, 0, 0);
      } catch {
        // The thumbnail stays blank; opening the image says why.
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [id, image.index]);
  return (
    <button class={`thumb${selected ? " selected" : ""}`} data-index={image.index} data-view={image.view} title={image.no_ai ?? "The AI read this image"} onClick={onPick}>
      <canvas ref={canvas} width={SIZE} height={SIZE} />
      <span class="view">{image.view}</span>
      <span class={`ai ${image.ai ? "yes" : "no"}`}>{image.ai ? "AI" : "no AI"}</span>
    </button>
  );
}

export function Thumbs({ id, images, shown, onPick }: { id: string; images: ImageRef[]; shown: number; onPick: (index: number) => void }) {
  if (images.length < 2) return null;
  return (
    <nav class="thumbs" id="thumbs" aria-label="Images of the study">
      {images.map((image) => (
        <Thumb key={image.index} id={id} image={image} selected={image.index === shown} onPick={() => onPick(image.index)} />
      ))}
    </nav>
  );
}
