/**
 * The colour legend of the heatmap and the channel grid: a colour bar for the active map, its
 * end labels (`-s .. s` for a diverging scale, `0 .. s` for a sequential one; one half of a
 * diverging map for the heatmap's `sign = "positive"` / `"negative"`), an optional caption, and
 * a "no data" swatch while any cell is non-finite.
 */
import { formatValue, h } from "./dom";
import type { ColorPlan } from "./scales";

/** Which part of a diverging map the legend shows: all of it, or its positive / negative half. */
export type LegendHalf = "positive" | "negative" | null;

/** The legend's elements. */
export interface Legend {
  root: HTMLDivElement;
  bar: HTMLCanvasElement;
  min: HTMLSpanElement;
  max: HTMLSpanElement;
  /** A short text after the bar (e.g. "zero: not coloured"); removed while empty. */
  caption: HTMLSpanElement;
  noData: HTMLSpanElement;
  /** The colour map (and half) currently painted on `bar` (repainted only on change). */
  painted: string;
}

/**
 * Create an empty legend (`.nbx-legend`).
 *
 * @example
 * const legend = buildLegend();
 * body.append(legend.root);
 */
export function buildLegend(): Legend {
  const root = h("div", "nbx-legend");
  const bar = h("canvas", "nbx-legend-bar");
  bar.width = 256;
  bar.height = 1;
  const min = h("span", "nbx-legend-min");
  const max = h("span", "nbx-legend-max");
  const caption = h("span", "nbx-legend-caption");
  const noData = h("span", "nbx-legend-nodata");
  noData.append(h("span", "nbx-legend-swatch"), h("span", "nbx-legend-nodata-label", "no data"));
  root.append(min, bar, max);
  return { root, bar, min, max, caption, noData, painted: "" };
}

/**
 * The lookup-table entry painted at pixel `i` (0..255) of the bar: the whole table, or the
 * entries of one half of a diverging map (128..255 positive, 0..127 negative) stretched over it.
 *
 * @example
 * barEntry(0, "positive");   // 128
 * barEntry(255, "negative"); // 127
 */
export function barEntry(i: number, half: LegendHalf): number {
  if (half === "positive") return 128 + (i >> 1);
  if (half === "negative") return i >> 1;
  return i;
}

/**
 * The end labels of the bar: `[-s, s]` diverging, `[0, s]` sequential or the positive half,
 * `[-s, 0]` for the negative half.
 *
 * @example
 * legendRange({ scale: 2, diverging: true }, "negative"); // [-2, 0]
 */
export function legendRange(plan: Pick<ColorPlan, "scale" | "diverging">, half: LegendHalf): [number, number] {
  if (plan.diverging && half === "negative") return [-plan.scale, 0];
  if (plan.diverging && half !== "positive") return [-plan.scale, plan.scale];
  return [0, plan.scale];
}

/**
 * Update the legend for a colour plan; `lut` is the plan's 256 x 3 table; `half` (diverging maps
 * only) paints one half of it; `caption` is shown after the bar when non-empty.
 *
 * @example
 * updateLegend(legend, plan, table(plan.cmap));
 * updateLegend(legend, plan, table(plan.cmap), "positive", "zero: not coloured");
 */
export function updateLegend(legend: Legend, plan: ColorPlan, lut: Uint8Array, half: LegendHalf = null, caption = ""): void {
  const shownHalf = plan.diverging ? half : null;
  const key = `${plan.cmap}:${shownHalf ?? "all"}`;
  if (legend.painted !== key) {
    const ctx = legend.bar.getContext("2d");
    if (ctx) {
      const img = new ImageData(256, 1);
      for (let i = 0; i < 256; i++) {
        const k = barEntry(i, shownHalf) * 3;
        img.data[i * 4] = lut[k];
        img.data[i * 4 + 1] = lut[k + 1];
        img.data[i * 4 + 2] = lut[k + 2];
        img.data[i * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      legend.painted = key;
    }
    legend.bar.title = shownHalf ? `${plan.cmap}, ${shownHalf} half` : plan.cmap;
  }
  const [lo, hi] = legendRange(plan, shownHalf);
  legend.min.textContent = formatValue(lo);
  legend.max.textContent = formatValue(hi);
  legend.caption.textContent = caption;
  if (caption) legend.max.after(legend.caption);
  else legend.caption.remove();
  if (plan.noData > 0) legend.root.append(legend.noData);
  else legend.noData.remove();
}
