/**
 * A lean roomstate client built straight on the codec (`src/protocol`): no
 * state machines, no streams, no validation beyond what decoding needs. It
 * drives the roomstate server with the same wire traffic as the real client,
 * so comparing the two rows separates server cost from client cost.
 */
import WebSocket from 'ws';
import { mintToken } from '../../../src/auth/token.js';
import {
  encodeContent,
  encodePacketsWithTypeBytes,
  encodeType,
  ENVELOPE_LENGTH_SIZE,
  MessageType,
  MessagingControlType,
  packEnvelopeJson,
  PacketReassembler,
} from '../../../src/protocol/index.js';
import { corkedSender } from '../cork.js';
import type { BenchBody, BenchDriver, BenchPeer, ReceivedMessage } from './types.js';
import { BENCH_MESSAGE_TYPE, closeSocket } from './types.js';

const INVOKE_TOOL = encodeType(MessageType.InvokeTool);
const SET_ATTRIBUTES = encodeType(MessageType.SetAttributes);
const EMPTY_RESPONSE = encodeContent({ type: 'empty' });
const utf8 = new TextDecoder();

/** True when `data` is exactly the `empty` content, the usual answer: no decoding needed. */
function isEmptyContent(data: Uint8Array): boolean {
  if (data.byteLength !== EMPTY_RESPONSE.byteLength) return false;
  for (let i = 0; i < data.byteLength; i++) if (data[i] !== EMPTY_RESPONSE[i]) return false;
  return true;
}

/** Unpacks an envelope from the (trusted) server: no depth check, no validation. */
function unpack(data: Uint8Array): { header: Record<string, unknown>; payload: Uint8Array } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = ENVELOPE_LENGTH_SIZE + view.getUint32(4);
  return { header: JSON.parse(utf8.decode(data.subarray(ENVELOPE_LENGTH_SIZE, end))) as Record<string, unknown>, payload: data.subarray(end) };
}

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

interface PushHeader {
  from_participant_id?: string;
  type?: string;
  message?: { id?: string; participants?: Array<{ id: string }> } & Partial<BenchBody>;
}

class LeanPeer implements BenchPeer {
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  onPresence: (() => void) | undefined;
  onAttributes: (() => void) | undefined;
  id = '';
  private readonly reassembler = new PacketReassembler();
  private readonly pending = new Map<number, Pending>();
  private readonly presence = new Set<string>();
  private nextId = 0;
  private enabled: (() => void) | undefined;
  private ready: { resolve(peer: LeanPeer): void; reject(error: Error): void; roomReady: boolean } | undefined;
  private readonly write: (frame: Uint8Array) => void;

  constructor(private readonly ws: WebSocket) {
    this.write = corkedSender(ws);
    ws.on('message', (data: Buffer) => this.receive(data));
  }

  /** Resolves once both `room_ready` and `connected` have arrived. */
  whenReady(): Promise<LeanPeer> {
    return new Promise((resolve, reject) => {
      this.ready = { resolve, reject, roomReady: false };
      this.ws.once('error', reject);
      this.ws.once('close', (code) => reject(new Error(`connection closed with ${code} before ready`)));
    });
  }

  enable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enabled = resolve;
      this.invoke('enable', {}, true).catch(reject);
    });
  }

  send(to: string, body: BenchBody, attachment?: Uint8Array): Promise<void> {
    const args: Record<string, unknown> = { to_participant_id: to, type: BENCH_MESSAGE_TYPE, message_json: JSON.stringify(body) };
    if (attachment) args.attachment_base64 = Buffer.from(attachment.buffer, attachment.byteOffset, attachment.byteLength).toString('base64');
    return this.invoke('send', args, false);
  }

  broadcast(body: BenchBody): Promise<void> {
    return this.invoke('broadcast', { type: BENCH_MESSAGE_TYPE, message_json: JSON.stringify(body) }, false);
  }

  setAttributes(attributes: Record<string, unknown>): number {
    for (const frame of encodePacketsWithTypeBytes(this.nextId++, SET_ATTRIBUTES, packEnvelopeJson(JSON.stringify(attributes)))) this.write(frame);
    return this.ws.bufferedAmount;
  }

  presenceSize(): number {
    return this.presence.size;
  }

  close(): Promise<void> {
    return closeSocket(this.ws, 1000);
  }

  private invoke(tool: string, args: Record<string, unknown>, oneWay: boolean): Promise<void> {
    const id = this.nextId++;
    const header: Record<string, unknown> = { toolkit: 'messaging', tool, arguments: { type: 'json', json: args } };
    if (oneWay) header.tool_call_id = `bench-${id}`;
    const promise = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    for (const frame of encodePacketsWithTypeBytes(id, INVOKE_TOOL, packEnvelopeJson(JSON.stringify(header)))) this.write(frame);
    return promise;
  }

  private receive(frame: Buffer): void {
    const message = this.reassembler.push(frame);
    if (!message) return;
    switch (message.type) {
      case MessageType.Response: {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (isEmptyContent(message.data)) return pending.resolve();
        const { header } = unpack(message.data);
        if (header.type === 'error') pending.reject(new Error(String(header.text)));
        else pending.resolve();
        return;
      }
      case MessageType.MessagingSend:
        this.push(unpack(message.data));
        return;
      case MessageType.RoomReady:
        if (this.ready) this.ready.roomReady = true;
        this.settleReady();
        return;
      case MessageType.Connected: {
        const { header } = unpack(message.data);
        this.id = String(header.participantId);
        this.settleReady();
        return;
      }
    }
  }

  private settleReady(): void {
    if (this.ready?.roomReady && this.id) {
      this.ready.resolve(this);
      this.ready = undefined;
    }
  }

  private push({ header, payload }: { header: Record<string, unknown>; payload: Uint8Array }): void {
    const push = header as PushHeader;
    const body = push.message;
    switch (push.type) {
      case MessagingControlType.Enabled:
        this.presence.clear();
        for (const participant of body?.participants ?? []) this.presence.add(participant.id);
        this.enabled?.();
        this.enabled = undefined;
        this.onPresence?.();
        return;
      case MessagingControlType.ParticipantEnabled:
        if (body?.id) this.presence.add(body.id);
        this.onPresence?.();
        return;
      case MessagingControlType.ParticipantDisabled:
        if (body?.id) this.presence.delete(body.id);
        this.onPresence?.();
        return;
      case MessagingControlType.ParticipantAttributes:
        this.onAttributes?.();
        return;
      default:
        this.onMessage?.({ from: String(push.from_participant_id), body: body as BenchBody, attachmentBytes: payload.byteLength });
    }
  }
}

/** Creates the lean codec-level driver for a roomstate server at `url`. */
export function roomstateLeanDriver(url: string, secret: string): BenchDriver {
  return {
    acknowledged: true,
    connect: async (room, name) => {
      const token = await mintToken({ secret, room, name });
      const ws = new WebSocket(`${url}/rooms/${encodeURIComponent(room)}?token=${token}`, { perMessageDeflate: false });
      const peer = new LeanPeer(ws);
      const ready = await peer.whenReady();
      ws.removeAllListeners('error');
      ws.removeAllListeners('close');
      ws.on('error', () => undefined);
      return ready;
    },
  };
}
