/**
 * A wire-level room participant for robustness tests: a `ws` socket plus the
 * codec, with full control of frames and ids, access to the underlying
 * socket (to destroy or pause it), and a presence view rebuilt from the
 * server's pushes exactly as the protocol defines it.
 */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { mintToken } from '../../src/auth/token.js';
import { roomUrl } from '../../src/protocol/room-url.js';
import { isPresenceType } from '../../src/protocol/presence.js';
import {
  MessageType,
  MessagingControlType,
  PacketReassembler,
  decodeContent,
  encodePackets,
  packEnvelope,
  unpackEnvelope,
  type Content,
  type MessageId,
} from '../../src/protocol/index.js';
import { Recorder, type WaitOptions } from './recorder.js';
import { requireTcpSocket } from '../../src/ws-internals.js';

/** One complete message received from the server. */
export interface WireMessage {
  readonly id: number;
  /** The exact 64-bit id (a bigint above 2^53). */
  readonly exactId: MessageId;
  readonly type: string;
  /** The envelope header, or undefined when the data is no envelope. */
  readonly header: Record<string, unknown> | undefined;
  readonly payload: Uint8Array;
}

/** How the socket closed. */
export interface WireClose {
  readonly code: number;
  readonly reason: string;
}

/** A remote participant in a {@link WirePeer}'s presence view. */
export interface WirePresenceEntry {
  readonly role: string;
  attributes: Record<string, unknown>;
}

/** A user message (not a presence push) relayed by the server. */
export interface WireUserMessage {
  readonly from: string;
  readonly type: string;
  readonly message: unknown;
  readonly attachment: Uint8Array;
}

/** Options of {@link WirePeer.connect}. */
export interface WirePeerOptions {
  /** Server base URL, e.g. `ws://127.0.0.1:1234`. */
  baseUrl: string;
  room: string;
  /** A ready token; otherwise one is minted from `secret` and `name`. */
  token?: string;
  secret?: string;
  name?: string;
  role?: string;
}

/** A raw protocol participant. */
export class WirePeer {
  /** Every complete message from the server, in order. */
  readonly received = new Recorder<WireMessage>();
  /** User messages relayed to this peer, in order. */
  readonly messages = new Recorder<WireUserMessage>();
  /** Resolves when the socket closed (never rejects). */
  readonly closed: Promise<WireClose>;
  /** Set once closed. */
  closeInfo: WireClose | undefined;
  /** Remote messaging-enabled participants, as the pushes describe them (while enabled). */
  readonly presence = new Map<string, WirePresenceEntry>();
  /** True between this peer's `messaging.enabled` push and its disable or close. */
  online = false;
  /** The id the server assigned in `connected`. */
  participantId = '';
  /** WebSocket pings received from the server (ws answers each with a pong). */
  pings = 0;
  /** Protocol violations by the server (text frames, bad framing); a correct server causes none. */
  readonly violations: string[] = [];

