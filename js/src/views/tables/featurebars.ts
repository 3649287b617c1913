/**
 * The feature-bars view (`_view = "feature_bars"`): signed importances as bars or a waterfall,
 * a top-k slider (with its value, "8 of 30"), a mode select and optional what-if sliders that
 * send the sample to Python. With `errors` (standard errors), each bar carries a whisker of ±2
 * standard errors (`errorbars.ts`). The rows are one grid sized to the panel (`css/featurebars.css`).
 */
import { layoutBars, orderByMagnitude, type BarGeometry } from "../../core/barlayout";
import { createViewBase, safeDraw } from "../../core/common";
import { formatValue, h, labelled, rangeInput, selectInput } from "../../core/dom";
import { errorText, whiskerNote, withWhiskers, type Whisker } from "./errorbars";
import { getBool, getFloatArray, getNumber, getOptionalNumber, getString, getStringList, type Model } from "../../core/traits";
import { choiceIndex, parseCategories, WhatIf, type Category } from "./whatif";

const DRAW_TRAITS = [
  "values", "feature_names", "feature_values", "base_value", "prediction", "prediction_label", "mode", "top_k", "errors",
];

/** The elements of one feature row, kept across redraws so a dragged slider survives. */
interface RowEls {
  row: HTMLDivElement;
  name: HTMLSpanElement;
  fvalue: HTMLSpanElement;
  bar: HTMLDivElement;
  whisker: HTMLDivElement;
  value: HTMLSpanElement;
  whatif: HTMLSpanElement;
}

function buildRow(index: number): RowEls {
  const row = h("div", "nbx-bar-row");
  if (index >= 0) row.dataset.index = String(index);
  const name = h("span", "nbx-bar-name");
  const fvalue = h("span", "nbx-bar-fvalue");
  const track = h("div", "nbx-bar-track");
  const bar = h("div", "nbx-bar");
  const whisker = h("div", "nbx-bar-whisker");
  whisker.hidden = true;
  track.append(bar, whisker);
  const value = h("span", "nbx-bar-value");
  const whatif = h("span", "nbx-whatif-cell");
  row.append(name, fvalue, track, value, whatif);
  return { row, name, fvalue, bar, whisker, value, whatif };
}

/** Place a whisker (±2 standard errors) on its track, or hide it. */
function placeWhisker(el: HTMLDivElement, w: Whisker | undefined): void {
  el.hidden = !w;
  if (!w) return;
  el.style.left = `${w.left}%`;
  el.style.width = `${w.width}%`;
  el.dataset.lo = String(w.lo);
  el.dataset.hi = String(w.hi);
}

function placeBar(bar: HTMLDivElement, g: { left: number; width: number; value: number }): void {
  bar.style.left = `${g.left}%`;
  bar.style.width = `${g.width}%`;
  bar.classList.toggle("pos", g.value >= 0);
  bar.classList.toggle("neg", g.value < 0);
}

/**
 * Render a feature-bars model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderFeatureBars(model, el);
 */
