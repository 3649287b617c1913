/**
 * The attention view (`_view = "attention"`): a transformer's self-attention over the tokens of
 * one text, per layer and head (or the mean of the heads), and attention rollout. Two drawings:
 * "lines" (the tokens twice, a line from each token to those it attends to, thicker and darker
 * for more attention; hover a token to see its row alone) and "matrix" (a T x T grid, rows
 * attend to columns). Layer, head and drawing are chosen in the browser, without a kernel, and
 * saved back to Python (`layer`, `head`, `mode`). Tokens reach the page as text only.
 */
import { attentionLines, headMatrix, mapsShape, type MapsShape } from "./attentionlayout";
import { lookup } from "../../core/colormaps";
import { createViewBase, safeDraw } from "../../core/common";
import { formatValue, h, labelled, selectInput } from "../../core/dom";
import { getFloatArray, getNumber, getString, getStringList, type Model } from "../../core/traits";

const DRAW_TRAITS = ["maps", "rollout", "tokens", "special", "layer", "head", "mode", "note", "min_weight"];
const SVG = "http://www.w3.org/2000/svg";
const ROW = 20;
const GAP = 140;

/**
 * Render an attention model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderAttention(model, el);
 */
export function renderAttention(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "attention", "nbx-attention");
  const controls = h("div", "nbx-controls");
  const layerSel = selectInput("nbx-attn-layer", ["rollout"], "rollout");
  const headSel = selectInput("nbx-attn-head", ["mean of heads"], "mean of heads");
  const modeSel = selectInput("nbx-attn-mode", ["lines", "matrix"], "lines");
  controls.append(labelled("layer", layerSel), labelled("head", headSel), labelled("drawing", modeSel));
  const note = h("div", "nbx-attn-note");
  note.setAttribute("role", "note");
  note.hidden = true;
  const stage = h("div", "nbx-attn-stage");
  const readout = h("div", "nbx-attn-readout", "hover a token to see what it attends to");
  base.body.append(controls, note, stage, readout);

  let shape: MapsShape | null = null;
  let tokens: string[] = [];
  let focus = -1;

  const current = (): Float32Array | null => {
    const layer = getNumber(model, "layer", -1);
    if (layer < 0) {
      const r = getFloatArray(model, "rollout");
      return r ? r.data : null;
    }
    const maps = getFloatArray(model, "maps");
    if (!maps || !shape) return null;
    return headMatrix(maps.data, shape, layer, getNumber(model, "head", -1));
  };

  const fillSelects = (): void => {
    const hasRollout = getFloatArray(model, "rollout") !== null;
    const layers = shape ? shape.layers : 0;
    const heads = shape ? shape.heads : 0;
    const layerOpts = [...(hasRollout ? ["rollout"] : []), ...Array.from({ length: layers }, (_, i) => `layer ${i + 1}`)];
    const headOpts = ["mean of heads", ...Array.from({ length: heads }, (_, i) => `head ${i + 1}`)];
    const sync = (sel: HTMLSelectElement, opts: string[]): void => {
      if ([...sel.options].map((o) => o.value).join("|") === opts.join("|")) return;
      sel.replaceChildren(...opts.map((o) => h("option", "", o)));
      [...sel.options].forEach((o) => (o.value = o.textContent ?? ""));
    };
    sync(layerSel, layerOpts);
    sync(headSel, headOpts);
    const layer = getNumber(model, "layer", -1);
    layerSel.value = layer < 0 ? "rollout" : `layer ${layer + 1}`;
    const head = getNumber(model, "head", -1);
    headSel.value = head < 0 ? "mean of heads" : `head ${head + 1}`;
    headSel.disabled = layer < 0 || heads === 0;
    headSel.title = layer < 0 ? "rollout fuses the heads of every layer" : "";
    modeSel.value = getString(model, "mode", "lines");
  };

  const specials = (): boolean[] => {
    const s = getFloatArray(model, "special");
    return tokens.map((_, i) => Boolean(s && s.data[i]));
  };

  const tokenLabel = (i: number, side: string, isSpecial: boolean): HTMLElement => {
    const span = h("span", `nbx-attn-token nbx-attn-${side}`, tokens[i]);
    span.dataset.index = String(i);
    span.classList.toggle("nbx-attn-special", isSpecial);
    return span;
  };

  const drawLines = (m: Float32Array): void => {
    const t = tokens.length;
    const spec = specials();
    const left = h("div", "nbx-attn-col nbx-attn-left-col");
    const right = h("div", "nbx-attn-col nbx-attn-right-col");
    tokens.forEach((_, i) => {
      left.append(tokenLabel(i, "from", spec[i]));
      right.append(tokenLabel(i, "to", spec[i]));
    });
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "nbx-attn-svg");
    svg.setAttribute("width", String(GAP));
    svg.setAttribute("height", String(t * ROW));
    const minWeight = getNumber(model, "min_weight", 0.02);
    const lines = attentionLines(m, t, focus, minWeight);
    const top = lines.reduce((a, l) => Math.max(a, l.weight), 0) || 1;
    for (const l of lines) {
      const line = document.createElementNS(SVG, "line");
      line.setAttribute("x1", "0");
      line.setAttribute("y1", String(l.from * ROW + ROW / 2));
      line.setAttribute("x2", String(GAP));
      line.setAttribute("y2", String(l.to * ROW + ROW / 2));
      line.setAttribute("stroke-opacity", (l.weight / top).toFixed(3));
      line.setAttribute("stroke-width", (1 + 2.5 * (l.weight / top)).toFixed(2));
      line.setAttribute("class", "nbx-attn-line");
      line.dataset.from = String(l.from);
      line.dataset.to = String(l.to);
      line.dataset.weight = String(l.weight);
      svg.append(line);
    }
    const row = h("div", "nbx-attn-lines");
    row.append(left, svg, right);
    if (focus >= 0) {
      left.children[focus]?.classList.add("nbx-attn-focus");
      for (let j = 0; j < t; j++) {
        const w = m[focus * t + j];
        const el2 = right.children[j] as HTMLElement | undefined;
        if (el2) el2.style.setProperty("--nbx-attn-w", (w / top).toFixed(3));
      }
      right.classList.add("nbx-attn-weighted");
    }
    stage.replaceChildren(row);
  };

  const drawMatrix = (m: Float32Array): void => {
    const t = tokens.length;
    const cell = Math.max(3, Math.min(18, Math.floor(360 / Math.max(1, t))));
    const canvas = h("canvas", "nbx-attn-matrix");
    canvas.width = t * cell;
    canvas.height = t * cell;
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no 2-D canvas context");
    let top = 0;
    for (const v of m) if (Number.isFinite(v)) top = Math.max(top, v);
    top = top || 1;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < t; j++) {
        const [r, g, b] = lookup("viridis", Math.min(1, Math.max(0, m[i * t + j] / top)));
        ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
        ctx.fillRect(j * cell, i * cell, cell, cell);
      }
    }
    canvas.addEventListener("mousemove", (event) => {
      const box = canvas.getBoundingClientRect();
      const j = Math.floor((event.clientX - box.left) / cell);
      const i = Math.floor((event.clientY - box.top) / cell);
      if (i >= 0 && j >= 0 && i < t && j < t) {
        readout.textContent = `${tokens[i]} \u2192 ${tokens[j]}: ${formatValue(m[i * t + j])}`;
      }
    });
    const labels = h("div", "nbx-attn-rowlabels");
    labels.style.setProperty("--nbx-attn-cell", `${cell}px`);
    if (cell >= 10) {
      const spec = specials();
      tokens.forEach((_, i) => labels.append(tokenLabel(i, "row", spec[i])));
    }
    const wrap = h("div", "nbx-attn-matrix-wrap");
    wrap.append(labels, canvas);
    stage.replaceChildren(wrap);
  };

  const draw = (): void => {
    tokens = getStringList(model, "tokens");
    const maps = getFloatArray(model, "maps");
    shape = maps ? mapsShape(maps.shape) : null;
    if (shape && shape.tokens !== tokens.length) {
      throw new Error(`${tokens.length} tokens but attention maps over ${shape.tokens}`);
    }
    if (focus >= tokens.length) focus = -1;
    fillSelects();
    note.textContent = getString(model, "note");
    note.hidden = note.textContent === "";
    const m = current();
    if (!m) {
      stage.replaceChildren(h("div", "nbx-attn-empty", "no attention maps"));
      return;
    }
    if (getString(model, "mode", "lines") === "matrix") drawMatrix(m);
    else drawLines(m);
    base.root.dataset.tokens = String(tokens.length);
  };
  const redraw = (): void => {
    safeDraw(base, draw);
  };

  const choose = (name: string, value: number | string): void => {
    model.set(name, value);
    model.save_changes();
  };
  layerSel.addEventListener("change", () => {
    choose("layer", layerSel.value === "rollout" ? -1 : Number(layerSel.value.replace("layer ", "")) - 1);
  });
  headSel.addEventListener("change", () => {
    choose("head", headSel.value === "mean of heads" ? -1 : Number(headSel.value.replace("head ", "")) - 1);
  });
  modeSel.addEventListener("change", () => choose("mode", modeSel.value));
  const onOver = (event: Event): void => {
    const target = event.target instanceof Element ? event.target.closest<HTMLElement>(".nbx-attn-from") : null;
    const i = target ? Number(target.dataset.index) : -1;
    if (i === focus || !Number.isInteger(i)) return;
    focus = i;
    const m = current();
    if (m && i >= 0) {
      const t = tokens.length;
      let best = 0;
      for (let j = 1; j < t; j++) if (m[i * t + j] > m[i * t + best]) best = j;
      readout.textContent = `${tokens[i]} attends most to ${tokens[best]} (${formatValue(m[i * t + best])})`;
    }
    redraw();
  };
  const onLeave = (): void => {
    if (focus < 0) return;
    focus = -1;
    readout.textContent = "hover a token to see what it attends to";
    redraw();
  };
  stage.addEventListener("mouseover", onOver);
  stage.addEventListener("mouseleave", onLeave);
  base.onChange(DRAW_TRAITS, redraw);
  base.onCleanup(() => {
    stage.removeEventListener("mouseover", onOver);
    stage.removeEventListener("mouseleave", onLeave);
  });
  redraw();
  return base.cleanup;
}
