/**
 * Small DOM helpers. Text is only ever set with `textContent`: no markup is built from strings
 * anywhere in nbexplain, so names, labels and messages from Python cannot inject anything.
 */

/**
 * Create an element with class names and optional text (set as `textContent`).
 *
 * @example
 * const name = h("span", "nbx-bar-name", "<b>not bold</b>"); // literal text
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Options of {@link rangeInput}. */
export interface RangeOptions {
  min: number;
  max: number;
  step: number;
  value: number;
  /** Accessible label (`aria-label` and `title`). */
  label?: string;
}

/**
 * An `<input type="range">` with `data-lm-suppress-shortcuts="true"`, so JupyterLab's notebook
 * shortcuts do not swallow arrow keys while it has focus.
 *
 * @example
 * const opacity = rangeInput("nbx-opacity", { min: 0, max: 1, step: 0.01, value: 0.6, label: "opacity" });
 */
export function rangeInput(className: string, opts: RangeOptions): HTMLInputElement {
  const input = h("input", className);
  input.type = "range";
  input.min = String(opts.min);
  input.max = String(opts.max);
  input.step = String(opts.step);
  input.value = String(opts.value);
  input.dataset.lmSuppressShortcuts = "true";
  if (opts.label) {
    input.setAttribute("aria-label", opts.label);
    input.title = opts.label;
  }
  return input;
}

/**
 * A `<select>` whose options are given as values (and optional display labels), all as text.
 *
 * @example
 * const sign = selectInput("nbx-sign", ["both", "positive"], "both");
 */
export function selectInput(
  className: string,
  values: readonly string[],
  selected: string,
  labels?: Readonly<Record<string, string>>,
): HTMLSelectElement {
  const select = h("select", className);
  for (const value of values) {
    const option = h("option", undefined, labels?.[value] ?? value);
    option.value = value;
    select.append(option);
  }
  select.value = selected;
  return select;
}

/**
 * A labelled control: `<label class="nbx-control"><span>text</span>control</label>`.
 *
 * @example
 * row.append(labelled("opacity", opacityInput));
 */
export function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const label = h("label", "nbx-control");
  label.append(h("span", "nbx-control-label", text), control);
  return label;
}

/**
 * Format a number for display: 3 significant digits, exponent notation for magnitudes below
 * 1e-3 or from 1e5 up, and words for non-finite values.
 *
 * @example
 * formatValue(0.123456);   // "0.123"
 * formatValue(1234.5);     // "1230"
 * formatValue(0.00001234); // "1.23e-5"
 * formatValue(NaN);        // "NaN"
 */
export function formatValue(x: number | null | undefined): string {
  if (x === null || x === undefined) return "";
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) return x.toExponential(2).replace(/\.?0+e/, "e");
  return String(Number(x.toPrecision(3)));
}

/**
 * Remove every child of `el`.
 *
 * @example
 * clear(root.querySelector(".nbx-legend")!);
 */
export function clear(el: Element): void {
  el.replaceChildren();
}

/**
 * Call `fn` once `ms` milliseconds have passed without another call; `cancel` drops a pending
 * call and `flush` runs it now.
 *
 * @example
 * const send = debounce(() => model.save_changes(), 150);
 */
export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  ms: number,
): { (...args: A): void; cancel(): void; flush(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | undefined;
  const run = (): void => {
    timer = undefined;
    const args = pending;
    pending = undefined;
    if (args) fn(...args);
  };
  const wrapped = (...args: A): void => {
    pending = args;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  wrapped.cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  wrapped.flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    run();
  };
  return wrapped;
}

/**
 * A per-canvas pixel buffer reused across redraws: `pixelsFor(canvas, h, w)` sizes the canvas
 * and returns its `ImageData`, new only when the size changed (a slider scrubbing frames
 * allocates nothing).
 *
 * @example
 * const pixelsFor = pixelBuffers();
 * const img = pixelsFor(canvas, 8, 8); // img.width === 8; the same object on the next call
 */
export function pixelBuffers(): (canvas: HTMLCanvasElement, hh: number, ww: number) => ImageData {
  const pixels = new Map<HTMLCanvasElement, ImageData>();
  return (canvas, hh, ww) => {
    if (canvas.width !== ww) canvas.width = ww;
    if (canvas.height !== hh) canvas.height = hh;
    let img = pixels.get(canvas);
    if (!img || img.width !== ww || img.height !== hh) {
      img = new ImageData(ww, hh);
      pixels.set(canvas, img);
    }
    return img;
  };
}

