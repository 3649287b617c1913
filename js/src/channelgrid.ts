/** The `channel_grid` view (placeholder until it is written). */
import { createViewBase } from "./common";
import type { Model } from "./traits";

export function renderChannelGrid(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "channel_grid", "nbx-channel-grid");
  return base.cleanup;
}
