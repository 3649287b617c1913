import { describe, expect, it } from "vitest";
import { areProbabilities, formatProbability, probabilityPhrase } from "../../../src/views/tables/samplepanel";
import { gotoIndex } from "../../../src/views/tables/sampletable";

describe("formatProbability (the same rule as Python's format_probability)", () => {
  it("uses two decimals, three near 0 and 1, then bounds", () => {
    expect(formatProbability(0.9712)).toBe("0.97");
    expect(formatProbability(0.5)).toBe("0.50");
    expect(formatProbability(0.996)).toBe("0.996");
    expect(formatProbability(0.99996)).toBe(">0.999");
    expect(formatProbability(0.004)).toBe("0.004");
    expect(formatProbability(0.00004)).toBe("<0.001");
  });
  it("reads saturated ends as bounds and non-finite values as n/a", () => {
    expect(formatProbability(1)).toBe(">0.999");
    expect(formatProbability(0)).toBe("<0.001");
    expect(formatProbability(NaN)).toBe("n/a");
    expect(formatProbability(Infinity)).toBe("n/a");
  });
  it("never rounds a probability to 1 (the old 'P(malignant): 1')", () => {
    for (const p of [0.9995, 0.99951, 0.999999, 1]) expect(formatProbability(p)).not.toMatch(/^1(\.0+)?$/);
  });
  it("phrases the bounds as inequalities", () => {
    expect(probabilityPhrase(0.97)).toBe("P = 0.97");
    expect(probabilityPhrase(1)).toBe("P > 0.999");
    expect(probabilityPhrase(0.0001)).toBe("P < 0.001");
  });
});

describe("areProbabilities", () => {
  it("is true only when every finite value is in [0, 1]", () => {
    expect(areProbabilities(new Float32Array([0.2, 0.8, NaN]))).toBe(true);
    expect(areProbabilities(new Float32Array([2.5, -1]))).toBe(false);
  });
});

describe("gotoIndex (the pager's go-to box)", () => {
  it("accepts whole sample numbers in range only", () => {
    expect(gotoIndex(" 12 ", 100)).toBe(12);
    expect(gotoIndex("0", 1)).toBe(0);
    expect(gotoIndex("100", 100)).toBeNull();
    expect(gotoIndex("12.5", 100)).toBeNull();
    expect(gotoIndex("-3", 100)).toBeNull();
    expect(gotoIndex("", 100)).toBeNull();
  });
});
