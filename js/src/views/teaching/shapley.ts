/**
 * The Shapley lattice view (`_view = "shapley_lattice"`): how exact Shapley values are made from
 * the value of every coalition. One row per coalition size (the empty coalition on top), each
 * node a coalition coloured by its value on a diverging scale centred at the base value v({});
 * hover a node for its members and value, click it to select it (`coalition`, saved back). Pick
 * a feature (`feature`, saved back): its edges S -> S + i are drawn, width and colour by the
 * marginal contribution v(S + i) - v(S), and a table sums them by coalition size with their
 * Shapley weights |S|!(M-|S|-1)!/M!, the running sum ending at the feature's Shapley value.
 * Everything is computed here from the `2^M` values, with no kernel (also in an exported page).
 * Below, the efficiency waterfall from v({}) to v(all). In `mode = "convergence"` (above 10
 * players) the lattice gives way to KernelSHAP's estimate of the picked player by budget, with
 * its error band, and a table of every player (`shapleycharts.ts`). Names reach the page as text
 * only. Geometry and sums: `shapleylayout.ts`. See docs/PROTOCOL.md.
 */
import { lookup, table } from "../../core/colormaps";
import { createViewBase, safeDraw } from "../../core/common";
import { formatValue, h } from "../../core/dom";
import { buildLegend, updateLegend } from "../../core/legend";
import { colorPosition, NO_DATA_RGB } from "../../core/scales";
import {
  centredScale,
  coalitionText,
  edgeWidth,
  latticeLayout,
  marginalEdges,
  maskOf,
  membersOf,
  nodeLabel,
  popcount,
  shapleyWeight,
  weightFraction,
  weightGroups,
  type LatticeLayout,
  type MarginalEdge,
} from "./shapleylayout";
import { drawConvergence, drawWaterfall, signed, svgEl, svgText } from "./shapleycharts";
import { followTheme } from "../../core/theme";
import { getFloatArray, getNumber, getString, getStringList, type Model } from "../../core/traits";

const DATA_TRAITS = ["mode", "values", "names", "details", "base_value", "prediction", "shapley", "output_label", "note",
  "width", "budgets", "estimates", "std_errors", "exact", "z", "level"];
const CMAP = "RdBu_r";
/** Lattices up to this many players get node labels and labelled edges; all edges drawn faintly. */
const LABELLED = 4;
const ALL_EDGES = 5;

/** The letter of player `i` on a small lattice: A, B, C, D. */
function letter(i: number): string {
  return String.fromCharCode(65 + i);
}

/**
 * Render a Shapley lattice model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderShapleyLattice(model, el);
 */
