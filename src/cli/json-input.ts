/**
 * Reading message bodies for `--data`: one JSON object given inline, or a
 * stream of JSON objects on stdin (`--data -`), so that
 * `roomstate room messaging listen | jq -c ... | roomstate room messaging send --data -`
 * sends one message per object as they arrive.
 */
import { describeValue } from '../errors.js';
import { usageError } from './exit-codes.js';

/** A JSON object, as sent as a message body. */
export type JsonObject = Record<string, unknown>;

/**
 * Parses `text` as any JSON value (object, array, string, number, boolean
 * or null), as MeshAgent's CLI takes `--data`; throws a usage
 * {@link CliError} that names `source` (e.g. `--data`) otherwise.
 */
export function parseJsonValue(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw usageError(`${source} is not valid JSON (${(error as Error).message}): ${describeValue(text)}.`);
  }
}

/**
 * Parses `text` as a JSON object; throws a usage {@link CliError} that names
 * `source` otherwise.
 */
export function parseJsonObject(text: string, source: string): JsonObject {
  const value = parseJsonValue(text, source);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw usageError(`${source} must be a JSON object, got ${describeValue(value)}.`);
  }
  return value as JsonObject;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\uFEFF']);

/**
 * Splits a character stream into top-level JSON object texts, whatever the
 * chunking: pretty-printed objects spanning lines and several objects on one
 * line both work. Only brackets outside strings count.
 */
export class JsonObjectSplitter {
  private pending = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private count = 0;
  private failure: Error | undefined;

  constructor(private readonly source: string) {}

  /**
   * Feeds a chunk; returns the objects it completes, parsed. A bad value
   * throws, but only after the good objects before it have been returned, so
   * the outcome does not depend on how the input was chunked.
   */
  push(chunk: string): JsonObject[] {
    if (this.failure) throw this.failure;
    const out: JsonObject[] = [];
    try {
      this.scan(chunk, out);
    } catch (error) {
      if (out.length === 0) throw error;
      this.failure = error as Error;
    }
    return out;
  }

  private scan(chunk: string, out: JsonObject[]): void {
    // `pending` holds the unfinished object, from its opening brace.
    let start = this.depth > 0 ? 0 : -1;
    const text = this.pending + chunk;
    // Resume scanning where the previous chunk stopped.
    for (let i = this.pending.length; i < text.length; i++) {
      const c = text[i];
      if (this.depth === 0) {
        if (WHITESPACE.has(c)) continue;
        if (c !== '{') {
          throw usageError(`${this.source}: value ${this.count + 1} must be a JSON object, got ${describeValue(text.slice(i, i + 40).trimEnd())}.`);
        }
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          this.count++;
          out.push(parseJsonObject(text.slice(start, i + 1), `${this.source} value ${this.count}`));
          start = -1;
        }
      }
    }
    this.pending = start >= 0 ? text.slice(start) : '';
  }

  /** Call at end of input; throws if an object was left unfinished. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.depth > 0) {
      throw usageError(`${this.source}: input ended inside JSON value ${this.count + 1}: ${describeValue(this.pending)}.`);
    }
  }

  /** How many objects have been completed so far. */
  get objects(): number {
    return this.count;
  }
}

/**
 * Yields the JSON objects read from a text stream (normally stdin) as each
 * one completes. Throws a usage {@link CliError} at the first bad value.
 */
export async function* readJsonObjects(stream: NodeJS.ReadableStream, source: string): AsyncGenerator<JsonObject> {
  const splitter = new JsonObjectSplitter(source);
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    yield* splitter.push(chunk as string);
  }
  splitter.end();
}
