/**
 * The raw ws relay: the practical ceiling on this machine. A `ws` server that
 * forwards each binary frame, unchanged, to the addressed peer (or to every
 * other enabled peer of the room), with no protocol, no state machines and no
 * validation. Presence is the least that makes the presence scenarios
 * comparable: the joiner gets the id list, the others get the new id.
 *
 * Frames from clients: `[op][...]`
 * - {@link RawOp.Direct}: `[1][idLength u8][id][payload]`, forwarded as is to `id`;
 * - {@link RawOp.Broadcast}: `[2][payload]`, forwarded as is to the others;
 * - {@link RawOp.Enable}: `[3]`, answered `[3][ids joined by \n]`; others get `[4][id]`.
 * On close the others get `[5][id]`.
 *
 * Writes are batched per tick (one `writev` per socket per tick), as
 * roomstate's server batches them, so the gap to roomstate is protocol cost.
 */
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { corkedSender } from '../cork.js';
import { wsBenchServer, type BenchServer } from './listen.js';

/** Operation bytes of the raw relay's frames. */
export const RawOp = {
  Direct: 1,
  Broadcast: 2,
  Enable: 3,
  Joined: 4,
  Left: 5,
} as const;

interface Member {
  readonly ws: WebSocket;
  readonly send: (frame: Uint8Array) => void;
  enabled: boolean;
}

/** A running raw relay. */
export type RawRelay = BenchServer;

function idFrame(op: number, id: string): Buffer {
  const out = Buffer.allocUnsafe(1 + Buffer.byteLength(id));
  out[0] = op;
  out.write(id, 1);
  return out;
}

/** Creates the raw relay on 127.0.0.1 with a free port. */
export function createRawRelay(): RawRelay {
  const rooms = new Map<string, Map<string, Member>>();
  const http: Server = createServer((_req, res) => {
    res.writeHead(200).end('raw relay\n');
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });

  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    const room = decodeURIComponent(url.pathname.replace(/^\/rooms\//, ''));
    const id = url.searchParams.get('id') ?? '';
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Map()));
    const self: Member = { ws, send: corkedSender(ws), enabled: false };
    members.set(id, self);
    const peers = members;

    ws.on('message', (data: RawData) => {
      const frame = data as Buffer;
      const op = frame[0];
      if (op === RawOp.Direct) {
        const target = peers.get(frame.toString('utf8', 2, 2 + frame[1]));
        if (target) target.send(frame);
      } else if (op === RawOp.Broadcast) {
        for (const member of peers.values()) if (member !== self && member.enabled) member.send(frame);
      } else if (op === RawOp.Enable) {
        const ids: string[] = [];
        for (const [memberId, member] of peers) if (member !== self && member.enabled) ids.push(memberId);
        self.enabled = true;
        self.send(idFrame(RawOp.Enable, ids.join('\n')));
        const joined = idFrame(RawOp.Joined, id);
        for (const member of peers.values()) if (member !== self && member.enabled) member.send(joined);
      }
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      peers.delete(id);
      if (peers.size === 0) rooms.delete(room);
      if (!self.enabled) return;
      const left = idFrame(RawOp.Left, id);
      for (const member of peers.values()) if (member.enabled) member.send(left);
    });
  });

  return wsBenchServer(http, wss);
}
