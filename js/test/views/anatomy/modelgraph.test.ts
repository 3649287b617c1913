import { describe, expect, it } from "vitest";
import {
  arcPath,
  formatParams,
  formatShape,
  layoutArcs,
  parseGraph,
  representative,
  visibleRows,
} from "../../../src/views/anatomy/modelgraph_layout";
import { defaultExpanded } from "../../../src/views/anatomy/modelgraph";

type N = [string, string, string | null, boolean, number[] | null, number, number];
const node = ([name, type, parent, leaf, shape, own, total]: N, order: number) => ({
  name, type, parent, depth: name === "" ? 0 : name.split(".").length, is_leaf: leaf,
  output_shape: shape, n_params: own, n_params_total: total, order, calls: name.endsWith("relu") ? 2 : 1,
});

// A residual net: stem conv, one block (conv1 -> relu -> conv2, + skip from stem), head fc.
const NODES: N[] = [
  ["", "Net", null, false, [1, 10], 0, 1000],
  ["stem", "Conv2d", "", true, [1, 8, 16, 16], 200, 200],
  ["block", "Block", "", false, [1, 8, 16, 16], 0, 300],
  ["block.conv1", "Conv2d", "block", true, [1, 8, 16, 16], 150, 150],
  ["block.relu", "ReLU", "block", true, [1, 8, 16, 16], 0, 0],
  ["block.conv2", "Conv2d", "block", true, [1, 8, 16, 16], 150, 150],
  ["fc", "Linear", "", true, [1, 10], 500, 500],
];
const WIRE = {
  nodes: NODES.map(node),
  edges: [
    ["input", "stem"], ["stem", "block.conv1"], ["block.conv1", "block.relu"], ["block.relu", "block.conv2"],
    ["block.conv2", "block.relu"], ["stem", "block.relu"], ["block.relu", "fc"], ["fc", "output"], ["fc", "fc"],
  ],
  method: "fx",
};

describe("parseGraph", () => {
  it("indexes children, leaf counts and the root", () => {
    const g = parseGraph(WIRE);
    expect(g.root).toBe("");
    expect(g.children.get("")).toEqual(["stem", "block", "fc"]);
    expect(g.children.get("block")).toEqual(["block.conv1", "block.relu", "block.conv2"]);
    expect(g.leafCount.get("")).toBe(5);
    expect(g.leafCount.get("block")).toBe(3);
    expect(g.leafCount.get("fc")).toBe(1);
    expect(g.method).toBe("fx");
    expect(g.edges).toHaveLength(9);
  });
  it("survives junk", () => {
    const g = parseGraph({ nodes: [null, 3, { type: "x" }, { name: "a", parent: "missing" }], edges: [[1, 2], "x"] });
    expect(g.nodes.map((n) => n.name)).toEqual(["a"]);
    expect(g.root).toBe("a");
    expect(g.edges).toEqual([]);
    expect(parseGraph(undefined).root).toBeNull();
  });
});

describe("visibleRows", () => {
  const g = parseGraph(WIRE);
  it("collapsed containers hide their children", () => {
    const rows = visibleRows(g, new Set([""]));
    expect(rows.map((r) => r.name)).toEqual(["input", "", "stem", "block", "fc", "output"]);
    expect(rows.map((r) => r.depth)).toEqual([0, 0, 1, 1, 1, 0]);
    expect(rows[3].container && !rows[3].expanded).toBe(true);
  });
  it("expanded containers list their children after them", () => {
    const rows = visibleRows(g, new Set(["", "block"]));
    expect(rows.map((r) => r.name)).toEqual(
      ["input", "", "stem", "block", "block.conv1", "block.relu", "block.conv2", "fc", "output"],
    );
    expect(rows[4].depth).toBe(2);
  });
  it("the default expands the root and its direct containers", () => {
    expect(defaultExpanded(g)).toEqual(["", "block"]);
  });
});

