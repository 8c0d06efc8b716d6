/**
 * The cluster soak: three `roomstate serve --redis` processes on one real
 * redis-server, official and roomstate clients in several rooms sending
 * numbered direct messages and broadcasts, one node SIGKILLed and restarted
 * every `killEveryMs` (node 0 is never killed: its RSS is watched), and Redis
 * restarted once. Every send and delivery is recorded; {@link judge} turns
 * the record into figures and failures (see `SoakReport`).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { spawnCliServer, type SpawnedServer } from '../helpers/spawned-server.js';
import { officialSeat, roomstateSeat, type Received, type SeatClient } from './seat-clients.js';
import { judge, type SoakOptions, type SoakRecord, type SoakReport } from './soak-report.js';

const SECRET = `soak-${randomUUID()}`;
const CONNECT_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Node {
  readonly index: number;
  port: number;
  server: SpawnedServer | undefined;
  /** Set while the soak itself stops the node, so its exit is expected. */
  stopping: boolean;
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) / 1024 : NaN;
}

/** Runs one soak and judges it. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const start = Date.now();
  const now = () => Date.now() - start;
  const record: SoakRecord = { options, participants: new Map(), sends: new Map(), received: new Map(), duplicates: 0, kills: [], redisOutage: undefined, exits: [], rss: [] };
  const redis: TestRedis = await startRedis();
  const nodes: Node[] = [0, 1, 2].map((index) => ({ index, port: 0, server: undefined, stopping: false }));
  const seats: SeatClient[] = [];
  let running = true;

  async function startNode(node: Node): Promise<void> {
    const args = ['--redis', redis.url, '--redis-lease', `${options.leaseMs}ms`, '--log-level', 'warn'];
    const server = await spawnCliServer({ secret: SECRET, args: node.port ? [...args, '--port', String(node.port)] : args });
    node.port = Number(new URL(server.url).port);
    node.server = server;
    node.stopping = false;
    server.child.once('exit', (code, signal) => {
      if (!node.stopping) record.exits.push(`node ${node.index} exited on its own at ${now()} ms (code ${code}, signal ${signal}):\n${server.stderr().slice(-2000)}`);
      if (node.server === server) node.server = undefined;
    });
  }

  function liveNodes(from: number): Node[] {
    return [0, 1, 2].map((i) => nodes[(from + i) % 3]).filter((node) => node.server !== undefined && !node.stopping);
  }

  /** One seat: a client in a room, seated again on a live node whenever its connection ends. */
  async function seat(room: string, name: string, kind: 'official' | 'roomstate', home: number): Promise<void> {
    let sent = 0;
    while (running) {
      const node = liveNodes(home)[0];
      if (node === undefined) {
        await sleep(200);
        continue;
      }
      let client: SeatClient;
      // This connection's deliveries, kept from its first message on (which may come before its
      // connect resolves and its id is known), filed under its id once it is.
      const got = new Set<string>();
      const onMessage = (message: Received) => {
        const body = message.body as { id?: unknown };
        if (typeof body?.id !== 'string' || !message.type.startsWith('soak.')) return;
        if (got.has(body.id)) record.duplicates++;
        got.add(body.id);
      };
      try {
        const target = { url: node.server!.url, room, name, secret: SECRET, onMessage };
        client = kind === 'official' ? await officialSeat(target, CONNECT_TIMEOUT_MS) : await roomstateSeat(target, CONNECT_TIMEOUT_MS);
      } catch {
        await sleep(300);
        continue;
      }
      const id = client.id;
      record.received.set(id, got);
      const participant = { room, node: node.index, kind, joinedAt: now(), closedAt: undefined as number | undefined };
      record.participants.set(id, participant);
      seats.push(client);
      let open = true;
      void client.closed.then(() => {
        open = false;
        participant.closedAt ??= now();
      });
      while (running && open) {
        await sleep(options.sendIntervalMs * (0.5 + Math.random()));
        if (!running || !open) break;
        const msgId = `${id}#${++sent}`;
        const startedAt = now();
        if (Math.random() < 0.2) {
          const entry = { kind: 'broadcast' as const, from: id, room, to: undefined, startedAt, resolvedAt: undefined as number | undefined, error: undefined as string | undefined };
          record.sends.set(msgId, entry);
          client.broadcast('soak.broadcast', { id: msgId }).then(
            () => (entry.resolvedAt = now()),
            (error: Error) => (entry.error = String(error?.message ?? error).slice(0, 90)),
          );
          continue;
        }
        // Whoever this client lists, as an application would: a killed node's participants among them until they are removed.
        const targets = client.presentIds().filter((other) => record.participants.has(other));
        if (targets.length === 0) continue;
        const to = targets[Math.floor(Math.random() * targets.length)];
        const entry = { kind: 'direct' as const, from: id, room, to, startedAt, resolvedAt: undefined as number | undefined, error: undefined as string | undefined };
        record.sends.set(msgId, entry);
        client.send(to, 'soak.direct', { id: msgId }).then(
          () => (entry.resolvedAt = now()),
          (error: Error) => (entry.error = String(error?.message ?? error).slice(0, 90)),
        );
      }
      await client.closed.catch(() => undefined);
      participant.closedAt ??= now();
      if (running) await sleep(300);
    }
  }

  /** Watches which participants of a killed node each surviving client still lists. */
  function watchKill(kill: SoakRecord['kills'][number]): void {
    const killed = new Set([...record.participants].filter(([, p]) => p.node === kill.node && (p.closedAt === undefined || p.closedAt >= kill.at - 100)).map(([id]) => id));
    kill.participants = killed.size;
    const timer = setInterval(() => {
      const seen = seats.some((client) => {
        const p = record.participants.get(client.id);
        return p !== undefined && p.closedAt === undefined && p.node !== kill.node && client.presentIds().some((id) => killed.has(id));
      });
      if (seen) kill.lastSeenAt = now();
      if (now() - kill.at > 30_000 || !running) clearInterval(timer);
    }, 100);
  }

  /** Watches for the first moment after Redis's return when every client lists exactly the others of its room. */
  function watchAgreement(outage: NonNullable<SoakRecord['redisOutage']>): void {
    const timer = setInterval(() => {
      const live = seats.filter((client) => record.participants.get(client.id)?.closedAt === undefined);
      const agreed = live.every((client) => {
        const own = record.participants.get(client.id)!;
        const expected = live.filter((other) => other !== client && record.participants.get(other.id)!.room === own.room).map((other) => other.id).sort();
        return JSON.stringify(client.presentIds().sort()) === JSON.stringify(expected);
      });
      if (agreed) {
        outage.agreedAt = now();
        clearInterval(timer);
      } else if (now() - outage.endedAt > 60_000 || !running) clearInterval(timer);
    }, 100);
  }

  try {
    for (const node of nodes) await startNode(node);
    options.log(`nodes on ports ${nodes.map((node) => node.port).join(', ')}, Redis at ${redis.url}`);
    const seated: Promise<void>[] = [];
    for (let r = 0; r < options.rooms; r++) {
      const room = `soak-${r}-${randomUUID().slice(0, 8)}`;
      for (let s = 0; s < options.seatsPerRoom; s++) seated.push(seat(room, `seat-${r}-${s}`, s % 2 === 0 ? 'official' : 'roomstate', (r + s) % 3));
    }
    const rssTimer = setInterval(() => {
      const pid = nodes[0].server?.child.pid;
      if (pid !== undefined) record.rss.push({ at: now(), mib: rssMiB(pid) });
    }, 5_000);

    const kills = Math.floor(options.durationMs / options.killEveryMs);
    const redisAt = options.killEveryMs * Math.max(1, Math.floor(kills / 2)) + options.killEveryMs / 2;
    let redisDone = false;
    for (let k = 1; now() < options.durationMs; ) {
      const nextKill = k * options.killEveryMs;
      if (!redisDone && now() >= redisAt) {
        redisDone = true;
        const outage = { startedAt: now(), endedAt: 0, agreedAt: undefined as number | undefined };
        record.redisOutage = outage;
        options.log(`${(now() / 1000).toFixed(0)} s: stopping Redis for ${options.redisOutageMs} ms`);
        await redis.stop();
        await sleep(options.redisOutageMs);
        await redis.restart();
        outage.endedAt = now();
        watchAgreement(outage);
      } else if (now() >= nextKill && k <= kills) {
        const node = nodes[1 + ((k - 1) % 2)];
        k++;
        if (node.server === undefined) continue;
        const kill = { node: node.index, at: now(), participants: 0, lastSeenAt: undefined as number | undefined };
        record.kills.push(kill);
        node.stopping = true;
        const exited = new Promise((resolve) => node.server!.child.once('exit', resolve));
        node.server.child.kill('SIGKILL');
        await exited;
        kill.at = now();
        watchKill(kill);
        options.log(`${(kill.at / 1000).toFixed(0)} s: SIGKILLed node ${node.index} (${kill.participants} participants)`);
        await sleep(options.nodeDownMs);
        await startNode(node);
      } else {
        await sleep(100);
      }
    }
    running = false;
    const stoppedAt = now();
    // Answers and deliveries still on their way get time to land.
    while (now() - stoppedAt < 15_000 && [...record.sends.values()].some((send) => send.resolvedAt === undefined && send.error === undefined)) await sleep(200);
    await sleep(3_000);
    clearInterval(rssTimer);
    record.endedAt = now();
    await Promise.all(seats.map((client) => client.close()));
    await Promise.allSettled(seated);
  } finally {
    running = false;
    for (const node of nodes) node.stopping = true;
    await Promise.all(nodes.map((node) => node.server?.close()));
    await redis.dispose();
  }
  return judge(record);
}
