/**
 * How the heatmap's sign control picks its colours (docs/PROTOCOL.md, "Heatmap"): a for/against
 * pair reads on one scale. `sign = "positive"` shows the positive half of the diverging map and
 * `"negative"` its negative half (with `cmap = "auto"` that is `"RdBu_r"` for both, never a
 * sequential map whose opaque zero hides the image), and every cell whose shown value is exactly
 * 0 (the cells the sign control removed, and true zeros) gets no colour, so the image shows
 * there; `"absolute"` leaves its zeros uncoloured too. `"both"` is unchanged. No DOM.
 */
import type { LegendHalf } from "../../core/legend";
import { withCmap, type ColorPlan, type SignMode } from "../../core/scales";

/**
 * The half of a diverging map a sign mode shows (`null`: the whole map).
 *
 * @example
 * halfOf("positive"); // "positive"
 * halfOf("absolute"); // null
 */
export function halfOf(sign: SignMode): LegendHalf {
  return sign === "positive" ? "positive" : sign === "negative" ? "negative" : null;
}

/**
 * The colour plan for a sign mode: `base` (from `planColors` on the sign-transformed values) with
 * the colour map `cmap`, where `"auto"` means the diverging map for `"positive"` and
 * `"negative"` whatever signs are left.
 *
 * @example
 * const base = planColors(new Float32Array([0, 2]), { cmap: "auto", clipPercentile: 100 });
 * signPlan(base, "auto", "positive").cmap; // "RdBu_r" (the positive half)
 * signPlan(base, "auto", "both").cmap;     // "viridis"
 */
export function signPlan(base: ColorPlan, cmap: string, sign: SignMode): ColorPlan {
  return withCmap(halfOf(sign) ? { ...base, signed: true } : base, cmap);
}

/**
 * The threshold `paint` gets: the user's, raised just above 0 for every mode but `"both"`, so a
 * shown value of exactly 0 is left uncoloured (`|v| / s < threshold`) while any other value is
 * coloured as before.
 *
 * @example
 * paintThreshold(0, "positive"); // 5e-324
 * paintThreshold(0.2, "both");   // 0.2
 */
export function paintThreshold(threshold: number, sign: SignMode): number {
  return sign === "both" ? threshold : Math.max(threshold, Number.MIN_VALUE);
}

/**
 * True when no finite value of `shown` differs from 0 (the map says nothing, in words).
 *
 * @example
 * allZero(new Float32Array([0, NaN, 0])); // true
 */
export function allZero(shown: Float32Array): boolean {
  for (let i = 0; i < shown.length; i++) {
    const v = shown[i];
    if (v !== 0 && v - v === 0) return false;
  }
  return true;
}
