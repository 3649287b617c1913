import { describe, expect, it } from "vitest";
import {
  allZero,
  anyNegative,
  camOffsets,
  CHART,
  chartLayout,
  clampStage,
  METRIC_TEXT,
  pointsPath,
  resolutionText,
  stagePlan,
} from "../../../src/views/teaching/layermapslayout";
import { paint } from "../../../src/core/scales";
import { table } from "../../../src/core/colormaps";

describe("camOffsets", () => {
  it("finds each stage's map in the concatenated layer maps", () => {
    expect(camOffsets([[4, 4], [2, 2], [1, 1]], 21)).toEqual([0, 16, 20, 21]);
    expect(camOffsets([], 0)).toEqual([0]);
  });
  it("refuses shapes that do not fill the array, and bad shapes", () => {
    expect(() => camOffsets([[2, 2]], 5)).toThrow("hold 5 values, their shapes need 4");
    expect(() => camOffsets([[2, 0]], 0)).toThrow("bad stage map shape [2, 0]");
    expect(() => camOffsets([[3]], 3)).toThrow("bad stage map shape [3]");
  });
});

describe("stagePlan", () => {
  it("colours a peak-normalised stage on a fixed scale of 1, viridis unless some map is signed", () => {
    expect(stagePlan(new Float32Array([0, 0.5, 1]), false)).toEqual({
      scale: 1, cmap: "viridis", diverging: false, signed: false, noData: 0,
    });
    const signed = stagePlan(new Float32Array([-1, NaN, 1]), true);
    expect(signed.cmap).toBe("RdBu_r");
    expect(signed.diverging).toBe(true);
    expect(signed.noData).toBe(1);
  });
  it("paints the peak cell with the top of the colour map whatever the stage's raw magnitude", () => {
    // the view divides each stage by its peak before sending: 1 is the stage's own maximum
    const lut = table("viridis");
    const out = paint(new Float32Array([1, 0]), 1, 2, stagePlan(new Float32Array([1, 0]), false),
      { opacity: 1, threshold: 0 });
    expect(Array.from(out.subarray(0, 3))).toEqual(Array.from(lut.subarray(255 * 3, 255 * 3 + 3)));
    expect(Array.from(out.subarray(4, 7))).toEqual(Array.from(lut.subarray(0, 3)));
  });
  it("blends the map over the picture with the opacity", () => {
    const lut = table("viridis");
    const img = { shape: [1, 1], data: new Uint8Array([200]) };
    const out = paint(new Float32Array([1]), 1, 1, stagePlan(new Float32Array([1]), false),
      { opacity: 0.25, threshold: 0, image: img });
    expect(out[0]).toBe(Math.round(0.75 * 200 + 0.25 * lut[255 * 3]));
    expect(out[3]).toBe(255);
  });
});

describe("anyNegative", () => {
  it("is true only for a finite negative value", () => {
    expect(anyNegative(new Float32Array([0, 1, NaN]))).toBe(false);
    expect(anyNegative([0, -1e-9])).toBe(true);
  });
});

describe("resolutionText", () => {
  it("says how many input pixels a cell covers", () => {
    expect(resolutionText([7, 7], [224, 224])).toBe("7 x 7 cells for the 224 x 224 input: each covers 32 x 32 pixels");
    expect(resolutionText([3, 3], [8, 8])).toBe("3 x 3 cells for the 8 x 8 input: each covers 2.7 x 2.7 pixels");
    expect(resolutionText([1, 1], [32, 32])).toBe("1 x 1 cell for the 32 x 32 input: it covers all of it");
    expect(resolutionText([8, 8], [8, 8])).toBe("8 x 8 cells for the 8 x 8 input: one cell per pixel");
    expect(resolutionText([], [32, 32])).toBe("");
  });
});

describe("chartLayout", () => {
  it("spaces the stages evenly and draws larger values higher, the floor inside the axis", () => {
    const l = chartLayout([0.3, 0.1, 0.2], 0.25);
    expect(l.points.map((p) => p.index)).toEqual([0, 1, 2]);
    expect(l.points[1].x - l.points[0].x).toBeCloseTo(l.points[2].x - l.points[1].x, 9);
    expect(l.points[0].x).toBeGreaterThanOrEqual(CHART.left);
    expect(l.points[2].x).toBeLessThanOrEqual(CHART.w - CHART.right);
    expect(l.points[0].y).toBeLessThan(l.points[2].y);
    expect(l.points[2].y).toBeLessThan(l.points[1].y);
    expect(l.floorY).toBeGreaterThan(CHART.top);
    expect(l.floorY).toBeLessThan(CHART.top + CHART.plot);
    expect(l.floorY).toBeCloseTo(l.sy(0.25), 9);
    for (const p of l.points) expect(p.y).toBeCloseTo(l.sy(p.value), 9);
  });
  it("leaves a NaN value undrawn and the line broken there; one stage sits in the middle", () => {
    const l = chartLayout([0.5, NaN, 0.7], NaN);
    expect(Number.isNaN(l.points[1].y)).toBe(true);
    expect(Number.isNaN(l.floorY)).toBe(true);
    expect(pointsPath(l.points).match(/M/g)?.length).toBe(2);
    const one = chartLayout([0.4], NaN);
    expect(one.points[0].x).toBeCloseTo((CHART.left + CHART.w - CHART.right) / 2, 9);
  });
  it("keeps the y axis of non-negative numbers at or above 0", () => {
    const one = chartLayout([0.3, NaN], NaN);
    expect(one.sy(0)).toBeLessThanOrEqual(CHART.top + CHART.plot + 1e-9); // 0 is on or above the bottom edge
    expect(Math.min(...one.ticks)).toBeGreaterThanOrEqual(0);
    const signed = chartLayout([-0.2, 0.4], NaN);
    expect(Math.min(...signed.ticks)).toBeLessThan(0);
  });
});

describe("allZero", () => {
  it("is true only for a map with no non-zero value", () => {
    expect(allZero(new Float32Array([0, 0, 0]))).toBe(true);
    expect(allZero(new Float32Array([0, 1e-8]))).toBe(false);
    expect(allZero(new Float32Array(0))).toBe(true);
  });
});

describe("pointsPath and clampStage", () => {
  it("joins points in stage order", () => {
    expect(pointsPath([{ index: 0, value: 1, x: 0, y: 10 }, { index: 1, value: 2, x: 5.555, y: 4 }])).toBe("M0 10L5.56 4");
  });
  it("clamps a stage index into range", () => {
    expect(clampStage(2.6, 4)).toBe(3);
    expect(clampStage(9, 4)).toBe(3);
    expect(clampStage(-3, 4)).toBe(0);
    expect(clampStage(NaN, 4)).toBe(0);
    expect(clampStage(1, 0)).toBe(0);
  });
});

describe("METRIC_TEXT", () => {
  it("says which direction is better for the deletion AUC", () => {
    expect(METRIC_TEXT.deletion.caption).toContain("LOWER is better");
    expect(Object.keys(METRIC_TEXT)).toEqual(["deletion", "area"]);
  });
});
