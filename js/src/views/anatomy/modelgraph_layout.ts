/**
 * Pure layout of the model-graph view: parse the wire graph (`ModelGraph.to_wire()`), list the
 * visible rows for a set of expanded containers, format shapes and parameter counts, and route
 * the skip edges as arcs in lanes of a left gutter. No DOM here, so all of it is unit-tested.
 */

/** One module as it arrives on the wire (docs/ANATOMY_CONTRACT.md, Part A). */
export interface WireNode {
  name: string;
  type: string;
  parent: string | null;
  depth: number;
  is_leaf: boolean;
  output_shape: number[] | number[][] | null;
  n_params: number;
  n_params_total: number;
  order: number;
  calls: number;
}

/** The parsed graph with the lookups the view needs. */
export interface GraphIndex {
  /** Nodes in wire order (root first, then data-flow order). */
  nodes: WireNode[];
  byName: Map<string, WireNode>;
  /** Children of each module, in wire order. */
  children: Map<string, string[]>;
  /** Number of leaf modules inside each module (a leaf counts itself). */
  leafCount: Map<string, number>;
  /** The root's name (normally `""`), or null for an empty graph. */
  root: string | null;
  edges: Array<[string, string]>;
  /** How the edges were found (`"fx"` or `"hooks"`), `""` when not given. */
  method: string;
  /** Notes from the graph builder (why fx fell back to hooks, ...). */
  notes: string[];
}

/** Pseudo-nodes of the edge list: where the model's input enters and its output leaves. */
export const IO_NODES = ["input", "output"] as const;

/** One row of the visible list. */
export interface Row {
  /** Module name, or `"input"` / `"output"` for the io rows. */
  name: string;
  kind: "module" | "io";
  depth: number;
  node: WireNode | null;
  /** A container (has child modules). */
  container: boolean;
  expanded: boolean;
}

const num = (v: unknown, fallback: number): number => (typeof v === "number" && Number.isFinite(v) ? v : fallback);

/**
 * Parse a wire graph defensively (Python validates it; a saved notebook may hold anything):
 * nodes without a string `name` are dropped, missing numbers become 0, unknown parents make a
 * node a child of the root.
 *
 * @example
 * parseGraph({ nodes: [{ name: "", type: "Net", parent: null, depth: 0, is_leaf: true }], edges: [] }).root; // ""
 */
export function parseGraph(raw: unknown): GraphIndex {
  const obj = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const rawNodes = Array.isArray(obj.nodes) ? obj.nodes : [];
  const nodes: WireNode[] = [];
  const byName = new Map<string, WireNode>();
  for (const r of rawNodes) {
    if (!r || typeof r !== "object") continue;
    const o = r as Record<string, unknown>;
    if (typeof o.name !== "string" || byName.has(o.name)) continue;
    const shape = Array.isArray(o.output_shape) ? (o.output_shape as number[] | number[][]) : null;
    const node: WireNode = {
      name: o.name,
      type: typeof o.type === "string" ? o.type : "?",
      parent: typeof o.parent === "string" ? o.parent : null,
      depth: num(o.depth, 0),
      is_leaf: o.is_leaf === true,
      output_shape: shape,
      n_params: num(o.n_params, 0),
      n_params_total: num(o.n_params_total, num(o.n_params, 0)),
      order: num(o.order, -1),
      calls: num(o.calls, 0),
    };
    nodes.push(node);
    byName.set(node.name, node);
  }
  const root = nodes.find((n) => n.parent === null)?.name ?? (nodes.length ? nodes[0].name : null);
  const children = new Map<string, string[]>();
  for (const n of nodes) children.set(n.name, []);
  for (const n of nodes) {
    if (n.name === root) continue;
    const parent = n.parent !== null && byName.has(n.parent) && n.parent !== n.name ? n.parent : root;
    if (parent !== null) children.get(parent)?.push(n.name);
  }
  const leafCount = new Map<string, number>();
  const count = (name: string, seen: Set<string>): number => {
    const known = leafCount.get(name);
    if (known !== undefined) return known;
    if (seen.has(name)) return 0; // a cycle in malformed data
    seen.add(name);
    const kids = children.get(name) ?? [];
    const c = kids.length === 0 ? 1 : kids.reduce((s, k) => s + count(k, seen), 0);
    leafCount.set(name, c);
    return c;
  };
  for (const n of nodes) count(n.name, new Set());
  const edges: Array<[string, string]> = [];
  if (Array.isArray(obj.edges)) {
    for (const e of obj.edges) {
      if (Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && typeof e[1] === "string") edges.push([e[0], e[1]]);
    }
  }
  const method = typeof obj.method === "string" ? obj.method : "";
  const notes = Array.isArray(obj.notes) ? obj.notes.map((x) => String(x)) : [];
  return { nodes, byName, children, leafCount, root, edges, method, notes };
}

