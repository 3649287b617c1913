/**
 * The model-graph view (`_view = "model_graph"`): the modules of a network in data-flow order as
 * a vertical list of boxes (type, name, output shape, parameters). Containers expand and
 * collapse (`expanded`, saved); skip edges (residual connections) are arcs in a left gutter; a
 * click selects a module (`selected` and the `select` event). Keyboard: Enter/Space toggles a
 * container (selects a leaf), arrows move between rows, Right/Left expand/collapse.
 */
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { h } from "../../core/dom";
import {
  arcPath,
  formatParams,
  formatShape,
  layoutArcs,
  parseGraph,
  visibleRows,
  type GraphIndex,
  type Row,
} from "./modelgraph_layout";
import { getString, getStringList, type Model } from "../../core/traits";

/** Row geometry in CSS px (fixed, so arc positions need no layout reads). */
export const ROW_H = 26;
export const ROW_GAP = 4;
export const INDENT = 16;
export const LANE_W = 8;
const GUTTER_PAD = 6;
const SVG_NS = "http://www.w3.org/2000/svg";

/** The default expanded set: the root and its direct children that are containers. */
export function defaultExpanded(g: GraphIndex): string[] {
  if (g.root === null) return [];
  const kids = (g.children.get(g.root) ?? []).filter((k) => (g.children.get(k) ?? []).length > 0);
  return [g.root, ...kids];
}

function rowTitle(row: Row, g: GraphIndex): string {
  const n = row.node;
  if (!n) return row.name === "input" ? "the model's input" : "the model's output";
  const lines = [`${n.type} ${n.name === "" ? "(the model)" : n.name}`];
  const shape = formatShape(n.output_shape);
  lines.push(shape ? `output ${shape} (batch dimension dropped)` : "never ran in the example pass");
  if (row.container) {
    lines.push(`${n.n_params_total.toLocaleString("en-US")} parameters in ${g.leafCount.get(n.name) ?? 0} layers`);
  } else {
    lines.push(`${n.n_params.toLocaleString("en-US")} parameters`);
  }
  if (n.calls > 1) lines.push(`called ${n.calls} times`);
  return lines.join("\n");
}

function buildRow(row: Row, g: GraphIndex, gutter: number): HTMLDivElement {
  const el = h("div", row.kind === "io" ? "nbx-graph-io" : "nbx-graph-node");
  el.style.marginLeft = `${gutter + row.depth * INDENT}px`;
  el.title = rowTitle(row, g);
  if (row.kind === "io") {
    el.append(h("span", "nbx-graph-type", row.name));
    return el;
  }
  const n = row.node;
  el.dataset.name = row.name;
  el.tabIndex = -1;
  el.setAttribute("role", "treeitem");
  el.setAttribute("aria-level", String(row.depth + 1));
  el.dataset.lmSuppressShortcuts = "true";
  if (row.container) {
    const toggle = h("span", "nbx-graph-toggle", row.expanded ? "\u25BE" : "\u25B8");
    toggle.setAttribute("aria-hidden", "true");
    el.append(toggle);
    el.setAttribute("aria-expanded", String(row.expanded));
    if (row.expanded) el.classList.add("expanded");
  } else {
    el.classList.add("leaf");
    el.append(h("span", "nbx-graph-spacer"));
  }
  el.append(h("span", "nbx-graph-type", n?.type ?? "?"));
  el.append(h("span", "nbx-graph-name", row.name === "" ? "model" : row.name));
  if (n && n.calls > 1) el.append(h("span", "nbx-graph-calls", `\u00D7${n.calls}`));
  el.append(h("span", "nbx-graph-shape", formatShape(n?.output_shape)));
  if (row.container) {
    const c = g.leafCount.get(row.name) ?? 0;
    el.append(h("span", "nbx-graph-count", `${c} layer${c === 1 ? "" : "s"}`));
  }
  el.append(h("span", "nbx-graph-params", formatParams(row.container ? (n?.n_params_total ?? 0) : (n?.n_params ?? 0))));
  return el;
}

/**
 * Render a model-graph model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderModelGraph(model, el);
 */
