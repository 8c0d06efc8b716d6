/**
 * A load generator process. Forked by the orchestrator; receives an `init`
 * naming the client kind and server, then runs tasks one at a time and
 * reports results over IPC. Exits on `exit` or when the parent goes away.
 */
import { roomstateClientDriver } from './drivers/roomstate-client.js';
import { roomstateLeanDriver } from './drivers/roomstate-lean.js';
import { rawDriver } from './drivers/raw.js';
import { socketIoDriver } from './drivers/socketio.js';
import { officialClientDriver } from './drivers/official.js';
import type { BenchDriver, BenchPeer } from './drivers/types.js';
import { memoryFigures, settleHeap, type GeneratorCommand, type GeneratorInit, type GeneratorReport, type Task, type TaskResult } from './ipc.js';
import { closeAll } from './workloads/common.js';
import type { WorkloadContext } from './workloads/context.js';
import { runDirect } from './workloads/direct.js';
import { runFanout } from './workloads/fanout.js';
import { connectFootprint } from './workloads/footprint.js';
import { runPresenceEnable, runPresenceJoin } from './workloads/presence.js';
import { runBystanderProbe, runPresenceFlood } from './workloads/presence-flood.js';
import { runReceive } from './workloads/receive.js';

function report(message: GeneratorReport): void {
  process.send?.(message);
}

function driverFor(init: GeneratorInit): BenchDriver {
  switch (init.client) {
    case 'roomstate':
      return roomstateClientDriver(init.url, init.secret);
    case 'roomstate-lean':
      return roomstateLeanDriver(init.url, init.secret);
    case 'raw':
      return rawDriver(init.url);
    case 'socketio':
      return socketIoDriver(init.url);
    case 'official':
      return officialClientDriver(init.url, init.secret);
  }
}

let driver: BenchDriver | undefined;
let context: WorkloadContext | undefined;
const kept: BenchPeer[] = [];
let queue: Promise<void> = Promise.resolve();

async function run(task: Task): Promise<TaskResult> {
  if (!driver || !context) throw new Error('generator received a task before init');
  switch (task.kind) {
    case 'direct':
      return runDirect(driver, task, context);
    case 'fanout':
      return runFanout(driver, task, context);
    case 'receive':
      return runReceive(driver, task, context);
    case 'presence-join':
      return runPresenceJoin(driver, task, context);
    case 'presence-enable':
      return runPresenceEnable(driver, task, context);
    case 'presence-flood':
      return runPresenceFlood(driver, task, context);
    case 'bystander-probe':
      return runBystanderProbe(driver, task, context);
    case 'footprint-connect':
      return connectFootprint(driver, task, kept);
    case 'memory':
      settleHeap();
      return { kind: 'memory', memory: memoryFigures() };
    case 'close-all':
      await closeAll(kept.splice(0));
      return { kind: 'closed' };
  }
}

process.on('message', (message: GeneratorCommand) => {
  if (message.type === 'init') {
    driver = driverFor(message.init);
    const prefix = message.init.roomPrefix;
    const otherUrl = message.init.otherUrl;
    context = {
      receiverDriver: otherUrl === undefined ? driver : driverFor({ ...message.init, url: otherUrl }),
      roomPrefix: prefix,
      mark: (name) => report({ type: 'mark', name }),
      retain: (peers) => {
        for (const peer of peers) kept.push(peer);
      },
    };
    report({ type: 'ready' });
  } else if (message.type === 'task') {
    const { id, task } = message;
    queue = queue.then(() =>
      run(task).then(
        (result) => report({ type: 'result', id, result }),
        (error: unknown) => report({ type: 'failed', id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      ),
    );
  } else if (message.type === 'exit') {
    // Let IPC flush, then exit normally so --cpu-prof can write its profile.
    void queue.finally(() => setImmediate(() => process.exit(0)));
  }
});

process.on('disconnect', () => process.exit(0));
