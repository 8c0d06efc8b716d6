/**
 * Participant tokens: HS256 JWTs in the MeshAgent shape, minted and verified
 * with `jose`. Works in Node and browsers (no Node built-ins).
 */
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { RoomStateError, RoomStateErrorCode } from '../errors.js';

/** The roles a participant can have. Other strings are passed through. */
export type ParticipantRole = 'user' | 'agent' | 'tool' | (string & {});

/** One grant of a participant token. */
export interface ParticipantGrant {
  readonly name: string;
  readonly scope: unknown;
}

/** What the `api.messaging` grant allows; every action defaults to allowed. */
export interface MessagingPermissions {
  readonly send: boolean;
  readonly broadcast: boolean;
  readonly list: boolean;
}

/** A verified token, reduced to what the room needs. */
export interface VerifiedToken {
  /** The `name` claim, published as the `name` attribute. */
  readonly name: string;
  /** The role: the first `role` grant that is not "user", else "user". */
  readonly role: ParticipantRole;
  /** The room named by the `room` grant. */
  readonly room: string;
  /** Messaging permissions, or `undefined` when the token has no `api.messaging` grant. */
  readonly messaging: MessagingPermissions | undefined;
  /** All claims of the payload. */
  readonly claims: Record<string, unknown>;
  /**
   * When the token expires (its `exp`), in milliseconds since the epoch;
   * `undefined` for a token without `exp`. The server closes a session at
   * this time with 4001 "token expired".
   */
  readonly expiresAt: number | undefined;
}

/** Options of {@link mintToken}. */
export interface MintTokenOptions {
  /** The shared HS256 secret. */
  secret: string;
  /** The room the token admits to. */
  room: string;
  /** The participant's name. */
  name: string;
  /**
   * The participant's role.
   * @defaultValue 'user'
   */
  role?: ParticipantRole;
  /**
   * Lifetime in seconds; `undefined` or 0 for a token without `exp`.
   * @defaultValue 3600
   */
  ttlSeconds?: number;
  /**
   * Messaging actions to turn off (all are on by default), or `false` for no
   * messaging grant at all.
   */
  messaging?: Partial<MessagingPermissions> | false;
  /** Extra claims to include (e.g. `sub`, `kid`). */
  extraClaims?: Record<string, unknown>;
}

/** Version string written into minted tokens, as the official SDK does. */
export const TOKEN_VERSION = '0.36.3';

/**
 * Mints a participant token that roomstate and the official MeshAgent clients accept.
 *
 * @example
 * ```ts
 * const token = await mintToken({ secret, room: 'myroom', name: 'alice' });
 * ```
 */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  if (!options.secret) throw new RoomStateError(RoomStateErrorCode.Auth, 'a token needs a non-empty secret.');
  if (!options.name) throw new RoomStateError(RoomStateErrorCode.Auth, 'a token needs a non-empty participant name.');
  if (!options.room) throw new RoomStateError(RoomStateErrorCode.Auth, 'a token needs a non-empty room name.');
  const grants: ParticipantGrant[] = [{ name: 'room', scope: options.room }];
  const role = options.role ?? 'user';
  if (role !== 'user') grants.push({ name: 'role', scope: role });
  if (options.messaging !== false) {
    const messaging: Record<string, boolean> = {};
    for (const key of ['broadcast', 'list', 'send'] as const) {
      if (options.messaging?.[key] === false) messaging[key] = false;
    }
    grants.push({ name: 'api', scope: { messaging } });
  }
  return sign({ ...options.extraClaims, name: options.name, grants, version: TOKEN_VERSION }, options.secret, options.ttlSeconds);
}

/** Signs `payload` with HS256; `ttlSeconds` (default 3600; 0 for none) sets `exp`. */
export function sign(payload: Record<string, unknown>, secret: string, ttlSeconds = 3600): Promise<string> {
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' });
  if (ttlSeconds > 0) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + Math.ceil(ttlSeconds));
  return jwt.sign(new TextEncoder().encode(secret));
}

/** Name of the grant that admin tokens carry. */
export const ADMIN_GRANT = 'admin';

/**
 * What an admin token allows: `console` opens the live console and may send
 * client inspection events; `inspect` may only send inspection events.
 */
export type AdminScope = 'console' | 'inspect';

/** Options of {@link mintAdminToken}. */
export interface MintAdminTokenOptions {
  /** The server's HS256 secret. */
  secret: string;
  /**
   * What the token allows.
   * @defaultValue 'console'
   */
  scope?: AdminScope;
  /**
   * Who holds it (the `name` claim, shown in logs).
   * @defaultValue 'admin'
   */
  name?: string;
  /**
   * Lifetime in seconds; 0 for a token without `exp`.
   * @defaultValue 3600
   */
  ttlSeconds?: number;
}

/**
 * Mints an admin token: a JWT with an `admin` grant and no `room` grant, so
 * no room accepts it as a participant.
 *
 * @example
 * ```ts
 * const token = await mintAdminToken({ secret }); // opens /console
 * ```
 */
export async function mintAdminToken(options: MintAdminTokenOptions): Promise<string> {
  if (!options.secret) throw new RoomStateError(RoomStateErrorCode.Auth, 'an admin token needs a non-empty secret.');
  const grants: ParticipantGrant[] = [{ name: ADMIN_GRANT, scope: options.scope ?? 'console' }];
  return sign({ name: options.name ?? 'admin', grants, version: TOKEN_VERSION }, options.secret, options.ttlSeconds);
}

/** A verified admin token. */
export interface VerifiedAdminToken {
  readonly name: string;
  readonly scope: AdminScope;
}

