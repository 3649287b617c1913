/**
 * Typed, defensive reads of synced traits. The model holds whatever Python (or a saved
 * notebook) put there; these helpers turn it into the types the views expect, with fallbacks.
 */
import type { AnyModel } from "@anywidget/types";
import { decodeArray, decodeBytes, isEncodedArray, type EncodedArray } from "./codec";

/** The model type every view receives. */
export type Model = AnyModel;

/**
 * A numeric trait, or `fallback` when missing or not a finite number.
 *
 * @example
 * const opacity = getNumber(model, "opacity", 0.6);
 */
export function getNumber(model: Model, name: string, fallback: number): number {
  const v: unknown = model.get(name);
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

/**
 * A numeric trait that may be `null` (e.g. `prediction`).
 *
 * @example
 * getOptionalNumber(model, "base_value"); // number | null
 */
export function getOptionalNumber(model: Model, name: string): number | null {
  const v: unknown = model.get(name);
  return typeof v === "number" ? v : null;
}

/**
 * A string trait, or `fallback`.
 *
 * @example
 * getString(model, "cmap", "auto");
 */
export function getString(model: Model, name: string, fallback = ""): string {
  const v: unknown = model.get(name);
  return typeof v === "string" ? v : fallback;
}

/**
 * A boolean trait, or `fallback`.
 *
 * @example
 * getBool(model, "busy", false);
 */
export function getBool(model: Model, name: string, fallback = false): boolean {
  const v: unknown = model.get(name);
  return typeof v === "boolean" ? v : fallback;
}

/**
 * A list-of-strings trait (non-strings are converted with `String`).
 *
 * @example
 * getStringList(model, "feature_names"); // ["age", "bmi"]
 */
export function getStringList(model: Model, name: string): string[] {
  const v: unknown = model.get(name);
  return Array.isArray(v) ? v.map((x) => String(x)) : [];
}

/**
 * The raw encoded-array trait, or `null` when unset or malformed.
 *
 * @example
 * const enc = getEncoded(model, "values");
 */
export function getEncoded(model: Model, name: string): EncodedArray | null {
  const v: unknown = model.get(name);
  return isEncodedArray(v) ? v : null;
}

/**
 * An array trait decoded to float32, or `null`.
 *
 * @example
 * getFloatArray(model, "values")?.data; // Float32Array
 */
export function getFloatArray(model: Model, name: string): { shape: number[]; data: Float32Array } | null {
  const enc = getEncoded(model, name);
  return enc ? decodeArray(enc) : null;
}

/**
 * An 8-bit image trait (raw uint8), or `null`.
 *
 * @example
 * getImage(model, "image")?.shape; // [28, 28] or [32, 32, 3]
 */
export function getImage(model: Model, name: string): { shape: number[]; data: Uint8Array } | null {
  const enc = getEncoded(model, name);
  return enc ? decodeBytes(enc) : null;
}
