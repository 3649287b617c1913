/**
 * Beeswarm layout, pure and allocation-light: feature order, the shared symmetric axis, the
 * colour position of every point and the deterministic density stacking, all in typed arrays
 * (no per-point objects), plus a uniform grid for nearest-point lookup.
 *
 * Point `p = r * n + i` is sample `i` in shown row `r`.
 */

/** Blue (low feature value) and red (high) ends of the beeswarm colour ramp, RGB. */
export const LOW_RGB: readonly [number, number, number] = [0, 139, 251];
export const HIGH_RGB: readonly [number, number, number] = [255, 0, 82];
/** Colour of points whose feature value is NaN. */
export const NAN_RGB: readonly [number, number, number] = [128, 128, 128];

/** Per-feature mean and max of |value| over the finite entries (mean -1 when none). */
export interface FeatureStats {
  meanAbs: Float64Array;
  maxAbs: Float64Array;
}

/**
 * One pass over the N x F values (row-major): mean |value| and max |value| per feature,
 * skipping non-finite entries.
 *
 * @example
 * featureStats(new Float32Array([1, -3, NaN, 3]), 2, 2).meanAbs; // Float64Array [1, 3]
 */
export function featureStats(values: Float32Array, n: number, f: number): FeatureStats {
  const sum = new Float64Array(f);
  const count = new Float64Array(f);
  const maxAbs = new Float64Array(f);
  for (let i = 0, k = 0; i < n; i++) {
    for (let j = 0; j < f; j++, k++) {
      const v = values[k];
      const a = v < 0 ? -v : v;
      if (a < Infinity) {
        sum[j] += a;
        count[j] += 1;
        if (a > maxAbs[j]) maxAbs[j] = a;
      }
    }
  }
  const meanAbs = new Float64Array(f);
  for (let j = 0; j < f; j++) meanAbs[j] = count[j] > 0 ? sum[j] / count[j] : -1;
  return { meanAbs, maxAbs };
}

/**
 * Features ordered by mean |attribution| (non-finite values skipped), largest first, ties by
 * index; the first `maxFeatures` (0 or less = all).
 *
 * @example
 * orderFeatures(featureStats(new Float32Array([1, -3, 1, 3]), 2, 2), 0); // [1, 0]
 */
export function orderFeatures(stats: FeatureStats, maxFeatures: number): number[] {
  const mean = stats.meanAbs;
  const order = Array.from({ length: mean.length }, (_, j) => j).sort((a, b) => mean[b] - mean[a] || a - b);
  return maxFeatures > 0 ? order.slice(0, maxFeatures) : order;
}

/**
 * {@link orderFeatures} straight from the N x F values.
 *
 * @example
 * featureOrder(new Float32Array([1, -3, 1, 3]), 2, 2, 0); // [1, 0]
 */
export function featureOrder(values: Float32Array, n: number, f: number, maxFeatures: number): number[] {
  return orderFeatures(featureStats(values, n, f), maxFeatures);
}

/**
 * Half-width of the symmetric x axis: max |finite value| over the shown features (1 when 0).
 *
 * @example
 * extentOf(featureStats(new Float32Array([1, -3, NaN, 2]), 2, 2), [0]); // 1
 */
export function extentOf(stats: FeatureStats, order: readonly number[]): number {
  let m = 0;
  for (const j of order) if (stats.maxAbs[j] > m) m = stats.maxAbs[j];
  return m > 0 ? m : 1;
}

/**
 * {@link extentOf} straight from the N x F values.
 *
 * @example
 * axisExtent(new Float32Array([1, -3, NaN, 2]), 2, 2, [0]); // 1 (feature 0 holds 1 and NaN)
 */
export function axisExtent(values: Float32Array, n: number, f: number, order: readonly number[]): number {
  return extentOf(featureStats(values, n, f), order);
}

/**
 * "Nice" tick values on [-extent, extent], including 0: the largest step of 1, 2 or 5 times a
 * power of ten that gives at least `target` ticks.
 *
 * @example
 * ticks(1); // [-1, -0.5, 0, 0.5, 1]
 */
