/**
 * The text-tokens view (`_view = "text_tokens"`): a text's tokens as inline chips coloured by
 * their attribution. Hover shows token and value; a click (or Enter / Space on a focused token)
 * sends `{event: "toggle", index}` to Python, which decides what happens (the what-if drops the
 * token and re-predicts). Dropped tokens are struck through and faded. Chips fade into the
 * theme's background as |value| goes to 0 (`tokencolors.ts`), and redraw when the theme changes.
 */
import { createViewBase, safeDraw, sendEvent } from "../../core/common";
import { formatValue, h } from "../../core/dom";
import { followTheme, themeBackground } from "../../core/theme";
import { legendGradient, spaceBefore, tokenLook, tokenScale } from "./tokencolors";
import { getFloatArray, getOptionalNumber, getString, getStringList, type Model } from "../../core/traits";

const DRAW_TRAITS = ["tokens", "values", "dropped", "cmap", "prediction", "prediction_label", "base_value", "base_label",
  "details", "note"];
const DIVERGING_FALLBACK = "RdBu_r";

/**
 * Render a text-tokens model into `el`; returns the cleanup function.
 *
 * @example
 * const cleanup = renderTextTokens(model, el);
 */
export function renderTextTokens(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "text_tokens", "nbx-text-tokens");
  const summary = h("div", "nbx-summary");
  const prediction = h("span", "nbx-prediction");
  const baseValue = h("span", "nbx-base-value");
  const baseLabel = h("span", "nbx-summary-label", "all tokens dropped");
  summary.append(h("span", "nbx-summary-label", "prediction"), prediction, baseLabel, baseValue);
  const note = h("div", "nbx-token-note");
  note.setAttribute("role", "note");
  note.hidden = true;
  const text = h("div", "nbx-token-text");
  const legend = h("div", "nbx-token-legend");
  const legendMin = h("span", "nbx-token-scale-min");
  const legendBar = h("span", "nbx-token-scale-bar");
  const legendMax = h("span", "nbx-token-scale-max");
  const hint = h("span", "nbx-token-hint", "click a token to drop or restore it");
  legend.append(legendMin, legendBar, legendMax, hint);
  const tooltip = h("div", "nbx-token-tooltip");
  tooltip.hidden = true;
  tooltip.setAttribute("role", "tooltip");
  base.body.append(summary, note, text, legend, tooltip);

  let tokens: string[] = [];
  let values: Float32Array = new Float32Array(0);
  let dropped: Float32Array = new Float32Array(0);
  let details: string[] = [];

  const spanOf = (target: EventTarget | null): HTMLElement | null => {
    const span = target instanceof Element ? target.closest<HTMLElement>("span.nbx-token") : null;
    return span && text.contains(span) ? span : null;
  };
  const indexOf = (target: EventTarget | null): number => {
    const i = Number(spanOf(target)?.dataset.index ?? NaN);
    return Number.isInteger(i) && i >= 0 && i < tokens.length ? i : -1;
  };

  const showTooltip = (i: number, span: HTMLElement): void => {
    const state = dropped[i] ? " (dropped)" : "";
    const detail = details[i] ? `\n${details[i]}` : "";
    tooltip.textContent = `${tokens[i]}: ${formatValue(values[i])}${state}${detail}`;
    tooltip.hidden = false;
    const rootBox = base.root.getBoundingClientRect();
    const box = span.getBoundingClientRect();
    tooltip.style.left = `${box.left - rootBox.left}px`;
    tooltip.style.top = `${box.bottom - rootBox.top + 4}px`;
  };

  const onClick = (event: MouseEvent): void => {
    const i = indexOf(event.target);
    if (i >= 0 && base.live()) sendEvent(model, "toggle", { index: i });
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const i = indexOf(event.target);
    if (i < 0) return;
    event.preventDefault();
    event.stopPropagation(); // keep JupyterLab from running the cell on Enter
    if (base.live()) sendEvent(model, "toggle", { index: i });
  };
  const onOver = (event: Event): void => {
    const span = spanOf(event.target);
    const i = indexOf(event.target);
    if (span && i >= 0) showTooltip(i, span);
  };
  const onLeave = (): void => {
    tooltip.hidden = true;
  };
  base.needsKernel("word clicks", text);
  text.addEventListener("click", onClick);
  text.addEventListener("keydown", onKey);
  text.addEventListener("mouseover", onOver);
  text.addEventListener("focusin", onOver);
  text.addEventListener("mouseleave", onLeave);
  text.addEventListener("focusout", onLeave);

  const draw = (): void => {
    tokens = getStringList(model, "tokens");
    values = getFloatArray(model, "values")?.data ?? new Float32Array(0);
    dropped = getFloatArray(model, "dropped")?.data ?? new Float32Array(0);
    details = getStringList(model, "details");
    note.textContent = getString(model, "note");
    note.hidden = note.textContent === "";
    if (values.length !== tokens.length) {
      throw new Error(`${tokens.length} tokens but ${values.length} values`);
    }
    const cmapName = getString(model, "cmap", DIVERGING_FALLBACK);
    const s = tokenScale(values);
    const background = themeBackground(base.root);
    const children: Node[] = [];
    tokens.forEach((token, i) => {
      if (spaceBefore(token, tokens[i - 1])) children.push(document.createTextNode(" "));
      const span = h("span", "nbx-token", token);
      span.dataset.index = String(i);
      span.dataset.value = String(values[i]);
      span.tabIndex = 0;
      span.setAttribute("role", "button");
      const isDropped = Boolean(dropped[i]);
      span.setAttribute("aria-pressed", String(isDropped));
      span.classList.toggle("dropped", isDropped);
      span.classList.toggle("nbx-token-split", Boolean(details[i]));
      const look = tokenLook(values[i], s, cmapName, background);
      if (look) {
        const [r, g, b] = look.rgb;
        span.style.backgroundColor = `rgba(${r}, ${g}, ${b}, ${Number(look.alpha.toFixed(3))})`;
        span.classList.toggle("nbx-token-light", look.light);
      } else {
        span.classList.add("nbx-token-nodata");
      }
      children.push(span);
    });
    text.replaceChildren(...children);
    tooltip.hidden = true;
    const pred = getOptionalNumber(model, "prediction");
    const label = getString(model, "prediction_label");
    prediction.textContent = pred === null ? "n/a" : label ? `${label}: ${formatValue(pred)}` : formatValue(pred);
    const b = getOptionalNumber(model, "base_value");
    baseValue.textContent = b === null ? "" : formatValue(b);
    baseLabel.textContent = getString(model, "base_label") || "all tokens dropped";
    baseLabel.hidden = baseValue.hidden = b === null;
    legendMin.textContent = formatValue(-s);
    legendMax.textContent = `+${formatValue(s)}`;
    legendBar.style.background = legendGradient(cmapName);
  };

  const redraw = (): void => {
    safeDraw(base, draw);
  };
  base.onChange(DRAW_TRAITS, redraw);
  base.onCleanup(followTheme(base.root, redraw));
  base.onCleanup(() => {
    text.removeEventListener("click", onClick);
    text.removeEventListener("keydown", onKey);
    text.removeEventListener("mouseover", onOver);
    text.removeEventListener("focusin", onOver);
    text.removeEventListener("mouseleave", onLeave);
    text.removeEventListener("focusout", onLeave);
  });
  redraw();
  return base.cleanup;
}
