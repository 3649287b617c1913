import { describe, expect, it } from "vitest";
import { lookup } from "../src/colormaps";
import { legendGradient, needsLightText, spaceBefore, tokenColor, tokenScale } from "../src/tokencolors";

describe("tokenScale", () => {
  it("is max |v| over finite values", () => {
    expect(tokenScale(new Float32Array([0.25, -0.5, 0.1]))).toBe(0.5);
    expect(tokenScale([1, NaN, -Infinity, -3])).toBe(3);
  });
  it("is 1 when every value is 0 or non-finite, or there are none", () => {
    expect(tokenScale([0, 0])).toBe(1);
    expect(tokenScale([NaN])).toBe(1);
    expect(tokenScale([])).toBe(1);
  });
});

describe("tokenColor", () => {
  it("maps -s, 0, +s to the map's ends and centre", () => {
    expect(tokenColor(-2, 2, "RdBu_r")).toEqual([5, 48, 97]);
    expect(tokenColor(0, 2, "RdBu_r")).toEqual([247, 246, 246]);
    expect(tokenColor(2, 2, "RdBu_r")).toEqual([103, 0, 31]);
  });
  it("uses entry round(((v / s) + 1) / 2 * 255) and clips beyond the scale", () => {
    expect(tokenColor(0.5, 1, "PuOr_r")).toEqual(lookup("PuOr_r", 0.75));
    expect(tokenColor(-0.25, 1, "coolwarm")).toEqual(lookup("coolwarm", 0.375));
    expect(tokenColor(9, 1, "RdBu_r")).toEqual([103, 0, 31]);
  });
  it("gives no colour for non-finite values", () => {
    expect(tokenColor(NaN, 1, "RdBu_r")).toBeNull();
    expect(tokenColor(Infinity, 1, "RdBu_r")).toBeNull();
  });
  it("throws on an unknown map", () => {
    expect(() => tokenColor(0, 1, "jet")).toThrow(/unknown colour map "jet"/);
  });
});

describe("needsLightText", () => {
  it("is true on the dark ends and false in the pale middle", () => {
    expect(needsLightText([103, 0, 31])).toBe(true);
    expect(needsLightText([5, 48, 97])).toBe(true);
    expect(needsLightText([247, 246, 246])).toBe(false);
    expect(needsLightText(lookup("RdBu_r", 0.6))).toBe(false);
  });
});

describe("spaceBefore", () => {
  it("joins tokens as nbexplain.text.detokenize does", () => {
    const tokens = ["what", "a", "(", "great", ")", "film", "!", "really", "."];
    let text = "";
    tokens.forEach((t, i) => {
      text += (spaceBefore(t, tokens[i - 1]) ? " " : "") + t;
    });
    expect(text).toBe("what a (great) film! really.");
  });
});

describe("legendGradient", () => {
  it("has 11 stops from the negative to the positive end", () => {
    const g = legendGradient("RdBu_r");
    expect(g.startsWith("linear-gradient(to right, rgb(5, 48, 97) 0%")).toBe(true);
    expect(g.endsWith("rgb(103, 0, 31) 100%)")).toBe(true);
    expect(g.match(/rgb\(/g)?.length).toBe(11);
  });
});
