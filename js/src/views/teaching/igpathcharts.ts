/**
 * The two SVG charts of the Integrated Gradients path view, drawn in the view itself (so they
 * work in a saved page, and the marker follows the alpha slider with no kernel):
 *
 * - the curve chart: the model output along the path, the baseline's output plus the attribution
 *   accumulated so far (dashed; it ends at f(x) when completeness holds), the rule's points as
 *   ticks under the plot (height = weight), and a marker at the current alpha;
 * - the completeness chart: |sum(attribution) - (f(x) - f(b))| against the number of steps,
 *   log-log, one line per rule, the chosen rule and steps ringed.
 *
 * Text is set with `textContent` only. Geometry comes from `igpathlayout.ts`.
 */
import { formatValue, h } from "../../core/dom";
import {
  decadeLabel,
  decades,
  linePath,
  linear,
  logDomain,
  logScale,
  niceTicks,
  paddedExtent,
  quadratureTicks,
  type Scale,
} from "./igpathlayout";

const SVG_NS = "http://www.w3.org/2000/svg";

/** Okabe-Ito colours, one per rule (readable on white and on Lab's dark #111). */
export const RULE_COLORS: Readonly<Record<string, string>> = {
  gausslegendre: "#0072b2",
  riemann_left: "#e69f00",
  riemann_right: "#009e73",
  riemann_middle: "#cc79a7",
  riemann_trapezoid: "#d55e00",
};

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

/** Chart size and margins (CSS pixels). */
const CURVE = { w: 360, h: 200, left: 48, right: 12, top: 10, plot: 118, strip: 16 };
const CONV = { w: 320, h: 200, left: 48, right: 12, top: 10, plot: 144 };

/** The data of the curve chart. */
export interface CurveData {
  x: number[];
  y: number[];
  alphas: ArrayLike<number>;
  accumulatedSum: ArrayLike<number>;
  fb: number;
  fx: number;
  points: ArrayLike<number>;
  weights: ArrayLike<number>;
  outputs: ArrayLike<number>;
  label: string;
}

/** The curve chart's elements and its current scales. */
export interface CurveChart {
  root: HTMLDivElement;
  svg: SVGSVGElement;
  marker: SVGLineElement;
  dot: SVGCircleElement;
  readout: HTMLDivElement;
  sx: Scale;
  sy: Scale;
  data: CurveData | null;
}

/**
 * An empty curve chart (`.nbx-igp-curve-chart`, `svg.nbx-igp-curve`).
 *
 * @example
 * const chart = buildCurveChart();
 * body.append(chart.root);
 */
export function buildCurveChart(): CurveChart {
  const root = h("div", "nbx-igp-chart nbx-igp-curve-chart");
  const svg = svgEl("svg", "nbx-igp-curve", { width: CURVE.w, height: CURVE.h, viewBox: `0 0 ${CURVE.w} ${CURVE.h}` });
  const marker = svgEl("line", "nbx-igp-marker");
  const dot = svgEl("circle", "nbx-igp-dot", { r: 4 });
  const readout = h("div", "nbx-igp-readout");
  root.append(svg, readout);
  return { root, svg, marker, dot, readout, sx: linear([0, 1], [0, 1]), sy: linear([0, 1], [0, 1]), data: null };
}

/**
 * Draw the curves, axes, quadrature ticks and legend for `data` (the marker is placed by
 * {@link moveMarker}).
 *
 * @example
 * drawCurve(chart, data);
 * moveMarker(chart, 0.5, 3);
 */
