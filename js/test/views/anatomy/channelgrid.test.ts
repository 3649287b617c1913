import { describe, expect, it } from "vitest";
import { displayOrder, gridColoring, position, tilePixels } from "../../../src/views/anatomy/channelgrid_color";
import { lookup } from "../../../src/core/colormaps";

const rgbaAt = (px: Uint8ClampedArray, i: number): number[] => Array.from(px.subarray(i * 4, i * 4 + 4));

describe("gridColoring", () => {
  // two 1 x 2 tiles: [0, 2] and [1, 4]
  const data = new Float32Array([0, 2, 1, 4]);
  it("one scale for the grid by default, viridis for unsigned", () => {
    const c = gridColoring(data, 2, 2, false, "auto", "grid");
    expect(Array.from(c.scales)).toEqual([4, 4]);
    expect(c.signed).toBe(false);
    expect(c.cmap).toBe("viridis");
  });
  it("per-tile scales", () => {
    expect(Array.from(gridColoring(data, 2, 2, false, "auto", "tile").scales)).toEqual([2, 4]);
  });
  it("signed grids pick RdBu_r; a named map is kept; all-zero scale is 1", () => {
    const c = gridColoring(new Float32Array([-1, 0, 0, 0]), 2, 2, false, "auto", "tile");
    expect(c.signed).toBe(true);
    expect(c.cmap).toBe("RdBu_r");
    expect(Array.from(c.scales)).toEqual([1, 1]);
    expect(gridColoring(data, 2, 2, false, "magma", "grid").cmap).toBe("magma");
  });
  it("NaN and inf do not set the scale", () => {
    expect(Array.from(gridColoring(new Float32Array([NaN, Infinity, 3, 1]), 1, 4, false, "auto", "grid").scales)).toEqual([3]);
  });
});

describe("position", () => {
  it.each([
    [2, 4, false, 0.5],
    [-1, 4, false, 0],
    [8, 4, false, 1],
    [-4, 4, true, 0],
    [0, 4, true, 0.5],
    [2, 4, true, 0.75],
  ])("v=%f s=%f signed=%s -> %f", (v, s, signed, u) => {
    expect(position(v, s, signed)).toBe(u);
  });
});

describe("tilePixels", () => {
  it("scalar tiles through the colour map, grey for NaN", () => {
    const data = new Float32Array([0, 2, 1, 4, NaN, 4]);
    const c = gridColoring(data, 2, 3, false, "auto", "grid");
    const px0 = tilePixels(data, 0, 1, 3, c);
    expect(rgbaAt(px0, 0)).toEqual([...lookup("viridis", 0), 255]);
    expect(rgbaAt(px0, 1)).toEqual([...lookup("viridis", 0.5), 255]);
    expect(rgbaAt(px0, 2)).toEqual([...lookup("viridis", 0.25), 255]);
    const px1 = tilePixels(data, 1, 1, 3, c);
    expect(rgbaAt(px1, 0)).toEqual([...lookup("viridis", 1), 255]);
    expect(rgbaAt(px1, 1)).toEqual([128, 128, 128, 255]);
  });
  it("RGB tiles keep their colours", () => {
    const data = new Float32Array([1, 0, 0, 0, 0.5, 1, 2, -1, NaN]);
    const c = gridColoring(data, 1, 9, true, "auto", "grid");
    const px = tilePixels(data, 0, 1, 3, c);
    expect(rgbaAt(px, 0)).toEqual([255, 0, 0, 255]);
    expect(rgbaAt(px, 1)).toEqual([0, 128, 255, 255]);
    expect(rgbaAt(px, 2)).toEqual([128, 128, 128, 255]);
  });
});

describe("displayOrder", () => {
  it("uses a valid order, else the identity", () => {
    expect(displayOrder(new Float32Array([2, 0]), 3)).toEqual([2, 0]);
    expect(displayOrder(null, 3)).toEqual([0, 1, 2]);
    expect(displayOrder(new Float32Array([0, 0]), 3)).toEqual([0, 1, 2]);
    expect(displayOrder(new Float32Array([5]), 3)).toEqual([0, 1, 2]);
    expect(displayOrder(new Float32Array([1.5]), 3)).toEqual([0, 1, 2]);
  });
});
