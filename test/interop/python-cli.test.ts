/**
 * The official `meshagent` CLI (meshagent-cli 0.56.0, unmodified) against a
 * real roomstate server. The first test runs the README's section "Using the
 * official meshagent CLI" as written: its `export` lines (the key minted by
 * the real `roomstate token --api-key`), its three `meshagent room messaging`
 * commands, and the `grep` of alice's `roomstate room messaging listen`
 * output, comparing what each prints with what the README shows (ids aside).
 * The others cover the refusals and the CLI's token-only path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mintApiKey } from '../../src/auth/api-key.js';
import { codeBlocks } from '../docs/markdown.js';
import { expectExitCode, killAllClis, runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { killAllMeshagentClis, runMeshagentCli } from '../helpers/meshagent-cli.js';
import { pythonAvailability } from '../helpers/python.js';
import { REPO_ROOT } from '../helpers/spawned-server.js';
import { uniqueRoom, useServer } from '../helpers/server.js';

const SECTION = 'Using the official meshagent CLI';
const README_URL = 'http://127.0.0.1:8080';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TEST_TIMEOUT_MS = 600_000;

const availability = pythonAvailability();
const session = codeBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).find((block) => block.heading === SECTION && block.lang === 'console');

/** One `$ command` of a console block and the lines it prints. */
interface Step {
  readonly command: string;
  readonly output: string[];
}

function stepsOf(text: string): Step[] {
  const steps: Array<{ command: string; output: string[] }> = [];
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: [] });
    else if (steps.length === 0) throw new Error(`the README block starts with output, not a command: ${line}`);
    else steps.at(-1)!.output.push(line);
  }
  return steps;
}

/** Splits a command line as a shell would, for the plain and single-quoted words the README uses. */
function words(command: string): string[] {
  const out: string[] = [];
  for (const match of command.matchAll(/'([^']*)'|(\S+)/g)) out.push(match[1] ?? match[2]);
  return out;
}

/** Lines with the ids (different on every run) replaced. */
function normalise(lines: readonly string[]): string[] {
  return lines.map((line) => line.replace(UUID, 'ID'));
}

const outputLines = (text: string): string[] => text.trimEnd().split('\n');

