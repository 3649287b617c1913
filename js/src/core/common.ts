/**
 * What every view shares: the root element and its DOM hooks (`nbx-root`, `data-view`,
 * `data-draws`), the title, the busy indicator and the error banner, and a listener registry
 * so cleanup removes every `model.on` it added.
 */
import { h } from "./dom";
import { claimSaveHint, disableScopeControls, dismissSaveHint, kernelOf, NEEDS_KERNEL, scopesOf, setKernelDisabled } from "./kernel";
import { isDarkTheme } from "./theme";
import { getBool, getString, type Model } from "./traits";

type Listener = () => void;

/** The scaffold a view draws into. */
export interface ViewBase {
  model: Model;
  /** The root element (`.nbx-root` plus the view's class). */
  root: HTMLDivElement;
  /** Where the view puts its own content (below title, busy and error). */
  body: HTMLDivElement;
  /**
   * Call `callback` when any of `traits` changed: once per state update, synchronously at its
   * Backbone `change` event, after every trait of the update is set; removed by
   * {@link ViewBase.cleanup}.
   */
  onChange(traits: readonly string[], callback: Listener): void;
  /** Bump `data-draws` after a completed draw. */
  drawn(): void;
  /** The current value of `data-draws`. */
  draws(): number;
  /** Show (or with `null`, clear) a browser-side error in `.nbx-render-error`. */
  renderError(message: string | null): void;
  /** Register extra teardown work (timers, DOM listeners on window). */
  onCleanup(fn: Listener): void;
  /** Remove every listener and the view's DOM. */
  cleanup(): void;
  /** Can this view reach Python now? False in a notebook reopened without a kernel, and offline. */
  live(): boolean;
  /**
   * Mark controls that only work with a running kernel: while none is connected they are
   * disabled, with the reason as tooltip, and the header says what needs a kernel (`what`).
   */
  needsKernel(what: string, ...controls: HTMLElement[]): void;
}

/**
 * Build the root element in `el` and wire `title`, `busy` and `error`.
 *
 * @example
 * const base = createViewBase(model, el, "heatmap", "nbx-heatmap");
 * base.onChange(["values"], draw);
 * return base.cleanup;
 */
