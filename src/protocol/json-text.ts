/**
 * Checks that a string is one JSON text (RFC 8259, exactly what `JSON.parse`
 * accepts) nested no deeper than a limit, without building it: a relayed
 * `message_json` is forwarded as text, so parsing it only to throw the value
 * away turned a 0.9 MB text of 300k empty objects into 300k heap objects and
 * the garbage collections they cost (issue 24). One pass over the
 * characters, no allocation; the body of a string with no backslash or
 * control character in it is skipped by a native search, not walked.
 */

/** The verdict of {@link checkJsonTextShape}. */
export type JsonTextShape = 'ok' | 'invalid' | 'too-deep';

const enum C {
  Tab = 9,
  Newline = 10,
  Return = 13,
  Space = 32,
  Quote = 34,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  UpperE = 69,
  OpenBracket = 91,
  Backslash = 92,
  CloseBracket = 93,
  LowerE = 101,
  OpenBrace = 123,
  CloseBrace = 125,
}

function isWhitespace(c: number): boolean {
  // Most characters are above the space: one comparison settles them.
  return c <= C.Space && (c === C.Space || c === C.Newline || c === C.Return || c === C.Tab);
}

function isDigit(c: number): boolean {
  return c >= C.Zero && c <= C.Nine;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** A backslash or a control character: what a string's body may only hold escaped (or, for `\\`, as an escape). */
const SPECIAL = /[\x00-\x1f\\]/g;

/** The index of the first backslash or control character at or after `from`; the text's length when there is none. */
function nextSpecial(text: string, from: number): number {
  SPECIAL.lastIndex = from;
  return SPECIAL.test(text) ? SPECIAL.lastIndex - 1 : text.length;
}

/**
 * The index after the string whose opening quote is at `i`, or -1.
 * `special` is {@link nextSpecial} at or before `i`: a string that closes
 * before it holds no escape and no control character, so its body is
 * skipped with a native search for the closing quote (the bulk of most
 * texts is string bodies, and a character-by-character walk in JS costs
 * some 25 instructions a character).
 */
function skipString(text: string, i: number, special: number): number {
  const close = text.indexOf('"', i + 1);
  if (close !== -1 && close < special) return close + 1;
  return walkString(text, i);
}

/** {@link skipString} character by character, for a string that holds escapes (or is not closed). */
function walkString(text: string, i: number): number {
  const length = text.length;
  for (i++; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === C.Quote) return i + 1;
    if (c < 0x20) return -1;
    if (c !== C.Backslash) continue;
    const e = text.charCodeAt(++i);
    if (e === 117 /* u */) {
      if (!(isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2)) && isHex(text.charCodeAt(i + 3)) && isHex(text.charCodeAt(i + 4)))) return -1;
      i += 4;
    } else if (e !== C.Quote && e !== C.Backslash && e !== 47 /* / */ && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) return -1;
  }
  return -1;
}

