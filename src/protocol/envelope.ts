/**
 * The message envelope ("packMessage"): an 8-byte big-endian length L, L bytes
 * of a UTF-8 JSON object (the header), then the raw payload. Free of I/O.
 * See docs/PROTOCOL.md#the-envelope.
 */
import { CodecError, describeValue } from '../errors.js';

/** Length of the envelope's length prefix. */
export const ENVELOPE_LENGTH_SIZE = 8;

const TWO_POW_32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);
const utf8Encoder = new TextEncoder();
/** Node's Buffer when present; the codec also runs in browsers, without it. */
const NodeBuffer = (globalThis as { Buffer?: NodeBufferLike }).Buffer;

/** The part of Node's Buffer the codec uses. */
interface NodeBufferLike {
  byteLength(text: string, encoding: 'utf8'): number;
  isBuffer(value: unknown): boolean;
}

/** A Node Buffer's text decoding (replacement characters for bad bytes, as the lenient decoder). */
interface NodeBufferText {
  toString(encoding: 'utf8', start: number, end: number): string;
}
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
// The non-fatal decoder is faster; a U+FFFD in its output sends the text
// through the fatal one, which tells a real U+FFFD from invalid bytes.
const lenientDecoder = new TextDecoder('utf-8');

/** Big-endian u32 at `offset`, read without a DataView allocation. */
function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

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
  if (NodeBuffer !== undefined) {
    // Node sizes the text natively, so it is encoded in place (no intermediate copy).
    const headerLength = NodeBuffer.byteLength(headerJson, 'utf8');
    const out = new Uint8Array(ENVELOPE_LENGTH_SIZE + headerLength + payload.byteLength);
    writeLength(out, headerLength);
    utf8Encoder.encodeInto(headerJson, out.subarray(ENVELOPE_LENGTH_SIZE, ENVELOPE_LENGTH_SIZE + headerLength));
    if (payload.byteLength > 0) out.set(payload, ENVELOPE_LENGTH_SIZE + headerLength);
    return out;
  }
  const headerBytes = utf8Encoder.encode(headerJson);
  const out = new Uint8Array(ENVELOPE_LENGTH_SIZE + headerBytes.byteLength + payload.byteLength);
  writeLength(out, headerBytes.byteLength);
  out.set(headerBytes, ENVELOPE_LENGTH_SIZE);
  if (payload.byteLength > 0) out.set(payload, ENVELOPE_LENGTH_SIZE + headerBytes.byteLength);
  return out;
}

/**
 * Packs an envelope (no payload) whose header JSON is `head`, then
 * `valueLength` ASCII bytes that `fill` writes straight into the output
 * buffer at `offset`, then `tail`. Lets a long ASCII value (an attachment's
 * base64) skip the intermediate JSON text and its UTF-8 encoding.
 */
export function packEnvelopeAscii(head: string, valueLength: number, fill: (out: Uint8Array, offset: number) => void, tail: string): Uint8Array {
  const headBytes = utf8Encoder.encode(head);
  const tailBytes = utf8Encoder.encode(tail);
  const headerLength = headBytes.byteLength + valueLength + tailBytes.byteLength;
  const out = new Uint8Array(ENVELOPE_LENGTH_SIZE + headerLength);
  writeLength(out, headerLength);
  out.set(headBytes, ENVELOPE_LENGTH_SIZE);
  fill(out, ENVELOPE_LENGTH_SIZE + headBytes.byteLength);
  out.set(tailBytes, ENVELOPE_LENGTH_SIZE + headBytes.byteLength + valueLength);
  return out;
}

/** Writes the 8-byte big-endian length prefix. */
function writeLength(out: Uint8Array, length: number): void {
  const high = Math.floor(length / TWO_POW_32);
  const low = length >>> 0;
  out[0] = high >>> 24;
  out[1] = high >>> 16;
  out[2] = high >>> 8;
  out[3] = high;
  out[4] = low >>> 24;
  out[5] = low >>> 16;
  out[6] = low >>> 8;
  out[7] = low;
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
  const length = readUint32(data, 0) * TWO_POW_32 + readUint32(data, 4);
  const end = ENVELOPE_LENGTH_SIZE + length;
  if (end > data.byteLength) {
    throw new CodecError(`envelope header length ${length} runs past the ${data.byteLength - ENVELOPE_LENGTH_SIZE} bytes that follow it.`);
  }
  // A Node Buffer (what a server reads from ws) decodes natively without a view or TextDecoder's call overhead.
  let text = NodeBuffer !== undefined && NodeBuffer.isBuffer(data)
      ? (data as unknown as NodeBufferText).toString('utf8', ENVELOPE_LENGTH_SIZE, end)
       : lenientDecoder.decode(data.subarray(ENVELOPE_LENGTH_SIZE, end));
  if (text.includes('\uFFFD')) {
    try {
      text = utf8Decoder.decode(data.subarray(ENVELOPE_LENGTH_SIZE, end));
    } catch (cause) {
      throw new CodecError('envelope header is not valid UTF-8.', { cause });
    }
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
  // The common case, a header with a few brackets, is settled by native scans without walking it.
  if (fewBrackets(json, maxDepth)) return false;
  let depth = 0;
  const length = json.length;
  for (let i = 0; i < length; i++) {
    const c = json.charCodeAt(i);
    if (c === 34 /* " */) {
      i = stringEnd(json, i + 1);
      if (i < 0) return false;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/** True when `json` holds at most `maxDepth` opening brackets in all (strings included), so it cannot nest deeper. */
function fewBrackets(json: string, maxDepth: number): boolean {
  let count = 0;
  for (let i = json.indexOf('{'); i !== -1; i = json.indexOf('{', i + 1)) if (++count > maxDepth) return false;
  for (let i = json.indexOf('['); i !== -1; i = json.indexOf('[', i + 1)) if (++count > maxDepth) return false;
  return true;
}

/**
 * The index of the quote that closes the string whose body starts at
 * `start`, or -1 if it is never closed. Jumps from quote to quote with the
 * native `indexOf` (long strings, e.g. base64 attachments, are the common
 * bulk of a header); a quote closes the string when an even number of
 * backslashes precedes it.
 */
function stringEnd(json: string, start: number): number {
  let quote = json.indexOf('"', start);
  while (quote >= 0) {
    let backslashes = 0;
    while (json.charCodeAt(quote - 1 - backslashes) === 92 /* \ */) backslashes++;
    if ((backslashes & 1) === 0) return quote;
    quote = json.indexOf('"', quote + 1);
  }
  return -1;
}
