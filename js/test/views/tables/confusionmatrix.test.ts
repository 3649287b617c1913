import { describe, expect, it } from "vitest";
import { summarize, textColor } from "../../../src/views/tables/confusionmatrix";

describe("summarize", () => {
  it("row shares, recall and accuracy", () => {
    const s = summarize(new Float32Array([3, 1, 0, 0, 0, 0, 2, 2, 4]), 3);
    expect(Array.from(s.share)).toEqual([0.75, 0.25, 0, 0, 0, 0, 0.25, 0.25, 0.5]);
    expect(s.recall[0]).toBe(0.75);
    expect(Number.isNaN(s.recall[1])).toBe(true);
    expect(s.recall[2]).toBe(0.5);
    expect(s.accuracy).toBe(7 / 12);
    expect(s.total).toBe(12);
  });
  it("empty matrix has NaN accuracy", () => {
    expect(Number.isNaN(summarize(new Float32Array(4), 2).accuracy)).toBe(true);
  });
});

describe("textColor", () => {
  it("dark text on light cells, light on dark", () => {
    expect(textColor([255, 255, 255])).toBe("#000000");
    expect(textColor([253, 231, 37])).toBe("#000000"); // viridis top
    expect(textColor([68, 1, 84])).toBe("#ffffff"); // viridis bottom
    expect(textColor([0, 0, 0])).toBe("#ffffff");
  });
});
