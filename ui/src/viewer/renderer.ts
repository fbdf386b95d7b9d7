// A lean WebGL2 renderer for 16-bit grayscale radiographs. The image is an
// R16UI texture of modality-value codes (modality = offset + code × scale);
// the fragment shader applies the VOI window (PS3.3 C.11.2.1.2.1, LINEAR)
// and the MONOCHROME1 / INVERSE presentation per pixel, so window/level is a
// uniform change and never touches the pixels. Heatmaps are R8 textures on
// the same pixel grid, so an overlay registers exactly.

import type { ImageGeometry } from "../bindings";
import type { View } from "./transform";
import { clipMatrix } from "./transform";

const VERTEX = `#version 300 es
in vec2 corner;            // 0..1 quad
uniform mat3 toClip;       // image pixels -> clip space
uniform vec2 size;         // image width, height
out vec2 pixel;            // image pixel coordinates
void main() {
  pixel = corner * size;
  vec3 p = toClip * vec3(pixel, 1.0);
  gl_Position = vec4(p.xy, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
precision highp usampler2D;
uniform usampler2D image;
uniform sampler2D heat;
uniform vec2 size;
uniform vec2 texSize;       // the texture may be a reduced preview
uniform float offset;
uniform float scale;
uniform float center;
uniform float width;
uniform bool invert;
uniform int heatMode;       // 0 off, 1 colour, 2 contour
uniform float heatOpacity;
uniform float heatThreshold;
in vec2 pixel;
out vec4 color;

// A perceptually ordered colour map (inferno-like polynomial fit).
vec3 colormap(float t) {
  const vec3 c0 = vec3(0.0002, 0.0016, -0.0194);
  const vec3 c1 = vec3(0.1065, 0.5640, 3.9327);
  const vec3 c2 = vec3(11.6024, -3.9729, -15.9423);
  const vec3 c3 = vec3(-41.7039, 17.4364, 44.3541);
  const vec3 c4 = vec3(77.1629, -33.4023, -81.8073);
  const vec3 c5 = vec3(-71.3194, 32.6260, 73.2095);
  const vec3 c6 = vec3(25.1311, -12.2426, -23.0703);
  return clamp(c0 + t*(c1 + t*(c2 + t*(c3 + t*(c4 + t*(c5 + t*c6))))), 0.0, 1.0);
}

void main() {
  ivec2 texel = ivec2(floor(pixel * texSize / size));
  texel = clamp(texel, ivec2(0), ivec2(texSize) - 1);
  float m = offset + float(texelFetch(image, texel, 0).r) * scale;
  // PS3.3 C.11.2.1.2.1
  float c = center - 0.5;
  float w = max(width - 1.0, 0.0);
  float y;
  if (m <= c - w / 2.0) y = 0.0;
  else if (m > c + w / 2.0) y = 1.0;
  else y = (m - c) / max(w, 1e-6) + 0.5;
  if (invert) y = 1.0 - y;
  vec3 rgb = vec3(y);
  if (heatMode != 0) {
    float h = texture(heat, pixel / size).r;
    if (heatMode == 1) {
      float a = heatOpacity * smoothstep(0.05, 0.35, h);
      rgb = mix(rgb, colormap(h), a);
    } else {
      float edge = fwidth(h) * 1.5;
      float line = 1.0 - smoothstep(0.0, max(edge, 1e-4), abs(h - heatThreshold));
      rgb = mix(rgb, vec3(1.0, 0.69, 0.13), line * max(heatOpacity, 0.6));
    }
  }
  color = vec4(rgb, 1.0);
}`;

export interface ImageData16 {
  width: number; // full image size (the pixel grid)
  height: number;
  texWidth: number; // size of `codes` (smaller for a preview)
  texHeight: number;
  codes: Uint16Array;
  offset: number;
  scale: number;
  invert: boolean;
}

/** A study image's geometry with its codes: the full image, or the reduced
 * preview (`preview`), which has its own texture size. */
export function imageData(g: ImageGeometry, codes: Uint16Array, preview = false): ImageData16 {
  const [texWidth, texHeight] = preview ? [g.preview_width, g.preview_height] : [g.width, g.height];
  return { width: g.width, height: g.height, texWidth, texHeight, offset: g.offset, scale: g.scale, invert: g.invert, codes };
}

export interface Overlay {
  mode: 0 | 1 | 2;
  opacity: number;
  threshold: number;
}

/** A new 2D texture on `unit`, clamped, with the given filter. */
function texture(gl: WebGL2RenderingContext, unit: number, filter: number): WebGLTexture | null {
  const t = gl.createTexture();
  gl.activeTexture(unit);
  gl.bindTexture(gl.TEXTURE_2D, t);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  return t;
}

