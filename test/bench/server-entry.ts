/**
 * The server-under-test process. Forked by the orchestrator with the server
 * kind as its argument (and the roomstate secret in `BENCH_SECRET`); reports
 * `ready` with its URL, answers memory and CPU queries, and stops on `stop`.
 * Run with `--expose-gc` so memory figures are read after a full GC.
 */
import { startRoomstateServer } from './servers/roomstate-server.js';
import { createRawRelay } from './servers/raw-relay.js';
import { createSocketIoServer } from './servers/socketio-server.js';
import { cpuFigures, memoryFigures, settleHeap, type ServerCommand, type ServerKind, type ServerReport } from './ipc.js';

interface Running {
  readonly url: string;
  close(): Promise<void>;
}

function report(message: ServerReport): void {
  process.send?.(message);
}

async function start(kind: ServerKind): Promise<Running> {
  switch (kind) {
    case 'roomstate':
      return startRoomstateServer(process.env.BENCH_SECRET ?? '');
    case 'raw': {
      const relay = createRawRelay();
      const { url } = await relay.listen();
      return { url, close: () => relay.close() };
    }
    case 'socketio': {
      const server = createSocketIoServer();
      const { url } = await server.listen();
      return { url, close: () => server.close() };
    }
  }
}

const kind = process.argv[2] as ServerKind;
let running: Running | undefined;

process.on('message', (message: ServerCommand) => {
  if (message.type === 'memory') {
    settleHeap();
    report({ type: 'memory', id: message.id, memory: memoryFigures() });
  } else if (message.type === 'cpu') {
    report({ type: 'cpu', id: message.id, cpu: cpuFigures() });
  } else if (message.type === 'stop') {
    const closing = running ? running.close() : Promise.resolve();
    // Exit normally (not by signal) so --cpu-prof writes its profile; never hang on a slow close.
    const timer = setTimeout(() => process.exit(0), 5000);
    void closing.finally(() => {
      clearTimeout(timer);
      setImmediate(() => process.exit(0));
    });
  }
});
process.on('disconnect', () => process.exit(0));

start(kind).then(
  (server) => {
    running = server;
    report({ type: 'ready', url: server.url });
  },
  (error: unknown) => {
    report({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  },
);
