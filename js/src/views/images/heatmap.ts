/**
 * The heatmap view (`_view = "heatmap"`): one canvas pixel per cell, scaled by CSS, coloured by
 * `scales.ts` (the sign modes' colours by `signplan.ts`), with controls that redraw in the
 * browser at once (each slider shows its value) and then save to Python, and a note above the
 * map: the `note` trait (e.g. why a Grad-CAM map is empty), or, when every cell shown is 0, that.
 */
import { COLORMAP_NAMES, table } from "../../core/colormaps";
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { formatValue, h, labelled, rangeInput, selectInput } from "../../core/dom";
import { buildLegend, updateLegend } from "../../core/legend";
import { allZero, halfOf, paintThreshold, signPlan } from "./signplan";
import {
  REDUCE_RULES,
  SIGN_MODES,
  applySign,
  paint,
  planColors,
  reduceChannels,
  type ColorPlan,
  type ReduceRule,
  type SignMode,
} from "../../core/scales";
import { getEncoded, getImage, getNumber, getBool, getString, type Model } from "../../core/traits";
import { decodeArray, type DecodedArray, type EncodedArray } from "../../core/codec";

/** Traits whose change from Python means a redraw. */
const DRAW_TRAITS = ["values", "image", "reduce", "sign", "cmap", "opacity", "clip_percentile", "threshold", "note"];

/** A slider's value as its read-out shows it. */
function sliderText(input: HTMLInputElement): string {
  return formatValue(Number(input.value));
}

function cellAt(canvas: HTMLCanvasElement, event: MouseEvent): [number, number] | null {
  const rect = canvas.getBoundingClientRect();
  if (rect.width === 0 || rect.height === 0) return null;
  const col = Math.floor(((event.clientX - rect.left) / rect.width) * canvas.width);
  const row = Math.floor(((event.clientY - rect.top) / rect.height) * canvas.height);
  if (row < 0 || col < 0 || row >= canvas.height || col >= canvas.width) return null;
  return [row, col];
}

/**
 * Render a heatmap model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderHeatmap(model, el);
 */
