/** The `beeswarm` view (placeholder until it is written). */
import { createViewBase } from "./common";
import type { Model } from "./traits";

export function renderBeeswarm(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "beeswarm", "nbx-beeswarm");
  return base.cleanup;
}
