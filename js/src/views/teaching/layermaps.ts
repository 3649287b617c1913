/**
 * The Grad-CAM-through-the-layers view (`_view = "layer_maps"`): one image's Grad-CAM map at
 * every stage of a network, on one slider that scrubs entirely in the browser (every stage's maps
 * are already here, so it works in a saved page too). The picture with the chosen stage's map
 * over it (opacity control), beside it the same map at the layer's own resolution, blocky (one
 * canvas pixel per cell), the stage's name, resolution and Grad-CAM's note, and a chart of one
 * number per stage (`layermapschart.ts`). Each stage is coloured on its own scale: the maps arrive
 * divided by the stage's peak (`peaks`), so the scale is 1. `stage`, `opacity` and `metric` are
 * saved back. See docs/PROTOCOL.md.
 */
import { table } from "../../core/colormaps";
import { createViewBase, safeDraw } from "../../core/common";
import { decodeArray, decodeBytes, type EncodedArray } from "../../core/codec";
import { debounce, formatValue, h, labelled, pixelBuffers, rangeInput, selectInput } from "../../core/dom";
import { buildStageChart, drawStageChart, markStage } from "./layermapschart";
import { allZero, anyNegative, camOffsets, clampStage, METRIC_TEXT, resolutionText, stagePlan } from "./layermapslayout";
import { buildLegend, updateLegend } from "../../core/legend";
import { paint, type ByteImage } from "../../core/scales";
import { followTheme } from "../../core/theme";
import { getEncoded, getNumber, getString, getStringList, type Model } from "../../core/traits";

const DATA_TRAITS = [
  "image", "maps", "cams", "cam_shapes", "resolutions", "peaks", "stage_names", "notes", "default_stage", "area",
  "deletion_auc", "random_auc", "input_shape", "output_label", "note", "width",
];

function shapes(model: Model, name: string): number[][] {
  const v: unknown = model.get(name);
  return Array.isArray(v) ? v.map((s) => (Array.isArray(s) ? s.map(Number) : [])) : [];
}

function decoded(model: Model, name: string): { shape: number[]; data: Float32Array } | null {
  const enc = getEncoded(model, name);
  return enc ? decodeArray(enc) : null;
}

/**
 * Render a layer-maps model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderLayerMaps(model, el);
 */
