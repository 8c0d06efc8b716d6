/**
 * A server process's instructions per message, sockets included, counted by
 * valgrind (callgrind, no cache simulation): a figure the machine's load
 * does not move, to compare the roomstate server with the lean protocol
 * relay (or one build of roomstate with another) on a shared machine.
 *
 * For each server kind it runs the server process (test/bench/server-entry.ts)
 * under callgrind, driven by lean protocol clients in this process: after
 * `--messages` messages of warm-up it zeroes the counters
 * (`callgrind_control --zero`), runs `--messages` more and dumps them, so
 * start-up, joins and JIT warm-up are left out.
 *
 *   npx tsx test/bench/server-cost.ts [--servers roomstate,protocol-relay] [--workload direct|fanout]
 *                                     [--messages 20000] [--room 41] [--repeats 1] [--keep DIR]
 *
 * direct: one pair, 64 sends in flight; fan-out: one broadcaster in a room
 * of `--room` enabled members, 16 broadcasts in flight ("per message" is then
 * per broadcast, and per delivery is printed beside it). Slow: the server
 * runs some 50 times slower under valgrind (a minute or two per run); counts
 * still move by a few per cent from run to run (JIT and GC timing), so repeat.
 * `--keep DIR` keeps each callgrind dump there, for `callgrind_annotate`.
 */
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { roomstateLeanDriver } from './drivers/roomstate-lean.js';
import { now, paddingFor, type BenchPeer } from './drivers/types.js';
import type { ServerCommand, ServerKind, ServerReport } from './ipc.js';

const SERVER_ENTRY = fileURLToPath(new URL('./server-entry.ts', import.meta.url));
/**
 * The fair scheduler's slice while counting. The scheduler times handling
 * with the wall clock, and under valgrind (some 50 times slower, and
 * descheduled on a loaded machine) every turn looks long: at the default
 * 10 ms the loop would count as congested and frames would go through the
 * scheduler's queue, which a lone pair at full speed never does. A slice no
 * turn reaches keeps the uncongested path (handled inline, timed and
 * charged as always) whatever the load.
 */
const UNREACHED_SLICE_MS = 1e9;

interface Options {
  readonly workload: 'direct' | 'fanout';
  readonly messages: number;
  readonly room: number;
  /** Where the callgrind dumps are kept (for `callgrind_annotate`); undefined to delete them. */
  readonly keep: string | undefined;
}

/**
 * Runs one server under callgrind, warms it up with `options.messages`
 * messages, zeroes the counters, runs `options.messages` more and dumps
 * them: resolves with the instructions of those messages alone.
 */
async function instructions(kind: ServerKind, options: Options, secret: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'server-cost-'));
  const out = join(dir, 'callgrind.out');
  const child = fork(SERVER_ENTRY, [kind], {
    execPath: 'valgrind',
    execArgv: ['--tool=callgrind', `--callgrind-out-file=${out}`, '--dump-line=no', '--quiet', process.execPath, '--import', 'tsx'],
    env: { ...process.env, BENCH_SECRET: secret, BENCH_FAIRNESS_SLICE_MS: String(UNREACHED_SLICE_MS) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before ready`)));
      child.on('message', (report: ServerReport) => {
        if (report.type === 'ready') resolve(report.url);
        else if (report.type === 'fatal') reject(new Error(report.message));
      });
    });
    const workload = await connect(url, secret, options);
    await workload.run(options.messages);
    execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
    await workload.run(options.messages);
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
    const dump = readdirSync(dir).find((file) => file !== 'callgrind.out');
    if (dump === undefined) throw new Error(`callgrind wrote no dump in ${dir}`);
    const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'));
    if (!totals) throw new Error(`no totals line in ${dump}`);
    if (options.keep !== undefined) copyFileSync(join(dir, dump), join(options.keep, `${kind}-${options.workload}-${process.pid}-${Date.now()}.callgrind`));
    return Number(totals[1]);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The connected peers of one workload, ready to run batches of messages. */
interface Workload {
  /** Sends `count` messages and resolves once every send is answered and every delivery received. */
  run(count: number): Promise<void>;
}

async function connect(url: string, secret: string, options: Options): Promise<Workload> {
  const driver = roomstateLeanDriver(url, secret);
  const room = `cost-${randomBytes(4).toString('hex')}`;
  const size = options.workload === 'direct' ? 2 : options.room;
  const peers: BenchPeer[] = [];
  for (let i = 0; i < size; i++) {
    const peer = await driver.connect(room, `member-${i}`);
    await peer.enable();
    peers.push(peer);
  }
  const sender = peers[peers.length - 1];
  const receivers = peers.slice(0, -1);
  const window = options.workload === 'direct' ? 64 : 16;
  const padding = paddingFor(100);
  let delivered = 0;
  let onDelivery = (): void => undefined;
  for (const receiver of receivers) {
    receiver.onMessage = () => {
      delivered++;
      onDelivery();
    };
  }
  let sequence = 0;
  return {
    run: (count) =>
      new Promise<void>((resolve, reject) => {
        const expected = delivered + count * receivers.length;
        let sent = 0;
        let answered = 0;
        const check = (): void => {
          if (answered === count && delivered === expected) resolve();
        };
        onDelivery = check;
        const next = (): void => {
          if (sent >= count) return;
          sent++;
          const body = { s: sequence++, t: now(), p: padding };
          const ack = options.workload === 'direct' ? sender.send(receivers[0].id, body) : sender.broadcast(body);
          ack!.then(() => {
            answered++;
            check();
            next();
          }, reject);
        };
        for (let i = 0; i < window; i++) next();
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', default: 'roomstate,protocol-relay' },
      workload: { type: 'string', default: 'direct' },
      messages: { type: 'string', default: '20000' },
      room: { type: 'string', default: '41' },
      repeats: { type: 'string', default: '1' },
      keep: { type: 'string' },
    },
  });
  const workload = values.workload === 'fanout' ? 'fanout' : 'direct';
  const messages = Number(values.messages);
  const room = Number(values.room);
  const keep = values.keep;
  if (keep !== undefined) mkdirSync(keep, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  const per = workload === 'direct' ? 'message' : `broadcast (${room - 1} deliveries)`;
  for (let repeat = 0; repeat < Number(values.repeats); repeat++) {
    for (const kind of values.servers.split(',') as ServerKind[]) {
      const total = await instructions(kind, { workload, messages, room, keep }, secret);
      const each = total / messages;
      const tail = workload === 'fanout' ? `, ${Math.round(each / (room - 1)).toLocaleString('en-US')} per delivery` : '';
      console.log(`${kind} ${workload}: ${Math.round(each).toLocaleString('en-US')} instructions per ${per}${tail} (${total.toLocaleString('en-US')} for ${messages})`);
    }
  }
}

await main();
