/**
 * The Integrated Gradients path view (`_view = "ig_path"`): how IG reaches its answer. An alpha
 * slider walks the straight path from the baseline to the input, entirely in the browser (every
 * alpha's arrays are already here): the interpolated input at alpha, the gradient there (a
 * diverging map, scaled per alpha or over the whole path), the attribution accumulated up to
 * alpha (one scale across alphas), and a chart of the model output along the path with the
 * rule's points as ticks and a marker at alpha. A second chart shows the completeness error
 * against the number of steps for each rule. Tables get bars per feature instead of maps
 * (`igpathbars.ts`). The baseline, rule and steps pickers recompute in Python (greyed without a
 * kernel); `alpha`, `baseline` and `gradient_scale` are saved back. See docs/PROTOCOL.md.
 */
import { table } from "../../core/colormaps";
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { decodeArray, decodeBytes, type EncodedArray } from "../../core/codec";
import { debounce, formatValue, h, labelled, pixelBuffers, rangeInput, selectInput } from "../../core/dom";
import { buildIGBars, type IGBars } from "./igpathbars";
import { buildConvergenceChart, buildCurveChart, drawConvergence, drawCurve, moveMarker } from "./igpathcharts";
import { frameRGBA, frameScales, mergeCurve, nearestIndex, sharedScale } from "./igpathlayout";
import { buildLegend, updateLegend, type Legend } from "../../core/legend";
import { paint, type ColorPlan } from "../../core/scales";
import { followTheme } from "../../core/theme";
import { getEncoded, getNumber, getString, getStringList, type Model } from "../../core/traits";

const DATA_TRAITS = [
  "kind", "alphas", "frames", "inputs", "gradients", "accumulated", "accumulated_sum", "outputs", "points", "weights",
  "point_outputs", "fx", "fb", "delta", "feature_names", "output_label", "note", "rule", "steps", "baseline",
  "baseline_options", "baseline_labels", "rules", "steps_options", "width",
];
const CONV_TRAITS = ["convergence", "convergence_rules", "convergence_steps", "convergence_seconds", "rule", "steps", "fx", "fb"];
const CMAP = "RdBu_r";

/** A diverging colour plan with a fixed scale (the view picks the scale, not the data). */
function fixedPlan(scale: number): ColorPlan {
  return { scale, cmap: CMAP, diverging: true, signed: true, noData: 0 };
}

function decoded(model: Model, name: string): { shape: number[]; data: Float32Array } | null {
  const enc = getEncoded(model, name);
  return enc ? decodeArray(enc) : null;
}

/** One map tile: caption, canvas (one pixel per cell, scaled by CSS) and its legend. */
interface Tile {
  root: HTMLDivElement;
  caption: HTMLDivElement;
  canvas: HTMLCanvasElement;
  legend: Legend | null;
}

function buildTile(cls: string, caption: string, withLegend: boolean): Tile {
  const root = h("div", `nbx-igp-tile ${cls}-tile`);
  const cap = h("div", "nbx-igp-caption", caption);
  const canvas = h("canvas", `nbx-igp-map ${cls}`);
  const legend = withLegend ? buildLegend() : null;
  root.append(cap, canvas);
  if (legend) root.append(legend.root);
  return { root, caption: cap, canvas, legend };
}

/**
 * Render an IG path model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderIGPath(model, el);
 */
