import { describe, expect, it } from "vitest";
import { sampleIndices } from "../../../src/views/tables/beeswarm";

describe("sampleIndices", () => {
  it("passes (N,) indices through", () => {
    const si = { shape: [2], data: new Float32Array([3, 9]) };
    expect(sampleIndices(si)).toBe(si);
    expect(sampleIndices(null)).toBeNull();
  });
  it("joins (N, 2) pairs exactly beyond float32", () => {
    const rows = [100000001, 16777217, 3];
    const pairs = new Float32Array(rows.flatMap((r) => [Math.floor(r / 16777216), r % 16777216]));
    const out = sampleIndices({ shape: [3, 2], data: pairs })!;
    expect(out.shape).toEqual([3]);
    expect(Array.from(out.data)).toEqual(rows);
  });
});