  private readonly reassembler = new PacketReassembler();
  private readonly pending = new Map<number, { resolve: (c: Content) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = 'nodebuffer';
    this.closed = new Promise<WireClose>((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.online = false;
        this.presence.clear();
        const error = new Error(`socket closed with ${code} ${reason.toString()}`);
        for (const waiter of this.pending.values()) waiter.reject(error);
        this.pending.clear();
        this.received.close(error);
        this.messages.close(error);
        resolve(this.closeInfo);
      });
    });
    ws.on('ping', () => {
      this.pings++;
    });
    // Errors surface as a close; a listener keeps ws from throwing.
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        this.violations.push(`text frame ${JSON.stringify(data.toString().slice(0, 80))}`);
        return;
      }
      try {
        const message = this.reassembler.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        if (message) this.dispatch(message.id, message.exactId, message.type, message.data);
      } catch (error) {
        this.violations.push(`undecodable server message: ${(error as Error).message}`);
      }
    });
  }

  /** Opens a socket and resolves once it is open (no handshake wait). */
  static async open(options: WirePeerOptions): Promise<WirePeer> {
    const token = options.token ?? (await mintToken({ secret: requireSecret(options), room: options.room, name: options.name ?? 'wire', role: options.role }));
    const url = roomUrl(options.baseUrl, options.room, token);
    const ws = new WebSocket(url);
    const peer = new WirePeer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      // A refused upgrade surfaces as an error ("Unexpected server response: 403").
      ws.once('error', (error) => reject(error));
    });
    return peer;
  }

  /** Opens a socket and waits for `room_ready` and `connected`. */
  static async connect(options: WirePeerOptions, wait: WaitOptions = {}): Promise<WirePeer> {
    const peer = await WirePeer.open(options);
    await peer.received.waitFor((m) => m.type === MessageType.RoomReady, { what: 'room_ready', ...wait });
    await peer.received.waitFor((m) => m.type === MessageType.Connected, { what: 'connected', ...wait });
    return peer;
  }

  /** The underlying TCP socket (ws keeps it private). */
  get socket(): Socket {
    return requireTcpSocket(this.ws);
  }

  /** Whether the socket is still open. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Takes the next request id (counter from 0, like the TS client). */
  takeId(): number {
    return this.nextId++;
  }

  /** Sends frames exactly as given (binary unless `text`). */
  sendRaw(frames: readonly (Uint8Array | string)[]): void {
    for (const frame of frames) this.ws.send(frame, { binary: typeof frame !== 'string' });
  }

  /**
   * Sends a request and resolves with the server's response content. Rejects
   * when the socket closes first.
   */
  request(type: string, header: object, payload?: Uint8Array, id = this.takeId()): Promise<Content> {
    const response = new Promise<Content>((resolve, reject) => {
      if (this.closeInfo) reject(new Error(`socket closed with ${this.closeInfo.code}`));
      else this.pending.set(id, { resolve, reject });
    });
    if (this.isOpen) this.sendRaw(encodePackets(id, type, packEnvelope(header, payload)));
    return response;
  }

  /** Invokes a messaging tool with JSON arguments. */
  invoke(tool: string, json: Record<string, unknown>): Promise<Content> {
    return this.request(MessageType.InvokeTool, { toolkit: 'messaging', tool, arguments: { type: 'json', json } });
  }

  /** Enables messaging; resolves once the `messaging.enabled` snapshot arrived. */
  async enable(wait: WaitOptions = {}): Promise<void> {
    const seen = this.received.filter((m) => isControl(m, MessagingControlType.Enabled)).length;
    const reply = await this.invoke('enable', {});
    if (reply.type !== 'empty') throw new Error(`enable answered ${JSON.stringify(reply)}`);
    await this.received.waitForCount((m) => isControl(m, MessagingControlType.Enabled), seen + 1, { what: 'messaging.enabled', ...wait });
  }

  /** Disables messaging. */
  async disable(): Promise<Content> {
    this.online = false;
    this.presence.clear();
    return this.invoke('disable', {});
  }

  /** A direct message; resolves with the server's reply. */
  send(to: string, type: string, message: unknown, attachment?: Uint8Array): Promise<Content> {
    const json: Record<string, unknown> = { to_participant_id: to, type, message_json: JSON.stringify(message) };
    if (attachment) json.attachment_base64 = Buffer.from(attachment).toString('base64');
    return this.invoke('send', json);
  }

  /** A broadcast; resolves with the server's reply. */
  broadcast(type: string, message: unknown, attachment?: Uint8Array): Promise<Content> {
    const json: Record<string, unknown> = { type, message_json: JSON.stringify(message) };
    if (attachment) json.attachment_base64 = Buffer.from(attachment).toString('base64');
    return this.invoke('broadcast', json);
  }

  /** Merges attributes (no response on success). */
  setAttributes(attributes: Record<string, unknown>): void {
    if (this.isOpen) this.sendRaw(encodePackets(this.takeId(), MessageType.SetAttributes, packEnvelope(attributes)));
  }

  /** Closes with a close frame and waits for the close. */
  async close(code = 1000): Promise<WireClose> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }

  /** Destroys the TCP socket without a close frame. */
  kill(): void {
    this.socket?.destroy();
  }

  private dispatch(id: number, exactId: MessageId, type: string, data: Uint8Array): void {
    let header: Record<string, unknown> | undefined;
    let payload: Uint8Array = data;
    try {
      ({ header, payload } = unpackEnvelope(data));
    } catch {
      header = undefined;
    }
    const message: WireMessage = { id, exactId, type, header, payload };
    if (type === MessageType.Response) {
      const waiter = this.pending.get(id);
      if (waiter) {
        this.pending.delete(id);
        waiter.resolve(decodeContent(data));
      }
    } else if (type === MessageType.Connected && header) {
      this.participantId = String(header.participantId);
    } else if (type === MessageType.MessagingSend && header) {
      this.onMessagingPush(header, payload);
    }
    this.received.push(message);
  }

  private onMessagingPush(header: Record<string, unknown>, payload: Uint8Array): void {
    const type = String(header.type);
    const body = header.message as Record<string, unknown>;
    const from = String(header.from_participant_id);
    switch (type) {
      case MessagingControlType.Enabled: {
        this.presence.clear();
        for (const p of body.participants as { id: string; role: string; attributes: Record<string, unknown> }[]) {
          this.presence.set(p.id, { role: p.role, attributes: { ...p.attributes } });
        }
        this.online = true;
        return;
      }
      case MessagingControlType.ParticipantEnabled:
        if (this.online) this.presence.set(String(body.id), { role: String(body.role), attributes: { ...(body.attributes as object) } });
        return;
      case MessagingControlType.ParticipantDisabled:
        this.presence.delete(String(body.id));
        return;
      case MessagingControlType.ParticipantAttributes: {
        const entry = this.presence.get(from);
        if (entry) Object.assign(entry.attributes, body.attributes as object);
        return;
      }
      default:
        if (!isPresenceType(type)) this.messages.push({ from, type, message: header.message, attachment: payload });
    }
  }
}

/** True for a `messaging.send` push carrying the presence control `type`. */
export function isControl(message: WireMessage, type: string): boolean {
  return message.type === MessageType.MessagingSend && message.header?.type === type;
}

/** The `message` body of a `messaging.send` push. */
export function pushBody(message: WireMessage): Record<string, unknown> {
  return (message.header?.message ?? {}) as Record<string, unknown>;
}

function requireSecret(options: WirePeerOptions): string {
  if (!options.secret) throw new Error('WirePeer needs a token or a secret.');
  return options.secret;
}
