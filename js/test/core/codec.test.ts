import { describe, expect, it } from "vitest";
import {
  decodeArray,
  decodeBytes,
  decodeFloat16,
  encodeArray,
  halfToFloat,
  isEncodedArray,
  NATIVE_FLOAT16,
  type EncodedArray,
  type Float16Constructor,
} from "../../src/core/codec";

/** Place `bytes` at `offset` inside a larger buffer padded with junk, and view them. */
function embedded(bytes: Uint8Array, offset: number): DataView {
  const buffer = new ArrayBuffer(offset + bytes.length + 7);
  new Uint8Array(buffer).fill(0xab);
  new Uint8Array(buffer, offset, bytes.length).set(bytes);
  return new DataView(buffer, offset, bytes.length);
}

function f32Bytes(values: number[]): Uint8Array {
  const dv = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return new Uint8Array(dv.buffer);
}

describe("decodeArray float32", () => {
  const values = [1.5, -2.25, NaN, Infinity, -Infinity, 0];

  it.each([0, 8, 6, 3])("honours a DataView at byte offset %i", (offset) => {
    const enc: EncodedArray = { dtype: "float32", shape: [2, 3], data: embedded(f32Bytes(values), offset), scale: 1, offset: 0 };
    const out = decodeArray(enc);
    expect(out.shape).toEqual([2, 3]);
    expect(Array.from(out.data)).toEqual(values);
  });

  it("returns a view without copying when aligned", () => {
    const dv = embedded(f32Bytes(values), 8);
    const out = decodeArray({ dtype: "float32", shape: [6], data: dv });
    expect(out.data.buffer).toBe(dv.buffer);
    expect(out.data.byteOffset).toBe(8);
  });

  it("copies when unaligned", () => {
    const dv = embedded(f32Bytes(values), 6);
    const out = decodeArray({ dtype: "float32", shape: [6], data: dv });
    expect(out.data.buffer).not.toBe(dv.buffer);
  });

  it("accepts ArrayBuffer and Uint8Array", () => {
    const bytes = f32Bytes([1, 2]);
    expect(Array.from(decodeArray({ dtype: "float32", shape: [2], data: bytes.buffer as ArrayBuffer }).data)).toEqual([1, 2]);
    expect(Array.from(decodeArray({ dtype: "float32", shape: [2], data: bytes }).data)).toEqual([1, 2]);
  });

  it("rejects a buffer of the wrong size", () => {
    expect(() => decodeArray({ dtype: "float32", shape: [3], data: f32Bytes([1, 2]) })).toThrow(/needs 12 bytes, got 8/);
  });
});

describe("float16", () => {
  it("decodes half bits by hand (bits from numpy's float16)", () => {
    expect(halfToFloat(15360)).toBe(1);
    expect(halfToFloat(1024)).toBe(6.103515625e-5); // smallest normal
    expect(halfToFloat(1)).toBe(5.960464477539063e-8); // smallest subnormal
    expect(halfToFloat(512)).toBe(3.0517578125e-5); // a subnormal
    expect(halfToFloat(31743)).toBe(65504); // largest finite
    expect(halfToFloat(49152)).toBe(-2);
    expect(halfToFloat(11878)).toBe(0.0999755859375);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
  });

  it("applies scale at an unaligned offset", () => {
    const bits = [15360, 49152, 0x7e00, 0x7c00, 512];
    const bytes = new Uint8Array(bits.length * 2);
    const dv = new DataView(bytes.buffer);
    bits.forEach((b, i) => dv.setUint16(i * 2, b, true));
    const out = decodeArray({ dtype: "float16", shape: [5], data: embedded(bytes, 5), scale: 4, offset: 0 });
    expect(Array.from(out.data)).toEqual([4, -8, NaN, Infinity, Math.fround(3.0517578125e-5 * 4)]);
  });
});

