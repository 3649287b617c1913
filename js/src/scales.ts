/**
 * Pure arithmetic for the heatmap: channel reduction, sign transforms, the colour scale and
 * the six colouring steps of docs/PROTOCOL.md ("Heatmap", "Colouring"). No DOM.
 */
import { DIVERGING, table, lutIndex } from "./colormaps";

/** How a C x H x W map is reduced over its channel axis. */
export type ReduceRule = "sum" | "abs_sum" | "max_abs" | "l2";
/** The sign transform applied after reduction. */
export type SignMode = "both" | "positive" | "negative" | "absolute";

/** Every reduce rule, in the order the controls list them. */
export const REDUCE_RULES: readonly ReduceRule[] = ["sum", "abs_sum", "max_abs", "l2"];
/** Every sign mode, in the order the controls list them. */
export const SIGN_MODES: readonly SignMode[] = ["both", "positive", "negative", "absolute"];

/** Colour of "no data" cells (non-finite values): #808080, drawn opaque. */
export const NO_DATA_RGB: readonly [number, number, number] = [128, 128, 128];

/**
 * Reduce a C x H x W map (C order) to H x W. A 2-D shape returns `data` unchanged.
 * A NaN in any channel makes the cell NaN.
 *
 * @example
 * reduceChannels(new Float32Array([1, -2, 3, 4]), [2, 1, 2], "sum"); // Float32Array [4, 2]
 */
export function reduceChannels(data: Float32Array, shape: readonly number[], rule: ReduceRule): Float32Array {
  if (shape.length === 2) return data;
  if (shape.length !== 3) throw new Error(`values must be H x W or C x H x W, got shape [${shape.join(", ")}]`);
  const [c, h, w] = shape;
  const n = h * w;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    let nan = false;
    for (let k = 0; k < c; k++) {
      const x = data[k * n + i];
      if (Number.isNaN(x)) {
        nan = true;
        break;
      }
      if (rule === "sum") acc += x;
      else if (rule === "abs_sum") acc += Math.abs(x);
      else if (rule === "max_abs") acc = Math.max(acc, Math.abs(x));
      else if (rule === "l2") acc += x * x;
      else throw new Error(`unknown reduce rule ${String(rule)}`);
    }
    out[i] = nan ? NaN : rule === "l2" ? Math.sqrt(acc) : acc;
  }
  return out;
}

/**
 * The sign transform, into a new array: `"positive"` sets negatives to 0, `"negative"` sets
 * positives to 0, `"absolute"` takes `abs`, `"both"` copies. NaN stays NaN; infinities follow
 * the same rule as any number (so `+inf` becomes 0 under `"negative"`).
 *
 * @example
 * applySign(new Float32Array([-1, 2]), "positive"); // Float32Array [0, 2]
 */
export function applySign(values: Float32Array, sign: SignMode): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (sign === "both") out[i] = x;
    else if (sign === "positive") out[i] = x < 0 ? 0 : x;
    else if (sign === "negative") out[i] = x > 0 ? 0 : x;
    else if (sign === "absolute") out[i] = Math.abs(x);
    else throw new Error(`unknown sign mode ${String(sign)}`);
  }
  return out;
}

/**
 * The `p`-th percentile (0..100) of the finite values, with numpy's default linear
 * interpolation (`np.percentile(a[np.isfinite(a)], p)`). NaN when no value is finite.
 *
 * @example
 * percentile([1, 2, 3, 4], 50);  // 2.5
 * percentile([1, NaN, 10], 100); // 10
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  const n = finite.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(finite).sort();
  const q = Math.min(Math.max(p, 0), 100) / 100;
  const index = (n - 1) * q;
  const lo = Math.floor(index);
  const hi = Math.min(lo + 1, n - 1);
  const t = index - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  // numpy's _lerp: a + diff * t, or b - diff * (1 - t) for t >= 0.5 (same rounding as numpy).
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * The colour scale `s` (step 2): percentile of `abs(v)` over the finite cells at
 * `clipPercentile`; if that is 0, the largest finite `abs(v)`; if that is 0 too (or no cell is
 * finite), 1.
 *
 * @example
 * colorScale(new Float32Array([0, 0, 0, 4]), 50); // 4 (the median is 0, so the maximum)
 */
export function colorScale(values: Float32Array, clipPercentile: number): number {
  const abs = new Float64Array(values.length);
  let peak = 0;
  for (let i = 0; i < values.length; i++) {
    abs[i] = Math.abs(values[i]);
    if (Number.isFinite(abs[i]) && abs[i] > peak) peak = abs[i];
  }
  const s = percentile(abs, clipPercentile);
  if (s > 0) return s;
  return peak > 0 ? peak : 1;
}

/**
 * True when any finite value is negative (step 3): such a map is "signed".
 *
 * @example
 * isSigned(new Float32Array([1, -0.5])); // true
 * isSigned(new Float32Array([1, -Infinity])); // false
 */
export function isSigned(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] < 0 && Number.isFinite(values[i])) return true;
  return false;
}

/**
 * The colour map to use: `"auto"` picks `"RdBu_r"` for a signed map and `"viridis"` otherwise.
 *
 * @example
 * resolveCmap("auto", true); // "RdBu_r"
 */
export function resolveCmap(cmap: string, signed: boolean): string {
  if (cmap === "auto") return signed ? "RdBu_r" : "viridis";
  return cmap;
}

/**
 * True for a diverging colour map (used with `u = (clip(v/s, -1, 1) + 1) / 2`).
 *
 * @example
 * isDiverging("coolwarm"); // true
 */
export function isDiverging(cmap: string): boolean {
  return DIVERGING.includes(cmap);
}