/**
 * The visible rows: `input`, then the modules depth first (a container's children follow it
 * only when it is expanded), then `output`. Containers are the modules with child modules.
 *
 * @example
 * visibleRows(g, new Set([""])).map((r) => r.name); // ["input", "", "conv", "fc", "output"]
 */
export function visibleRows(g: GraphIndex, expanded: ReadonlySet<string>): Row[] {
  const rows: Row[] = [{ name: "input", kind: "io", depth: 0, node: null, container: false, expanded: false }];
  if (g.root !== null) {
    const stack: Array<[string, number]> = [[g.root, 0]];
    const seen = new Set<string>();
    while (stack.length) {
      const [name, depth] = stack.pop() as [string, number];
      if (seen.has(name)) continue;
      seen.add(name);
      const kids = g.children.get(name) ?? [];
      const container = kids.length > 0;
      const open = container && expanded.has(name);
      rows.push({ name, kind: "module", depth, node: g.byName.get(name) ?? null, container, expanded: open });
      if (open) for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
    }
  }
  rows.push({ name: "output", kind: "io", depth: 0, node: null, container: false, expanded: false });
  return rows;
}

/**
 * The row that stands for `name` in `rows`: the module itself when visible, else its outermost
 * collapsed ancestor; `-1` when unknown. Expanded containers never stand for an edge endpoint.
 *
 * @example
 * representative(g, rowIndex, "layer1.0.conv1"); // row of "layer1" when layer1 is collapsed
 */
export function representative(g: GraphIndex, rowIndex: ReadonlyMap<string, number>, name: string): number {
  if ((IO_NODES as readonly string[]).includes(name)) return rowIndex.get(name) ?? -1;
  if (!g.byName.has(name)) return -1;
  const chain: string[] = [];
  let cur: string | null = name;
  const guard = new Set<string>();
  while (cur !== null && g.byName.has(cur) && !guard.has(cur)) {
    guard.add(cur);
    chain.push(cur);
    const parent: string | null = g.byName.get(cur)?.parent ?? null;
    cur = parent === cur ? null : parent;
  }
  // From the outermost ancestor down: the first one that is visible and not expanded.
  for (let i = chain.length - 1; i >= 0; i--) {
    const r = rowIndex.get(chain[i]);
    if (r === undefined) return -1;
    if (i === 0) return r;
    const kids = g.children.get(chain[i]) ?? [];
    const rowIsOpen = kids.length > 0 && rowIndex.has(kids[0]);
    if (!rowIsOpen) return r;
  }
  return -1;
}

/** A skip edge routed in the gutter, in row indices. */
export interface Arc {
  from: number;
  to: number;
  /** Lane 0 is nearest the boxes. */
  lane: number;
  /** The edge goes up the list (into a module that is called again later, e.g. a shared ReLU). */
  back: boolean;
}

/**
 * The edges to draw as arcs: endpoints mapped to their visible rows ({@link representative}),
 * self-edges and duplicates dropped, and edges between consecutive *flow rows* dropped (flow
 * rows are the io rows, leaves and collapsed containers: the header row of an expanded
 * container sits between its predecessor and its first child without breaking the flow).
 * Lanes are assigned greedily, shortest arcs first, so nested arcs do not cross.
 *
 * @example
 * layoutArcs(g, rows).map((a) => [a.from, a.to, a.lane]); // [[3, 7, 0]]
 */
