import { describe, expect, it } from "vitest";
import { layoutBars, orderByMagnitude, shownCount } from "../../src/core/barlayout";

describe("orderByMagnitude", () => {
  it("sorts by |value| descending, stable, NaN last", () => {
    expect(orderByMagnitude([0.1, -3, 2, NaN, -2])).toEqual([1, 2, 4, 0, 3]);
  });
});

describe("shownCount", () => {
  it("treats 0 as all and caps at the count", () => {
    expect(shownCount(0, 4)).toBe(4);
    expect(shownCount(2, 4)).toBe(2);
    expect(shownCount(9, 4)).toBe(4);
  });
});

describe("layoutBars", () => {
  const values = [0.5, -2, 1, 0.25];
  const order = orderByMagnitude(values); // [1, 2, 0, 3]

  it("bars: signed bars diverge from a zero axis, rest summed", () => {
    // shown: -2 (idx 1) and 1 (idx 2): track [-2, 1], zero at 66.67 %
    const layout = layoutBars(values, order, 2, "bars", null);
    expect(layout.domain).toEqual([-2, 1]);
    expect(layout.basePos).toBeCloseTo(200 / 3, 10);
    const geo = layout.rows.map((r) => [r.index, r.left, r.width]);
    expect(geo[0][0]).toBe(1);
    expect(geo[0][1]).toBe(0);
    expect(geo[0][2]).toBeCloseTo(200 / 3, 10);
    expect(geo[1][0]).toBe(2);
    expect(geo[1][1]).toBeCloseTo(200 / 3, 10);
    expect(geo[1][2]).toBeCloseTo(100 / 3, 10);
    // all positive: from the left edge, widths relative to the largest
    const pos = layoutBars([1, 4], [1, 0], 0, "bars", null);
    expect(pos.rows.map((r) => [r.left, r.width])).toEqual([[0, 100], [0, 25]]);
    expect(layout.rest).toMatchObject({ count: 2, value: 0.75, index: -1 });
    expect(layoutBars(values, order, 0, "bars", null).rest).toBeNull();
  });

  it("waterfall: bars span the running totals from the base value", () => {
    // base 1: 1 -> -1 (idx 1) -> 0 (idx 2) -> rest +0.75 -> 0.75; domain [-1, 1]
    const layout = layoutBars(values, order, 2, "waterfall", 1);
    expect(layout.domain).toEqual([-1, 1]);
    expect(layout.rows.map((r) => [r.index, r.left, r.width, r.cumulative])).toEqual([
      [1, 0, 100, -1],
      [2, 0, 50, 0],
    ]);
    expect(layout.rest).toMatchObject({ left: 50, width: 37.5, cumulative: 0.75, count: 2 });
    expect(layout.basePos).toBe(100);
    expect(layout.endPos).toBe(87.5);
    expect(layout.end).toBe(0.75);
  });

  it("waterfall without base value starts at 0; all-zero values give zero widths", () => {
    const layout = layoutBars([0, 0], [0, 1], 0, "waterfall", null);
    expect(layout.rows.map((r) => r.width)).toEqual([0, 0]);
    expect(layout.basePos).toBe(0);
  });
});
