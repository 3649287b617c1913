/**
 * Pure helpers of the Grad-CAM-through-the-layers view (`layermaps.ts`): where each stage's map
 * lies in the flat array of layer-resolution maps, the colour plan of a stage (each stage on its
 * own max-normalised scale), the words for a stage's resolution, and the geometry of the chart of
 * one number per stage. No DOM.
 */
import { linear, niceTicks, paddedExtent, type Scale } from "./igpathlayout";
import type { ColorPlan } from "../../core/scales";

/**
 * Where each stage's map starts in the concatenated layer-resolution maps (`shapes`: [h, w] per
 * stage), and the total length; throws when `length` (the array's) does not match.
 *
 * @example
 * camOffsets([[2, 2], [1, 3]], 7); // [0, 4, 7]
 */
export function camOffsets(shapes: readonly (readonly number[])[], length: number): number[] {
  const out = [0];
  for (const s of shapes) {
    if (s.length !== 2 || !(s[0] > 0) || !(s[1] > 0)) throw new Error(`bad stage map shape [${s.join(", ")}]`);
    out.push(out[out.length - 1] + s[0] * s[1]);
  }
  if (out[out.length - 1] !== length) {
    throw new Error(`the stage maps hold ${length} values, their shapes need ${out[out.length - 1]}`);
  }
  return out;
}

/**
 * The colour plan of one stage's map, whose values are already divided by the stage's peak:
 * a fixed scale of 1; `RdBu_r` (diverging) when `signed` (some stage has a negative value:
 * Grad-CAM without ReLU), else `viridis`; `noData` counts the non-finite cells of `values`.
 *
 * @example
 * stagePlan(new Float32Array([0, 1, NaN]), false); // { scale: 1, cmap: "viridis", diverging: false, signed: false, noData: 1 }
 */
export function stagePlan(values: Float32Array, signed: boolean): ColorPlan {
  let noData = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) noData++;
  return { scale: 1, cmap: signed ? "RdBu_r" : "viridis", diverging: signed, signed, noData };
}

/**
 * True when every value is 0 (an empty map: Grad-CAM's ReLU of negative evidence, or a zero gradient).
 *
 * @example
 * allZero(new Float32Array([0, 0])); // true
 */
export function allZero(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

/**
 * True when any finite value is negative.
 *
 * @example
 * anyNegative(new Float32Array([0, 2, -0.5])); // true
 */
export function anyNegative(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] < 0) return true;
  return false;
}

function pixels(n: number, cells: number): string {
  const p = n / cells;
  return Number.isInteger(p) ? String(p) : p.toFixed(1);
}

/**
 * A stage's resolution in words: its cells, and how many input pixels each covers.
 *
 * @example
 * resolutionText([4, 4], [32, 32]); // "4 x 4 cells for the 32 x 32 input: each covers 8 x 8 pixels"
 * resolutionText([1, 1], [32, 32]); // "1 x 1 cell for the 32 x 32 input: it covers all of it"
 * resolutionText([8, 8], [8, 8]);   // "8 x 8 cells for the 8 x 8 input: one cell per pixel"
 */
export function resolutionText(res: readonly number[], input: readonly number[]): string {
  const [h, w] = res;
  const [H, W] = input;
  if (!(h > 0 && w > 0 && H > 0 && W > 0)) return "";
  if (h * w === 1) return `1 x 1 cell for the ${H} x ${W} input: it covers all of it`;
  if (h === H && w === W) return `${h} x ${w} cells for the ${H} x ${W} input: one cell per pixel`;
  return `${h} x ${w} cells for the ${H} x ${W} input: each covers ${pixels(H, h)} x ${pixels(W, w)} pixels`;
}

/** The chart's size and margins (CSS pixels). */
export const CHART = { w: 340, h: 170, left: 46, right: 12, top: 12, plot: 112 };

/** One stage's point on the chart. */
export interface ChartPoint {
  index: number;
  value: number;
  x: number;
  /** NaN for a non-finite value (no point drawn). */
  y: number;
}

/** The chart's geometry. */
export interface ChartLayout {
  points: ChartPoint[];
  sx: Scale;
  sy: Scale;
  /** Tick values of the y axis. */
  ticks: number[];
  /** The y of the floor line (NaN: none). */
  floorY: number;
}

/**
 * Where each stage's number goes: stages evenly spaced left to right, the y axis over the finite
 * values and the floor (padded, not below 0 when they are all >= 0), ticks at round numbers.
 *
 * @example
 * const l = chartLayout([0.2, 0.4], NaN);
 * l.points.map((p) => p.index); // [0, 1]
 * l.points[0].y > l.points[1].y; // true: a larger value is drawn higher
 */
export function chartLayout(values: ArrayLike<number>, floor: number): ChartLayout {
  const { w, left, right, top, plot } = CHART;
  const n = values.length;
  const pad = n > 1 ? 18 : (w - left - right) / 2;
  const sx = n > 1 ? linear([0, n - 1], [left + pad, w - right - pad]) : () => left + pad;
  const all = Array.from(values);
  if (Number.isFinite(floor)) all.push(floor);
  const [lo, y1] = paddedExtent(all, 0.08);
  const y0 = all.every((v) => !Number.isFinite(v) || v >= 0) ? Math.max(lo, 0) : lo; // both numbers are >= 0
  const sy = linear([y0, y1], [top + plot, top]);
  const points: ChartPoint[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    points.push({ index: i, value: v, x: sx(i), y: Number.isFinite(v) ? sy(v) : NaN });
  }
  return { points, sx, sy, ticks: niceTicks(y0, y1, 4), floorY: Number.isFinite(floor) ? sy(floor) : NaN };
}

/**
 * The SVG path through the finite points, in stage order (a non-finite value breaks the line).
 *
 * @example
 * pointsPath([{ index: 0, value: 1, x: 0, y: 10 }, { index: 1, value: 2, x: 5, y: 4 }]); // "M0 10L5 4"
 */
export function pointsPath(points: readonly ChartPoint[]): string {
  let d = "";
  let pen = false;
  for (const p of points) {
    if (!Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${Math.round(p.x * 100) / 100} ${Math.round(p.y * 100) / 100}`;
    pen = true;
  }
  return d;
}

/**
 * The stage index nearest to `value`, clamped to `0 .. count - 1` (0 for no stages).
 *
 * @example
 * clampStage(7.4, 4); // 3
 * clampStage(-1, 4);  // 0
 */
export function clampStage(value: number, count: number): number {
  if (!(count > 0) || !Number.isFinite(value)) return 0;
  return Math.min(Math.max(Math.round(value), 0), count - 1);
}

/** What each number of the chart means, in words. */
export const METRIC_TEXT: Readonly<Record<string, { label: string; caption: string }>> = {
  deletion: {
    label: "deletion AUC",
    caption: "Deletion AUC per stage: the class probability as the map's most relevant patches are removed first; " +
      "LOWER is better (the map points at what the decision rests on). Dashed: random order.",
  },
  area: {
    label: "area covered",
    caption: "Share of the image each map covers ((sum m)^2 / (N sum m^2) of its positive part): 1 = the whole " +
      "image, nothing localised; small = concentrated.",
  },
};
