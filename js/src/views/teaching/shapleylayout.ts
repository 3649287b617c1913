/**
 * The coalition lattice of the Shapley view, pure (no DOM): coalitions as bit masks, the Shapley
 * weights, a feature's marginal contributions and their weight groups (one per coalition size,
 * with the running sum that ends at the Shapley value), the lattice's node positions and the
 * colour scale of the values around the base value.
 *
 * Coalition `c` is a bit mask: player `i` is in it iff bit `i` of `c` is set (the order Python's
 * `all_coalitions` uses), so `values[c]` is the value of coalition `c`.
 */

/**
 * The number of players in coalition `c`.
 *
 * @example
 * popcount(0b1011); // 3
 */
export function popcount(c: number): number {
  let n = 0;
  for (let x = c >>> 0; x; x &= x - 1) n += 1;
  return n;
}

/**
 * The players of coalition `c` (ascending), of `m` players.
 *
 * @example
 * membersOf(0b101, 3); // [0, 2]
 */
export function membersOf(c: number, m: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) if ((c >> i) & 1) out.push(i);
  return out;
}

/**
 * The bit mask of the coalition of `members`.
 *
 * @example
 * maskOf([0, 2]); // 5
 */
export function maskOf(members: readonly number[]): number {
  let c = 0;
  for (const i of members) c |= 1 << i;
  return c;
}

/**
 * `n choose k`, exactly for the small numbers of the lattice.
 *
 * @example
 * choose(10, 5); // 252
 */
export function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let j = 1; j <= k; j++) r = (r * (n - k + j)) / j;
  return Math.round(r);
}

/**
 * The Shapley weight `s! (m - s - 1)! / m!` of a coalition of `s` players that a player joins,
 * which is `1 / (m * C(m - 1, s))`.
 *
 * @example
 * shapleyWeight(1, 3); // 1/6
 */
export function shapleyWeight(s: number, m: number): number {
  return 1 / (m * choose(m - 1, s));
}

/**
 * The Shapley weight as a fraction, as the view prints it.
 *
 * @example
 * weightFraction(1, 3); // "1/6"
 */
export function weightFraction(s: number, m: number): string {
  return `1/${m * choose(m - 1, s)}`;
}

/** One edge `S -> S + i` of a feature: its marginal contribution and Shapley weight. */
export interface MarginalEdge {
  /** The coalition without the feature, and with it (bit masks). */
  from: number;
  to: number;
  /** `|S|`. */
  size: number;
  /** `v(S + i) - v(S)`. */
  contribution: number;
  weight: number;
}

/**
 * Feature `i`'s `2^(m-1)` edges, by coalition mask of `S` ascending. `values` are the `2^m`
 * coalition values (any constant offset cancels in the contributions).
 *
 * @example
 * marginalEdges([0, 1, 2, 4], 2, 0); // [{from: 0, to: 1, size: 0, contribution: 1, weight: 0.5}, {from: 2, to: 3, ...}]
 */
export function marginalEdges(values: ArrayLike<number>, m: number, i: number): MarginalEdge[] {
  const bit = 1 << i;
  const out: MarginalEdge[] = [];
  for (let c = 0; c < 1 << m; c++) {
    if (c & bit) continue;
    const size = popcount(c);
    out.push({ from: c, to: c | bit, size, contribution: values[c | bit] - values[c], weight: shapleyWeight(size, m) });
  }
  return out;
}

/** The edges of one coalition size: together they weigh `1/m`. */
export interface WeightGroup {
  size: number;
  /** Coalitions of this size without the feature: `C(m - 1, size)`. */
  count: number;
  /** The weight of each. */
  weight: number;
  /** The sum of their contributions, and its mean. */
  sum: number;
  mean: number;
  /** `weight * sum`, this group's share of the Shapley value. */
  weighted: number;
  /** The weighted sum over this group and the smaller ones; the last is the Shapley value. */
  running: number;
}

/**
 * The weight groups of a feature's edges, by size 0..m-1, with the running sum.
 *
 * @example
 * weightGroups(marginalEdges(values, 3, 0), 3).at(-1)!.running; // the Shapley value of feature 0
 */
