/**
 * Pure helpers of the Integrated Gradients path view (`igpath.ts`): which frame an alpha shows,
 * the colour scales of the frames (one per frame, or one across the path), the curves and the
 * rule's quadrature ticks in chart coordinates, the log-log geometry of the completeness chart,
 * and fixed-scale signed bars for tables. No DOM.
 */
import { percentile } from "../../core/scales";

/** Percentile of |v| a map's colour scale saturates at (the heatmap's default clip). */
export const CLIP_PERCENTILE = 99;

/**
 * The index of the grid alpha nearest to `alpha` (the first one on a tie); 0 for an empty grid.
 *
 * @example
 * nearestIndex([0, 0.25, 0.5, 0.75, 1], 0.3); // 1
 */
export function nearestIndex(alphas: ArrayLike<number>, alpha: number): number {
  let best = 0;
  let gap = Infinity;
  for (let i = 0; i < alphas.length; i++) {
    const d = Math.abs(alphas[i] - alpha);
    if (d < gap) {
      gap = d;
      best = i;
    }
  }
  return best;
}

/**
 * The colour scale of each of the `frames` maps of `size` values stored one after another in
 * `data`: the `clip` percentile of |v| over its finite values, or its largest |v| when that is 0,
 * or 1 when the map is all 0 (as the heatmap's scale, docs/PROTOCOL.md).
 *
 * @example
 * frameScales(new Float32Array([1, -2, 0, 0]), 2, 2, 100); // Float64Array [2, 1]
 */
export function frameScales(data: Float32Array, frames: number, size: number, clip = CLIP_PERCENTILE): Float64Array {
  const out = new Float64Array(frames);
  const abs = new Float32Array(size);
  for (let g = 0; g < frames; g++) {
    let peak = 0;
    for (let i = 0; i < size; i++) {
      const a = Math.abs(data[g * size + i]);
      abs[i] = a;
      if (a > peak && Number.isFinite(a)) peak = a;
    }
    const s = percentile(abs, clip);
    out[g] = s > 0 ? s : peak > 0 ? peak : 1;
  }
  return out;
}

/**
 * One scale for every frame: the largest of the frames' scales (so no frame saturates more than
 * its own clip percentile allows, and the frames compare by colour).
 *
 * @example
 * sharedScale(new Float64Array([0.5, 2, 1])); // 2
 */
export function sharedScale(scales: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < scales.length; i++) if (scales[i] > s) s = scales[i];
  return s > 0 ? s : 1;
}

/**
 * Points of the output curve: the grid's and the rule's points merged and sorted by alpha (the
 * model output was computed at both), non-finite outputs dropped.
 *
 * @example
 * mergeCurve([0, 1], [1, 3], [0.5], [2]); // { x: [0, 0.5, 1], y: [1, 2, 3] }
 */
export function mergeCurve(
  alphas: ArrayLike<number>,
  outputs: ArrayLike<number>,
  points: ArrayLike<number>,
  pointOutputs: ArrayLike<number>,
): { x: number[]; y: number[] } {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < alphas.length; i++) pairs.push([alphas[i], outputs[i]]);
  for (let i = 0; i < points.length && i < pointOutputs.length; i++) pairs.push([points[i], pointOutputs[i]]);
  const kept = pairs.filter(([a, y]) => Number.isFinite(a) && Number.isFinite(y)).sort((p, q) => p[0] - q[0]);
  return { x: kept.map((p) => p[0]), y: kept.map((p) => p[1]) };
}

/** A linear map from a domain to a range. */
export type Scale = (v: number) => number;

/**
 * A linear scale from `[d0, d1]` to `[r0, r1]` (a zero-width domain maps to the range's middle).
 *
 * @example
 * linear([0, 1], [10, 110])(0.25); // 35
 */