export function renderShapleyLattice(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "shapley_lattice", "nbx-shapley");
  const picker = h("div", "nbx-shap-features");
  picker.setAttribute("role", "group");
  picker.setAttribute("aria-label", "pick a feature");
  const note = h("div", "nbx-shap-note");
  note.setAttribute("role", "note");
  const stage = h("div", "nbx-shap-stage");
  const svg = svgEl("svg", "nbx-shap-lattice");
  const linkLayer = svgEl("g", "nbx-shap-links");
  const edgeLayer = svgEl("g", "nbx-shap-edges");
  const nodeLayer = svgEl("g", "nbx-shap-nodes");
  const labelLayer = svgEl("g", "nbx-shap-labels");
  svg.append(labelLayer, linkLayer, edgeLayer, nodeLayer);
  const tooltip = h("div", "nbx-shap-tooltip");
  tooltip.hidden = true;
  stage.append(svg, tooltip);
  const legend = buildLegend();
  const readout = h("div", "nbx-shap-coalition");
  const sum = h("div", "nbx-shap-sum");
  const latticeBox = h("div", "nbx-shap-lattice-box");
  latticeBox.append(stage, legend.root, readout, sum);
  const convTitle = h("div", "nbx-shap-conv-title");
  const convSvg = svgEl("svg", "nbx-shap-convergence");
  const convKey = h("div", "nbx-shap-conv-key");
  const convTable = h("table", "nbx-shap-conv-table");
  const convBox = h("div", "nbx-shap-conv-box");
  convBox.append(convTitle, convSvg, convKey, convTable);
  const efficiency = h("div", "nbx-shap-efficiency");
  const waterfall = svgEl("svg", "nbx-shap-waterfall");
  const effBox = h("div", "nbx-shap-efficiency-box");
  effBox.append(efficiency, waterfall);
  base.body.append(picker, note, latticeBox, convBox, effBox);

  let names: string[] = [];
  let details: string[] = [];
  let centred: Float32Array = new Float32Array(0); // v(S) - v({})
  let shapley: Float32Array = new Float32Array(0);
  let m = 0;
  let baseValue = 0;
  let scale = 1;
  let layout: LatticeLayout | null = null;
  let nodes: SVGCircleElement[] = [];
  let edges: MarginalEdge[] = [];
  let edgeEls: SVGLineElement[] = [];
  let mode = "lattice";
  let prediction = NaN;

  const feature = (): number => {
    const f = getNumber(model, "feature", -1);
    return Number.isInteger(f) && f >= 0 && f < m ? f : -1;
  };
  const coalition = (): number | null => {
    const v: unknown = model.get("coalition");
    if (!Array.isArray(v)) return null;
    const members = v.filter((i): i is number => Number.isInteger(i) && i >= 0 && i < m);
    return maskOf(members);
  };
  const valueOf = (c: number): number => baseValue + centred[c];

  const fillColor = (c: number): string => {
    const d = centred[c];
    const [r, g, b] = Number.isFinite(d) ? lookup(CMAP, colorPosition(d, scale, true)) : NO_DATA_RGB;
    return `rgb(${r}, ${g}, ${b})`;
  };

  const drawPicker = (): void => {
    const key = `${mode}\u0000${names.join("\u0000")}`;
    if (picker.dataset.key !== key) {
      picker.replaceChildren(h("span", "nbx-shap-features-label", "feature:"));
      names.forEach((name, i) => {
        const chip = h("button", "nbx-shap-feature");
        // small lattices label their nodes by letter (A, B, ...): the chip gives each letter its name
        if (names.length <= LABELLED && mode === "lattice") chip.append(h("span", "nbx-shap-letter", letter(i)));
        chip.append(h("span", "nbx-shap-feature-name", name));
        chip.type = "button";
        chip.dataset.index = String(i);
        chip.title = details[i] ? `${name}: ${details[i]}` : name;
        picker.append(chip);
      });
      picker.dataset.key = key;
    }
    const f = feature();
    for (const chip of picker.querySelectorAll<HTMLButtonElement>(".nbx-shap-feature")) {
      const on = Number(chip.dataset.index) === f;
      chip.classList.toggle("selected", on);
      chip.setAttribute("aria-pressed", String(on));
    }
  };

  /** Rows, nodes, faint links and their labels; then the feature and the selection on top. */
  const drawData = (): void => {
    names = getStringList(model, "names");
    details = getStringList(model, "details");
    m = names.length;
    mode = getString(model, "mode", "lattice") === "convergence" ? "convergence" : "lattice";
    base.root.dataset.mode = mode;
    base.root.dataset.players = String(m);
    shapley = getFloatArray(model, "shapley")?.data ?? new Float32Array(m);
    baseValue = getNumber(model, "base_value", 0);
    prediction = getNumber(model, "prediction", NaN);
    const text = getString(model, "note");
    note.textContent = text;
    note.hidden = text === "";
    latticeBox.hidden = mode !== "lattice";
    convBox.hidden = mode !== "convergence";
    let total = 0;
    for (const v of shapley) total += v;
    const what = mode === "lattice" ? "Shapley values" : getFloatArray(model, "exact") ? "exact Shapley values" :
      "Shapley values (KernelSHAP's estimate at the largest budget)";
    efficiency.textContent = `Efficiency: the base value v({}) = ${formatValue(baseValue)} plus the ${m} ${what} ` +
      `(sum ${signed(total)}) gives the prediction v(all) = ${formatValue(prediction)}.`;
    if (mode === "lattice") drawLattice();
    else {
      layout = null;
      nodes = [];
      drawPicker();
      drawFeature();
    }
  };

  const drawLattice = (): void => {
    const values = getFloatArray(model, "values");
    centred = values ? values.data : new Float32Array(0);
    if (centred.length !== 1 << m) throw new Error(`${centred.length} coalition values for ${m} players (expected ${1 << m})`);
    scale = centredScale(centred);
    const width = getNumber(model, "width", 760);
    const lay = latticeLayout(m, { width, left: 74, right: 84 });
    const height = (lay.height + (m <= LABELLED ? 14 : 0)).toFixed(0);
    layout = lay;
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    labelLayer.replaceChildren();
    lay.rows.forEach((_row, s) => {
      const y = (lay.rowTop[s] + lay.rowBottom[s]) / 2;
      labelLayer.append(svgText("nbx-shap-row-label", 4, y + 4, `|S| = ${s}`, "start"));
      if (s < m) {
        const w = svgText("nbx-shap-row-weight", width - 4, y + 4, `w = ${weightFraction(s, m)}`, "end");
        w.dataset.size = String(s);
        labelLayer.append(w);
      }
    });
    linkLayer.replaceChildren();
    if (m <= ALL_EDGES) {
      for (let c = 0; c < 1 << m; c++) {
        for (let i = 0; i < m; i++) {
          if (c & (1 << i)) continue;
          const to = c | (1 << i);
          linkLayer.append(svgEl("line", "nbx-shap-link", {
            x1: lay.x[c].toFixed(1), y1: (lay.y[c] + lay.r).toFixed(1), x2: lay.x[to].toFixed(1), y2: (lay.y[to] - lay.r).toFixed(1),
          }));
        }
      }
    }
    nodeLayer.replaceChildren();
    nodes = [];
    for (let c = 0; c < 1 << m; c++) {
      const node = svgEl("circle", "nbx-shap-node", { cx: lay.x[c].toFixed(1), cy: lay.y[c].toFixed(1), r: lay.r.toFixed(1) });
      node.setAttribute("fill", fillColor(c));
      node.dataset.c = String(c);
      node.dataset.size = String(popcount(c));
      node.dataset.value = String(valueOf(c));
      nodes.push(node);
      nodeLayer.append(node);
      if (m <= LABELLED) {
        const below = lay.y[c] + lay.r + 11;
        labelLayer.append(svgText("nbx-shap-node-label", lay.x[c], below, nodeLabel(c, names.map((_n, i) => letter(i)), 1)));
      }
    }
    updateLegend(legend, { scale, cmap: CMAP, diverging: true, signed: true, noData: 0 }, table(CMAP), null,
      `coalition value v(S) (${getString(model, "output_label", "output")}); white = the base value v({}) = ${formatValue(baseValue)}`);
    legend.min.textContent = formatValue(baseValue - scale);
    legend.max.textContent = formatValue(baseValue + scale);
    drawPicker();
    drawFeature();
    drawSelection();
  };

  const drawWaterfallNow = (): void => {
    drawWaterfall(waterfall, { names, values: shapley, base: baseValue, prediction, selected: feature(),
      width: Math.max(320, Math.min(getNumber(model, "width", 720), 720)) });
  };

  const drawFeature = (): void => {
    drawPicker();
    drawWaterfallNow();
    if (mode === "convergence") {
      drawConvergenceNow();
      return;
    }
    edgeLayer.replaceChildren();
    edgeEls = [];
    const f = feature();
    base.root.dataset.feature = String(f);
    for (const node of nodes) node.classList.toggle("nbx-shap-with", f >= 0 && (Number(node.dataset.c) & (1 << f)) !== 0);
    if (f < 0 || !layout) {
      edges = [];
      sum.replaceChildren(h("div", "nbx-shap-sum-empty", "Pick a feature above: its edges S \u2192 S \u222a {feature} " +
        "are drawn, and the table shows how their weighted sum makes its Shapley value."));
      return;
    }
    const lay = layout;
    edges = marginalEdges(centred, m, f);
    let largest = 0;
    for (const e of edges) if (Number.isFinite(e.contribution)) largest = Math.max(largest, Math.abs(e.contribution));
    for (const e of edges) {
      const line = svgEl("line", `nbx-shap-edge ${e.contribution > 0 ? "pos" : e.contribution < 0 ? "neg" : "zero"}`, {
        x1: lay.x[e.from].toFixed(1), y1: (lay.y[e.from] + lay.r).toFixed(1),
        x2: lay.x[e.to].toFixed(1), y2: (lay.y[e.to] - lay.r).toFixed(1),
        "stroke-width": (edgeWidth(e.contribution, largest) * (m > 6 ? 0.5 : 1)).toFixed(2),
      });
      line.dataset.from = String(e.from);
      line.dataset.to = String(e.to);
      line.dataset.size = String(e.size);
      line.dataset.contribution = String(e.contribution);
      line.dataset.weight = String(e.weight);
      edgeEls.push(line);
      edgeLayer.append(line);
      if (m <= LABELLED) {
        const t = svgText("nbx-shap-edge-label", (lay.x[e.from] + lay.x[e.to]) / 2 + 4, (lay.y[e.from] + lay.y[e.to]) / 2 + 3,
          signed(e.contribution), "start");
        edgeLayer.append(t);
      }
    }
    drawSum(f);
  };

  /** The convergence chart of the picked player (else the largest), and the table of every player. */
  const drawConvergenceNow = (): void => {
    const f = feature();
    base.root.dataset.feature = String(f);
    let shown = f;
    if (shown < 0) {
      shown = 0;
      for (let i = 1; i < m; i++) if (Math.abs(shapley[i]) > Math.abs(shapley[shown])) shown = i;
    }
    base.root.dataset.shown = String(shown);
    const budgets = getFloatArray(model, "budgets")?.data ?? new Float32Array(0);
    const estimates = getFloatArray(model, "estimates")?.data ?? new Float32Array(0);
    const errors = getFloatArray(model, "std_errors")?.data ?? new Float32Array(0);
    const exact = getFloatArray(model, "exact")?.data ?? null;
    const k = budgets.length;
    if (estimates.length !== k * m || errors.length !== k * m) {
      throw new Error(`${estimates.length} estimates for ${k} budgets x ${m} players`);
    }
    const z = getNumber(model, "z", 1.96);
    const level = getNumber(model, "level", 0.95);
    convTitle.replaceChildren(
      h("span", "", "KernelSHAP's estimate of the Shapley value of "),
      h("b", "nbx-shap-conv-feature", names[shown] ?? ""),
      h("span", "", ` (${getString(model, "output_label", "output")}) as it samples more coalitions` +
        (f < 0 ? "; the largest value is shown: pick another feature above or in the table." : ".")),
    );
    drawConvergence(convSvg, { names, budgets, estimates, errors, exact, z, level, shown,
      width: Math.max(320, getNumber(model, "width", 720)) });
    convKey.textContent = `Band: estimate \u00b1 ${z.toFixed(2)} standard errors (${Math.round(level * 100)}% if the ` +
      `errors were normal)` + (exact ? "; dashed: the exact value." : ".") +
      (k && !Number.isFinite(errors[shown]) ? ` No band at ${budgets[0]} coalitions: too few to measure an error.` : "");
    // the table: every player at the largest budget
    const head = h("tr", "");
    const cols = ["feature", `estimate (${k ? budgets[k - 1] : 0} coalitions)`, `\u00b1 ${z.toFixed(2)} SE`];
    if (exact) cols.push("exact", "inside the band");
    for (const c of cols) head.append(h("th", "", c));
    const thead = h("thead");
    thead.append(head);
    const tbody = h("tbody");
    for (let i = 0; i < m; i++) {
      const e = k ? estimates[(k - 1) * m + i] : NaN;
      const se = k ? errors[(k - 1) * m + i] : NaN;
      const row = h("tr", "nbx-shap-conv-row");
      row.dataset.index = String(i);
      row.classList.toggle("selected", i === f);
      row.classList.toggle("shown", i === shown);
      const name = h("td", "nbx-shap-conv-name", names[i]);
      name.title = details[i] ? `${names[i]}: ${details[i]}` : names[i];
      row.append(name, h("td", "", formatValue(e)), h("td", "", Number.isFinite(se) ? formatValue(z * se) : "n/a"));
      if (exact) {
        const inside = Math.abs(e - exact[i]) <= z * se;
        const cell = h("td", inside ? "nbx-shap-in" : "nbx-shap-out", Number.isFinite(se) ? (inside ? "yes" : "no") : "n/a");
        row.append(h("td", "", formatValue(exact[i])), cell);
      }
      tbody.append(row);
    }
    convTable.replaceChildren(thead, tbody);
  };

  const drawSum = (f: number): void => {
    const groups = weightGroups(edges, m);
    const title = h("div", "nbx-shap-sum-title");
    title.append(
      h("span", "", "How the Shapley value of "),
      h("b", "nbx-shap-sum-feature", names[f]),
      h("span", "", ` is made: its marginal contribution v(S \u222a {i}) \u2212 v(S) to each of the ${edges.length} ` +
        `coalitions S without it, times the Shapley weight |S|!\u00b7(M\u2212|S|\u22121)!/M! (M = ${m}); ` +
        `each size's weights add up to 1/${m}.`),
    );
    const tbl = h("table", "nbx-shap-groups");
    const head = h("tr", "nbx-shap-head");
    for (const text of ["|S|", "coalitions", "weight each", "mean contribution", "weight \u00d7 sum", "running sum"]) {
      head.append(h("th", "", text));
    }
    const thead = h("thead");
    thead.append(head);
    const tbody = h("tbody");
    for (const g of groups) {
      const row = h("tr", "nbx-shap-group");
      row.dataset.size = String(g.size);
      const running = h("td", "nbx-shap-running", formatValue(g.running));
      running.dataset.value = String(g.running);
      const weighted = h("td", "nbx-shap-weighted", signed(g.weighted));
      weighted.dataset.value = String(g.weighted);
      row.append(h("td", "", String(g.size)), h("td", "", String(g.count)),
        h("td", "", `${weightFraction(g.size, m)} = ${formatValue(g.weight)}`), h("td", "", signed(g.mean)), weighted, running);
      tbody.append(row);
    }
    const phi = groups.length ? groups[groups.length - 1].running : 0;
    const foot = h("tr", "nbx-shap-total");
    const cell = h("td", "nbx-shap-total-value", formatValue(phi));
    cell.dataset.value = String(phi);
    const label = h("td", "", "Shapley value");
    label.colSpan = 5;
    foot.append(label, cell);
    const tfoot = h("tfoot");
    tfoot.append(foot);
    tbl.append(thead, tbody, tfoot);
    const check = h("div", "nbx-shap-check", `KernelSHAP's exact value for ${names[f]}: ${formatValue(shapley[f])} ` +
      `(computed in Python from the same coalition values).`);
    sum.replaceChildren(title, tbl, check);
  };

  const drawSelection = (): void => {
    if (mode !== "lattice") return;
    const c = coalition();
    base.root.dataset.coalition = c === null ? "" : String(c);
    for (const node of nodes) node.classList.toggle("selected", c !== null && Number(node.dataset.c) === c);
    if (c === null || c >= 1 << m) {
      readout.textContent = "Click a coalition to select it; hover one for its members and value.";
      return;
    }
    const f = feature();
    let text = `Selected ${coalitionText(c, names)}: v(S) = ${formatValue(valueOf(c))} (${signed(centred[c])} from the base value).`;
    if (f >= 0) {
      const without = c & ~(1 << f);
      const d = centred[without | (1 << f)] - centred[without];
      const w = shapleyWeight(popcount(without), m);
      text += ` ${names[f]} ${c & (1 << f) ? "joining" : "joins"} ${coalitionText(without, names)}: ` +
        `${signed(d)} \u00d7 weight ${weightFraction(popcount(without), m)} = ${signed(d * w)}.`;
    }
    readout.textContent = text;
  };

  const showTip = (event: MouseEvent, text: string): void => {
    tooltip.textContent = text;
    tooltip.hidden = false;
    const box = stage.getBoundingClientRect();
    tooltip.style.left = `${event.clientX - box.left + 12}px`;
    tooltip.style.top = `${event.clientY - box.top + 12}px`;
  };
  const onMove = (event: MouseEvent): void => {
    const target = event.target instanceof Element ? event.target : null;
    if (target?.classList.contains("nbx-shap-node")) {
      const c = Number((target as SVGElement).dataset.c);
      showTip(event, `${coalitionText(c, names)}\nv(S) = ${formatValue(valueOf(c))} (${signed(centred[c])} from the base value)`);
    } else if (target?.classList.contains("nbx-shap-edge")) {
      const d = (target as SVGElement).dataset;
      const f = feature();
      showTip(event, `${names[f]} joins ${coalitionText(Number(d.from), names)}: ${signed(Number(d.contribution))}\n` +
        `Shapley weight ${weightFraction(Number(d.size), m)} (= ${formatValue(Number(d.weight))})`);
    } else {
      tooltip.hidden = true;
    }
  };
  const onLeave = (): void => {
    tooltip.hidden = true;
  };
  const onClick = (event: MouseEvent): void => {
    const target = event.target instanceof Element ? event.target.closest(".nbx-shap-node") : null;
    if (!target) return;
    const c = Number((target as SVGElement).dataset.c);
    model.set("coalition", coalition() === c ? null : membersOf(c, m));
    model.save_changes();
    safeDraw(base, drawSelection);
  };
  const onPick = (event: MouseEvent): void => {
    const target = event.target instanceof Element ? event.target : null;
    const chip = target?.closest<HTMLElement | SVGElement>(".nbx-shap-feature, .nbx-shap-wf-player, .nbx-shap-conv-row");
    if (!chip) return;
    const i = Number(chip.dataset.index);
    if (!(i >= 0 && i < m)) return;
    model.set("feature", feature() === i ? -1 : i);
    model.save_changes();
    safeDraw(base, () => {
      drawFeature();
      drawSelection();
    });
  };
  /** Hovering a row of the table brings that size's edges forward. */
  const onGroup = (event: MouseEvent): void => {
    const row = event.target instanceof Element ? event.target.closest<HTMLElement>(".nbx-shap-group") : null;
    const size = row ? Number(row.dataset.size) : -1;
    for (const line of edgeEls) line.classList.toggle("faded", size >= 0 && Number(line.dataset.size) !== size);
    for (const row2 of sum.querySelectorAll<HTMLElement>(".nbx-shap-group")) {
      row2.classList.toggle("focus", Number(row2.dataset.size) === size);
    }
  };
  const onGroupLeave = (): void => {
    for (const line of edgeEls) line.classList.remove("faded");
    for (const row of sum.querySelectorAll<HTMLElement>(".nbx-shap-group")) row.classList.remove("focus");
  };
  svg.addEventListener("mousemove", onMove);
  svg.addEventListener("mouseleave", onLeave);
  svg.addEventListener("click", onClick);
  picker.addEventListener("click", onPick);
  waterfall.addEventListener("click", onPick);
  convTable.addEventListener("click", onPick);
  sum.addEventListener("mouseover", onGroup);
  sum.addEventListener("mouseleave", onGroupLeave);
  base.onCleanup(() => {
    svg.removeEventListener("mousemove", onMove);
    svg.removeEventListener("mouseleave", onLeave);
    svg.removeEventListener("click", onClick);
    picker.removeEventListener("click", onPick);
    waterfall.removeEventListener("click", onPick);
    convTable.removeEventListener("click", onPick);
    sum.removeEventListener("mouseover", onGroup);
    sum.removeEventListener("mouseleave", onGroupLeave);
  });
  base.onCleanup(followTheme(base.root, () => undefined));

  base.onChange(DATA_TRAITS, () => safeDraw(base, drawData));
  base.onChange(["feature"], () => safeDraw(base, () => {
    drawFeature();
    drawSelection();
  }));
  base.onChange(["coalition"], () => safeDraw(base, drawSelection));
  safeDraw(base, drawData);
  return base.cleanup;
}
