/**
 * The lean protocol relay: the least a server can do to relay the MeshAgent
 * messaging protocol on `ws`, as fast as it can, and the reference the
 * issue's goals are stated against ("≥ 1.0x the lean relay").
 *
 * It speaks the same wire protocol as roomstate's server (docs/PROTOCOL.md),
 * so the roomstate clients (lean, `RoomClient`, official) drive it unchanged:
 * - the upgrade takes the token where the protocol puts it (query, Bearer,
 *   subprotocol) and verifies it (403 otherwise), then sends `room_ready` and
 *   `connected`;
 * - packets are reassembled with the codec's `PacketReassembler`, a request's
 *   envelope header is `JSON.parse`d once;
 * - `messaging.send` becomes one `messaging.send` push to the addressed
 *   participant (its `message_json` spliced in as is, its base64 attachment
 *   decoded into the payload) and an `empty` response to the sender (1003 when
 *   the target is not an enabled participant); `broadcast` encodes its push
 *   once and writes the same frames to every other enabled member;
 * - `enable` / `disable` / `set_attributes` / a disconnect send the presence
 *   pushes (snapshot to the caller, one push to the others), bodies from the
 *   codec's presence encoders.
 *
 * Nothing else: no validation beyond what relaying needs (a `message_json`
 * that is not JSON text is relayed as is), no limits, no rates, no fairness,
 * no heartbeats, no resume, no streams, no grants. Each outgoing message is
 * encoded once into one buffer holding its websocket frames (a broadcast
 * writes that same buffer to every recipient), and a tick's writes to one
 * socket leave in one `writev`: the same write path as roomstate's server
 * (src/server/ws-binding.ts), so the relay is not slower for writing frames
 * one `ws.send` at a time.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { verifyToken } from '../../../src/auth/token.js';
import {
  DATA_PACKET_HEADER_SIZE,
  ENVELOPE_LENGTH_SIZE,
  ErrorCode,
  FIRST_PACKET_HEADER_SIZE,
  MESSAGING_TOOLKIT,
  MessageType,
  MessagingControlType,
  PACKET_DATA_SIZE,
  PARTICIPANT_NOT_FOUND_TEXT,
  PacketReassembler,
  connectedHeader,
  encodeContent,
  encodePacketsWithTypeBytes,
  encodeType,
  memberJson,
  packEnvelopeJson,
  participantAttributesBodyJson,
  participantDisabledBodyJson,
  participantEnabledBodyJson,
  roomReadyHeader,
  snapshotBodyJson,
  type MessageId,
} from '../../../src/protocol/index.js';
import { frameHeaderSize, writeFrameHeader } from '../../../src/protocol/websocket-frames.js';
import { extractToken, parseRoomTarget, refuseUpgrade, tokenSubprotocol } from '../../../src/server/upgrade.js';
import { requireTcpSocket } from '../../../src/ws-internals.js';
import { wsBenchServer, type BenchServer } from './listen.js';

const RESPONSE = encodeType(MessageType.Response);
const MESSAGING_SEND = encodeType(MessageType.MessagingSend);
const ROOM_READY = encodeType(MessageType.RoomReady);
const CONNECTED = encodeType(MessageType.Connected);
const EMPTY_JSON = '{"type":"empty"}';
const TWO_POW_32 = 0x1_0000_0000;

interface Member {
  readonly id: string;
  readonly role: string;
  attributes: Record<string, unknown>;
  /** `{"from_participant_id":"<id>","type":`, the start of every push from this member. */
  readonly prefix: string;
  readonly write: (wire: Buffer) => void;
  enabled: boolean;
}

interface Room {
  readonly members: Map<string, Member>;
  readonly enabled: Set<Member>;
}

/** A running protocol relay. */
export type ProtocolRelay = BenchServer;

/** The websocket frames of `packets`, back to back in one buffer. */
function frameAll(packets: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const packet of packets) size += frameHeaderSize(packet.byteLength) + packet.byteLength;
  const wire = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const packet of packets) {
    offset = writeFrameHeader(wire, offset, packet.byteLength);
    wire.set(packet, offset);
    offset += packet.byteLength;
  }
  return wire;
}

/**
 * One message whose data is an envelope with header `headerJson` and
 * `payload`, as its websocket frames in one buffer: a fan-out writes the
 * same buffer to every recipient. When the envelope fits one data packet
 * (every message of the direct and fan-out scenarios) the text is encoded
 * straight into it; longer ones go through the codec's packet encoder.
 */
