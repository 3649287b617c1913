/**
 * What-if controls for the feature bars: one range input per feature that edits the `sample`
 * trait, or a choice box (`select.nbx-whatif-choice`) for a feature listed in `categories`.
 * The read-out updates at once; the whole sample goes to Python debounced (150 ms) while a
 * slider is dragged, and at once when it is released (its `change` event); as
 * float32 via `encodeArray`. An update of `sample` equal to what we sent (the echo) is ignored.
 */
import { encodeArray } from "../../core/codec";
import { debounce, formatValue, h, rangeInput } from "../../core/dom";
import { getFloatArray, type Model } from "../../core/traits";

/** Debounce of the sample sent to Python, in milliseconds. */
export const WHATIF_DEBOUNCE_MS = 150;

/**
 * True when `a` and `b` hold the same float32 values (NaN equal to NaN).
 *
 * @example
 * sameValues(new Float32Array([1, NaN]), new Float32Array([1, NaN])); // true
 */
export function sameValues(a: Float32Array | null, b: Float32Array | null): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/**
 * A slider range for a feature without `slider_min`/`slider_max`: around `value`, 100 steps.
 *
 * @example
 * fallbackRange(2); // { min: 0, max: 4, step: 0.04 }
 */
export function fallbackRange(value: number): { min: number; max: number; step: number } {
  const v = Number.isFinite(value) ? value : 0;
  const half = Math.max(1, Math.abs(v));
  return { min: v - half, max: v + half, step: (2 * half) / 100 };
}

/**
 * A float32 value as a short decimal string for an input attribute (7 significant digits),
 * so 0.1f shows as "0.1", not "0.10000000149011612".
 *
 * @example
 * f32String(Math.fround(0.1)); // "0.1"
 */
export function f32String(x: number): string {
  return String(Number(x.toPrecision(7)));
}

/**
 * A feature's slider range as integer positions 0..n: position k is `lo + k * step`, and the
 * last position is exactly `hi`. (A float `step` on the input itself lets the browser snap one
 * step short of `hi` through rounding.)
 *
 * @example
 * const g = sliderGrid(0, 1, 0.3); // { lo: 0, hi: 1, step: 0.3, n: 4 }
 * valueAt(g, 4); // 1
 * positionOf(g, 0.61); // 2
 */
export interface SliderGrid {
  lo: number;
  hi: number;
  step: number;
  n: number;
}

/** Build a {@link SliderGrid}; a non-positive or non-finite step gives 100 positions. */
export function sliderGrid(lo: number, hi: number, step: number): SliderGrid {
  const span = hi - lo;
  if (!(span > 0)) return { lo, hi: lo, step: 1, n: 0 };
  const s = step > 0 && Number.isFinite(step) ? step : span / 100;
  const n = Math.max(1, Math.ceil(span / s - 1e-6));
  return { lo, hi, step: s, n };
}

/** The value at integer position `k` of `g` (the last position is exactly `hi`). */
export function valueAt(g: SliderGrid, k: number): number {
  return k >= g.n ? g.hi : g.lo + k * g.step;
}

/** The nearest integer position of `v` on `g` (clamped to 0..n). */
export function positionOf(g: SliderGrid, v: number): number {
  if (!Number.isFinite(v) || g.n === 0) return 0;
  return Math.min(g.n, Math.max(0, Math.round((v - g.lo) / g.step)));
}

/** One allowed value of a categorical feature. */
export interface Category {
  value: number;
  label: string;
}

/**
 * The `categories` trait as one entry per feature (`null` = a slider), defensively: a malformed
 * entry (not a non-empty list of `{value: number, label: string}`) becomes `null`.
 *
 * @example
 * parseCategories([null, [{ value: 1, label: "male" }]], 2); // [null, [{ value: 1, label: "male" }]]
 */
export function parseCategories(raw: unknown, count: number): Array<Category[] | null> {
  const out: Array<Category[] | null> = Array.from({ length: count }, () => null);
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i < Math.min(count, raw.length); i++) {
    const entry: unknown = raw[i];
    if (!Array.isArray(entry) || entry.length === 0) continue;
    const items: Category[] = [];
    for (const c of entry as unknown[]) {
      if (typeof c !== "object" || c === null) break;
      const { value, label } = c as { value?: unknown; label?: unknown };
      if (typeof value !== "number" || !Number.isFinite(value)) break;
      items.push({ value, label: typeof label === "string" ? label : String(value) });
    }
    if (items.length === entry.length) out[i] = items;
  }
  return out;
}

/**
 * The index of the category whose value equals `v` in float32 (the sample travels as
 * float32), or -1 when none does.
 *
 * @example
 * choiceIndex([{ value: 0.1, label: "a" }], Math.fround(0.1)); // 0
 */
export function choiceIndex(choices: readonly Category[], v: number): number {
  const f = Math.fround(v);
  return choices.findIndex((c) => Math.fround(c.value) === f);
}

interface Slider {
  input: HTMLInputElement;
  readout: HTMLSpanElement;
  grid: SliderGrid;
  /** The choice box of a categorical feature (built when `categories` names it). */
  choice: HTMLSelectElement | null;
  /** The categories the choice box was built for (JSON), to rebuild only on change. */
  choiceKey: string;
}

/** The set of what-if sliders of one feature-bars view. */
export class WhatIf {
  /** True while the pointer holds one of the sliders down. */
  dragging = false;
  private sliders: Slider[] = [];
  private current = new Float32Array(0);
  private lastSent: Float32Array | null = null;
  private active = -1;
  private readonly send = debounce(() => this.sendNow(), WHATIF_DEBOUNCE_MS);
  private readonly onPointerUp = (): void => {
    if (!this.dragging) return;
    this.dragging = false;
    this.active = -1;
    this.settled();
  };

