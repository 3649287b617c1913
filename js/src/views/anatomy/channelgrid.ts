/**
 * The channel-grid view (`_view = "channel_grid"`): one small canvas per map (activation
 * channels, conv filters), in display order, each with its label below. Scalar maps are coloured
 * with a shared colour map and one scale for the grid (or per tile), RGB maps as they are (see
 * `channelgrid_color.ts`). Each canvas has exactly w x h pixels, scaled by CSS. Above the tiles
 * a colour bar shows the value range (or says that each tile has its own scale) and the hover
 * read-out gives the tile label and the value under the pointer; the tiles fill the view's width
 * and scroll inside it, back to the top whenever new maps or another order arrive. A click (or
 * Enter/Space) selects a tile (`selected` and the `select` event with the map index).
 */
import { gridColoring, displayOrder, tilePixels, type GridColoring } from "./channelgrid_color";
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { formatValue, h } from "../../core/dom";
import { table } from "../../core/colormaps";
import { buildLegend, updateLegend } from "../../core/legend";
import { getFloatArray, getNumber, getString, getStringList, type Model } from "../../core/traits";

interface Maps {
  n: number;
  hgt: number;
  wid: number;
  rgb: boolean;
  data: Float32Array;
}

function readMaps(model: Model): Maps {
  const m = getFloatArray(model, "maps");
  if (!m) throw new Error("maps is missing: pass an array (n, h, w) or (n, h, w, 3)");
  const s = m.shape;
  const rgb = s.length === 4 && s[3] === 3;
  if (!(s.length === 3 || rgb)) throw new Error(`maps must be (n, h, w) or (n, h, w, 3), got [${s.join(", ")}]`);
  return { n: s[0], hgt: s[1], wid: s[2], rgb, data: m.data };
}

/**
 * Render a channel-grid model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderChannelGrid(model, el);
 */
