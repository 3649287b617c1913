/**
 * The sample-table view (`_view = "sample_table"`): one page of samples sent by Python, with a
 * pager (first, previous, page number, next, last) and a go-to-sample box, row selection by click
 * and by the up/down keys. Python owns the data set and the filtered order; this view only ever
 * holds the page it shows.
 */
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { h } from "../../core/dom";
import { getFloatArray, getNumber, getStringList, type Model } from "../../core/traits";
import { choiceIndex, parseCategories } from "./whatif";

const DRAW_TRAITS = ["columns", "values", "indices", "labels", "snippets", "nan_flags", "categories", "page", "page_size", "total", "n_samples"];

/**
 * A number in at most 4 significant digits; exponent form below 1e-3 and from 1e6 up.
 *
 * @example
 * formatCompact(0.987654); // "0.9877"
 * formatCompact(12345.6);  // "12350"
 * formatCompact(NaN);      // "NaN"
 */
export function formatCompact(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(x.toPrecision(4)));
}

/**
 * Pages needed for `total` rows (at least 1: an empty result shows one empty page).
 *
 * @example
 * pageCount(31, 15); // 3
 */
export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, pageSize)));
}

/**
 * The pager's read-out, 1-based: "rows a-b of total", or "no rows" when nothing matches.
 *
 * @example
 * pageInfo(1, 15, 100000, 15); // "rows 16-30 of 100000"
 */
export function pageInfo(page: number, pageSize: number, total: number, rows: number): string {
  if (total === 0 || rows === 0) return `no rows (0 of ${total})`;
  const first = page * pageSize + 1;
  return `rows ${first}-${first + rows - 1} of ${total}`;
}

/**
 * The sample a go-to box's text asks for, or null when it is not a whole number in 0..n-1.
 *
 * @example
 * gotoIndex("12", 100); // 12
 * gotoIndex("12.5", 100); // null
 * gotoIndex("100", 100); // null
 */
export function gotoIndex(text: string, nSamples: number): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const v = Number(t);
  return v < nSamples ? v : null;
}

/** What an up/down key press does: select a row of this page, ask Python to step, or nothing. */
export type KeyMove = { kind: "select"; index: number } | { kind: "step"; delta: number } | { kind: "none" };

/**
 * The move for an arrow key: within the page select the neighbour row; past the page's edge
 * ask Python to step (it turns the page) when there is another page that way.
 *
 * @example
 * keyMove([10, 11, 12], 11, 1, false, false); // { kind: "select", index: 12 }
 * keyMove([10, 11, 12], 12, 1, true, false);  // { kind: "step", delta: 1 }
 */
export function keyMove(rows: readonly number[], selected: number, delta: 1 | -1, hasNext: boolean, hasPrev: boolean): KeyMove {
  if (rows.length === 0) return { kind: "none" };
  const pos = rows.indexOf(selected);
  if (pos < 0) return { kind: "select", index: delta > 0 ? rows[0] : rows[rows.length - 1] };
  const target = pos + delta;
  if (target >= 0 && target < rows.length) return { kind: "select", index: rows[target] };
  if ((delta > 0 && hasNext) || (delta < 0 && hasPrev)) return { kind: "step", delta };
  return { kind: "none" };
}

function button(className: string, text: string, label: string): HTMLButtonElement {
  const b = h("button", `nbx-page-btn ${className}`, text);
  b.type = "button";
  b.title = label;
  b.setAttribute("aria-label", label);
  return b;
}

/**
 * Render a sample-table model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderSampleTable(model, el);
 */