export function renderHeatmap(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "heatmap", "nbx-heatmap");
  const controls = h("div", "nbx-controls");
  const stage = h("div", "nbx-stage");
  const canvas = h("canvas", "nbx-heatmap-canvas");
  const tooltip = h("div", "nbx-tooltip");
  tooltip.hidden = true;
  stage.append(canvas, tooltip);
  const legend = buildLegend();
  const note = h("div", "nbx-heatmap-note");
  note.setAttribute("role", "note");
  note.hidden = true;
  base.body.append(controls, note, stage, legend.root);

  const opacity = rangeInput("nbx-opacity", { min: 0, max: 1, step: 0.01, value: 0.6, label: "opacity" });
  const cmap = selectInput("nbx-cmap", ["auto", ...COLORMAP_NAMES], "auto");
  const sign = selectInput("nbx-sign", SIGN_MODES, "both");
  const clip = rangeInput("nbx-clip", { min: 50, max: 100, step: 0.1, value: 99, label: "clip percentile" });
  const threshold = rangeInput("nbx-threshold", { min: 0, max: 1, step: 0.01, value: 0, label: "threshold" });
  const reduce = selectInput("nbx-reduce", REDUCE_RULES, "sum");
  const reduceLabel = labelled("reduce", reduce);
  /** Each slider with its value beside it (updated as it moves and when Python sets it). */
  const readouts = new Map<HTMLInputElement, HTMLSpanElement>();
  const withValue = (text: string, input: HTMLInputElement): HTMLLabelElement => {
    const label = labelled(text, input);
    const value = h("span", "nbx-control-value", sliderText(input));
    label.append(value);
    readouts.set(input, value);
    return label;
  };
  const syncReadouts = (): void => {
    for (const [input, value] of readouts) value.textContent = sliderText(input);
  };
  controls.append(
    withValue("opacity", opacity),
    labelled("colours", cmap),
    labelled("sign", sign),
    withValue("clip %", clip),
    withValue("threshold", threshold),
  );

  // Caches: each stage reruns only when its inputs change, so a colour map, opacity or
  // threshold change only repaints.
  const ctx = canvas.getContext("2d");
  let decodedFrom: EncodedArray | null = null;
  let decoded: DecodedArray | null = null;
  let reducedKey: [DecodedArray | null, string] = [null, ""];
  let reduced: Float32Array = new Float32Array(0);
  let shownKey: [Float32Array | null, string] = [null, ""];
  let shown: Float32Array = new Float32Array(0);
  let planKey: [Float32Array | null, number] = [null, NaN];
  let basePlan: ColorPlan | null = null;
  let pixels: ImageData | null = null;

  const draw = (): void => {
    const enc = getEncoded(model, "values");
    // Size the canvas (DOM work) before the timer; the shape is checked after decoding.
    const [hgt, wid] = enc && enc.shape.length >= 2 ? enc.shape.slice(-2) : [0, 0];
    if (canvas.width !== wid) canvas.width = wid;
    if (canvas.height !== hgt) canvas.height = hgt;
    const t0 = performance.now();
    if (enc !== decodedFrom) {
      decoded = enc ? decodeArray(enc) : null;
      decodedFrom = enc;
    }
    const shape = decoded?.shape ?? [0, 0];
    if (shape.length !== 2 && shape.length !== 3) throw new Error(`values must be H x W or C x H x W, got [${shape.join(", ")}]`);
    const rule = getString(model, "reduce", "sum") as ReduceRule;
    if (decoded && (reducedKey[0] !== decoded || reducedKey[1] !== rule)) {
      reduced = reduceChannels(decoded.data, decoded.shape, rule);
      reducedKey = [decoded, rule];
    }
    const signMode = getString(model, "sign", "both") as SignMode;
    const source = decoded ? reduced : null;
    if (shownKey[0] !== source || shownKey[1] !== signMode) {
      shown = source ? applySign(source, signMode) : new Float32Array(0);
      shownKey = [source, signMode];
    }
    const clipPercentile = getNumber(model, "clip_percentile", 99);
    if (!basePlan || planKey[0] !== shown || planKey[1] !== clipPercentile) {
      basePlan = planColors(shown, { cmap: "auto", clipPercentile });
      planKey = [shown, clipPercentile];
    }
    const plan = signPlan(basePlan, getString(model, "cmap", "auto"), signMode);
    if (!pixels || pixels.width !== wid || pixels.height !== hgt) pixels = wid > 0 && hgt > 0 ? new ImageData(wid, hgt) : null;
    const rgba = paint(shown, hgt, wid, plan, {
      opacity: getNumber(model, "opacity", 0.6),
      threshold: paintThreshold(getNumber(model, "threshold", 0), signMode),
      image: getImage(model, "image"),
      out: pixels?.data,
    });
    if (ctx && pixels) {
      if (rgba !== pixels.data) pixels.data.set(rgba);
      ctx.putImageData(pixels, 0, 0);
    }
    base.root.dataset.drawMs = (performance.now() - t0).toFixed(3);
    const half = halfOf(signMode);
    updateLegend(legend, plan, table(plan.cmap), half, half && plan.diverging ? "0: not coloured" : "");
    const given = getString(model, "note");
    const empty = decoded !== null && allZero(shown);
    note.textContent = given || (empty ? `every cell of this map is 0${signMode === "both" ? "" : ` (sign: ${signMode})`}` : "");
    note.hidden = note.textContent === "";
    if (shape.length === 3) controls.append(reduceLabel);
    else reduceLabel.remove();
  };

  const syncControls = (): void => {
    opacity.value = String(getNumber(model, "opacity", 0.6));
    cmap.value = getString(model, "cmap", "auto");
    sign.value = getString(model, "sign", "both");
    clip.value = String(getNumber(model, "clip_percentile", 99));
    threshold.value = String(getNumber(model, "threshold", 0));
    reduce.value = getString(model, "reduce", "sum");
    syncReadouts();
    controls.hidden = !getBool(model, "show_controls", true);
    const width = getNumber(model, "width", 280);
    canvas.style.width = `${width}px`;
    note.style.maxWidth = `${Math.max(width, 260)}px`; // a long note wraps instead of widening the view
  };

  const redraw = (): void => {
    syncControls();
    safeDraw(base, draw);
  };

  /** A control changed: set the trait, redraw now (if the change event did not), save. */
  const bind = (input: HTMLInputElement | HTMLSelectElement, trait: string, numeric: boolean): void => {
    const handler = (): void => {
      const before = base.draws();
      model.set(trait, numeric ? Number(input.value) : input.value);
      const readout = input instanceof HTMLInputElement ? readouts.get(input) : undefined;
      if (readout) readout.textContent = sliderText(input as HTMLInputElement);
      if (base.draws() === before) redraw();
      model.save_changes();
    };
    input.addEventListener(input instanceof HTMLSelectElement ? "change" : "input", handler);
  };
  bind(opacity, "opacity", true);
  bind(cmap, "cmap", false);
  bind(sign, "sign", false);
  bind(clip, "clip_percentile", true);
  bind(threshold, "threshold", true);
  bind(reduce, "reduce", false);

  canvas.addEventListener("mousemove", (event) => {
    const cell = cellAt(canvas, event);
    if (!cell) {
      tooltip.hidden = true;
      return;
    }
    const [row, col] = cell;
    const v = shown[row * canvas.width + col];
    const label = getString(model, "value_label", "attribution");
    const text = Number.isFinite(v) ? `${formatValue(v)}${label ? ` (${label})` : ""}` : "no data";
    tooltip.textContent = `row ${row}, col ${col}: ${text}`;
    tooltip.hidden = false;
    const rect = canvas.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - rect.left + 12}px`;
    tooltip.style.top = `${event.clientY - rect.top + 12}px`;
  });
  canvas.addEventListener("mouseleave", () => {
    tooltip.hidden = true;
  });
  canvas.addEventListener("click", (event) => {
    const cell = cellAt(canvas, event);
    if (!cell || !base.live()) return;
    model.set("selected", cell);
    model.save_changes();
    sendEvent(model, "click", { row: cell[0], col: cell[1] });
  });

  base.needsKernel("clicks", canvas);
  base.onChange(DRAW_TRAITS, redraw);
  base.onChange(["width", "show_controls"], syncControls);
  redraw();
  return base.cleanup;
}
