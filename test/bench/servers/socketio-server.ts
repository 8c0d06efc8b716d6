/**
 * The same workload done the idiomatic Socket.IO 4 way: the room and name come
 * in the handshake `auth`; `enable` joins `<room>:enabled` and acknowledges
 * with the presence list; direct messages go out with `io.to(id).emit`,
 * broadcasts with `socket.to(room).emit`; both are acknowledged, as roomstate
 * acknowledges. Targets are checked as roomstate checks them (enabled, same room).
 *
 * With a Redis URL it is one node of a cluster through the official
 * `@socket.io/redis-adapter` (ioredis clients, as roomstate uses). Then a
 * direct send to a participant on another node goes out unchecked: checking
 * would cost a `fetchSockets()` round trip to every node per message, which
 * no Socket.IO user would do on the hot path.
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { createServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { listenOnLoopback } from './listen.js';

/** A running Socket.IO bench server. */
export interface SocketIoBenchServer {
  listen(): Promise<{ url: string }>;
  close(): Promise<void>;
}

/** What a participant is known by. */
interface Participant {
  readonly id: string;
  readonly attributes: { readonly name: string };
}

type Ack = (reply: { error?: string; participants?: Participant[] } | null) => void;

/** Creates the Socket.IO server on 127.0.0.1 with a free port. */
export function createSocketIoServer(redisUrl?: string): SocketIoBenchServer {
  const http = createServer();
  const io = new Server(http, { serveClient: false, maxHttpBufferSize: 16 * 1024 * 1024 });
  const redis = redisUrl === undefined ? [] : [new Redis(redisUrl), new Redis(redisUrl)];
  if (redis.length > 0) io.adapter(createAdapter(redis[0], redis[1]));

  io.on('connection', (socket: Socket) => {
    const auth = socket.handshake.auth as { room?: unknown; name?: unknown };
    const room = String(auth.room ?? '');
    const name = String(auth.name ?? '');
    const enabledRoom = `${room}:enabled`;
    const self: Participant = { id: socket.id, attributes: { name } };
    socket.data.participant = self;
    let enabled = false;

    socket.on('enable', (ack: Ack) => {
      const participants: Participant[] = [];
      for (const id of io.sockets.adapter.rooms.get(enabledRoom) ?? []) {
        const other = io.sockets.sockets.get(id);
        if (other) participants.push(other.data.participant as Participant);
      }
      enabled = true;
      void socket.join(enabledRoom);
      socket.to(enabledRoom).emit('participant.enabled', self);
      ack({ participants });
    });

    socket.on('send', (message: { to: string; type: string; message: unknown }, ...rest: unknown[]) => {
      const ack = rest.pop() as Ack;
      if (redis.length === 0 && !io.sockets.adapter.rooms.get(enabledRoom)?.has(message.to)) {
        ack({ error: 'the participant was not found' });
        return;
      }
      const push = { from: socket.id, type: message.type, message: message.message };
      if (rest.length > 0) io.to(message.to).emit('message', push, rest[0]);
      else io.to(message.to).emit('message', push);
      ack(null);
    });

    socket.on('broadcast', (message: { type: string; message: unknown }, ack: Ack) => {
      socket.to(enabledRoom).emit('message', { from: socket.id, type: message.type, message: message.message });
      ack(null);
    });

    socket.on('disconnect', () => {
      if (enabled) socket.to(enabledRoom).emit('participant.disabled', { id: socket.id });
    });
  });

  return {
    listen: () => listenOnLoopback(http),
    close: () =>
      new Promise((resolve) => {
        io.close(() => {
          for (const client of redis) client.disconnect();
          resolve();
        });
      }),
  };
}
