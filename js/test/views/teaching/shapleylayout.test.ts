import { describe, expect, it } from "vitest";
import {
  bandPath,
  centredScale,
  choose,
  coalitionText,
  edgeWidth,
  latticeLayout,
  latticeRows,
  marginalEdges,
  maskOf,
  membersOf,
  nodeLabel,
  popcount,
  shapleyWeight,
  weightFraction,
  waterfallSteps,
  weightGroups,
} from "../../../src/views/teaching/shapleylayout";

/** Shapley values by their other definition: the mean marginal contribution over all orderings. */
function byPermutations(values: ArrayLike<number>, m: number): number[] {
  const phi = new Array<number>(m).fill(0);
  let count = 0;
  const perm = (order: number[], rest: number[]): void => {
    if (rest.length === 0) {
      let c = 0;
      for (const i of order) {
        phi[i] += values[c | (1 << i)] - values[c];
        c |= 1 << i;
      }
      count += 1;
      return;
    }
    rest.forEach((i, k) => perm([...order, i], [...rest.slice(0, k), ...rest.slice(k + 1)]));
  };
  perm([], Array.from({ length: m }, (_, i) => i));
  return phi.map((p) => p / count);
}

/** A game with interactions: v(S) = sum of a_i over S + 3 * [0 and 1 in S] - 2 * [|S| >= 3]. */
function game(m: number): Float64Array {
  const v = new Float64Array(1 << m);
  for (let c = 0; c < 1 << m; c++) {
    let x = 0;
    for (let i = 0; i < m; i++) if ((c >> i) & 1) x += 0.5 * (i + 1) * (i % 2 ? -1 : 1);
    if ((c & 3) === 3) x += 3;
    if (popcount(c) >= 3) x -= 2;
    v[c] = x + 7; // an offset (the base value) cancels in every contribution
  }
  return v;
}

describe("coalitions as bit masks", () => {
  it("count, list and build members", () => {
    expect(popcount(0)).toBe(0);
    expect(popcount(0b1011)).toBe(3);
    expect(popcount(1023)).toBe(10);
    expect(membersOf(0b101, 3)).toEqual([0, 2]);
    expect(maskOf([0, 2])).toBe(5);
    expect(maskOf(membersOf(0b1101001, 7))).toBe(0b1101001);
    expect(choose(10, 5)).toBe(252);
    expect(choose(9, 0)).toBe(1);
    expect(choose(3, 4)).toBe(0);
  });

  it("say a coalition in words, as text", () => {
    expect(coalitionText(0, ["a", "b"])).toBe("{} (no features)");
    expect(coalitionText(3, ["<b>x</b>", "y"])).toBe("{<b>x</b>, y}");
    expect(nodeLabel(3, ["temperature", "b"], 5)).toBe("temp\u2026,b");
    expect(nodeLabel(0, ["a"])).toBe("{}");
  });
});

describe("Shapley weights", () => {
  it("equal |S|!(M-|S|-1)!/M!, sum to 1 over a feature's coalitions, 1/M per size", () => {
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    for (const m of [1, 2, 3, 5, 10]) {
      let total = 0;
      for (let s = 0; s < m; s++) {
        expect(shapleyWeight(s, m)).toBeCloseTo((fact(s) * fact(m - s - 1)) / fact(m), 14);
        expect(choose(m - 1, s) * shapleyWeight(s, m)).toBeCloseTo(1 / m, 14);
        total += choose(m - 1, s) * shapleyWeight(s, m);
      }
      expect(total).toBeCloseTo(1, 12);
    }
    expect(weightFraction(1, 3)).toBe("1/6");
    expect(weightFraction(0, 10)).toBe("1/10");
    expect(weightFraction(4, 10)).toBe("1/1260");
  });
});

describe("marginal edges and weight groups", () => {
  it("give each feature's Shapley value as the running sum (against all orderings)", () => {
    for (const m of [2, 3, 4, 5]) {
      const v = game(m);
      const ref = byPermutations(v, m);
      for (let i = 0; i < m; i++) {
        const edges = marginalEdges(v, m, i);
        expect(edges).toHaveLength(1 << (m - 1));
        for (const e of edges) {
          expect(e.to).toBe(e.from | (1 << i));
          expect(e.from & (1 << i)).toBe(0);
          expect(e.contribution).toBeCloseTo(v[e.to] - v[e.from], 12);
        }
        const groups = weightGroups(edges, m);
        expect(groups.map((g) => g.size)).toEqual(Array.from({ length: m }, (_, s) => s));
        expect(groups.map((g) => g.count)).toEqual(groups.map((g) => choose(m - 1, g.size)));
        expect(groups[m - 1].running).toBeCloseTo(ref[i], 12);
        let running = 0;
        for (const g of groups) {
          expect(g.weighted).toBeCloseTo(g.weight * g.sum, 12);
          expect(g.mean).toBeCloseTo(g.sum / g.count, 12);
          running += g.weighted;
          expect(g.running).toBeCloseTo(running, 12);
        }
      }
      // efficiency: the values sum from v({}) to v(all)
      const total = Array.from({ length: m }, (_, i) => weightGroups(marginalEdges(v, m, i), m)[m - 1].running)
        .reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(v[(1 << m) - 1] - v[0], 12);
    }
  });

  it("match a 3-feature game worked by hand", () => {
    // v = x0 * x1 + x2 at ones with a zero background: the module docstring's example
    const v = [0, 0, 0, 1, 1, 1, 1, 2];
    const e0 = marginalEdges(v, 3, 0);
    expect(e0.map((e) => [e.from, e.contribution])).toEqual([[0, 0], [2, 1], [4, 0], [6, 1]]);
    expect(e0.map((e) => e.weight)).toEqual([1 / 3, 1 / 6, 1 / 6, 1 / 3]);
    const g = weightGroups(e0, 3);
    expect(g.map((r) => r.running)).toEqual([0, 1 / 6, 0.5]);
    expect(weightGroups(marginalEdges(v, 3, 2), 3)[2].running).toBeCloseTo(1, 14);
  });
});

