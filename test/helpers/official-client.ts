/**
 * Loading and driving the official MeshAgent npm client (`@meshagent/meshagent`
 * 0.39.9) in interop tests.
 *
 * The package's ESM build is CommonJS marked as a module, so it is loaded with
 * `require`. Its types come from the package's own declarations. Its known
 * bugs (docs/interop.md#known-bugs-of-the-official-npm-client) are worked around here, never in the server:
 * process-level handlers record stray errors so a test can assert there were
 * none, and the MESHAGENT_* variables that override explicit settings are
 * cleared.
 */
import { createRequire } from 'node:module';
import type * as Mesh from '@meshagent/meshagent';
import { isPresenceType } from '../../src/protocol/presence.js';
import { Recorder, waitUntil, type WaitOptions } from './recorder.js';

/** The official client's module type. */
export type MeshagentModule = typeof Mesh;

/** The official client, loaded through `require` (its ESM build is broken). */
export const meshagent: MeshagentModule = createRequire(import.meta.url)('@meshagent/meshagent') as MeshagentModule;

/**
 * Environment variables the official client reads; `MESHAGENT_API_KEY` even
 * overrides an explicit signing secret, so tests must run without them.
 */
export const MESHAGENT_ENV_VARS: readonly string[] = [
  'MESHAGENT_API_KEY',
  'MESHAGENT_SECRET',
  'MESHAGENT_ROOM_URL',
  'MESHAGENT_API_URL',
  'MESHAGENT_TOKEN',
  'MESHAGENT_ROOM',
];

/** Removes every {@link MESHAGENT_ENV_VARS} entry from `process.env`. */
export function clearMeshagentEnv(): void {
  for (const name of MESHAGENT_ENV_VARS) delete process.env[name];
}

/** Errors that reached the process-level handlers while installed. */
export interface ProcessGuard {
  /** Unhandled rejections and uncaught exceptions, in arrival order. */
  readonly errors: unknown[];
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * Installs `unhandledRejection` and `uncaughtException` handlers, as
 * docs/interop.md#known-bugs-of-the-official-npm-client advises, and records what reaches them.
 * Interop tests assert `errors` is empty at the end: against a correct server
 * the client's crash paths must never be taken.
 */
export function installProcessGuard(): ProcessGuard {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    dispose() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}

/** Options of {@link mintOfficialToken}. */
export interface OfficialTokenOptions {
  secret: string;
  room: string;
  name: string;
  /** A role grant ("agent", "tool"); none when absent. */
  role?: string;
  /** The messaging grant; `null` for a token without an `api` grant. */
  messaging?: Mesh.MessagingGrant | null;
  /** Expiry time; none when absent. */
  expiration?: Date;
}

/**
 * Mints a participant token with the official client's own `ParticipantToken`:
 * a room grant, an optional role grant and `api.messaging`.
 */
export async function mintOfficialToken(options: OfficialTokenOptions): Promise<string> {
  const token = new meshagent.ParticipantToken({ name: options.name });
  token.addRoomGrant(options.room);
  if (options.role) token.addRoleGrant(options.role);
  if (options.messaging !== null) {
    token.addApiGrant(new meshagent.ApiScope({ messaging: options.messaging ?? new meshagent.MessagingGrant() }));
  }
  return token.toJwt({ token: options.secret, expiration: options.expiration });
}

/** The URL of a room under a server's base URL, as the official client builds it. */
export function roomUrl(baseUrl: string, room: string): string {
  return meshagent.websocketRoomUrl({ roomName: room, apiUrl: baseUrl });
}

/** A presence change seen by an official client's MessagingClient. */
export interface OfficialPresenceEvent {
  readonly kind: 'messaging_enabled' | 'participant_added' | 'participant_removed' | 'participant_attributes_updated';
  readonly message: Mesh.RoomMessage;
}

/** Options of {@link OfficialPeer.connect}. */
export interface OfficialPeerOptions {
  /** The server's base URL, e.g. `ws://127.0.0.1:1234`. */
  baseUrl: string;
  room: string;
  name: string;
  secret: string;
  role?: string;
  /** The token's messaging grant; `null` for none (see {@link mintOfficialToken}). */
  messaging?: Mesh.MessagingGrant | null;
  /**
   * Reconnect budget in ms handed to the RoomClient; 0 turns reconnecting off
   * so a lost connection ends the client instead of retrying forever.
   * @defaultValue 0
   */
  reconnectTimeout?: number | null;
}

/**
 * One official RoomClient with everything it reports recorded: user messages,
 * presence changes and room status events.
 */
export class OfficialPeer {
  /** User messages (presence pushes excluded), in arrival order. */
  readonly messages = new Recorder<Mesh.RoomMessage>();
  /** Every `messaging.send` push, presence included. */
  readonly pushes = new Recorder<Mesh.RoomMessage>();
  /** Presence changes reported by the MessagingClient. */
  readonly presence = new Recorder<OfficialPresenceEvent>();

