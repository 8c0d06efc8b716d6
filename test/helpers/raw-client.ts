/**
 * The raw protocol client for tests, built on {@link WireConnection} (the
 * codec over `ws`, shared with the bench's lean driver). It speaks the wire protocol with no client-library logic in between, so a
 * test sees exactly what the server sends: every message in order
 * ({@link RawClient.received}), the user messages relayed to it
 * ({@link RawClient.messages}), a presence view rebuilt from the pushes as
 * the protocol defines it, full control of frames and ids, and the
 * underlying socket (to pause or destroy it).
 *
 * @example
 * ```ts
 * const alice = await connectRaw(url, 'room1', token);
 * await alice.invoke('enable', {});
 * await alice.waitForPush('messaging.enabled');
 * const reply = await alice.invoke('send', { to_participant_id: bob.participantId, type: 't', message_json: '{}' });
 * expect(reply).toEqual({ type: 'empty' });
 * await alice.close();
 * ```
 */
import type { Socket } from 'node:net';
import { WebSocket, type ClientOptions } from 'ws';
import { mintToken, type MintTokenOptions } from '../../src/auth/token.js';
import { isPresenceType } from '../../src/protocol/presence.js';
import { TOKEN_QUERY_PARAMETER, TOKEN_SUBPROTOCOL_PREFIX, roomUrlUnder } from '../../src/protocol/room-url.js';
import { requireTcpSocket } from '../../src/ws-internals.js';
import {
  MessageType,
  MessagingControlType,
  decodeContent,
  encodeInvoke,
  messageArguments,
  packEnvelope,
  unpackEnvelope,
  type Content,
  type MessageId,
  type ProtocolMessage,
} from '../../src/protocol/index.js';
import { Recorder, type WaitOptions } from './recorder.js';
import { WireConnection } from './wire-connection.js';

/** Default deadline of every wait, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** One message received from the server, decoded as far as possible. */
export interface ReceivedMessage extends ProtocolMessage {
  /** The envelope header, when the data is a valid envelope. */
  readonly header?: Record<string, unknown>;
  /** The envelope payload, when the data is a valid envelope. */
  readonly payload?: Uint8Array;
}

/** A `messaging.send` push, decoded. */
export interface MessagingPush {
  /** The push's message id. */
  readonly id: number;
  /** `from_participant_id`. */
  readonly from: string;
  /** The message `type` (user type or presence control type). */
  readonly type: string;
  /** The parsed `message`. */
  readonly message: unknown;
  /** The attachment bytes (empty when none). */
  readonly attachment: Uint8Array;
}

/** A remote participant in a {@link RawClient.presence} view. */
export interface PresenceEntry {
  readonly role: string;
  attributes: Record<string, unknown>;
}

/** How the connection ended. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** Options of {@link connectRaw}. */
export interface ConnectRawOptions {
  /**
   * Where to put the token.
   * @defaultValue 'query'
   */
  via?: 'query' | 'bearer' | 'subprotocol';
  /** Extra request headers (e.g. `Origin`). */
  headers?: Record<string, string>;
  /** Extra subprotocols to offer. */
  protocols?: string[];
  /** Extra query string, appended as is (without `?`/`&`), e.g. `v=1.0`. */
  query?: string;
  /**
   * Wait for `room_ready` and `connected` before resolving.
   * @defaultValue true
   */
  waitForReady?: boolean;
  /** Extra `ws` client options (e.g. `perMessageDeflate`). */
  wsOptions?: ClientOptions;
  /**
   * Deadline for the handshake, in ms.
   * @defaultValue 5000
   */
  timeoutMs?: number;
}

interface Waiter {
  predicate: (message: ReceivedMessage) => boolean;
  resolve: (message: ReceivedMessage) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A raw protocol connection. Every message from the server goes into a
 * queue unless a pending {@link RawClient.request} claims it as its response;
 * {@link RawClient.waitFor} takes the first queued match or waits for one, so
 * nothing is missed however late the wait starts.
 */
export class RawClient {
  /** Frames received as text (the server must never send one). */
  textFrames = 0;
  /** Frames the client could not reassemble. */
  readonly codecErrors: string[] = [];
  /** Protocol violations by the server (text frames, bad framing); a correct server causes none. */
  readonly violations: string[] = [];
  /** Every complete message from the server, in order (responses included); waits on it take nothing away. */
  readonly received = new Recorder<ReceivedMessage>();
  /** User messages (not presence pushes) relayed to this client, in order. */
  readonly messages = new Recorder<MessagingPush>();
  /** Remote messaging-enabled participants, as the pushes describe them (while enabled). */
  readonly presence = new Map<string, PresenceEntry>();
  /** True between this client's `messaging.enabled` push and its disable or close. */
  online = false;
  /** WebSocket pings received from the server (ws answers each with a pong). */
  pings = 0;
  /** The `room_ready` header, after the handshake. */
  roomReady: Record<string, unknown> = {};
  /** The `connected` header, after the handshake. */
  connected: Record<string, unknown> = {};
  /** Messages received after `connected` (what a resuming client reports as `roomstate_received`). */
  receivedSinceConnected = 0;
  private sawConnected = false;
  /** Resolves when the socket closes, with code and reason. */
  readonly closed: Promise<CloseInfo>;
  /** Resolves when the socket opens; rejects when the upgrade fails. */
  readonly opened: Promise<void>;
  /** Resolves when the server refused the upgrade (status, status text, body); rejects if it opened. */
  readonly refused: Promise<UpgradeRefused>;

