/**
 * The per-view stub every nbexplain widget carries as its `_esm` (a few hundred bytes).
 *
 * The full bundle (`widget.js`, about 120 KB, and its CSS) travels once per kernel in one hidden
 * model, the front end (`nbexplain.widgets._bundle.FrontEnd`); each view's `_nbx_front` trait
 * names it (`"anywidget:<model id>"`). This stub asks anywidget's host for that model's exports
 * and lets the bundle draw the view, so a saved notebook or an exported page holds the bundle
 * once, not once per widget (docs/PROTOCOL.md, "The bundle travels once").
 *
 * It also tells the bundle whether this view can reach Python: `comm_live` of the view's own
 * model (named by `_nbx_self`) is false in a notebook reopened without a kernel and in an
 * exported page; the views then disable the controls that need Python.
 *
 * @example
 * // anywidget calls it: render({ model, el, host }) -> cleanup
 */

interface Proxy {
  get(name: string): unknown;
  widget_manager?: { get_model(id: string): Promise<unknown> };
}

interface Host {
  getWidget(ref: string): Promise<{ exports: unknown }>;
}

interface Backbone {
  comm_live?: boolean;
  on(event: string, cb: () => void): void;
  off(event: string, cb: () => void): void;
}

/** What the bundle's `render` receives about the kernel. */
export interface KernelLink {
  live(): boolean;
  onChange(cb: () => void): () => void;
}

type BundleRender = (props: { model: unknown; el: HTMLElement; kernel?: KernelLink }) => unknown;

const REF_PREFIX = "anywidget:";

function fail(el: HTMLElement, message: string): () => void {
  const div = document.createElement("div");
  div.className = "nbx-render-error";
  div.style.cssText = "color:#b00020;font:13px sans-serif;padding:4px";
  div.textContent = message;
  el.append(div);
  return () => div.remove();
}

async function kernelLink(model: Proxy): Promise<KernelLink | undefined> {
  const id = model.get("_nbx_self");
  if (typeof id !== "string" || !id || !model.widget_manager) return undefined;
  let backbone: Backbone;
  try {
    backbone = (await model.widget_manager.get_model(id)) as Backbone;
  } catch {
    return undefined;
  }
  if (!backbone || typeof backbone.on !== "function") return undefined;
  return {
    live: () => backbone.comm_live === true,
    onChange: (cb) => {
      backbone.on("comm_live_update", cb);
      return () => backbone.off("comm_live_update", cb);
    },
  };
}

async function render({ model, el, host }: { model: Proxy; el: HTMLElement; host?: Host }): Promise<unknown> {
  const ref = model.get("_nbx_front");
  if (!host || typeof host.getWidget !== "function") {
    return fail(el, "nbexplain: this view needs anywidget 0.11 or later in the front end (pip install -U anywidget, then reload the page).");
  }
  if (typeof ref !== "string" || !ref.startsWith(REF_PREFIX)) {
    return fail(el, "nbexplain: this view does not name its front end (_nbx_front); re-run the cell.");
  }
  let exports: unknown;
  try {
    exports = (await host.getWidget(ref)).exports;
  } catch (err) {
    return fail(el, `nbexplain: the front-end bundle did not load (${err instanceof Error ? err.message : String(err)}); re-run the cell.`);
  }
  const draw = (exports as { render?: BundleRender } | undefined)?.render;
  if (typeof draw !== "function") return fail(el, "nbexplain: the front-end bundle has no render; re-run the cell.");
  return draw({ model, el, kernel: await kernelLink(model) });
}

export default { render };