function compile(gl: WebGL2RenderingContext, type: number, src: string): WebGLShader {
  const s = gl.createShader(type);
  if (!s) throw new Error("cannot create shader");
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) {
    throw new Error("shader: " + gl.getShaderInfoLog(s));
  }
  return s;
}

export class Renderer {
  private gl: WebGL2RenderingContext;
  private program: WebGLProgram;
  private imageTex: WebGLTexture | null = null;
  private heatTex: WebGLTexture | null = null;
  private uniforms: Record<string, WebGLUniformLocation | null> = {};
  image: ImageData16 | null = null;
  hasHeat = false;

  constructor(readonly canvas: HTMLCanvasElement) {
    const gl = canvas.getContext("webgl2", {
      antialias: false,
      // No copy of the drawing buffer per frame: screenshots read the
      // composited page, not the canvas.
      preserveDrawingBuffer: false,
      premultipliedAlpha: false,
    });
    if (!gl) throw new Error("WebGL2 is not available");
    this.gl = gl;
    const p = gl.createProgram();
    if (!p) throw new Error("cannot create program");
    gl.attachShader(p, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(p, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error("link: " + gl.getProgramInfoLog(p));
    this.program = p;
    gl.useProgram(p);
    for (const name of [
      "toClip", "size", "texSize", "offset", "scale", "center", "width", "invert",
      "heatMode", "heatOpacity", "heatThreshold", "image", "heat",
    ]) {
      this.uniforms[name] = gl.getUniformLocation(p, name);
    }
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(p, "corner");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.uniform1i(this.uniforms.image, 0);
    gl.uniform1i(this.uniforms.heat, 1);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  }

  setImage(img: ImageData16) {
    const gl = this.gl;
    // A fresh texture per image, so the driver frees the previous storage.
    if (this.imageTex) gl.deleteTexture(this.imageTex);
    // Integer textures cannot be filtered: nearest, exact values.
    this.imageTex = texture(gl, gl.TEXTURE0, gl.NEAREST);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R16UI, img.texWidth, img.texHeight, 0, gl.RED_INTEGER, gl.UNSIGNED_SHORT, img.codes);
    this.image = img;
  }

  setHeatmap(values: Uint8Array | null, width = 0, height = 0) {
    const gl = this.gl;
    if (this.heatTex) gl.deleteTexture(this.heatTex);
    this.heatTex = null;
    if (!values) {
      this.hasHeat = false;
      return;
    }
    this.heatTex = texture(gl, gl.TEXTURE1, gl.LINEAR);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R8, width, height, 0, gl.RED, gl.UNSIGNED_BYTE, values);
    this.hasHeat = true;
  }

  /** Matches the drawing buffer to the element's size in device pixels. */
  resize(): [number, number] {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    return [w, h];
  }

  draw(view: View, center: number, width: number, overlay: Overlay) {
    const gl = this.gl;
    const img = this.image;
    const [cw, ch] = [this.canvas.width, this.canvas.height];
    gl.viewport(0, 0, cw, ch);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!img) return;
    const u = this.uniforms;
    const dpr = window.devicePixelRatio || 1;
    const scaled = { ...view, zoom: view.zoom * dpr, panX: view.panX * dpr, panY: view.panY * dpr };
    gl.useProgram(this.program);
    gl.uniformMatrix3fv(u.toClip, false, clipMatrix(scaled, img.width, img.height, cw, ch));
    gl.uniform2f(u.size, img.width, img.height);
    gl.uniform2f(u.texSize, img.texWidth, img.texHeight);
    gl.uniform1f(u.offset, img.offset);
    gl.uniform1f(u.scale, img.scale);
    gl.uniform1f(u.center, center);
    gl.uniform1f(u.width, width);
    gl.uniform1i(u.invert, img.invert ? 1 : 0);
    gl.uniform1i(u.heatMode, this.hasHeat ? overlay.mode : 0);
    gl.uniform1f(u.heatOpacity, overlay.opacity);
    gl.uniform1f(u.heatThreshold, overlay.threshold);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.imageTex);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.heatTex);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  /** The drawing buffer's RGBA bytes, top row first (call right after draw). */
  readPixels(): Uint8Array {
    const gl = this.gl;
    const [w, h] = [this.canvas.width, this.canvas.height];
    const bottomUp = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, bottomUp);
    const out = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) out.set(bottomUp.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
    return out;
  }

  dispose() {
    const gl = this.gl;
    if (this.imageTex) gl.deleteTexture(this.imageTex);
    if (this.heatTex) gl.deleteTexture(this.heatTex);
    gl.deleteProgram(this.program);
    gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}
