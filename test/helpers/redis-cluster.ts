/**
 * A real Redis Cluster for tests: three masters (`redis-server
 * --cluster-enabled yes`) on free 127.0.0.1 ports, each in its own temporary
 * directory, joined by `redis-cli --cluster create` with no replicas, and
 * ready once every node's `cluster info` says `cluster_state:ok`. A master
 * can be stopped and started again (same port, same node config, so it
 * takes its slots back) to test what its rooms see meanwhile.
 *
 * @example
 * ```ts
 * const cluster = await startRedisCluster();
 * const server = createRoomServer({ secret, redis: { cluster: cluster.urls } });
 * ```
 */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, launchRedis, portIsFree, stopRedis } from './redis-server.js';

const run = promisify(execFile);

/** A running test Redis Cluster. */
export interface TestRedisCluster {
  /** `redis://127.0.0.1:<port>` of every master. */
  readonly urls: readonly string[];
  readonly ports: readonly number[];
  /** Index of the master that serves `key`'s hash slot. */
  masterOf(key: string): Promise<number>;
  /** Stops master `index` (SIGTERM, waits for its exit). */
  stopMaster(index: number): Promise<void>;
  /** Starts master `index` again and waits until the cluster is ok. */
  restartMaster(index: number): Promise<void>;
  /** Stops every master and removes their directories. */
  dispose(): Promise<void>;
}

interface Master {
  readonly port: number;
  readonly dir: string;
  child: ChildProcess | undefined;
}

// Without full coverage the other masters keep serving while one is down (what docs/cluster.md advises).
const CLUSTER_ARGS = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--cluster-require-full-coverage', 'no'];
const READY_TIMEOUT_MS = 60_000;

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 });
  return stdout;
}

/** Waits until every master reports `cluster_state:ok` and agrees on the slots. */
async function waitForOk(ports: readonly number[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const states = await Promise.all(ports.map((port) => redisCli(port, 'cluster', 'info').catch(() => '')));
    if (states.every((info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))) return;
    if (Date.now() > deadline) throw new Error(`the Redis Cluster did not become ok within ${READY_TIMEOUT_MS / 1000} s:\n${states.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Redis Cluster's bus port is the client port plus this. */
const CLUSTER_BUS_OFFSET = 10_000;

/** A free loopback port whose cluster bus port is free too (Redis aborts when it cannot bind both). */
async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + CLUSTER_BUS_OFFSET <= 65_535 && (await portIsFree(port + CLUSTER_BUS_OFFSET))) return port;
  }
  throw new Error(`found no free loopback port whose cluster bus port (+${CLUSTER_BUS_OFFSET}) is free too`);
}

/**
 * Launches one cluster master on free ports, in a fresh directory; another
 * process may take a port between the probe and the bind, so it tries again
 * (on other ports, in another directory) then.
 */
async function launchMaster(): Promise<Master> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'roomstate-redis-cluster-'));
    const port = await freeClusterPort();
    try {
      return { port, dir, child: await launchRedis(port, dir, CLUSTER_ARGS) };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      if (attempt >= 3 || !String((error as Error).message).includes('Address already in use')) throw error;
    }
  }
}

/** Starts a 3-master Redis Cluster on free loopback ports. */
export async function startRedisCluster(size = 3): Promise<TestRedisCluster> {
  const masters: Master[] = [];
  try {
    for (let i = 0; i < size; i++) {
      masters.push(await launchMaster());
    }
    const ports = masters.map((master) => master.port);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
    await waitForOk(ports);
  } catch (error) {
    await Promise.all(masters.map((master) => master.child && stopRedis(master.child)));
    for (const master of masters) rmSync(master.dir, { recursive: true, force: true });
    throw error;
  }
  const ports = masters.map((master) => master.port);
  return {
    urls: ports.map((port) => `redis://127.0.0.1:${port}`),
    ports,
    async masterOf(key) {
      const slot = Number((await redisCli(ports[0], 'cluster', 'keyslot', key)).trim());
      for (const line of (await redisCli(ports[0], 'cluster', 'nodes')).split('\n')) {
        const fields = line.split(' ');
        const port = Number(fields[1]?.split('@')[0].split(':')[1]);
        const owns = fields.slice(8).some((range) => {
          const [from, to = from] = range.split('-').map(Number);
          return slot >= from && slot <= to;
        });
        if (owns) return ports.indexOf(port);
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    async stopMaster(index) {
      const master = masters[index];
      if (master.child) await stopRedis(master.child);
      master.child = undefined;
    },
    async restartMaster(index) {
      const master = masters[index];
      if (master.child) await stopRedis(master.child);
      master.child = await launchRedis(master.port, master.dir, CLUSTER_ARGS);
      await waitForOk(ports);
    },
    async dispose() {
      await Promise.all(masters.map((master) => master.child && stopRedis(master.child)));
      for (const master of masters) rmSync(master.dir, { recursive: true, force: true });
    },
  };
}