export function renderIGPath(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "ig_path", "nbx-ig-path");
  const controls = h("div", "nbx-controls nbx-igp-controls");
  const baselineSel = selectInput("nbx-igp-baseline", [], "");
  const ruleSel = selectInput("nbx-igp-rule", [], "");
  const stepsSel = selectInput("nbx-igp-steps", [], "");
  const slider = rangeInput("nbx-igp-alpha", { min: 0, max: 1, step: 1, value: 0, label: "alpha along the path" });
  const alphaValue = h("span", "nbx-control-value nbx-igp-alpha-value");
  const alphaLabel = labelled("alpha", slider);
  alphaLabel.append(alphaValue);
  const gscale = selectInput("nbx-igp-gscale", ["alpha", "path"], "alpha", { alpha: "this alpha", path: "whole path" });
  controls.append(labelled("baseline", baselineSel), labelled("rule", ruleSel), labelled("steps", stepsSel), alphaLabel,
    labelled("gradient scale", gscale));
  const note = h("div", "nbx-igp-note");
  note.setAttribute("role", "note");
  const stage = h("div", "nbx-igp-stage");
  const tiles = {
    input: buildTile("nbx-igp-input", "input at alpha", false),
    gradient: buildTile("nbx-igp-gradient", "gradient at alpha", true),
    accumulated: buildTile("nbx-igp-accumulated", "attribution up to alpha", true),
  };
  const maps = h("div", "nbx-igp-maps");
  maps.append(tiles.input.root, tiles.gradient.root, tiles.accumulated.root);
  const hover = h("div", "nbx-igp-hover");
  const status = h("div", "nbx-igp-status");
  const summary = h("div", "nbx-igp-summary");
  const curve = buildCurveChart();
  const conv = buildConvergenceChart();
  const convEmpty = h("div", "nbx-igp-conv-empty");
  const convText = h("span", "nbx-igp-conv-text");
  const compute = h("button", "nbx-igp-conv-compute", "compute");
  compute.type = "button";
  convEmpty.append(convText, compute);
  const charts = h("div", "nbx-igp-charts");
  charts.append(curve.root, conv.root);
  base.body.append(controls, note, stage, status, charts, summary);
  base.needsKernel("baseline, rule and steps", baselineSel, ruleSel, stepsSel, compute);

  let alphas: Float32Array = new Float32Array(0);
  let outputs: Float32Array = new Float32Array(0);
  let accSum: Float32Array = new Float32Array(0);
  let frames: { shape: number[]; data: Uint8Array } | null = null;
  let gradients: { shape: number[]; data: Float32Array } | null = null;
  let accumulated: { shape: number[]; data: Float32Array } | null = null;
  let gradScales: Float64Array = new Float64Array(0);
  let gradPath = 1;
  let accScale = 1;
  let bars: IGBars | null = null;
  let current = -1;
  const imageData = pixelBuffers();

  const paintMap = (tile: Tile, data: Float32Array, g: number, hh: number, ww: number, scale: number, caption: string): void => {
    const img = imageData(tile.canvas, hh, ww);
    const n = hh * ww;
    const plan = fixedPlan(scale);
    paint(data.subarray(g * n, (g + 1) * n), hh, ww, plan, { opacity: 1, threshold: 0, out: img.data });
    tile.canvas.getContext("2d")?.putImageData(img, 0, 0);
    if (tile.legend) updateLegend(tile.legend, plan, table(CMAP), null, caption);
  };

  /** Show frame `g` (no kernel): maps or bars, marker, read-outs. */
  const showFrame = (g: number): void => {
    const t0 = performance.now();
    const count = alphas.length;
    if (count === 0) return;
    g = Math.min(Math.max(g, 0), count - 1);
    current = g;
    slider.value = String(g);
    const alpha = alphas[g];
    alphaValue.textContent = alpha.toFixed(3);
    const gscaleMode = getString(model, "gradient_scale", "alpha");
    const gScale = gscaleMode === "path" ? gradPath : gradScales[g] ?? 1;
    const gCaption = gscaleMode === "path" ? "scale: whole path" : "scale: this alpha";
    if (bars) {
      bars.show(g, gscaleMode === "path");
    } else if (gradients && accumulated) {
      const [, hh, ww] = gradients.shape;
      if (frames) {
        const [, fh, fw] = frames.shape;
        const img = imageData(tiles.input.canvas, fh, fw);
        frameRGBA(frames.data, g, fh, fw, frames.shape.length === 4 ? 3 : 1, img.data);
        tiles.input.canvas.getContext("2d")?.putImageData(img, 0, 0);
      }
      paintMap(tiles.gradient, gradients.data, g, hh, ww, gScale, gCaption);
      paintMap(tiles.accumulated, accumulated.data, g, hh, ww, accScale, "one scale for all alphas");
    }
    const out = outputs[g];
    moveMarker(curve, alpha, out);
    const fb = getNumber(model, "fb", NaN);
    status.textContent = `alpha ${alpha.toFixed(3)}: ${getString(model, "output_label", "output")} = ${formatValue(out)}; ` +
      `f(baseline) + attribution up to alpha = ${formatValue(fb + accSum[g])}`;
    base.root.dataset.frame = String(g);
    base.root.dataset.frameMs = (performance.now() - t0).toFixed(3);
  };

  const fillSelect = (sel: HTMLSelectElement, values: string[], labels: string[], chosen: string): void => {
    const key = values.map((v, i) => `${v}\u0000${labels[i] ?? v}`).join("\u0001");
    if (sel.dataset.key !== key) {
      sel.replaceChildren(...values.map((v, i) => {
        const option = h("option", "", labels[i] ?? v);
        option.value = v;
        return option;
      }));
      sel.dataset.key = key;
    }
    sel.value = chosen;
  };

  const drawData = (): void => {
    const kind = getString(model, "kind", "image");
    alphas = decoded(model, "alphas")?.data ?? new Float32Array(0);
    outputs = decoded(model, "outputs")?.data ?? new Float32Array(0);
    accSum = decoded(model, "accumulated_sum")?.data ?? new Float32Array(alphas.length);
    gradients = decoded(model, "gradients");
    accumulated = decoded(model, "accumulated");
    const enc = getEncoded(model, "frames");
    frames = enc ? decodeBytes(enc as EncodedArray) : null;
    const count = alphas.length;
    if (gradients && gradients.shape[0] !== count) throw new Error(`${gradients.shape[0]} gradient maps for ${count} alphas`);
    const size = gradients ? gradients.data.length / Math.max(1, count) : 0;
    gradScales = gradients ? frameScales(gradients.data, count, size) : new Float64Array(0);
    gradPath = sharedScale(gradScales);
    accScale = accumulated ? sharedScale(frameScales(accumulated.data, count, size)) : 1;
    fillSelect(baselineSel, getStringList(model, "baseline_options"), getStringList(model, "baseline_labels"),
      getString(model, "baseline"));
    const rules = getStringList(model, "rules");
    fillSelect(ruleSel, rules, rules, getString(model, "rule"));
    const steps = getStringList(model, "steps_options");
    fillSelect(stepsSel, steps, steps, String(getNumber(model, "steps", 0)));
    gscale.value = getString(model, "gradient_scale", "alpha");
    slider.max = String(Math.max(0, count - 1));
    const text = getString(model, "note");
    note.textContent = text;
    note.hidden = text === "";
    const width = `${getNumber(model, "width", 160)}px`;
    for (const tile of Object.values(tiles)) tile.canvas.style.width = width;
    if (kind === "table" && gradients && accumulated) {
      const inputs = decoded(model, "inputs");
      bars = bars ?? buildIGBars();
      bars.setData(getStringList(model, "feature_names"), inputs?.data ?? null, gradients.data, accumulated.data, count);
      stage.replaceChildren(bars.root);
    } else {
      bars = null;
      tiles.input.root.hidden = frames === null;
      stage.replaceChildren(maps, hover);
    }
    const points = decoded(model, "points")?.data ?? new Float32Array(0);
    const merged = mergeCurve(alphas, outputs, points, decoded(model, "point_outputs")?.data ?? new Float32Array(0));
    drawCurve(curve, {
      ...merged, alphas, accumulatedSum: accSum, fb: getNumber(model, "fb", NaN), fx: getNumber(model, "fx", NaN),
      points, weights: decoded(model, "weights")?.data ?? new Float32Array(0), outputs,
      label: getString(model, "output_label", "output"),
    });
    const fx = getNumber(model, "fx", NaN);
    const fb = getNumber(model, "fb", NaN);
    summary.textContent = `Integrated Gradients (${getString(model, "rule")}, ${getNumber(model, "steps", 0)} steps): ` +
      `sum of the attribution = ${formatValue(fx - fb + getNumber(model, "delta", NaN))}, f(x) - f(baseline) = ` +
      `${formatValue(fx - fb)}, completeness error = ${formatValue(getNumber(model, "delta", NaN))}`;
    showFrame(nearestIndex(alphas, getNumber(model, "alpha", 1)));
  };

  const drawConv = (): void => {
    const errors = decoded(model, "convergence");
    const rules = getStringList(model, "convergence_rules");
    const steps = getStringList(model, "convergence_steps").map(Number);
    if (!errors || errors.shape.length !== 2 || errors.shape[0] !== rules.length || errors.shape[1] !== steps.length) {
      const secs = getNumber(model, "convergence_seconds", NaN);
      convText.textContent = "Completeness error against the number of steps: not computed yet" +
        (Number.isFinite(secs) ? ` (about ${formatValue(secs)} s). ` : ". ");
      conv.svg.replaceChildren();
      conv.legend.replaceChildren();
      conv.root.prepend(convEmpty);
      return;
    }
    convEmpty.remove();
    drawConvergence(conv, {
      rules, steps, errors: errors.data, rule: getString(model, "rule"), chosenSteps: getNumber(model, "steps", 0),
      scale: getNumber(model, "fx", 0) - getNumber(model, "fb", 0),
    });
  };

  const saveAlpha = debounce(() => model.save_changes(), 150);
  slider.addEventListener("input", () => {
    const g = Number(slider.value);
    safeDraw(base, () => showFrame(g));
    model.set("alpha", alphas[current] ?? 1);
    saveAlpha();
  });
  slider.addEventListener("change", () => saveAlpha.flush());
  const choose = (trait: string, value: string | number): void => {
    model.set(trait, value);
    model.save_changes();
  };
  baselineSel.addEventListener("change", () => choose("baseline", baselineSel.value));
  ruleSel.addEventListener("change", () => choose("rule", ruleSel.value));
  stepsSel.addEventListener("change", () => choose("steps", Number(stepsSel.value)));
  gscale.addEventListener("change", () => {
    choose("gradient_scale", gscale.value);
    safeDraw(base, () => showFrame(current));
  });
  compute.addEventListener("click", () => sendEvent(model, "convergence"));
  const onHover = (event: MouseEvent): void => {
    const canvas = event.target instanceof HTMLCanvasElement ? event.target : null;
    const src = canvas === tiles.gradient.canvas ? gradients : canvas === tiles.accumulated.canvas ? accumulated : null;
    if (!canvas || !src || current < 0) return;
    const box = canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * canvas.width);
    const row = Math.floor(((event.clientY - box.top) / box.height) * canvas.height);
    if (row < 0 || col < 0 || row >= canvas.height || col >= canvas.width) return;
    const v = src.data[current * canvas.width * canvas.height + row * canvas.width + col];
    hover.textContent = `row ${row}, col ${col}: ${formatValue(v)} (${src === gradients ? "gradient" : "attribution"})`;
  };
  maps.addEventListener("mousemove", onHover);
  base.onCleanup(() => {
    saveAlpha.flush();
    maps.removeEventListener("mousemove", onHover);
  });
  base.onCleanup(followTheme(base.root, () => undefined));

  base.onChange(DATA_TRAITS, () => safeDraw(base, drawData));
  base.onChange(CONV_TRAITS, () => safeDraw(base, drawConv));
  base.onChange(["alpha"], () => {
    const g = nearestIndex(alphas, getNumber(model, "alpha", 1));
    if (g !== current) safeDraw(base, () => showFrame(g));
  });
  base.onChange(["gradient_scale"], () => safeDraw(base, () => {
    gscale.value = getString(model, "gradient_scale", "alpha");
    showFrame(current);
  }));
  safeDraw(base, drawData);
  safeDraw(base, drawConv);
  return base.cleanup;
}