  /**
   * @param model the widget model (`sample`, `slider_min`, `slider_max`, `slider_step`).
   * @param cell where slider `i` lives (the row's what-if cell).
   * @param settled called when a drag ends, so the view may re-order its rows.
   * @param needsKernel the view's {@link ViewBase.needsKernel}: the sliders and choices re-predict
   *   in Python, so they are disabled (with the reason) while no kernel is connected.
   */
  constructor(
    private readonly model: Model,
    private readonly cell: (i: number) => HTMLElement | undefined,
    private readonly settled: () => void,
    private readonly needsKernel: (what: string, ...controls: HTMLElement[]) => void = () => {},
  ) {
    window.addEventListener("pointerup", this.onPointerUp);
    window.addEventListener("pointercancel", this.onPointerUp);
  }

  /** Create one slider per feature (after the rows were rebuilt). */
  rebuild(count: number): void {
    this.sliders = Array.from({ length: count }, (_, i) => {
      const input = rangeInput("nbx-whatif", { min: 0, max: 100, step: 1, value: 0, label: `what-if value ${i}` });
      input.dataset.index = String(i);
      const readout = h("span", "nbx-whatif-value");
      readout.dataset.index = String(i);
      input.addEventListener("pointerdown", () => {
        this.dragging = true;
        this.active = i;
      });
      input.addEventListener("input", () => this.onInput(i));
      // A released slider (or a key press) is a settled value: send it now, not after the debounce.
      input.addEventListener("change", () => this.send.flush());
      this.needsKernel("what-if", input);
      return { input, readout, grid: sliderGrid(0, 1, 0.01), choice: null, choiceKey: "" };
    });
    this.current = new Float32Array(count);
    this.lastSent = null;
  }

  /** Show or hide the controls and bring ranges, choices and values up to date with the model. */
  sync(enabled: boolean, featureValues: Float32Array | null): void {
    const categories = parseCategories(this.model.get("categories"), this.sliders.length);
    this.sliders.forEach((s, i) => {
      const cell = this.cell(i);
      if (!cell) return;
      const choices = categories[i];
      if (choices) this.ensureChoice(i, choices);
      const control = choices && s.choice ? s.choice : s.input;
      if (enabled && control.parentElement !== cell) {
        if (control === s.input) cell.replaceChildren(s.input, s.readout);
        else cell.replaceChildren(control);
      }
      if (!enabled) cell.replaceChildren();
    });
    if (!enabled) return;
    const sample = getFloatArray(this.model, "sample")?.data ?? null;
    const echo = sameValues(sample, this.lastSent);
    if (!echo) {
      const from = sample && sample.length === this.current.length ? sample : featureValues;
      if (from && from.length === this.current.length) this.current.set(from);
    }
    const lo = getFloatArray(this.model, "slider_min")?.data;
    const hi = getFloatArray(this.model, "slider_max")?.data;
    const step = getFloatArray(this.model, "slider_step")?.data;
    this.sliders.forEach((s, i) => {
      const v = this.current[i];
      const fb = fallbackRange(v);
      s.grid = sliderGrid(lo?.[i] ?? fb.min, hi?.[i] ?? fb.max, step?.[i] ?? fb.step);
      s.input.min = "0";
      s.input.max = String(s.grid.n);
      s.input.step = "1";
      s.input.dataset.min = f32String(s.grid.lo);
      s.input.dataset.max = f32String(s.grid.hi);
      if (i !== this.active) s.input.value = String(positionOf(s.grid, v));
      s.input.dataset.value = f32String(v);
      s.readout.textContent = formatValue(v);
      const choices = categories[i];
      if (choices && s.choice) {
        s.choice.selectedIndex = choiceIndex(choices, v);
        s.choice.dataset.value = f32String(v);
      }
    });
  }

  /** Build (or rebuild, when the categories changed) the choice box of feature `i`. */
  private ensureChoice(i: number, choices: Category[]): void {
    const s = this.sliders[i];
    const key = JSON.stringify(choices);
    if (s.choice && s.choiceKey === key) return;
    const select = h("select", "nbx-whatif-choice");
    select.dataset.index = String(i);
    select.dataset.lmSuppressShortcuts = "true";
    select.setAttribute("aria-label", `what-if value ${i}`);
    choices.forEach((c, j) => {
      const option = h("option", undefined, c.label); // textContent: labels are user strings
      option.value = String(j);
      option.dataset.value = f32String(Math.fround(c.value));
      select.append(option);
    });
    select.addEventListener("change", () => {
      const picked = choices[select.selectedIndex];
      if (!picked) return;
      const v = Math.fround(picked.value);
      this.current[i] = v;
      select.dataset.value = f32String(v);
      this.send();
    });
    this.needsKernel("what-if", select);
    s.choice?.remove();
    s.choice = select;
    s.choiceKey = key;
  }


  /** Remove window listeners and drop a pending send. */
  dispose(): void {
    this.send.cancel();
    window.removeEventListener("pointerup", this.onPointerUp);
    window.removeEventListener("pointercancel", this.onPointerUp);
  }

  private onInput(i: number): void {
    const slider = this.sliders[i];
    const v = Math.fround(valueAt(slider.grid, Number(slider.input.value)));
    this.current[i] = v;
    slider.input.dataset.value = f32String(v);
    this.sliders[i].readout.textContent = formatValue(v);
    this.send();
  }

  private sendNow(): void {
    const enc = encodeArray(new Float32Array(this.current), [this.current.length]);
    this.lastSent = new Float32Array(this.current);
    this.model.set("sample", enc);
    this.model.save_changes();
  }
}
