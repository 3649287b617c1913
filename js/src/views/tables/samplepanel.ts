/**
 * The sample panel (`_view = "sample_panel"`): which sample this is, the input (an image or a
 * table of feature values), the top-k predicted classes and the true label.
 */
import { createViewBase, safeDraw } from "../../core/common";
import { formatValue, h } from "../../core/dom";
import { getFloatArray, getImage, getNumber, getString, getStringList, type Model } from "../../core/traits";
import { choiceIndex, parseCategories, type Category } from "./whatif";

const DRAW_TRAITS = ["kind", "image", "row_names", "row_values", "categories", "class_names", "probabilities", "true_label", "top_k", "index", "n_samples", "text", "note"];

/**
 * Class indices ordered by probability, best first (NaN last; ties keep class order), at most `k`.
 *
 * @example
 * topClasses(new Float32Array([0.1, 0.7, 0.2]), 2); // [1, 2]
 */
export function topClasses(probabilities: Float32Array, k: number): number[] {
  const key = (i: number): number => (Number.isNaN(probabilities[i]) ? -Infinity : probabilities[i]);
  const order = Array.from({ length: probabilities.length }, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
  return order.slice(0, Math.max(0, Math.floor(k)));
}

/**
 * A probability with two decimals, three when two would round it to 0 or 1, else ">0.999" or
 * "<0.001" (a saturated 1.0 too: it never reads "1"); non-finite values "n/a". The same rule as
 * Python's `nbexplain.widgets._format.format_probability`, so a sample reads alike everywhere.
 *
 * @example
 * formatProbability(0.9712); // "0.97"
 * formatProbability(0.996);  // "0.996"
 * formatProbability(1);      // ">0.999"
 */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return "n/a";
  for (const digits of [2, 3]) {
    const text = p.toFixed(digits);
    const v = Number(text);
    if (v > 0 && v < 1) return text;
  }
  return p > 0.5 ? ">0.999" : "<0.001";
}

/**
 * "P = 0.97", or "P > 0.999" / "P < 0.001" at the ends (Python's `probability_phrase`).
 *
 * @example
 * probabilityPhrase(0.03); // "P = 0.03"
 * probabilityPhrase(1);    // "P > 0.999"
 */
export function probabilityPhrase(p: number): string {
  const text = formatProbability(p);
  return text[0] === ">" || text[0] === "<" ? `P ${text[0]} ${text.slice(1)}` : `P = ${text}`;
}

/**
 * Whether every finite value lies in [0, 1] (then they are shown as probabilities).
 *
 * @example
 * areProbabilities(new Float32Array([0.2, 0.8])); // true
 * areProbabilities(new Float32Array([2.5, -1])); // false
 */
export function areProbabilities(values: Float32Array): boolean {
  return values.every((v) => !Number.isFinite(v) || (v >= 0 && v <= 1));
}

/**
 * RGBA pixels for an 8-bit image, H x W (grey, replicated) or H x W x 3.
 *
 * @example
 * imageToRgba({ shape: [1, 1], data: new Uint8Array([7]) }); // Uint8ClampedArray [7, 7, 7, 255]
 */
export function imageToRgba(image: { shape: number[]; data: Uint8Array }): Uint8ClampedArray {
  const [hgt, wid, c = 1] = image.shape;
  if (!(image.shape.length === 2 || (image.shape.length === 3 && c === 3))) {
    throw new Error(`image must be H x W or H x W x 3, got [${image.shape.join(", ")}]`);
  }
  const out = new Uint8ClampedArray(hgt * wid * 4);
  for (let i = 0; i < hgt * wid; i++) {
    const g = c === 3 ? 1 : 0;
    out[i * 4] = image.data[i * c];
    out[i * 4 + 1] = image.data[i * c + g];
    out[i * 4 + 2] = image.data[i * c + 2 * g];
    out[i * 4 + 3] = 255;
  }
  return out;
}

function drawImage(canvas: HTMLCanvasElement, image: { shape: number[]; data: Uint8Array }): void {
  const rgba = imageToRgba(image);
  const [hgt, wid] = image.shape;
  canvas.width = wid;
  canvas.height = hgt;
  const ctx = canvas.getContext("2d");
  if (!ctx || wid === 0 || hgt === 0) return;
  const img = new ImageData(wid, hgt);
  img.data.set(rgba);
  ctx.putImageData(img, 0, 0);
}

/**
 * A table cell's text: the category's label for a categorical feature (a DataFrame's strings),
 * else the number.
 *
 * @example
 * cellText(1, [{ value: 0, label: "f" }, { value: 1, label: "m" }]); // "m"
 * cellText(2.5, null); // "2.5"
 */
