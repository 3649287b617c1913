/**
 * Colour maps: 256-entry RGB lookup tables sampled from matplotlib (see
 * `js/scripts/gen_colormaps.py`, which writes `colormap_data.ts`).
 */
import { COLORMAP_HEX, DIVERGING_NAMES, SEQUENTIAL_NAMES } from "./colormap_data";

/** An RGB triple, each channel 0..255. */
export type RGB = [number, number, number];

/** Diverging maps (for signed values, centred on zero). */
export const DIVERGING: readonly string[] = DIVERGING_NAMES;

/** Sequential maps (for non-negative values). */
export const SEQUENTIAL: readonly string[] = SEQUENTIAL_NAMES;

/** Every map name, diverging first. */
export const COLORMAP_NAMES: readonly string[] = [...DIVERGING, ...SEQUENTIAL];

function parseHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The lookup tables, keyed by name: each a `Uint8Array` of 256 * 3 bytes (r, g, b per entry).
 *
 * @example
 * COLORMAPS.viridis.subarray(0, 3); // Uint8Array [68, 1, 84]
 */
export const COLORMAPS: Readonly<Record<string, Uint8Array>> = Object.freeze(
  Object.fromEntries(Object.entries(COLORMAP_HEX).map(([name, hex]) => [name, parseHex(hex)])),
);

/**
 * True when `name` is a known colour map.
 *
 * @example
 * isColormap("magma"); // true
 * isColormap("jet");   // false
 */
export function isColormap(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(COLORMAPS, name);
}

/**
 * The table for `name`; throws with the list of known names for an unknown one.
 *
 * @example
 * table("Greys").length; // 768
 */
export function table(name: string): Uint8Array {
  if (!isColormap(name)) {
    throw new Error(`unknown colour map ${JSON.stringify(name)}; known: ${COLORMAP_NAMES.join(", ")}`);
  }
  return COLORMAPS[name];
}

/**
 * Table index for a position `u` in 0..1: `Math.round(u * 255)`, clamped to 0..255
 * (NaN maps to 0; callers colour non-finite values separately).
 *
 * @example
 * lutIndex(0.5); // 128
 */
export function lutIndex(u: number): number {
  const i = Math.round(u * 255);
  if (!(i > 0)) return 0;
  return i > 255 ? 255 : i;
}

/**
 * The colour at position `u` (0..1) of map `name`, entry `Math.round(u * 255)`.
 *
 * @example
 * lookup("viridis", 0); // [68, 1, 84]
 * lookup("RdBu_r", 1);  // [103, 0, 31]
 */
export function lookup(name: string, u: number): RGB {
  const lut = table(name);
  const k = lutIndex(u) * 3;
  return [lut[k], lut[k + 1], lut[k + 2]];
}