export function layoutArcs(g: GraphIndex, rows: readonly Row[]): Arc[] {
  const rowIndex = new Map<string, number>();
  rows.forEach((r, i) => rowIndex.set(r.name, i));
  const flowPos = new Map<number, number>();
  let k = 0;
  rows.forEach((r, i) => {
    if (!r.expanded) flowPos.set(i, k++);
  });
  const seen = new Set<string>();
  const arcs: Arc[] = [];
  for (const [a, b] of g.edges) {
    const ra = representative(g, rowIndex, a);
    const rb = representative(g, rowIndex, b);
    if (ra < 0 || rb < 0 || ra === rb) continue;
    const fa = flowPos.get(ra);
    const fb = flowPos.get(rb);
    if (fa !== undefined && fb !== undefined && fb - fa === 1) continue;
    const key = `${ra}:${rb}`;
    if (seen.has(key)) continue;
    seen.add(key);
    arcs.push({ from: ra, to: rb, lane: 0, back: rb < ra });
  }
  const span = (x: Arc): [number, number] => [Math.min(x.from, x.to), Math.max(x.from, x.to)];
  const order = arcs.map((_, i) => i).sort((i, j) => {
    const [a0, a1] = span(arcs[i]);
    const [b0, b1] = span(arcs[j]);
    return a1 - a0 - (b1 - b0) || a0 - b0;
  });
  const lanes: Array<Array<[number, number]>> = [];
  for (const i of order) {
    const [lo, hi] = span(arcs[i]);
    let lane = 0;
    while (lanes[lane]?.some(([s, e]) => lo <= e && s <= hi)) lane++;
    (lanes[lane] ??= []).push([lo, hi]);
    arcs[i].lane = lane;
  }
  return arcs;
}

/**
 * SVG path of an arc: from `(right1, y1)` left to lane `x`, vertically to `y2`, then right to
 * `(right2, y2)`, with rounded corners of radius `r` (clamped to half the height).
 *
 * @example
 * arcPath(10, 50, 4, 20, 20, 3); // "M20 10 H7 Q4 10 4 13 V47 Q4 50 7 50 H20"
 */
export function arcPath(y1: number, y2: number, x: number, right1: number, right2: number, r: number): string {
  const dir = y2 >= y1 ? 1 : -1;
  const rr = Math.max(0, Math.min(r, Math.abs(y2 - y1) / 2, right1 - x, right2 - x));
  const f = (v: number): string => String(Math.round(v * 10) / 10);
  return (
    `M${f(right1)} ${f(y1)} H${f(x + rr)} Q${f(x)} ${f(y1)} ${f(x)} ${f(y1 + dir * rr)} ` +
    `V${f(y2 - dir * rr)} Q${f(x)} ${f(y2)} ${f(x + rr)} ${f(y2)} H${f(right2)}`
  );
}

/**
 * An output shape without the batch dimension: `[1, 64, 56, 56]` -> `"64x56x56"`; several
 * outputs are joined with `", "`; a 1-D output `[1]` reads `"1"`; `null` (never ran) -> `""`.
 *
 * @example
 * formatShape([1, 64, 56, 56]);      // "64x56x56"
 * formatShape([[1, 10], [1, 4, 4]]); // "10, 4x4"
 */
export function formatShape(shape: number[] | number[][] | null | undefined): string {
  if (!Array.isArray(shape)) return "";
  if (shape.length > 0 && shape.every((s) => Array.isArray(s))) {
    return (shape as number[][]).map((s) => formatShape(s)).join(", ");
  }
  const dims = (shape as number[]).filter((d) => typeof d === "number");
  if (dims.length <= 1) return "scalar"; // only the batch dimension: one number per sample
  return dims.slice(1).join("x");
}

/**
 * A parameter count in short form: `0` -> `""`, `812` -> `"812"`, `9408` -> `"9.4K"`,
 * `1_234_567` -> `"1.2M"`, `25_557_032` -> `"25.6M"`, `3e9` -> `"3B"`.
 *
 * @example
 * formatParams(1_234_567); // "1.2M"
 */
export function formatParams(n: number): string {
  if (!(n > 0)) return "";
  const units: Array<[number, string]> = [[1e9, "B"], [1e6, "M"], [1e3, "K"]];
  for (const [v, u] of units) {
    if (n >= v * 0.9995) {
      const x = n / v;
      const s = x >= 100 ? String(Math.round(x)) : String(Number(x.toFixed(1)));
      return `${s}${u}`;
    }
  }
  return String(Math.round(n));
}
