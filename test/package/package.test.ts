/**
 * What `npm pack` ships must work with plain `node`: compiled ESM with
 * declarations, a bin that starts the server, and package entry points that
 * resolve by name. `npm test` builds first, so `dist/` is fresh here.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsumerProject, type ConsumerProject } from '../helpers/consumer-project.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string>;
};

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('the published package', () => {
  it('ships compiled ESM, declarations and the bin, and no tests', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
    expect(files.has(pkg.bin.roomstate)).toBe(true);
    for (const [name, entry] of Object.entries(pkg.exports)) {
      if (typeof entry === 'string') continue;
      expect(files.has(entry.default.replace(/^\.\//, '')), `${name} default`).toBe(true);
      expect(files.has(entry.types.replace(/^\.\//, '')), `${name} types`).toBe(true);
    }
    expect([...files].filter((f) => f.startsWith('test/'))).toEqual([]);
    // The console page is bundled at build time and shipped; nothing is fetched at run time.
    expect(files.has('dist/console/app.js')).toBe(true);
    expect(readFileSync(`${root}${pkg.bin.roomstate}`, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it('resolves every entry point by package name with plain node', async () => {
    const script = `
      const main = await import('roomstate');
      const client = await import('roomstate/client');
      const machines = await import('roomstate/machines');
      const protocol = await import('roomstate/protocol');
      const inspect = await import('roomstate/inspect');
      const agents = await import('roomstate/agents');
      console.log(JSON.stringify({
        createRoomServer: typeof main.createRoomServer,
        mintToken: typeof main.mintToken,
        RoomClient: typeof client.RoomClient,
        machines: Object.keys(machines).length,
        encodePackets: typeof protocol.encodePackets,
        consoleInspector: typeof inspect.consoleInspector,
        openThread: typeof agents.openThread,
        serveAgent: typeof agents.serveAgent,
      }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    expect(JSON.parse(stdout)).toEqual({
      createRoomServer: 'function',
      mintToken: 'function',
      RoomClient: 'function',
      machines: expect.any(Number),
      encodePackets: 'function',
      consoleInspector: 'function',
      openThread: 'function',
      serveAgent: 'function',
    });
    expect(JSON.parse(stdout).machines).toBeGreaterThanOrEqual(3);
  });

  it('starts the server from the compiled bin and stops on SIGTERM', async () => {
    expect(existsSync(`${root}${pkg.bin.roomstate}`)).toBe(true);
    const child = spawn(process.execPath, [pkg.bin.roomstate, 'serve', '--port', '0', '--secret', 'package-test-secret'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no listening line; stdout so far: ${out}`)), 15_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /roomstate listening on (ws:\/\/\S+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    const status = await fetch(url.replace(/^ws:/, 'http:') + '/');
    expect(status.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('the packed package in a strict TypeScript project', () => {
  let project: ConsumerProject | undefined;
  let packDir: string | undefined;
  afterEach(async () => {
    await project?.dispose();
    if (packDir !== undefined) await rm(packDir, { recursive: true, force: true });
    project = undefined;
    packDir = undefined;
  });

  it('type-checks with strict and skipLibCheck: false, with only @types/node added', async () => {
    packDir = await mkdtemp(join(tmpdir(), 'roomstate-pack-'));
    // dist/ is current (the test setup builds), so the pack skips prepare.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: root });
    const tarball = join(packDir, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename);
    const consumer = [
      "import { createRoomServer, mintToken, RoomClient, type RoomServerOptions } from 'roomstate';",
      "import { RoomClient as BrowserClient, type ConnectionEnd } from 'roomstate/client';",
      "import { connectionMachine } from 'roomstate/machines';",
      "import { encodePackets, CloseCode, roomUrl } from 'roomstate/protocol';",
      "import { consoleInspector } from 'roomstate/inspect';",
      "import { layoutStatechart, machineStatechart } from 'roomstate';",
      'const options: RoomServerOptions = { secret: "s", port: 0 };',
      'const end: ConnectionEnd | undefined = new RoomClient({ url: "ws://127.0.0.1:1", room: "r", token: "t" }).closeReason;',
      'const layout = layoutStatechart(machineStatechart("connection")!);',
      'export const used = [createRoomServer(options), mintToken, BrowserClient, end, connectionMachine, encodePackets, CloseCode.Normal, roomUrl, consoleInspector, layout];',
      '',
    ].join('\n');
    project = await createConsumerProject({ tarball, files: { 'index.ts': consumer } });
    const checked = await project.typecheck();
    // Before: TS7016 for 'ws' from dist/src/client/node.d.ts, TS2536 from elkjs's own .d.ts.
    expect(checked.output).toBe('');
    expect(checked.code).toBe(0);
  });
});
