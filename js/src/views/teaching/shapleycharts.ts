/**
 * The two SVG charts of the Shapley view, drawn in the browser from the synced arrays (so they
 * work in a saved page):
 *
 * - the efficiency waterfall: from the base value v({}), one bar per player (largest first),
 *   each starting where the last ended, to the prediction v(all);
 * - the convergence chart: KernelSHAP's estimate of each player's value against the coalition
 *   budget (log scale), one player at a time (the axis zoomed on it) with its band
 *   `estimate ± z · standard error` and its exact value (dashed) where known.
 *
 * Text is set with `textContent` only. Geometry: `shapleylayout.ts`, `igpathlayout.ts`.
 */
import { formatValue } from "../../core/dom";
import { linePath, linear, logScale, niceTicks, paddedExtent } from "./igpathlayout";
import { bandPath, waterfallSteps } from "./shapleylayout";

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An SVG element with a class and attributes.
 *
 * @example
 * svgEl("circle", "nbx-shap-node", { r: 4 });
 */
export function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, cls: string, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  if (cls) el.setAttribute("class", cls);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * An SVG text element (its text set with `textContent`).
 *
 * @example
 * svgText("nbx-shap-row-label", 4, 20, "|S| = 0", "start");
 */
export function svgText(cls: string, x: number, y: number, text: string, anchor = "middle"): SVGTextElement {
  const t = svgEl("text", cls, { x: x.toFixed(1), y: y.toFixed(1), "text-anchor": anchor });
  t.textContent = text;
  return t;
}

/** `+1.5` / `-0.25` / `0`. */
export function signed(x: number): string {
  return x > 0 ? `+${formatValue(x)}` : formatValue(x);
}

/** A name cut to `chars` characters for an SVG label (the full name goes in a `<title>`). */
function cut(name: string, chars: number): string {
  return name.length > chars ? `${name.slice(0, chars - 1)}\u2026` : name;
}

/** What the waterfall draws. */
export interface WaterfallData {
  names: string[];
  values: ArrayLike<number>;
  base: number;
  prediction: number;
  selected: number;
  width: number;
  /** At most this many bars (the rest lumped). */
  top?: number;
}

/**
 * Draw the efficiency waterfall into `svg`: `g.nbx-shap-wf-row[data-index][data-start][data-end]`
 * per bar (clickable: a player's row selects it), `line.nbx-shap-wf-base[data-value]` and
 * `line.nbx-shap-wf-prediction[data-value]`.
 *
 * @example
 * drawWaterfall(svg, { names, values: shapley, base: 0.2, prediction: 0.9, selected: -1, width: 640 });
 */
