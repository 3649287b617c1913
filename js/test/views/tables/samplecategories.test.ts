import { describe, expect, it } from "vitest";
import { cellText } from "../../../src/views/tables/samplepanel";

describe("cellText (a DataFrame's categories shown as strings)", () => {
  const sex = [{ value: 0, label: "female" }, { value: 1, label: "male" }, { value: 2, label: "(missing)" }];

  it("shows a category's label for its code", () => {
    expect(cellText(1, sex)).toBe("male");
    expect(cellText(2, sex)).toBe("(missing)");
  });

  it("shows the number for a numeric feature and for a code that is no category", () => {
    expect(cellText(2.5, null)).toBe("2.5");
    expect(cellText(7, sex)).toBe("7");
    expect(cellText(NaN, null)).toBe("NaN");
  });
});