export function renderSampleTable(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "sample_table", "nbx-sample-table");
  const scroll = h("div", "nbx-st-scroll");
  scroll.tabIndex = 0;
  scroll.dataset.lmSuppressShortcuts = "true"; // arrow keys reach the table, not the notebook
  scroll.setAttribute("role", "grid");
  scroll.setAttribute("aria-label", "samples; up and down keys move the selection");
  const table = h("table", "nbx-st-table");
  const thead = h("thead");
  const tbody = h("tbody");
  table.append(thead, tbody);
  scroll.append(table);

  const pager = h("div", "nbx-st-pager");
  const first = button("nbx-page-first", "\u00ab", "first page");
  const prev = button("nbx-page-prev", "\u2039 prev", "previous page");
  const next = button("nbx-page-next", "next \u203a", "next page");
  const last = button("nbx-page-last", "\u00bb", "last page");
  const pageInput = h("input", "nbx-page-input");
  pageInput.type = "number";
  pageInput.min = "1";
  pageInput.step = "1";
  pageInput.dataset.lmSuppressShortcuts = "true";
  pageInput.setAttribute("aria-label", "page");
  const pageOf = h("span", "nbx-page-of");
  const info = h("span", "nbx-page-info");
  const pageBox = h("label", "nbx-control nbx-page-box");
  pageBox.append(h("span", "nbx-control-label", "page"), pageInput, pageOf);
  const gotoInput = h("input", "nbx-goto-input");
  gotoInput.type = "number";
  gotoInput.min = "0";
  gotoInput.step = "1";
  gotoInput.placeholder = "#";
  gotoInput.dataset.lmSuppressShortcuts = "true";
  gotoInput.setAttribute("aria-label", "go to sample number");
  const gotoBox = h("label", "nbx-control nbx-goto-box");
  gotoBox.title = "show the sample with this number (a filter that hides it is cleared)";
  gotoBox.append(h("span", "nbx-control-label", "go to sample"), gotoInput);
  pager.append(first, prev, pageBox, next, last, info, gotoBox);
  base.body.append(scroll, pager);
  base.needsKernel("row clicks and paging", first, prev, next, last, pageInput, gotoInput);

  let rowIndices: number[] = [];
  let rowEls: HTMLTableRowElement[] = [];

  const pages = (): number => pageCount(getNumber(model, "total", 0), getNumber(model, "page_size", 15));
  const page = (): number => getNumber(model, "page", 0);
  const goToPage = (p: number): void => {
    if (!base.live()) return; // the page's rows come from Python
    const clamped = Math.min(Math.max(Math.round(p), 0), pages() - 1);
    sendEvent(model, "page", { page: clamped });
  };

  const highlight = (): void => {
    const selected = getNumber(model, "selected", -1);
    rowEls.forEach((row, i) => {
      const on = rowIndices[i] === selected;
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", String(on));
      if (on && scroll.contains(el.ownerDocument.activeElement)) row.scrollIntoView({ block: "nearest" });
    });
  };

  const select = (index: number): void => {
    if (!base.live()) return; // no half-update: the panels would keep the old sample
    model.set("selected", index);
    model.save_changes();
    sendEvent(model, "select", { index });
    highlight();
  };

  const header = (columns: string[], hasText: boolean): void => {
    const tr = h("tr");
    const names = ["#", "true", "predicted", ...columns, ...(hasText ? ["text"] : [])];
    names.forEach((name, c) => {
      const th = h("th", c >= 3 && c < 3 + columns.length ? "nbx-st-num" : undefined, name);
      th.title = name;
      th.scope = "col";
      tr.append(th);
    });
    thead.replaceChildren(tr);
  };

  const draw = (): void => {
    const columns = getStringList(model, "columns");
    const values = getFloatArray(model, "values");
    const indices = getFloatArray(model, "indices")?.data ?? new Float32Array(0);
    const labels = getStringList(model, "labels");
    const snippets = getStringList(model, "snippets");
    const nan = getFloatArray(model, "nan_flags")?.data ?? new Float32Array(0);
    const hasText = snippets.length > 0;
    const nCols = values && values.shape.length === 2 ? values.shape[1] : 0;
    const categories = parseCategories(model.get("categories"), nCols); // per column; labels of a DataFrame's categories
    header(columns, hasText);
    rowIndices = Array.from(indices, (v) => Math.round(v));
    rowEls = rowIndices.map((index, r) => {
      const tr = h("tr", "nbx-row");
      tr.dataset.index = String(index);
      const idx = h("td", "nbx-st-index", String(index));
      if (nan[r]) {
        const flag = h("span", "nbx-nan-flag", "NaN");
        flag.title = "this sample holds NaN or infinite values";
        idx.append(flag);
        tr.classList.add("nbx-has-nan");
      }
      const truth = labels[2 * r] ?? "";
      const pred = labels[2 * r + 1] ?? "";
      const predCell = h("td", "nbx-st-pred", pred);
      if (truth !== "" && truth !== pred) {
        tr.classList.add("nbx-wrong");
        predCell.title = `misclassified: true class ${truth}`;
      }
      tr.append(idx, h("td", "nbx-st-true", truth), predCell);
      for (let c = 0; c < nCols; c++) {
        const v = values ? values.data[r * nCols + c] : NaN;
        const choices = categories[c];
        const j = choices ? choiceIndex(choices, v) : -1;
        const cls = c === 0 ? "nbx-st-num nbx-st-conf" : choices ? "nbx-st-num nbx-st-cat" : "nbx-st-num";
        const td = h("td", cls, choices && j >= 0 ? choices[j].label : formatCompact(v));
        td.dataset.col = String(c);
        tr.append(td);
      }
      if (hasText) {
        const td = h("td", "nbx-st-snippet", snippets[r] ?? "");
        td.title = snippets[r] ?? "";
        tr.append(td);
      }
      return tr;
    });
    if (rowEls.length === 0) {
      const tr = h("tr", "nbx-empty");
      const td = h("td", undefined, "no samples match the filter");
      td.colSpan = 3 + columns.length + (hasText ? 1 : 0);
      tr.append(td);
      tbody.replaceChildren(tr);
    } else {
      tbody.replaceChildren(...rowEls);
    }
    const p = page();
    const n = pages();
    info.textContent = pageInfo(p, getNumber(model, "page_size", 15), getNumber(model, "total", 0), rowEls.length);
    pageInput.max = String(n);
    pageInput.value = String(p + 1);
    pageOf.textContent = `of ${n}`;
    gotoInput.max = String(Math.max(0, getNumber(model, "n_samples", 0) - 1));
    first.disabled = prev.disabled = p <= 0;
    next.disabled = last.disabled = p >= n - 1;
    highlight();
  };

  // Several traits arrive in one message: draw once per message, after all of them are set.
  let pending = false;
  const schedule = (): void => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      safeDraw(base, draw);
    });
  };
  base.onChange(DRAW_TRAITS, schedule);
  base.onChange(["selected"], highlight);

  const onClick = (event: MouseEvent): void => {
    const row = (event.target as Element | null)?.closest("tr.nbx-row");
    if (row instanceof HTMLTableRowElement && row.dataset.index !== undefined) select(Number(row.dataset.index));
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const delta = event.key === "ArrowDown" ? 1 : -1;
      const move = keyMove(rowIndices, getNumber(model, "selected", -1), delta, page() < pages() - 1, page() > 0);
      if (move.kind === "select") select(move.index);
      else if (move.kind === "step") sendEvent(model, "step", { delta: move.delta });
    } else if (event.key === "PageDown" || event.key === "PageUp") {
      goToPage(page() + (event.key === "PageDown" ? 1 : -1));
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  };
  const onPageInput = (): void => {
    const v = Number(pageInput.value);
    if (Number.isFinite(v)) goToPage(v - 1);
  };
  const onGoto = (): void => {
    const index = gotoIndex(gotoInput.value, getNumber(model, "n_samples", 0));
    gotoInput.classList.toggle("nbx-invalid", gotoInput.value !== "" && index === null);
    if (index !== null) sendEvent(model, "goto", { index });
  };
  tbody.addEventListener("click", onClick);
  gotoInput.addEventListener("change", onGoto);
  gotoInput.addEventListener("keydown", (event: KeyboardEvent) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    event.stopPropagation();
    onGoto();
  });
  scroll.addEventListener("keydown", onKey);
  pageInput.addEventListener("change", onPageInput);
  first.addEventListener("click", () => goToPage(0));
  prev.addEventListener("click", () => goToPage(page() - 1));
  next.addEventListener("click", () => goToPage(page() + 1));
  last.addEventListener("click", () => goToPage(pages() - 1));
  safeDraw(base, draw);
  return base.cleanup;
}
