import { describe, expect, it } from "vitest";
import { claimSaveHint, kernelOf, registerKernel, stateWillNotBeSaved } from "../../src/core/kernel";
import type { Model } from "../../src/core/traits";

function fakeModel(settings?: { saveState?: unknown }): Model {
  const m = { get: () => undefined, widget_manager: settings ? { _settings: settings } : {} };
  return m as unknown as Model;
}

describe("kernelOf", () => {
  it("counts a view rendered without a link (old saved notebooks, tests) as live", () => {
    expect(kernelOf(fakeModel()).live()).toBe(true);
  });
  it("returns the registered link", () => {
    const model = fakeModel();
    let live = false;
    registerKernel(model, { live: () => live, onChange: () => () => {} });
    expect(kernelOf(model).live()).toBe(false);
    live = true;
    expect(kernelOf(model).live()).toBe(true);
  });
});

describe("the save-state note", () => {
  it("reads the manager's saveState setting; unknown settings say nothing", () => {
    expect(stateWillNotBeSaved(fakeModel({ saveState: false }))).toBe(true);
    expect(stateWillNotBeSaved(fakeModel({ saveState: true }))).toBe(false);
    expect(stateWillNotBeSaved(fakeModel())).toBe(false);
  });
  it("is claimed once per page, and only when state will not be saved", () => {
    expect(claimSaveHint(fakeModel({ saveState: true }))).toBe(false);
    expect(claimSaveHint(fakeModel({ saveState: false }))).toBe(true);
    expect(claimSaveHint(fakeModel({ saveState: false }))).toBe(false);
  });
});