export function createViewBase(model: Model, el: HTMLElement, view: string, rootClass: string): ViewBase {
  const root = h("div", `nbx-root ${rootClass}`);
  root.dataset.view = view;
  root.dataset.draws = "0";
  if (isDarkTheme(el.ownerDocument)) {
    root.classList.add("nbx-theme-dark");
    root.style.colorScheme = "dark"; // native range and select controls follow the theme
  }
  const header = h("div", "nbx-header");
  const title = h("div", "nbx-title");
  const busy = h("span", "nbx-busy", "computing...");
  busy.setAttribute("role", "status");
  const banner = h("div", "nbx-error");
  banner.setAttribute("role", "alert");
  const renderBanner = h("div", "nbx-render-error");
  const body = h("div", "nbx-body");
  root.append(header, body);
  el.append(root);

  const listeners: Array<[string, Listener]> = [];
  const teardown: Listener[] = [];
  let count = 0;

  const kernel = kernelOf(model);
  const kernelControls = new Set<HTMLElement>();
  const kernelWhat = new Set<string>();
  const kernelNote = h("div", "nbx-kernel-note");
  kernelNote.setAttribute("role", "note");
  const syncKernel = (): void => {
    const live = kernel.live();
    root.dataset.kernel = live ? "live" : "none";
    setKernelDisabled(kernelControls, !live);
    const scopes = root.isConnected ? scopesOf(root) : [];
    const scoped = scopes.reduce((n, s) => n + disableScopeControls(s, !live), 0);
    // the box's own controls are named once, by the first view inside it
    const first = scopes.length > 0 && scopes[scopes.length - 1].querySelector(".nbx-root") === root;
    const what = [...kernelWhat, ...(scoped > 0 && first ? ["the sliders, menus and buttons of this view"] : [])];
    if (!live && what.length > 0) {
      kernelNote.textContent = `${what.join(", ")}: ${NEEDS_KERNEL} (re-run the cell)`;
      if (!kernelNote.isConnected) root.insertBefore(kernelNote, body);
    } else {
      kernelNote.remove();
    }
    for (const s of scopes) s.classList.toggle("nbx-no-kernel", !live);
  };
  const stopKernel = kernel.onChange(syncKernel);
  teardown.push(stopKernel);
  // The Dashboard box is an ancestor only once ipywidgets attached this view.
  const attachTimer = setTimeout(syncKernel, 0);
  teardown.push(() => clearTimeout(attachTimer));
  syncKernel();

  if (claimSaveHint(model)) {
    const hint = h("div", "nbx-save-hint");
    hint.setAttribute("role", "note");
    hint.append(
      h("span", "", "JupyterLab will not keep these views in the saved notebook: turn on Settings > " +
        "Save Widget State Automatically, or save a copy with `python -m nbexplain.export NOTEBOOK --to notebook`."),
    );
    const dismiss = h("button", "nbx-save-hint-dismiss", "dismiss");
    dismiss.type = "button";
    dismiss.addEventListener("click", () => {
      dismissSaveHint();
      hint.remove();
    });
    hint.append(dismiss);
    root.prepend(hint);
  }

  // A state message from Python sets several traits in one Backbone `set`, which fires one
  // `change:<trait>` per trait and then one `change`. Callbacks run once, synchronously, at that
  // `change`: a view never shows half of one message (the new `blank` with the old values) and
  // never draws once per trait of it.
  const dirty = new Set<Listener>();
  const flush: Listener = () => {
    const callbacks = [...dirty];
    dirty.clear();
    for (const callback of callbacks) callback();
  };
  model.on("change", flush);
  listeners.push(["change", flush]);
  const onChange = (traits: readonly string[], callback: Listener): void => {
    const mark: Listener = () => dirty.add(callback);
    for (const trait of traits) {
      const event = `change:${trait}`;
      model.on(event, mark);
      listeners.push([event, mark]);
    }
  };

  const syncHeader = (): void => {
    const text = getString(model, "title");
    title.textContent = text;
    if (text) header.prepend(title);
    else title.remove();
    if (getBool(model, "busy")) header.append(busy);
    else busy.remove();
    header.hidden = !header.hasChildNodes();
  };
  const syncError = (): void => {
    const message = getString(model, "error");
    banner.textContent = message;
    if (message) root.insertBefore(banner, body);
    else banner.remove();
  };
  // `blank`: the view holds nothing to show yet (a method slot before its first result). Set
  // in the same message as the content that ends it, so old or empty content never shows.
  const syncBlank = (): void => {
    root.classList.toggle("nbx-blank", getBool(model, "blank"));
  };
  onChange(["blank"], syncBlank);
  onChange(["title", "busy"], syncHeader);
  onChange(["error"], syncError);
  syncBlank();
  syncHeader();
  syncError();

  return {
    model,
    root,
    body,
    onChange,
    drawn: () => {
      count += 1;
      root.dataset.draws = String(count);
    },
    draws: () => count,
    renderError: (message) => {
      renderBanner.textContent = message ?? "";
      if (message) root.insertBefore(renderBanner, body);
      else renderBanner.remove();
    },
    onCleanup: (fn) => {
      teardown.push(fn);
    },
    live: () => kernel.live(),
    needsKernel: (what, ...controls) => {
      kernelWhat.add(what);
      for (const c of controls) kernelControls.add(c);
      syncKernel();
    },
    cleanup: () => {
      for (const [event, callback] of listeners) model.off(event, callback);
      listeners.length = 0;
      for (const fn of teardown.splice(0)) fn();
      root.remove();
    },
  };
}

/**
 * Run `draw`, reporting a thrown error in the render banner instead of breaking the notebook.
 * Returns true when the draw completed.
 *
 * @example
 * safeDraw(base, () => paintCanvas());
 */
export function safeDraw(base: ViewBase, draw: () => void): boolean {
  try {
    draw();
    base.renderError(null);
    base.drawn();
    return true;
  } catch (err) {
    base.renderError(`nbexplain could not draw this view: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
}

/**
 * Send a browser event to Python (`{event: name, ...payload}`), received by the widget's
 * `on_event(name, callback)`. In a saved page with no kernel this is a no-op.
 *
 * @example
 * sendEvent(model, "click", { row: 3, col: 4 });
 */
export function sendEvent(model: Model, name: string, payload: Record<string, unknown> = {}): void {
  if (!kernelOf(model).live()) return; // nothing would answer; the control shows why
  try {
    model.send({ ...payload, event: name });
  } catch {
    // no kernel (static HTML export): the view still works locally
  }
}
