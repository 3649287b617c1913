import { describe, expect, it } from "vitest";
import { lookup } from "../../../src/core/colormaps";
import { barEntry, legendRange } from "../../../src/core/legend";
import { applySign, paint, planColors } from "../../../src/core/scales";
import { allZero, halfOf, paintThreshold, signPlan } from "../../../src/views/images/signplan";

const f32 = (xs: number[]): Float32Array => new Float32Array(xs);

describe("sign modes: a for/against pair on one diverging scale", () => {
  const raw = f32([-2, 0, 1, 2]);
  const planFor = (sign: "both" | "positive" | "negative" | "absolute", cmap = "auto") => {
    const shown = applySign(raw, sign);
    return { shown, plan: signPlan(planColors(shown, { cmap: "auto", clipPercentile: 100 }), cmap, sign) };
  };
  it("positive and negative both use RdBu_r with cmap auto (not viridis)", () => {
    expect(planFor("positive").plan).toMatchObject({ cmap: "RdBu_r", diverging: true, scale: 2 });
    expect(planFor("negative").plan).toMatchObject({ cmap: "RdBu_r", diverging: true, scale: 2 });
    expect(planFor("both").plan.cmap).toBe("RdBu_r");
    expect(planFor("absolute").plan.cmap).toBe("viridis");
  });
  it("a named map is kept", () => {
    expect(planFor("positive", "coolwarm").plan.cmap).toBe("coolwarm");
    expect(planFor("positive", "magma").plan).toMatchObject({ cmap: "magma", diverging: false });
  });
  it("positive paints the positive half and leaves 0 uncoloured (the image shows)", () => {
    const { shown, plan } = planFor("positive");
    const image = { shape: [1, 4], data: new Uint8Array([10, 20, 30, 40]) };
    const px = paint(shown, 1, 4, plan, { opacity: 1, threshold: paintThreshold(0, "positive"), image });
    expect(Array.from(px.subarray(0, 8))).toEqual([10, 10, 10, 255, 20, 20, 20, 255]); // -2 -> 0, and 0
    expect(Array.from(px.subarray(8, 11))).toEqual(lookup("RdBu_r", 0.75)); // 1 of 2: the upper half
    expect(Array.from(px.subarray(12, 15))).toEqual(lookup("RdBu_r", 1));
  });
  it("negative paints the negative half; without an image 0 is transparent", () => {
    const { shown, plan } = planFor("negative");
    const px = paint(shown, 1, 4, plan, { opacity: 0.5, threshold: paintThreshold(0, "negative") });
    expect(Array.from(px.subarray(0, 3))).toEqual(lookup("RdBu_r", 0));
    expect(Array.from(px.subarray(4, 16))).toEqual(Array(12).fill(0));
  });
  it("both keeps the protocol: 0 is the map's centre, coloured", () => {
    expect(paintThreshold(0, "both")).toBe(0);
    expect(paintThreshold(0.3, "positive")).toBe(0.3);
    const { shown, plan } = planFor("both");
    const px = paint(shown, 1, 4, plan, { opacity: 1, threshold: paintThreshold(0, "both") });
    expect(Array.from(px.subarray(4, 8))).toEqual([...lookup("RdBu_r", 0.5), 255]);
  });
  it("halfOf and allZero", () => {
    expect([halfOf("positive"), halfOf("negative"), halfOf("both"), halfOf("absolute")]).toEqual([
      "positive",
      "negative",
      null,
      null,
    ]);
    expect(allZero(f32([0, NaN, -0]))).toBe(true);
    expect(allZero(f32([0, 1e-9]))).toBe(false);
    expect(allZero(applySign(f32([-1, -2]), "positive"))).toBe(true);
  });
});

describe("legend halves", () => {
  it("paints table entries 128..255 (positive) or 0..127 (negative) across the bar", () => {
    expect([barEntry(0, "positive"), barEntry(255, "positive")]).toEqual([128, 255]);
    expect([barEntry(0, "negative"), barEntry(255, "negative")]).toEqual([0, 127]);
    expect([barEntry(0, null), barEntry(255, null)]).toEqual([0, 255]);
  });
  it("labels 0 .. s, -s .. 0, -s .. s, and 0 .. s for a sequential map", () => {
    expect(legendRange({ scale: 2, diverging: true }, "positive")).toEqual([0, 2]);
    expect(legendRange({ scale: 2, diverging: true }, "negative")).toEqual([-2, 0]);
    expect(legendRange({ scale: 2, diverging: true }, null)).toEqual([-2, 2]);
    expect(legendRange({ scale: 2, diverging: false }, "negative")).toEqual([0, 2]);
  });
});