function envelopeWire(id: MessageId, type: Uint8Array, headerJson: string, payload?: Uint8Array): Buffer {
  const payloadLength = payload === undefined ? 0 : payload.byteLength;
  const headerBytes = Buffer.byteLength(headerJson, 'utf8');
  const dataLength = ENVELOPE_LENGTH_SIZE + headerBytes + payloadLength;
  if (dataLength > PACKET_DATA_SIZE || typeof id !== 'number' || id > 0xffff_ffff) {
    return frameAll(encodePacketsWithTypeBytes(id, type, packEnvelopeJson(headerJson, payload)));
  }
  const firstLength = FIRST_PACKET_HEADER_SIZE + type.byteLength;
  const secondLength = DATA_PACKET_HEADER_SIZE + dataLength;
  const wire = Buffer.allocUnsafe(frameHeaderSize(firstLength) + firstLength + frameHeaderSize(secondLength) + secondLength);
  let offset = writeFrameHeader(wire, 0, firstLength);
  wire.writeUInt32BE(0, offset);
  wire.writeUInt32BE(id, offset + 4);
  wire.writeUInt32BE(0, offset + 8);
  wire.writeUInt32BE(1, offset + 12);
  wire.set(type, offset + FIRST_PACKET_HEADER_SIZE);
  offset = writeFrameHeader(wire, offset + firstLength, secondLength);
  wire.writeUInt32BE(0, offset);
  wire.writeUInt32BE(id, offset + 4);
  wire.writeUInt32BE(1, offset + 8);
  wire.writeUInt32BE(Math.floor(headerBytes / TWO_POW_32), offset + 12);
  wire.writeUInt32BE(headerBytes >>> 0, offset + 16);
  offset += DATA_PACKET_HEADER_SIZE + ENVELOPE_LENGTH_SIZE;
  wire.write(headerJson, offset, headerBytes, 'utf8');
  if (payloadLength > 0) wire.set(payload!, offset + headerBytes);
  return wire;
}

/**
 * Writes pre-framed messages to the socket under `ws`, all writes of one
 * tick in one `writev` (corked until the next tick). With no extension
 * negotiated ws writes its own frames (close) synchronously to the same
 * socket, so whole-frame writes interleave with them in call order.
 */
function wireWriter(ws: WebSocket): (wire: Buffer) => void {
  const socket = requireTcpSocket(ws);
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (wire) => {
    if (ws.readyState !== ws.OPEN) return;
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    socket.write(wire);
  };
}

