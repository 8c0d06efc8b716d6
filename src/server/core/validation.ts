/**
 * Request validation with zod: the schemas of request headers and messaging
 * tool arguments, plus the checks zod cannot express cheaply (JSON text,
 * byte lengths; base64 is the codec's, src/protocol/base64.ts). Every failure
 * names the field.
 */
import { z } from 'zod';
import { formatIssue } from '../../protocol/index.js';
import { checkJsonTextShape } from '../../protocol/json-text.js';
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

/**
 * Checks that `text` is JSON no deeper than `maxDepth`; throws naming `field`.
 * Checked without parsing: the text is relayed as it came (see src/protocol/json-text.ts).
 */
export function checkJsonText(text: string, field: string, maxDepth: number): void {
  const shape = checkJsonTextShape(text, maxDepth);
  if (shape === 'too-deep') throw new ValidationError(field, `${field}: JSON is nested deeper than ${maxDepth} levels`);
  if (shape === 'invalid') throw new ValidationError(field, `${field}: expected a JSON text (got ${describeValue(text)})`);
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