  private readonly wire: WireConnection;
  private readonly queue: ReceivedMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private closedWith: CloseInfo | undefined;

  constructor(readonly ws: WebSocket) {
    this.refused = new Promise((resolve, reject) => {
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
      ws.once('unexpected-response', (request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', body });
          request.destroy();
        });
        response.on('error', reject);
      });
      ws.once('error', reject);
    });
    this.refused.catch(() => undefined);
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      this.refused.then((refusal) => reject(new Error(`upgrade refused with status ${refusal.status}: ${refusal.statusText}`)), reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        const info = { code, reason: reason.toString() };
        this.closedWith = info;
        this.online = false;
        this.presence.clear();
        const error = new Error(`connection closed (${code} ${info.reason}) while waiting`);
        for (const waiter of this.waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(error);
        }
        this.waiters.clear();
        this.received.close(error);
        this.messages.close(error);
        resolve(info);
      });
    });
    ws.on('ping', () => {
      this.pings++;
    });
    // Errors surface as a close; a listener keeps ws from throwing.
    ws.on('error', () => undefined);
    this.wire = new WireConnection(ws, {
      message: (message, claimed) => this.dispatch(decode(message), claimed),
      textFrame: (data) => {
        this.textFrames++;
        this.violations.push(`text frame ${JSON.stringify(data.toString().slice(0, 80))}`);
      },
      codecError: (error) => {
        this.codecErrors.push(error.message);
        this.violations.push(`undecodable server message: ${error.message}`);
      },
    });
  }

  /** The participant id from `connected`. */
  get participantId(): string {
    return this.connected.participantId as string;
  }

  /** How the socket closed, once it has. */
  get closeInfo(): CloseInfo | undefined {
    return this.closedWith;
  }

  /** Whether the socket is open. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The underlying TCP socket (ws keeps it private). */
  get socket(): Socket {
    return requireTcpSocket(this.ws);
  }

  /** Messages received and not yet taken by a wait (a copy). */
  get queued(): readonly ReceivedMessage[] {
    return [...this.queue];
  }

  /** A fresh request id (counting from 0, as the TS client does). */
  allocateId(): number {
    return this.wire.allocateId();
  }

  /**
   * Sends a request with an envelope (`header`, optional `payload`) and
   * resolves with the decoded `__response__` content.
   */
  request(type: string, header: object, payload?: Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Content> {
    return this.requestData(type, packEnvelope(header, payload), timeoutMs);
  }

  /** Sends a request with raw data bytes and resolves with the decoded response content. */
  async requestData(type: string, data: Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Content> {
    return decodeContent((await this.wire.request(type, data, { timeoutMs })).data);
  }

  /**
   * Invokes a tool (`room.invoke_tool`) with JSON arguments; `toolkit`
   * defaults to `messaging`. `extra` adds header keys (e.g. `tool_call_id`).
   */
  invoke(tool: string, args: unknown, extra: Record<string, unknown> = {}, toolkit = 'messaging'): Promise<Content> {
    return this.request(MessageType.InvokeTool, { toolkit, tool, arguments: { type: 'json', json: args }, ...extra });
  }

  /** Sends a message that expects no response (e.g. `set_attributes`). */
  notify(type: string, header: object, payload?: Uint8Array): void {
    this.sendMessage(this.allocateId(), type, packEnvelope(header, payload));
  }

  /** Encodes and sends one message with an explicit id and raw data. */
  sendMessage(id: MessageId, type: string, data: Uint8Array): void {
    this.wire.send(id, type, data);
  }

  /** Sends one raw frame: bytes go as a binary frame, a string as a text frame. */
  sendFrame(frame: Uint8Array | string): void {
    this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  /** Sends frames exactly as given, each as {@link RawClient.sendFrame} does. */
  sendFrames(frames: readonly (Uint8Array | string)[]): void {
    for (const frame of frames) this.sendFrame(frame);
  }

  /** Enables messaging; resolves once the answer and a new `messaging.enabled` snapshot arrived (the queue keeps it). */
  async enable(wait: WaitOptions = {}): Promise<void> {
    const seen = this.received.filter((m) => isControl(m, MessagingControlType.Enabled)).length;
    const reply = await this.invoke('enable', {});
    if (reply.type !== 'empty') throw new Error(`enable answered ${JSON.stringify(reply)}`);
    await this.received.waitForCount((m) => isControl(m, MessagingControlType.Enabled), seen + 1, { what: 'messaging.enabled', ...wait });
  }

  /** Disables messaging (the presence view empties). */
  disable(): Promise<Content> {
    this.online = false;
    this.presence.clear();
    return this.invoke('disable', {});
  }

  /** A direct message (`message` as JSON); resolves with the server's reply. */
  send(to: string, type: string, message: unknown, attachment?: Uint8Array): Promise<Content> {
    return this.requestData(MessageType.InvokeTool, encodeInvoke('send', messageArguments({ toParticipantId: to, type, message }), undefined, attachment));
  }

  /** A broadcast (`message` as JSON); resolves with the server's reply. */
  broadcast(type: string, message: unknown, attachment?: Uint8Array): Promise<Content> {
    return this.requestData(MessageType.InvokeTool, encodeInvoke('broadcast', messageArguments({ type, message }), undefined, attachment));
  }

  /** Merges attributes (no response on success); nothing once closed. */
  setAttributes(attributes: Record<string, unknown>): void {
    if (this.isOpen) this.notify(MessageType.SetAttributes, attributes);
  }

  /** Destroys the TCP socket without a close frame (a peer that vanished). */
  kill(): void {
    this.socket.destroy();
  }

  /** Resolves with the first received message matching `predicate` (queued or future). */
  waitFor(predicate: (message: ReceivedMessage) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ReceivedMessage> {
    const index = this.queue.findIndex(predicate);
    if (index !== -1) return Promise.resolve(this.queue.splice(index, 1)[0]);
    if (this.closedWith) return Promise.reject(new Error(`connection closed (${this.closedWith.code} ${this.closedWith.reason})`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`no matching message within ${timeoutMs} ms; queued: ${this.queue.map(describe).join(', ') || 'none'}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits for a `messaging.send` push of `type` (and matching `predicate`), decoded. */
  async waitForPush(type: string, predicate: (push: MessagingPush) => boolean = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<MessagingPush> {
    const message = await this.waitFor((m) => {
      const push = asPush(m);
      return push !== undefined && push.type === type && predicate(push);
    }, timeoutMs);
    return asPush(message)!;
  }

  /** Waits for the `__response__` with this id (for raw {@link RawClient.sendMessage} requests). */
  async waitForResponse(id: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Content> {
    const message = await this.waitFor((m) => m.type === '__response__' && m.id === id, timeoutMs);
    return decodeContent(message.data);
  }

  /** Waits for `room_ready` and `connected` and records them. */
  async ready(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<this> {
    await this.opened;
    const [roomReady, connected] = await Promise.all([
      this.waitFor((m) => m.type === 'room_ready', timeoutMs),
      this.waitFor((m) => m.type === 'connected', timeoutMs),
    ]);
    this.roomReady = roomReady.header ?? {};
    this.connected = connected.header ?? {};
    return this;
  }

  /** Closes cleanly (default 1000) and resolves when closed. */
  close(code = 1000, reason = ''): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
    return this.closed;
  }

  /** Destroys the socket without a close handshake and resolves when closed. */
  terminate(): Promise<CloseInfo> {
    this.ws.terminate();
    return this.closed;
  }

  /** Records every message; one a request claimed as its response is neither queued nor waited for. */
  private dispatch(message: ReceivedMessage, claimed: boolean): void {
    this.received.push(message);
    if (this.sawConnected) this.receivedSinceConnected++;
    else if (message.type === MessageType.Connected) this.sawConnected = true;
    if (message.type === MessageType.Connected && message.header) this.connected = message.header;
    else if (message.type === MessageType.MessagingSend && message.header) this.onMessagingPush(message);
    if (claimed) return;
    for (const waiter of this.waiters) {
      if (waiter.predicate(message)) {
        this.waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(message);
        return;
      }
    }
    this.queue.push(message);
  }

  private onMessagingPush(message: ReceivedMessage): void {
    const push = asPush(message)!;
    const body = push.message as Record<string, unknown>;
    switch (push.type) {
      case MessagingControlType.Enabled:
        this.presence.clear();
        for (const p of body.participants as { id: string; role: string; attributes: Record<string, unknown> }[]) {
          this.presence.set(p.id, { role: p.role, attributes: { ...p.attributes } });
        }
        this.online = true;
        return;
      case MessagingControlType.ParticipantEnabled:
        if (this.online) this.presence.set(String(body.id), { role: String(body.role), attributes: { ...(body.attributes as object) } });
        return;
      case MessagingControlType.ParticipantDisabled:
        this.presence.delete(String(body.id));
        return;
      case MessagingControlType.ParticipantAttributes: {
        const entry = this.presence.get(push.from);
        if (entry) Object.assign(entry.attributes, body.attributes as object);
        return;
      }
      default:
        if (!isPresenceType(push.type)) this.messages.push(push);
    }
  }
}

/** True for a `messaging.send` push carrying the presence control `type`. */
export function isControl(message: ReceivedMessage, type: string): boolean {
  return message.type === MessageType.MessagingSend && message.header?.type === type;
}

/** The `message` body of a `messaging.send` push. */
export function pushBody(message: ReceivedMessage): Record<string, unknown> {
  return (message.header?.message ?? {}) as Record<string, unknown>;
}

function decode(message: ProtocolMessage): ReceivedMessage {
  try {
    const { header, payload } = unpackEnvelope(message.data);
    return { ...message, header, payload };
  } catch {
    return message;
  }
}

/** Decodes a received `messaging.send` push; undefined for anything else. */
export function asPush(message: ReceivedMessage): MessagingPush | undefined {
  if (message.type !== 'messaging.send' || message.header === undefined) return undefined;
  const h = message.header;
  return {
    id: message.id,
    from: h.from_participant_id as string,
    type: h.type as string,
    message: h.message,
    attachment: message.payload ?? new Uint8Array(0),
  };
}

function describe(message: ReceivedMessage): string {
  const push = asPush(message);
  return push ? `messaging.send(${push.type})` : message.type;
}

/** Opens a raw socket to a room without waiting for anything. */
export function openRaw(baseUrl: string, room: string, token: string | undefined, options: ConnectRawOptions = {}): RawClient {
  const via = options.via ?? 'query';
  const params: string[] = [];
  if (token !== undefined && via === 'query') params.push(`${TOKEN_QUERY_PARAMETER}=${encodeURIComponent(token)}`);
  if (options.query) params.push(options.query);
  const url = roomUrlUnder(baseUrl, room) + (params.length > 0 ? `?${params.join('&')}` : '');
  const headers: Record<string, string> = { ...options.headers };
  if (token !== undefined && via === 'bearer') headers.Authorization = `Bearer ${token}`;
  const protocols = [...(options.protocols ?? [])];
  if (token !== undefined && via === 'subprotocol') protocols.unshift(`${TOKEN_SUBPROTOCOL_PREFIX}${token}`);
  const ws = new WebSocket(url, protocols, { headers, perMessageDeflate: false, ...options.wsOptions });
  return new RawClient(ws);
}

/**
 * Connects to `room` with `token` and (by default) waits for `room_ready`
 * and `connected`.
 */
export async function connectRaw(baseUrl: string, room: string, token: string | undefined, options: ConnectRawOptions = {}): Promise<RawClient> {
  const client = openRaw(baseUrl, room, token, options);
  if (options.waitForReady === false) {
    await client.opened;
    return client;
  }
  try {
    return await client.ready(options.timeoutMs);
  } catch (error) {
    client.ws.terminate();
    throw error;
  }
}

/** Where {@link connectMinted} connects, and the token it mints (or takes). */
export interface MintedConnectOptions extends ConnectRawOptions {
  /** Server base URL, e.g. `ws://127.0.0.1:1234`. */
  baseUrl: string;
  room: string;
  /** A ready token; otherwise one is minted from `secret` for `name` (default 'raw') and `role`. */
  token?: string;
  secret?: string;
  name?: string;
  role?: MintTokenOptions['role'];
}

/** Mints a token for `name` (unless given one) and connects as {@link connectRaw} does. */
export async function connectMinted(options: MintedConnectOptions): Promise<RawClient> {
  const { baseUrl, room, token, secret, name, role, ...connect } = options;
  if (token === undefined && !secret) throw new Error('connectMinted needs a token or a secret.');
  const jwt = token ?? (await mintToken({ secret: secret!, room, name: name ?? 'raw', role }));
  return connectRaw(baseUrl, room, jwt, connect);
}

/** What an upgrade refusal looked like. */
export interface UpgradeRefused {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
}

/**
 * Attempts a connection that the server must refuse at the upgrade; resolves
 * with the HTTP status, status text and body, rejects if the socket opens.
 */
export function expectUpgradeRefused(baseUrl: string, room: string, token: string | undefined, options: ConnectRawOptions = {}): Promise<UpgradeRefused> {
  const client = openRaw(baseUrl, room, token, options);
  client.opened.then(() => client.ws.terminate(), () => undefined);
  return client.refused;
}