export function renderLayerMaps(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "layer_maps", "nbx-layer-maps");
  const controls = h("div", "nbx-controls nbx-lmap-controls");
  const slider = rangeInput("nbx-lmap-stage", { min: 0, max: 0, step: 1, value: 0, label: "stage of the network" });
  const stageValue = h("span", "nbx-control-value nbx-lmap-stage-value");
  const stageLabel = labelled("stage", slider);
  stageLabel.append(stageValue);
  const opacity = rangeInput("nbx-lmap-opacity", { min: 0, max: 1, step: 0.01, value: 0.5, label: "map opacity" });
  const metricSel = selectInput("nbx-lmap-metric", [], "");
  const metricLabel = labelled("chart", metricSel);
  controls.append(stageLabel, labelled("opacity", opacity), metricLabel);
  const note = h("div", "nbx-lmap-note");
  note.setAttribute("role", "note");
  const info = h("div", "nbx-lmap-info");
  const kind = h("span", "nbx-lmap-kind", "layer");
  const name = h("span", "nbx-lmap-name");
  const usual = h("span", "nbx-lmap-usual-badge", "the usual Grad-CAM layer");
  const resolution = h("div", "nbx-lmap-resolution");
  const stageNote = h("div", "nbx-lmap-stage-note");
  const head = h("div", "nbx-lmap-head");
  head.append(kind, name, usual);
  info.append(head, resolution, stageNote);
  const overlayTile = h("div", "nbx-lmap-tile");
  const overlayCap = h("div", "nbx-lmap-caption", "the map upsampled, over the picture");
  const overlay = h("canvas", "nbx-lmap-map nbx-lmap-overlay");
  const legend = buildLegend();
  overlayTile.append(overlayCap, overlay, legend.root);
  const rawTile = h("div", "nbx-lmap-tile");
  const rawCap = h("div", "nbx-lmap-caption", "the same map at the layer's own resolution");
  const raw = h("canvas", "nbx-lmap-map nbx-lmap-raw");
  rawTile.append(rawCap, raw);
  const mapsRow = h("div", "nbx-lmap-maps");
  mapsRow.append(overlayTile, rawTile);
  const hover = h("div", "nbx-lmap-hover");
  const summary = h("div", "nbx-lmap-summary");
  const chart = buildStageChart((s) => pick(s));
  base.body.append(controls, note, info, mapsRow, hover, chart.root, summary);

  let names: string[] = [];
  let maps: { shape: number[]; data: Float32Array } | null = null;
  let cams: Float32Array = new Float32Array(0);
  let camShapes: number[][] = [];
  let offsets: number[] = [0];
  let peaks: Float32Array = new Float32Array(0);
  let image: ByteImage | null = null;
  let signed = false;
  let current = -1;
  const imageData = pixelBuffers();

  /** Show stage `s` (no kernel): both canvases, the texts, the ring on the chart. */
  const showStage = (s: number): void => {
    const t0 = performance.now();
    if (!maps || names.length === 0) return;
    s = clampStage(s, names.length);
    current = s;
    slider.value = String(s);
    stageValue.textContent = `${s + 1} / ${names.length}`;
    const [, hh, ww] = maps.shape;
    const n = hh * ww;
    const values = maps.data.subarray(s * n, (s + 1) * n);
    const plan = stagePlan(values, signed);
    const img = imageData(overlay, hh, ww);
    paint(values, hh, ww, plan, { opacity: getNumber(model, "opacity", 0.5), threshold: 0, image, out: img.data });
    overlay.getContext("2d")?.putImageData(img, 0, 0);
    const [ch, cw] = camShapes[s];
    const camValues = cams.subarray(offsets[s], offsets[s + 1]);
    const rawImg = imageData(raw, ch, cw);
    paint(camValues, ch, cw, stagePlan(camValues, signed), { opacity: 1, threshold: 0, out: rawImg.data });
    raw.getContext("2d")?.putImageData(rawImg, 0, 0);
    const empty = allZero(camValues);
    const peak = empty ? 0 : peaks[s] ?? 1;
    updateLegend(legend, { ...plan, scale: empty ? 1 : peak }, table(plan.cmap), null,
      empty ? "this stage's map is 0 everywhere" : "this stage's own scale");
    if (empty) legend.max.textContent = "0";
    name.textContent = names[s];
    usual.hidden = s !== getNumber(model, "default_stage", -1);
    const res = shapes(model, "resolutions")[s] ?? [ch, cw];
    resolution.textContent = resolutionText(res, getStringList(model, "input_shape").map(Number));
    const text = getStringList(model, "notes")[s] ?? "";
    stageNote.textContent = text;
    stageNote.hidden = text === "";
    markStage(chart, s);
    base.root.dataset.stage = String(s);
    base.root.dataset.frameMs = (performance.now() - t0).toFixed(3);
  };

  const drawChart = (): void => {
    const metric = getString(model, "metric", "area");
    const values = decoded(model, metric === "deletion" ? "deletion_auc" : "area")?.data ?? new Float32Array(0);
    const text = METRIC_TEXT[metric] ?? METRIC_TEXT.area;
    drawStageChart(chart, {
      values, floor: metric === "deletion" ? getNumber(model, "random_auc", NaN) : NaN,
      labels: shapes(model, "resolutions").map((r) => r.join("x")), names, usual: getNumber(model, "default_stage", -1),
      label: text.label, caption: text.caption,
    });
    metricSel.value = metric;
    if (current >= 0) markStage(chart, current);
  };

  const drawData = (): void => {
    names = getStringList(model, "stage_names");
    maps = decoded(model, "maps");
    const flat = decoded(model, "cams");
    cams = flat?.data ?? new Float32Array(0);
    camShapes = shapes(model, "cam_shapes");
    offsets = camOffsets(camShapes, cams.length);
    peaks = decoded(model, "peaks")?.data ?? new Float32Array(names.length).fill(1);
    const enc = getEncoded(model, "image");
    const bytes = enc ? decodeBytes(enc as EncodedArray) : null;
    image = bytes ? { shape: bytes.shape, data: bytes.data } : null;
    if (maps && (maps.shape[0] !== names.length || camShapes.length !== names.length)) {
      throw new Error(`${maps.shape[0]} maps and ${camShapes.length} layer maps for ${names.length} stages`);
    }
    signed = anyNegative(maps?.data ?? []) || anyNegative(cams);
    slider.max = String(Math.max(0, names.length - 1));
    const options = getEncoded(model, "deletion_auc") ? ["deletion", "area"] : ["area"];
    if (metricSel.dataset.key !== options.join()) {
      metricSel.replaceChildren(...options.map((v) => {
        const option = h("option", "", METRIC_TEXT[v].label);
        option.value = v;
        return option;
      }));
      metricSel.dataset.key = options.join();
    }
    metricLabel.hidden = options.length < 2;
    const text = getString(model, "note");
    note.textContent = text;
    note.hidden = text === "";
    const width = `${getNumber(model, "width", 220)}px`;
    overlay.style.width = width;
    raw.style.width = width;
    summary.textContent = `Grad-CAM of ${getString(model, "output_label", "the output")}, at ${names.length} stage` +
      `${names.length === 1 ? "" : "s"} from the input (left) to the output (right).`;
    drawChart();
    showStage(getNumber(model, "stage", names.length - 1));
  };

  const save = debounce(() => model.save_changes(), 150);
  const pick = (s: number): void => {
    safeDraw(base, () => showStage(s));
    model.set("stage", current);
    save();
  };
  slider.addEventListener("input", () => pick(Number(slider.value)));
  slider.addEventListener("change", () => save.flush());
  opacity.addEventListener("input", () => {
    model.set("opacity", Number(opacity.value));
    safeDraw(base, () => showStage(current));
    save();
  });
  metricSel.addEventListener("change", () => {
    model.set("metric", metricSel.value);
    model.save_changes();
    safeDraw(base, drawChart);
  });
  const onHover = (event: MouseEvent): void => {
    const canvas = event.target instanceof HTMLCanvasElement ? event.target : null;
    if (!canvas || current < 0 || !maps) return;
    const box = canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * canvas.width);
    const row = Math.floor(((event.clientY - box.top) / box.height) * canvas.height);
    if (row < 0 || col < 0 || row >= canvas.height || col >= canvas.width) return;
    const cell = row * canvas.width + col;
    const v = canvas === raw ? cams[offsets[current] + cell] : maps.data[current * canvas.width * canvas.height + cell];
    const where = canvas === raw ? `cell (${row}, ${col}) of ${canvas.height} x ${canvas.width}` : `row ${row}, col ${col}`;
    hover.textContent = `${where}: ${formatValue(v * (peaks[current] ?? 1))} (${formatValue(v)} of this stage's peak)`;
  };
  mapsRow.addEventListener("mousemove", onHover);
  base.onCleanup(() => {
    save.flush();
    mapsRow.removeEventListener("mousemove", onHover);
  });
  base.onCleanup(followTheme(base.root, () => undefined));

  base.onChange(DATA_TRAITS, () => safeDraw(base, drawData));
  base.onChange(["metric"], () => safeDraw(base, drawChart));
  base.onChange(["stage"], () => {
    const s = clampStage(getNumber(model, "stage", 0), names.length);
    if (s !== current) safeDraw(base, () => showStage(s));
  });
  base.onChange(["opacity"], () => safeDraw(base, () => {
    opacity.value = String(getNumber(model, "opacity", 0.5));
    showStage(current);
  }));
  opacity.value = String(getNumber(model, "opacity", 0.5));
  safeDraw(base, drawData);
  return base.cleanup;
}
