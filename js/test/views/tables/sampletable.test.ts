import { describe, expect, it } from "vitest";
import { formatCompact, keyMove, pageCount, pageInfo } from "../../../src/views/tables/sampletable";

describe("formatCompact", () => {
  it.each([
    [0.987654, "0.9877"],
    [0.5, "0.5"],
    [1, "1"],
    [-3.14159, "-3.142"],
    [12345.6, "12350"],
    [999999, "1000000"],
    [1234567, "1.235e+6"],
    [0.0012346, "0.001235"],
    [0.00012346, "1.235e-4"],
    [0.0001, "1e-4"],
    [0, "0"],
    [NaN, "NaN"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ])("%f -> %s", (x, text) => {
    expect(formatCompact(x)).toBe(text);
  });
  it("keeps at most 4 significant digits", () => {
    for (const x of [Math.PI, Math.E * 100, 1 / 3, 2 / 3000, 98765.4321]) {
      const digits = formatCompact(x).replace(/^-|e.*$|\./g, "").replace(/^0+/, "").replace(/0+$/, "");
      expect(digits.length).toBeLessThanOrEqual(4);
      expect(Math.abs(Number(formatCompact(x)) - x) / x).toBeLessThan(5e-4);
    }
  });
});

describe("pager", () => {
  it("counts pages, at least one", () => {
    expect(pageCount(0, 15)).toBe(1);
    expect(pageCount(15, 15)).toBe(1);
    expect(pageCount(16, 15)).toBe(2);
    expect(pageCount(100000, 15)).toBe(6667);
  });
  it("reads rows a-b of total, 1-based", () => {
    expect(pageInfo(0, 15, 100000, 15)).toBe("rows 1-15 of 100000");
    expect(pageInfo(6666, 15, 100000, 10)).toBe("rows 99991-100000 of 100000");
    expect(pageInfo(0, 15, 0, 0)).toBe("no rows (0 of 0)");
  });
});

describe("keyMove", () => {
  const rows = [10, 11, 15];
  it("moves within the page", () => {
    expect(keyMove(rows, 11, 1, true, true)).toEqual({ kind: "select", index: 15 });
    expect(keyMove(rows, 11, -1, true, true)).toEqual({ kind: "select", index: 10 });
  });
  it("starts at the page's first or last row when the selection is elsewhere", () => {
    expect(keyMove(rows, -1, 1, false, false)).toEqual({ kind: "select", index: 10 });
    expect(keyMove(rows, 99, -1, false, false)).toEqual({ kind: "select", index: 15 });
  });
  it("asks Python to step past the page's edge, when there is a page that way", () => {
    expect(keyMove(rows, 15, 1, true, false)).toEqual({ kind: "step", delta: 1 });
    expect(keyMove(rows, 10, -1, true, true)).toEqual({ kind: "step", delta: -1 });
    expect(keyMove(rows, 15, 1, false, true)).toEqual({ kind: "none" });
    expect(keyMove(rows, 10, -1, true, false)).toEqual({ kind: "none" });
    expect(keyMove([], -1, 1, true, true)).toEqual({ kind: "none" });
  });
});
