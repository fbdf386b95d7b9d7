import { describe, expect, it } from "vitest";
import { angle, box, length } from "./measure";
import { fitView, toCanvas, toImage } from "./transform";
import { drag, linear } from "./window";

describe("LINEAR VOI (PS3.3 C.11.2.1.2.1)", () => {
  it("follows the standard's breakpoints", () => {
    const w = { center: 2048, width: 4096 };
    // x <= c - 0.5 - (w-1)/2 -> 0 ; x > c - 0.5 + (w-1)/2 -> 1
    expect(linear(2047.5 - 2047.5, w)).toBe(0);
    expect(linear(2047.5 + 2047.5 + 0.001, w)).toBe(1);
    expect(linear(2047.5, w)).toBeCloseTo(0.5, 12);
  });
  it("a width of 1 is a threshold at the centre", () => {
    const w = { center: 100, width: 1 };
    expect(linear(99.5, w)).toBe(0);
    expect(linear(99.6, w)).toBe(1);
  });
  it("dragging right widens, down raises the centre", () => {
    const w = drag({ center: 0, width: 100 }, 10, 20, 1000, 100);
    expect(w.width).toBeGreaterThan(100);
    expect(w.center).toBeGreaterThan(0);
    expect(drag({ center: 0, width: 10 }, -1000, 0, 1000, 100).width).toBe(1);
  });
});

describe("view transform", () => {
  it("maps image to canvas and back for every rotation and flip", () => {
    for (let rotation = 0; rotation < 4; rotation++) {
      for (const flipH of [false, true]) {
        const v = { ...fitView(300, 200, 800, 600, rotation), panX: 13, panY: -7, flipH, flipV: !flipH };
        const [cx, cy] = toCanvas(v, 300, 200, 800, 600, 42.5, 17.25);
        const [x, y] = toImage(v, 300, 200, 800, 600, cx, cy);
        expect(x).toBeCloseTo(42.5, 9);
        expect(y).toBeCloseTo(17.25, 9);
      }
    }
  });
  it("fits the whole image", () => {
    const v = fitView(2000, 1000, 1000, 1000);
    expect(v.zoom).toBeCloseTo(0.49, 6);
  });
});

describe("measurements", () => {
  it("lengths use the column and row spacing", () => {
    expect(length([0, 0], [10, 0], [0.2, 0.1])).toEqual({ value: 1, unit: "mm" });
    expect(length([0, 0], [0, 10], [0.2, 0.1]).value).toBeCloseTo(2, 12);
    expect(length([0, 0], [3, 4], null)).toEqual({ value: 5, unit: "px" });
  });
  it("angles", () => {
    expect(angle([10, 0], [0, 0], [0, 10], null)).toBeCloseTo(90, 9);
    expect(angle([10, 0], [0, 0], [10, 10], null)).toBeCloseTo(45, 9);
  });
  it("boxes are clipped to the image and need a size", () => {
    expect(box([-5, -5], [10.2, 20.7], 8, 100)).toEqual({ x: 0, y: 0, width: 8, height: 21 });
    expect(box([3, 3], [4, 4], 10, 10)).toBeNull();
  });
});

describe("the second pane follows the main view", () => {
  it("keeps the same relative zoom and pan on an image of another size", async () => {
    const { followView } = await import("./Pane");
    const g = (width: number, height: number) => ({ width, height, offset: 0, scale: 1, invert: false, windows: [], pixel_spacing: null, spacing_at_detector: false, preview_width: width, preview_height: height });
    const mainImg = g(100, 100);
    const fit = fitView(100, 100, 200, 200);
    const view = { ...fit, zoom: fit.zoom * 2, panX: 30, panY: -10 };
    const follow = followView({ view, win: null, img: mainImg, size: [200, 200] }, g(200, 200), [200, 200]);
    // Twice the pixels in a pane of the same size: half the zoom, the same pan.
    expect(follow?.zoom).toBeCloseTo(view.zoom / 2, 9);
    expect(follow?.panX).toBeCloseTo(30, 9);
    expect(follow?.panY).toBeCloseTo(-10, 9);
    // A pane half as wide: the pan is half as far.
    const narrow = followView({ view, win: null, img: mainImg, size: [200, 200] }, mainImg, [100, 200]);
    expect(narrow?.panX).toBeCloseTo(15, 9);
    expect(followView({ view: null, win: null, img: mainImg, size: [1, 1] }, mainImg, [1, 1])).toBeNull();
  });
});
