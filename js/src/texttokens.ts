/** The `text_tokens` view (placeholder until it is written). */
import { createViewBase } from "./common";
import type { Model } from "./traits";

export function renderTextTokens(model: Model, el: HTMLElement): () => void {
  const base = createViewBase(model, el, "text_tokens", "nbx-text-tokens");
  return base.cleanup;
}