  private constructor(
    /** The official client. */
    readonly client: Mesh.RoomClient,
    /** The participant name in the token. */
    readonly name: string,
  ) {
    const messaging = client.messaging;
    messaging.on('message', (event: Mesh.RoomMessageEvent) => {
      this.pushes.push(event.message);
      if (!isPresenceType(event.message.type)) this.messages.push(event.message);
    });
    for (const kind of ['messaging_enabled', 'participant_added', 'participant_removed', 'participant_attributes_updated'] as const) {
      messaging.on(kind, (event: Mesh.RoomMessageEvent) => this.presence.push({ kind, message: event.message }));
    }
  }

  /** Records what an already constructed (not yet started) official client reports. */
  static wrap(client: Mesh.RoomClient, name: string): OfficialPeer {
    return new OfficialPeer(client, name);
  }

  /** Mints a token with the official client, connects and waits for `start()`. */
  static async connect(options: OfficialPeerOptions): Promise<OfficialPeer> {
    const token = await mintOfficialToken({ secret: options.secret, room: options.room, name: options.name, role: options.role, messaging: options.messaging });
    const client = new meshagent.RoomClient({
      protocolFactory: meshagent.WebSocketClientProtocol.createFactory({ url: roomUrl(options.baseUrl, options.room), token }),
      reconnectTimeout: options.reconnectTimeout === undefined ? 0 : options.reconnectTimeout,
    });
    const peer = new OfficialPeer(client, options.name);
    await client.start();
    return peer;
  }

  /** The local participant id the server assigned. */
  get id(): string {
    const local = this.client.localParticipant;
    if (!local) throw new Error(`official client ${this.name} has no local participant.`);
    return local.id;
  }

  /** Enables messaging and waits until the server's `messaging.enabled` arrived. */
  async enable(options: WaitOptions = {}): Promise<void> {
    const before = this.presence.filter((e) => e.kind === 'messaging_enabled').length;
    this.client.messaging.enable();
    await this.presence.waitForCount((e) => e.kind === 'messaging_enabled', before + 1, {
      what: `messaging.enabled for ${this.name}`,
      ...options,
    });
  }

  /** Waits until the presence map holds a participant with this name, and returns it. */
  async participantByName(name: string, options: WaitOptions = {}): Promise<Mesh.RemoteParticipant> {
    const lookUp = (): Mesh.RemoteParticipant | null => this.client.messaging.getParticipantByName(name);
    await waitUntil(() => lookUp() !== null, { what: `${this.name} to see ${name}`, ...options });
    return lookUp() as Mesh.RemoteParticipant;
  }

  /** Waits until no participant with this name is in the presence map. */
  async participantGone(name: string, options: WaitOptions = {}): Promise<void> {
    await waitUntil(() => this.client.messaging.getParticipantByName(name) === null, {
      what: `${this.name} to stop seeing ${name}`,
      ...options,
    });
  }

  /** The names of the remote participants currently in presence, sorted. */
  presentNames(): string[] {
    return this.client.messaging
      .getParticipants()
      .map((p) => String(p.getAttribute('name')))
      .sort();
  }

  /** Leaves the room: disposes the client (close code 1000) and waits for it to finish. */
  async leave(): Promise<void> {
    if (this.client.isClosed) return;
    this.client.dispose();
    await this.client.waitForClose();
    this.messages.close(new Error(`official client ${this.name} left`));
    this.pushes.close(new Error(`official client ${this.name} left`));
    this.presence.close(new Error(`official client ${this.name} left`));
  }
}
