/**
 * Verification of an HS256 JSON Web Token (RFC 7519 compact JWS, RFC 7515)
 * on the calling thread: one HMAC-SHA256 over `header.payload`, compared in
 * constant time, then the `exp`/`nbf` claims. The server checks every
 * connection's token with it; WebCrypto's asynchronous verify ran each check
 * on a libuv pool thread, whose malloc arenas kept the join storm's garbage
 * as resident memory (about 12 KiB per participant in a room of 1,000).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a token was refused, as {@link TokenError} reasons. */
export type Hs256Refusal = 'invalid token' | 'invalid signature' | 'token expired' | 'token not yet valid';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A base64url segment's JSON object, or undefined when it is not one. */
function jsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies `token` with `secret` at `nowSeconds` (epoch seconds), allowing
 * `toleranceSeconds` of clock skew: its payload, or why it was refused. The
 * header must name `HS256` and carry no `crit` extension; `exp`, `nbf` and
 * `iat`, when present, must be numbers.
 */
export function verifyHs256(token: string, secret: string | Uint8Array, nowSeconds: number, toleranceSeconds: number): Record<string, unknown> | Hs256Refusal {
  const parts = token.split('.');
  if (parts.length !== 3) return 'invalid token';
  const [head, body, signature] = parts as [string, string, string];
  if (head === '' || body === '' || !BASE64URL.test(head) || !BASE64URL.test(body) || !BASE64URL.test(signature)) return 'invalid token';
  const header = jsonObject(head);
  if (header === undefined || header.alg !== 'HS256' || header.crit !== undefined) return 'invalid token';
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid signature';
  const payload = jsonObject(body);
  if (payload === undefined) return 'invalid token';
  const { exp, nbf, iat } = payload;
  if ((exp !== undefined && typeof exp !== 'number') || (nbf !== undefined && typeof nbf !== 'number') || (iat !== undefined && typeof iat !== 'number')) return 'invalid token';
  if (typeof exp === 'number' && exp <= nowSeconds - toleranceSeconds) return 'token expired';
  if (typeof nbf === 'number' && nbf > nowSeconds + toleranceSeconds) return 'token not yet valid';
  return payload;
}