export function ticks(extent: number, target = 5): number[] {
  const raw = (2 * extent) / Math.max(1, target - 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [5, 2, 1].map((m) => m * p).find((s) => s <= raw * (1 + 1e-9)) ?? p;
  const k = Math.floor(extent / step + 1e-9);
  const out: number[] = [];
  for (let i = -k; i <= k; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Copy the finite entries of column `j` into `buf`; returns their count. */
function finiteColumn(data: Float32Array, n: number, f: number, j: number, buf: Float32Array): number {
  let m = 0;
  for (let i = 0, k = j; i < n; i++, k += f) {
    const v = data[k];
    if (v - v === 0) buf[m++] = v; // finite
  }
  return m;
}

/**
 * Rearrange `a[lo..hi]` so that `a[k]` holds the value a full sort would put there, smaller or equal
 * values before it and larger or equal after it (quickselect, median of three; O(n) on average).
 */
function selectKth(a: Float32Array, k: number, lo: number, hi: number): void {
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Linear-interpolated percentiles (numpy's default) of the first `m` entries of `buf`, which
 * are reordered; `qs` ascending. Each needs one quickselect on what is right of the previous one.
 */
function percentilesInPlace(buf: Float32Array, m: number, qs: readonly number[]): number[] {
  if (m === 0) return qs.map(() => NaN);
  let from = 0;
  return qs.map((q) => {
    const pos = (q / 100) * (m - 1);
    const lo = Math.floor(pos);
    selectKth(buf, lo, from, m - 1);
    from = lo;
    let next = buf[lo];
    if (lo + 1 < m) {
      next = buf[lo + 1];
      for (let i = lo + 2; i < m; i++) if (buf[i] < next) next = buf[i];
    }
    return buf[lo] + (next - buf[lo]) * (pos - lo);
  });
}

/**
 * numpy-style (linear) percentile of the finite entries of one column; NaN when none.
 *
 * @example
 * columnPercentile(new Float32Array([0, 10, 20, 30, 40]), 5, 1, 0, 50); // 20
 */
export function columnPercentile(data: Float32Array, n: number, f: number, j: number, q: number): number {
  const buf = new Float32Array(n);
  return percentilesInPlace(buf, finiteColumn(data, n, f, j, buf), [q])[0];
}

/**
 * Colour position per point in 0..255, or 256 for a NaN feature value; without feature values
 * every point gets the ramp's middle (128), one colour. Per feature, the 5..95 percentile range maps to 0..255 (clipped); when that
 * range is empty, min..max; when that is empty too, every value maps to the middle (128).
 *
 * @example
 * colorCodes(new Float32Array([0, 1, NaN]), 3, 1, [0])[2]; // 256
 */
export function colorCodes(
  featureValues: Float32Array | null,
  n: number,
  f: number,
  order: readonly number[],
): Uint16Array {
  if (!featureValues) return new Uint16Array(order.length * n).fill(128);
  const out = new Uint16Array(order.length * n).fill(256);
  const buf = new Float32Array(n);
  order.forEach((j, r) => {
    const m = finiteColumn(featureValues, n, f, j, buf);
    let [lo, hi] = percentilesInPlace(buf, m, [5, 95]);
    if (!(hi > lo)) [lo, hi] = percentilesInPlace(buf, m, [0, 100]);
    const span = hi - lo;
    const scale = span > 0 ? 255 / span : 0;
    const base = r * n;
    for (let i = 0, k = j; i < n; i++, k += f) {
      const v = featureValues[k];
      if (v !== v) continue; // NaN
      let u = span > 0 ? (v - lo) * scale : 127.5;
      u = u < 0 ? 0 : u > 255 ? 255 : u;
      out[base + i] = Math.round(u);
    }
  });
  return out;
}

/**
 * The colour ramp as a 257 x RGB table: entries 0..255 blend {@link LOW_RGB} to {@link HIGH_RGB},
 * entry 256 is {@link NAN_RGB}.
 *
 * @example
 * rampTable().slice(0, 3); // Uint8Array [0, 139, 251]
 */
export function rampTable(): Uint8Array {
  const lut = new Uint8Array(257 * 3);
  for (let k = 0; k < 256; k++) {
    const t = k / 255;
    for (let c = 0; c < 3; c++) lut[k * 3 + c] = Math.round(LOW_RGB[c] + (HIGH_RGB[c] - LOW_RGB[c]) * t);
  }
  lut.set(NAN_RGB, 256 * 3);
  return lut;
}

/** Geometry of the plot area, in device pixels. */
export interface SwarmGeometry {
  /** Left edge and width of the x axis. */
  x0: number;
  plotWidth: number;
  /** Height of one feature row (rows start at y = 0). */
  rowHeight: number;
  /** Width of the density bins (about one dot diameter). */
  binWidth: number;
  /** Vertical distance between stacked dots before compression. */
  dotSpacing: number;
}

/** Point positions: `x`, `y` in device pixels (NaN = not drawn), per point `p = r * n + i`. */
export interface SwarmLayout {
  x: Float32Array;
  y: Float32Array;
  rows: number;
  n: number;
}

/**
 * Place every point: x from its attribution on [-extent, extent]; within a row, points in the
 * same x bin are stacked alternately above and below the row's centre line in sample order
 * (0, +1, -1, +2, -2, ...), and each row's stack is compressed to fit 90 % of the row height,
 * so a row is wide where many samples share an attribution.
 *
 * @example
 * const lay = layoutSwarm(new Float32Array([0, 0]), 2, 1, [0], 1,
 *   { x0: 0, plotWidth: 100, rowHeight: 20, binWidth: 4, dotSpacing: 4 });
 * [lay.x[0], lay.y[0], lay.y[1]]; // [50, 10, 14]
 */
export function layoutSwarm(
  values: Float32Array,
  n: number,
  f: number,
  order: readonly number[],
  extent: number,
  g: SwarmGeometry,
): SwarmLayout {
  const rows = order.length;
  const x = new Float32Array(rows * n);
  const y = new Float32Array(rows * n);
  const level = new Int32Array(n);
  const bins = Math.max(1, Math.ceil(g.plotWidth / g.binWidth) + 1);
  const count = new Int32Array(bins);
  const half = g.plotWidth / 2;
  order.forEach((j, r) => {
    count.fill(0);
    let maxLevel = 0;
    const base = r * n;
    for (let i = 0; i < n; i++) {
      const v = values[i * f + j];
      if (v - v !== 0) {
        x[base + i] = NaN;
        level[i] = 0;
        continue;
      }
      const px = g.x0 + half + (v / extent) * half;
      x[base + i] = px;
      const b = Math.min(bins - 1, Math.max(0, Math.floor((px - g.x0) / g.binWidth)));
      const k = count[b]++;
      const lv = k === 0 ? 0 : (k & 1) === 1 ? (k + 1) >> 1 : -(k >> 1);
      level[i] = lv;
      if (Math.abs(lv) > maxLevel) maxLevel = Math.abs(lv);
    }
    const centre = (r + 0.5) * g.rowHeight;
    const spacing = maxLevel > 0 ? Math.min(g.dotSpacing, (0.45 * g.rowHeight) / maxLevel) : 0;
    for (let i = 0; i < n; i++) y[base + i] = Number.isNaN(x[base + i]) ? NaN : centre + level[i] * spacing;
  });
  return { x, y, rows, n };
}

/** A uniform grid over the points (CSR: the points of cell c are `items[start[c]..start[c+1])`). */
export interface PointGrid {
  cell: number;
  cols: number;
  gridRows: number;
  start: Int32Array;
  items: Int32Array;
}

/**
 * Bucket the drawn points of a layout into square cells of `cell` device pixels.
 *
 * @example
 * const grid = buildGrid(layout, 800, 600, 8);
 */
export function buildGrid(layout: SwarmLayout, width: number, height: number, cell: number): PointGrid {
  const cols = Math.max(1, Math.ceil(width / cell));
  const gridRows = Math.max(1, Math.ceil(height / cell));
  const total = layout.x.length;
  const cellOf = new Int32Array(total);
  const start = new Int32Array(cols * gridRows + 1);
  for (let p = 0; p < total; p++) {
    const px = layout.x[p];
    const py = layout.y[p];
    if (Number.isNaN(px)) {
      cellOf[p] = -1;
      continue;
    }
    const cx = Math.min(cols - 1, Math.max(0, Math.floor(px / cell)));
    const cy = Math.min(gridRows - 1, Math.max(0, Math.floor(py / cell)));
    const c = cy * cols + cx;
    cellOf[p] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < cols * gridRows; c++) start[c + 1] += start[c];
  const fill = start.slice(0, cols * gridRows);
  const items = new Int32Array(start[cols * gridRows]);
  for (let p = 0; p < total; p++) if (cellOf[p] >= 0) items[fill[cellOf[p]]++] = p;
  return { cell, cols, gridRows, start, items };
}

/**
 * The point nearest to (px, py) within `radius` device pixels, or -1. Ties go to the point
 * drawn last (the one on top).
 *
 * @example
 * nearestPoint(grid, layout, 120, 40, 6); // point index p, or -1
 */
export function nearestPoint(grid: PointGrid, layout: SwarmLayout, px: number, py: number, radius: number): number {
  const span = Math.ceil(radius / grid.cell);
  const cx = Math.floor(px / grid.cell);
  const cy = Math.floor(py / grid.cell);
  let best = -1;
  let bestD = radius * radius;
  for (let gy = Math.max(0, cy - span); gy <= Math.min(grid.gridRows - 1, cy + span); gy++) {
    for (let gx = Math.max(0, cx - span); gx <= Math.min(grid.cols - 1, cx + span); gx++) {
      const c = gy * grid.cols + gx;
      for (let k = grid.start[c]; k < grid.start[c + 1]; k++) {
        const p = grid.items[k];
        const dx = layout.x[p] - px;
        const dy = layout.y[p] - py;
        const d = dx * dx + dy * dy;
        if (d < bestD || (d === bestD && p > best)) {
          bestD = d;
          best = p;
        }
      }
    }
  }
  return best;
}

/**
 * Stamp every drawn point as an opaque disc of `radius` device pixels into `pixels` (RGBA bytes of
 * a `width` x `height` image, viewed as 32-bit words), in point order, coloured by `codes`
 * through `lut` ({@link rampTable}).
 *
 * @example
 * paintPoints(img.data, img.width, img.height, layout, codes, rampTable(), 2);
 */
export function paintPoints(
  pixels: Uint8ClampedArray,
  width: number,
  height: number,
  layout: SwarmLayout,
  codes: Uint16Array,
  lut: Uint8Array,
  radius: number,
): void {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  const little = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
  const colors = new Uint32Array(257);
  for (let k = 0; k < 257; k++) {
    const [r, g, b] = [lut[k * 3], lut[k * 3 + 1], lut[k * 3 + 2]];
    colors[k] = little ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
  }
  const r2 = radius * radius;
  const span = Math.ceil(radius);
  const dxs: number[] = [];
  const dys: number[] = [];
  for (let dy = -span; dy <= span; dy++) {
    for (let dx = -span; dx <= span; dx++) {
      if (dx * dx + dy * dy <= r2) {
        dxs.push(dx);
        dys.push(dy);
      }
    }
  }
  const sx = Int32Array.from(dxs);
  const sy = Int32Array.from(dys);
  const m = sx.length;
  const offsets = Int32Array.from(dxs, (dx, k) => dys[k] * width + dx);
  const total = layout.x.length;
  for (let p = 0; p < total; p++) {
    const fx = layout.x[p];
    if (Number.isNaN(fx)) continue;
    const cx = Math.round(fx);
    const cy = Math.round(layout.y[p]);
    const color = colors[codes[p]];
    if (cx >= span && cy >= span && cx < width - span && cy < height - span) {
      const centre = cy * width + cx;
      for (let k = 0; k < m; k++) words[centre + offsets[k]] = color;
    } else {
      for (let k = 0; k < m; k++) {
        const xx = cx + sx[k];
        const yy = cy + sy[k];
        if (xx >= 0 && yy >= 0 && xx < width && yy < height) words[yy * width + xx] = color;
      }
    }
  }
}
