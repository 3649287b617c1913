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