/** Everything needed to colour a map and draw its legend. */
export interface ColorPlan {
  /** The colour scale `s` (> 0). */
  scale: number;
  /** The resolved colour map name (never `"auto"`). */
  cmap: string;
  /** Whether `cmap` is diverging. */
  diverging: boolean;
  /** Whether any finite value is negative. */
  signed: boolean;
  /** Number of non-finite ("no data") cells. */
  noData: number;
}

/**
 * Work out scale, colour map and "no data" count for transformed values (steps 2 and 3).
 *
 * @example
 * planColors(new Float32Array([-1, 2]), { cmap: "auto", clipPercentile: 100 });
 * // { scale: 2, cmap: "RdBu_r", diverging: true, signed: true, noData: 0 }
 */
export function planColors(values: Float32Array, opts: { cmap: string; clipPercentile: number }): ColorPlan {
  const signed = isSigned(values);
  const cmap = resolveCmap(opts.cmap, signed);
  table(cmap); // throws early for an unknown name
  let noData = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) noData++;
  return { scale: colorScale(values, opts.clipPercentile), cmap, diverging: isDiverging(cmap), signed, noData };
}

/**
 * Position `u` (0..1) of value `v` on the colour bar (step 3).
 *
 * @example
 * colorPosition(-1, 2, true);  // 0.25
 * colorPosition(-1, 2, false); // 0
 */
export function colorPosition(v: number, scale: number, diverging: boolean): number {
  const r = v / scale;
  if (diverging) return (Math.min(Math.max(r, -1), 1) + 1) / 2;
  return Math.min(Math.max(r, 0), 1);
}

/** An 8-bit image, H x W (grey) or H x W x 3 (RGB), C order. */
export interface ByteImage {
  shape: number[];
  data: Uint8Array;
}

/** Options of {@link colorize}, mirroring the heatmap traits. */
export interface ColorizeOptions {
  cmap: string;
  sign: SignMode;
  opacity: number;
  clipPercentile: number;
  threshold: number;
  image?: ByteImage | null;
}

function imageChannels(image: ByteImage, h: number, w: number): number {
  const [ih, iw, c = 1] = image.shape;
  const okShape = (image.shape.length === 2 || (image.shape.length === 3 && c === 3)) && ih === h && iw === w;
  if (!okShape) {
    throw new Error(`image of shape [${image.shape.join(", ")}] does not fit a ${h} x ${w} map (need H x W or H x W x 3)`);
  }
  return c;
}

/**
 * Colour sign-transformed values `v` (an H x W map, already reduced and transformed) into RGBA
 * bytes, given a plan from {@link planColors} (steps 3-6 of the protocol). Rounding is
 * half-to-even, as numpy's `np.round`, by storing into a `Uint8ClampedArray`.
 *
 * @example
 * const v = new Float32Array([1]);
 * paint(v, 1, 1, planColors(v, { cmap: "viridis", clipPercentile: 99 }), { opacity: 1, threshold: 0 });
 * // Uint8ClampedArray [253, 231, 37, 255]
 */
export function paint(
  values: Float32Array,
  h: number,
  w: number,
  plan: ColorPlan,
  opts: { opacity: number; threshold: number; image?: ByteImage | null },
): Uint8ClampedArray {
  if (values.length !== h * w) throw new Error(`${values.length} values do not fill a ${h} x ${w} map`);
  const lut = table(plan.cmap);
  const opacity = Math.min(Math.max(opts.opacity, 0), 1);
  const image = opts.image ?? null;
  const channels = image ? imageChannels(image, h, w) : 0;
  const out = new Uint8ClampedArray(values.length * 4);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const o = i * 4;
    if (!Number.isFinite(v)) {
      out[o] = NO_DATA_RGB[0];
      out[o + 1] = NO_DATA_RGB[1];
      out[o + 2] = NO_DATA_RGB[2];
      out[o + 3] = 255;
      continue;
    }
    const below = Math.abs(v) / plan.scale < opts.threshold;
    if (image) {
      const p = i * channels;
      const g = channels === 3 ? 1 : 0;
      const img0 = image.data[p];
      const img1 = image.data[p + g];
      const img2 = image.data[p + 2 * g];
      out[o + 3] = 255;
      if (below) {
        out[o] = img0;
        out[o + 1] = img1;
        out[o + 2] = img2;
        continue;
      }
      const k = lutIndex(colorPosition(v, plan.scale, plan.diverging)) * 3;
      out[o] = (1 - opacity) * img0 + opacity * lut[k];
      out[o + 1] = (1 - opacity) * img1 + opacity * lut[k + 1];
      out[o + 2] = (1 - opacity) * img2 + opacity * lut[k + 2];
    } else if (!below) {
      const k = lutIndex(colorPosition(v, plan.scale, plan.diverging)) * 3;
      out[o] = lut[k];
      out[o + 1] = lut[k + 1];
      out[o + 2] = lut[k + 2];
      out[o + 3] = opacity * 255;
    }
  }
  return out;
}

/**
 * All six colouring steps for an H x W map of raw (reduced, not yet sign-transformed)
 * values: sign transform, scale, colour map, no data, threshold, blending.
 *
 * @example
 * colorize(new Float32Array([-1, 1]), { cmap: "auto", sign: "both", opacity: 1, clipPercentile: 100, threshold: 0 });
 * // RGBA of RdBu_r's two ends: [5, 48, 97, 255, 103, 0, 31, 255]
 */
export function colorize(values: Float32Array, opts: ColorizeOptions, hw?: [number, number]): Uint8ClampedArray {
  const [h, w] = hw ?? (opts.image ? [opts.image.shape[0], opts.image.shape[1]] : [1, values.length]);
  const v = applySign(values, opts.sign);
  const plan = planColors(v, opts);
  return paint(v, h, w, plan, opts);
}