export function linear([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const span = d1 - d0;
  if (!(Math.abs(span) > 0)) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/**
 * The extent of the finite `values` padded by `pad` of its width on both sides (a single value
 * gets ±0.5, or ±|v|/10 when larger).
 *
 * @example
 * paddedExtent([1, 3], 0.05); // [0.9, 3.1]
 */
export function paddedExtent(values: ArrayLike<number>, pad = 0.05): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  if (hi === lo) {
    const d = Math.max(0.5, Math.abs(lo) / 10);
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

/**
 * An SVG path through the points (`M x y L x y ...`), coordinates rounded to 0.01 px; points
 * with a non-finite coordinate break the line.
 *
 * @example
 * linePath([0, 1], [0, 2], (v) => v * 10, (v) => 100 - v); // "M0 100L10 98"
 */
export function linePath(xs: ArrayLike<number>, ys: ArrayLike<number>, sx: Scale, sy: Scale): string {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const x = sx(xs[i]);
    const y = sy(ys[i]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${round2(x)} ${round2(y)}`;
    pen = true;
  }
  return d;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** One quadrature tick: where it stands (alpha), its weight and its height in pixels. */
export interface Tick {
  alpha: number;
  weight: number;
  height: number;
}

/**
 * The rule's points as ticks whose heights are proportional to their weights, the heaviest
 * `maxHeight` pixels (at least 1 pixel each).
 *
 * @example
 * quadratureTicks([0.25, 0.75], [0.5, 0.25], 10).map((t) => t.height); // [10, 5]
 */
export function quadratureTicks(points: ArrayLike<number>, weights: ArrayLike<number>, maxHeight: number): Tick[] {
  let top = 0;
  for (let i = 0; i < weights.length; i++) if (Math.abs(weights[i]) > top) top = Math.abs(weights[i]);
  const out: Tick[] = [];
  for (let i = 0; i < points.length; i++) {
    const w = weights[i] ?? 0;
    out.push({ alpha: points[i], weight: w, height: top > 0 ? Math.max(1, (Math.abs(w) / top) * maxHeight) : 1 });
  }
  return out;
}

/**
 * Powers of ten covering `[lo, hi]` (both > 0): the decades a log axis labels.
 *
 * @example
 * decades(0.003, 2); // [0.001, 0.01, 0.1, 1, 10]
 */
export function decades(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const out: number[] = [];
  for (let k = a; k <= b; k++) out.push(Number((10 ** k).toPrecision(12)));
  return out;
}

/**
 * The y domain of the log-log completeness chart: from the smallest positive error (or `floor`,
 * whichever is larger) to the largest, widened to whole decades. Errors of 0 are drawn at the
 * bottom (they are below what float arithmetic resolves).
 *
 * @example
 * logDomain([0.5, 0.002, 0], 1e-12); // [0.001, 1]
 */
export function logDomain(errors: ArrayLike<number>, floor: number): [number, number] {
  let lo = Infinity;
  let hi = 0;
  for (let i = 0; i < errors.length; i++) {
    const e = errors[i];
    if (!(e > 0) || !Number.isFinite(e)) continue;
    if (e < lo) lo = e;
    if (e > hi) hi = e;
  }
  if (!(hi > 0)) return [floor, floor * 10];
  lo = Math.max(lo, floor);
  const d = decades(lo, Math.max(hi, lo * 10));
  return [d[0], d[d.length - 1]];
}

/**
 * A log10 scale from `[d0, d1]` (> 0) to `[r0, r1]`; values at or below 0 go to `d0`.
 *
 * @example
 * logScale([1, 100], [0, 2])(10); // 1
 */
export function logScale([d0, d1]: [number, number], [r0, r1]: [number, number]): Scale {
  const l0 = Math.log10(d0);
  const inner = linear([l0, Math.log10(d1)], [r0, r1]);
  return (v) => inner(v > 0 ? Math.max(Math.log10(v), l0) : l0);
}

/** A signed bar on a fixed scale, in percent of its track (zero in the middle). */
export interface Span {
  left: number;
  width: number;
}

/**
 * The bar of `value` on a track from `-scale` to `scale` with zero at 50%; clipped at the ends.
 *
 * @example
 * signedSpan(-0.5, 1); // { left: 25, width: 25 }
 * signedSpan(3, 1);    // { left: 50, width: 50 }
 */
export function signedSpan(value: number, scale: number): Span {
  if (!Number.isFinite(value) || !(scale > 0)) return { left: 50, width: 0 };
  const r = Math.min(Math.max(value / scale, -1), 1) * 50;
  return r >= 0 ? { left: 50, width: r } : { left: 50 + r, width: -r };
}

/**
 * The largest |value| over all frames of the given features (`data` is frames x `f`), for a
 * table's bars on one scale across the path; 1 when all are 0.
 *
 * @example
 * tableScale(new Float32Array([1, -4, 2, 0]), 2, [0]); // 2
 */
export function tableScale(data: Float32Array, f: number, features: readonly number[]): number {
  let s = 0;
  const frames = f > 0 ? Math.floor(data.length / f) : 0;
  for (let g = 0; g < frames; g++) {
    for (const j of features) {
      const a = Math.abs(data[g * f + j]);
      if (a > s && Number.isFinite(a)) s = a;
    }
  }
  return s > 0 ? s : 1;
}

/**
 * Round tick values covering `[lo, hi]`: the largest step of 1, 2 or 5 times a power of ten that
 * gives at least `target` intervals, only the ticks inside the interval.
 *
 * @example
 * niceTicks(0, 1, 5);      // [0, 0.2, 0.4, 0.6, 0.8, 1]
 * niceTicks(-0.3, 2.1, 4); // [0, 0.5, 1, 1.5, 2]
 */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return Number.isFinite(lo) ? [lo] : [];
  const raw = (hi - lo) / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [5, 2, 1].map((m) => m * p).find((s) => s <= raw * (1 + 1e-9)) ?? p;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/**
 * Exponent notation for a log axis label: `1e-3`, `0.01`, `0.1`, `1`, `10`, `1e+2` ...
 *
 * @example
 * decadeLabel(0.001); // "1e-3"
 * decadeLabel(0.1);   // "0.1"
 */
export function decadeLabel(v: number): string {
  const k = Math.round(Math.log10(v));
  if (k >= -2 && k <= 1) return String(Number((10 ** k).toPrecision(3)));
  return `1e${k > 0 ? "+" : ""}${k}`;
}

/**
 * Frame `g` of 8-bit input frames (`frames` x h x w, grey, or x 3, RGB, C order) as opaque RGBA
 * bytes, written into `out` (h * w * 4).
 *
 * @example
 * frameRGBA(new Uint8Array([10, 20]), 1, 1, 1, 1, new Uint8ClampedArray(4)); // [20, 20, 20, 255]: frame 1 of two 1 x 1 grey frames
 */
export function frameRGBA(bytes: Uint8Array, g: number, h: number, w: number, channels: number, out: Uint8ClampedArray): Uint8ClampedArray {
  const n = h * w;
  const start = g * n * channels;
  if (start + n * channels > bytes.length) throw new Error(`frame ${g} lies beyond the ${bytes.length} bytes of the frames`);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const p = start + i * channels;
    const r = bytes[p];
    out[o] = r;
    out[o + 1] = channels === 3 ? bytes[p + 1] : r;
    out[o + 2] = channels === 3 ? bytes[p + 2] : r;
    out[o + 3] = 255;
  }
  return out;
}
