import { describe, expect, it, vi } from "vitest";
import { debounce, formatValue } from "../../../src/core/dom";
import { imageToRgba, topClasses } from "../../../src/views/tables/samplepanel";
import { f32String, fallbackRange, positionOf, sameValues, sliderGrid, valueAt } from "../../../src/views/tables/whatif";

describe("formatValue", () => {
  it.each([
    [0.123456, "0.123"],
    [-0.123456, "-0.123"],
    [1234.5, "1230"],
    [12.345, "12.3"],
    [0.001, "0.001"],
    [0.00001234, "1.23e-5"],
    [0.00001, "1e-5"],
    [123456, "1.23e+5"],
    [0, "0"],
    [NaN, "NaN"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ])("%f -> %s", (x, text) => {
    expect(formatValue(x)).toBe(text);
  });
  it("is empty for null", () => {
    expect(formatValue(null)).toBe("");
  });
});

describe("debounce", () => {
  it("calls once with the last arguments after the quiet period", () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 150);
    d(1);
    d(2);
    vi.advanceTimersByTime(149);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledExactlyOnceWith(2);
    d(3);
    d.cancel();
    vi.advanceTimersByTime(500);
    expect(fn).toHaveBeenCalledTimes(1);
    d(4);
    d.flush();
    expect(fn).toHaveBeenLastCalledWith(4);
    vi.useRealTimers();
  });
});

describe("what-if helpers", () => {
  it("compares float32 samples, NaN equal to NaN", () => {
    expect(sameValues(new Float32Array([1, NaN]), new Float32Array([1, NaN]))).toBe(true);
    expect(sameValues(new Float32Array([1]), new Float32Array([2]))).toBe(false);
    expect(sameValues(null, new Float32Array(0))).toBe(false);
  });
  it("prints float32 values short", () => {
    expect(f32String(Math.fround(0.1))).toBe("0.1");
    expect(f32String(Math.fround(27.1))).toBe("27.1");
  });
  it("makes a range around a value", () => {
    expect(fallbackRange(2)).toEqual({ min: 0, max: 4, step: 0.04 });
    expect(fallbackRange(NaN)).toEqual({ min: -1, max: 1, step: 0.02 });
  });
});

describe("sample panel helpers", () => {
  it("lists the top classes best first", () => {
    expect(topClasses(new Float32Array([0.1, 0.7, 0.2]), 2)).toEqual([1, 2]);
    expect(topClasses(new Float32Array([NaN, 0.5, 0.5]), 3)).toEqual([1, 2, 0]);
  });
  it("expands grey and RGB images to RGBA", () => {
    expect(Array.from(imageToRgba({ shape: [1, 2], data: new Uint8Array([7, 9]) }))).toEqual([7, 7, 7, 255, 9, 9, 9, 255]);
    expect(Array.from(imageToRgba({ shape: [1, 1, 3], data: new Uint8Array([1, 2, 3]) }))).toEqual([1, 2, 3, 255]);
    expect(() => imageToRgba({ shape: [1, 1, 4], data: new Uint8Array(4) })).toThrow(/H x W x 3/);
  });
});

describe("what-if slider grid", () => {
  it("ends exactly on the maximum whatever the float step", () => {
    const g = sliderGrid(0.1, 21.16, Math.fround((21.16 - 0.1) / 100));
    expect(valueAt(g, g.n)).toBe(21.16);
    expect(g.n).toBeGreaterThanOrEqual(100);
    expect(valueAt(g, 0)).toBe(0.1);
    expect(positionOf(g, 21.16)).toBe(g.n);
    expect(positionOf(g, -5)).toBe(0);
  });
  it("handles a constant feature and a missing step", () => {
    expect(sliderGrid(3, 3, 0.1).n).toBe(0);
    expect(sliderGrid(0, 1, 0).n).toBe(100);
    expect(sliderGrid(0, 1, 0.3)).toEqual({ lo: 0, hi: 1, step: 0.3, n: 4 });
  });
});