describe("latticeLayout", () => {
  it("puts every coalition on its size's row, the empty one on top, lexicographic within a row", () => {
    expect(latticeRows(3)).toEqual([[0], [1, 2, 4], [3, 5, 6], [7]]);
    const lay = latticeLayout(3, { width: 600 });
    expect(lay.x).toHaveLength(8);
    for (let c = 0; c < 8; c++) {
      const s = popcount(c);
      expect(lay.y[c]).toBeGreaterThanOrEqual(lay.rowTop[s]);
      expect(lay.y[c]).toBeLessThanOrEqual(lay.rowBottom[s]);
    }
    expect(lay.y[0]).toBeLessThan(lay.y[1]);
    expect(lay.y[1]).toBeLessThan(lay.y[3]);
    expect(lay.x[1]).toBeLessThan(lay.x[2]);
    expect(lay.x[0]).toBeCloseTo(lay.x[7], 9); // single nodes centred
  });

  it("wraps wide rows at M = 10, nodes inside the width and apart", () => {
    const width = 760;
    const lay = latticeLayout(10, { width, left: 74, right: 64 });
    expect(lay.x).toHaveLength(1024);
    expect(lay.height).toBeGreaterThan(0);
    expect(lay.rowBottom[5]).toBeGreaterThan(lay.rowTop[5]); // 252 nodes: several lines
    for (let c = 0; c < 1024; c++) {
      expect(lay.x[c] - lay.r).toBeGreaterThanOrEqual(74 - 1e-9);
      expect(lay.x[c] + lay.r).toBeLessThanOrEqual(width - 64 + 1e-9);
    }
    const seen = new Set<string>();
    for (let c = 0; c < 1024; c++) seen.add(`${lay.x[c].toFixed(3)},${lay.y[c].toFixed(3)}`);
    expect(seen.size).toBe(1024); // no two nodes on the same spot
    for (let s = 0; s < 10; s++) expect(lay.rowTop[s + 1]).toBeGreaterThan(lay.rowBottom[s] + 2 * lay.r);
  });
});

describe("colours and widths", () => {
  it("scale the values around the base value", () => {
    expect(centredScale([0, -2, 1])).toBe(2);
    expect(centredScale([0, 0])).toBe(1);
    expect(centredScale([NaN, 3])).toBe(3);
    expect(edgeWidth(0.5, 1)).toBe(3);
    expect(edgeWidth(-2, 1)).toBe(5);
    expect(edgeWidth(NaN, 1)).toBe(1);
    expect(edgeWidth(1, 0)).toBe(1);
  });
});

describe("the efficiency waterfall", () => {
  it("walks from the base value to base + sum, largest first, each step starting where the last ended", () => {
    const values = [0.5, -2, 0.25, 1];
    const steps = waterfallSteps(1, values);
    expect(steps.map((s) => s.index)).toEqual([1, 3, 0, 2]);
    expect(steps[0].start).toBe(1);
    for (let k = 1; k < steps.length; k++) expect(steps[k].start).toBe(steps[k - 1].end);
    expect(steps[steps.length - 1].end).toBeCloseTo(1 + 0.5 - 2 + 0.25 + 1, 12);
  });

  it("lumps the smallest beyond top into one step that still ends at the total", () => {
    const values = Array.from({ length: 30 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1) / 10);
    const steps = waterfallSteps(0.3, values, 12);
    expect(steps).toHaveLength(12);
    const rest = steps[11];
    expect(rest.index).toBe(-1);
    expect(rest.count).toBe(19);
    expect(rest.end).toBeCloseTo(0.3 + values.reduce((a, b) => a + b, 0), 10);
    expect(new Set(steps.slice(0, 11).map((s) => s.index)).size).toBe(11);
    expect(Math.abs(steps[0].value)).toBeCloseTo(3, 12); // the largest |value| first
  });
});

describe("the error band", () => {
  it("is a closed path over the finite points", () => {
    const id = (v: number): number => v;
    expect(bandPath([0, 1], [0, 0], [1, 1], (v) => v * 10, id)).toBe("M0 0L10 0L10 1L0 1Z");
    expect(bandPath([0, 1, 2], [0, NaN, 0], [1, NaN, 2], id, id)).toBe("M0 0L2 0L2 2L0 1Z");
    expect(bandPath([0], [NaN], [NaN], id, id)).toBe("");
  });
});
