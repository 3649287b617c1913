/**
 * The confusion-matrix view (`_view = "confusion_matrix"`): a DOM grid of counts (rows true class,
 * columns predicted), each cell coloured by its share of the row, the diagonal outlined, per-class
 * recall on the right and accuracy below. A click selects a cell (and sends `select`); a click on
 * the selected cell clears it and sends `select` too.
 */
import { SEQUENTIAL, lookup, type RGB } from "../../core/colormaps";
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { formatValue, h } from "../../core/dom";
import { getFloatArray, getString, getStringList, type Model } from "../../core/traits";

/** Row-normalised shares, recall per class and accuracy of a K x K count matrix (row-major). */
export interface MatrixSummary {
  k: number;
  share: Float64Array;
  recall: Float64Array;
  accuracy: number;
  total: number;
}

/**
 * Shares (count / row sum, 0 for an empty row), recall (diagonal / row sum, NaN for an empty row)
 * and accuracy (trace / total, NaN when empty).
 *
 * @example
 * summarize(new Float32Array([3, 1, 0, 4]), 2).accuracy; // 0.875
 */
export function summarize(counts: Float32Array, k: number): MatrixSummary {
  const share = new Float64Array(k * k);
  const recall = new Float64Array(k);
  let total = 0;
  let trace = 0;
  for (let t = 0; t < k; t++) {
    let row = 0;
    for (let p = 0; p < k; p++) row += counts[t * k + p];
    for (let p = 0; p < k; p++) share[t * k + p] = row > 0 ? counts[t * k + p] / row : 0;
    recall[t] = row > 0 ? counts[t * k + t] / row : NaN;
    total += row;
    trace += counts[t * k + t];
  }
  return { k, share, recall, accuracy: total > 0 ? trace / total : NaN, total };
}

/**
 * Black or white text, whichever reads better on `rgb` (relative luminance threshold 0.45).
 *
 * @example
 * textColor([255, 255, 255]); // "#000000"
 */
export function textColor(rgb: RGB): string {
  const lin = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return lum > 0.45 ? "#000000" : "#ffffff";
}

/**
 * Render a confusion-matrix model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderConfusionMatrix(model, el);
 */
export function renderConfusionMatrix(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "confusion_matrix", "nbx-confusion-matrix");
  const wrap = h("div", "nbx-cm");
  const trueTitle = h("div", "nbx-cm-axis-true", "true");
  const right = h("div", "nbx-cm-right");
  const predTitle = h("div", "nbx-cm-axis-pred", "predicted");
  const grid = h("div", "nbx-cm-grid");
  const accuracy = h("div", "nbx-cm-accuracy");
  right.append(predTitle, grid, accuracy);
  wrap.append(trueTitle, right);
  base.body.append(wrap);
  base.needsKernel("cell clicks", grid);
  let cells: HTMLDivElement[] = [];
  let k = 0;

  const selectedCell = (): [number, number] | null => {
    const v: unknown = model.get("selected");
    return Array.isArray(v) && v.length === 2 ? [Number(v[0]), Number(v[1])] : null;
  };

  const syncSelected = (): void => {
    const sel = selectedCell();
    cells.forEach((cell, idx) => {
      const on = sel !== null && sel[0] * k + sel[1] === idx;
      cell.classList.toggle("selected", on);
      cell.setAttribute("aria-pressed", String(on));
    });
  };

  const choose = (t: number, p: number): void => {
    if (!base.live()) return; // the explorer would not follow
    const sel = selectedCell();
    const again = sel !== null && sel[0] === t && sel[1] === p;
    model.set("selected", again ? null : [t, p]);
    model.save_changes();
    sendEvent(model, "select", { true: t, pred: p, selected: !again });
  };

  const draw = (): void => {
    const m = getFloatArray(model, "matrix");
    if (!m || m.shape.length !== 2 || m.shape[0] !== m.shape[1]) {
      throw new Error(`matrix must be K x K, got ${m ? `[${m.shape.join(", ")}]` : "nothing"}`);
    }
    k = m.shape[0];
    const names = getStringList(model, "class_names");
    const name = (i: number): string => names[i] ?? String(i);
    const normalize = getString(model, "normalize", "none") === "true";
    const cmapName = getString(model, "cmap", "viridis");
    const cmap = SEQUENTIAL.includes(cmapName) ? cmapName : "viridis";
    const s = summarize(m.data, k);
    grid.replaceChildren();
    grid.style.gridTemplateColumns = `auto repeat(${k}, minmax(48px, 1fr)) auto`;
    grid.append(h("div", "nbx-cm-corner"));
    for (let p = 0; p < k; p++) {
      const head = h("div", "nbx-cm-col-name", name(p));
      head.dataset.pred = String(p);
      head.title = `predicted ${name(p)}`;
      grid.append(head);
    }
    grid.append(h("div", "nbx-cm-recall-head", "recall"));
    cells = [];
    for (let t = 0; t < k; t++) {
      const rowName = h("div", "nbx-cm-row-name", name(t));
      rowName.dataset.true = String(t);
      rowName.title = `true ${name(t)}`;
      grid.append(rowName);
      for (let p = 0; p < k; p++) {
        const count = m.data[t * k + p];
        const share = s.share[t * k + p];
        const cell = h("div", "nbx-cm-cell", normalize ? formatValue(share) : String(count));
        cell.dataset.true = String(t);
        cell.dataset.pred = String(p);
        cell.dataset.count = String(count);
        cell.tabIndex = 0;
        cell.setAttribute("role", "button");
        if (t === p) cell.classList.add("nbx-cm-diag");
        const rgb = lookup(cmap, share);
        cell.style.background = `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
        cell.style.color = textColor(rgb);
        cell.title = `true ${name(t)}, predicted ${name(p)}: ${count} (${formatValue(100 * share)} % of true ${name(t)})`;
        cell.addEventListener("click", () => choose(t, p));
        cell.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            choose(t, p);
          }
        });
        cells.push(cell);
        grid.append(cell);
      }
      const recall = h("div", "nbx-cm-recall", Number.isNaN(s.recall[t]) ? "-" : formatValue(s.recall[t]));
      recall.dataset.true = String(t);
      grid.append(recall);
    }
    accuracy.textContent = `accuracy ${Number.isNaN(s.accuracy) ? "-" : formatValue(s.accuracy)} (n = ${s.total})`;
    syncSelected();
  };

  base.onChange(["matrix", "class_names", "normalize", "cmap"], () => safeDraw(base, draw));
  base.onChange(["selected"], () => safeDraw(base, syncSelected));
  safeDraw(base, draw);
  return base.cleanup;
}
