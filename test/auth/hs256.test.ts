import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { verifyHs256 } from '../../src/auth/hs256.js';

const secret = 'hs256-test-secret';
const key = new TextEncoder().encode(secret);
const NOW = 1_800_000_000;

const signed = (payload: Record<string, unknown>): Promise<string> => new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(key);

/** A token signed with the secret whatever its header and payload (jose signs only what it would accept). */
function handSigned(header: string, payload: string): string {
  const head = base64url.encode(header);
  const body = base64url.encode(payload);
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

describe('verifyHs256', () => {
  it('returns the payload of a token jose signed, with the secret as a string or bytes', async () => {
    const token = await signed({ name: 'a', exp: NOW + 60, nbf: NOW - 60, iat: NOW });
    expect(verifyHs256(token, secret, NOW, 0)).toEqual({ name: 'a', exp: NOW + 60, nbf: NOW - 60, iat: NOW });
    expect(verifyHs256(token, key, NOW, 0)).toMatchObject({ name: 'a' });
  });

  it.each([
    ['expired at exp', { exp: NOW }, 0, 'token expired'],
    ['within the tolerance after exp', { exp: NOW - 5 }, 10, { exp: NOW - 5 }],
    ['before nbf', { nbf: NOW + 1 }, 0, 'token not yet valid'],
    ['within the tolerance before nbf', { nbf: NOW + 5 }, 10, { nbf: NOW + 5 }],
    ['a string exp', { exp: String(NOW + 60) }, 0, 'invalid token'],
    ['a string iat', { iat: 'now' }, 0, 'invalid token'],
  ])('%s', async (_what, payload, tolerance, expected) => {
    expect(verifyHs256(await signed(payload), secret, NOW, tolerance)).toEqual(expected);
  });

  it('refuses another secret, a tampered payload, alg none, a crit header and malformed input', async () => {
    const token = await signed({ name: 'a' });
    const [head, , signature] = token.split('.');
    expect(verifyHs256(token, 'another', NOW, 0)).toBe('invalid signature');
    expect(verifyHs256(`${head}.${base64url.encode('{"name":"admin"}')}.${signature}`, secret, NOW, 0)).toBe('invalid signature');
    expect(verifyHs256(`${base64url.encode('{"alg":"none"}')}.${base64url.encode('{"name":"a"}')}.`, secret, NOW, 0)).toBe('invalid token');
    expect(verifyHs256(handSigned('{"alg":"HS256","crit":["x"],"x":1}', '{"name":"a"}'), secret, NOW, 0)).toBe('invalid token');
    expect(verifyHs256(`${token}.x`, secret, NOW, 0)).toBe('invalid token');
    expect(verifyHs256(token.replace('.', '.+'), secret, NOW, 0)).toBe('invalid token');
    expect(verifyHs256('not.a.jwt', secret, NOW, 0)).toBe('invalid token');
  });

  it('refuses a correctly signed payload that is not a JSON object', () => {
    expect(verifyHs256(handSigned('{"alg":"HS256"}', '[1,2]'), secret, NOW, 0)).toBe('invalid token');
    expect(verifyHs256(handSigned('{"alg":"HS256"}', 'not json'), secret, NOW, 0)).toBe('invalid token');
  });
});
