/**
 * Pure layout of the feature bars: ordering by magnitude, the top-k split, and bar geometry
 * (as percentages of a track) for the plain bars and the waterfall. No DOM.
 */

/** One drawn bar: where it sits on its track, in percent of the track width. */
export interface BarGeometry {
  /** Index into the original arrays, or -1 for the "other features" row. */
  index: number;
  value: number;
  /** Left edge, 0..100. */
  left: number;
  /** Width, 0..100. */
  width: number;
  /** Running total after this bar (waterfall only; equals `value` in bars mode). */
  cumulative: number;
}

/** The whole layout of a chart. */
export interface BarLayout {
  rows: BarGeometry[];
  /** The "N other features" row, or null when every feature is shown. */
  rest: (BarGeometry & { count: number }) | null;
  /** Waterfall only: the domain of the track and the base / end positions (percent). */
  domain: [number, number];
  basePos: number;
  endPos: number;
  end: number;
}

/**
 * Indices ordered by `abs(value)` descending; ties keep their original order; NaN last.
 *
 * @example
 * orderByMagnitude([0.1, -3, 2]); // [1, 2, 0]
 */
export function orderByMagnitude(values: ArrayLike<number>): number[] {
  const key = (i: number): number => {
    const a = Math.abs(values[i]);
    return Number.isNaN(a) ? -1 : a;
  };
  return Array.from({ length: values.length }, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
}

/**
 * How many bars to show for `topK` (0 = all) among `count` features.
 *
 * @example
 * shownCount(0, 5); // 5
 * shownCount(3, 5); // 3
 */
export function shownCount(topK: number, count: number): number {
  return topK > 0 ? Math.min(Math.floor(topK), count) : count;
}

function pct(x: number, lo: number, hi: number): number {
  return hi > lo ? ((x - lo) / (hi - lo)) * 100 : 0;
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/**
 * Lay out the bars for `values` given a display `order` (from {@link orderByMagnitude}).
 * Bars mode: bars diverge from a zero axis on a track spanning `[min(0, v), max(0, v)]` of the
 * shown values (all-positive values start at the left edge); the rest row is clipped to it.
 * Waterfall mode: each bar spans the running total before and after it, starting at
 * `baseValue`, on a track spanning the smallest to the largest running total; the rest row
 * is one more step, so the chain ends at `baseValue + sum(values)`.
 *
 * @example
 * layoutBars([2, -1], [0, 1], 0, "bars", null).rows.map((r) => [r.left, r.width]); // [[33.3.., 66.6..], [0, 33.3..]]
 * layoutBars([2, -1], [0, 1], 0, "waterfall", 1).rows.map((r) => [r.left, r.width]); // [[0, 100], [50, 50]]
 */
export function layoutBars(
  values: ArrayLike<number>,
  order: readonly number[],
  topK: number,
  mode: "bars" | "waterfall",
  baseValue: number | null,
): BarLayout {
  const k = shownCount(topK, order.length);
  const shownIdx = order.slice(0, k);
  const restIdx = order.slice(k);
  const restValue = restIdx.reduce((s, i) => s + finiteOr0(values[i]), 0);
  if (mode !== "waterfall") {
    // Signed bars diverge from a zero axis: the track spans [min(0, v), max(0, v)] over the
    // shown values, so all-positive values start at the left edge and mixed signs share an axis.
    let lo = 0;
    let hi = 0;
    for (const i of shownIdx) {
      const v = finiteOr0(values[i]);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const clamp = (x: number): number => Math.min(Math.max(x, 0), 100);
    const geom = (index: number, v: number): BarGeometry => {
      const f = finiteOr0(v);
      const left = clamp(pct(Math.min(0, f), lo, hi));
      return { index, value: v, left, width: clamp(pct(Math.max(0, f), lo, hi)) - left, cumulative: v };
    };
    const rows = shownIdx.map((i) => geom(i, values[i]));
    const rest = restIdx.length ? { ...geom(-1, restValue), count: restIdx.length } : null;
    const zero = pct(0, lo, hi);
    return { rows, rest, domain: [lo, hi], basePos: zero, endPos: zero, end: restValue };
  }
  const base = finiteOr0(baseValue ?? 0);
  const steps: Array<{ index: number; value: number; from: number; to: number }> = [];
  let total = base;
  for (const i of shownIdx) {
    const v = finiteOr0(values[i]);
    steps.push({ index: i, value: values[i], from: total, to: total + v });
    total += v;
  }
  if (restIdx.length) {
    steps.push({ index: -1, value: restValue, from: total, to: total + restValue });
    total += restValue;
  }
  let lo = base;
  let hi = base;
  for (const s of steps) {
    lo = Math.min(lo, s.to);
    hi = Math.max(hi, s.to);
  }
  const geom = (s: { index: number; value: number; from: number; to: number }): BarGeometry => {
    const left = pct(Math.min(s.from, s.to), lo, hi);
    return { index: s.index, value: s.value, left, width: pct(Math.max(s.from, s.to), lo, hi) - left, cumulative: s.to };
  };
  const rows = steps.filter((s) => s.index >= 0).map(geom);
  const restStep = steps.find((s) => s.index < 0);
  return {
    rows,
    rest: restStep ? { ...geom(restStep), count: restIdx.length } : null,
    domain: [lo, hi],
    basePos: pct(base, lo, hi),
    endPos: pct(total, lo, hi),
    end: total,
  };
}
