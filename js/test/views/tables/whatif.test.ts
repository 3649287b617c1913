import { describe, expect, it } from "vitest";
import { choiceIndex, parseCategories } from "../../../src/views/tables/whatif";

describe("parseCategories", () => {
  it("keeps valid lists and turns anything else into null (a slider)", () => {
    const raw = [null, [{ value: 0, label: "red" }, { value: 2.5, label: "<b>blue</b>" }], [], [{ value: "x", label: "a" }], "junk"];
    expect(parseCategories(raw, 6)).toEqual([
      null,
      [{ value: 0, label: "red" }, { value: 2.5, label: "<b>blue</b>" }],
      null,
      null,
      null,
      null,
    ]);
  });
  it("is all null for a missing trait", () => {
    expect(parseCategories(null, 2)).toEqual([null, null]);
  });
});

describe("choiceIndex", () => {
  it("matches in float32", () => {
    const cats = [{ value: 0.1, label: "a" }, { value: 0.2, label: "b" }];
    expect(choiceIndex(cats, Math.fround(0.2))).toBe(1);
    expect(choiceIndex(cats, 0.3)).toBe(-1);
  });
});
