/**
 * The heatmap legend: a colour bar for the active map, its end labels (`-s .. s` for a
 * diverging map, `0 .. s` for a sequential one) and a "no data" swatch while any cell is
 * non-finite.
 */
import { formatValue, h } from "./dom";
import type { ColorPlan } from "./scales";

/** The legend's elements. */
export interface Legend {
  root: HTMLDivElement;
  bar: HTMLCanvasElement;
  min: HTMLSpanElement;
  max: HTMLSpanElement;
  noData: HTMLSpanElement;
  /** The colour map currently painted on `bar` (repainted only on change). */
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
  const noData = h("span", "nbx-legend-nodata");
  noData.append(h("span", "nbx-legend-swatch"), h("span", "nbx-legend-nodata-label", "no data"));
  root.append(min, bar, max);
  return { root, bar, min, max, noData, painted: "" };
}

/**
 * Update the legend for a colour plan; `lut` is the plan's 256 x 3 table.
 *
 * @example
 * updateLegend(legend, plan, table(plan.cmap));
 */
export function updateLegend(legend: Legend, plan: ColorPlan, lut: Uint8Array): void {
  if (legend.painted !== plan.cmap) {
    const ctx = legend.bar.getContext("2d");
    if (ctx) {
      const img = new ImageData(256, 1);
      for (let i = 0; i < 256; i++) {
        img.data[i * 4] = lut[i * 3];
        img.data[i * 4 + 1] = lut[i * 3 + 1];
        img.data[i * 4 + 2] = lut[i * 3 + 2];
        img.data[i * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      legend.painted = plan.cmap;
    }
    legend.bar.title = plan.cmap;
  }
  legend.min.textContent = formatValue(plan.diverging ? -plan.scale : 0);
  legend.max.textContent = formatValue(plan.scale);
  if (plan.noData > 0) legend.root.append(legend.noData);
  else legend.noData.remove();
}
