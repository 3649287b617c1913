import { describe, expect, it } from "vitest";
import {
  HIGH_RGB,
  LOW_RGB,
  NAN_RGB,
  axisExtent,
  buildGrid,
  colorCodes,
  columnPercentile,
  featureOrder,
  layoutSwarm,
  nearestPoint,
  paintPoints,
  rampTable,
  ticks,
} from "../../../src/views/tables/beeswarmlayout";

const geo = { x0: 10, plotWidth: 200, rowHeight: 20, binWidth: 4, dotSpacing: 3 };

describe("featureOrder", () => {
  it("sorts by mean |value| (NaN skipped), ties by index, capped", () => {
    // 3 samples x 4 features; means |.|: f0 = 1, f1 = 3, f2 = 1, f3 = 2 (NaN ignored)
    const v = new Float32Array([1, -3, 1, NaN, -1, 3, -1, 2, 1, 3, 1, -2]);
    expect(featureOrder(v, 3, 4, 0)).toEqual([1, 3, 0, 2]);
    expect(featureOrder(v, 3, 4, 2)).toEqual([1, 3]);
  });
  it("puts an all-NaN feature last", () => {
    expect(featureOrder(new Float32Array([NaN, 0]), 1, 2, 0)).toEqual([1, 0]);
  });
});

describe("axisExtent and ticks", () => {
  it("uses the largest finite magnitude of the shown features only", () => {
    const v = new Float32Array([1, -30, -2.5, Infinity]);
    expect(axisExtent(v, 2, 2, [0])).toBe(2.5);
    expect(axisExtent(new Float32Array([0, 0]), 2, 1, [0])).toBe(1);
  });
  it("gives nice symmetric ticks with zero", () => {
    expect(ticks(1)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(ticks(2.5)).toEqual([-2, -1, 0, 1, 2]);
    expect(ticks(0.03)).toEqual([-0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03]);
  });
});

describe("colour codes", () => {
  it("matches numpy's linear percentile", () => {
    const col = new Float32Array([3, 1, 4, 1, 5, 9, 2, 6]);
    expect(columnPercentile(col, 8, 1, 0, 50)).toBeCloseTo(3.5, 6); // np.percentile -> 3.5
    expect(columnPercentile(col, 8, 1, 0, 5)).toBeCloseTo(1, 6);
    expect(columnPercentile(col, 8, 1, 0, 95)).toBeCloseTo(7.95, 5);
  });
  it("quickselect percentiles equal sort-based ones (ties, NaN, random)", () => {
    const sortedPct = (a: number[], q: number): number => {
      const s = a.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
      const pos = (q / 100) * (s.length - 1);
      const lo = Math.floor(pos);
      const hi = Math.min(s.length - 1, lo + 1);
      return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    };
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + trial * 37;
      const col = Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? NaN : Math.round(Math.sin(i * (trial + 1.3)) * 5)));
      for (const q of [0, 5, 50, 95, 100]) {
        const want = sortedPct(Array.from(col), q);
        const got = columnPercentile(col, n, 1, 0, q);
        if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
        else expect(got).toBeCloseTo(want, 4);
      }
    }
  });
  it("maps 5..95 percentile to 0..255, clips, NaN -> 256", () => {
    const n = 101;
    const fv = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      fv[i * 2] = i; // 0..100: p5 = 5, p95 = 95
      fv[i * 2 + 1] = 7; // constant: middle
    }
    fv[50 * 2] = NaN;
    const codes = colorCodes(fv, n, 2, [0, 1]);
    expect(codes[0]).toBe(0);
    expect(codes[5]).toBe(0);
    expect(codes[95]).toBe(255);
    expect(codes[100]).toBe(255);
    expect(codes[50]).toBe(256);
    // p5 = 5 and p95 = 95 with NaN at 50 removed from 101 values
    const p5 = columnPercentile(fv, n, 2, 0, 5);
    const p95 = columnPercentile(fv, n, 2, 0, 95);
    expect(codes[30]).toBe(Math.round(((30 - p5) / (p95 - p5)) * 255));
    expect(codes[n + 3]).toBe(128);
    expect(Array.from(colorCodes(null, 2, 1, [0]))).toEqual([128, 128]);
  });
  it("ramp runs blue -> red with grey for no value", () => {
    const lut = rampTable();
    expect(Array.from(lut.slice(0, 3))).toEqual([...LOW_RGB]);
    expect(Array.from(lut.slice(255 * 3, 256 * 3))).toEqual([...HIGH_RGB]);
    expect(Array.from(lut.slice(256 * 3))).toEqual([...NAN_RGB]);
  });
});

