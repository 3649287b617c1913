/**
 * Pure arithmetic of the text_tokens view: the colour scale, each token's background and a
 * readable text colour, and where spaces go between tokens. No DOM.
 */
import { lookup, type RGB } from "./colormaps";

/**
 * The colour scale `s`: max |v| over the finite values, 1 when there are none or all are 0.
 *
 * @example
 * tokenScale(new Float32Array([0.2, -0.5, NaN])); // 0.5
 */
export function tokenScale(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (Number.isFinite(a) && a > s) s = a;
  }
  return s > 0 ? s : 1;
}

/**
 * Background of a token with value `v`: `cmap` at `u = (clip(v / s, -1, 1) + 1) / 2`;
 * `null` (no colour) for a non-finite value.
 *
 * @example
 * tokenColor(0.5, 0.5, "RdBu_r");  // [103, 0, 31] (the map's positive end)
 * tokenColor(0, 0.5, "RdBu_r");    // [247, 246, 246]
 */
export function tokenColor(v: number, s: number, cmap: string): RGB | null {
  if (!Number.isFinite(v)) return null;
  const r = Math.max(-1, Math.min(1, v / s));
  return lookup(cmap, (r + 1) / 2);
}

/**
 * True when text on `rgb` should be light: its luma (0.299 r + 0.587 g + 0.114 b) is below 140.
 *
 * @example
 * needsLightText([103, 0, 31]);    // true
 * needsLightText([247, 246, 246]); // false
 */
export function needsLightText(rgb: RGB): boolean {
  return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 140;
}

const NO_SPACE_BEFORE = new Set([".", ",", "!", "?", ";", ":", ")", "]", "}", "%"]);
const NO_SPACE_AFTER = new Set(["(", "[", "{"]);

/**
 * Whether a space goes before `token` when it follows `previous` (none at the start, before
 * closing punctuation, or after an opening bracket), as `nbexplain.text.detokenize` joins them.
 *
 * @example
 * spaceBefore("film", "a"); // true
 * spaceBefore("!", "film"); // false
 */
export function spaceBefore(token: string, previous: string | undefined): boolean {
  if (previous === undefined) return false;
  return !NO_SPACE_BEFORE.has(token) && !NO_SPACE_AFTER.has(previous);
}

/**
 * A CSS `linear-gradient` of `cmap` from -s to +s (11 stops), for the legend bar.
 *
 * @example
 * legendGradient("RdBu_r"); // "linear-gradient(to right, rgb(5, 48, 97) 0%, ...)"
 */
export function legendGradient(cmap: string): string {
  const stops: string[] = [];
  for (let k = 0; k <= 10; k++) {
    const [r, g, b] = lookup(cmap, k / 10);
    stops.push(`rgb(${r}, ${g}, ${b}) ${k * 10}%`);
  }
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
