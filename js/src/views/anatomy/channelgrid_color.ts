/**
 * Pure colouring of channel-grid tiles (docs/ANATOMY_CONTRACT.md, Part V):
 *
 * - RGB tiles (n, h, w, 3), values in [0, 1]: `round(clip(v, 0, 1) * 255)` per channel.
 * - Scalar tiles (n, h, w): the grid is *signed* when any finite value of any tile is < 0.
 *   The scale `s` is `max |v|` over the finite values of all tiles (`scale = "grid"`, the
 *   default, so tiles compare) or of each tile (`scale = "tile"`); `s = 1` when it is 0.
 *   Signed: `u = (clip(v / s, -1, 1) + 1) / 2`; unsigned: `u = clip(v / s, 0, 1)`. The colour
 *   is `LUT[round(u * 255)]` of the colour map; `cmap = "auto"` is `"RdBu_r"` for a signed grid
 *   and `"viridis"` otherwise.
 * - Non-finite values are grey `#808080`. Every pixel is opaque.
 */
import { lutIndex, table } from "../../core/colormaps";

/** How the tiles of a grid are coloured. */
export interface GridColoring {
  rgb: boolean;
  signed: boolean;
  /** The colour map used for scalar tiles. */
  cmap: string;
  /** One scale per tile (all equal with `scale = "grid"`). */
  scales: Float64Array;
}

function maxAbs(data: Float32Array, start: number, end: number): number {
  let m = 0;
  for (let i = start; i < end; i++) {
    const v = data[i];
    if (Number.isFinite(v)) {
      const a = v < 0 ? -v : v;
      if (a > m) m = a;
    }
  }
  return m;
}

/**
 * Decide signedness, colour map and scales for `n` tiles of `size` values each.
 *
 * @example
 * gridColoring(new Float32Array([0, 2, 0, 4]), 2, 2, false, "auto", "grid").scales; // [4, 4]
 */
export function gridColoring(
  data: Float32Array,
  n: number,
  size: number,
  rgb: boolean,
  cmap: string,
  scale: string,
): GridColoring {
  let signed = false;
  if (!rgb) {
    for (let i = 0; i < n * size; i++) {
      if (data[i] < 0) {
        signed = true;
        break;
      }
    }
  }
  const scales = new Float64Array(n);
  if (!rgb) {
    const fix = (s: number): number => (s > 0 ? s : 1);
    if (scale === "tile") {
      for (let t = 0; t < n; t++) scales[t] = fix(maxAbs(data, t * size, (t + 1) * size));
    } else {
      scales.fill(fix(maxAbs(data, 0, n * size)));
    }
  } else {
    scales.fill(1);
  }
  const chosen = cmap === "auto" ? (signed ? "RdBu_r" : "viridis") : cmap;
  return { rgb, signed, cmap: chosen, scales };
}

/**
 * The lookup-table position of a scalar value (see the module comment); NaN for non-finite.
 *
 * @example
 * position(2, 4, false); // 0.5
 * position(-4, 4, true); // 0
 */
export function position(v: number, s: number, signed: boolean): number {
  if (!Number.isFinite(v)) return NaN;
  const x = v / s;
  if (signed) return (Math.min(1, Math.max(-1, x)) + 1) / 2;
  return Math.min(1, Math.max(0, x));
}

/**
 * RGBA pixels (h * w * 4) of tile `t`.
 *
 * @example
 * const px = tilePixels(data, 0, 8, 8, coloring); // Uint8ClampedArray(256)
 */
export function tilePixels(
  data: Float32Array,
  t: number,
  hgt: number,
  wid: number,
  c: GridColoring,
): Uint8ClampedArray<ArrayBuffer> {
  const n = hgt * wid;
  const out = new Uint8ClampedArray(n * 4);
  if (c.rgb) {
    const off = t * n * 3;
    for (let i = 0; i < n; i++) {
      let bad = false;
      for (let k = 0; k < 3; k++) {
        const v = data[off + i * 3 + k];
        if (!Number.isFinite(v)) bad = true;
        out[i * 4 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
      if (bad) out.fill(128, i * 4, i * 4 + 3);
      out[i * 4 + 3] = 255;
    }
    return out;
  }
  const lut = table(c.cmap);
  const s = c.scales[t];
  const off = t * n;
  for (let i = 0; i < n; i++) {
    const u = position(data[off + i], s, c.signed);
    if (Number.isNaN(u)) {
      out[i * 4] = out[i * 4 + 1] = out[i * 4 + 2] = 128;
    } else {
      const k = lutIndex(u) * 3;
      out[i * 4] = lut[k];
      out[i * 4 + 1] = lut[k + 1];
      out[i * 4 + 2] = lut[k + 2];
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}

/**
 * The display order: `order` when it is a list of distinct valid indices, else `0..n-1`.
 *
 * @example
 * displayOrder(new Float32Array([2, 0]), 3); // [2, 0]
 * displayOrder(null, 3);                      // [0, 1, 2]
 */
export function displayOrder(order: Float32Array | null, n: number): number[] {
  const identity = Array.from({ length: n }, (_, i) => i);
  if (!order) return identity;
  const seen = new Set<number>();
  for (const v of order) {
    if (!Number.isInteger(v) || v < 0 || v >= n || seen.has(v)) return identity;
    seen.add(v);
  }
  return [...order];
}