export function weightGroups(edges: readonly MarginalEdge[], m: number): WeightGroup[] {
  const sums = new Float64Array(m);
  for (const e of edges) sums[e.size] += e.contribution;
  const out: WeightGroup[] = [];
  let running = 0;
  for (let s = 0; s < m; s++) {
    const count = choose(m - 1, s);
    const weight = shapleyWeight(s, m);
    const weighted = weight * sums[s];
    running += weighted;
    out.push({ size: s, count, weight, sum: sums[s], mean: sums[s] / count, weighted, running });
  }
  return out;
}

/**
 * The coalitions of each size, size 0 first; within a size in lexicographic order of their
 * members ({0, 1} before {0, 2} before {1, 2}).
 *
 * @example
 * latticeRows(2); // [[0], [1, 2], [3]]
 */
export function latticeRows(m: number): number[][] {
  const rows: number[][] = Array.from({ length: m + 1 }, () => []);
  for (let c = 0; c < 1 << m; c++) rows[popcount(c)].push(c);
  const key = (c: number): string => membersOf(c, m).map((i) => String.fromCharCode(65 + i)).join("");
  for (const row of rows) row.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return rows;
}

/** Options of {@link latticeLayout} (CSS pixels). */
export interface LayoutOptions {
  width: number;
  /** Room on the left for the row labels, and on the right for the weights. */
  left?: number;
  right?: number;
  /** The narrowest spacing of two nodes on a line; a row wraps onto more lines below it. */
  minGap?: number;
  /** The widest spacing (small lattices do not spread over the whole width). */
  maxGap?: number;
  /** Vertical distance between lines of one row, and between rows. */
  lineGap?: number;
  rowGap?: number;
  top?: number;
}

/** Where every node goes. */
export interface LatticeLayout {
  m: number;
  /** Centre of coalition `c`'s node. */
  x: Float64Array;
  y: Float64Array;
  /** Node radius. */
  r: number;
  width: number;
  height: number;
  /** The vertical centre of each row (its first and last line), for the labels. */
  rowTop: number[];
  rowBottom: number[];
  /** Coalitions per row, in drawing order. */
  rows: number[][];
}

/**
 * Node positions: one row per coalition size (the empty coalition on top), a row wider than
 * the width allows wraps onto several lines, balanced; nodes centred on each line.
 *
 * @example
 * const lay = latticeLayout(3, { width: 600 });
 * lay.x.length; // 8
 */
export function latticeLayout(m: number, opts: LayoutOptions): LatticeLayout {
  const left = opts.left ?? 90;
  const right = opts.right ?? 70;
  const minGap = opts.minGap ?? 11;
  const maxGap = opts.maxGap ?? 120;
  const usable = Math.max(minGap, opts.width - left - right);
  const perLine = Math.max(1, Math.floor(usable / minGap));
  const rows = latticeRows(m);
  let gap = maxGap;
  for (const row of rows) {
    const lines = Math.ceil(row.length / perLine);
    const k = Math.ceil(row.length / lines);
    gap = Math.min(gap, usable / k);
  }
  const r = Math.max(3, Math.min(13, gap * 0.36));
  const lineGap = opts.lineGap ?? Math.max(2 * r + 3, 12);
  const rowGap = opts.rowGap ?? Math.max(4 * r + 18, 44);
  const n = 1 << m;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const rowTop: number[] = [];
  const rowBottom: number[] = [];
  let cy = (opts.top ?? 10) + r + 4;
  const centre = left + usable / 2;
  for (const row of rows) {
    const lines = Math.ceil(row.length / perLine);
    const k = Math.ceil(row.length / lines);
    rowTop.push(cy);
    for (let l = 0; l < lines; l++) {
      const line = row.slice(l * k, (l + 1) * k);
      line.forEach((c, j) => {
        x[c] = centre + (j - (line.length - 1) / 2) * gap;
        y[c] = cy;
      });
      if (l < lines - 1) cy += lineGap;
    }
    rowBottom.push(cy);
    cy += rowGap;
  }
  const height = cy - rowGap + r + 6;
  return { m, x, y, r, width: opts.width, height, rowTop, rowBottom, rows };
}

/**
 * The largest `|v|` of finite values (centred on the base value), else 1: the colour scale.
 *
 * @example
 * centredScale([0, -2, 1]); // 2
 */
