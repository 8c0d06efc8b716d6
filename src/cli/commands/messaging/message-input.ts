/**
 * What `send` and `broadcast` send: the `--data` body (any inline JSON value, or a
 * stream of JSON objects from stdin with `--data -`) and the optional
 * `--attachment-file`, all read and checked before connecting.
 */
import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import { parseJsonValue, readJsonObjects, type JsonObject } from '../../json-input.js';
import { usageError } from '../../exit-codes.js';

/** The `--data` and `--attachment-file` options. */
export function messageInputOptions(): Option[] {
  return [
    new Option('--data <json>', 'message body: any JSON value, or - to read JSON objects from stdin (one message each)').makeOptionMandatory(),
    new Option('--attachment-file <path>', 'file whose bytes are sent as the attachment'),
  ];
}

/** The bodies to send, in order, and the attachment. */
export interface MessageInput {
  /** The first body, already read and checked: any JSON value inline, an object from stdin. */
  readonly first: unknown;
  /** The bodies after the first (stdin only); each is checked as it arrives. */
  readonly rest: AsyncIterable<JsonObject>;
  /** The attachment bytes, if any. */
  readonly attachment: Uint8Array | undefined;
}

const NONE: AsyncIterable<JsonObject> = { [Symbol.asyncIterator]: async function* () {} };

/**
 * Reads the attachment and the first body. With `--data -` it waits for the
 * first complete JSON object on stdin (so a bad first value is reported
 * before connecting); later objects stream through `rest`.
 */
export async function readMessageInput(options: { data: string; attachmentFile?: string }, stdin: NodeJS.ReadableStream = process.stdin): Promise<MessageInput> {
  let attachment: Uint8Array | undefined;
  if (options.attachmentFile !== undefined) {
    try {
      attachment = await readFile(options.attachmentFile);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw usageError(`cannot read --attachment-file ${JSON.stringify(options.attachmentFile)} (${reason}).`);
    }
  }
  if (options.data !== '-') return { first: parseJsonValue(options.data, '--data'), rest: NONE, attachment };

  const values = readJsonObjects(stdin, '--data -');
  const first = await values.next();
  if (first.done) throw usageError('--data -: stdin ended without a JSON object.');
  return { first: first.value, rest: { [Symbol.asyncIterator]: () => values }, attachment };
}
