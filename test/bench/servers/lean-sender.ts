/**
 * The lean sender: a server that speaks just enough of the MeshAgent
 * protocol (built on the codec, `src/protocol`) for a client to connect and
 * enable messaging, then streams `messaging.send` pushes of the benchmark
 * body to it as fast as it reads them, for as long as it stays connected.
 * No room, no relay, no validation: the receive-rate scenario measures the
 * client's cost per received message, not a server's.
 *
 * It answers every `room.invoke_tool` with `empty`; after `enable` it sends
 * `messaging.enabled` (the sender as the one other participant) and starts
 * streaming. Pushes are written in batches while the socket takes them and
 * resume on `drain`, so what waits in its buffers stays bounded.
 */
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { encodeContent, encodePacketsWithTypeBytes, encodeType, MessageType, MessagingControlType, PacketReassembler, packEnvelopeJson, unpackEnvelope } from '../../../src/protocol/index.js';
import { now, paddingFor, BENCH_MESSAGE_TYPE } from '../drivers/types.js';
import { listenOnLoopback } from './listen.js';
import { requireTcpSocket } from '../../../src/ws-internals.js';

/** The participant id the streamed messages come from. */
export const LEAN_SENDER_ID = 'lean-sender';
/** Size of each streamed message's JSON body, as in the other scenarios. */
const BODY_BYTES = 100;
/** Pushes written per turn of the event loop. */
const BATCH = 256;

const MESSAGING_SEND = encodeType(MessageType.MessagingSend);
const RESPONSE = encodeType(MessageType.Response);
const EMPTY = encodeContent({ type: 'empty' });

/** A running lean sender. */
export interface LeanSender {
  listen(): Promise<{ url: string }>;
}

function envelope(header: object): Uint8Array {
  return packEnvelopeJson(JSON.stringify(header));
}

/** Creates the lean sender on 127.0.0.1 with a free port. */
export function createLeanSender(): LeanSender {
  const http: Server = createServer((_req, res) => {
    res.writeHead(200).end('lean sender\n');
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  let pushId = 1;
  let participants = 0;
  const padding = paddingFor(BODY_BYTES);
  const prefix = `{"from_participant_id":${JSON.stringify(LEAN_SENDER_ID)},"type":${JSON.stringify(BENCH_MESSAGE_TYPE)},"message":`;

  wss.on('connection', (ws: WebSocket) => {
    const socket = requireTcpSocket(ws);
    const reassembler = new PacketReassembler();
    const write = (id: number, type: Uint8Array, data: Uint8Array): void => {
      for (const frame of encodePacketsWithTypeBytes(id, type, data)) ws.send(frame);
    };
    const id = `participant-${++participants}`;
    write(pushId++, encodeType(MessageType.RoomReady), envelope({ room_name: 'lean', room_url: 'ws://127.0.0.1/rooms/lean', session_id: id }));
    write(pushId++, encodeType(MessageType.Connected), envelope({ type: 'init', participantId: id, attributes: { name: id } }));
    let seq = 0;
    let streaming = false;
    const pump = (): void => {
      if (ws.readyState !== ws.OPEN) return;
      socket.cork();
      const t = now();
      for (let i = 0; i < BATCH; i++) {
        write(pushId++, MESSAGING_SEND, packEnvelopeJson(`${prefix}{"s":${seq++},"t":${t},"p":"${padding}"}}`));
      }
      socket.uncork();
      if (socket.writableNeedDrain) socket.once('drain', pump);
      else setImmediate(pump);
    };
    ws.on('message', (data: RawData) => {
      const message = reassembler.push(new Uint8Array(data as Buffer));
      if (message?.type !== MessageType.InvokeTool) return;
      write(Number(message.id), RESPONSE, EMPTY);
      const { header } = unpackEnvelope(message.data);
      if (header.tool !== 'enable' || streaming) return;
      streaming = true;
      const sender = { id: LEAN_SENDER_ID, role: 'user', attributes: { name: LEAN_SENDER_ID } };
      write(pushId++, MESSAGING_SEND, envelope({ from_participant_id: id, type: MessagingControlType.Enabled, message: { participants: [sender] } }));
      setImmediate(pump);
    });
    ws.on('error', () => ws.terminate());
  });

  return { listen: () => listenOnLoopback(http) };
}