export function drawCurve(chart: CurveChart, data: CurveData): void {
  const { w, left, right, top, plot, strip } = CURVE;
  const bottom = top + plot;
  const sums = Array.from(data.accumulatedSum, (s) => data.fb + s);
  const [y0, y1] = paddedExtent([...data.y, ...sums, data.fb, data.fx]);
  const sx = linear([0, 1], [left, w - right]);
  const sy = linear([y0, y1], [bottom, top]);
  chart.sx = sx;
  chart.sy = sy;
  chart.data = data;
  const svg = chart.svg;
  svg.replaceChildren();
  const grid = svgEl("g", "nbx-igp-grid");
  for (const t of niceTicks(y0, y1, 4)) {
    grid.append(svgEl("line", "nbx-igp-gridline", { x1: left, x2: w - right, y1: sy(t), y2: sy(t) }));
    grid.append(svgText("nbx-igp-tick-label", left - 4, sy(t) + 3, formatValue(t), "end"));
  }
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    grid.append(svgText("nbx-igp-tick-label", sx(t), bottom + strip + 12, String(t)));
  }
  grid.append(svgEl("rect", "nbx-igp-frame", { x: left, y: top, width: w - left - right, height: plot }));
  grid.append(svgText("nbx-igp-axis-label", (left + w - right) / 2, bottom + strip + 26, "alpha (0 = baseline, 1 = input)"));
  const yLabel = svgText("nbx-igp-axis-label", 0, 0, data.label);
  yLabel.setAttribute("transform", `translate(11 ${top + plot / 2}) rotate(-90)`);
  grid.append(yLabel);
  svg.append(grid);
  const ticks = svgEl("g", "nbx-igp-ticks");
  for (const t of quadratureTicks(data.points, data.weights, strip - 3)) {
    const tick = svgEl("line", "nbx-igp-tick", { x1: sx(t.alpha), x2: sx(t.alpha), y1: bottom + 2, y2: bottom + 2 + t.height });
    tick.dataset.alpha = String(t.alpha);
    tick.dataset.weight = String(t.weight);
    ticks.append(tick);
  }
  svg.append(ticks);
  svg.append(svgEl("path", "nbx-igp-sum", { d: linePath(data.alphas, sums, sx, sy) }));
  svg.append(svgEl("path", "nbx-igp-output", { d: linePath(data.x, data.y, sx, sy) }));
  chart.marker.setAttribute("y1", String(top));
  chart.marker.setAttribute("y2", String(bottom + strip));
  svg.append(chart.marker, chart.dot);
  const legend = h("div", "nbx-igp-legend");
  const item = (cls: string, text: string): HTMLSpanElement => {
    const span = h("span", "nbx-igp-legend-item");
    span.append(h("span", `nbx-igp-swatch ${cls}`), h("span", "", text));
    return span;
  };
  legend.append(
    item("nbx-igp-swatch-output", "model output along the path"),
    item("nbx-igp-swatch-sum", "f(baseline) + attribution so far"),
    item("nbx-igp-swatch-tick", "the rule's points (height = weight)"),
  );
  chart.root.querySelector(".nbx-igp-legend")?.remove();
  chart.root.insertBefore(legend, chart.readout);
}

/**
 * Put the marker at `alpha` and the dot on the output curve at (`alpha`, `output`).
 *
 * @example
 * moveMarker(chart, 0.25, 1.5);
 */
export function moveMarker(chart: CurveChart, alpha: number, output: number): void {
  const x = chart.sx(alpha).toFixed(2);
  chart.marker.setAttribute("x1", x);
  chart.marker.setAttribute("x2", x);
  chart.marker.dataset.alpha = String(alpha);
  chart.dot.setAttribute("cx", x);
  chart.dot.setAttribute("cy", (Number.isFinite(output) ? chart.sy(output) : -10).toFixed(2));
}

/** The data of the completeness chart. */
export interface ConvergenceData {
  rules: string[];
  steps: number[];
  /** rules x steps, |delta|. */
  errors: Float32Array;
  rule: string;
  chosenSteps: number;
  /** f(x) - f(b), for the floor of the log axis. */
  scale: number;
}

/**
 * An empty completeness chart (`.nbx-igp-conv-chart`, `svg.nbx-igp-convergence`).
 *
 * @example
 * const conv = buildConvergenceChart();
 */
