import { describe, expect, it } from "vitest";
import { parseColor } from "../../src/core/theme";

describe("parseColor", () => {
  it("reads hex and rgb() colours", () => {
    expect(parseColor("#111")).toEqual([17, 17, 17]);
    expect(parseColor(" #FFFFFF ")).toEqual([255, 255, 255]);
    expect(parseColor("rgba(0, 10, 20, 0.5)")).toEqual([0, 10, 20]);
    expect(parseColor("rgb(1 2 3)")).toEqual([1, 2, 3]);
  });
  it("gives null for nothing (no document to resolve names here)", () => {
    expect(parseColor("")).toBeNull();
  });
});
