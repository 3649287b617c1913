/**
 * Error bars on the feature bars (pure, no DOM): a whisker of ±{@link WHISKER_SE} standard errors
 * around the end of each bar, and the bar layout's track widened so that no whisker is cut at
 * its edge. The standard errors come from the `errors` trait (an explanation's
 * `diagnostics["std_error"]`: KernelSHAP's sampling error, LIME's or SmoothGrad's spread over seeds).
 */
import type { BarGeometry, BarLayout } from "../../core/barlayout";

/** Whiskers span this many standard errors either side of the value: about a 95% interval. */
export const WHISKER_SE = 2;

/** One whisker, in percent of the (widened) track, and the interval it stands for. */
export interface Whisker {
  index: number;
  left: number;
  width: number;
  /** The interval's ends, in value units (the bar's end ± WHISKER_SE standard errors). */
  lo: number;
  hi: number;
  /** The standard error itself. */
  error: number;
}

/** A layout with its whiskers (by feature index; features without a finite positive error have none). */
export interface WhiskerLayout {
  layout: BarLayout;
  whiskers: Map<number, Whisker>;
}

/** The caption under the summary when whiskers are drawn. */
export function whiskerNote(): string {
  return `whiskers: ±${WHISKER_SE} standard errors (about 95%)`;
}

/**
 * The tooltip's words for a value with standard error `error` (empty without one).
 *
 * @example
 * errorText(0.25, 0.02, (x) => String(x)); // " ± 0.02 (standard error; whisker ±2 SE: 0.21 to 0.29)"
 */
export function errorText(value: number, error: number | undefined, format: (x: number) => string): string {
  if (error === undefined || !Number.isFinite(error) || !(error > 0) || !Number.isFinite(value)) return "";
  const lo = value - WHISKER_SE * error;
  const hi = value + WHISKER_SE * error;
  return ` ± ${format(error)} (standard error; whisker ±${WHISKER_SE} SE: ${format(lo)} to ${format(hi)})`;
}

/**
 * Add whiskers to `layout` (from `layoutBars`): centred on each shown bar's end (the value in
 * bars mode, the running total after the step in waterfall mode), ±WHISKER_SE x `errors[i]`;
 * the track's domain grows to hold every whisker and all geometry is re-expressed on it.
 * `errors` null (or all without a positive finite error) gives the layout unchanged.
 *
 * @example
 * const base = layoutBars([2, -1], [0, 1], 0, "bars", null); // track [-1, 2]
 * const { layout, whiskers } = withWhiskers(base, [2, -1], [0.5, 0], "bars"); // track [-1, 3]
 * whiskers.get(0); // { left: 50, width: 50, lo: 1, hi: 3, ... }
 */
export function withWhiskers(
  layout: BarLayout,
  values: ArrayLike<number>,
  errors: ArrayLike<number> | null,
  mode: "bars" | "waterfall",
): WhiskerLayout {
  const spans: Array<{ index: number; lo: number; hi: number; error: number }> = [];
  if (errors && errors.length === values.length) {
    for (const row of layout.rows) {
      const e = errors[row.index];
      const centre = mode === "waterfall" ? row.cumulative : values[row.index];
      if (!Number.isFinite(e) || !(e > 0) || !Number.isFinite(centre)) continue;
      spans.push({ index: row.index, lo: centre - WHISKER_SE * e, hi: centre + WHISKER_SE * e, error: e });
    }
  }
  const whiskers = new Map<number, Whisker>();
  if (!spans.length) return { layout, whiskers };
  const [lo, hi] = layout.domain;
  let lo2 = lo;
  let hi2 = hi;
  for (const s of spans) {
    lo2 = Math.min(lo2, s.lo);
    hi2 = Math.max(hi2, s.hi);
  }
  const toValue = (p: number): number => (hi > lo ? lo + (p / 100) * (hi - lo) : lo);
  const toPct = (x: number): number => (hi2 > lo2 ? ((x - lo2) / (hi2 - lo2)) * 100 : 0);
  const remap = (p: number): number => toPct(toValue(p));
  const geom = <G extends BarGeometry>(g: G): G => {
    const left = remap(g.left);
    return { ...g, left, width: remap(g.left + g.width) - left };
  };
  for (const s of spans) {
    const left = toPct(s.lo);
    whiskers.set(s.index, { index: s.index, left, width: toPct(s.hi) - left, lo: s.lo, hi: s.hi, error: s.error });
  }
  return {
    layout: {
      ...layout,
      rows: layout.rows.map(geom),
      rest: layout.rest ? geom(layout.rest) : null,
      domain: [lo2, hi2],
      basePos: remap(layout.basePos),
      endPos: remap(layout.endPos),
    },
    whiskers,
  };
}
