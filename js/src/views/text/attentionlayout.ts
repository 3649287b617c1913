/**
 * Pure helpers of the attention view: pick one T x T matrix out of the (layers, heads, T, T)
 * maps (one head, or the mean of the heads), and the lines of one token's row.
 */

/** The shape of the maps: layers, heads, tokens. */
export interface MapsShape {
  layers: number;
  heads: number;
  tokens: number;
}

/**
 * The shape of a (layers, heads, T, T) array; throws when it is not one.
 *
 * @example
 * mapsShape([2, 4, 5, 5]); // { layers: 2, heads: 4, tokens: 5 }
 */
export function mapsShape(shape: readonly number[]): MapsShape {
  if (shape.length !== 4 || shape[2] !== shape[3]) {
    throw new Error(`attention maps must be (layers, heads, T, T), got [${shape.join(", ")}]`);
  }
  return { layers: shape[0], heads: shape[1], tokens: shape[2] };
}

/**
 * Layer `layer`'s T x T matrix of head `head`, or the mean over heads when `head < 0`.
 *
 * @example
 * const m = headMatrix(data, { layers: 1, heads: 2, tokens: 2 }, 0, -1); // Float32Array(4)
 */
export function headMatrix(data: Float32Array, s: MapsShape, layer: number, head: number): Float32Array {
  const tt = s.tokens * s.tokens;
  const l = Math.min(Math.max(0, layer), s.layers - 1);
  const base = l * s.heads * tt;
  if (head >= 0) {
    const hIdx = Math.min(head, s.heads - 1);
    return data.slice(base + hIdx * tt, base + (hIdx + 1) * tt);
  }
  const out = new Float32Array(tt);
  for (let k = 0; k < s.heads; k++) {
    const off = base + k * tt;
    for (let i = 0; i < tt; i++) out[i] += data[off + i];
  }
  for (let i = 0; i < tt; i++) out[i] /= s.heads;
  return out;
}

/** One line from token `from` (left) to token `to` (right) with its weight. */
export interface AttentionLine {
  from: number;
  to: number;
  weight: number;
}

/**
 * The lines to draw for a T x T matrix: every (i, j) whose weight is at least `minWeight`,
 * only row `focus` when it is >= 0, strongest last (drawn on top).
 *
 * @example
 * attentionLines(new Float32Array([0.9, 0.1, 0.5, 0.5]), 2, -1, 0.2).length; // 3
 */
export function attentionLines(matrix: Float32Array, tokens: number, focus: number, minWeight: number): AttentionLine[] {
  const lines: AttentionLine[] = [];
  const rows = focus >= 0 && focus < tokens ? [focus] : Array.from({ length: tokens }, (_, i) => i);
  for (const i of rows) {
    for (let j = 0; j < tokens; j++) {
      const w = matrix[i * tokens + j];
      if (Number.isFinite(w) && w >= minWeight) lines.push({ from: i, to: j, weight: w });
    }
  }
  return lines.sort((a, b) => a.weight - b.weight);
}
