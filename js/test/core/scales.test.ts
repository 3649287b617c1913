import { describe, expect, it } from "vitest";
import {
  applySign,
  colorPosition,
  colorScale,
  colorize,
  isSigned,
  paint,
  percentile,
  planColors,
  reduceChannels,
  resolveCmap,
} from "../../src/core/scales";

const f32 = (xs: number[]): Float32Array => new Float32Array(xs);

describe("percentile (numpy's linear interpolation)", () => {
  const a = [3.0, -1.5, 0.25, 7.0, 2.0, -0.5, 11.0, 4.0, 0.0, -6.0];
  // [p, np.percentile(a, p), np.percentile(np.abs(a), p)] from numpy 2.4
  const expected: Array<[number, number, number]> = [
    [0, -6.0, 0.0],
    [10, -1.95, 0.225],
    [25, -0.375, 0.75],
    [50, 1.125, 2.5],
    [75, 3.75, 5.5],
    [90, 7.399999999999999, 7.399999999999999],
    [99, 10.64, 10.64],
    [99.9, 10.964000000000006, 10.964000000000006],
    [100, 11.0, 11.0],
    [33.3, -0.0015000000000000568, 1.4969999999999999],
  ];

  it.each(expected)("p=%f matches numpy", (p, plain, abs) => {
    expect(percentile(a, p)).toBeCloseTo(plain, 12);
    expect(percentile(a.map(Math.abs), p)).toBeCloseTo(abs, 12);
  });

  it("ignores non-finite values and does not reorder its input", () => {
    const b = [1, NaN, 2, Infinity, 5, -Infinity];
    expect(percentile(b, 50)).toBe(2.0);
    expect(percentile(b, 99)).toBeCloseTo(4.9399999999999995, 12);
    expect(b[0]).toBe(1);
    expect(b[4]).toBe(5);
  });

  it("is NaN without finite values", () => {
    expect(percentile([NaN, Infinity], 50)).toBeNaN();
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("percentile by selection equals a full sort", () => {
  const reference = (xs: number[], p: number): number => {
    const s = Float64Array.from(xs.filter(Number.isFinite)).sort();
    const index = (s.length - 1) * (p / 100);
    const lo = Math.floor(index);
    const hi = Math.min(lo + 1, s.length - 1);
    const t = index - lo;
    const diff = s[hi] - s[lo];
    return t >= 0.5 ? s[hi] - diff * (1 - t) : s[lo] + diff * t;
  };
  let seed = 7;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  it.each([1, 2, 3, 10, 101, 1000, 5000])("n=%i, with ties and non-finite values", (n) => {
    const xs = Array.from({ length: n }, () => {
      const r = rand();
      if (r < 0.05) return NaN;
      if (r < 0.07) return Infinity;
      return r < 0.3 ? Math.round(r * 10) : Math.fround(r * 100 - 50); // many ties
    });
    for (const p of [0, 1, 25, 50, 90, 99, 99.9, 100]) expect(percentile(xs, p)).toBe(reference(xs, p));
  });
});

describe("colorScale", () => {
  it("uses the percentile of abs(v)", () => {
    expect(colorScale(f32([-4, 1, 2, 3]), 100)).toBe(4);
    expect(colorScale(f32([-4, 1, 2, 3]), 50)).toBe(2.5);
  });
  it("falls back to the max, then to 1", () => {
    expect(colorScale(f32([0, 0, 0, -4]), 50)).toBe(4);
    expect(colorScale(f32([0, 0, NaN]), 99)).toBe(1);
    expect(colorScale(f32([NaN, Infinity]), 99)).toBe(1);
    expect(colorScale(f32([]), 99)).toBe(1);
  });
});

describe("sign transforms", () => {
  const v = f32([-2, -0.5, 0, 1, NaN, Infinity, -Infinity]);
  it.each([
    ["both", [-2, -0.5, 0, 1, NaN, Infinity, -Infinity]],
    ["positive", [0, 0, 0, 1, NaN, Infinity, 0]],
    ["negative", [-2, -0.5, 0, 0, NaN, 0, -Infinity]],
    ["absolute", [2, 0.5, 0, 1, NaN, Infinity, Infinity]],
  ] as const)("%s", (sign, expected) => {
    expect(Array.from(applySign(v, sign))).toEqual(expected);
  });
  it("does not modify its input", () => {
    applySign(v, "absolute");
    expect(v[0]).toBe(-2);
  });
  it("rejects an unknown mode", () => {
    expect(() => applySign(v, "up" as never)).toThrow(/unknown sign mode/);
  });
});

describe("reduceChannels", () => {
  // C=2, H=1, W=3
  const data = f32([1, -2, 3, /* channel 1 */ -4, 2, NaN]);
  const shape = [2, 1, 3];
  it.each([
    ["sum", [-3, 0, NaN]],
    ["abs_sum", [5, 4, NaN]],
    ["max_abs", [4, 2, NaN]],
    ["l2", [Math.fround(Math.sqrt(17)), Math.fround(Math.sqrt(8)), NaN]],
  ] as const)("%s", (rule, expected) => {
    expect(Array.from(reduceChannels(data, shape, rule))).toEqual(expected);
  });
  it("passes a 2-D map through and rejects other ranks", () => {
    const flat = f32([1, 2]);
    expect(reduceChannels(flat, [1, 2], "sum")).toBe(flat);
    expect(() => reduceChannels(flat, [2], "sum")).toThrow(/H x W or C x H x W/);
  });
});

describe("signed maps and colour map choice", () => {
  it("is signed only for a finite negative value", () => {
    expect(isSigned(f32([1, -0.1]))).toBe(true);
    expect(isSigned(f32([1, -Infinity, NaN]))).toBe(false);
  });
  it("auto picks RdBu_r or viridis", () => {
    expect(resolveCmap("auto", true)).toBe("RdBu_r");
    expect(resolveCmap("auto", false)).toBe("viridis");
    expect(resolveCmap("magma", true)).toBe("magma");
  });
  it("maps values to positions", () => {
    expect(colorPosition(-1, 2, true)).toBe(0.25);
    expect(colorPosition(-5, 2, true)).toBe(0);
    expect(colorPosition(-1, 2, false)).toBe(0);
    expect(colorPosition(3, 2, false)).toBe(1);
  });
  it("plans scale, map and no-data count", () => {
    expect(planColors(f32([-1, 2, NaN]), { cmap: "auto", clipPercentile: 100 })).toEqual({
      scale: 2,
      cmap: "RdBu_r",
      diverging: true,
      signed: true,
      noData: 1,
    });
    expect(() => planColors(f32([1]), { cmap: "jet", clipPercentile: 99 })).toThrow(/unknown colour map/);
  });
});

describe("colorize (expected RGBA from a numpy implementation of the protocol's 6 steps)", () => {
  // 2 x 3 map: [[-2, -0.5, 0], [0.25, 1, NaN]]
  const v = f32([-2, -0.5, 0, 0.25, 1, NaN]);
  const hw: [number, number] = [2, 3];
  const grey = { shape: [2, 3], data: new Uint8Array([0, 50, 100, 150, 200, 255]) };
  const rgb = { shape: [2, 3, 3], data: Uint8Array.from({ length: 18 }, (_, i) => i * 10) };
  const base = { cmap: "auto", sign: "both" as const, opacity: 0.6, clipPercentile: 100, threshold: 0 };

  it("without an image: colour with alpha round(opacity * 255); no data grey and opaque", () => {
    expect(Array.from(colorize(v, base, hw))).toEqual([
      5, 48, 97, 153, 194, 221, 236, 153, 247, 246, 246, 153, 251, 230, 218, 153, 229, 131, 104, 153, 128, 128, 128, 255,
    ]);
  });

  it("threshold leaves cells transparent", () => {
    expect(Array.from(colorize(v, { ...base, threshold: 0.2 }, hw))).toEqual([
      5, 48, 97, 153, 194, 221, 236, 153, 0, 0, 0, 0, 0, 0, 0, 0, 229, 131, 104, 153, 128, 128, 128, 255,
    ]);
  });

  it("blends over a grey image with half-to-even rounding; thresholded cells show the image", () => {
    const out = colorize(v, { ...base, threshold: 0.2, opacity: 0.5, image: grey }, hw);
    expect(Array.from(out)).toEqual([
      2, 24, 48, 255, 122, 136, 143, 255, 100, 100, 100, 255, 150, 150, 150, 255, 214, 166, 152, 255, 128, 128, 128, 255,
    ]);
  });

  it("blends over an RGB image with a sequential map, absolute sign, clip 50", () => {
    const out = colorize(v, { ...base, cmap: "viridis", sign: "absolute", clipPercentile: 50, opacity: 0.25, image: rgb }, hw);
    expect(Array.from(out)).toEqual([
      63, 65, 24, 255, 86, 88, 47, 255, 62, 53, 81, 255, 76, 111, 118, 255, 153, 155, 114, 255, 128, 128, 128, 255,
    ]);
  });

  it("positive sign with magma at clip 90 and full opacity", () => {
    const out = colorize(v, { ...base, cmap: "magma", sign: "positive", clipPercentile: 90, opacity: 1 }, hw);
    expect(Array.from(out)).toEqual([
      0, 0, 4, 255, 0, 0, 4, 255, 0, 0, 4, 255, 123, 35, 130, 255, 252, 253, 191, 255, 128, 128, 128, 255,
    ]);
  });

  it("rejects an image of another size", () => {
    const plan = planColors(v, { cmap: "auto", clipPercentile: 99 });
    const small = { shape: [1, 3], data: new Uint8Array(3) };
    expect(() => paint(v, 2, 3, plan, { opacity: 1, threshold: 0, image: small })).toThrow(/does not fit a 2 x 3 map/);
    expect(() => paint(v, 3, 3, plan, { opacity: 1, threshold: 0 })).toThrow(/do not fill/);
  });
});