export function centredScale(centred: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < centred.length; i++) {
    const v = Math.abs(centred[i]);
    if (Number.isFinite(v) && v > s) s = v;
  }
  return s > 0 ? s : 1;
}

/**
 * Stroke width of an edge by `|contribution|` relative to the largest: 1 to 5 px.
 *
 * @example
 * edgeWidth(0.5, 1); // 3
 */
export function edgeWidth(contribution: number, largest: number): number {
  if (!Number.isFinite(contribution) || !(largest > 0)) return 1;
  return 1 + 4 * Math.min(1, Math.abs(contribution) / largest);
}

/**
 * A coalition in words for the read-outs: `{a, b}`, or `{} (no features)`.
 *
 * @example
 * coalitionText(0b11, ["age", "bmi"]); // "{age, bmi}"
 */
export function coalitionText(c: number, names: readonly string[]): string {
  const m = membersOf(c, names.length);
  return m.length === 0 ? "{} (no features)" : `{${m.map((i) => names[i]).join(", ")}}`;
}

/**
 * A short node label for small lattices: the members' names cut to `chars` each.
 *
 * @example
 * nodeLabel(0b11, ["temperature", "b"], 4); // "temp…,b"
 */
export function nodeLabel(c: number, names: readonly string[], chars = 6): string {
  const m = membersOf(c, names.length);
  if (m.length === 0) return "{}";
  return m.map((i) => (names[i].length > chars ? `${names[i].slice(0, chars - 1)}\u2026` : names[i])).join(",");
}

/** One bar of the efficiency waterfall: a player's step from `start` to `end`, or the lumped rest. */
export interface WaterfallStep {
  /** The player (index into names), or -1 for the rest lumped together. */
  index: number;
  /** How many players this step holds (1, or the lumped rest's count). */
  count: number;
  value: number;
  start: number;
  end: number;
}

/**
 * The efficiency waterfall: from the base value, one step per player (largest |value| first,
 * at most `top` steps: beyond that the smallest are lumped into one last step with index -1); the last step ends at
 * `base + sum(values)`, the prediction when efficiency holds.
 *
 * @example
 * waterfallSteps(1, [0.5, -2, 0.25], 2);
 * // [{index: 1, count: 1, value: -2, start: 1, end: -1}, {index: -1, count: 2, value: 0.75, start: -1, end: -0.25}]
 */
export function waterfallSteps(base: number, values: ArrayLike<number>, top = Infinity): WaterfallStep[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  const size = (i: number): number => (Number.isFinite(values[i]) ? Math.abs(values[i]) : -1);
  order.sort((a, b) => size(b) - size(a) || a - b);
  const out: WaterfallStep[] = [];
  let at = base;
  const shown = order.length > top ? Math.max(0, top - 1) : order.length;
  for (const i of order.slice(0, shown)) {
    const v = values[i];
    out.push({ index: i, count: 1, value: v, start: at, end: at + v });
    at += v;
  }
  if (shown < order.length) {
    let rest = 0;
    for (const i of order.slice(shown)) rest += values[i];
    out.push({ index: -1, count: order.length - shown, value: rest, start: at, end: at + rest });
  }
  return out;
}

/**
 * A closed SVG path of a band between `lo` and `hi` along `xs` (points with a non-finite end are
 * left out; empty when fewer than one point remains).
 *
 * @example
 * bandPath([0, 1], [0, 0], [1, 1], (v) => v * 10, (v) => v); // "M0 0L10 0L10 1L0 1Z"
 */
export function bandPath(xs: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>,
  sx: (v: number) => number, sy: (v: number) => number): string {
  const keep: number[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(lo[i]) && Number.isFinite(hi[i])) keep.push(i);
  if (keep.length === 0) return "";
  const r = (v: number): number => Math.round(v * 100) / 100;
  const top = keep.map((i, k) => `${k ? "L" : "M"}${r(sx(xs[i]))} ${r(sy(lo[i]))}`).join("");
  const back = keep.slice().reverse().map((i) => `L${r(sx(xs[i]))} ${r(sy(hi[i]))}`).join("");
  return `${top}${back}Z`;
}