describe("layoutArcs", () => {
  const g = parseGraph(WIRE);
  it("draws the skip edge and the shared-ReLU edges, not the flow edges", () => {
    const rows = visibleRows(g, new Set(["", "block"]));
    const arcs = layoutArcs(g, rows).map((a) => [rows[a.from].name, rows[a.to].name, a.lane, a.back]);
    // stem -> conv1 crosses only the expanded header "block": not an arc.
    expect(arcs).toEqual([
      ["block.conv2", "block.relu", 0, true],
      ["stem", "block.relu", 2, false], // longest arc outermost
      ["block.relu", "fc", 1, false],
    ]);
  });
  it("edges into a collapsed container attach to it; edges inside it vanish", () => {
    const rows = visibleRows(g, new Set([""]));
    const rowIndex = new Map(rows.map((r, i) => [r.name, i]));
    expect(representative(g, rowIndex, "block.relu")).toBe(3);
    expect(representative(g, rowIndex, "stem")).toBe(2);
    expect(representative(g, rowIndex, "nope")).toBe(-1);
    expect(layoutArcs(g, rows)).toEqual([]); // stem -> block twice (merged, adjacent), block -> fc adjacent
  });
  it("everything collapsed into the root: no arcs", () => {
    const rows = visibleRows(g, new Set());
    expect(rows.map((r) => r.name)).toEqual(["input", "", "output"]);
    expect(layoutArcs(g, rows)).toEqual([]);
  });
  it("a ResNet-50-sized graph lays out in a few ms", () => {
    const nodes: ReturnType<typeof node>[] = [node(["", "ResNet", null, false, [1, 1000], 0, 0], 0)];
    const edges: Array<[string, string]> = [];
    let prev = "input";
    let order = 1;
    for (let b = 0; b < 16; b++) {
      const blk = `layer.${b}`;
      nodes.push(node([blk, "Bottleneck", "", false, [1, 256, 56, 56], 0, 1], order++));
      const names = ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "relu", "ds0", "ds1", "x1", "x2"].map((x) => `${blk}.${x}`);
      for (const n of names) nodes.push(node([n, "Conv2d", blk, true, [1, 256, 56, 56], 10, 10], order++));
      for (let i = 0; i < names.length; i++) edges.push([i === 0 ? prev : names[i - 1], names[i]]);
      edges.push([prev, `${blk}.relu`]);
      prev = names[names.length - 1];
    }
    const g2 = parseGraph({ nodes, edges, method: "fx" });
    const all = new Set(g2.nodes.map((n) => n.name));
    const t0 = performance.now();
    const rows = visibleRows(g2, all);
    const arcs = layoutArcs(g2, rows);
    const ms = performance.now() - t0;
    expect(rows).toHaveLength(16 * 12 + 3);
    expect(arcs).toHaveLength(16);
    expect(ms).toBeLessThan(20);
  });
});

describe("formatting", () => {
  it.each([
    [[1, 64, 56, 56], "64x56x56"],
    [[1, 10], "10"],
    [[1], "scalar"],
    [null, ""],
    [[[1, 10], [1, 4, 4]], "10, 4x4"],
  ])("shape %j -> %s", (shape, text) => {
    expect(formatShape(shape as number[] | null)).toBe(text);
  });
  it.each([
    [0, ""],
    [812, "812"],
    [9408, "9.4K"],
    [1_234_567, "1.2M"],
    [25_557_032, "25.6M"],
    [999_999, "1M"],
    [123_456_789, "123M"],
    [3e9, "3B"],
  ])("params %d -> %s", (n, text) => {
    expect(formatParams(n)).toBe(text);
  });
  it("arc paths go left to the lane, down, and back", () => {
    expect(arcPath(10, 50, 4, 20, 20, 3)).toBe("M20 10 H7 Q4 10 4 13 V47 Q4 50 7 50 H20");
    expect(arcPath(50, 10, 4, 36, 20, 3)).toBe("M36 50 H7 Q4 50 4 47 V13 Q4 10 7 10 H20");
  });
});
