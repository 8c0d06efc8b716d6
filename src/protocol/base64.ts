/**
 * Standard base64 (RFC 4648 section 4, padded) as the protocol carries an
 * attachment in `arguments.json.attachment_base64`: the client's encoder
 * (written straight into an envelope), the server's validating decoder.
 * Uses Node's native `Buffer` where there is one, portable code elsewhere.
 * See docs/PROTOCOL.md#the-messaging-toolkit. Free of I/O.
 */
import { ValidationError, describeValue } from '../errors.js';

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// Two base64 characters (as ASCII codes packed in a u16) for each 12-bit value.
let pairs: Uint16Array | undefined;
const ascii = new TextDecoder('latin1');
const EQUALS = 61;

function base64Pairs(): Uint16Array {
  if (pairs !== undefined) return pairs;
  pairs = new Uint16Array(4096);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let i = 0; i < 4096; i++) {
    const hi = BASE64_ALPHABET.charCodeAt(i >> 6);
    const lo = BASE64_ALPHABET.charCodeAt(i & 63);
    pairs[i] = little ? hi | (lo << 8) : (hi << 8) | lo;
  }
  return pairs;
}

/** What this module uses of Node's `Buffer`. */
interface BufferLike {
  from(buffer: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string; latin1Write(text: string, offset?: number): number };
  from(text: string, encoding: 'base64'): Uint8Array;
  byteLength(text: string, encoding: 'utf8'): number;
}
// Node's Buffer when present (native base64); the codec itself never imports it, so it runs in browsers.
const NodeBuffer = (globalThis as unknown as { Buffer?: BufferLike }).Buffer;

/**
 * Standard base64 of bytes. Uses the runtime's native encoder where there
 * is one (Node's `Buffer`), else a table-driven encoder that writes ASCII
 * bytes and decodes them once: never a string built character by character.
 */
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return toBase64Portable(bytes);
}

/** Length of the base64 of `byteLength` bytes. */
export function base64Length(byteLength: number): number {
  return Math.ceil(byteLength / 3) * 4;
}

/**
 * Writes the base64 of `bytes` into `out` at `offset` (ASCII, {@link
 * base64Length} bytes). In Node the native encoder's text is copied in as
 * latin1; elsewhere the portable encoder writes it.
 */
export function writeBase64(bytes: Uint8Array, out: Uint8Array, offset: number): void {
  if (NodeBuffer !== undefined) {
    NodeBuffer.from(out.buffer, out.byteOffset + offset, base64Length(bytes.byteLength)).latin1Write(toBase64(bytes));
    return;
  }
  const ascii = base64Ascii(bytes);
  out.set(ascii, offset);
}

/** {@link toBase64} without any runtime encoder (browsers). Exported for tests. */
export function toBase64Portable(bytes: Uint8Array): string {
  return ascii.decode(base64Ascii(bytes));
}

/** The base64 of `bytes` as ASCII bytes, table-driven. */
function base64Ascii(bytes: Uint8Array): Uint8Array {
  const table = base64Pairs();
  const length = bytes.byteLength;
  const out = new Uint8Array(base64Length(length));
  const words = new Uint16Array(out.buffer);
  const whole = length - (length % 3);
  let w = 0;
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    words[w++] = table[n >> 12]!;
    words[w++] = table[n & 0xfff]!;
  }
  const rest = length - whole;
  if (rest > 0) {
    const n = (bytes[whole]! << 16) | (rest === 2 ? bytes[whole + 1]! << 8 : 0);
    const o = w * 2;
    out[o] = BASE64_ALPHABET.charCodeAt(n >> 18);
    out[o + 1] = BASE64_ALPHABET.charCodeAt((n >> 12) & 63);
    out[o + 2] = rest === 2 ? BASE64_ALPHABET.charCodeAt((n >> 6) & 63) : EQUALS;
    out[o + 3] = EQUALS;
  }
  return out;
}

const BASE64_CHARS = new Uint8Array(128);
for (const c of BASE64_ALPHABET) BASE64_CHARS[c.charCodeAt(0)] = 1;

/** True for standard (RFC 4648 section 4) padded base64. Linear, no regex backtracking. */
export function isStandardBase64(text: string): boolean {
  const end = paddedEnd(text);
  if (end < 0) return false;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || BASE64_CHARS[c] === 0) return false;
  }
  return true;
}

/**
 * The length of `text` without its padding when the length and padding are
 * well-formed (a multiple of 4, at most two '=' that end a 2- or 3-character
 * group), else -1. The characters themselves are not checked.
 */
function paddedEnd(text: string): number {
  const length = text.length;
  if (length % 4 !== 0) return -1;
  let end = length;
  if (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (length - end > 0 && end % 4 < 2) return -1;
  return end;
}

/** Decodes standard base64 already checked by {@link isStandardBase64}, without any runtime decoder (browsers). */
function decodeBase64Portable(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Decodes an optional standard base64 field (`attachment_base64`); empty or
 * absent gives `undefined`. Throws a {@link ValidationError} naming `field`
 * for anything but standard padded base64.
 */
export function decodeBase64Field(text: string | null | undefined, field: string): Uint8Array | undefined {
  if (text == null || text.length === 0) return undefined;
  if (NodeBuffer === undefined) {
    if (!isStandardBase64(text)) throw new ValidationError(field, `${field}: expected standard base64 (got ${describeValue(text)})`);
    return decodeBase64Portable(text);
  }
  // Fast path, all native: Node's decoder skips characters outside its
  // alphabet and stops at a '=', so it yields the full 3/4 of the unpadded
  // length only when every one of those characters is in its alphabet; its
  // alphabet is the standard one plus the url-safe '-' and '_', ruled out by
  // indexOf, and it reads only the low byte of a UTF-16 unit (so 'Ł' reads
  // as 'A'), ruled out by requiring as many UTF-8 bytes as characters.
  // One missing character always costs at least one output byte.
  // (The character scan below is a JS loop over every character: it was the
  // bulk of an attachment's cost.)
  const decoded = NodeBuffer.from(text, 'base64');
  const unpadded = paddedEnd(text);
  if (
    unpadded >= 0 &&
    decoded.length === Math.floor((unpadded * 3) / 4) &&
    NodeBuffer.byteLength(text, 'utf8') === text.length &&
    text.indexOf('-') < 0 &&
    text.indexOf('_') < 0
  ) {
    return decoded;
  }
  if (!isStandardBase64(text)) throw new ValidationError(field, `${field}: expected standard base64 (got ${describeValue(text)})`);
  return decoded;
}