export function cellText(v: number, choices: Category[] | null): string {
  const j = choices ? choiceIndex(choices, v) : -1;
  return choices && j >= 0 ? choices[j].label : formatValue(v);
}

function buildTable(names: string[], values: Float32Array | null, categories: Array<Category[] | null>): HTMLTableElement {
  const table = h("table", "nbx-sample-table");
  const count = Math.max(names.length, values?.length ?? 0);
  for (let i = 0; i < count; i++) {
    const tr = h("tr");
    tr.dataset.index = String(i);
    const choices = categories[i] ?? null;
    const cell = h("td", choices ? "nbx-sample-value nbx-sample-category" : "nbx-sample-value", values ? cellText(values[i], choices) : "");
    tr.append(h("td", "nbx-sample-name", names[i] ?? `feature ${i}`), cell);
    table.append(tr);
  }
  return table;
}

function buildPredictions(classNames: string[], probs: Float32Array, k: number): HTMLDivElement {
  const box = h("div", "nbx-preds");
  const format = areProbabilities(probs) ? formatProbability : formatValue;
  for (const i of topClasses(probs, k)) {
    const row = h("div", "nbx-pred-row");
    row.dataset.index = String(i);
    const track = h("div", "nbx-pred-track");
    const bar = h("div", "nbx-pred-bar");
    const p = probs[i];
    bar.style.width = `${Number.isFinite(p) ? Math.min(Math.max(p, 0), 1) * 100 : 0}%`;
    track.append(bar);
    row.append(h("span", "nbx-pred-label", classNames[i] ?? `class ${i}`), track, h("span", "nbx-pred-prob", format(p)));
    box.append(row);
  }
  return box;
}

/**
 * Render a sample-panel model into `el`; returns the cleanup function.
 * The index is shown as given (0-based, like the Python index): "sample 0 of 100".
 *
 * @example
 * const cleanup = renderSamplePanel(model, el);
 */
export function renderSamplePanel(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "sample_panel", "nbx-sample-panel");

  const draw = (): void => {
    const index = h("div", "nbx-sample-index", `sample ${getNumber(model, "index", 0)} of ${getNumber(model, "n_samples", 0)}`);
    const input = h("div", "nbx-sample-input");
    const kind = getString(model, "kind", "image");
    if (kind === "text") {
      input.append(h("div", "nbx-sample-text", getString(model, "text")));
    } else if (kind === "table") {
      const rowValues = getFloatArray(model, "row_values")?.data ?? null;
      const rowNames = getStringList(model, "row_names");
      const categories = parseCategories(model.get("categories"), Math.max(rowNames.length, rowValues?.length ?? 0));
      input.append(buildTable(rowNames, rowValues, categories));
    } else {
      const image = getImage(model, "image");
      if (image) {
        const canvas = h("canvas", "nbx-sample-image");
        drawImage(canvas, image);
        input.append(canvas);
      }
    }
    const classNames = getStringList(model, "class_names");
    const probs = getFloatArray(model, "probabilities")?.data ?? null;
    const side = h("div", "nbx-sample-side");
    if (probs && probs.length > 0) {
      const best = topClasses(probs, 1)[0];
      const predictedName = classNames[best] ?? `class ${best}`;
      const predicted = h("div", "nbx-predicted-line");
      const p = probs[best];
      const value = areProbabilities(probs) ? `, ${probabilityPhrase(p)}` : `: ${formatValue(p)}`;
      predicted.append(h("span", "nbx-summary-label", "predicted"), h("span", "nbx-predicted", predictedName),
        h("span", "nbx-predicted-p", value));
      side.append(predicted, buildPredictions(classNames, probs, getNumber(model, "top_k", 3)));
      const truth = getString(model, "true_label");
      if (truth) {
        const line = h("div", "nbx-true-line");
        const label = h("span", `nbx-true-label ${truth === predictedName ? "correct" : "wrong"}`, truth);
        line.append(h("span", "nbx-summary-label", "true"), label);
        side.append(line);
      }
    } else {
      const truth = getString(model, "true_label");
      if (truth) side.append(h("span", "nbx-true-label", truth));
    }
    const content = h("div", "nbx-sample-content");
    content.append(input, side);
    const noteText = getString(model, "note");
    const note = h("div", "nbx-sample-note", noteText);
    note.hidden = !noteText;
    note.setAttribute("role", "status");
    base.body.replaceChildren(index, note, content);
  };

  const redraw = (): void => {
    safeDraw(base, draw);
  };
  base.onChange(DRAW_TRAITS, redraw);
  redraw();
  return base.cleanup;
}
