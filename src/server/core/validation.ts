/**
 * Request validation with zod: the schemas of request headers and messaging
 * tool arguments, plus the checks zod cannot express cheaply (JSON text,
 * base64, byte lengths). Every failure names the field.
 */
import { z } from 'zod';
import { exceedsDepth, formatIssue } from '../../protocol/index.js';
import { ValidationError, describeValue } from '../../errors.js';

const str = () => z.string({ error: 'expected string' });
const looseObject = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape, { error: 'expected object' });

/** The header of a `room.invoke_tool` request. Optional fields may be absent or null. */
export const invokeToolHeaderSchema = looseObject({
  toolkit: str(),
  tool: str(),
  arguments: looseObject({ type: str() }),
  participant_id: str().nullish(),
  on_behalf_of_id: str().nullish(),
  tool_call_id: str().nullish(),
});

/** A parsed `room.invoke_tool` header. */
export type InvokeToolHeader = z.infer<typeof invokeToolHeaderSchema>;

/** `arguments.json` of `messaging.enable` / `messaging.disable`: an object, keys ignored. */
export const emptyArgumentsSchema = looseObject({});

/** `arguments.json` of `messaging.send`. */
export const sendArgumentsSchema = looseObject({
  to_participant_id: str(),
  type: str().min(1, { error: 'expected a non-empty string' }),
  message_json: str(),
  attachment_base64: str().nullish(),
});

/** `arguments.json` of `messaging.broadcast`. */
export const broadcastArgumentsSchema = looseObject({
  type: str().min(1, { error: 'expected a non-empty string' }),
  message_json: str(),
  attachment_base64: str().nullish(),
});

/**
 * Validates `value` against `schema`; throws a {@link ValidationError} whose
 * message is `<prefix>.<field>: <expectation> (got <value>)`.
 */
export function validate<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { field, message } = formatIssue(result.error, value, prefix);
  throw new ValidationError(field, message);
}

const BASE64_CHARS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CHARS[c.charCodeAt(0)] = 1;

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

/** Decodes validated standard base64 (`Buffer` in Node, `atob` elsewhere). */
export function decodeBase64(text: string): Uint8Array {
  const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: string): Uint8Array } }).Buffer;
  if (NodeBuffer) return NodeBuffer.from(text, 'base64');
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Checks an optional base64 field and decodes it; empty or absent gives `undefined`. */
export function decodeAttachment(text: string | null | undefined, field: string): Uint8Array | undefined {
  if (text == null || text.length === 0) return undefined;
  // Fast path, all native: Node's decoder skips characters outside its
  // alphabet and stops at a '=', so it yields the full 3/4 of the unpadded
  // length only when every one of those characters is in its alphabet; its
  // alphabet is the standard one plus the url-safe '-' and '_', ruled out by
  // indexOf, and it reads only the low byte of a UTF-16 unit (so 'Ł' reads
  // as 'A'), ruled out by requiring as many UTF-8 bytes as characters.
  // One missing character always costs at least one output byte.
  // (The character scan below is a JS loop over every character: it was the
  // bulk of an attachment's cost.)
  const decoded = Buffer.from(text, 'base64');
  const unpadded = paddedEnd(text);
  if (
    unpadded >= 0 &&
    decoded.length === Math.floor((unpadded * 3) / 4) &&
    Buffer.byteLength(text, 'utf8') === text.length &&
    text.indexOf('-') < 0 &&
    text.indexOf('_') < 0
  ) {
    return decoded;
  }
  if (!isStandardBase64(text)) throw new ValidationError(field, `${field}: expected standard base64 (got ${describeValue(text)})`);
  return decoded;
}

/** Checks that `text` is JSON no deeper than `maxDepth`; throws naming `field`. */
export function checkJsonText(text: string, field: string, maxDepth: number): void {
  if (exceedsDepth(text, maxDepth)) {
    throw new ValidationError(field, `${field}: JSON is nested deeper than ${maxDepth} levels`);
  }
  try {
    JSON.parse(text);
  } catch {
    throw new ValidationError(field, `${field}: expected a JSON text (got ${describeValue(text)})`);
  }
}

/** UTF-8 byte length of a string, without allocating. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** A parsed `arguments.json` of `messaging.send`. */
export type SendArguments = z.infer<typeof sendArgumentsSchema>;
/** A parsed `arguments.json` of `messaging.broadcast`. */
export type BroadcastArguments = z.infer<typeof broadcastArgumentsSchema>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'string';
}

// The relay path checks shapes by hand first and asks zod only to explain a
// failure: the fast checks accept a subset of what the schemas accept, so the
// schemas stay the definition and the source of every error message.

/** Validates a `room.invoke_tool` header (fast path, zod on failure). */
export function parseInvokeToolHeader(header: Record<string, unknown>): InvokeToolHeader {
  const args = header.arguments;
  if (
    typeof header.toolkit === 'string' &&
    typeof header.tool === 'string' &&
    isPlainObject(args) &&
    typeof args.type === 'string' &&
    optionalString(header.participant_id) &&
    optionalString(header.on_behalf_of_id) &&
    optionalString(header.tool_call_id)
  ) {
    return header as InvokeToolHeader;
  }
  return validate(invokeToolHeaderSchema, header, '');
}

/** Validates `arguments.json` of `messaging.send` (fast path, zod on failure). */
export function parseSendArguments(json: unknown): SendArguments {
  if (
    isPlainObject(json) &&
    typeof json.to_participant_id === 'string' &&
    typeof json.type === 'string' &&
    json.type.length > 0 &&
    typeof json.message_json === 'string' &&
    optionalString(json.attachment_base64)
  ) {
    return json as SendArguments;
  }
  return validate(sendArgumentsSchema, json, 'arguments.json');
}

/** Validates `arguments.json` of `messaging.broadcast` (fast path, zod on failure). */
export function parseBroadcastArguments(json: unknown): BroadcastArguments {
  if (isPlainObject(json) && typeof json.type === 'string' && json.type.length > 0 && typeof json.message_json === 'string' && optionalString(json.attachment_base64)) {
    return json as BroadcastArguments;
  }
  return validate(broadcastArgumentsSchema, json, 'arguments.json');
}
