/**
 * The table form of the Integrated Gradients path view: one row per feature (the features with
 * the largest final attribution first, at most {@link MAX_ROWS}), with the feature's value at
 * alpha, the gradient there and the attribution accumulated up to alpha as signed bars around a
 * zero axis. The attribution bars share one scale across alphas; the gradient bars one per alpha
 * or one for the path. Names are set with `textContent` only.
 */
import { orderByMagnitude, shownCount } from "../../core/barlayout";
import { formatValue, h } from "../../core/dom";
import { signedSpan, tableScale } from "./igpathlayout";

/** The most feature rows shown; the note under the bars says how many more there are. */
export const MAX_ROWS = 20;

interface Row {
  value: HTMLSpanElement;
  gbar: HTMLDivElement;
  gvalue: HTMLSpanElement;
  abar: HTMLDivElement;
  avalue: HTMLSpanElement;
}

/** The bars' elements and their update functions. */
export interface IGBars {
  root: HTMLDivElement;
  setData(names: string[], inputs: Float32Array | null, gradients: Float32Array, accumulated: Float32Array, frames: number): void;
  show(g: number, pathScale: boolean): void;
}

function track(cls: string): [HTMLDivElement, HTMLDivElement] {
  const t = h("div", "nbx-igp-track");
  const bar = h("div", `nbx-igp-bar ${cls}`);
  t.append(bar);
  return [t, bar];
}

function place(bar: HTMLDivElement, v: number, scale: number): void {
  const span = signedSpan(v, scale);
  bar.style.left = `${span.left}%`;
  bar.style.width = `${span.width}%`;
  bar.classList.toggle("pos", v >= 0);
  bar.classList.toggle("neg", v < 0);
}

/**
 * An empty bars block (`.nbx-igp-bars`): rows `.nbx-igp-row[data-index]` with `.nbx-igp-name`,
 * `.nbx-igp-value`, `.nbx-igp-gbar`, `.nbx-igp-gvalue`, `.nbx-igp-abar`, `.nbx-igp-avalue`.
 *
 * @example
 * const bars = buildIGBars();
 * bars.setData(names, inputs, grads, acc, 33);
 * bars.show(16, false);
 */
export function buildIGBars(): IGBars {
  const root = h("div", "nbx-igp-bars");
  const list = h("div", "nbx-igp-bar-list");
  const more = h("div", "nbx-igp-more");
  root.append(list, more);
  let rows: Row[] = [];
  let shown: number[] = [];
  let f = 0;
  let inputs: Float32Array | null = null;
  let grads: Float32Array = new Float32Array(0);
  let acc: Float32Array = new Float32Array(0);
  let gPath = 1;
  let aPath = 1;

  const setData = (names: string[], x: Float32Array | null, g: Float32Array, a: Float32Array, frames: number): void => {
    f = frames > 0 ? Math.floor(a.length / frames) : 0;
    inputs = x;
    grads = g;
    acc = a;
    const final = a.subarray((frames - 1) * f, frames * f);
    shown = orderByMagnitude(final).slice(0, shownCount(MAX_ROWS, f));
    gPath = tableScale(grads, f, shown);
    aPath = tableScale(acc, f, shown);
    const header = h("div", "nbx-igp-row nbx-igp-head");
    header.append(h("span", "nbx-igp-name", "feature"), h("span", "nbx-igp-value", "value at alpha"),
      h("span", "nbx-igp-colhead", "gradient at alpha"), h("span", "nbx-igp-colhead", "attribution up to alpha"));
    rows = shown.map((j) => {
      const row = h("div", "nbx-igp-row");
      row.dataset.index = String(j);
      const name = h("span", "nbx-igp-name", names[j] ?? `feature ${j}`);
      name.title = names[j] ?? "";
      const value = h("span", "nbx-igp-value");
      const [gt, gbar] = track("nbx-igp-gbar");
      const gvalue = h("span", "nbx-igp-gvalue");
      const [at, abar] = track("nbx-igp-abar");
      const avalue = h("span", "nbx-igp-avalue");
      const gcell = h("span", "nbx-igp-cell");
      gcell.append(gt, gvalue);
      const acell = h("span", "nbx-igp-cell");
      acell.append(at, avalue);
      row.append(name, value, gcell, acell);
      return { value, gbar, gvalue, abar, avalue };
    });
    list.replaceChildren(header, ...rows.map((r) => r.value.parentElement as HTMLElement));
    more.textContent = f > shown.length ? `${shown.length} of ${f} features shown (the largest final attributions)` : "";
    more.hidden = more.textContent === "";
  };

  const show = (g: number, pathScale: boolean): void => {
    let gScale = gPath;
    if (!pathScale) {
      gScale = 0;
      for (const j of shown) gScale = Math.max(gScale, Math.abs(grads[g * f + j]) || 0);
      gScale = gScale > 0 ? gScale : 1;
    }
    shown.forEach((j, k) => {
      const r = rows[k];
      const gv = grads[g * f + j];
      const av = acc[g * f + j];
      r.value.textContent = inputs ? formatValue(inputs[g * f + j]) : "";
      place(r.gbar, gv, gScale);
      r.gvalue.textContent = formatValue(gv);
      place(r.abar, av, aPath);
      r.avalue.textContent = formatValue(av);
    });
  };

  return { root, setData, show };
}
