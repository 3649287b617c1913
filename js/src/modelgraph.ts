/** The `model_graph` view (placeholder until it is written). */
import { createViewBase } from "./common";
import type { Model } from "./traits";

export function renderModelGraph(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "model_graph", "nbx-model-graph");
  return base.cleanup;
}
