import { describe, expect, it } from "vitest";
import { layoutBars, orderByMagnitude } from "../../../src/core/barlayout";
import { errorText, WHISKER_SE, whiskerNote, withWhiskers } from "../../../src/views/tables/errorbars";

/** Percent of a track [lo, hi] at value x. */
const at = (x: number, lo: number, hi: number): number => ((x - lo) / (hi - lo)) * 100;

describe("withWhiskers", () => {
  it("bars: ±2 SE around each value, the track widened to hold them, bars re-expressed on it", () => {
    const values = [2, -1, 0.5];
    const errors = [0.5, 0.1, 0.4];
    const base = layoutBars(values, orderByMagnitude(values), 0, "bars", null); // track [-1, 2]
    const { layout, whiskers } = withWhiskers(base, values, errors, "bars");
    // whiskers: [1, 3], [-1.2, -0.8], [-0.3, 1.3] -> track [-1.2, 3]
    expect(layout.domain[0]).toBeCloseTo(-1.2, 12);
    expect(layout.domain[1]).toBeCloseTo(3, 12);
    const [lo, hi] = layout.domain;
    const w0 = whiskers.get(0)!;
    expect(w0.left).toBeCloseTo(at(1, lo, hi), 10);
    expect(w0.left + w0.width).toBeCloseTo(at(3, lo, hi), 10);
    expect([w0.lo, w0.hi, w0.error]).toEqual([1, 3, 0.5]);
    const w1 = whiskers.get(1)!;
    expect(w1.left).toBeCloseTo(at(-1 - WHISKER_SE * 0.1, lo, hi), 10);
    expect(w1.width).toBeCloseTo(at(-0.8, lo, hi) - at(-1.2, lo, hi), 10);
    // every bar still runs from the zero axis to its value, on the new track
    for (const row of layout.rows) {
      const v = values[row.index];
      expect(row.left).toBeCloseTo(at(Math.min(0, v), lo, hi), 10);
      expect(row.left + row.width).toBeCloseTo(at(Math.max(0, v), lo, hi), 10);
    }
    expect(layout.basePos).toBeCloseTo(at(0, lo, hi), 10);
    // each whisker is centred on its bar's far end
    const row0 = layout.rows.find((r) => r.index === 0)!;
    expect(w0.left + w0.width / 2).toBeCloseTo(row0.left + row0.width, 10);
  });

  it("waterfall: centred on the running total after each step; rest row and ends re-expressed", () => {
    const values = [0.5, -2, 1, 0.25];
    const base = layoutBars(values, orderByMagnitude(values), 2, "waterfall", 1); // 1 -> -1 -> 0 -> 0.75
    const { layout, whiskers } = withWhiskers(base, values, [0.1, 0.5, 0.25, 0.1], "waterfall");
    // shown: idx 1 (ends at -1: whisker [-2, 0]) and idx 2 (ends at 0: [-0.5, 0.5]); rest has none
    expect([...whiskers.keys()].sort()).toEqual([1, 2]);
    expect(layout.domain).toEqual([-2, 1]);
    const [lo, hi] = layout.domain;
    expect(whiskers.get(1)!.left).toBeCloseTo(at(-2, lo, hi), 10);
    expect(whiskers.get(2)!.width).toBeCloseTo(at(0.5, lo, hi) - at(-0.5, lo, hi), 10);
    expect(layout.basePos).toBeCloseTo(at(1, lo, hi), 10);
    expect(layout.endPos).toBeCloseTo(at(0.75, lo, hi), 10);
    expect(layout.rest!.left).toBeCloseTo(at(0, lo, hi), 10);
    expect(layout.rest!.left + layout.rest!.width).toBeCloseTo(at(0.75, lo, hi), 10);
  });

  it("no errors, wrong length, zero, NaN or negative errors: no whisker and the layout unchanged", () => {
    const values = [1, -0.5];
    const base = layoutBars(values, [0, 1], 0, "bars", null);
    expect(withWhiskers(base, values, null, "bars").layout).toBe(base);
    expect(withWhiskers(base, values, [0.1], "bars").whiskers.size).toBe(0);
    const out = withWhiskers(base, values, [0, NaN], "bars");
    expect(out.whiskers.size).toBe(0);
    expect(out.layout).toBe(base);
    expect(withWhiskers(base, values, [-1, 0.1], "bars").whiskers.has(0)).toBe(false);
  });

  it("whiskers inside the track leave the bars where they were", () => {
    const values = [4, -4, 1];
    const base = layoutBars(values, orderByMagnitude(values), 0, "bars", null);
    const { layout, whiskers } = withWhiskers(base, values, [0, 0, 0.5], "bars");
    expect(layout.domain).toEqual([-4, 4]);
    expect(layout.rows.map((r) => [r.left, r.width])).toEqual(base.rows.map((r) => [r.left, r.width]));
    expect(whiskers.get(2)).toMatchObject({ left: 50, width: 25 });
  });

  it("all-zero values with an error: a track around zero", () => {
    const base = layoutBars([0, 0], [0, 1], 0, "bars", null);
    const { layout, whiskers } = withWhiskers(base, [0, 0], [0.5, 0], "bars");
    expect(layout.domain).toEqual([-1, 1]);
    expect(whiskers.get(0)).toMatchObject({ left: 0, width: 100 });
    expect(layout.basePos).toBe(50);
  });
});

describe("texts", () => {
  it("names the interval in the tooltip and the legend", () => {
    expect(errorText(0.25, 0.02, String)).toBe(" ± 0.02 (standard error; whisker ±2 SE: 0.21 to 0.29)");
    expect(errorText(0.25, 0, String)).toBe("");
    expect(errorText(0.25, undefined, String)).toBe("");
    expect(errorText(0.25, NaN, String)).toBe("");
    expect(whiskerNote()).toBe("whiskers: ±2 standard errors (about 95%)");
  });
});
