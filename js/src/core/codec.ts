/**
 * The JS twin of `nbexplain/codec.py`: encoded arrays on the wire (docs/PROTOCOL.md, "Arrays").
 *
 * An encoded array is `{dtype, shape, data, scale, offset, quantized}`; `data` arrives as a
 * `DataView` that is usually a slice of a larger message buffer, so every decoder here honours
 * `byteOffset` and `byteLength`.
 */

/** The dtypes that may travel on the wire. */
export type WireDType = "float32" | "float16" | "uint8";

/** Binary payloads accepted for `data`: what anywidget delivers plus the obvious alternatives. */
export type BinaryData = DataView | ArrayBuffer | Uint8Array;

/** An encoded array as it arrives from Python (or is sent back to it). */
export interface EncodedArray {
  dtype: WireDType;
  shape: number[];
  data: BinaryData;
  scale?: number;
  offset?: number;
  quantized?: boolean;
}

/** The float32 form that {@link encodeArray} produces for Python. */
export interface EncodedFloat32 {
  dtype: "float32";
  shape: number[];
  data: DataView;
  scale: 1;
  offset: 0;
  quantized: false;
}

/** A decoded array: C-order `data` with the given `shape`. */
export interface DecodedArray {
  shape: number[];
  data: Float32Array;
}

/** Quantised code for -inf (see PROTOCOL.md). */
export const Q_NEG_INF = 253;
/** Quantised code for +inf. */
export const Q_POS_INF = 254;
/** Quantised code for NaN. */
export const Q_NAN = 255;

const BYTES_PER: Record<WireDType, number> = { float32: 4, float16: 2, uint8: 1 };

/**
 * Number of elements for a shape (1 for a scalar shape `[]`).
 *
 * @example
 * shapeSize([3, 28, 28]); // 2352
 */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * A byte view of `data` that respects a DataView's `byteOffset`/`byteLength`.
 *
 * @example
 * const buf = new ArrayBuffer(16);
 * toBytes(new DataView(buf, 8, 4)).length; // 4
 */
