/**
 * Pure arithmetic for the heatmap: channel reduction, sign transforms, the colour scale and
 * the six colouring steps of docs/PROTOCOL.md ("Heatmap", "Colouring"). No DOM.
 */
import { DIVERGING, table } from "./colormaps";

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
  if (!REDUCE_RULES.includes(rule)) throw new Error(`unknown reduce rule ${String(rule)}`);
  const [c, h, w] = shape;
  const n = h * w;
  // Channel by channel into float64 accumulators: the same sums, in the same order, as a
  // per-cell loop. NaN needs no test: every rule propagates it (Math.max(NaN, x) is NaN).
  const acc = new Float64Array(n);
  for (let k = 0; k < c; k++) {
    const plane = data.subarray(k * n, (k + 1) * n);
    if (rule === "sum") for (let i = 0; i < n; i++) acc[i] += plane[i];
    else if (rule === "abs_sum") for (let i = 0; i < n; i++) acc[i] += Math.abs(plane[i]);
    else if (rule === "max_abs") for (let i = 0; i < n; i++) acc[i] = Math.max(acc[i], Math.abs(plane[i]));
    else for (let i = 0; i < n; i++) acc[i] += plane[i] * plane[i];
  }
  if (rule === "l2") for (let i = 0; i < n; i++) acc[i] = Math.sqrt(acc[i]);
  return Float32Array.from(acc);
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
  const n = values.length;
  if (sign === "both") out.set(values);
  else if (sign === "positive") for (let i = 0; i < n; i++) out[i] = values[i] < 0 ? 0 : values[i];
  else if (sign === "negative") for (let i = 0; i < n; i++) out[i] = values[i] > 0 ? 0 : values[i];
  else if (sign === "absolute") for (let i = 0; i < n; i++) out[i] = Math.abs(values[i]);
  else throw new Error(`unknown sign mode ${String(sign)}`);
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
  const finite = scratch(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x === 0) finite[n++] = x; // finite: NaN and +-inf give NaN
  }
  return percentileInPlace(finite, n, p);
}

let scratchBuffer = new Float64Array(0);

/** A reusable float64 buffer of at least `n` values (contents undefined). */
function scratch(n: number): Float64Array {
  if (scratchBuffer.length < n) scratchBuffer = new Float64Array(n);
  return scratchBuffer;
}

/**
 * Rearrange `a[left..right]` so that `a[k]` holds the value a sort would put there, everything
 * before it is <= and everything after it >= (Hoare's quickselect, median-of-three pivot).
 */
function select(a: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    const mid = (left + right) >> 1;
    const x = a[left];
    const y = a[mid];
    const z = a[right];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * numpy's linear-interpolation percentile of the first `n` values of `a` (all finite), which
 * it reorders: two order statistics by selection instead of a full sort.
 */
function percentileInPlace(a: Float64Array, n: number, p: number): number {
  if (n === 0) return NaN;
  const q = Math.min(Math.max(p, 0), 100) / 100;
  const index = (n - 1) * q;
  const lo = Math.floor(index);
  const hi = Math.min(lo + 1, n - 1);
  const t = index - lo;
  select(a, lo, 0, n - 1);
  const x = a[lo];
  let y = x;
  if (hi > lo) {
    // After selection everything past `lo` is >= a[lo]; the next order statistic is their minimum.
    y = a[hi];
    for (let i = hi + 1; i < n; i++) if (a[i] < y) y = a[i];
  }
  const diff = y - x;
  // numpy's _lerp: a + diff * t, or b - diff * (1 - t) for t >= 0.5 (same rounding as numpy).
  return t >= 0.5 ? y - diff * (1 - t) : x + diff * t;
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
  return scanValues(values, clipPercentile).scale;
}

/** One pass over `values` for the scale (step 2), signedness (step 3) and the "no data" count. */
function scanValues(values: Float32Array, clipPercentile: number): { scale: number; signed: boolean; noData: number } {
  const abs = scratch(values.length);
  let n = 0;
  let peak = 0;
  let signed = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) continue; // NaN or +-inf
    if (v < 0) signed = true;
    const x = Math.abs(v);
    abs[n++] = x;
    if (x > peak) peak = x;
  }
  const s = percentileInPlace(abs, n, clipPercentile);
  const scale = s > 0 ? s : peak > 0 ? peak : 1;
  return { scale, signed, noData: values.length - n };
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
  const { scale, signed, noData } = scanValues(values, opts.clipPercentile);
  const cmap = resolveCmap(opts.cmap, signed);
  table(cmap); // throws early for an unknown name
  return { scale, cmap, diverging: isDiverging(cmap), signed, noData };
}

