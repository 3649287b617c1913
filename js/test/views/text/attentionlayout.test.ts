import { describe, expect, it } from "vitest";
import { attentionLines, headMatrix, mapsShape } from "../../../src/views/text/attentionlayout";

describe("attention layout", () => {
  // 2 layers x 2 heads x 2 tokens: value = 1000*layer + 100*head + 10*row + col
  const data = new Float32Array(16);
  for (let l = 0; l < 2; l++)
    for (let h = 0; h < 2; h++)
      for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) data[((l * 2 + h) * 2 + i) * 2 + j] = 1000 * l + 100 * h + 10 * i + j;
  const s = mapsShape([2, 2, 2, 2]);

  it("reads the shape and refuses what is not (layers, heads, T, T)", () => {
    expect(s).toEqual({ layers: 2, heads: 2, tokens: 2 });
    expect(() => mapsShape([2, 2, 3])).toThrow(/layers, heads, T, T/);
    expect(() => mapsShape([1, 1, 2, 3])).toThrow();
  });

  it("picks one head, or the mean of the heads, of one layer", () => {
    expect([...headMatrix(data, s, 1, 1)]).toEqual([1100, 1101, 1110, 1111]);
    expect([...headMatrix(data, s, 0, -1)]).toEqual([50, 51, 60, 61]);
    expect([...headMatrix(data, s, 9, 0)]).toEqual([1000, 1001, 1010, 1011]); // clamped to the last layer
  });

  it("draws the lines above a weight, one row when focused, strongest last", () => {
    const m = new Float32Array([0.7, 0.3, 0.1, 0.9]);
    expect(attentionLines(m, 2, -1, 0.2).map((l) => [l.from, l.to])).toEqual([[0, 1], [0, 0], [1, 1]]);
    expect(attentionLines(m, 2, 1, 0.0).map((l) => l.weight)).toEqual([expect.closeTo(0.1), expect.closeTo(0.9)]);
    expect(attentionLines(new Float32Array([NaN, 1, 1, 1]), 2, 0, 0)).toHaveLength(1);
  });
});
