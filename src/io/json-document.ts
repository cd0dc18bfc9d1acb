/**
 * What the model file and the checkpoint share: reading a JSON document safely, float buffers as
 * base64 text, and turning the first zod issue into an error that names the field.
 *
 * A float buffer is { "dtype": "float32", "encoding": "base64-le", "count": n, "data": "..." }:
 * little-endian float32 bytes in base64, exact (bit-identical after a round trip) and about 1.33
 * bytes per byte of floats.
 */
import { z } from 'zod';
import { issueLine } from '../config/issues.ts';

/** A document is wrong; `field` is the JSON path at fault ("" for the whole document). */
export class ModelFormatError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'ModelFormatError';
  }
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Parses a JSON document whose top level must be an object. JSON.parse never evaluates code, and
 * zod copies only the keys it knows, so keys such as "__proto__" are inert.
 */
export function parseJsonObject(text: string): Record<string, unknown> {
  // A byte-order mark (editors on Windows add one) is not part of the JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new ModelFormatError('', 'the file is empty');
  // NUL or undecodable bytes near the start: an image, an archive or UTF-16, not a JSON text file.
  if (/[\u0000\ufffd]/.test(text.slice(0, 1024))) {
    throw new ModelFormatError('', 'not a JSON text file (it holds binary data, or text that is not UTF-8)');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError('', describeJsonError((e as Error).message, text));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelFormatError('(document)', `expected an object, found ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}`);
  }
  return raw as Record<string, unknown>;
}

/**
 * One line for a JSON.parse failure. V8 quotes a piece of the text in some messages, which may hold
 * newlines or terminal control characters: those are escaped. "Truncated" is said only when the parser
 * ran into the end of the text.
 */
function describeJsonError(message: string, text: string): string {
  const at = /at position (\d+)/.exec(message);
  const atEnd = /Unexpected end of JSON input/.test(message) || (at !== null && Number(at[1]) >= text.trimEnd().length - 1);
  const oneLine = message.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `not valid JSON (${oneLine.length > 160 ? oneLine.slice(0, 160) + '...' : oneLine})${atEnd ? '; the file may be truncated' : ''}`;
}

/** Parses `value` with `schema`; the first problem becomes a ModelFormatError naming its field. */
export function parseDocument<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const line = issueLine(result.error.issues[0]!);
  const colon = line.indexOf(': ');
  throw new ModelFormatError(line.slice(0, colon), line.slice(colon + 2));
}

/** The JSON form of a float buffer (its data checked later, by decodeFloats, against the count it must have). */
export const floatBufferSchema = z.object({
  dtype: z.literal('float32'),
  encoding: z.literal('base64-le'),
  count: z.int().min(0),
  data: z.string(),
});
export type FloatBufferJson = z.infer<typeof floatBufferSchema>;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The bytes of `values` as little-endian float32, the order of every file format here (this model
 * file's base64 and ONNX's raw_data): a view on a little-endian machine, a copy on a big-endian one.
 */
export function littleEndianBytes(values: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

export function encodeFloats(values: Float32Array): FloatBufferJson {
  const bytes = littleEndianBytes(values);
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return { dtype: 'float32', encoding: 'base64-le', count: values.length, data };
}

/**
 * The floats of a buffer that must hold `expected` values (what the network needs): count, length
 * and every value finite, or a ModelFormatError naming `field` ("weights").
 */
export function decodeFloats(buffer: FloatBufferJson, expected: number, field: string, what: string): Float32Array {
  if (buffer.count !== expected) throw new ModelFormatError(`${field}.count`, `the network needs ${expected} ${what}, the file says ${buffer.count}`);
  const { data } = buffer;
  const bytes = Buffer.from(data, 'base64');
  // Buffer.from skips what is not base64, so the check is the round trip: base64 as written (padded,
  // no stray bits) encodes back to itself. A tenth of a regular expression's time on megabytes.
  if (bytes.toString('base64') !== data) throw new ModelFormatError(`${field}.data`, 'is not valid base64');
  if (bytes.length !== expected * 4) {
    throw new ModelFormatError(`${field}.data`, `holds ${bytes.length} bytes, expected ${expected * 4} (${expected} float32)`);
  }
  const out = new Float32Array(expected);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < expected; i++) {
    out[i] = view.getFloat32(i * 4, true);
    if (!Number.isFinite(out[i]!)) throw new ModelFormatError(`${field}.data`, `value ${i} is ${out[i]}, not a finite number`);
  }
  return out;
}
