/**
 * The message envelope ("packMessage"): an 8-byte big-endian length L, L bytes
 * of a UTF-8 JSON object (the header), then the raw payload. Free of I/O.
 */
import { CodecError, describeValue } from '../errors.js';

/** Length of the envelope's length prefix. */
export const ENVELOPE_LENGTH_SIZE = 8;

const TWO_POW_32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A decoded envelope. */
export interface Envelope {
  /** The JSON header, always a plain object. */
  readonly header: Record<string, unknown>;
  /** The bytes after the header; empty when there are none. */
  readonly payload: Uint8Array;
}

/**
 * Packs an already-serialised JSON header and a payload. Hot paths that
 * serialise once and send to many use this directly.
 */
export function packEnvelopeJson(headerJson: string, payload: Uint8Array = EMPTY): Uint8Array {
  const headerBytes = utf8Encoder.encode(headerJson);
  const out = new Uint8Array(ENVELOPE_LENGTH_SIZE + headerBytes.byteLength + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(headerBytes.byteLength / TWO_POW_32));
  view.setUint32(4, headerBytes.byteLength >>> 0);
  out.set(headerBytes, ENVELOPE_LENGTH_SIZE);
  if (payload.byteLength > 0) out.set(payload, ENVELOPE_LENGTH_SIZE + headerBytes.byteLength);
  return out;
}

/**
 * Packs a header object and an optional payload into envelope bytes.
 *
 * @example
 * ```ts
 * const data = packEnvelope({ type: 'empty' });
 * ```
 */
export function packEnvelope(header: object, payload?: Uint8Array): Uint8Array {
  return packEnvelopeJson(JSON.stringify(header), payload);
}

/** Options of {@link unpackEnvelope}. */
export interface UnpackEnvelopeOptions {
  /**
   * Deepest nesting of arrays and objects accepted in the header.
   * @defaultValue 64
   */
  maxDepth?: number;
}

/**
 * Unpacks envelope bytes. Throws a {@link CodecError} when the length runs
 * past the data, the header is not UTF-8 JSON, is not an object, or is nested
 * deeper than `maxDepth`.
 */
export function unpackEnvelope(data: Uint8Array, options: UnpackEnvelopeOptions = {}): Envelope {
  if (data.byteLength < ENVELOPE_LENGTH_SIZE) {
    throw new CodecError(`envelope of ${data.byteLength} bytes is shorter than its 8-byte length prefix.`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint32(0) * TWO_POW_32 + view.getUint32(4);
  const end = ENVELOPE_LENGTH_SIZE + length;
  if (end > data.byteLength) {
    throw new CodecError(`envelope header length ${length} runs past the ${data.byteLength - ENVELOPE_LENGTH_SIZE} bytes that follow it.`);
  }
  let text: string;
  try {
    text = utf8Decoder.decode(data.subarray(ENVELOPE_LENGTH_SIZE, end));
  } catch (cause) {
    throw new CodecError('envelope header is not valid UTF-8.', { cause });
  }
  const maxDepth = options.maxDepth ?? 64;
  if (exceedsDepth(text, maxDepth)) {
    throw new CodecError(`envelope header is nested deeper than ${maxDepth} levels.`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (cause) {
    throw new CodecError(`envelope header is not valid JSON: ${describeValue(text)}.`, { cause });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new CodecError(`envelope header must be a JSON object, got ${describeValue(header)}.`);
  }
  return { header: header as Record<string, unknown>, payload: end === data.byteLength ? EMPTY : data.subarray(end) };
}

/**
 * Cheap pre-parse check: true when brackets outside strings nest deeper than
 * `maxDepth`. Guards JSON.parse and later recursive walks from hostile input.
 */
export function exceedsDepth(json: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}