export function drawWaterfall(svg: SVGSVGElement, data: WaterfallData): void {
  const steps = waterfallSteps(data.base, data.values, data.top ?? 12);
  const rowH = 20;
  const top = 22;
  const nameW = Math.min(170, Math.max(90, data.width * 0.26));
  const valueW = 64;
  const left = nameW + 8;
  const right = data.width - valueW;
  const height = top + rowH * (steps.length + 2) + 22;
  svg.setAttribute("width", String(data.width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("viewBox", `0 0 ${data.width} ${height}`);
  svg.replaceChildren();
  const ends = [data.base, data.prediction, ...steps.map((s) => s.end)];
  const [lo, hi] = paddedExtent(ends, 0.04);
  const sx = linear([lo, hi], [left, right]);
  const bottom = top + rowH * (steps.length + 2);
  const grid = svgEl("g", "nbx-shap-wf-grid");
  for (const t of niceTicks(lo, hi, 5)) {
    grid.append(svgEl("line", "nbx-shap-gridline", { x1: sx(t).toFixed(1), x2: sx(t).toFixed(1), y1: top, y2: bottom }));
    grid.append(svgText("nbx-shap-tick-label", sx(t), bottom + 13, formatValue(t)));
  }
  svg.append(grid);
  const row = (y: number, name: string, full: string, index: number): SVGGElement => {
    const g = svgEl("g", "nbx-shap-wf-row");
    g.dataset.index = String(index);
    // the whole row takes the click and the hover, not only the bar and the name
    g.append(svgEl("rect", "nbx-shap-wf-hit", { x: 0, y, width: data.width, height: rowH }));
    const label = svgText("nbx-shap-wf-name", nameW, y + rowH / 2 + 4, cut(name, Math.floor((nameW - 4) / 7.2)), "end");
    const title = svgEl("title", "");
    title.textContent = full;
    g.append(title, label);
    return g;
  };
  // the base value, then the players, then the prediction
  const baseY = top;
  const baseRow = row(baseY, "base value v({})", "the expected output over the background", -2);
  baseRow.classList.add("nbx-shap-wf-total");
  baseRow.append(svgEl("line", "nbx-shap-wf-base", { x1: sx(data.base), x2: sx(data.base), y1: baseY + 3, y2: baseY + rowH - 3 }));
  baseRow.append(svgText("nbx-shap-wf-value", data.width - 2, baseY + rowH / 2 + 4, formatValue(data.base), "end"));
  svg.append(baseRow);
  steps.forEach((s, k) => {
    const y = top + rowH * (k + 1);
    const name = s.index >= 0 ? data.names[s.index] : `${s.count} other players`;
    const g = row(y, name, s.index >= 0 ? `${name}: ${signed(s.value)}` : `${s.count} smaller values together: ${signed(s.value)}`, s.index);
    g.dataset.start = String(s.start);
    g.dataset.end = String(s.end);
    g.dataset.value = String(s.value);
    if (s.index >= 0) g.classList.add("nbx-shap-wf-player");
    if (s.index >= 0 && s.index === data.selected) g.classList.add("selected");
    const x0 = Math.min(sx(s.start), sx(s.end));
    const w = Math.max(1, Math.abs(sx(s.end) - sx(s.start)));
    g.append(svgEl("rect", `nbx-shap-wf-bar ${s.value > 0 ? "pos" : s.value < 0 ? "neg" : "zero"}`, {
      x: x0.toFixed(1), y: y + 3, width: w.toFixed(1), height: rowH - 6,
    }));
    // a thin connector from this bar's end to the next row
    g.append(svgEl("line", "nbx-shap-wf-link", { x1: sx(s.end).toFixed(1), x2: sx(s.end).toFixed(1), y1: y + rowH - 3, y2: y + rowH + 3 }));
    g.append(svgText("nbx-shap-wf-value", data.width - 2, y + rowH / 2 + 4, signed(s.value), "end"));
    svg.append(g);
  });
  const py = top + rowH * (steps.length + 1);
  const pred = row(py, "prediction v(all)", "the output explained", -3);
  pred.classList.add("nbx-shap-wf-total");
  pred.append(svgEl("line", "nbx-shap-wf-prediction", { x1: sx(data.prediction), x2: sx(data.prediction), y1: py + 3, y2: py + rowH - 3 }));
  pred.append(svgText("nbx-shap-wf-value", data.width - 2, py + rowH / 2 + 4, formatValue(data.prediction), "end"));
  svg.append(pred);
  svg.querySelector(".nbx-shap-wf-base")?.setAttribute("data-value", String(data.base));
  svg.querySelector(".nbx-shap-wf-prediction")?.setAttribute("data-value", String(data.prediction));
  svg.append(svgText("nbx-shap-axis-label", (left + right) / 2, 12, "efficiency: base value + the Shapley values = prediction"));
}

/** What the convergence chart draws. */
export interface ConvergenceData {
  names: string[];
  budgets: ArrayLike<number>;
  /** K x M, row major. */
  estimates: ArrayLike<number>;
  errors: ArrayLike<number>;
  exact: ArrayLike<number> | null;
  z: number;
  level: number;
  /** The player drawn with its band. */
  shown: number;
  width: number;
}

/**
 * Draw the convergence chart of player `shown` into `svg`, its value axis zoomed on it:
 * `path.nbx-shap-conv-line.shown[data-index]`, `path.nbx-shap-conv-band`, `circle.nbx-shap-conv-point[data-budget]
 * [data-estimate][data-lo][data-hi]`, `line.nbx-shap-conv-exact[data-value]` when known.
 *
 * @example
 * drawConvergence(svg, { names, budgets, estimates, errors, exact, z: 1.96, level: 0.95, shown: 0, width: 640 });
 */
export function drawConvergence(svg: SVGSVGElement, data: ConvergenceData): void {
  const { budgets, estimates, errors, exact, z, shown } = data;
  const k = budgets.length;
  const m = data.names.length;
  if (!(shown >= 0 && shown < m)) return;
  const w = Math.min(data.width, 680);
  const h = 260;
  const left = 56;
  const right = 16;
  const top = 12;
  const bottom = h - 40;
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(h));
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.replaceChildren();
  const at = (j: number, i: number): number => estimates[j * m + i];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let j = 0; j < k; j++) {
    const e = at(j, shown);
    const s = errors[j * m + shown];
    lo.push(Number.isFinite(s) ? e - z * s : NaN);
    hi.push(Number.isFinite(s) ? e + z * s : NaN);
  }
  // zoomed on the shown player (its band must be readable); the others are in the view's table
  const all: number[] = [...lo, ...hi];
  for (let j = 0; j < k; j++) all.push(at(j, shown));
  if (exact) all.push(exact[shown]);
  const [y0, y1] = paddedExtent(all, 0.05);
  const b0 = Math.max(1, budgets[0] ?? 1);
  const b1 = Math.max(b0 * 2, budgets[k - 1] ?? 2);
  const sx = logScale([b0, b1], [left + 8, w - right - 8]);
  const sy = linear([y0, y1], [bottom, top]);
  const grid = svgEl("g", "nbx-shap-conv-grid");
  for (const t of niceTicks(y0, y1, 5)) {
    grid.append(svgEl("line", "nbx-shap-gridline", { x1: left, x2: w - right, y1: sy(t).toFixed(1), y2: sy(t).toFixed(1) }));
    grid.append(svgText("nbx-shap-tick-label", left - 4, sy(t) + 3, formatValue(t), "end"));
  }
  for (let j = 0; j < k; j++) grid.append(svgText("nbx-shap-tick-label", sx(budgets[j]), bottom + 13, String(budgets[j])));
  grid.append(svgEl("rect", "nbx-shap-frame", { x: left, y: top, width: w - left - right, height: bottom - top }));
  grid.append(svgText("nbx-shap-axis-label", (left + w - right) / 2, bottom + 30, "coalitions sampled (budget, log scale)"));
  const yLabel = svgText("nbx-shap-axis-label", 0, 0, "Shapley value estimate");
  yLabel.setAttribute("transform", `translate(12 ${(top + bottom) / 2}) rotate(-90)`);
  grid.append(yLabel);
  svg.append(grid);
  const band = svgEl("path", "nbx-shap-conv-band", { d: bandPath(budgets, lo, hi, sx, sy) });
  svg.append(band);
  if (exact && Number.isFinite(exact[shown])) {
    const ex = svgEl("line", "nbx-shap-conv-exact", { x1: left, x2: w - right, y1: sy(exact[shown]).toFixed(1), y2: sy(exact[shown]).toFixed(1) });
    ex.dataset.value = String(exact[shown]);
    svg.append(ex);
  }
  const ys = Array.from({ length: k }, (_, j) => at(j, shown));
  const main = svgEl("path", "nbx-shap-conv-line shown", { d: linePath(budgets, ys, sx, sy) });
  main.dataset.index = String(shown);
  svg.append(main);
  for (let j = 0; j < k; j++) {
    const dot = svgEl("circle", "nbx-shap-conv-point", { cx: sx(budgets[j]).toFixed(2), cy: sy(ys[j]).toFixed(2), r: 3 });
    dot.dataset.budget = String(budgets[j]);
    dot.dataset.estimate = String(ys[j]);
    dot.dataset.lo = String(lo[j]);
    dot.dataset.hi = String(hi[j]);
    const title = svgEl("title", "");
    title.textContent = `${data.names[shown]}, ${budgets[j]} coalitions: ${formatValue(ys[j])} ` +
      `(band ${formatValue(lo[j])} to ${formatValue(hi[j])})`;
    dot.append(title);
    svg.append(dot);
  }
}