export function toBytes(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Decode one IEEE 754 half-precision value (given as its 16 raw bits) to a number.
 * Handles zeros, subnormals, infinities and NaN.
 *
 * @example
 * halfToFloat(0x3c00); // 1
 * halfToFloat(0x0001); // 5.960464477539063e-8 (smallest subnormal)
 * halfToFloat(0xfc00); // -Infinity
 */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function checkSize(enc: EncodedArray, bytes: Uint8Array): number {
  const n = shapeSize(enc.shape);
  const need = n * BYTES_PER[enc.dtype];
  if (bytes.byteLength !== need) {
    throw new Error(
      `encoded ${enc.dtype} array of shape [${enc.shape.join(", ")}] needs ${need} bytes, got ${bytes.byteLength}`,
    );
  }
  return n;
}

function decodeFloat32(bytes: Uint8Array, n: number): Float32Array {
  if (bytes.byteOffset % 4 === 0) {
    // Aligned: a view, no copy. Copied afterwards only if scaling is needed.
    return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** The constructor of a native `Float16Array` view (Chromium, Firefox, Safari, Node 24+). */
export type Float16Constructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>;

/** The runtime's native `Float16Array`, or undefined where there is none. */
export const NATIVE_FLOAT16: Float16Constructor | undefined = (globalThis as { Float16Array?: Float16Constructor })
  .Float16Array;

/**
 * Little-endian half floats to float32. With `native` (a `Float16Array` constructor) the
 * conversion is one native copy; without, each value goes through {@link halfToFloat}.
 * Both give the same values (half to float32 is exact).
 *
 * @example
 * decodeFloat16(new Uint8Array([0x00, 0x3c]), 1); // Float32Array [1]
 */
export function decodeFloat16(bytes: Uint8Array, n: number, native: Float16Constructor | undefined = NATIVE_FLOAT16): Float32Array {
  if (native) {
    // A Float16Array view needs 2-byte alignment; copy the bytes when the offset is odd.
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    return new Float32Array(new native(aligned.buffer, aligned.byteOffset, n));
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
  return out;
}

function decodeQuantized(bytes: Uint8Array, n: number, scale: number, offset: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const code = bytes[i];
    if (code === Q_NAN) out[i] = NaN;
    else if (code === Q_POS_INF) out[i] = Infinity;
    else if (code === Q_NEG_INF) out[i] = -Infinity;
    else out[i] = code * scale + offset;
  }
  return out;
}

/**
 * Decode an encoded array to float32, restoring NaN and +-inf.
 * Raw uint8 data (images) is converted to float values 0..255; use {@link decodeBytes} to keep bytes.
 *
 * @example
 * const enc = { dtype: "float32", shape: [2], data: new DataView(new Float32Array([1, -2]).buffer) };
 * decodeArray(enc); // { shape: [2], data: Float32Array [1, -2] }
 */
export function decodeArray(enc: EncodedArray): DecodedArray {
  const bytes = toBytes(enc.data);
  const n = checkSize(enc, bytes);
  const scale = enc.scale ?? 1;
  const offset = enc.offset ?? 0;
  const shape = [...enc.shape];
  if (enc.dtype === "uint8" && enc.quantized) {
    return { shape, data: decodeQuantized(bytes, n, scale, offset) };
  }
  let data: Float32Array;
  if (enc.dtype === "float32") data = decodeFloat32(bytes, n);
  else if (enc.dtype === "float16") data = decodeFloat16(bytes, n);
  else if (enc.dtype === "uint8") data = Float32Array.from(bytes);
  else throw new Error(`unknown encoded dtype ${String(enc.dtype)}`);
  if (scale !== 1 || offset !== 0) {
    // Never write into a view of the caller's buffer.
    const scaled = new Float32Array(n);
    for (let i = 0; i < n; i++) scaled[i] = data[i] * scale + offset;
    data = scaled;
  }
  return { shape, data };
}

/**
 * Decode raw 8-bit data (an image) to bytes, honouring the DataView offset.
 * Throws for anything but `dtype: "uint8"` with `quantized` false.
 *
 * @example
 * decodeBytes({ dtype: "uint8", shape: [1, 2], data: new Uint8Array([0, 255]) }).data; // Uint8Array [0, 255]
 */
export function decodeBytes(enc: EncodedArray): { shape: number[]; data: Uint8Array } {
  if (enc.dtype !== "uint8" || enc.quantized) {
    throw new Error(`expected raw uint8 data, got ${enc.dtype}${enc.quantized ? " (quantised)" : ""}`);
  }
  const bytes = toBytes(enc.data);
  checkSize(enc, bytes);
  return { shape: [...enc.shape], data: bytes };
}

/**
 * Encode a float32 array for Python (the what-if sample). The data is copied into a fresh
 * little-endian buffer, so later changes to `data` do not leak into the sent value.
 *
 * @example
 * const enc = encodeArray(new Float32Array([1, 2, 3]), [3]);
 * enc.dtype; // "float32"
 * decodeArray(enc).data; // Float32Array [1, 2, 3]
 */
export function encodeArray(data: Float32Array, shape: readonly number[]): EncodedFloat32 {
  if (shapeSize(shape) !== data.length) {
    throw new Error(`shape [${shape.join(", ")}] does not match ${data.length} values`);
  }
  const buffer = new ArrayBuffer(data.length * 4);
  const dv = new DataView(buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return { dtype: "float32", shape: [...shape], data: dv, scale: 1, offset: 0, quantized: false };
}

/**
 * Type guard for something that looks like an encoded array (used on untrusted trait values).
 *
 * @example
 * isEncodedArray(null); // false
 */
export function isEncodedArray(value: unknown): value is EncodedArray {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    (v.dtype === "float32" || v.dtype === "float16" || v.dtype === "uint8") &&
    Array.isArray(v.shape) &&
    (v.data instanceof DataView || v.data instanceof ArrayBuffer || v.data instanceof Uint8Array)
  );
}
