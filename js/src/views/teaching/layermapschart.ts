/**
 * The small chart of the Grad-CAM-through-the-layers view: one number per stage (the deletion AUC
 * with its random-order floor, or the share of the image the map covers), the stages left to
 * right labelled by their resolution, the chosen stage ringed and the family's usual Grad-CAM
 * layer marked. Clicking a point picks that stage (in the browser). Text via `textContent` only;
 * geometry from `layermapslayout.ts`.
 */
import { formatValue, h } from "../../core/dom";
import { CHART, chartLayout, pointsPath, type ChartLayout } from "./layermapslayout";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, cls: string, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  if (cls) el.setAttribute("class", cls);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function svgText(cls: string, x: number, y: number, text: string, anchor = "middle"): SVGTextElement {
  const t = svgEl("text", cls, { x, y, "text-anchor": anchor });
  t.textContent = text;
  return t;
}

/** The chart's elements and its last layout. */
export interface StageChart {
  root: HTMLDivElement;
  svg: SVGSVGElement;
  caption: HTMLDivElement;
  chosen: SVGCircleElement;
  layout: ChartLayout | null;
}

/** What the chart shows. */
export interface StageChartData {
  values: ArrayLike<number>;
  /** The random-order floor (NaN: none). */
  floor: number;
  /** One short label per stage (its resolution, e.g. "8x8"). */
  labels: string[];
  /** Stage names, for the points' tooltips. */
  names: string[];
  /** The family's usual stage (-1: none shown). */
  usual: number;
  label: string;
  caption: string;
}

/**
 * An empty chart (`.nbx-lmap-chart-box` holding `svg.nbx-lmap-chart`).
 *
 * @example
 * const chart = buildStageChart((s) => show(s));
 */
export function buildStageChart(onPick: (stage: number) => void): StageChart {
  const root = h("div", "nbx-lmap-chart-box");
  const svg = svgEl("svg", "nbx-lmap-chart", { width: CHART.w, height: CHART.h, viewBox: `0 0 ${CHART.w} ${CHART.h}` });
  const caption = h("div", "nbx-lmap-chart-caption");
  const chosen = svgEl("circle", "nbx-lmap-chosen", { r: 7, cx: -20, cy: -20 });
  root.append(svg, caption);
  svg.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest("[data-index]") : null;
    const index = target ? Number(target.getAttribute("data-index")) : NaN;
    if (Number.isInteger(index)) onPick(index);
  });
  return { root, svg, caption, chosen, layout: null };
}

/**
 * Draw the chart for `data` (the ring stays where {@link markStage} put it).
 *
 * @example
 * drawStageChart(chart, { values, floor: 0.2, labels: ["8x8", "4x4"], names, usual: 1, label: "deletion AUC", caption });
 */
export function drawStageChart(chart: StageChart, data: StageChartData): void {
  const { w, left, right, top, plot } = CHART;
  const bottom = top + plot;
  const layout = chartLayout(data.values, data.floor);
  chart.layout = layout;
  const svg = chart.svg;
  svg.replaceChildren();
  const grid = svgEl("g", "nbx-lmap-grid");
  for (const t of layout.ticks) {
    grid.append(svgEl("line", "nbx-lmap-gridline", { x1: left, x2: w - right, y1: layout.sy(t), y2: layout.sy(t) }));
    grid.append(svgText("nbx-lmap-tick-label", left - 4, layout.sy(t) + 3, formatValue(t), "end"));
  }
  grid.append(svgEl("rect", "nbx-lmap-frame", { x: left, y: top, width: w - left - right, height: plot }));
  layout.points.forEach((p, i) => grid.append(svgText("nbx-lmap-tick-label nbx-lmap-stage-label", p.x, bottom + 13,
    data.labels[i] ?? String(i))));
  grid.append(svgText("nbx-lmap-axis-label", (left + w - right) / 2, bottom + 28, "stage (its resolution), input to output"));
  const yLabel = svgText("nbx-lmap-axis-label", 0, 0, data.label);
  yLabel.setAttribute("transform", `translate(11 ${top + plot / 2}) rotate(-90)`);
  grid.append(yLabel);
  svg.append(grid);
  if (Number.isFinite(layout.floorY)) {
    const floor = svgEl("line", "nbx-lmap-floor", { x1: left, x2: w - right, y1: layout.floorY, y2: layout.floorY });
    floor.dataset.value = String(data.floor);
    svg.append(floor);
  }
  svg.append(svgEl("path", "nbx-lmap-line", { d: pointsPath(layout.points) }));
  for (const p of layout.points) {
    // a stage without a number (an all-0 map has no area) sits hollow on the axis, still clickable
    const none = !Number.isFinite(p.y);
    const y = none ? bottom : p.y;
    if (p.index === data.usual) svg.append(svgEl("circle", "nbx-lmap-usual", { cx: p.x, cy: y, r: 10 }));
    const dot = svgEl("circle", none ? "nbx-lmap-point nbx-lmap-point-none" : "nbx-lmap-point", { cx: p.x, cy: y, r: 4.5 });
    dot.dataset.index = String(p.index);
    dot.dataset.value = String(p.value);
    const title = svgEl("title", "");
    title.textContent = `${data.names[p.index] ?? p.index}: ${none ? `no ${data.label} (the map is 0)` : `${data.label} ${formatValue(p.value)}`}`;
    dot.append(title);
    svg.append(dot);
  }
  svg.append(chart.chosen);
  chart.caption.textContent = data.caption;
}

/**
 * Ring stage `s` (on the axis when its value is not finite, as its hollow point).
 *
 * @example
 * markStage(chart, 2);
 */
export function markStage(chart: StageChart, s: number): void {
  const p = chart.layout?.points[s];
  const y = p === undefined ? NaN : Number.isFinite(p.y) ? p.y : CHART.top + CHART.plot; // no number: on the axis
  chart.chosen.setAttribute("cx", p !== undefined ? p.x.toFixed(2) : "-20");
  chart.chosen.setAttribute("cy", Number.isFinite(y) ? y.toFixed(2) : "-20");
  chart.chosen.dataset.index = String(s);
}