describe.skipIf(!availability.run)('the official meshagent CLI 0.56.0 against roomstate', () => {
  const venv = availability.run ? availability.venv : (undefined as never);
  const fx = useServer({ logger: false });
  afterEach(async () => {
    await killAllMeshagentClis();
    await killAllClis();
  });

  /** Starts `roomstate room messaging listen` as `name` in `room`; resolves with it and its participant id. */
  async function listen(room: string, name: string): Promise<{ cli: CliProcess; id: string }> {
    const cli = startCli(['room', 'messaging', 'listen', '--name', name], { env: { ROOMSTATE_SECRET: fx.secret, ROOMSTATE_ROOM: room, ROOMSTATE_URL: fx.url } });
    const stderr = await cli.waitForStderr(/as participant \S+ \(Ctrl-C to stop\)/);
    return { cli, id: /as participant (\S+) \(/.exec(stderr)![1] };
  }

  const baseEnv = () => ({ MESHAGENT_API_URL: fx.httpUrl, MESHAGENT_PROJECT_ID: 'roomstate' });

  it(
    'runs the README section as written: list, send and broadcast, delivered to alice',
    async () => {
      expect(session, `README.md has a console block under "${SECTION}"`).toBeDefined();
      const steps = stepsOf(session!.text);
      // The README's session joins "lobby", as the one before it does; no other test here uses it.
      const alice = await listen('lobby', 'alice');
      const readmeAliceId = /"id": "([^"]+)"/.exec(session!.text)![1];
      const env: Record<string, string> = {};
      const ran: string[] = [];
      for (const step of steps) {
        const argv = words(step.command);
        if (argv[0] === 'export') {
          expect(step.output).toEqual([]);
          for (const assignment of step.command.slice('export '.length).matchAll(/(\w+)=(\$\(([^)]*)\)|\S+)/g)) {
            const [, name, value, inner] = assignment;
            if (inner === undefined) env[name] = value.replace(README_URL, fx.httpUrl);
            else {
              const [program, ...args] = words(inner);
              expect(program).toBe('roomstate');
              const minted = await runCli(args, { env: { ROOMSTATE_SECRET: fx.secret } });
              expectExitCode(minted, 0);
              env[name] = minted.stdout.trim();
            }
          }
        } else if (argv[0] === 'meshagent') {
          const exit = await runMeshagentCli(venv, argv.slice(1).map((word) => word.replace(readmeAliceId, alice.id)), env);
          expectExitCode(exit, 0);
          expect(normalise(outputLines(exit.stdout)), step.command).toEqual(normalise(step.output));
          if (argv.includes('list')) {
            const listed = JSON.parse(exit.stdout.slice(exit.stdout.indexOf('['))) as Array<{ id: string }>;
            expect(listed.map((participant) => participant.id)).toEqual([alice.id]);
          }
          ran.push(argv.slice(0, 4).join(' '));
        } else if (argv[0] === 'grep' && argv.at(-1) === 'alice.ndjson') {
          const received = () => alice.cli.lines().filter((line) => line.includes(argv[1]));
          await alice.cli.waitForLine(() => received().length >= step.output.length);
          expect(normalise(received()), step.command).toEqual(normalise(step.output));
          for (const line of received()) expect((JSON.parse(line) as { from: string }).from).not.toBe(alice.id);
        } else {
          throw new Error(`the README step "${step.command}" is not one this test knows how to run`);
        }
      }
      expect(ran).toEqual(['meshagent room messaging list', 'meshagent room messaging send', 'meshagent room messaging broadcast']);
      expect(env).toMatchObject({ MESHAGENT_API_URL: fx.httpUrl, MESHAGENT_PROJECT_ID: 'roomstate', MESHAGENT_API_KEY: expect.any(String) });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'prints the server\'s JSON error and exits 1 for no key, a foreign key, a room token and another project',
    async () => {
      const room = uniqueRoom('cli-refused');
      const list = ['room', 'messaging', 'list', '--room', room];
      const foreign = await mintApiKey({ secret: 'another-secret-0123456789', name: 'cli' });
      const [missing, badSignature, roomToken, otherProject] = await Promise.all([
        runMeshagentCli(venv, list, baseEnv()),
        runMeshagentCli(venv, list, { ...baseEnv(), MESHAGENT_API_KEY: foreign }),
        runMeshagentCli(venv, list, { ...baseEnv(), MESHAGENT_API_KEY: await fx.token(room, 'cli') }),
        runMeshagentCli(venv, list, { ...baseEnv(), MESHAGENT_PROJECT_ID: 'elsewhere', MESHAGENT_API_KEY: await mintApiKey({ secret: fx.secret, name: 'cli' }) }),
      ]);
      for (const exit of [missing, badSignature, roomToken, otherProject]) expectExitCode(exit, 1);
      expect(missing.stderr).toMatch(/^Status=401, body=\{"error":"missing API key: /);
      expect(badSignature.stderr).toMatch(/^Status=401, body=\{"error":"invalid signature: /);
      expect(roomToken.stderr).toMatch(/^Status=403, body=\{"error":"token is not an API key: /);
      expect(otherProject.stderr).toMatch(/^Status=403, body=\{"error":"API key is not for this project: /);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'reaches a room with a participant token alone (MESHAGENT_TOKEN and MESHAGENT_ROOM), and says so when a target is unknown',
    async () => {
      const room = uniqueRoom('cli-token');
      const bob = await listen(room, 'bob');
      const tokenEnv = { ...baseEnv(), MESHAGENT_ROOM: room, MESHAGENT_TOKEN: await fx.token(room, 'cli') };
      const [listed, unknown] = await Promise.all([
        runMeshagentCli(venv, ['room', 'messaging', 'list'], tokenEnv),
        runMeshagentCli(venv, ['room', 'messaging', 'send', '--to-participant-id', 'nobody', '--type', 'chat', '--data', '{}'], tokenEnv),
      ]);
      expectExitCode(listed, 0);
      const participants = JSON.parse(listed.stdout.slice(listed.stdout.indexOf('['))) as Array<{ id: string; role: string; attributes: unknown }>;
      expect(participants).toContainEqual({ id: bob.id, role: 'user', attributes: { name: 'bob' } });
      expectExitCode(unknown, 0);
      expect(unknown.stdout).toContain('Participant with ID nobody not found or not messaging-enabled.');
      expect(bob.cli.lines().filter((line) => line.includes('"message"'))).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
