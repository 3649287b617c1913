import { describe, expect, it } from "vitest";
import {
  decadeLabel,
  decades,
  frameRGBA,
  frameScales,
  linePath,
  linear,
  logDomain,
  logScale,
  mergeCurve,
  nearestIndex,
  niceTicks,
  paddedExtent,
  quadratureTicks,
  sharedScale,
  signedSpan,
  tableScale,
} from "../../../src/views/teaching/igpathlayout";
import { percentile } from "../../../src/core/scales";

describe("nearestIndex", () => {
  it("snaps an alpha to the nearest grid point, the first on a tie", () => {
    const grid = [0, 0.25, 0.5, 0.75, 1];
    expect(nearestIndex(grid, 0.3)).toBe(1);
    expect(nearestIndex(grid, 0.375)).toBe(1);
    expect(nearestIndex(grid, 2)).toBe(4);
    expect(nearestIndex(grid, -1)).toBe(0);
    expect(nearestIndex([], 0.5)).toBe(0);
  });
});

describe("frameScales and sharedScale", () => {
  it("scale each frame as the heatmap does: clip percentile, else max, else 1", () => {
    const data = new Float32Array([1, -2, 0, 0, 0, 0, 0, 5]);
    const s = frameScales(data, 2, 4, 99);
    expect(s[0]).toBeCloseTo(percentile([1, 2, 0, 0], 99), 12);
    expect(s[1]).toBeCloseTo(percentile([0, 0, 0, 5], 99), 12);
    expect(Array.from(frameScales(new Float32Array([0, 0, 0, 3, 0, 0, 0, 0]), 2, 4, 50))).toEqual([3, 1]);
    expect(sharedScale(s)).toBe(Math.max(s[0], s[1]));
    expect(sharedScale([0, 0])).toBe(1);
  });
  it("ignores non-finite cells", () => {
    expect(frameScales(new Float32Array([NaN, 2, Infinity, 1]), 1, 4, 100)[0]).toBe(2);
  });
});

describe("mergeCurve", () => {
  it("merges the grid and the rule's points by alpha, dropping non-finite outputs", () => {
    expect(mergeCurve([0, 1], [1, 3], [0.5, 0.9], [2, NaN])).toEqual({ x: [0, 0.5, 1], y: [1, 2, 3] });
  });
});

describe("scales and paths", () => {
  it("maps linearly, a zero-width domain to the middle", () => {
    expect(linear([0, 1], [10, 110])(0.25)).toBe(35);
    expect(linear([2, 2], [0, 10])(5)).toBe(5);
  });
  it("pads extents, and gives a single value some room", () => {
    expect(paddedExtent([1, 3], 0.05)).toEqual([0.9, 3.1]);
    expect(paddedExtent([2, 2])).toEqual([1.5, 2.5]);
    expect(paddedExtent([NaN])).toEqual([0, 1]);
  });
  it("draws lines that break at non-finite points", () => {
    const id = (v: number): number => v;
    expect(linePath([0, 1, 2, 3], [0, NaN, 2, 3], id, id)).toBe("M0 0M2 2L3 3");
    expect(linePath([0, 1], [0, 2], (v) => v * 10, (v) => 100 - v)).toBe("M0 100L10 98");
  });
  it("ticks: round steps inside the interval", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.3, 2.1, 4)).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceTicks(3, 3)).toEqual([3]);
  });
});

describe("quadratureTicks", () => {
  it("heights are proportional to the weights, at least 1 px", () => {
    const ticks = quadratureTicks([0.25, 0.5, 0.75], [0.5, 0.25, 0.001], 10);
    expect(ticks.map((t) => t.height)).toEqual([10, 5, 1]);
    expect(ticks.map((t) => t.alpha)).toEqual([0.25, 0.5, 0.75]);
  });
});

describe("log axes", () => {
  it("cover the errors with whole decades above the floor", () => {
    expect(decades(0.003, 2)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logDomain([0.5, 0.002, 0], 1e-12)).toEqual([0.001, 1]);
    expect(logDomain([1e-20, 1e-3], 1e-9)).toEqual([1e-9, 0.001]);
    expect(logDomain([0, 0], 1e-9)).toEqual([1e-9, 1e-8]);
  });
  it("log scale puts decades evenly and zero at the bottom", () => {
    const s = logScale([1e-4, 1], [100, 0]);
    expect(s(1e-2)).toBeCloseTo(50, 10);
    expect(s(0)).toBeCloseTo(100, 10);
    expect(decadeLabel(0.001)).toBe("1e-3");
    expect(decadeLabel(0.1)).toBe("0.1");
    expect(decadeLabel(100)).toBe("1e+2");
  });
});

describe("bars", () => {
  it("signed spans around the middle on a fixed scale, clipped", () => {
    expect(signedSpan(-0.5, 1)).toEqual({ left: 25, width: 25 });
    expect(signedSpan(3, 1)).toEqual({ left: 50, width: 50 });
    expect(signedSpan(NaN, 1)).toEqual({ left: 50, width: 0 });
  });
  it("one scale across frames over the shown features", () => {
    const data = new Float32Array([1, -4, 2, 0]); // 2 frames x 2 features
    expect(tableScale(data, 2, [0])).toBe(2);
    expect(tableScale(data, 2, [0, 1])).toBe(4);
    expect(tableScale(new Float32Array(4), 2, [0, 1])).toBe(1);
  });
});

describe("frameRGBA", () => {
  it("writes a grey or RGB frame as opaque RGBA", () => {
    const grey = new Uint8Array([10, 20, 30, 40]); // two 1 x 2 frames
    expect(Array.from(frameRGBA(grey, 1, 1, 2, 1, new Uint8ClampedArray(8)))).toEqual([30, 30, 30, 255, 40, 40, 40, 255]);
    const rgb = new Uint8Array([1, 2, 3, 4, 5, 6]); // two 1 x 1 RGB frames
    expect(Array.from(frameRGBA(rgb, 1, 1, 1, 3, new Uint8ClampedArray(4)))).toEqual([4, 5, 6, 255]);
    expect(() => frameRGBA(rgb, 2, 1, 1, 3, new Uint8ClampedArray(4))).toThrow(/beyond/);
  });
});