export function renderModelGraph(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "model_graph", "nbx-model-graph");
  const summary = h("div", "nbx-graph-summary");
  const scroll = h("div", "nbx-graph-scroll");
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.classList.add("nbx-graph-edges");
  svg.setAttribute("aria-hidden", "true");
  const list = h("div", "nbx-graph-list");
  list.setAttribute("role", "tree");
  scroll.append(svg, list);
  base.body.append(summary, scroll);

  let graph: GraphIndex = parseGraph(null);
  let rowEls = new Map<string, HTMLDivElement>();
  let focusName: string | null = null;

  const expandedSet = (): Set<string> => {
    const v: unknown = model.get("expanded");
    return new Set(Array.isArray(v) ? getStringList(model, "expanded") : defaultExpanded(graph));
  };

  const syncSelected = (): void => {
    const sel = getString(model, "selected");
    // A selection hidden in a collapsed container marks the container (`.has-selected`).
    let holder: string | null = null;
    if (sel !== "" && !rowEls.has(sel)) {
      let cur = graph.byName.get(sel)?.parent ?? null;
      for (let i = 0; cur !== null && i < 64 && !rowEls.has(cur); i++) cur = graph.byName.get(cur)?.parent ?? null;
      holder = cur;
    }
    for (const [name, row] of rowEls) {
      const on = sel !== "" && name === sel;
      row.classList.toggle("selected", on);
      row.classList.toggle("has-selected", name === holder);
      row.setAttribute("aria-selected", String(on));
    }
  };

  const draw = (): void => {
    const t0 = performance.now();
    const rows = visibleRows(graph, expandedSet());
    const arcs = layoutArcs(graph, rows);
    const lanes = arcs.reduce((m, a) => Math.max(m, a.lane + 1), 0);
    const gutter = lanes ? GUTTER_PAD + lanes * LANE_W : 0;
    const frag = document.createDocumentFragment();
    rowEls = new Map();
    for (const row of rows) {
      const rowEl = buildRow(row, graph, gutter);
      if (row.kind === "module") rowEls.set(row.name, rowEl);
      frag.append(rowEl);
    }
    list.replaceChildren(frag);
    const pitch = ROW_H + ROW_GAP;
    const height = rows.length * pitch;
    svg.setAttribute("width", String(Math.max(gutter, 1)));
    svg.setAttribute("height", String(height));
    svg.style.width = `${Math.max(gutter, 1)}px`;
    svg.style.height = `${height}px`;
    const paths = document.createDocumentFragment();
    for (const arc of arcs) {
      const y1 = arc.from * pitch + ROW_H / 2;
      const y2 = arc.to * pitch + ROW_H / 2;
      const x = gutter - GUTTER_PAD - arc.lane * LANE_W - LANE_W / 2;
      const r1 = gutter + rows[arc.from].depth * INDENT;
      const r2 = gutter + rows[arc.to].depth * INDENT;
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("class", arc.back ? "nbx-graph-arc back" : "nbx-graph-arc");
      path.setAttribute("d", arcPath(y1, y2, x, r1, r2, 4));
      path.dataset.from = rows[arc.from].name;
      path.dataset.to = rows[arc.to].name;
      const head = document.createElementNS(SVG_NS, "path");
      head.setAttribute("class", "nbx-graph-arrow");
      head.setAttribute("d", `M${r2 - 5} ${y2 - 3.5} L${r2} ${y2} L${r2 - 5} ${y2 + 3.5} Z`);
      paths.append(path, head);
    }
    svg.replaceChildren(paths);
    const root = graph.root !== null ? graph.byName.get(graph.root) : undefined;
    const leaves = graph.root !== null ? (graph.leafCount.get(graph.root) ?? 0) : 0;
    const method = graph.method ? `edges from ${graph.method === "fx" ? "the torch.fx trace" : "forward hooks"}` : "";
    summary.textContent = root
      ? `${root.type}: ${formatParams(root.n_params_total) || "0"} parameters, ${leaves} layers, ` +
        `${arcs.length} skip edge${arcs.length === 1 ? "" : "s"} shown${method ? ` (${method})` : ""}`
      : "empty graph";
    summary.title = graph.notes.join("\n");
    syncSelected();
    if (focusName !== null) {
      const target = rowEls.get(focusName);
      focusName = null;
      target?.focus({ preventScroll: true });
    }
    // The first row is the keyboard entry point (roving tabindex).
    const first = rowEls.values().next().value;
    if (first) first.tabIndex = 0;
    base.root.dataset.drawMs = (performance.now() - t0).toFixed(2);
    base.root.dataset.rows = String(rows.length);
  };

  const toggle = (name: string, open?: boolean): void => {
    const set = expandedSet();
    const isOpen = set.has(name);
    const want = open ?? !isOpen;
    if (want === isOpen) return;
    if (want) set.add(name);
    else set.delete(name);
    const ordered = graph.nodes.map((n) => n.name).filter((n) => set.has(n));
    focusName = name;
    model.set("expanded", ordered); // fires change:expanded, which redraws
    model.save_changes();
  };

  const select = (name: string): void => {
    if (name === "" || !base.live()) return; // the root: "" means "nothing selected"
    model.set("selected", name);
    model.save_changes();
    sendEvent(model, "select", { name });
  };

  const rowOf = (target: EventTarget | null): HTMLDivElement | null => {
    const found = target instanceof Element ? target.closest(".nbx-graph-node") : null;
    return found instanceof HTMLDivElement && list.contains(found) ? found : null;
  };

  const onClick = (event: MouseEvent): void => {
    const row = rowOf(event.target);
    if (!row) return;
    const name = row.dataset.name ?? "";
    row.focus({ preventScroll: true });
    if (event.target instanceof Element && event.target.closest(".nbx-graph-toggle")) toggle(name);
    else select(name);
  };

  const onKey = (event: KeyboardEvent): void => {
    const row = rowOf(event.target);
    if (!row) return;
    const name = row.dataset.name ?? "";
    const isContainer = !row.classList.contains("leaf");
    const move = (step: number): void => {
      const all = [...rowEls.values()];
      const next = all[all.indexOf(row) + step];
      if (next) {
        row.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
    };
    let handled = true;
    if (event.key === "Enter" || event.key === " ") {
      if (isContainer) toggle(name);
      else select(name);
    } else if (event.key === "ArrowDown") move(1);
    else if (event.key === "ArrowUp") move(-1);
    else if (event.key === "ArrowRight" && isContainer) toggle(name, true);
    else if (event.key === "ArrowLeft" && isContainer) toggle(name, false);
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };

  list.addEventListener("click", onClick);
  list.addEventListener("keydown", onKey);
  base.onCleanup(() => {
    list.removeEventListener("click", onClick);
    list.removeEventListener("keydown", onKey);
  });

  const full = (): void => {
    graph = parseGraph(model.get("graph"));
    draw();
  };
  base.onChange(["graph"], () => safeDraw(base, full));
  base.onChange(["expanded"], () => safeDraw(base, draw));
  base.onChange(["selected"], () => safeDraw(base, syncSelected));
  safeDraw(base, full);
  return base.cleanup;
}
