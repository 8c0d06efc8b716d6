/**
 * checkJsonTextShape accepts exactly what JSON.parse accepts (tables of edge
 * cases, and JSON.parse as the oracle over generated texts and mutations of
 * them) and reports nesting past the limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonTextShape } from '../../src/protocol/json-text.js';

function oracle(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const valid = [
  '0', '-0', '1.5e+3', '-12.25E-2', '"a\\u00e9\\n\\"\\\\\\/"', 'true', 'false', 'null', ' [ ] ', '{}', '{ }', '[[],{}]',
  '{"a":[1,{"b":null}],"c":"d"}', ' \t\r\n1\n', '"\ud800"', '[' + '{},'.repeat(1000) + '{}]',
  // Flat objects (the native shortcut) and strings whose body is skipped natively.
  '{"s":100123,"t":1234.5678,"p":"xxxx"}', '{"a":true,"b":false,"c":null,"d":-0.5e-3,"e":""}', '{"a":"\ud800"}', '["plain","with \\n escape","plain again"]',
];
const invalid = [
  '', ' ', '01', '-', '1.', '.5', '1e', '+1', 'tru', 'nul', 'True', '[1,]', '[,1]', '{,}', '{"a":1,}', '{"a"}', '{"a" 1}', '{1:2}',
  '[1 2]', '"\\x"', '"\\u12"', '"a', '"\t"', '[', ']', '{"a":1]', '[1}', '1 2', '{}{}', "'a'", 'NaN', '[1,,2]', '{"a":1,,"b":2}', '\u00a01',
  '{"a":01}', '{"a":1.}', '{"a":-}', '{"a":"\u0001"}', '{"a":"\\"}', '{"a":1}}', '{"a":1,"b"}', '["a","b\u0001"]',
];

describe('checkJsonTextShape', () => {
  it.each(valid)('accepts %j', (text) => {
    expect(oracle(text)).toBe(true);
    expect(checkJsonTextShape(text, 64)).toBe('ok');
  });

  it.each(invalid)('refuses %j', (text) => {
    expect(oracle(text)).toBe(false);
    expect(checkJsonTextShape(text, 64)).toBe('invalid');
  });

  it('reports nesting past the limit, and accepts it at the limit', () => {
    expect(checkJsonTextShape('['.repeat(64) + ']'.repeat(64), 64)).toBe('ok');
    expect(checkJsonTextShape('['.repeat(65) + ']'.repeat(65), 64)).toBe('too-deep');
    expect(checkJsonTextShape('{"a":'.repeat(65) + '1' + '}'.repeat(65), 64)).toBe('too-deep');
    // Brackets inside strings do not nest.
    expect(checkJsonTextShape(`["${'['.repeat(100)}"]`, 64)).toBe('ok');
  });

  it('agrees with JSON.parse on generated texts and their mutations', () => {
    const texts = fc.oneof(
      fc.json({ depthSize: 'medium' }),
      fc.json().chain((json) =>
        fc.tuple(fc.nat({ max: json.length }), fc.constantFrom('', ',', ']', '}', '"', ':', ' ', '0', '-', '.', 'e', '\\', '{', '[', 'x')).map(([at, insert]) => json.slice(0, at) + insert + json.slice(at + 1)),
      ),
      fc.string({ unit: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '1', '-', '.', 'e', ' ', 'n', 'u', 'l', '\\') }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        expect(checkJsonTextShape(text, 1000) === 'ok').toBe(oracle(text));
      }),
      { numRuns: 5000 },
    );
  });
});
