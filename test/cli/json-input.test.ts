import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonObjectSplitter, parseJsonObject, readJsonObjects } from '../../src/cli/json-input.js';
import { CliError } from '../../src/cli/exit-codes.js';
import { parseDurationMs } from '../../src/cli/duration.js';
import { normaliseBaseUrl } from '../../src/cli/connection-options.js';

function usage(fn: () => unknown): CliError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(1);
    return error as CliError;
  }
  throw new Error('expected a usage error');
}

describe('parseJsonObject', () => {
  it('parses an object', () => {
    expect(parseJsonObject('{"text":"hi","n":[1]}', '--data')).toEqual({ text: 'hi', n: [1] });
  });

  it.each([
    ['{"text":', /^--data is not valid JSON \(.+\): "\{\\"text\\":"\.$/],
    ['hello', /^--data is not valid JSON/],
    ['[1,2]', /^--data must be a JSON object, got \[1,2\]\.$/],
    ['"x"', /^--data must be a JSON object, got "x"\.$/],
    ['null', /^--data must be a JSON object, got null\.$/],
  ])('refuses %s', (text, message) => {
    expect(usage(() => parseJsonObject(text, '--data')).message).toMatch(message);
  });
});

describe('JsonObjectSplitter', () => {
  it('splits NDJSON, pretty-printed objects and several objects on one line', () => {
    const splitter = new JsonObjectSplitter('stdin');
    const out = [
      ...splitter.push('{"a":1}\n{"b":'),
      ...splitter.push('\n  {"c": "}{\\"]"}\n}{"d":[{}]} \n'),
      ...splitter.push('\uFEFF{"e":null}'),
    ];
    splitter.end();
    expect(out).toEqual([{ a: 1 }, { b: { c: '}{"]' } }, { d: [{}] }, { e: null }]);
    expect(splitter.objects).toBe(4);
  });

  it('property: any chunking of a stream of objects yields the same objects', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), { maxLength: 6 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        (objects, pretty, cuts) => {
          const text = objects.map((o) => JSON.stringify(o, null, pretty ? 2 : 0)).join('\n');
          const positions = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const splitter = new JsonObjectSplitter('stdin');
          const out: unknown[] = [];
          let last = 0;
          for (const p of [...positions, text.length]) {
            out.push(...splitter.push(text.slice(last, p)));
            last = p;
          }
          splitter.end();
          expect(out).toEqual(objects.map((o) => JSON.parse(JSON.stringify(o))));
        },
      ),
    );
  });

  it('refuses a top-level non-object, after returning the good objects before it', () => {
    const splitter = new JsonObjectSplitter('--data -');
    expect(splitter.push('{"a":1} [1]\n')).toEqual([{ a: 1 }]);
    expect(usage(() => splitter.end()).message).toBe('--data -: value 2 must be a JSON object, got "[1]".');
    expect(usage(() => splitter.push('{"b":2}')).message).toMatch(/value 2 must be a JSON object/);
    expect(usage(() => new JsonObjectSplitter('x').push('  42')).message).toBe('x: value 1 must be a JSON object, got "42".');
  });

  it('refuses an invalid object, naming its position, whatever the chunking', () => {
    const whole = new JsonObjectSplitter('--data -');
    expect(whole.push('{"a":1}{b}')).toEqual([{ a: 1 }]);
    expect(usage(() => whole.end()).message).toMatch(/^--data - value 2 is not valid JSON/);
    const split = new JsonObjectSplitter('--data -');
    expect(split.push('{"a":1}')).toEqual([{ a: 1 }]);
    expect(usage(() => split.push('{b}')).message).toMatch(/^--data - value 2 is not valid JSON/);
  });

  it('refuses input that ends inside an object', () => {
    const splitter = new JsonObjectSplitter('--data -');
    splitter.push('{"a":');
    expect(usage(() => splitter.end()).message).toBe('--data -: input ended inside JSON value 1: "{\\"a\\":".');
  });

  it('readJsonObjects yields objects from a stream split inside a multi-byte character', async () => {
    const bytes = Buffer.from('{"t":"é😀"}\n{"u":2}', 'utf8');
    const stream = Readable.from([bytes.subarray(0, 8), bytes.subarray(8)], { objectMode: false });
    const out: unknown[] = [];
    for await (const value of readJsonObjects(stream, 'stdin')) out.push(value);
    expect(out).toEqual([{ t: 'é😀' }, { u: 2 }]);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['90', 90_000],
    ['0', 0],
    ['1.5h', 5_400_000],
    ['250ms', 250],
  ])('%s -> %i ms', (text, ms) => {
    expect(parseDurationMs(text, '--ttl')).toBe(ms);
  });

  it.each(['', '1x', '-5s', 'h', '1 h h', '1e3'])('refuses %j', (text) => {
    expect(usage(() => parseDurationMs(text, '--ttl')).message).toMatch(/^--ttl ".*" is not a duration; use a number of seconds/);
  });
});

describe('normaliseBaseUrl', () => {
  it.each([
    ['ws://127.0.0.1:8080', 'ws://127.0.0.1:8080'],
    ['ws://127.0.0.1:8080/', 'ws://127.0.0.1:8080'],
    ['http://localhost:8078', 'ws://localhost:8078'],
    ['https://api.example.com/base/', 'wss://api.example.com/base'],
    ['wss://h', 'wss://h'],
    ['ws://h/base/?v=1', 'ws://h/base?v=1'],
  ])('%s -> %s', (input, output) => {
    expect(normaliseBaseUrl(input)).toBe(output);
  });

  it.each([
    ['nope', /is not a URL/],
    ['ftp://h', /must use ws:, wss:, http: or https:/],
    ['ws://h/#frag', /must not have a #fragment/],
  ])('refuses %s', (input, message) => {
    expect(usage(() => normaliseBaseUrl(input)).message).toMatch(message);
  });
});