/** The envelope header of a request, parsed; `undefined` when it is not a JSON object. */
function parseHeader(data: Uint8Array): Record<string, unknown> | undefined {
  if (data.byteLength < ENVELOPE_LENGTH_SIZE) return undefined;
  const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = ENVELOPE_LENGTH_SIZE + buffer.readUInt32BE(4);
  try {
    const header: unknown = JSON.parse(buffer.toString('utf8', ENVELOPE_LENGTH_SIZE, end));
    return header !== null && typeof header === 'object' ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the lean protocol relay on 127.0.0.1 with a free port; tokens are checked with `secret`. */
export function createProtocolRelay(secret: string): ProtocolRelay {
  const rooms = new Map<string, Room>();
  let nextPushId = 1;
  let participants = 0;
  const http: Server = createServer((_req, res) => {
    res.writeHead(200).end('protocol relay\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 16 * 1024 * 1024,
    // Browsers carry the token as a subprotocol and need it echoed.
    handleProtocols: (offered) => tokenSubprotocol(offered) ?? false,
  });

  const push = (to: Member, headerJson: string): void => to.write(envelopeWire(nextPushId++, MESSAGING_SEND, headerJson));
  const toOthers = (room: Room, from: Member, wire: Buffer): void => {
    for (const member of room.enabled) if (member !== from) member.write(wire);
  };
  const presence = (from: Member, type: string, bodyJson: string): string => `${from.prefix}"${type}","message":${bodyJson}}`;
  const respondError = (to: Member, id: MessageId, text: string, code: number): void =>
    to.write(frameAll(encodePacketsWithTypeBytes(id, RESPONSE, encodeContent({ type: 'error', text, code }))));

  function invoke(room: Room, self: Member, id: MessageId, header: Record<string, unknown>): void {
    if (header.toolkit !== MESSAGING_TOOLKIT) return respondError(self, id, `unknown toolkit ${JSON.stringify(header.toolkit)}.`, ErrorCode.InvalidRequest);
    const args = ((header.arguments as { json?: unknown } | undefined)?.json ?? {}) as Record<string, unknown>;
    switch (header.tool) {
      case 'send': {
        const target = room.members.get(args.to_participant_id as string);
        if (target === undefined || !target.enabled) return respondError(self, id, PARTICIPANT_NOT_FOUND_TEXT, ErrorCode.NotFound);
        const attachment = typeof args.attachment_base64 === 'string' ? Buffer.from(args.attachment_base64, 'base64') : undefined;
        target.write(envelopeWire(nextPushId++, MESSAGING_SEND, `${self.prefix}${JSON.stringify(args.type)},"message":${String(args.message_json)}}`, attachment));
        self.write(envelopeWire(id, RESPONSE, EMPTY_JSON));
        return;
      }
      case 'broadcast': {
        const attachment = typeof args.attachment_base64 === 'string' ? Buffer.from(args.attachment_base64, 'base64') : undefined;
        toOthers(room, self, envelopeWire(nextPushId++, MESSAGING_SEND, `${self.prefix}${JSON.stringify(args.type)},"message":${String(args.message_json)}}`, attachment));
        self.write(envelopeWire(id, RESPONSE, EMPTY_JSON));
        return;
      }
      case 'enable': {
        self.write(envelopeWire(id, RESPONSE, EMPTY_JSON));
        const others: string[] = [];
        for (const member of room.enabled) if (member !== self) others.push(memberJson(member));
        push(self, presence(self, MessagingControlType.Enabled, snapshotBodyJson(others)));
        if (self.enabled) return;
        self.enabled = true;
        room.enabled.add(self);
        toOthers(room, self, envelopeWire(nextPushId++, MESSAGING_SEND, presence(self, MessagingControlType.ParticipantEnabled, participantEnabledBodyJson(self))));
        return;
      }
      case 'disable':
        self.write(envelopeWire(id, RESPONSE, EMPTY_JSON));
        disable(room, self);
        return;
      default:
        respondError(self, id, `unknown tool ${JSON.stringify(header.tool)}.`, ErrorCode.InvalidRequest);
    }
  }

  function disable(room: Room, self: Member): void {
    if (!self.enabled) return;
    self.enabled = false;
    room.enabled.delete(self);
    toOthers(room, self, envelopeWire(nextPushId++, MESSAGING_SEND, presence(self, MessagingControlType.ParticipantDisabled, participantDisabledBodyJson(self.id))));
  }

  function join(ws: WebSocket, roomName: string, name: string, role: string): void {
    let room = rooms.get(roomName);
    if (room === undefined) rooms.set(roomName, (room = { members: new Map(), enabled: new Set() }));
    const id = `p-${++participants}`;
    const self: Member = { id, role, attributes: { name }, prefix: `{"from_participant_id":${JSON.stringify(id)},"type":`, write: wireWriter(ws), enabled: false };
    room.members.set(id, self);
    const here = room;
    const reassembler = new PacketReassembler({ discardRejected: true });
    self.write(envelopeWire(nextPushId++, ROOM_READY, JSON.stringify(roomReadyHeader({ roomName, roomUrl: `ws://127.0.0.1/rooms/${encodeURIComponent(roomName)}`, sessionId: id }))));
    self.write(envelopeWire(nextPushId++, CONNECTED, JSON.stringify(connectedHeader({ participantId: id, attributes: self.attributes }))));

    ws.on('message', (data: RawData) => {
      let message;
      try {
        message = reassembler.push(data as Buffer);
      } catch {
        return;
      }
      if (message === undefined) return;
      switch (message.type) {
        case MessageType.InvokeTool: {
          const header = parseHeader(message.data);
          if (header === undefined) return respondError(self, message.exactId, 'invalid envelope.', ErrorCode.InvalidRequest);
          return invoke(here, self, message.exactId, header);
        }
        case MessageType.SetAttributes: {
          const changed = parseHeader(message.data);
          if (changed === undefined) return;
          self.attributes = { ...self.attributes, ...changed };
          if (self.enabled) toOthers(here, self, envelopeWire(nextPushId++, MESSAGING_SEND, presence(self, MessagingControlType.ParticipantAttributes, participantAttributesBodyJson(changed))));
          return;
        }
        case MessageType.Response:
          return;
        default:
          respondError(self, message.exactId, `unknown request type ${JSON.stringify(message.type)}.`, ErrorCode.InvalidRequest);
      }
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      disable(here, self);
      here.members.delete(id);
      if (here.members.size === 0) rooms.delete(roomName);
    });
  }

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = parseRoomTarget(request.url ?? '/', 256);
    if ('status' in target) return refuseUpgrade(socket, target);
    const found = extractToken(request, target.query);
    verifyToken(found?.token, { secret, room: target.roomName }).then(
      (token) => wss.handleUpgrade(request, socket, head, (ws) => join(ws, target.roomName, token.name, token.role)),
      () => refuseUpgrade(socket, { status: 403, reason: 'Forbidden' }),
    );
  });

  return wsBenchServer(http, wss);
}
