/**
 * Content values: what responses and tool arguments carry. A content value is
 * an envelope whose header has a `type` key naming one of eight kinds; binary
 * kinds put their bytes in the envelope payload. Free of I/O.
 * See docs/PROTOCOL.md#content-values.
 */
import { z } from 'zod';
import { CodecError, describeValue } from '../errors.js';
import { packEnvelope, unpackEnvelope, type UnpackEnvelopeOptions } from './envelope.js';

/** JSON content: any JSON value. */
export interface JsonContent { readonly type: 'json'; readonly json: unknown }
/** No content. */
export interface EmptyContent { readonly type: 'empty' }
/** An error, with optional numeric code (see {@link ErrorCode}). */
export interface ErrorContent { readonly type: 'error'; readonly text: string; readonly code?: number }
/** Plain text. */
export interface TextContent { readonly type: 'text'; readonly text: string }
/** Bytes with headers. */
export interface BinaryContent { readonly type: 'binary'; readonly headers: Record<string, unknown>; readonly data: Uint8Array }
/** A named file. */
export interface FileContent { readonly type: 'file'; readonly name: string; readonly mimeType: string; readonly data: Uint8Array }
/** A named link. */
export interface LinkContent { readonly type: 'link'; readonly name: string; readonly url: string }
/** Stream control: open, or close with a status. */
export interface ControlContent {
  readonly type: 'control';
  readonly method: 'open' | 'close';
  readonly statusCode?: number;
  readonly message?: string;
}

/** Every content kind the official TypeScript client understands. */
export type Content =
  | JsonContent
  | EmptyContent
  | ErrorContent
  | TextContent
  | BinaryContent
  | FileContent
  | LinkContent
  | ControlContent;

/** The names of the content kinds. */
export type ContentType = Content['type'];

/** The eight content type names, in a stable order. */
export const CONTENT_TYPES: readonly ContentType[] = ['json', 'empty', 'error', 'text', 'binary', 'file', 'link', 'control'];

const EMPTY = new Uint8Array(0);

/** Numeric code sent as an integer or a numeric string. */
const codeSchema = z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform((s) => Number.parseInt(s, 10))]);

const headerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('json'), json: z.unknown() }),
  z.object({ type: z.literal('empty') }),
  z.object({ type: z.literal('error'), text: z.string(), code: codeSchema.nullish() }),
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('binary'), headers: z.record(z.string(), z.unknown()).nullish() }),
  z.object({ type: z.literal('file'), name: z.string(), mime_type: z.string() }),
  z.object({ type: z.literal('link'), name: z.string(), url: z.string() }),
  z.object({
    type: z.literal('control'),
    method: z.enum(['open', 'close']),
    status_code: codeSchema.nullish(),
    message: z.string().nullish(),
  }),
]);

/** Formats the first zod issue as "field: expected ..., got ...". */
export function formatIssue(error: z.ZodError, input: unknown, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  const field = [prefix, ...path.map(String)].filter(Boolean).join('.') || '(root)';
  let value: unknown = input;
  for (const key of path) value = value != null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
  return { field, message: `${field}: ${issue?.message ?? 'invalid value'} (got ${describeValue(value)})` };
}

/**
 * Builds a content value from an envelope's header and payload, validating
 * the header. Throws a {@link CodecError} naming the field.
 */
export function contentFromHeader(header: Record<string, unknown>, payload: Uint8Array = EMPTY): Content {
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) {
    throw new CodecError(`invalid content header, ${formatIssue(parsed.error, header).message}.`);
  }
  const h = parsed.data;
  switch (h.type) {
    case 'json':
      return { type: 'json', json: h.json };
    case 'empty':
      return { type: 'empty' };
    case 'error':
      return h.code == null ? { type: 'error', text: h.text } : { type: 'error', text: h.text, code: h.code };
    case 'text':
      return { type: 'text', text: h.text };
    case 'binary':
      // zod's record parse drops a "__proto__" key; the validated input object keeps every key.
      return { type: 'binary', headers: (header.headers as Record<string, unknown> | null | undefined) ?? {}, data: payload };
    case 'file':
      return { type: 'file', name: h.name, mimeType: h.mime_type, data: payload };
    case 'link':
      return { type: 'link', name: h.name, url: h.url };
    case 'control': {
      const out: { type: 'control'; method: 'open' | 'close'; statusCode?: number; message?: string } = { type: 'control', method: h.method };
      if (h.method === 'close') out.statusCode = h.status_code ?? 1000;
      else if (h.status_code != null) out.statusCode = h.status_code;
      if (h.message != null) out.message = h.message;
      return out;
    }
  }
}

/**
 * Splits a content value into the header object and payload of its envelope,
 * in the wire shape the official clients read.
 */
export function contentToHeader(content: Content): { header: Record<string, unknown>; payload: Uint8Array } {
  switch (content.type) {
    case 'json':
      return { header: { type: 'json', json: content.json }, payload: EMPTY };
    case 'empty':
      return { header: { type: 'empty' }, payload: EMPTY };
    case 'error':
      return { header: content.code === undefined ? { type: 'error', text: content.text } : { type: 'error', text: content.text, code: content.code }, payload: EMPTY };
    case 'text':
      return { header: { type: 'text', text: content.text }, payload: EMPTY };
    case 'binary':
      return { header: { type: 'binary', headers: content.headers }, payload: content.data };
    case 'file':
      return { header: { type: 'file', name: content.name, mime_type: content.mimeType }, payload: content.data };
    case 'link':
      return { header: { type: 'link', name: content.name, url: content.url }, payload: EMPTY };
    case 'control': {
      const header: Record<string, unknown> = { type: 'control', method: content.method };
      if (content.method === 'close') {
        header.status_code = content.statusCode ?? 1000;
        if (content.message !== undefined) header.message = content.message;
      }
      return { header, payload: EMPTY };
    }
    default:
      throw new CodecError(`unknown content type ${describeValue((content as { type?: unknown }).type)}; expected one of ${CONTENT_TYPES.join(', ')}.`);
  }
}

/**
 * Encodes a content value as envelope bytes.
 *
 * @example
 * ```ts
 * const data = encodeContent({ type: 'error', text: 'the participant was not found', code: 1003 });
 * ```
 */
export function encodeContent(content: Content): Uint8Array {
  const { header, payload } = contentToHeader(content);
  return packEnvelope(header, payload);
}

/** Decodes envelope bytes into a content value; throws {@link CodecError}. */
export function decodeContent(data: Uint8Array, options?: UnpackEnvelopeOptions): Content {
  const { header, payload } = unpackEnvelope(data, options);
  return contentFromHeader(header, payload);
}