describe("layoutSwarm", () => {
  it("puts x on the symmetric axis and stacks equal values 0, +1, -1, +2", () => {
    const v = new Float32Array([0, 0, 0, 0, -2, 2, NaN]);
    const lay = layoutSwarm(v, 7, 1, [0], 2, geo);
    expect(Array.from(lay.x.slice(0, 6))).toEqual([110, 110, 110, 110, 10, 210]);
    expect(Number.isNaN(lay.x[6])).toBe(true);
    // max level 2 -> spacing min(3, 0.45 * 20 / 2 = 4.5) = 3; centre 10
    expect(Array.from(lay.y.slice(0, 6))).toEqual([10, 13, 7, 16, 10, 10]);
  });
  it("compresses a tall stack into 90 % of the row and keeps rows apart", () => {
    const n = 101;
    const v = new Float32Array(n * 2); // all zero, two features
    const lay = layoutSwarm(v, n, 2, [1, 0], 1, geo);
    const row0 = Array.from(lay.y.slice(0, n));
    const row1 = Array.from(lay.y.slice(n));
    expect(Math.min(...row0)).toBeCloseTo(1, 5); // centre 10 -/+ 9 (levels -50..50, spacing 0.18)
    expect(Math.max(...row0)).toBeCloseTo(19, 5);
    expect(Math.min(...row1)).toBeCloseTo(21, 5);
    expect(Math.max(...row1)).toBeCloseTo(39, 5);
  });
  it("is deterministic", () => {
    const v = Float32Array.from({ length: 500 }, (_, i) => Math.sin(i));
    const a = layoutSwarm(v, 250, 2, [0, 1], 1, geo);
    const b = layoutSwarm(v, 250, 2, [0, 1], 1, geo);
    expect(a.y).toEqual(b.y);
  });
});

describe("grid lookup and painting", () => {
  const v = new Float32Array([-1, 0, 1, 0.5]);
  const lay = layoutSwarm(v, 4, 1, [0], 1, geo); // x: 10, 110, 210, 160; y: 10
  const grid = buildGrid(lay, 230, 20, 6);
  it("finds the nearest point within the radius", () => {
    expect(nearestPoint(grid, lay, 158, 11, 6)).toBe(3);
    expect(nearestPoint(grid, lay, 12, 9, 6)).toBe(0);
    expect(nearestPoint(grid, lay, 60, 10, 6)).toBe(-1);
  });
  it("agrees with brute force on random points", () => {
    const n = 400;
    const vals = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * Math.cos(i * 0.3));
    const l = layoutSwarm(vals, n, 1, [0], 1, geo);
    const g = buildGrid(l, 230, 20, 5);
    for (let q = 0; q < 50; q++) {
      const px = 10 + ((q * 37) % 200);
      const py = (q * 7) % 20;
      let best = -1;
      let bestD = 36;
      for (let p = 0; p < n; p++) {
        const d = (l.x[p] - px) ** 2 + (l.y[p] - py) ** 2;
        if (d < bestD || (d === bestD && p > best)) [best, bestD] = [p, d];
      }
      expect(nearestPoint(g, l, px, py, 6)).toBe(best);
    }
  });
  it("stamps discs in the point's colour", () => {
    const w = 230;
    const h = 20;
    const px = new Uint8ClampedArray(w * h * 4);
    const codes = new Uint16Array([0, 256, 255, 128]);
    paintPoints(px, w, h, lay, codes, rampTable(), 2);
    const at = (x: number, y: number) => Array.from(px.slice((y * w + x) * 4, (y * w + x) * 4 + 4));
    expect(at(10, 10)).toEqual([...LOW_RGB, 255]);
    expect(at(110, 12)).toEqual([...NAN_RGB, 255]); // dy = 2 is inside radius 2
    expect(at(210, 10)).toEqual([...HIGH_RGB, 255]);
    expect(at(113, 10)).toEqual([0, 0, 0, 0]); // outside
    expect(at(8, 10)).toEqual([...LOW_RGB, 255]); // edge path clips at x >= 0
  });
});
