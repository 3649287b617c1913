import { describe, expect, it } from "vitest";
import { COLORMAPS, COLORMAP_NAMES, DIVERGING, SEQUENTIAL, isColormap, lookup, lutIndex, table } from "../../src/core/colormaps";

// Values from matplotlib 3.11: np.round(matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255)
// at entries 0, 128 and 255.
const MATPLOTLIB: Record<string, [number[], number[], number[]]> = {
  RdBu_r: [[5, 48, 97], [247, 246, 246], [103, 0, 31]],
  PuOr_r: [[45, 0, 75], [247, 247, 246], [127, 59, 8]],
  coolwarm: [[59, 76, 192], [221, 220, 220], [180, 4, 38]],
  viridis: [[68, 1, 84], [33, 145, 140], [253, 231, 37]],
  cividis: [[0, 34, 78], [125, 124, 120], [254, 232, 56]],
  magma: [[0, 0, 4], [183, 55, 121], [252, 253, 191]],
  Greys: [[255, 255, 255], [149, 149, 149], [0, 0, 0]],
};

describe("colour maps", () => {
  it("lists the protocol's maps", () => {
    expect([...DIVERGING]).toEqual(["RdBu_r", "PuOr_r", "coolwarm"]);
    expect([...SEQUENTIAL]).toEqual(["viridis", "cividis", "magma", "Greys"]);
    expect(Object.keys(COLORMAPS).sort()).toEqual([...COLORMAP_NAMES].sort());
  });

  it.each(Object.entries(MATPLOTLIB))("%s matches matplotlib at 0, 128, 255", (name, [first, middle, last]) => {
    expect(table(name).length).toBe(768);
    expect(lookup(name, 0)).toEqual(first);
    expect(lookup(name, 128 / 255)).toEqual(middle);
    expect(lookup(name, 1)).toEqual(last);
  });

  it("indexes with Math.round(u * 255), clamped", () => {
    expect(lutIndex(0.5)).toBe(128);
    expect(lutIndex(0.499)).toBe(127);
    expect(lutIndex(-1)).toBe(0);
    expect(lutIndex(2)).toBe(255);
    expect(lutIndex(NaN)).toBe(0);
  });

  it("rejects unknown names", () => {
    expect(isColormap("jet")).toBe(false);
    expect(isColormap("toString")).toBe(false);
    expect(() => lookup("jet", 0)).toThrow(/unknown colour map "jet"/);
  });
});