export function renderFeatureBars(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "feature_bars", "nbx-feature-bars");
  const controls = h("div", "nbx-controls");
  const topk = rangeInput("nbx-topk", { min: 1, max: 1, step: 1, value: 1, label: "features shown" });
  const mode = selectInput("nbx-mode", ["bars", "waterfall"], "bars");
  const topkLabel = labelled("top", topk);
  const topkValue = h("span", "nbx-topk-value");
  topkLabel.append(topkValue);
  controls.append(topkLabel, labelled("mode", mode));
  const summary = h("div", "nbx-summary");
  const baseValue = h("span", "nbx-base-value");
  const prediction = h("span", "nbx-prediction");
  summary.append(h("span", "nbx-summary-label", "base value"), baseValue, h("span", "nbx-summary-label", "prediction"), prediction);
  const errorNote = h("div", "nbx-error-note", whiskerNote());
  errorNote.hidden = true;
  const list = h("div", "nbx-bar-list");
  const baseRow = buildRow(-1);
  baseRow.row.className = "nbx-bar-row nbx-waterfall-base";
  const rest = buildRow(-1);
  rest.row.className = "nbx-bar-row nbx-bar-rest";
  const endRow = buildRow(-1);
  endRow.row.className = "nbx-bar-row nbx-waterfall-end";
  const tooltip = h("div", "nbx-tooltip");
  tooltip.hidden = true;
  base.body.append(controls, summary, errorNote, list, tooltip);

  let rows: RowEls[] = [];
  let names: string[] = [];
  let values: Float32Array = new Float32Array(0);
  let fvalues: Float32Array | null = null;
  let errors: Float32Array | null = null;
  let categories: Array<Category[] | null> = [];

  /** A feature value as text: the category's label for a categorical feature, else the number. */
  const valueText = (i: number): string => {
    if (!fvalues) return "";
    const choices = categories[i];
    const j = choices ? choiceIndex(choices, fvalues[i]) : -1;
    return choices && j >= 0 ? choices[j].label : formatValue(fvalues[i]);
  };

  // When a drag ends, re-order the rows that were kept in place while it lasted.
  const whatif = new WhatIf(model, (i) => rows[i]?.whatif, () => {
    if (!whatif.dragging) safeDraw(base, () => relayout(true));
  }, base.needsKernel);

  const ensureRows = (count: number): void => {
    if (rows.length === count) return;
    rows = Array.from({ length: count }, (_, i) => buildRow(i));
    rows.forEach((r, i) => {
      r.row.addEventListener("mousemove", (event) => showTooltip(i, event));
      r.row.addEventListener("mouseleave", () => (tooltip.hidden = true));
    });
    whatif.rebuild(count);
  };

  const showTooltip = (i: number, event: MouseEvent): void => {
    const fv = fvalues ? ` = ${valueText(i)}` : "";
    const err = errorText(values[i], errors?.[i], formatValue);
    tooltip.textContent = `${names[i] ?? `feature ${i}`}${fv}: attribution ${formatValue(values[i])}${err}`;
    tooltip.hidden = false;
    const rect = base.root.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - rect.left + 12}px`;
    tooltip.style.top = `${event.clientY - rect.top + 12}px`;
  };

  /** Update bars in place; with `reorder`, also (re)build the row order and membership. */
  const relayout = (reorder: boolean): void => {
    const isWaterfall = getString(model, "mode", "bars") === "waterfall";
    const baseVal = getOptionalNumber(model, "base_value");
    const pred = getOptionalNumber(model, "prediction");
    const order = orderByMagnitude(values);
    const kind = isWaterfall ? "waterfall" : "bars";
    const { layout, whiskers } = withWhiskers(
      layoutBars(values, order, getNumber(model, "top_k", 0), kind, baseVal), values, errors, kind);
    errorNote.hidden = whiskers.size === 0;
    base.root.classList.toggle("nbx-mode-waterfall", isWaterfall);
    list.style.setProperty("--nbx-zero", `${layout.basePos}%`);
    const fill = (i: number, g: BarGeometry): void => {
      const r = rows[i];
      r.name.textContent = names[i] ?? `feature ${i}`;
      r.fvalue.textContent = valueText(i);
      r.value.textContent = formatValue(values[i]);
      placeBar(r.bar, g);
      placeWhisker(r.whisker, whiskers.get(i));
    };
    const byIndex = new Map(layout.rows.map((g) => [g.index, g]));
    for (const [i, g] of byIndex) fill(i, g);
    if (reorder) {
      const focused = el.ownerDocument.activeElement;
      const children: HTMLElement[] = [];
      if (isWaterfall) children.push(baseRow.row);
      children.push(...layout.rows.map((g) => rows[g.index].row));
      if (layout.rest) children.push(rest.row);
      if (isWaterfall) children.push(endRow.row);
      list.replaceChildren(...children);
      if (focused instanceof HTMLElement && list.contains(focused)) focused.focus();
    }
    if (layout.rest) {
      rest.name.textContent = `${layout.rest.count} other features`;
      rest.value.textContent = formatValue(layout.rest.value);
      placeBar(rest.bar, layout.rest);
    }
    baseRow.name.textContent = "base value";
    baseRow.value.textContent = baseVal === null ? "n/a" : formatValue(baseVal);
    placeBar(baseRow.bar, { left: layout.basePos, width: 0, value: 0 });
    endRow.name.textContent = "prediction";
    endRow.value.textContent = formatValue(pred ?? layout.end);
    placeBar(endRow.bar, { left: layout.endPos, width: 0, value: 0 });
    baseValue.textContent = baseVal === null ? "n/a" : formatValue(baseVal);
    const label = getString(model, "prediction_label");
    prediction.textContent = pred === null ? "n/a" : label ? `${label}: ${formatValue(pred)}` : formatValue(pred);
    topk.max = String(Math.max(values.length, 1));
    const k = getNumber(model, "top_k", 0);
    const shown = k > 0 ? Math.min(k, values.length) : values.length;
    topk.value = String(shown);
    topkValue.textContent = `${shown} of ${values.length}`;
    mode.value = isWaterfall ? "waterfall" : "bars";
  };

  const draw = (): void => {
    values = getFloatArray(model, "values")?.data ?? new Float32Array(0);
    fvalues = getFloatArray(model, "feature_values")?.data ?? null;
    const errs = getFloatArray(model, "errors")?.data ?? null;
    errors = errs && errs.length === values.length ? errs : null;
    names = getStringList(model, "feature_names");
    categories = parseCategories(model.get("categories"), values.length);
    ensureRows(values.length);
    base.root.classList.toggle("nbx-has-whatif", getBool(model, "whatif"));
    whatif.sync(getBool(model, "whatif"), fvalues);
    relayout(!whatif.dragging);
  };

  const redraw = (): void => {
    safeDraw(base, draw);
  };

  // model.set redraws (base.onChange runs at the update's `change` event).
  topk.addEventListener("input", () => {
    model.set("top_k", Number(topk.value));
    model.save_changes();
  });
  mode.addEventListener("change", () => {
    model.set("mode", mode.value);
    model.save_changes();
  });

  base.onChange([...DRAW_TRAITS, "whatif", "slider_min", "slider_max", "slider_step", "sample", "categories"], redraw);
  base.onCleanup(() => whatif.dispose());
  redraw();
  return base.cleanup;
}