describe("float16: native Float16Array and the hand decoder agree", () => {
  // Every half bit pattern (NaN payloads all decode to NaN).
  const bytes = new Uint8Array(65536 * 2 + 1).subarray(1); // odd byte offset: the native path must copy
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < 65536; b++) dv.setUint16(b * 2, b, true);
  const byHand = decodeFloat16(bytes, 65536, undefined);
  // Where the runtime has no Float16Array (Node < 24), a stand-in view built on halfToFloat.
  const stub: Float16Constructor = function (buffer: ArrayBufferLike, offset: number, length: number) {
    if (offset % 2 !== 0) throw new RangeError("start offset of Float16Array should be a multiple of 2");
    const view = new DataView(buffer, offset, length * 2);
    return Array.from({ length }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
  } as unknown as Float16Constructor;

  it.each([
    ["native", NATIVE_FLOAT16],
    ["stand-in", stub],
  ] as const)("%s view gives the hand decoder's values", (_name, ctor) => {
    if (!ctor) return; // no native Float16Array in this runtime
    expect(decodeFloat16(bytes, 65536, ctor)).toEqual(byHand);
    expect(decodeFloat16(bytes.slice(), 65536, ctor)).toEqual(byHand); // aligned: a view, no copy
  });

  it("hand decoder matches halfToFloat", () => {
    expect(Array.from(byHand.subarray(0x3c00, 0x3c02))).toEqual([1, Math.fround(halfToFloat(0x3c01))]);
    expect(Object.is(byHand[0x8000], -0)).toBe(true);
  });
});

describe("uint8", () => {
  it("decodes quantised codes with reserved -inf, +inf, NaN", () => {
    const codes = new Uint8Array([0, 126, 252, 253, 254, 255]);
    const out = decodeArray({ dtype: "uint8", shape: [6], data: embedded(codes, 3), scale: 0.5, offset: -10, quantized: true });
    expect(Array.from(out.data)).toEqual([-10, 53, 116, -Infinity, Infinity, NaN]);
  });

  it("decodes raw bytes to floats, and keeps them as bytes with decodeBytes", () => {
    const raw = new Uint8Array([0, 128, 253, 255]);
    const enc: EncodedArray = { dtype: "uint8", shape: [2, 2], data: embedded(raw, 6), scale: 1, offset: 0, quantized: false };
    expect(Array.from(decodeArray(enc).data)).toEqual([0, 128, 253, 255]);
    const img = decodeBytes(enc);
    expect(img.shape).toEqual([2, 2]);
    expect(Array.from(img.data)).toEqual([0, 128, 253, 255]);
  });

  it("decodeBytes refuses floats and quantised data", () => {
    expect(() => decodeBytes({ dtype: "float32", shape: [1], data: f32Bytes([1]) })).toThrow(/raw uint8/);
    expect(() => decodeBytes({ dtype: "uint8", shape: [1], data: new Uint8Array(1), quantized: true })).toThrow(/quantised/);
  });
});

describe("encodeArray", () => {
  it("produces the float32 form and round-trips", () => {
    const data = new Float32Array([0.1, -3, NaN, Infinity]);
    const enc = encodeArray(data, [2, 2]);
    expect(enc).toMatchObject({ dtype: "float32", shape: [2, 2], scale: 1, offset: 0, quantized: false });
    expect(enc.data).toBeInstanceOf(DataView);
    expect(enc.data.byteLength).toBe(16);
    expect(enc.data.getFloat32(4, true)).toBe(-3);
    expect(Array.from(decodeArray(enc).data)).toEqual(Array.from(data));
  });

  it("copies, so later edits do not change what was sent", () => {
    const data = new Float32Array([1, 2]);
    const enc = encodeArray(data, [2]);
    data[0] = 9;
    expect(decodeArray(enc).data[0]).toBe(1);
  });

  it("rejects a shape that does not match", () => {
    expect(() => encodeArray(new Float32Array(3), [2])).toThrow(/does not match/);
  });
});

describe("isEncodedArray", () => {
  it("tells encoded arrays from other values", () => {
    expect(isEncodedArray(encodeArray(new Float32Array(1), [1]))).toBe(true);
    expect(isEncodedArray(null)).toBe(false);
    expect(isEncodedArray({ dtype: "int64", shape: [1], data: new Uint8Array(8) })).toBe(false);
    expect(isEncodedArray([1, 2, 3])).toBe(false);
  });
});
