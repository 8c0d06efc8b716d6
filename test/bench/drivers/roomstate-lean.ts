/**
 * A lean roomstate client on the tests' wire connection
 * (test/helpers/wire-connection.ts: the codec over `ws`): no state machines,
 * no streams, no validation beyond what decoding needs. It
 * drives the roomstate server with the same wire traffic as the real client,
 * so comparing the two rows separates server cost from client cost.
 */
import WebSocket from 'ws';
import { mintToken } from '../../../src/auth/token.js';
import { roomUrl } from '../../../src/protocol/room-url.js';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import {
  encodeContent,
  encodeInvoke,
  encodeType,
  ENVELOPE_LENGTH_SIZE,
  MessageType,
  MessagingControlType,
  messageArguments,
  packEnvelopeJson,
  type MessagingTool,
  type ProtocolMessage,
} from '../../../src/protocol/index.js';
import { WireConnection } from '../../helpers/wire-connection.js';
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

/** Settles a request on its response: the usual `empty` without decoding, an `error` as a rejection. */
function settle(response: ProtocolMessage): void {
  if (isEmptyContent(response.data)) return;
  const { header } = unpack(response.data);
  if (header.type === 'error') throw new Error(String(header.text));
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
  onClose: ((why: string) => void) | undefined;
  closedWith: string | undefined;
  id = '';
  private readonly wire: WireConnection;
  private readonly presence = new Set<string>();
  private enabled: { resolve(): void; reject(error: Error): void } | undefined;
  /** Set by {@link LeanPeer.close}: a close the workload asked for is not reported. */
  private closing = false;
  private ready: { resolve(peer: LeanPeer): void; reject(error: Error): void; roomReady: boolean } | undefined;

  constructor(private readonly ws: WebSocket) {
    this.wire = new WireConnection(ws, { message: (message, claimed) => claimed || this.receive(message) }, { write: corkedSender(ws) });
    // A socket error ends in a close, which the peer reports (and which fails a pending `whenReady` or `enable`).
    ws.on('error', () => undefined);
    ws.once('close', (code: number, reason: Buffer) => {
      const why = `closed with ${code}${reason.length > 0 ? ` (${reason.toString()})` : ''}`;
      this.enabled?.reject(new Error(`connection ${why} before the messaging.enabled snapshot`));
      this.enabled = undefined;
      if (this.closing) return;
      this.closedWith = why;
      this.onClose?.(why);
    });
  }

  /** Resolves once both `room_ready` and `connected` have arrived; rejects if the connection fails first. */
  whenReady(): Promise<LeanPeer> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => {
        this.ready = undefined;
        this.ws.off('close', closed);
        reject(error);
      };
      const closed = (code: number): void => failed(new Error(`connection closed with ${code} before ready`));
      this.ready = {
        resolve: (peer) => {
          this.ws.off('error', failed);
          this.ws.off('close', closed);
          resolve(peer);
        },
        reject: failed,
        roomReady: false,
      };
      this.ws.once('error', failed);
      this.ws.once('close', closed);
    });
  }

  enable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enabled = { resolve, reject };
      const id = this.wire.allocateId();
      this.invoke('enable', {}, id, `bench-${id}`).catch(reject);
    });
  }

  send(to: string, body: BenchBody, attachment?: Uint8Array): Promise<void> {
    return this.invoke('send', messageArguments({ toParticipantId: to, type: BENCH_MESSAGE_TYPE, message: body }), undefined, undefined, attachment);
  }

  broadcast(body: BenchBody): Promise<void> {
    return this.invoke('broadcast', messageArguments({ type: BENCH_MESSAGE_TYPE, message: body }));
  }

  setAttributes(attributes: Record<string, unknown>): number {
    this.wire.send(this.wire.allocateId(), SET_ATTRIBUTES, packEnvelopeJson(JSON.stringify(attributes)));
    return this.ws.bufferedAmount;
  }

  presenceSize(): number {
    return this.presence.size;
  }

  close(): Promise<void> {
    this.closing = true;
    return closeSocket(this.ws, CloseCode.Normal);
  }

  private async invoke(tool: MessagingTool, args: Record<string, unknown>, id?: number, toolCallId?: string, attachment?: Uint8Array): Promise<void> {
    settle(await this.wire.request(INVOKE_TOOL, encodeInvoke(tool, args, toolCallId, attachment), { id }));
  }

  private receive(message: ProtocolMessage): void {
    switch (message.type) {
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
        this.enabled?.resolve();
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
      const ws = new WebSocket(roomUrl(url, room, token), { perMessageDeflate: false });
      const peer = new LeanPeer(ws);
      // Only its own listeners go once ready: the wire's and the peer's close listeners stay.
      return peer.whenReady();
    },
  };
}