/** The index after the number starting at `i`, or -1. */
function skipNumber(text: string, i: number): number {
  if (text.charCodeAt(i) === C.Minus) i++;
  const first = text.charCodeAt(i);
  if (first === C.Zero) i++;
  else if (isDigit(first)) while (isDigit(text.charCodeAt(++i)));
  else return -1;
  if (text.charCodeAt(i) === C.Dot) {
    if (!isDigit(text.charCodeAt(++i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  const e = text.charCodeAt(i);
  if (e === C.LowerE || e === C.UpperE) {
    const sign = text.charCodeAt(++i);
    if (sign === C.Plus || sign === C.Minus) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(++i)));
  }
  return i;
}

/** The index after `word` at `i`, or -1. */
function skipWord(text: string, i: number, word: string): number {
  return text.startsWith(word, i) ? i + word.length : -1;
}

/** A string with no escape and no control character (a subset of JSON strings). */
const PLAIN_STRING = String.raw`"[^"\\\x00-\x1f]*"`;
const NUMBER = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`;
const FLAT_MEMBER = `${PLAIN_STRING}:(?:${PLAIN_STRING}|${NUMBER}|true|false|null)`;
/**
 * A subset of JSON texts: one object, no whitespace, whose values are plain
 * strings, numbers, booleans or null. What it accepts the walk below accepts
 * too (it is only a shortcut: some 1,500 instructions for a 130-character
 * body where the walk took 3,800); anything else goes to the walk.
 */
const FLAT_OBJECT = new RegExp(`^\\{(?:${FLAT_MEMBER}(?:,${FLAT_MEMBER})*)?\\}$`);
/** Longest text tried with {@link FLAT_OBJECT}: the regex engine's backtrack stack grows with the members. */
const FLAT_OBJECT_MAX_LENGTH = 64 * 1024;

/**
 * Whether `text` is one JSON text (as `JSON.parse` would accept it) with
 * arrays and objects nested at most `maxDepth` deep; `'too-deep'` as soon
 * as the nesting passes the limit, whatever follows.
 */
export function checkJsonTextShape(text: string, maxDepth: number): JsonTextShape {
  // The common message, a flat object of plain values, is settled by one native match.
  if (maxDepth >= 1 && text.length <= FLAT_OBJECT_MAX_LENGTH && FLAT_OBJECT.test(text)) return 'ok';
  const length = text.length;
  // The kind (`{` or `[`) of each open container, by depth: at most maxDepth entries.
  const kinds: number[] = [0];
  let depth = 0;
  let i = 0;
  // Expecting a value (true) or what may follow one (false).
  let wantValue = true;
  // After `{` or `,` in an object: a key must come.
  let wantKey = false;
  // The first backslash or control character not yet passed (see skipString).
  let special = -1;
  for (;;) {
    while (i < length && isWhitespace(text.charCodeAt(i))) i++;
    if (i >= length) return !wantValue && depth === 0 ? 'ok' : 'invalid';
    const c = text.charCodeAt(i);
    if (wantValue) {
      if (wantKey) {
        if (c === C.CloseBrace && lastNonSpace(text, i) === C.OpenBrace) {
          // `{}`: an empty object closes here.
          depth--;
          i++;
          wantValue = false;
          wantKey = false;
          continue;
        }
        if (c !== C.Quote) return 'invalid';
        if (special < i) special = nextSpecial(text, i);
        i = skipString(text, i, special);
        if (i < 0) return 'invalid';
        while (i < length && isWhitespace(text.charCodeAt(i))) i++;
        if (text.charCodeAt(i) !== C.Colon) return 'invalid';
        i++;
        wantKey = false;
        continue;
      }
      if (c === C.OpenBrace || c === C.OpenBracket) {
        if (++depth > maxDepth) return 'too-deep';
        kinds[depth] = c;
        i++;
        if (c === C.OpenBrace) wantKey = true;
        else {
          // `[]`: an empty array closes here.
          let j = i;
          while (j < length && isWhitespace(text.charCodeAt(j))) j++;
          if (text.charCodeAt(j) === C.CloseBracket) {
            depth--;
            i = j + 1;
            wantValue = false;
          }
        }
        continue;
      }
      if (c === C.Quote) {
        if (special < i) special = nextSpecial(text, i);
        i = skipString(text, i, special);
      }
      else if (c === C.Minus || isDigit(c)) i = skipNumber(text, i);
      else if (c === 116 /* t */) i = skipWord(text, i, 'true');
      else if (c === 102 /* f */) i = skipWord(text, i, 'false');
      else if (c === 110 /* n */) i = skipWord(text, i, 'null');
      else return 'invalid';
      if (i < 0) return 'invalid';
      wantValue = false;
      continue;
    }
    // After a value: a comma, a closer, or the end.
    if (depth === 0) return 'invalid';
    const kind = kinds[depth];
    if (c === C.Comma) {
      i++;
      wantValue = true;
      wantKey = kind === C.OpenBrace;
    } else if ((c === C.CloseBrace && kind === C.OpenBrace) || (c === C.CloseBracket && kind === C.OpenBracket)) {
      i++;
      depth--;
    } else return 'invalid';
  }
}

/** The last non-whitespace character before `i`. */
function lastNonSpace(text: string, i: number): number {
  let j = i - 1;
  while (j >= 0 && isWhitespace(text.charCodeAt(j))) j--;
  return text.charCodeAt(j);
}