/** Why a token was refused; stable strings, safe to show (they never echo the token). */
export type TokenRefusal =
  | 'missing token'
  | 'token too large'
  | 'invalid token'
  | 'invalid signature'
  | 'token expired'
  | 'token not yet valid'
  | 'token has no name'
  | 'token is not for this room'
  | 'token has no admin grant'
  | 'token is not an API key'
  | 'API key is not for this project';

/** Thrown by {@link verifyToken}; `reason` is a short, safe refusal. */
export class TokenError extends RoomStateError {
  /** The short reason, used as the HTTP status text at the upgrade. */
  readonly reason: TokenRefusal;

  constructor(reason: TokenRefusal, options?: { cause?: unknown }) {
    super(RoomStateErrorCode.Auth, `${reason}.`, options);
    this.name = 'TokenError';
    this.reason = reason;
  }
}

/** Options of {@link verifyToken}. */
export interface VerifyTokenOptions {
  /** The shared HS256 secret. */
  secret: string | Uint8Array;
  /** The room the connection asks for; the token's `room` grant must equal it. */
  room: string;
  /**
   * Largest token accepted, in characters.
   * @defaultValue 8192
   */
  maxTokenLength?: number;
  /**
   * Clock tolerance for `exp`/`nbf`, in seconds.
   * @defaultValue 0
   */
  clockToleranceSeconds?: number;
}

/** Reads the role from grants: the first `role` grant whose scope is not "user". */
export function roleFromGrants(grants: readonly ParticipantGrant[]): ParticipantRole {
  for (const grant of grants) {
    if (grant.name === 'role' && typeof grant.scope === 'string' && grant.scope !== 'user') return grant.scope;
  }
  return 'user';
}

/** Reads `api.messaging` permissions from grants; `undefined` when absent. */
export function messagingFromGrants(grants: readonly ParticipantGrant[]): MessagingPermissions | undefined {
  const api = grants.find((g) => g.name === 'api')?.scope;
  if (api === null || typeof api !== 'object') return undefined;
  const messaging = (api as Record<string, unknown>).messaging;
  if (messaging === null || typeof messaging !== 'object') return undefined;
  const m = messaging as Record<string, unknown>;
  return permissionsOf(m.send !== false, m.broadcast !== false, m.list !== false);
}

/** The eight possible permission sets, each one frozen object that every session with it shares. */
const PERMISSIONS: readonly MessagingPermissions[] = Array.from({ length: 8 }, (_, bits) =>
  Object.freeze({ send: (bits & 1) !== 0, broadcast: (bits & 2) !== 0, list: (bits & 4) !== 0 }),
);

function permissionsOf(send: boolean, broadcast: boolean, list: boolean): MessagingPermissions {
  return PERMISSIONS[(send ? 1 : 0) | (broadcast ? 2 : 0) | (list ? 4 : 0)];
}

/** The well-formed grants (`{ name: string, scope }`) of a payload's `grants` claim. */
export function asGrants(value: unknown): ParticipantGrant[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (g): g is ParticipantGrant => g !== null && typeof g === 'object' && typeof (g as { name?: unknown }).name === 'string',
  );
}

/** Checks size, HS256 signature and `exp`/`nbf`; the payload, or a {@link TokenError}. */
export async function verifiedPayload(token: string | undefined, options: Omit<VerifyTokenOptions, 'room'>): Promise<Record<string, unknown>> {
  if (!token) throw new TokenError('missing token');
  if (token.length > (options.maxTokenLength ?? 8192)) throw new TokenError('token too large');
  const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], clockTolerance: options.clockToleranceSeconds ?? 0 });
    return payload;
  } catch (cause) {
    if (cause instanceof joseErrors.JWTExpired) throw new TokenError('token expired', { cause });
    if (cause instanceof joseErrors.JWTClaimValidationFailed && cause.claim === 'nbf') throw new TokenError('token not yet valid', { cause });
    if (cause instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenError('invalid signature', { cause });
    throw new TokenError('invalid token', { cause });
  }
}

/**
 * Verifies a participant token for a room: HS256 signature, `exp`/`nbf`, a
 * non-empty `name`, and a `room` grant equal to `room`. Throws a
 * {@link TokenError} with a short reason otherwise.
 */
export async function verifyToken(token: string | undefined, options: VerifyTokenOptions): Promise<VerifiedToken> {
  const payload = await verifiedPayload(token, options);
  if (typeof payload.name !== 'string' || payload.name.length === 0) throw new TokenError('token has no name');
  const grants = asGrants(payload.grants);
  // Room names are compared in NFC, the form the server normalises request paths to.
  if (!grants.some((g) => g.name === 'room' && typeof g.scope === 'string' && g.scope.normalize('NFC') === options.room.normalize('NFC'))) {
    throw new TokenError('token is not for this room');
  }
  return {
    name: payload.name,
    role: roleFromGrants(grants),
    room: options.room,
    messaging: messagingFromGrants(grants),
    claims: payload,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
  };
}

/**
 * Verifies an admin token that allows `need`: signature, `exp`/`nbf`, and an
 * `admin` grant whose scope is `console`, or `inspect` when only `inspect` is
 * needed. Participant tokens are refused with "token has no admin grant".
 */
export async function verifyAdminToken(token: string | undefined, need: AdminScope, options: Omit<VerifyTokenOptions, 'room'>): Promise<VerifiedAdminToken> {
  const payload = await verifiedPayload(token, options);
  const scope = asGrants(payload.grants).find((grant) => grant.name === ADMIN_GRANT)?.scope;
  if (scope !== 'console' && !(scope === 'inspect' && need === 'inspect')) throw new TokenError('token has no admin grant');
  return { name: typeof payload.name === 'string' ? payload.name : 'admin', scope };
}