export function buildConvergenceChart(): { root: HTMLDivElement; svg: SVGSVGElement; legend: HTMLDivElement } {
  const root = h("div", "nbx-igp-chart nbx-igp-conv-chart");
  const svg = svgEl("svg", "nbx-igp-convergence", { width: CONV.w, height: CONV.h, viewBox: `0 0 ${CONV.w} ${CONV.h}` });
  const legend = h("div", "nbx-igp-legend");
  root.append(svg, legend);
  return { root, svg, legend };
}

/**
 * Draw the completeness errors, log-log, one line per rule (`path.nbx-igp-conv-line[data-rule]`,
 * points `circle.nbx-igp-conv-point[data-rule][data-steps][data-error]`), the chosen rule and
 * steps ringed (`.nbx-igp-conv-chosen`).
 *
 * @example
 * drawConvergence(conv, { rules, steps, errors, rule: "gausslegendre", chosenSteps: 32, scale: 1.2 });
 */
export function drawConvergence(conv: { svg: SVGSVGElement; legend: HTMLDivElement }, data: ConvergenceData): void {
  const { w, left, right, top, plot } = CONV;
  const bottom = top + plot;
  const { rules, steps, errors } = data;
  const k = steps.length;
  const floor = Math.max(1e-12, Math.abs(data.scale) * 1e-9);
  const [e0, e1] = logDomain(errors, floor);
  const sx = logScale([Math.max(1, steps[0] ?? 1), Math.max(2, steps[k - 1] ?? 2)], [left + 6, w - right - 6]);
  const sy = logScale([e0, e1], [bottom, top]);
  const svg = conv.svg;
  svg.replaceChildren();
  const grid = svgEl("g", "nbx-igp-grid");
  for (const d of decades(e0, e1)) {
    grid.append(svgEl("line", "nbx-igp-gridline", { x1: left, x2: w - right, y1: sy(d), y2: sy(d) }));
    grid.append(svgText("nbx-igp-tick-label", left - 4, sy(d) + 3, decadeLabel(d), "end"));
  }
  for (const n of steps) grid.append(svgText("nbx-igp-tick-label", sx(n), bottom + 12, String(n)));
  grid.append(svgEl("rect", "nbx-igp-frame", { x: left, y: top, width: w - left - right, height: plot }));
  grid.append(svgText("nbx-igp-axis-label", (left + w - right) / 2, bottom + 26, "steps (log scale)"));
  const yLabel = svgText("nbx-igp-axis-label", 0, 0, "|completeness error|");
  yLabel.setAttribute("transform", `translate(11 ${top + plot / 2}) rotate(-90)`);
  grid.append(yLabel);
  svg.append(grid);
  conv.legend.replaceChildren();
  rules.forEach((rule, a) => {
    const color = RULE_COLORS[rule] ?? "#888888";
    const ys = Array.from({ length: k }, (_, j) => errors[a * k + j]);
    const line = svgEl("path", "nbx-igp-conv-line", { d: linePath(steps, ys, sx, sy), stroke: color });
    line.dataset.rule = rule;
    svg.append(line);
    steps.forEach((n, j) => {
      const e = ys[j];
      const dot = svgEl("circle", "nbx-igp-conv-point", { cx: sx(n).toFixed(2), cy: sy(e).toFixed(2), r: 2.5, fill: color });
      dot.dataset.rule = rule;
      dot.dataset.steps = String(n);
      dot.dataset.error = String(e);
      const title = svgEl("title", "");
      title.textContent = `${rule}, ${n} steps: |error| ${formatValue(e)}`;
      dot.append(title);
      svg.append(dot);
      if (rule === data.rule && n === data.chosenSteps) {
        svg.append(svgEl("circle", "nbx-igp-conv-chosen", { cx: sx(n).toFixed(2), cy: sy(e).toFixed(2), r: 6, stroke: color }));
      }
    });
    const item = h("span", "nbx-igp-legend-item");
    const swatch = h("span", "nbx-igp-swatch nbx-igp-swatch-rule");
    swatch.style.background = color;
    item.append(swatch, h("span", "", rule.replace("riemann_", "riemann ")));
    item.dataset.rule = rule;
    conv.legend.append(item);
  });
}
