/**
 * Pure arithmetic of the text_tokens view: the colour scale, each token's background and a
 * readable text colour, and where spaces go between tokens. No DOM.
 *
 * A token's chip is the colour map at its value with an opacity that grows with |v|
 * ({@link tokenAlpha}: 0 at 0, opaque from half the scale on), so a word that hardly matters
 * shows the theme's own background (no white chips in a dark theme); its text is light or dark
 * by the chip's colour as drawn over that background ({@link tokenLook}).
 */
import { lookup, type RGB } from "../../core/colormaps";

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
 * The chip's opacity for value `v` on scale `s`: `min(1, 2 |v| / s)`; 0 for a non-finite value.
 *
 * @example
 * tokenAlpha(0, 1);    // 0
 * tokenAlpha(0.25, 1); // 0.5
 * tokenAlpha(-3, 1);   // 1
 */
export function tokenAlpha(v: number, s: number): number {
  if (!Number.isFinite(v)) return 0;
  return Math.min(1, (2 * Math.abs(v)) / s);
}

/**
 * `rgb` drawn with opacity `alpha` over `background`, rounded.
 *
 * @example
 * blend([17, 17, 17], [255, 255, 255], 0.5); // [136, 136, 136]
 */
export function blend(background: RGB, rgb: RGB, alpha: number): RGB {
  const mix = (k: number): number => Math.round(alpha * rgb[k] + (1 - alpha) * background[k]);
  return [mix(0), mix(1), mix(2)];
}

/** How one token is drawn: its chip colour and opacity, and whether its text is light. */
export interface TokenLook {
  rgb: RGB;
  alpha: number;
  light: boolean;
}

/**
 * The chip of a token with value `v` over the theme's `background`; null for a non-finite value.
 *
 * @example
 * tokenLook(0, 1, "RdBu_r", [17, 17, 17]);  // { rgb: [247, 246, 246], alpha: 0, light: true }
 * tokenLook(1, 1, "RdBu_r", [255, 255, 255]); // { rgb: [103, 0, 31], alpha: 1, light: true }
 */
export function tokenLook(v: number, s: number, cmap: string, background: RGB): TokenLook | null {
  const rgb = tokenColor(v, s, cmap);
  if (!rgb) return null;
  const alpha = tokenAlpha(v, s);
  return { rgb, alpha, light: needsLightText(blend(background, rgb, alpha)) };
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
 * A CSS `linear-gradient` of `cmap` from -s to +s (11 stops) with the chips' opacity, for the
 * legend bar (its middle is the theme's background, as a word of value 0).
 *
 * @example
 * legendGradient("RdBu_r"); // "linear-gradient(to right, rgba(5, 48, 97, 1) 0%, ...)"
 */
export function legendGradient(cmap: string): string {
  const stops: string[] = [];
  for (let k = 0; k <= 10; k++) {
    const [r, g, b] = lookup(cmap, k / 10);
    stops.push(`rgba(${r}, ${g}, ${b}, ${tokenAlpha(k / 5 - 1, 1)}) ${k * 10}%`);
  }
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