/**
 * The same plan with another colour map (`"auto"` resolved by `plan.signed`), so a colour map
 * change reuses the scale.
 *
 * @example
 * withCmap(planColors(new Float32Array([-1, 2]), { cmap: "auto", clipPercentile: 100 }), "magma").diverging; // false
 */
export function withCmap(plan: ColorPlan, cmap: string): ColorPlan {
  const name = resolveCmap(cmap, plan.signed);
  table(name);
  return { ...plan, cmap: name, diverging: isDiverging(name) };
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

/** Options of {@link paint}. */
export interface PaintOptions {
  opacity: number;
  threshold: number;
  image?: ByteImage | null;
  /** RGBA buffer to fill (e.g. a reused `ImageData.data`); a new one when absent or of another size. */
  out?: Uint8ClampedArray;
}

/**
 * Colour sign-transformed values `v` (an H x W map, already reduced and transformed) into RGBA
 * bytes, given a plan from {@link planColors} (steps 3-6 of the protocol). Rounding is
 * half-to-even, as numpy's `np.round`, by storing into a `Uint8ClampedArray`. Every byte of the
 * result is written, so `opts.out` may hold an earlier drawing.
 *
 * The per-cell arithmetic is {@link colorPosition} and colormaps.ts' `lutIndex` written out inline, with
 * `opacity * LUT` precomputed per table entry; the values are the same.
 *
 * @example
 * const v = new Float32Array([1]);
 * paint(v, 1, 1, planColors(v, { cmap: "viridis", clipPercentile: 99 }), { opacity: 1, threshold: 0 });
 * // Uint8ClampedArray [253, 231, 37, 255]
 */
export function paint(values: Float32Array, h: number, w: number, plan: ColorPlan, opts: PaintOptions): Uint8ClampedArray {
  const n = values.length;
  if (n !== h * w) throw new Error(`${n} values do not fill a ${h} x ${w} map`);
  const lut = table(plan.cmap);
  const opacity = Math.min(Math.max(opts.opacity, 0), 1);
  const image = opts.image ?? null;
  const channels = image ? imageChannels(image, h, w) : 0;
  const out = opts.out && opts.out.length === n * 4 ? opts.out : new Uint8ClampedArray(n * 4);
  const { scale, diverging } = plan;
  const threshold = opts.threshold;
  const low = diverging ? -1 : 0;
  const [g0, g1, g2] = NO_DATA_RGB;
  // With an image the table holds opacity * colour (blended below), without it the colour.
  const tint = new Float64Array(768);
  for (let k = 0; k < 768; k++) tint[k] = image ? opacity * lut[k] : lut[k];
  const keep = 1 - opacity;
  const alpha = image ? 255 : opacity * 255;
  const img = image ? image.data : null;
  const step = channels === 3 ? 1 : 0;
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const v = values[i];
    if (v - v !== 0) {
      // Not finite: "no data", grey and opaque.
      out[o] = g0;
      out[o + 1] = g1;
      out[o + 2] = g2;
      out[o + 3] = 255;
      continue;
    }
    const r = v / scale;
    const below = Math.abs(r) < threshold; // == abs(v) / scale, as scale > 0
    if (img === null) {
      if (below) {
        out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
        continue;
      }
    } else {
      const p = i * channels;
      if (below) {
        out[o] = img[p];
        out[o + 1] = img[p + step];
        out[o + 2] = img[p + 2 * step];
        out[o + 3] = 255;
        continue;
      }
    }
    const c = r < low ? low : r > 1 ? 1 : r;
    const k = Math.round((diverging ? (c + 1) / 2 : c) * 255) * 3;
    if (img === null) {
      out[o] = tint[k];
      out[o + 1] = tint[k + 1];
      out[o + 2] = tint[k + 2];
    } else {
      const p = i * channels;
      out[o] = keep * img[p] + tint[k];
      out[o + 1] = keep * img[p + step] + tint[k + 1];
      out[o + 2] = keep * img[p + 2 * step] + tint[k + 2];
    }
    out[o + 3] = alpha;
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
