/**
 * Can this view reach Python? The loader (`loader.ts`) hands each view a {@link KernelLink};
 * views mark the controls that only work with a running kernel (what-if sliders, a row, cell,
 * word or patch click) and those are disabled, with the reason, while no kernel is connected:
 * in a notebook reopened without its kernel and in an exported HTML page. Client-side controls
 * (opacity, colour map, top-k, tabs) keep working.
 *
 * Also here: the one-per-page note that JupyterLab will not save these views with the notebook
 * (its "Save Widget State Automatically" setting is off by default).
 */
import type { Model } from "./traits";

/** The kernel's reachability as the loader sees it (`comm_live` of the view's model). */
export interface KernelLink {
  live(): boolean;
  onChange(cb: () => void): () => void;
}

/** The reason shown on a disabled control. */
export const NEEDS_KERNEL = "needs a running kernel";

const LINKS = new WeakMap<object, KernelLink>();

/**
 * Remember `link` for `model` (called by the bundle's render before the view draws).
 *
 * @example
 * registerKernel(model, { live: () => false, onChange: () => () => {} });
 */
export function registerKernel(model: Model, link: KernelLink | undefined): void {
  if (link) LINKS.set(model, link);
}

/**
 * The link registered for `model`; a view rendered without one (an old saved notebook, the
 * unit tests) counts as live.
 *
 * @example
 * kernelOf(model).live(); // true in a running notebook
 */
export function kernelOf(model: Model): KernelLink {
  return LINKS.get(model) ?? { live: () => true, onChange: () => () => {} };
}

type Control = HTMLElement & { disabled?: boolean };

/**
 * Disable `controls` (form elements get `disabled`, others `aria-disabled` and the class
 * `nbx-needs-kernel`) with the reason as their tooltip, or restore them.
 *
 * @example
 * setKernelDisabled([slider], true); // slider.disabled === true, title "needs a running kernel"
 */
export function setKernelDisabled(controls: Iterable<Control>, disabled: boolean): void {
  for (const c of controls) {
    if ("disabled" in c && (c instanceof HTMLInputElement || c instanceof HTMLSelectElement || c instanceof HTMLButtonElement)) {
      if (disabled) {
        if (!c.disabled) c.dataset.nbxKernelDisabled = "1";
        c.disabled = true;
      } else if (c.dataset.nbxKernelDisabled) {
        c.disabled = false;
        delete c.dataset.nbxKernelDisabled;
      }
    }
    c.classList.toggle("nbx-needs-kernel", disabled);
    if (disabled) {
      c.setAttribute("aria-disabled", "true");
      if (!c.title) {
        c.title = NEEDS_KERNEL;
        c.dataset.nbxKernelTitle = "1";
      }
    } else {
      c.removeAttribute("aria-disabled");
      if (c.dataset.nbxKernelTitle) {
        c.removeAttribute("title");
        delete c.dataset.nbxKernelTitle;
      }
    }
  }
}

/**
 * The composite widget a view sits in, if any: the Dashboard (an ipywidgets box with class
 * `nbx-dashboard`) or another nbexplain box of ipywidgets (class `nbx-kernel-scope`: TrustView,
 * LimeNeighbourhoodView, SampleExplorer, ...). Its own ipywidgets controls (sliders, menus,
 * buttons, boxes) call Python; while no kernel is connected the scope gets `nbx-no-kernel` and
 * they are disabled with the reason (`disableScopeControls`, and `css/kernel.css` for those
 * drawn later). The bundle's own views (`.nbx-root`) mark their controls themselves.
 */
export function dashboardOf(el: Element): Element | null {
  return el.closest(".nbx-dashboard, .nbx-kernel-scope");
}

/**
 * Every composite box around `el`, innermost first (a SampleBrowser inside a Dashboard: both).
 *
 * @example
 * scopesOf(viewRoot).forEach((s) => s.classList.toggle("nbx-no-kernel", true));
 */
export function scopesOf(el: Element): Element[] {
  const out: Element[] = [];
  for (let s = dashboardOf(el); s; s = s.parentElement ? dashboardOf(s.parentElement) : null) out.push(s);
  return out;
}

const SCOPE_CONTROLS = [
  ".widget-slider",
  ".widget-hslider",
  ".widget-dropdown select",
  ".widget-select-multiple select",
  ".widget-button",
  ".widget-toggle-button",
  ".widget-text input",
  ".widget-checkbox input",
].join(", ");

/**
 * Disable (or restore) the ipywidgets controls of `scope` outside the bundle's views; returns
 * how many there are.
 *
 * @example
 * disableScopeControls(scopeBox, true); // its sliders and buttons: disabled, "needs a running kernel"
 */
export function disableScopeControls(scope: Element, disabled: boolean): number {
  const controls = [...scope.querySelectorAll<HTMLElement>(SCOPE_CONTROLS)].filter((c) => !c.closest(".nbx-root"));
  setKernelDisabled(controls, disabled);
  return controls.length;
}

const SAVE_HINT_KEY = "nbexplain.saveHintDismissed";
let saveHintShown = false;

/**
 * True when the page's widget manager says it will not save widget state with the notebook
 * (JupyterLab / Notebook 7 with "Save Widget State Automatically" off). Undefined settings
 * (the HTML export, VS Code) say nothing.
 *
 * @example
 * if (stateWillNotBeSaved(model)) showNote();
 */
export function stateWillNotBeSaved(model: Model): boolean {
  const manager = (model as unknown as { widget_manager?: { _settings?: { saveState?: unknown } } }).widget_manager;
  return manager?._settings?.saveState === false;
}

/**
 * Claim the page's one save-state note: true once per page (and never after the user dismissed
 * it), when the manager will not save widget state.
 *
 * @example
 * if (claimSaveHint(model)) root.prepend(note);
 */
export function claimSaveHint(model: Model): boolean {
  if (saveHintShown || !stateWillNotBeSaved(model)) return false;
  try {
    if (globalThis.localStorage?.getItem(SAVE_HINT_KEY) === "1") return false;
  } catch {
    // storage blocked: show the note
  }
  saveHintShown = true;
  return true;
}

/** Remember that the user dismissed the save-state note (in this browser). */
export function dismissSaveHint(): void {
  try {
    globalThis.localStorage?.setItem(SAVE_HINT_KEY, "1");
  } catch {
    // storage blocked: the note comes back on the next page load
  }
}
