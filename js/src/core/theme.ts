/**
 * JupyterLab theme: read its CSS variables (with fallbacks outside Lab, e.g. in a saved HTML
 * page) so canvas-drawn parts match the CSS-styled rest of the widget.
 */

/** Colours and fonts the views draw with. */
export interface Theme {
  background: string;
  foreground: string;
  muted: string;
  border: string;
  fontFamily: string;
  dark: boolean;
}

const LIGHT: Theme = {
  background: "#ffffff",
  foreground: "rgba(0, 0, 0, 0.87)",
  muted: "rgba(0, 0, 0, 0.54)",
  border: "#bdbdbd",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  dark: false,
};

const DARK: Theme = {
  ...LIGHT,
  background: "#111111",
  foreground: "rgba(255, 255, 255, 1)",
  muted: "rgba(255, 255, 255, 0.54)",
  border: "#616161",
  dark: true,
};

/**
 * True when JupyterLab says its theme is dark (`<body data-jp-theme-light="false">`).
 * A hint only: outside Lab it is false.
 *
 * @example
 * if (isDarkTheme()) legend.classList.add("nbx-dark");
 */
export function isDarkTheme(doc: Document = document): boolean {
  return doc.body?.dataset.jpThemeLight === "false";
}

/**
 * Read a CSS custom property on `el` (inherited from Lab's theme), or `fallback` when unset.
 *
 * @example
 * cssVar(el, "--jp-layout-color0", "#fff");
 */
export function cssVar(el: Element, name: string, fallback: string): string {
  const value = getComputedStyle(el).getPropertyValue(name).trim();
  return value || fallback;
}

/**
 * The theme at `el`: Lab's variables where present, else light or dark defaults.
 *
 * @example
 * const { foreground } = readTheme(root);
 */
export function readTheme(el: Element): Theme {
  const base = isDarkTheme(el.ownerDocument) ? DARK : LIGHT;
  return {
    background: cssVar(el, "--jp-layout-color0", base.background),
    foreground: cssVar(el, "--jp-ui-font-color1", base.foreground),
    muted: cssVar(el, "--jp-ui-font-color2", base.muted),
    border: cssVar(el, "--jp-border-color1", base.border),
    fontFamily: cssVar(el, "--jp-ui-font-family", base.fontFamily),
    dark: base.dark,
  };
}

/**
 * A CSS colour (`#rgb`, `#rrggbb`, `rgb()` / `rgba()`, or any name the browser knows) as
 * `[r, g, b]`, or null when it cannot be read.
 *
 * @example
 * parseColor("#111");              // [17, 17, 17]
 * parseColor("rgba(0, 0, 0, 0.5)"); // [0, 0, 0]
 */
export function parseColor(css: string): [number, number, number] | null {
  const text = css.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(text);
  if (hex) {
    const d = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    return [0, 2, 4].map((i) => parseInt(d.slice(i, i + 2), 16)) as [number, number, number];
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(text);
  if (fn) return [Number(fn[1]), Number(fn[2]), Number(fn[3])].map((v) => Math.round(v)) as [number, number, number];
  if (text === "" || typeof document === "undefined") return null;
  // A name ("white") or another syntax: let a canvas normalise it to #rrggbb.
  const ctx = document.createElement("canvas").getContext("2d");
  if (!ctx) return null;
  ctx.fillStyle = "#010203";
  ctx.fillStyle = text;
  const out = ctx.fillStyle;
  return out === "#010203" && text !== "#010203" ? null : parseColor(out);
}

/**
 * The theme's background behind `el` as `[r, g, b]` (`--jp-layout-color0`, else white or #111).
 *
 * @example
 * const [r, g, b] = themeBackground(root);
 */
export function themeBackground(el: Element): [number, number, number] {
  const theme = readTheme(el);
  return parseColor(theme.background) ?? (theme.dark ? [17, 17, 17] : [255, 255, 255]);
}

/**
 * Call `callback` when JupyterLab switches theme (`<body data-jp-theme-light / -name>`), at once
 * and once more after the new theme's CSS had time to apply; returns the function that stops.
 * The root element `root` gets `nbx-theme-dark` (and the native controls' colour scheme) to match.
 *
 * @example
 * base.onCleanup(followTheme(base.root, redraw));
 */
export function followTheme(root: HTMLElement, callback: () => void): () => void {
  const doc = root.ownerDocument;
  if (!doc.body || typeof MutationObserver === "undefined") return () => undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const apply = (): void => {
    const dark = isDarkTheme(doc);
    root.classList.toggle("nbx-theme-dark", dark);
    root.style.colorScheme = dark ? "dark" : "";
    callback();
  };
  const observer = new MutationObserver(() => {
    apply();
    clearTimeout(timer);
    timer = setTimeout(apply, 400);
  });
  observer.observe(doc.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  return () => {
    observer.disconnect();
    clearTimeout(timer);
  };
}