export function renderChannelGrid(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "channel_grid", "nbx-channel-grid");
  const tiles = h("div", "nbx-channel-tiles");
  const readout = h("div", "nbx-channel-readout", "\u00A0");
  const legend = buildLegend();
  legend.root.classList.add("nbx-channel-legend");
  const rgbNote = h("span", "nbx-channel-rgb", "RGB tiles");
  const bar = h("div", "nbx-channel-bar");
  bar.append(legend.root, readout);
  base.body.append(bar, tiles);
  let maps: Maps | null = null;
  let coloring: GridColoring | null = null;
  let labels: string[] = [];
  let tileEls: HTMLDivElement[] = [];

  const label = (i: number): string => labels[i] ?? String(i);

  const syncSelected = (): void => {
    const sel = getNumber(model, "selected", -1);
    for (const t of tileEls) {
      const on = Number(t.dataset.index) === sel;
      t.classList.toggle("selected", on);
      t.setAttribute("aria-pressed", String(on));
    }
  };

  const sizeTiles = (): void => {
    if (!maps) return;
    const size = Math.max(8, getNumber(model, "tile_size", 48));
    const hgt = Math.round((size * maps.hgt) / Math.max(1, maps.wid));
    tiles.style.gridTemplateColumns = `repeat(auto-fill, ${size + 2}px)`; // + the canvas border
    for (const t of tileEls) {
      const c = t.firstElementChild as HTMLCanvasElement;
      c.style.width = `${size}px`;
      c.style.height = `${hgt}px`;
    }
  };

  /** The colour bar of the tiles' scale; RGB tiles say so instead. */
  const drawLegend = (m: Maps, c: GridColoring): void => {
    legend.bar.hidden = legend.min.hidden = legend.max.hidden = m.rgb;
    if (m.rgb) {
      legend.root.prepend(rgbNote);
      legend.caption.remove();
      return;
    }
    rgbNote.remove();
    const perTile = getString(model, "scale", "grid") === "tile";
    let noData = 0;
    for (let i = 0; i < m.n * m.hgt * m.wid; i++) if (!Number.isFinite(m.data[i])) noData++;
    const plan = { scale: c.scales[0], cmap: c.cmap, diverging: c.signed, signed: c.signed, noData };
    updateLegend(legend, plan, table(c.cmap), null, perTile ? "each tile scaled to its own max |value|" : "one scale for all tiles");
    if (perTile) {
      legend.min.textContent = c.signed ? "-max" : "0";
      legend.max.textContent = "max";
    }
  };

  const draw = (): void => {
    const t0 = performance.now();
    const m = readMaps(model);
    maps = m;
    labels = getStringList(model, "labels");
    const c = gridColoring(m.data, m.n, m.hgt * m.wid * (m.rgb ? 3 : 1), m.rgb, getString(model, "cmap", "auto"), getString(model, "scale", "grid"));
    coloring = c;
    const order = displayOrder(getFloatArray(model, "order")?.data ?? null, m.n);
    const frag = document.createDocumentFragment();
    tileEls = [];
    order.forEach((idx, pos) => {
      const tile = h("div", "nbx-channel-tile");
      tile.dataset.index = String(idx);
      tile.dataset.pos = String(pos);
      tile.tabIndex = 0;
      tile.setAttribute("role", "button");
      tile.dataset.lmSuppressShortcuts = "true";
      const canvas = h("canvas", "nbx-channel-canvas");
      canvas.width = m.wid;
      canvas.height = m.hgt;
      const ctx = canvas.getContext("2d");
      if (ctx) ctx.putImageData(new ImageData(tilePixels(m.data, idx, m.hgt, m.wid, c), m.wid, m.hgt), 0, 0);
      tile.append(canvas, h("div", "nbx-channel-label", label(idx)));
      tileEls.push(tile);
      frag.append(tile);
    });
    tiles.replaceChildren(frag);
    sizeTiles();
    drawLegend(m, c);
    tiles.scrollTop = 0; // new maps (another layer) or another order: the first tiles show
    syncSelected();
    base.root.dataset.drawMs = (performance.now() - t0).toFixed(2);
  };

  const tileOf = (target: EventTarget | null): HTMLDivElement | null => {
    const t = target instanceof Element ? target.closest(".nbx-channel-tile") : null;
    return t instanceof HTMLDivElement && tiles.contains(t) ? t : null;
  };

  const select = (tile: HTMLDivElement): void => {
    if (!base.live()) return; // the inspector's enlarged channel comes from Python
    const index = Number(tile.dataset.index);
    model.set("selected", index);
    model.save_changes();
    sendEvent(model, "select", { index });
  };

  const onClick = (event: MouseEvent): void => {
    const tile = tileOf(event.target);
    if (tile) select(tile);
  };
  const onKey = (event: KeyboardEvent): void => {
    const tile = tileOf(event.target);
    if (tile && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      event.stopPropagation();
      select(tile);
    }
  };
  const onMove = (event: MouseEvent): void => {
    const tile = tileOf(event.target);
    if (!tile || !maps || !coloring) return;
    const idx = Number(tile.dataset.index);
    const canvas = tile.firstElementChild as HTMLCanvasElement;
    const box = canvas.getBoundingClientRect();
    const inside = event.clientY >= box.top && event.clientY < box.bottom && box.width > 0 && box.height > 0;
    if (!inside) {
      readout.textContent = label(idx);
      return;
    }
    const col = Math.min(maps.wid - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * maps.wid)));
    const row = Math.min(maps.hgt - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * maps.hgt)));
    const cell = idx * maps.hgt * maps.wid + row * maps.wid + col;
    const value = maps.rgb
      ? `(${[0, 1, 2].map((k) => formatValue(maps?.data[cell * 3 + k])).join(", ")})`
      : formatValue(maps.data[cell]);
    readout.textContent = `${label(idx)}: row ${row}, col ${col}: ${value}`;
  };
  const onLeave = (): void => {
    readout.textContent = "\u00A0";
  };
  tiles.addEventListener("click", onClick);
  tiles.addEventListener("keydown", onKey);
  tiles.addEventListener("mousemove", onMove);
  tiles.addEventListener("mouseleave", onLeave);
  base.onCleanup(() => {
    tiles.removeEventListener("click", onClick);
    tiles.removeEventListener("keydown", onKey);
    tiles.removeEventListener("mousemove", onMove);
    tiles.removeEventListener("mouseleave", onLeave);
  });

  base.onChange(["maps", "labels", "order", "cmap", "scale"], () => safeDraw(base, draw));
  base.onChange(["tile_size"], () => safeDraw(base, sizeTiles));
  base.onChange(["selected"], () => safeDraw(base, syncSelected));
  safeDraw(base, draw);
  return base.cleanup;
}
