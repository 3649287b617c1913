/** The `sample_table` view (placeholder until it is written). */
import { createViewBase } from "./common";
import type { Model } from "./traits";

export function renderSampleTable(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "sample_table", "nbx-sample-table");
  return base.cleanup;
}
