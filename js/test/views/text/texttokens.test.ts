import { describe, expect, it } from "vitest";
import { lookup } from "../../../src/core/colormaps";
import {
  blend,
  legendGradient,
  needsLightText,
  spaceBefore,
  tokenAlpha,
  tokenColor,
  tokenLook,
  tokenScale,
} from "../../../src/views/text/tokencolors";

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

describe("tokenAlpha and tokenLook: weak words fade into the theme's background", () => {
  it("opacity min(1, 2 |v| / s), 0 for non-finite", () => {
    expect([0, 0.1, 0.25, -0.5, 2].map((v) => tokenAlpha(v, 1))).toEqual([0, 0.2, 0.5, 1, 1]);
    expect(tokenAlpha(NaN, 1)).toBe(0);
  });
  it("blends over the background", () => {
    expect(blend([17, 17, 17], [255, 255, 255], 0.5)).toEqual([136, 136, 136]);
    expect(blend([17, 17, 17], [1, 2, 3], 0)).toEqual([17, 17, 17]);
  });
  it("a word of value 0 is the dark theme's background with light text, never a white chip", () => {
    expect(tokenLook(0, 1, "RdBu_r", [17, 17, 17])).toEqual({ rgb: [247, 246, 246], alpha: 0, light: true });
    expect(tokenLook(0, 1, "RdBu_r", [255, 255, 255])?.light).toBe(false);
  });
  it("strong words keep the map's colour whatever the theme", () => {
    for (const bg of [[17, 17, 17], [255, 255, 255]] as const) {
      expect(tokenLook(1, 1, "RdBu_r", [...bg])).toEqual({ rgb: [103, 0, 31], alpha: 1, light: true });
    }
  });
  it("picks the text colour on the chip as drawn: pale chips over a dark page get light text", () => {
    const pale = tokenLook(0.3, 1, "RdBu_r", [17, 17, 17]);
    expect(pale && pale.alpha).toBeCloseTo(0.6);
    expect(pale?.light).toBe(true);
    expect(tokenLook(0.3, 1, "RdBu_r", [255, 255, 255])?.light).toBe(false);
    expect(tokenLook(NaN, 1, "RdBu_r", [17, 17, 17])).toBeNull();
  });
});

describe("legendGradient", () => {
  it("has 11 stops from the negative to the positive end, transparent in the middle", () => {
    const g = legendGradient("RdBu_r");
    expect(g.startsWith("linear-gradient(to right, rgba(5, 48, 97, 1) 0%")).toBe(true);
    expect(g.endsWith("rgba(103, 0, 31, 1) 100%)")).toBe(true);
    expect(g.match(/rgba\(/g)?.length).toBe(11);
    expect(g).toContain(", 0) 50%");
  });
});
