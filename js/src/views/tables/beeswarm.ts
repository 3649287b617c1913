/**
 * The beeswarm view (`_view = "beeswarm"`): one row per feature (most important on top), one dot
 * per sample at its attribution on a shared symmetric axis, stacked by local density and coloured
 * by the feature's value. The layout is computed once per data change (typed arrays in
 * `beeswarmlayout.ts`); `highlight` and `selected` only repaint the cached pixels and the rings.
 * The plot is `width` CSS pixels wide, or narrower when its container is (it never overflows the
 * notebook), and the canvas-drawn axis is repainted when JupyterLab's theme changes.
 */
import {
  HIGH_RGB,
  LOW_RGB,
  buildGrid,
  colorCodes,
  extentOf,
  featureStats,
  layoutSwarm,
  orderFeatures,
  nearestPoint,
  paintPoints,
  rampTable,
  ticks,
  type FeatureStats,
  type PointGrid,
  type SwarmLayout,
} from "./beeswarmlayout";
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { formatValue, h } from "../../core/dom";
import { isDarkTheme, readTheme } from "../../core/theme";
import { getEncoded, getFloatArray, getNumber, getString, getStringList, type Model } from "../../core/traits";
import { decodeArray, type EncodedArray } from "../../core/codec";

const ROW_CSS = 26;
const AXIS_CSS = 30;
const PAD_CSS = 12;
const DOT_CSS = 2;
const HOVER_CSS = 6;
/** The narrowest plot the beeswarm shrinks to in a narrow container. */
const MIN_PLOT_CSS = 200;
/** Room for the gaps between labels, plot and colour bar, and the root's padding. */
const CHROME_CSS = 24;
const LUT = rampTable();
const rgb = (c: readonly number[]): string => `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
/** About one axis tick per 100 CSS pixels of plot (3 to 7, symmetric around 0). */
const tickTarget = (plotCss: number): number => Math.min(7, Math.max(3, Math.round(plotCss / 100)));

/** Everything a full draw computes; reused by hover, click and ring repaints. */
interface Drawn {
  n: number;
  f: number;
  order: number[];
  values: Float32Array;
  featureValues: Float32Array | null;
  sampleIndex: Float32Array | Float64Array | null;
  layout: SwarmLayout;
  /** Built on the first hover or click, not in the first draw. */
  grid: PointGrid | null;
  codes: Uint16Array;
  dpr: number;
  /** CSS pixels of the plot. */
  cssW: number;
  extent: number;
  image: ImageData;
}

/**
 * Render a beeswarm model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderBeeswarm(model, el);
 */
export function renderBeeswarm(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "beeswarm", "nbx-beeswarm");
  const main = h("div", "nbx-beeswarm-main");
  const labels = h("div", "nbx-beeswarm-labels");
  const stage = h("div", "nbx-beeswarm-stage");
  const canvas = h("canvas", "nbx-beeswarm-canvas");
  const tooltip = h("div", "nbx-tooltip nbx-beeswarm-tooltip");
  tooltip.hidden = true;
  stage.append(canvas, tooltip);
  const colorbar = h("div", "nbx-beeswarm-colorbar");
  const bar = h("div", "nbx-beeswarm-colorbar-bar");
  bar.style.background = `linear-gradient(to top, ${rgb(LOW_RGB)}, ${rgb(HIGH_RGB)})`;
  colorbar.append(
    h("span", "nbx-beeswarm-colorbar-high", "high"),
    bar,
    h("span", "nbx-beeswarm-colorbar-low", "low"),
    h("span", "nbx-beeswarm-colorbar-title", "feature value"),
  );
  const xlabel = h("div", "nbx-beeswarm-xlabel");
  const plot = h("div", "nbx-beeswarm-plot");
  plot.append(stage, xlabel);
  main.append(labels, plot, colorbar);
  base.body.append(main);
  const ctx = canvas.getContext("2d");

  let drawn: Drawn | null = null;
  let layoutKey: unknown[] = [];
  let colorKey: unknown[] = [];
  let layouts = 0;
  let decodedFrom: EncodedArray | null = null;
  let decodedValues: { shape: number[]; data: Float32Array } | null = null;
  let statsFrom: unknown = null;
  let stats: FeatureStats | null = null;

  /** The row of sample `index` (a data-set index when `sample_indices` is set), or -1. */
  const rowOfSample = (d: Drawn, index: number): number => {
    if (index < 0) return -1;
    if (!d.sampleIndex) return index < d.n ? index : -1;
    return d.sampleIndex.indexOf(index);
  };
  const sampleOfRow = (d: Drawn, i: number): number => (d.sampleIndex ? d.sampleIndex[i] : i);

  /** Put the cached points back and draw the rings of `highlight` and `selected`. */
  const paintRings = (d: Drawn): void => {
    if (!ctx) return;
    ctx.putImageData(d.image, 0, 0);
    const theme = readTheme(base.root);
    ctx.save();
    ctx.scale(d.dpr, d.dpr);
    drawAxis(ctx, d, theme.foreground, theme.muted);
    const rings = [getNumber(model, "highlight", -1), getNumber(model, "selected", -1)];
    rings.forEach((sample, k) => {
      if (k === 1 && sample === rings[0]) return;
      const i = rowOfSample(d, sample);
      if (i < 0) return;
      for (let r = 0; r < d.order.length; r++) {
        const p = r * d.n + i;
        const x = d.layout.x[p] / d.dpr;
        const y = d.layout.y[p] / d.dpr;
        if (Number.isNaN(x)) continue;
        ctx.beginPath();
        ctx.arc(x, y, DOT_CSS + 1.5, 0, 2 * Math.PI);
        const c = d.codes[p];
        ctx.fillStyle = `rgb(${LUT[c * 3]}, ${LUT[c * 3 + 1]}, ${LUT[c * 3 + 2]})`;
        ctx.fill();
        ctx.beginPath();
        ctx.arc(x, y, DOT_CSS + 4, 0, 2 * Math.PI);
        ctx.lineWidth = k === 0 ? 2 : 1.5;
        ctx.setLineDash(k === 0 ? [] : [2, 2]);
        ctx.strokeStyle = theme.foreground;
        ctx.stroke();
      }
    });
    ctx.restore();
  };

  const drawAxis = (c: CanvasRenderingContext2D, d: Drawn, fg: string, muted: string): void => {
    const cssW = d.cssW;
    const plotH = d.order.length * ROW_CSS;
    const x0 = PAD_CSS;
    const w = cssW - 2 * PAD_CSS;
    const extent = d.extent;
    c.strokeStyle = muted;
    c.fillStyle = fg;
    c.lineWidth = 1;
    c.setLineDash([]);
    c.beginPath();
    c.moveTo(x0, plotH + 0.5);
    c.lineTo(x0 + w, plotH + 0.5);
    c.stroke();
    c.font = `11px ${readTheme(base.root).fontFamily}`;
    c.textAlign = "center";
    c.textBaseline = "top";
    for (const t of ticks(extent, tickTarget(w))) {
      const x = Math.round(x0 + w / 2 + (t / extent) * (w / 2)) + 0.5;
      c.beginPath();
      c.moveTo(x, plotH);
      c.lineTo(x, plotH + 4);
      c.stroke();
      c.fillText(formatValue(t), x, plotH + 6);
    }
  };

  const fullDraw = (): void => {
    const t0 = performance.now();
    const enc = getEncoded(model, "values");
    if (enc !== decodedFrom) {
      decodedValues = enc ? decodeArray(enc) : null;
      decodedFrom = enc;
    }
    const vals = decodedValues;
    if (!vals || vals.shape.length !== 2) throw new Error(`values must be N x F, got ${vals ? `[${vals.shape.join(", ")}]` : "nothing"}`);
    const [n, f] = vals.shape;
    const fv = getFloatArray(model, "feature_values");
    if (fv && (fv.shape[0] !== n || fv.shape[1] !== f)) throw new Error(`feature_values [${fv.shape.join(", ")}] must match values [${n}, ${f}]`);
    const si = sampleIndices(getFloatArray(model, "sample_indices"));
    const maxFeatures = getNumber(model, "max_features", 20);
    const dpr = Math.max(1, Math.round((window.devicePixelRatio || 1) * 4) / 4);
    if (statsFrom !== vals) {
      stats = featureStats(vals.data, n, f);
      statsFrom = vals;
    }
    const order = orderFeatures(stats!, maxFeatures);
    syncLabels(order, n);
    colorbar.hidden = !fv;
    const cssW = plotWidth();
    const cssH = order.length * ROW_CSS + AXIS_CSS;
    const devW = Math.round(cssW * dpr);
    const devH = Math.round(cssH * dpr);

    const lkey = [vals, maxFeatures, cssW, dpr];
    let layout = drawn?.layout;
    let grid = drawn?.grid ?? null;
    let extent = drawn?.extent ?? 1;
    if (!drawn || lkey.some((v, k) => v !== layoutKey[k])) {
      extent = extentOf(stats!, order);
      layout = layoutSwarm(vals.data, n, f, order, extent, {
        x0: PAD_CSS * dpr,
        plotWidth: (cssW - 2 * PAD_CSS) * dpr,
        rowHeight: ROW_CSS * dpr,
        binWidth: 2 * DOT_CSS * dpr,
        dotSpacing: 1.6 * DOT_CSS * dpr,
      });
      grid = null;
      layoutKey = lkey;
      layouts += 1;
    }
    const ckey = [vals, getEncoded(model, "feature_values"), maxFeatures];
    let codes = drawn?.codes;
    if (!drawn || !codes || ckey.some((v, k) => v !== colorKey[k])) {
      codes = colorCodes(fv?.data ?? null, n, f, order);
      colorKey = ckey;
    }
    if (canvas.width !== devW) canvas.width = devW;
    if (canvas.height !== devH) canvas.height = devH;
    canvas.style.width = `${cssW}px`;
    canvas.style.height = `${cssH}px`;
    const image = new ImageData(devW, devH);
    paintGuides(image, order.length, dpr, cssW);
    paintPoints(image.data, devW, devH, layout!, codes, LUT, DOT_CSS * dpr);
    drawn = { n, f, order, values: vals.data, featureValues: fv?.data ?? null, sampleIndex: si?.data ?? null, layout: layout!, grid, codes, dpr, cssW, image, extent };
    paintRings(drawn);
    base.root.dataset.drawMs = (performance.now() - t0).toFixed(3);
    base.root.dataset.layouts = String(layouts);
    base.root.dataset.plotWidth = String(cssW);
    xlabel.textContent = getString(model, "value_label", "attribution");
  };

  /** Row guides (dotted, faint) and the zero line, written into the buffer under the points. */
  const paintGuides = (image: ImageData, rows: number, dpr: number, cssW: number): void => {
    const w = image.width;
    const px = image.data;
    const set = (x: number, y: number, a: number): void => {
      const k = (y * w + x) * 4;
      px[k] = 128;
      px[k + 1] = 128;
      px[k + 2] = 128;
      px[k + 3] = a;
    };
    const x0 = Math.round(PAD_CSS * dpr);
    const x1 = Math.round((cssW - PAD_CSS) * dpr);
    for (let r = 0; r < rows; r++) {
      const y = Math.round((r + 0.5) * ROW_CSS * dpr);
      for (let x = x0; x < x1; x += Math.max(3, Math.round(3 * dpr))) set(x, y, 90);
    }
    const zx = Math.round(PAD_CSS * dpr + ((cssW - 2 * PAD_CSS) * dpr) / 2);
    const bottom = Math.round(rows * ROW_CSS * dpr);
    for (let y = 0; y < bottom; y++) set(zx, y, 200);
  };

  const syncLabels = (order: number[], n: number): void => {
    const names = getStringList(model, "feature_names");
    while (labels.children.length > order.length) labels.lastElementChild?.remove();
    while (labels.children.length < order.length) labels.append(h("div", "nbx-beeswarm-label"));
    order.forEach((j, r) => {
      const label = labels.children[r] as HTMLDivElement;
      const name = names[j] ?? `feature ${j}`;
      label.textContent = name;
      label.title = name;
      label.dataset.feature = String(j);
      label.style.height = `${ROW_CSS}px`;
    });
    base.root.dataset.samples = String(n);
  };

  /** The point under the mouse: [shown row r, sample row i], or null. */
  const pointAt = (event: MouseEvent): [number, number] | null => {
    if (!drawn) return null;
    const rect = canvas.getBoundingClientRect();
    if (rect.width === 0) return null;
    const sx = canvas.width / rect.width;
    const px = (event.clientX - rect.left) * sx;
    const py = (event.clientY - rect.top) * sx;
    const d = drawn;
    d.grid ??= buildGrid(d.layout, canvas.width, canvas.height, Math.ceil(HOVER_CSS * d.dpr));
    const p = nearestPoint(d.grid, d.layout, px, py, HOVER_CSS * drawn.dpr);
    return p < 0 ? null : [Math.floor(p / drawn.n), p % drawn.n];
  };

  const onMove = (event: MouseEvent): void => {
    const hit = pointAt(event);
    if (!hit || !drawn) {
      tooltip.hidden = true;
      return;
    }
    const [r, i] = hit;
    const d = drawn;
    const j = d.order[r];
    const name = getStringList(model, "feature_names")[j] ?? `feature ${j}`;
    const attr = formatValue(d.values[i * d.f + j]);
    const value = d.featureValues ? `${formatValue(d.featureValues[i * d.f + j])}, ` : "";
    tooltip.textContent = `sample ${sampleOfRow(d, i)}, feature ${name}: ${value}attribution ${attr}`;
    tooltip.hidden = false;
    // Keep the read-out inside the plot: flip it to the left of the cursor near the right edge.
    const rect = canvas.getBoundingClientRect();
    const mx = event.clientX - rect.left;
    const width = tooltip.offsetWidth;
    const left = mx + 12 + width <= rect.width ? mx + 12 : Math.max(0, mx - 12 - width);
    tooltip.style.left = `${left}px`;
    tooltip.style.top = `${event.clientY - rect.top + 14}px`;
  };
  const onLeave = (): void => {
    tooltip.hidden = true;
  };
  const onClick = (event: MouseEvent): void => {
    const hit = pointAt(event);
    if (!hit || !drawn || !base.live()) return;
    const index = sampleOfRow(drawn, hit[1]);
    model.set("selected", index);
    model.save_changes();
    sendEvent(model, "select", { index });
  };
  /** `width`, or less when the container is narrower: labels, plot and colour bar fit in it. */
  const plotWidth = (): number => {
    const want = Math.max(120, getNumber(model, "width", 560));
    const parent = el.parentElement;
    if (!parent || parent.clientWidth === 0) return want; // not laid out (yet): the asked width
    const cs = getComputedStyle(parent);
    const inner = parent.clientWidth - parseFloat(cs.paddingLeft || "0") - parseFloat(cs.paddingRight || "0");
    const room = inner - labels.offsetWidth - (colorbar.hidden ? 0 : colorbar.offsetWidth) - CHROME_CSS;
    return Math.round(Math.max(Math.min(want, MIN_PLOT_CSS), Math.min(want, room)));
  };
  let frame = 0;
  const later = (work: () => void): void => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => safeDraw(base, work));
  };
  // A container that changes width (the notebook, a wrapping row) redraws at the width that fits.
  // The view's own element is observed too: it gets its first size once ipywidgets attached it,
  // and then its container is known.
  let observed: Element | null = null;
  const resize = new ResizeObserver(() => {
    const parent = el.parentElement;
    if (parent !== observed) {
      if (observed) resize.unobserve(observed);
      if (parent) resize.observe(parent);
      observed = parent;
    }
    if (drawn && plotWidth() !== drawn.cssW) later(fullDraw);
  });
  resize.observe(el);
  // The axis is drawn on the canvas in the theme's colours: repaint it when the theme changes.
  const theme = new MutationObserver(() => {
    base.root.classList.toggle("nbx-theme-dark", isDarkTheme(el.ownerDocument));
    if (drawn) later(() => paintRings(drawn!));
  });
  if (el.ownerDocument.body) {
    theme.observe(el.ownerDocument.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  }
  base.onCleanup(() => {
    cancelAnimationFrame(frame);
    resize.disconnect();
    theme.disconnect();
  });

  canvas.addEventListener("mousemove", onMove);
  canvas.addEventListener("mouseleave", onLeave);
  base.needsKernel("dot clicks", canvas);
  canvas.addEventListener("click", onClick);

  base.onChange(["values", "feature_values", "feature_names", "sample_indices", "max_features", "width", "value_label"], () =>
    safeDraw(base, fullDraw),
  );
  base.onChange(["highlight", "selected"], () => {
    if (drawn) safeDraw(base, () => paintRings(drawn!));
  });
  safeDraw(base, fullDraw);
  return base.cleanup;
}

/**
 * The data-set index of each row: `(N,)` as sent, or `(N, 2)` pairs `(index / 2**24, rest)` for
 * indices float32 cannot hold (a store of more than 16.7 million rows), joined exactly in float64.
 *
 * @example
 * sampleIndices({ shape: [1, 2], data: new Float32Array([5, 16113920]) })!.data[0]; // 100000000
 */
export function sampleIndices(
  si: { shape: number[]; data: Float32Array } | null,
): { shape: number[]; data: Float32Array | Float64Array } | null {
  if (!si || si.shape.length !== 2) return si;
  const n = si.shape[0];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = si.data[2 * i] * 16777216 + si.data[2 * i + 1];
  return { shape: [n], data: out };
}
