/** The `confusion_matrix` view (placeholder until it is written). */
import { createViewBase } from "./common";
import type { Model } from "./traits";

export function renderConfusionMatrix(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "confusion_matrix", "nbx-confusion-matrix");
  return base.cleanup;
}
