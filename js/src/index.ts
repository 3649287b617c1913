/**
 * The one nbexplain front-end module (anywidget ESM). `render` dispatches on the model's
 * `_view` trait and returns a cleanup function that removes every listener it added.
 */
import type { RenderProps } from "@anywidget/types";
import { h } from "./core/dom";
import { renderAttention } from "./views/text/attention";
import { renderBeeswarm } from "./views/tables/beeswarm";
import { renderChannelGrid } from "./views/anatomy/channelgrid";
import { renderConfusionMatrix } from "./views/tables/confusionmatrix";
import { renderFeatureBars } from "./views/tables/featurebars";
import { renderHeatmap } from "./views/images/heatmap";
import { renderIGPath } from "./views/teaching/igpath";
import { renderLayerMaps } from "./views/teaching/layermaps";
import { renderModelGraph } from "./views/anatomy/modelgraph";
import { renderSamplePanel } from "./views/tables/samplepanel";
import { renderSampleTable } from "./views/tables/sampletable";
import { renderShapleyLattice } from "./views/teaching/shapley";
import { renderTextTokens } from "./views/text/texttokens";
import { registerKernel, type KernelLink } from "./core/kernel";
import type { Model } from "./core/traits";

type ViewRenderer = (model: Model, el: HTMLElement) => () => void;

/** The views, keyed by the `_view` trait. */
export const VIEWS: Readonly<Record<string, ViewRenderer>> = {
  heatmap: renderHeatmap,
  feature_bars: renderFeatureBars,
  sample_panel: renderSamplePanel,
  sample_table: renderSampleTable,
  text_tokens: renderTextTokens,
  beeswarm: renderBeeswarm,
  confusion_matrix: renderConfusionMatrix,
  model_graph: renderModelGraph,
  channel_grid: renderChannelGrid,
  attention: renderAttention,
  ig_path: renderIGPath,
  layer_maps: renderLayerMaps,
  shapley_lattice: renderShapleyLattice,
};

/**
 * anywidget's render hook: draw the view named by `_view` into `el`. An unknown view shows an
 * error banner instead of throwing.
 *
 * @example
 * const cleanup = render({ model, el });
 * cleanup(); // removes listeners and DOM
 */
function render({ model, el, kernel }: Pick<RenderProps, "model" | "el"> & { kernel?: KernelLink }): () => void {
  registerKernel(model, kernel);
  const view: unknown = model.get("_view");
  const renderer = typeof view === "string" && Object.hasOwn(VIEWS, view) ? VIEWS[view] : undefined;
  if (!renderer) {
    const root = h("div", "nbx-root nbx-unknown");
    root.dataset.view = String(view);
    root.append(
      h("div", "nbx-render-error", `nbexplain: unknown view ${JSON.stringify(view)}; expected one of ${Object.keys(VIEWS).join(", ")}`),
    );
    el.append(root);
    return () => root.remove();
  }
  return renderer(model, el);
}

/**
 * The front-end model's exports (`initialize` runs once per kernel in the hidden
 * `FrontEnd` model; each view's stub, `loader.ts`, calls this `render`). `render` is also a
 * default export of its own, so a widget that carries the whole bundle as `_esm` (notebooks
 * saved before the bundle travelled once) still draws.
 */
export default { initialize: () => ({ render }), render };
